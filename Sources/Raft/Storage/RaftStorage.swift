// The durable state of one Raft member: hard state, log entries and snapshots in a data directory.
import Logging
import Wire

extension LogRecordType {
    /// A log entry (protobuf `Entry`). An entry at index i at or below the last index replaces
    /// the entry there and drops every later one: on replay later records win, as in etcd's WAL.
    public static let raftEntry = LogRecordType(rawValue: 2)
    /// The member's term, vote and commit index (protobuf `HardState`). The last one wins.
    public static let raftHardState = LogRecordType(rawValue: 3)
    /// A local compaction (protobuf `SnapshotMetadata`): the log prefix through the index is in a
    /// snapshot file; the entries after it stay.
    public static let raftSnapshotCompaction = LogRecordType(rawValue: 4)
    /// An installed snapshot (protobuf `SnapshotMetadata`): the member took a leader's snapshot
    /// and discarded its whole log (Raft §7); every entry record before this one is void.
    public static let raftSnapshotInstall = LogRecordType(rawValue: 5)
}

/// RaftStorage keeps a member's durable state in a data directory:
///
///     <data-dir>/LOCK                             flock held while the member runs, holder pid inside
///     <data-dir>/wal/<sequence>-<firstIndex>.wal  write-ahead log segments (SegmentedLog)
///     <data-dir>/snap/<term>-<index>.snap         snapshots (SnapshotFile), metadata = protobuf SnapshotMetadata
///
/// The driver calls `append` and `setHardState` for each Ready, then `sync` once for the batch:
/// one pwrite and one fdatasync make all of it durable. Only after `sync` returns may it send
/// messages that depend on the batch or count its own vote for the entries.
///
/// Ownership: one owner, no locks, not Sendable (as SegmentedLog). The driver hands the whole
/// RaftStorage to its I/O thread and gives it batches through a queue; the network loop keeps
/// running while the I/O thread syncs, which is how a leader writes its log in parallel with
/// replicating it (Raft thesis §10.2.1).
///
/// Snapshot files are read at open only; the state machine keeps the current image itself.
public final class RaftStorage {
    public struct Options: Sendable {
        public var log = SegmentedLog.Options()
        /// Snapshot files kept after a new one is saved. The WAL is kept back to the oldest of
        /// them, so an operator who moves a damaged newest snapshot aside can fall back.
        public var retainedSnapshotCount = 2

        public init() {}
    }

    /// Recovered is everything a member needs to resume: its hard state, its newest snapshot
    /// (nil when it has none), and the log entries after the snapshot, contiguous.
    public struct Recovered: Sendable {
        public var hardState: HardState
        public var snapshot: Snapshot?
        public var entries: [Entry]
        /// The torn tail removed from the log while opening, if any.
        public var tornTail: SegmentedLog.TornTail?
    }

    public let dataDirectory: String
    public let options: Options
    private let lock: DataDirectoryLock
    private let log: SegmentedLog
    private let logger: Logger
    private var hardState: HardState
    /// The newest snapshot; index 0 means none.
    private var snapshotMetadata: SnapshotMetadata
    /// The index of the last entry, or the snapshot index when the log after it is empty.
    public private(set) var lastIndex: UInt64

    init(dataDirectory: String, options: Options, lock: DataDirectoryLock, log: SegmentedLog, logger: Logger,
         hardState: HardState, snapshotMetadata: SnapshotMetadata, lastIndex: UInt64) {
        self.dataDirectory = dataDirectory
        self.options = options
        self.lock = lock
        self.log = log
        self.logger = logger
        self.hardState = hardState
        self.snapshotMetadata = snapshotMetadata
        self.lastIndex = lastIndex
    }

    var walDirectory: String { FileSystem.join(dataDirectory, "wal") }
    var snapshotDirectory: String { Self.snapshotDirectory(of: dataDirectory) }

    /// The write-ahead log segments, oldest first.
    public var segments: [SegmentedLog.Segment] { log.segments }

    /// The index of the newest snapshot, 0 when there is none.
    public var snapshotIndex: UInt64 { snapshotMetadata.index }

    // MARK: Writing

    /// append buffers `entries`, which must be contiguous, start after the snapshot, and start at
    /// most one past `lastIndex`. Entries from `entries.first.index` on replace what was there.
    public func append(_ entries: some Collection<Entry>) {
        guard let first = entries.first else { return }
        precondition(first.index > snapshotMetadata.index, "entry \(first.index) is inside snapshot \(snapshotMetadata.index)")
        precondition(first.index <= lastIndex + 1, "entry \(first.index) leaves a gap after last index \(lastIndex)")
        var expected = first.index
        for entry in entries {
            precondition(entry.index == expected, "entries are not contiguous: \(entry.index) where \(expected) belongs")
            log.append(type: .raftEntry) { buffer in entry.appendProtobuf(to: &buffer) }
            expected += 1
        }
        lastIndex = expected - 1
    }

    /// setHardState buffers the member's hard state; an unchanged one writes nothing. Returns
    /// whether the change must be synced before the member acts on it: a new term or vote must
    /// (a vote promised twice in one term breaks elections, thesis §3.8), a commit index alone
    /// need not, as in etcd's `MustSync` — it is only a hint for a faster restart (what is
    /// committed is learned again from the leader or, alone, by committing an entry of the new
    /// term), and the record goes to disk with the next sync, after the entries it covers.
    @discardableResult
    public func setHardState(_ newHardState: HardState) -> Bool {
        if newHardState == hardState { return false }
        let mustSync = newHardState.term != hardState.term || newHardState.vote != hardState.vote
        hardState = newHardState
        log.append(type: .raftHardState) { buffer in newHardState.appendProtobuf(to: &buffer) }
        return mustSync
    }

