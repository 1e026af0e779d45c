// Errors of the durable storage layer. Every case is an operating error (a disk, a file system or
// an operator did something), never a programming error: those stop the process with
// `precondition` instead.
import Glibc

/// StorageError says what went wrong on disk, where (path and, when known, byte offset), and what
/// an operator can do about it. A member that gets one while opening its data directory must
/// refuse to start: it never serves data it cannot prove intact.
public enum StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed. `errorNumber` is the `errno` it set.
    case systemCall(operation: String, path: String, errorNumber: Int32)
    /// Bytes in a write-ahead log segment fail a check (checksum, length, framing, header).
    case corruptLog(path: String, offsetBytes: Int, problem: String)
    /// A snapshot file fails a check (checksum, size, header, name).
    case corruptSnapshot(path: String, problem: String)
    /// The files are individually sound but do not fit together: a segment is missing, the log
    /// does not reach back to the newest snapshot, the WAL folder is gone while snapshots remain.
    case inconsistentLayout(path: String, problem: String)
    /// Another process holds the data directory's lock.
    case directoryInUse(path: String, holderProcessID: Int32?)

    public var description: String {
        switch self {
        case .systemCall(let operation, let path, let errorNumber):
            let reason = String(cString: strerror(errorNumber))
            return "\(operation) failed for \(path): \(reason) (errno \(errorNumber))"
        case .corruptLog(let path, let offsetBytes, let problem):
            return "write-ahead log segment \(path) is corrupt at byte offset \(offsetBytes): \(problem). "
                + "The member refuses to start rather than serve corrupt data; rebuild it from a healthy "
                + "member (remove it from the cluster, empty its --data-dir, add it back)"
        case .corruptSnapshot(let path, let problem):
            return "snapshot \(path) is corrupt: \(problem). The member refuses to start; to fall back to "
                + "an older snapshot, move this file out of the snap folder (the member then starts only if "
                + "the write-ahead log still holds every entry after that older snapshot), or rebuild the "
                + "member from a healthy one"
        case .inconsistentLayout(let path, let problem):
            return "data directory \(path) is inconsistent: \(problem). The member refuses to start; "
                + "rebuild it from a healthy member (remove it from the cluster, empty its --data-dir, add it back)"
        case .directoryInUse(let path, let holderProcessID):
            let holder = holderProcessID.map { "pid \($0)" } ?? "pid unknown"
            return "data directory \(path) is in use by another process (\(holder)); "
                + "stop it or choose another --data-dir"
        }
    }
}
