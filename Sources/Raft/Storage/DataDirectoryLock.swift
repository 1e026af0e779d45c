// An exclusive lock on a data directory, so two members never write the same files.
import Glibc

/// DataDirectoryLock holds an exclusive `flock` on `<data directory>/LOCK` for as long as the
/// object lives; the process holds it for its lifetime. The kernel releases it when the process
/// exits for any reason (kill -9 included), so a stale LOCK file never blocks a restart. The
/// holder's pid is written into the file so that a refused second process can name it.
///
/// flock locks belong to the open file description: a second `DataDirectoryLock` on the same
/// folder is refused even inside the same process.
public final class DataDirectoryLock {
    public let dataDirectory: String
    public let path: String
    private let descriptor: Int32

    /// Takes the lock, or throws `directoryInUse` naming the holder's pid when another holds it.
    public init(dataDirectory: String) throws(StorageError) {
        self.dataDirectory = dataDirectory
        self.path = FileSystem.join(dataDirectory, "LOCK")
        let descriptor = try FileSystem.openFile(path, flags: O_RDWR | O_CREAT)
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let failure = errno
            if failure == EINTR { continue }
            FileSystem.closeFile(descriptor)
            if failure == EWOULDBLOCK {
                throw .directoryInUse(path: dataDirectory, holderProcessID: DataDirectoryLock.readHolder(path))
            }
            throw .systemCall(operation: "flock", path: path, errorNumber: failure)
        }
        self.descriptor = descriptor
        do throws(StorageError) {
            try FileSystem.truncateFile(descriptor, sizeBytes: 0, path: path)
            try withBytes(Array("\(getpid())\n".utf8)) { (bytes) throws(StorageError) in
                try FileSystem.writeAll(descriptor, bytes, offsetBytes: 0, path: path)
            }
        } catch {
            FileSystem.closeFile(descriptor)
            throw error
        }
    }

    deinit {
        FileSystem.closeFile(descriptor)
    }

    /// The pid written in the lock file, if it holds one.
    private static func readHolder(_ path: String) -> Int32? {
        guard let bytes = try? FileSystem.readAll(path) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharactersInWhitespace()
        return Int32(text)
    }
}

extension String {
    fileprivate func trimmingCharactersInWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view = view.dropFirst() }
        while let last = view.last, last.isWhitespace { view = view.dropLast() }
        return String(view)
    }
}
