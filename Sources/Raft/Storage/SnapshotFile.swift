// Checksummed snapshot files: written under a temporary name, fsynced, renamed, folder fsynced.
import Glibc

/// SnapshotFile is one snapshot on disk, `<directory>/<term>-<index>.snap` (16 hexadecimal
/// digits each, like etcd). Layout:
///
///     offset  size  field
///     0       8     magic "SKIFFSNP"
///     8       4     format version (1), UInt32 little-endian
///     12      4     metadata length m in bytes, UInt32 little-endian
///     16      8     term of the last entry the snapshot covers, UInt64 little-endian
///     24      8     index of that entry, UInt64 little-endian
///     32      8     data length d in bytes, UInt64 little-endian
///     40      m     metadata (RaftStorage stores the protobuf SnapshotMetadata: index, term, conf state)
///     40+m    d     data: the state machine's opaque image
///     40+m+d  4     CRC32C of every byte before it, UInt32 little-endian
///
/// The checksum covers the whole file, so a load either returns exactly what was written or
/// throws; the term and index in the header must match the file name.
public struct SnapshotFile: Sendable, Equatable {
    public var term: UInt64
    public var index: UInt64
    public var metadata: [UInt8]
    public var data: [UInt8]

    public init(term: UInt64, index: UInt64, metadata: [UInt8], data: [UInt8]) {
        self.term = term
        self.index = index
        self.metadata = metadata
        self.data = data
    }

    static let magic: [UInt8] = Array("SKIFFSNP".utf8)
    static let formatVersion: UInt32 = 1
    static let headerSizeBytes = 40
    static let checksumSizeBytes = 4
    static let suffix = ".snap"
    static let temporarySuffix = ".snap.tmp"
    /// Bound on the metadata section; a conf state of a few thousand members fits easily.
    static let maximumMetadataBytes = 1 << 20

    /// Listing is one snapshot file found in a folder.
    public struct Listing: Sendable, Equatable {
        public var term: UInt64
        public var index: UInt64
        public var path: String
    }

    public static func fileName(term: UInt64, index: UInt64) -> String {
        hexadecimal16(term) + "-" + hexadecimal16(index) + suffix
    }

    /// write stores the snapshot durably in `directory` and returns its path: the bytes go to
    /// `<name>.snap.tmp`, which is fsynced, renamed to `<name>.snap`, and the folder fsynced. A
    /// crash at any point leaves either no `.snap` file or a complete one.
    @discardableResult
    public func write(to directory: String) throws(StorageError) -> String {
        precondition(metadata.count <= SnapshotFile.maximumMetadataBytes, "snapshot metadata of \(metadata.count) bytes")
        let path = FileSystem.join(directory, SnapshotFile.fileName(term: term, index: index))
        let temporaryPath = String(path.dropLast(SnapshotFile.suffix.count)) + SnapshotFile.temporarySuffix
        var head = SnapshotFile.magic
        appendLittleEndian(SnapshotFile.formatVersion, to: &head)
        appendLittleEndian(UInt32(metadata.count), to: &head)
        appendLittleEndian(term, to: &head)
        appendLittleEndian(index, to: &head)
        appendLittleEndian(UInt64(data.count), to: &head)
        head.append(contentsOf: metadata)
        let checksum = CRC32C.checksum(data, continuing: CRC32C.checksum(head))
        var tail: [UInt8] = []
        appendLittleEndian(checksum, to: &tail)

        let descriptor = try FileSystem.openFile(temporaryPath, flags: O_WRONLY | O_CREAT | O_TRUNC)
        defer { FileSystem.closeFile(descriptor) }
        var offset = 0
        for part in [head, data, tail] {
            try withBytes(part) { (bytes) throws(StorageError) in
                try FileSystem.writeAll(descriptor, bytes, offsetBytes: offset, path: temporaryPath)
            }
            offset += part.count
        }
        try FileSystem.fullSync(descriptor, path: temporaryPath)
        try FileSystem.rename(temporaryPath, to: path)
        try FileSystem.syncDirectory(directory)
        return path
    }

    /// read loads and verifies the snapshot at `path`.
    public static func read(path: String) throws(StorageError) -> SnapshotFile {
        let bytes = try FileSystem.readAll(path)
        return try withBytes(bytes) { (raw) throws(StorageError) in try decode(raw, path: path) }
    }

    private static func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws(StorageError) -> SnapshotFile {
        guard bytes.count >= headerSizeBytes + checksumSizeBytes else {
            throw .corruptSnapshot(path: path, problem: "the file is \(bytes.count) bytes, shorter than a header")
        }
        guard bytes.prefix(8).elementsEqual(magic) else {
            throw .corruptSnapshot(path: path, problem: "the magic at offset 0 is not SKIFFSNP")
        }
        let version = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard version == formatVersion else {
            throw .corruptSnapshot(path: path, problem: "format version \(version) is not supported (this build reads \(formatVersion))")
        }
        let metadataSizeBytes = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
        let term = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        let index = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        let dataSizeBytes = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 32, as: UInt64.self))
        let expectedSizeBytes = UInt64(headerSizeBytes + checksumSizeBytes + metadataSizeBytes).addingReportingOverflow(dataSizeBytes)
        guard !expectedSizeBytes.overflow, expectedSizeBytes.partialValue == UInt64(bytes.count) else {
            throw .corruptSnapshot(
                path: path,
                problem: "the header declares \(metadataSizeBytes) metadata and \(dataSizeBytes) data bytes, "
                    + "which does not match the file size of \(bytes.count) bytes")
        }
        let checksumOffset = bytes.count - checksumSizeBytes
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: checksumOffset, as: UInt32.self))
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<checksumOffset]))
        guard stored == computed else {
            throw .corruptSnapshot(
                path: path,
                problem: "checksum mismatch (stored \(hexadecimal8(stored)) at offset \(checksumOffset), computed \(hexadecimal8(computed)))")
        }
        let name = fileName(term: term, index: index)
        guard path.hasSuffix("/" + name) || path == name else {
            throw .corruptSnapshot(path: path, problem: "the header says term \(term), index \(index), but the file name does not")
        }
        let metadataEnd = headerSizeBytes + metadataSizeBytes
        return SnapshotFile(
            term: term, index: index, metadata: Array(bytes[headerSizeBytes..<metadataEnd]),
            data: Array(bytes[metadataEnd..<checksumOffset]))
    }

    /// list returns the snapshot files in `directory`, oldest first (by index, then term). Files
    /// whose names do not parse are left alone; `.snap.tmp` leftovers are not listed.
    public static func list(directory: String) throws(StorageError) -> [Listing] {
        var listings: [Listing] = []
        for name in try FileSystem.listDirectory(directory) where name.hasSuffix(suffix) {
            let parts = name.dropLast(suffix.count).split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, let term = parseHexadecimal16(parts[0]), let index = parseHexadecimal16(parts[1]) else {
                continue
            }
            listings.append(Listing(term: term, index: index, path: FileSystem.join(directory, name)))
        }
        return listings.sorted { ($0.index, $0.term) < ($1.index, $1.term) }
    }

    /// temporaryFiles returns leftover `.snap.tmp` files of interrupted writes in `directory`.
    static func temporaryFiles(directory: String) throws(StorageError) -> [String] {
        try FileSystem.listDirectory(directory).filter { $0.hasSuffix(temporarySuffix) }.map {
            FileSystem.join(directory, $0)
        }
    }
}
