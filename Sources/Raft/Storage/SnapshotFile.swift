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

    /// read loads and verifies the snapshot at `path`. The header is read first; the metadata
    /// and data then go straight from the file into the arrays returned, so the image is held
    /// once, not once as the file and again as the data.
    public static func read(path: String) throws(StorageError) -> SnapshotFile {
        let descriptor = try FileSystem.openFile(path, flags: O_RDONLY)
        defer { FileSystem.closeFile(descriptor) }
        let fileSizeBytes = try FileSystem.fileSize(descriptor, path: path)
        guard fileSizeBytes >= headerSizeBytes + checksumSizeBytes else {
            throw .corruptSnapshot(path: path, problem: "the file is \(fileSizeBytes) bytes, shorter than a header")
        }
        let head = try readSection(descriptor, path: path, offsetBytes: 0, count: headerSizeBytes)
        let layout = try withBytes(head) { (bytes) throws(StorageError) in
            try decodeHeader(bytes, fileSizeBytes: fileSizeBytes, path: path)
        }
        let metadata = try readSection(descriptor, path: path, offsetBytes: headerSizeBytes, count: layout.metadataSizeBytes)
        let dataOffset = headerSizeBytes + layout.metadataSizeBytes
        let data = try readSection(descriptor, path: path, offsetBytes: dataOffset, count: layout.dataSizeBytes)
        let checksumOffset = fileSizeBytes - checksumSizeBytes
        let tail = try readSection(descriptor, path: path, offsetBytes: checksumOffset, count: checksumSizeBytes)
        let stored = UInt32(tail[0]) | UInt32(tail[1]) << 8 | UInt32(tail[2]) << 16 | UInt32(tail[3]) << 24
        let computed = CRC32C.checksum(data, continuing: CRC32C.checksum(metadata, continuing: CRC32C.checksum(head)))
        guard stored == computed else {
            throw .corruptSnapshot(
                path: path,
                problem: "checksum mismatch (stored \(hexadecimal8(stored)) at offset \(checksumOffset), computed \(hexadecimal8(computed)))")
        }
        let name = fileName(term: layout.term, index: layout.index)
        guard path.hasSuffix("/" + name) || path == name else {
            throw .corruptSnapshot(
                path: path, problem: "the header says term \(layout.term), index \(layout.index), but the file name does not")
        }
        return SnapshotFile(term: layout.term, index: layout.index, metadata: metadata, data: data)
    }

    private struct Layout {
        var term: UInt64
        var index: UInt64
        var metadataSizeBytes: Int
        var dataSizeBytes: Int
    }

    /// Checks the 40-byte header against the file size.
    private static func decodeHeader(
        _ bytes: UnsafeRawBufferPointer, fileSizeBytes: Int, path: String
    ) throws(StorageError) -> Layout {
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
        guard !expectedSizeBytes.overflow, expectedSizeBytes.partialValue == UInt64(fileSizeBytes) else {
            throw .corruptSnapshot(
                path: path,
                problem: "the header declares \(metadataSizeBytes) metadata and \(dataSizeBytes) data bytes, "
                    + "which does not match the file size of \(fileSizeBytes) bytes")
        }
        return Layout(term: term, index: index, metadataSizeBytes: metadataSizeBytes, dataSizeBytes: Int(dataSizeBytes))
    }

    /// Reads `count` bytes at `offsetBytes` into a new array, without zero-filling it first.
    private static func readSection(
        _ descriptor: Int32, path: String, offsetBytes: Int, count: Int
    ) throws(StorageError) -> [UInt8] {
        var failure: StorageError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initializedCount in
            do throws(StorageError) {
                initializedCount = try FileSystem.readUpTo(
                    descriptor, into: UnsafeMutableRawBufferPointer(buffer), offsetBytes: offsetBytes, path: path)
            } catch {
                failure = error
                initializedCount = 0
            }
        }
        if let failure { throw failure }
        guard bytes.count == count else {
            throw .corruptSnapshot(
                path: path,
                problem: "the file ended at byte \(offsetBytes + bytes.count) while it was being read, "
                    + "short of the size it had when opened, so another process is changing it")
        }
        return bytes
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
