// Opening a data directory: lock, newest snapshot, write-ahead log replay, consistency checks.
import Logging
import Wire

extension RaftStorage {
    /// open locks `dataDirectory` (creating it and an empty log when it does not exist), loads
    /// the newest snapshot, replays the write-ahead log after it, and returns the storage ready
    /// for appends together with what it recovered. Any damage other than a torn log tail throws,
    /// naming the file, offset and fix; the member must then refuse to start.
    ///
    /// Snapshot policy: the newest `.snap` file (highest index) must be intact. If it is damaged
    /// the member refuses to start, as etcd does, rather than silently falling back: the operator
    /// can move the file aside, after which an older snapshot is used if the log still holds every
    /// entry after it. A newest snapshot the log never recorded (a crash between writing the file
    /// and syncing its log record) is still used: it holds committed state only; log entries
    /// after it are kept only if the log's entry at the snapshot index has the snapshot's term
    /// (Raft §7), otherwise they are dropped.
    public static func open(
        dataDirectory: String, options: Options = Options(),
        logger: Logger = Logger(label: "skiff.raft.storage")
    ) throws(StorageError) -> (RaftStorage, Recovered) {
        if try FileSystem.makeDirectory(dataDirectory) {
            try FileSystem.syncDirectory(parentDirectory(of: dataDirectory))
        }
        let lock = try DataDirectoryLock(dataDirectory: dataDirectory)
        let walDirectory = FileSystem.join(dataDirectory, "wal")
        let snapshotDirectory = FileSystem.join(dataDirectory, "snap")
        if try FileSystem.makeDirectory(snapshotDirectory) {
            try FileSystem.syncDirectory(dataDirectory)
        }
        for path in try SnapshotFile.temporaryFiles(directory: snapshotDirectory) {
            logger.notice("storage: removing a snapshot whose write was interrupted", metadata: ["path": "\(path)"])
            try FileSystem.removeFile(path)
        }
        let listings = try SnapshotFile.list(directory: snapshotDirectory)
        if !FileSystem.exists(walDirectory) {
            guard listings.isEmpty else {
                throw .inconsistentLayout(
                    path: dataDirectory, problem: "snapshots exist but the write-ahead log folder \(walDirectory) is missing")
            }
            try SegmentedLog.initializeDirectory(walDirectory, firstIndex: 1, options: options.log)
            logger.info("storage: initialized an empty data directory", metadata: ["path": "\(dataDirectory)"])
        }
        let snapshot = try listings.last.map { (listing) throws(StorageError) in try loadSnapshot(listing) }
        var replay = LogReplay(snapshot: snapshot?.metadata ?? SnapshotMetadata(), snapshotDirectory: snapshotDirectory)
        let log = try SegmentedLog.open(directory: walDirectory, options: options.log, logger: logger) {
            (type, payload, location) throws(StorageError) in
            try replay.apply(type: type, payload: payload, location: location)
        }
        try replay.finish(firstSegment: log.segments[0], logger: logger)
        let storage = RaftStorage(
            dataDirectory: dataDirectory, options: options, lock: lock, log: log, logger: logger,
            hardState: replay.hardState, snapshotMetadata: replay.snapshot, lastIndex: replay.lastIndex)
        let recovered = Recovered(
            hardState: replay.hardState, snapshot: snapshot, entries: replay.entries, tornTail: log.tornTail)
        return (storage, recovered)
    }

    private static func loadSnapshot(_ listing: SnapshotFile.Listing) throws(StorageError) -> Snapshot {
        let file = try SnapshotFile.read(path: listing.path)
        let metadata: SnapshotMetadata
        do throws(ProtoDecodingError) {
            metadata = try SnapshotMetadata(protobuf: file.metadata)
        } catch {
            throw .corruptSnapshot(path: listing.path, problem: "its metadata does not decode: \(error)")
        }
        guard metadata.index == file.index && metadata.term == file.term else {
            throw .corruptSnapshot(
                path: listing.path,
                problem: "its metadata says index \(metadata.index), term \(metadata.term); the header says \(file.index), \(file.term)")
        }
        return Snapshot(metadata: metadata, data: file.data)
    }
}

/// LogReplay rebuilds a member's log from write-ahead log records, oldest first, on top of the
/// snapshot loaded from disk (index S).
///
/// - An entry at index i ≤ S truncates the entries after it (all kept entries are > S); the
///   entry itself is covered by the snapshot. An entry at S + 1 ≤ i ≤ last + 1 replaces the
///   entries from i on. An entry beyond last + 1 means records are missing: an error.
/// - A hard state record replaces the previous one.
/// - A compaction marker at or below S changes nothing. Above S it means a newer snapshot file
///   existed and is gone; that is tolerated only if the replayed log still holds the entry at
///   the marker's index with its term (an operator moved a damaged snapshot aside).
/// - An install marker voids every entry replayed so far. Above S it is an error: the log was
///   replaced by a snapshot that is no longer on disk.
struct LogReplay {
    private(set) var snapshot: SnapshotMetadata
    private(set) var hardState = HardState()
    private(set) var entries: [Entry] = []
    /// The term of the replayed entry at the snapshot index, if one was written and not truncated.
    private var termAtSnapshotIndex: UInt64?
    private let snapshotDirectory: String

    init(snapshot: SnapshotMetadata, snapshotDirectory: String) {
        self.snapshot = snapshot
        self.snapshotDirectory = snapshotDirectory
    }

