import Dispatch
import Logging
import Synchronization
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// DiskWriter owns a member's `RaftStorage` on a thread of its own, so that the event loop keeps
/// replicating and serving while the write-ahead log syncs (Raft thesis §10.2.1: the leader
/// writes its log in parallel with sending it).
///
/// Group commit: every job queued while a sync runs is written by the next round with ONE
/// fdatasync. Jobs complete in the order they were queued; `completion` runs on the member's loop
/// once the job is durable.
final class DiskWriter: @unchecked Sendable {
    // Safety of @unchecked Sendable: `storage` is touched only by the writer thread once it runs;
    // the queue is behind a mutex; completions run on the loop.

    enum Job: Sendable {
        /// Persist what a Ready asks: a received snapshot (replacing the log), entries, hard state.
        case persist(Ready)
        /// A local compaction of applied state whose snapshot file is already written (off this
        /// thread, see StoreMember.maybeSnapshot): the log records it; the log after it stays.
        case recordSnapshot(SnapshotMetadata)
    }

    private let storage: RaftStorage
    private let loop: EventLoop
    private let logger: Logger
    private let queue = Mutex<[(Job, @Sendable () -> Void)]>([])
    private let wakeup = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    private var thread: pthread_t?
    /// Syncs done and jobs written, for status and benchmarks (read on any thread, roughly).
    let syncCount = Atomic<Int>(0)

    init(storage: RaftStorage, loop: EventLoop, logger: Logger) {
        self.storage = storage
        self.loop = loop
        self.logger = logger
    }

    func start() {
        let box = Unmanaged.passRetained(self)
        var threadID = pthread_t()
        let result = pthread_create(&threadID, nil, { argument in
            let writer = Unmanaged<DiskWriter>.fromOpaque(argument!).takeRetainedValue()
            setCurrentThreadName("disk-writer")
            writer.run()
            return nil
        }, box.toOpaque())
        precondition(result == 0, "cannot start the disk writer thread: \(result)")
        thread = threadID
    }

    /// Queues a job; `completion` runs on the loop when it is durable.
    func enqueue(_ job: Job, completion: @escaping @Sendable () -> Void) {
        let wasEmpty = queue.withLock { jobs -> Bool in
            jobs.append((job, completion))
            return jobs.count == 1
        }
        if wasEmpty { wakeup.signal() }
    }

    /// Stops after the queued jobs are written; waits for the thread.
    func stop() {
        stopping.store(true, ordering: .releasing)
        wakeup.signal()
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }

    private func run() {
        while true {
            wakeup.wait()
            while true {
                let batch = queue.withLock { jobs -> [(Job, @Sendable () -> Void)] in
                    let taken = jobs
                    jobs.removeAll(keepingCapacity: true)
                    return taken
                }
                if batch.isEmpty { break }
                write(batch)
            }
            if stopping.load(ordering: .acquiring) && queue.withLock({ $0.isEmpty }) {
                // A commit-only hard state may still be buffered (it needs no sync of its own);
                // writing it now spares a restart re-learning that much of the commit index.
                do {
                    try storage.sync()
                } catch {
                    logger.warning("write-ahead log: the last hard state was not written at shutdown: \(error)")
                }
                return
            }
        }
    }

    private func write(_ batch: [(Job, @Sendable () -> Void)]) {
        do {
            var needsSync = false
            for (job, _) in batch {
                switch job {
                case .persist(let ready):
                    if let snapshot = ready.snapshot, let metadata = snapshot.metadata {
                        // Syncs everything buffered before it, then itself.
                        try storage.saveSnapshot(metadata: metadata, data: snapshot.data, replacesLog: true)
                    }
                    if !ready.entries.isEmpty {
                        storage.append(ready.entries)
                        needsSync = true
                    }
                    if let hardState = ready.hardState, storage.setHardState(hardState) {
                        needsSync = true
                    }
                case .recordSnapshot(let metadata):
                    if needsSync {
                        try storage.sync()
                        needsSync = false
                    }
                    try storage.recordWrittenSnapshot(metadata)
                }
            }
            if needsSync {
                try storage.sync()
                syncCount.add(1, ordering: .relaxed)
            }
        } catch {
            // A failed write or fsync leaves the log in an unknown state; going on could
            // acknowledge data that is not on disk. Stop the member, as etcd does.
            logger.critical("write-ahead log failure, stopping this member: \(error)")
            exit(70)
        }
        loop.execute {
            for (_, completion) in batch { completion() }
        }
    }

    /// Bytes of the write-ahead log and snapshot files (for status; runs on any thread).
    static func dataSizeBytes(directory: String) -> Int64 {
        var total: Int64 = 0
        for folder in ["wal", "snap"] {
            let path = directory + "/" + folder
            guard let handle = opendir(path) else { continue }
            defer { closedir(handle) }
            while let entry = readdir(handle) {
                var name = entry.pointee.d_name
                let fileName = withUnsafePointer(to: &name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if fileName == "." || fileName == ".." { continue }
                var info = stat()
                if stat(path + "/" + fileName, &info) == 0 { total += Int64(info.st_size) }
            }
        }
        return total
    }
}

