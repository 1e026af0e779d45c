// Thin wrappers over the Glibc calls the storage layer makes. They retry EINTR, finish partial
// writes, and turn failures into StorageError with the path attached. No Foundation: these sit on
// the commit path, where FileHandle's allocations and locks would cost more than the write.
import Glibc

enum FileSystem {
    static func openFile(_ path: String, flags: Int32, permissions: mode_t = 0o644) throws(StorageError) -> Int32 {
        while true {
            let descriptor = open(path, flags | O_CLOEXEC, permissions)
            if descriptor >= 0 { return descriptor }
            if errno != EINTR { throw .systemCall(operation: "open", path: path, errorNumber: errno) }
        }
    }

    static func closeFile(_ descriptor: Int32) {
        // close is not retried on EINTR: on Linux the descriptor is released either way.
        _ = close(descriptor)
    }

    /// writeAll writes every byte of `bytes` at `offsetBytes`, looping over short writes.
    static func writeAll(
        _ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, offsetBytes: Int, path: String
    ) throws(StorageError) {
        var written = 0
        while written < bytes.count {
            let result = pwrite(
                descriptor, bytes.baseAddress! + written, bytes.count - written, off_t(offsetBytes + written))
            if result < 0 {
                if errno == EINTR { continue }
                throw .systemCall(operation: "pwrite", path: path, errorNumber: errno)
            }
            precondition(result > 0, "pwrite wrote nothing without an error")
            written += result
        }
    }

    /// readAll returns the whole content of the file at `path`.
    static func readAll(_ path: String) throws(StorageError) -> [UInt8] {
        let descriptor = try openFile(path, flags: O_RDONLY)
        defer { closeFile(descriptor) }
        let sizeBytes = try fileSize(descriptor, path: path)
        var bytes = [UInt8](repeating: 0, count: sizeBytes)
        // The file shrank under us: treat the missing part as absent.
        let filled = try withMutableBytes(&bytes) { (buffer) throws(StorageError) in
            try readUpTo(descriptor, into: buffer, offsetBytes: 0, path: path)
        }
        if filled < sizeBytes { bytes.removeLast(sizeBytes - filled) }
        return bytes
    }

    /// readUpTo fills `buffer` from the file at `offsetBytes`, looping over short reads, and
    /// returns how many bytes it read: fewer than `buffer.count` only at the end of the file.
    static func readUpTo(
        _ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, offsetBytes: Int, path: String
    ) throws(StorageError) -> Int {
        var filled = 0
        while filled < buffer.count {
            let result = pread(descriptor, buffer.baseAddress! + filled, buffer.count - filled, off_t(offsetBytes + filled))
            if result < 0 {
                if errno == EINTR { continue }
                throw .systemCall(operation: "pread", path: path, errorNumber: errno)
            }
            if result == 0 { break }
            filled += result
        }
        return filled
    }

    static func fileSize(_ descriptor: Int32, path: String) throws(StorageError) -> Int {
        var status = stat()
        if fstat(descriptor, &status) != 0 {
            throw .systemCall(operation: "fstat", path: path, errorNumber: errno)
        }
        return Int(status.st_size)
    }

    /// dataSync flushes file data and the metadata needed to read it back (size), not timestamps.
    static func dataSync(_ descriptor: Int32, path: String) throws(StorageError) {
        while fdatasync(descriptor) != 0 {
            if errno != EINTR { throw .systemCall(operation: "fdatasync", path: path, errorNumber: errno) }
        }
    }

    static func fullSync(_ descriptor: Int32, path: String) throws(StorageError) {
        while fsync(descriptor) != 0 {
            if errno != EINTR { throw .systemCall(operation: "fsync", path: path, errorNumber: errno) }
        }
    }

    /// syncDirectory makes creations, renames and removals of entries in `path` durable: without
    /// it a file fsynced a moment ago can be missing from its folder after a power loss.
    static func syncDirectory(_ path: String) throws(StorageError) {
        let descriptor = try openFile(path, flags: O_RDONLY | O_DIRECTORY)
        defer { closeFile(descriptor) }
        try fullSync(descriptor, path: path)
    }