    var lastIndex: UInt64 { entries.last?.index ?? snapshot.index }

    mutating func apply(
        type: LogRecordType, payload: UnsafeRawBufferPointer, location: SegmentedLog.RecordLocation
    ) throws(StorageError) {
        switch type {
        case .raftEntry:
            try applyEntry(try decode(Entry.self, payload, location), location: location)
        case .raftHardState:
            hardState = try decode(HardState.self, payload, location)
        case .raftSnapshotCompaction:
            try applyCompaction(try decode(SnapshotMetadata.self, payload, location), location: location)
        case .raftSnapshotInstall:
            try applyInstall(try decode(SnapshotMetadata.self, payload, location), location: location)
        default:
            throw .corruptLog(path: location.path, offsetBytes: location.offsetBytes, problem: "unknown \(type)")
        }
    }

    private mutating func applyEntry(_ entry: Entry, location: SegmentedLog.RecordLocation) throws(StorageError) {
        if entry.index <= snapshot.index {
            entries.removeAll(keepingCapacity: true)
            if entry.index == snapshot.index {
                termAtSnapshotIndex = entry.term
            } else {
                termAtSnapshotIndex = nil
            }
            return
        }
        guard entry.index <= lastIndex + 1 else {
            throw .corruptLog(
                path: location.path, offsetBytes: location.offsetBytes,
                problem: "entry \(entry.index) follows entry \(lastIndex): entries \(lastIndex + 1) to \(entry.index - 1) are missing")
        }
        entries.removeLast(Int(lastIndex + 1 - entry.index))
        precondition((entries.last?.index ?? snapshot.index) + 1 == entry.index, "replayed entries lost contiguity")
        entries.append(entry)
    }

    private mutating func applyCompaction(_ marker: SnapshotMetadata, location: SegmentedLog.RecordLocation) throws(StorageError) {
        try checkSameTermAtSnapshotIndex(marker, location: location)
        if marker.index <= snapshot.index { return }
        let offset = marker.index - snapshot.index
        guard offset <= UInt64(entries.count), entries[Int(offset) - 1].term == marker.term else {
            throw missingSnapshot(marker, location: location)
        }
    }

    private mutating func applyInstall(_ marker: SnapshotMetadata, location: SegmentedLog.RecordLocation) throws(StorageError) {
        try checkSameTermAtSnapshotIndex(marker, location: location)
        if marker.index > snapshot.index { throw missingSnapshot(marker, location: location) }
        entries.removeAll(keepingCapacity: true)
        termAtSnapshotIndex = marker.index == snapshot.index ? marker.term : nil
    }

    private func checkSameTermAtSnapshotIndex(_ marker: SnapshotMetadata, location: SegmentedLog.RecordLocation) throws(StorageError) {
        if marker.index == snapshot.index && marker.term != snapshot.term {
            throw .corruptLog(
                path: location.path, offsetBytes: location.offsetBytes,
                problem: "a snapshot record says index \(marker.index) has term \(marker.term), the snapshot file says \(snapshot.term)")
        }
    }

    private func missingSnapshot(_ marker: SnapshotMetadata, location: SegmentedLog.RecordLocation) -> StorageError {
        let expected = FileSystem.join(snapshotDirectory, SnapshotFile.fileName(term: marker.term, index: marker.index))
        return .inconsistentLayout(
            path: location.path,
            problem: "the record at byte offset \(location.offsetBytes) says the log was replaced by snapshot \(expected), "
                + "which is missing or was moved aside, and the log does not hold its entries; "
                + "the newest usable snapshot covers only through index \(snapshot.index)")
    }

    /// finish applies the checks that need the whole log: the oldest segment must start no later
    /// than right after the snapshot, the commit index must be in the log, and entries after the
    /// snapshot must agree with it at its index (Raft §7).
    mutating func finish(firstSegment: SegmentedLog.Segment, logger: Logger) throws(StorageError) {
        if firstSegment.firstIndex > snapshot.index + 1 {
            throw .inconsistentLayout(
                path: firstSegment.path,
                problem: "the oldest log segment starts at index \(firstSegment.firstIndex), but the newest snapshot "
                    + "covers only through index \(snapshot.index); entries in between are gone")
        }
        if let term = termAtSnapshotIndex, term != snapshot.term, !entries.isEmpty {
            logger.warning(
                "storage: dropping log entries that do not follow the snapshot",
                metadata: [
                    "snapshotIndex": "\(snapshot.index)", "snapshotTerm": "\(snapshot.term)", "logTerm": "\(term)",
                    "droppedEntries": "\(entries.count)",
                ])
            entries.removeAll()
        }
        if hardState.commit > lastIndex {
            throw .inconsistentLayout(
                path: firstSegment.path,
                problem: "the hard state commits index \(hardState.commit), but the log ends at index \(lastIndex)")
        }
    }

    private func decode<Message: ProtoMessage>(
        _ type: Message.Type, _ payload: UnsafeRawBufferPointer, _ location: SegmentedLog.RecordLocation
    ) throws(StorageError) -> Message {
        do throws(ProtoDecodingError) {
            return try Message(protobuf: payload)
        } catch {
            throw .corruptLog(
                path: location.path, offsetBytes: location.offsetBytes,
                problem: "the record's checksum matches but its \(Message.self) does not decode: \(error)")
        }
    }
}