    /// sync makes everything buffered durable with one write and one fdatasync. When the current
    /// segment has reached its size limit it then starts the next one, which begins with the
    /// current hard state and snapshot marker so that older segments can later be removed.
    public func sync() throws(StorageError) {
        try log.sync()
        if log.isCurrentSegmentFull {
            appendSegmentPreamble()
            try log.rotate(firstIndex: lastIndex + 1)
        }
    }

    private func appendSegmentPreamble() {
        let hardState = self.hardState
        log.append(type: .raftHardState) { buffer in hardState.appendProtobuf(to: &buffer) }
        if snapshotMetadata.index > 0 {
            let metadata = snapshotMetadata
            log.append(type: .raftSnapshotCompaction) { buffer in metadata.appendProtobuf(to: &buffer) }
        }
    }

    // MARK: Snapshots

    /// saveSnapshot stores a snapshot and records it in the log; both are durable on return, and
    /// everything buffered before is synced with it. Then it removes snapshot files beyond
    /// `retainedSnapshotCount` and the segments the oldest kept snapshot covers.
    ///
    /// `replacesLog` false: a local compaction of applied state; `metadata.index` must be in the
    /// log and the entries after it stay. `replacesLog` true: a snapshot installed from the leader
    /// whose log did not match (Raft §7); the whole log is discarded and `lastIndex` becomes the
    /// snapshot's index.
    ///
    /// Order matters for crash safety: the file is durable before the log mentions it, so a log
    /// record always has its file; a file the log never mentions is ignored only if it is older.
    public func saveSnapshot(metadata: SnapshotMetadata, data: [UInt8], replacesLog: Bool) throws(StorageError) {
        precondition(metadata.index > snapshotMetadata.index, "snapshot \(metadata.index) is not newer than \(snapshotMetadata.index)")
        precondition(replacesLog || metadata.index <= lastIndex, "compaction to \(metadata.index) beyond last index \(lastIndex)")
        try Self.snapshotFile(metadata, data: data).write(to: snapshotDirectory)
        try record(metadata, replacesLog: replacesLog)
    }

    /// The file that holds a snapshot: its metadata and the state machine's image.
    public static func snapshotFile(_ metadata: SnapshotMetadata, data: [UInt8]) -> SnapshotFile {
        SnapshotFile(term: metadata.term, index: metadata.index, metadata: metadata.protobufBytes(), data: data)
    }

    /// The folder of a data directory's snapshot files; `SnapshotFile.write` into it may run on
    /// any thread (a local compaction's file is written away from the log's thread, then
    /// `recordWrittenSnapshot` records it).
    public static func snapshotDirectory(of dataDirectory: String) -> String { FileSystem.join(dataDirectory, "snap") }

    /// recordWrittenSnapshot is the second half of a local compaction whose file another thread
    /// has written durably (`snapshotFile(…).write(to: snapshotDirectory(of:))`): the log records
    /// it, as `saveSnapshot` does after writing the file itself. False when the snapshot is no
    /// longer newer than the storage's (the leader's was installed meanwhile) or beyond the log;
    /// an older file is removed then.
    @discardableResult
    public func recordWrittenSnapshot(_ metadata: SnapshotMetadata) throws(StorageError) -> Bool {
        guard metadata.index > snapshotMetadata.index, metadata.index <= lastIndex else {
            if metadata.index < snapshotMetadata.index {
                try FileSystem.removeFile(FileSystem.join(snapshotDirectory, SnapshotFile.fileName(term: metadata.term, index: metadata.index)))
            }
            return false
        }
        try record(metadata, replacesLog: false)
        return true
    }

    /// The log's record of a snapshot whose file is durable; old snapshots and covered segments go.
    private func record(_ metadata: SnapshotMetadata, replacesLog: Bool) throws(StorageError) {
        let type: LogRecordType = replacesLog ? .raftSnapshotInstall : .raftSnapshotCompaction
        log.append(type: type) { buffer in metadata.appendProtobuf(to: &buffer) }
        snapshotMetadata = metadata
        if replacesLog { lastIndex = metadata.index }
        try sync()
        try removeObsoleteFiles()
    }

    /// removeObsoleteFiles deletes snapshot files beyond the newest `retainedSnapshotCount`, then
    /// the oldest WAL segments whose entries are all covered by the oldest snapshot kept. A
    /// segment whose successor starts at first index f holds live entries below f only (higher
    /// ones were overwritten before the successor began), so it can go once a snapshot reaches
    /// f - 1; the newest segment always stays.
    public func removeObsoleteFiles() throws(StorageError) {
        precondition(options.retainedSnapshotCount >= 1, "at least one snapshot must be kept")
        let snapshots = try SnapshotFile.list(directory: snapshotDirectory)
            .filter { $0.index <= snapshotMetadata.index }
        let obsoleteSnapshots = snapshots.dropLast(options.retainedSnapshotCount)
        for snapshot in obsoleteSnapshots {
            try FileSystem.removeFile(snapshot.path)
            logger.info("storage: removed an old snapshot", metadata: ["path": "\(snapshot.path)"])
        }
        if !obsoleteSnapshots.isEmpty { try FileSystem.syncDirectory(snapshotDirectory) }
        guard let oldestKept = snapshots.dropFirst(obsoleteSnapshots.count).first else { return }
        var removable = 0
        for position in 1..<max(1, log.segments.count) where log.segments[position].firstIndex <= oldestKept.index + 1 {
            removable = position
        }
        if removable == 0 { return }
        let removed = log.segments.prefix(removable).map(\.path)
        try log.removeOldestSegments(count: removable)
        logger.info(
            "storage: removed write-ahead log segments covered by a snapshot",
            metadata: ["segments": "\(removed)", "snapshotIndex": "\(oldestKept.index)"])
    }
}
