// Preparing the next segment file off the owner's thread, so rotation does not stall commits.
import Dispatch
import Glibc

/// SegmentPreparation creates the file the next segment will live in, in the background: it
/// reserves the space per `Preallocation` (for `.zeroFill`, 64 MiB of zeros take ~300 ms here)
/// and fsyncs it, so the file's size and blocks are durable before any record goes in. At
/// rotation the owner takes the file, writes the header and buffered records, fdatasyncs,
/// renames it to the segment's name and fsyncs the folder: about a millisecond instead of the
/// preparation time. This is what etcd's WAL file pipeline does too.
///
/// The file is `<directory>/spare-<sequence>.wal.tmp`; a crash leaves it behind and the next
/// open removes it with other `.wal.tmp` leftovers.
///
/// Sendable by hand: `outcome` is written once, by the preparation task before it leaves
/// `group`, and read only after `group.wait()`, which orders the two. The wait happens once per
/// rotation (and in deinit), never on the per-batch path.
final class SegmentPreparation: @unchecked Sendable {
    let path: String
    private let group = DispatchGroup()
    private var outcome: Result<Int32, StorageError>?
    private var taken = false

    init(directory: String, sequence: UInt64, options: SegmentedLog.Options) {
        path = FileSystem.join(directory, "spare-" + hexadecimal16(sequence) + SegmentedLog.segmentSuffix + ".tmp")
        group.enter()
        DispatchQueue.global(qos: .utility).async { [self] in
            outcome = Result { () throws(StorageError) -> Int32 in try SegmentPreparation.prepare(path: path, options: options) }
            group.leave()
        }
    }

    /// take waits for the file and returns its open descriptor, which the caller now owns.
    func take() throws(StorageError) -> Int32 {
        precondition(!taken, "a prepared segment file was taken twice")
        taken = true
        group.wait()
        return try outcome!.get()
    }

    /// discard waits for the preparation (so no background work outlives the log) and removes
    /// the file. The log calls it when it is dropped with a spare it never used.
    func discard() {
        if let descriptor = try? take() {
            FileSystem.closeFile(descriptor)
            try? FileSystem.removeFile(path)
        }
    }

    private static func prepare(path: String, options: SegmentedLog.Options) throws(StorageError) -> Int32 {
        let descriptor = try FileSystem.openFile(path, flags: O_RDWR | O_CREAT | O_TRUNC)
        do throws(StorageError) {
            try SegmentedLog.reserveSpace(descriptor, fromOffsetBytes: 0, path: path, options: options)
            try FileSystem.fullSync(descriptor, path: path)
            return descriptor
        } catch {
            FileSystem.closeFile(descriptor)
            try? FileSystem.removeFile(path)
            throw error
        }
    }
}