    /// preallocate reserves `sizeBytes` of disk for the file and sets its size, so later writes
    /// inside that range do not change the size. Returns false when the file system cannot do it
    /// cheaply; the caller then simply writes without preallocation.
    static func preallocate(_ descriptor: Int32, sizeBytes: Int, path: String) throws(StorageError) -> Bool {
        let result = posix_fallocate(descriptor, 0, off_t(sizeBytes))
        if result == 0 { return true }
        if result == EOPNOTSUPP || result == EINVAL { return false }
        throw .systemCall(operation: "posix_fallocate", path: path, errorNumber: result)
    }

    static func truncateFile(_ descriptor: Int32, sizeBytes: Int, path: String) throws(StorageError) {
        while ftruncate(descriptor, off_t(sizeBytes)) != 0 {
            if errno != EINTR { throw .systemCall(operation: "ftruncate", path: path, errorNumber: errno) }
        }
    }

    static func rename(_ source: String, to destination: String) throws(StorageError) {
        if Glibc.rename(source, destination) != 0 {
            throw .systemCall(operation: "rename to \(destination)", path: source, errorNumber: errno)
        }
    }

    static func removeFile(_ path: String) throws(StorageError) {
        if unlink(path) != 0 && errno != ENOENT {
            throw .systemCall(operation: "unlink", path: path, errorNumber: errno)
        }
    }

    static func removeDirectory(_ path: String) throws(StorageError) {
        if rmdir(path) != 0 && errno != ENOENT {
            throw .systemCall(operation: "rmdir", path: path, errorNumber: errno)
        }
    }

    /// makeDirectory creates `path` unless it exists. Returns true when it created it.
    @discardableResult
    static func makeDirectory(_ path: String) throws(StorageError) -> Bool {
        if mkdir(path, 0o755) == 0 { return true }
        if errno == EEXIST && isDirectory(path) { return false }
        throw .systemCall(operation: "mkdir", path: path, errorNumber: errno)
    }

    static func exists(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
    }

    /// listDirectory returns the names in `path` except "." and "..", sorted bytewise.
    static func listDirectory(_ path: String) throws(StorageError) -> [String] {
        guard let directory = opendir(path) else {
            throw .systemCall(operation: "opendir", path: path, errorNumber: errno)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}

/// Formats `value` as 16 lower-case hexadecimal digits, the width etcd uses in WAL and snapshot
/// names so that bytewise name order is numeric order.
func hexadecimal16(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}

/// Parses exactly 16 hexadecimal digits, or returns nil.
func parseHexadecimal16<S: StringProtocol>(_ text: S) -> UInt64? {
    guard text.utf8.count == 16 else { return nil }
    return UInt64(text, radix: 16)
}

/// withBytes runs `body` over the bytes of `array` and keeps the error type: the standard
/// library's `withUnsafeBytes` rethrows as `any Error`, which would erase StorageError.
func withBytes<Result>(
    _ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(StorageError) -> Result
) throws(StorageError) -> Result {
    let outcome: Swift.Result<Result, StorageError> = array.withUnsafeBytes { raw in
        do throws(StorageError) {
            return .success(try body(raw))
        } catch {
            return .failure(error)
        }
    }
    return try outcome.get()
}

/// withMutableBytes is `withBytes` for writing into `array`.
func withMutableBytes<Result>(
    _ array: inout [UInt8], _ body: (UnsafeMutableRawBufferPointer) throws(StorageError) -> Result
) throws(StorageError) -> Result {
    let outcome: Swift.Result<Result, StorageError> = array.withUnsafeMutableBytes { raw in
        do throws(StorageError) {
            return .success(try body(raw))
        } catch {
            return .failure(error)
        }
    }
    return try outcome.get()
}
