// The write-ahead log: checksummed records appended to a sequence of segment files.
import Glibc
import Logging

/// SegmentedLog is an append-only log of checksummed records stored in segment files
/// `<directory>/<sequence>-<firstIndex>.wal` (16 hexadecimal digits each, like etcd). It knows
/// nothing about Raft: records are a type tag and bytes; `firstIndex` is a label its owner gives
/// each segment (RaftStorage uses the Raft index of the first entry the segment was opened for).
///
/// Group commit: `append` encodes the record straight into one contiguous in-memory buffer;
/// `sync` makes everything buffered durable with one `pwrite` of that buffer (no gather list is
/// needed, so no writev) and one `fdatasync`. No per-record system call. Nothing appended is durable before `sync`
/// returns, and a batch that was not synced may be lost whole or in part on a crash.
///
/// Ownership: one owner, no locks. Every method must be called by one thread at a time, and a
/// thread that takes the log over from another must get it through a synchronising hand-off (a
/// queue, a continuation, thread start). The Raft driver gives the log (inside RaftStorage) to its
/// I/O thread, which appends and syncs each batch while the network loop goes on. The type is
/// deliberately not Sendable so the compiler rejects sharing it.
///
/// After a failed write or sync the log refuses all further work: after a failed fdatasync the
/// kernel may have dropped the dirty pages, so retrying could report success for lost data. The
/// member must restart and recover from what is on disk.
public final class SegmentedLog {
    /// How segment files are sized and prepared.
    public struct Options: Sendable {
        /// A segment that has grown to this size is closed and a new one started. Records never
        /// span segments, so a segment may exceed this by the last batch written into it.
        public var segmentSizeLimitBytes: Int = 64 << 20
        /// `.zeroFill` measured fastest here: one 64-record batch syncs in ~110 µs against ~180 µs
        /// with `.fallocate` and ~240 µs with `.none` (see the storage benchmark in the report).
        public var preallocation: Preallocation = .zeroFill
        /// Bound on bytes buffered between two syncs; the driver's batch limit must stay below it.
        public var maximumBufferedBytes: Int = 256 << 20
        /// Opening reads each segment through a window of this many bytes, grown only to hold a
        /// record larger than it, so replay memory does not depend on the segment size. At 1 MiB a
        /// 64 MiB segment takes 64 reads.
        public var readWindowBytes: Int = 1 << 20

        public init() {}
    }

    /// How a new segment file's space is reserved before records are written into it.
    public enum Preallocation: Sendable, CaseIterable {
        /// Nothing: every sync also persists the grown file size.
        case none
        /// `posix_fallocate` to the size limit: the size is fixed up front, blocks are reserved
        /// as unwritten extents (ext4 converts them on first write, which still costs metadata).
        case fallocate
        /// Write zeros over the whole segment once when creating it, so later syncs flush data
        /// only: no size change, no unwritten-extent conversion. Costs one segment-sized write
        /// per rotation, done in the background by SegmentPreparation.
        case zeroFill
    }

    /// Segment is one file of the log.
    public struct Segment: Sendable, Equatable {
        public var sequence: UInt64
        public var firstIndex: UInt64
        public var path: String
    }

    /// Where a record starts; used in error messages.
    public struct RecordLocation: Sendable, Equatable {
        public var path: String
        public var offsetBytes: Int
    }

    /// TornTail describes an incomplete final write removed while opening.
    public struct TornTail: Sendable, Equatable {
        public var path: String
        public var offsetBytes: Int
        public var discardedBytes: Int
        public var problem: String
    }

    public let directory: String
    public let options: Options
    /// The segments, oldest first; the last one is being written.
    public private(set) var segments: [Segment]
    /// The torn tail found and truncated when the log was opened, if any.
    public let tornTail: TornTail?

    private var descriptor: Int32
    /// Bytes of the current segment that hold records; the next sync writes here.
    private var writeOffsetBytes: Int
    private var pending: [UInt8] = []
    private var failure: StorageError?
    /// The file for the next segment, being prepared in the background.
    private var spare: SegmentPreparation?

    init(
        directory: String, options: Options, segments: [Segment], descriptor: Int32,
        writeOffsetBytes: Int, tornTail: TornTail?
    ) {
        self.directory = directory
        self.options = options
        self.segments = segments
        self.descriptor = descriptor
        self.writeOffsetBytes = writeOffsetBytes
        self.tornTail = tornTail
    }

    deinit {
        FileSystem.closeFile(descriptor)
        spare?.discard()
    }

    // MARK: Writing

    /// bufferedBytes is how much `sync` would write now.
    public var bufferedBytes: Int { pending.count }

    /// currentSegmentSizeBytes is how many bytes of records the current segment holds on disk.
    public var currentSegmentSizeBytes: Int { writeOffsetBytes }

    /// isCurrentSegmentFull tells the owner to call `rotate` after its next sync.
    public var isCurrentSegmentFull: Bool { writeOffsetBytes >= options.segmentSizeLimitBytes }

    /// append buffers one record. Not durable until `sync` returns.
    public func append(type: LogRecordType, payload: UnsafeRawBufferPointer) {
        precondition(type != .segmentHeader, "segment headers are written by SegmentedLog itself")
        LogRecordFormat.appendRecord(type: type, payload: payload, to: &pending)
        checkBufferBound()
    }

    public func append(type: LogRecordType, payload: [UInt8]) {
        payload.withUnsafeBytes { append(type: type, payload: $0) }
    }

    /// append buffers one record whose payload `encode` appends to the buffer it is given, so an
    /// encoder (such as a protobuf message's `appendProtobuf(to:)`) writes straight into the
    /// batch without an intermediate array. `encode` must only append.
    public func append(type: LogRecordType, encode: (inout [UInt8]) -> Void) {
        precondition(type != .segmentHeader, "segment headers are written by SegmentedLog itself")
        let start = LogRecordFormat.appendHeaderPlaceholder(to: &pending)
        encode(&pending)
        precondition(pending.count >= start + LogRecordFormat.headerSizeBytes, "encoder removed buffered bytes")
        LogRecordFormat.finishRecord(in: &pending, startOffsetBytes: start, type: type)
        checkBufferBound()
    }

    private func checkBufferBound() {
        precondition(
            pending.count <= options.maximumBufferedBytes,
            "\(pending.count) bytes buffered without a sync; the bound is \(options.maximumBufferedBytes)")
    }

    /// sync writes every buffered record with one pwrite and makes it durable with one fdatasync.
    /// With nothing buffered it makes no system call.
    public func sync() throws(StorageError) {
        if let failure { throw failure }
        if pending.isEmpty { return }
        let path = currentSegment.path
        do throws(StorageError) {
            try withBytes(pending) { (bytes) throws(StorageError) in
                try FileSystem.writeAll(descriptor, bytes, offsetBytes: writeOffsetBytes, path: path)
            }
            try FileSystem.dataSync(descriptor, path: path)
        } catch {
            failure = error
            throw error
        }
        writeOffsetBytes += pending.count
        releaseBuffer()
        if spare == nil && writeOffsetBytes >= options.segmentSizeLimitBytes / 2 { prepareSpare() }
    }

    /// Keeps the buffer's capacity for the next batch unless one unusually large batch grew it.
    private func releaseBuffer() {
        if pending.capacity > 4 << 20 {
            pending = []
        } else {
            pending.removeAll(keepingCapacity: true)
        }
    }

    /// rotate closes the current segment and starts the next one, labelled `firstIndex`. Records
    /// buffered now (for RaftStorage: the latest hard state and snapshot marker, so the new segment
    /// stands on its own once older ones are removed) go into the new segment, and are durable
    /// when rotate returns: the file is written as `<name>.tmp`, fsynced, renamed, and the folder
    /// fsynced, so a segment file with its final name always has a complete header. The old
    /// segment never holds unsynced bytes (sync writes the whole buffer), so no flush is needed.
    public func rotate(firstIndex: UInt64) throws(StorageError) {
        if let failure { throw failure }
        let sequence = currentSegment.sequence + 1
        let segment = Segment(
            sequence: sequence, firstIndex: firstIndex,
            path: FileSystem.join(directory, SegmentedLog.segmentName(sequence: sequence, firstIndex: firstIndex)))
        let preparation = spare ?? SegmentPreparation(directory: directory, sequence: sequence, options: options)
        spare = nil
        let newDescriptor: Int32
        let headerSizeBytes: Int
        do throws(StorageError) {
            newDescriptor = try preparation.take()
            headerSizeBytes = try SegmentedLog.fillSegmentFile(
                newDescriptor, temporaryPath: preparation.path, segment: segment, directory: directory, contents: pending)
        } catch {
            failure = error
            throw error
        }
        FileSystem.closeFile(descriptor)
        descriptor = newDescriptor
        writeOffsetBytes = headerSizeBytes + pending.count
        segments.append(segment)
        releaseBuffer()
    }

    /// prepareSpare starts preparing the file for the segment after the current one. sync calls
    /// it once the current segment is half full, so the file is normally ready long before the
    /// rotation that takes it, and a log that never grows that far never writes one.
    private func prepareSpare() {
        precondition(spare == nil, "a spare segment file is already being prepared")
        spare = SegmentPreparation(directory: directory, sequence: currentSegment.sequence + 1, options: options)
    }

    /// removeOldestSegments deletes the `count` oldest segments, oldest first, fsyncing the folder
    /// after each so that a crash part-way leaves a contiguous run of segments, never a gap.
    /// The current segment is never removed.
    public func removeOldestSegments(count: Int) throws(StorageError) {
        precondition(count >= 0 && count < segments.count, "cannot remove \(count) of \(segments.count) segments")
        for _ in 0..<count {
            try FileSystem.removeFile(segments[0].path)
            try FileSystem.syncDirectory(directory)
            segments.removeFirst()
        }
    }

    private var currentSegment: Segment { segments[segments.count - 1] }

    /// Whether the file for the next segment is being (or has been) prepared.
    var hasSpare: Bool { spare != nil }

    // MARK: Creating

    /// initializeDirectory creates a log folder at `directory` holding one empty segment labelled
    /// `firstIndex`. The folder appears atomically: it is built as `<directory>.tmp`, then renamed,
    /// and the parent fsynced, so a crash leaves either no log or a complete one.
    public static func initializeDirectory(_ directory: String, firstIndex: UInt64, options: Options) throws(StorageError) {
        precondition(!FileSystem.exists(directory), "initializeDirectory on an existing \(directory)")
        let temporary = directory + ".tmp"
        if FileSystem.exists(temporary) {
            for name in try FileSystem.listDirectory(temporary) {
                try FileSystem.removeFile(FileSystem.join(temporary, name))
            }
            try FileSystem.removeDirectory(temporary)
        }
        try FileSystem.makeDirectory(temporary)
        let segment = Segment(
            sequence: 1, firstIndex: firstIndex,
            path: FileSystem.join(temporary, segmentName(sequence: 1, firstIndex: firstIndex)))
        FileSystem.closeFile(try createSegmentFile(segment, directory: temporary, options: options, contents: []))
        try FileSystem.rename(temporary, to: directory)
        try FileSystem.syncDirectory(parentDirectory(of: directory))
    }

    /// Creates a complete segment file synchronously (the first segment of a new log).
    private static func createSegmentFile(
        _ segment: Segment, directory: String, options: Options, contents: [UInt8]
    ) throws(StorageError) -> Int32 {
        let temporaryPath = segment.path + ".tmp"
        let descriptor = try FileSystem.openFile(temporaryPath, flags: O_RDWR | O_CREAT | O_TRUNC)
        do throws(StorageError) {
            try reserveSpace(descriptor, fromOffsetBytes: 0, path: temporaryPath, options: options)
            try FileSystem.fullSync(descriptor, path: temporaryPath)
            _ = try fillSegmentFile(
                descriptor, temporaryPath: temporaryPath, segment: segment, directory: directory, contents: contents)
            return descriptor
        } catch {
            FileSystem.closeFile(descriptor)
            throw error
        }
    }

    /// Writes the header record and `contents` into a prepared file (its space reserved and its
    /// size durable), makes them durable, renames the file to the segment's name and fsyncs the
    /// folder. Returns the size of the header record.
    static func fillSegmentFile(
        _ descriptor: Int32, temporaryPath: String, segment: Segment, directory: String, contents: [UInt8]
    ) throws(StorageError) -> Int {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(LogRecordFormat.headerSizeBytes + SegmentHeader.payloadSizeBytes + contents.count)
        SegmentHeader(sequence: segment.sequence, firstIndex: segment.firstIndex).encoded().withUnsafeBytes {
            LogRecordFormat.appendRecord(type: .segmentHeader, payload: $0, to: &bytes)
        }
        let headerSizeBytes = bytes.count
        bytes.append(contentsOf: contents)
        try withBytes(bytes) { (raw) throws(StorageError) in
            try FileSystem.writeAll(descriptor, raw, offsetBytes: 0, path: temporaryPath)
        }
        // Data only: the size was made durable when the space was reserved, unless the records
        // go past it, and then fdatasync persists the size as well.
        try FileSystem.dataSync(descriptor, path: temporaryPath)
        try FileSystem.rename(temporaryPath, to: segment.path)
        try FileSystem.syncDirectory(directory)
        return headerSizeBytes
    }

    /// reserveSpace prepares the file from `fromOffsetBytes` to the segment size limit per
    /// `options.preallocation`. The caller makes it durable.
    static func reserveSpace(
        _ descriptor: Int32, fromOffsetBytes start: Int, path: String, options: Options
    ) throws(StorageError) {
        switch options.preallocation {
        case .none:
            return
        case .fallocate:
            _ = try FileSystem.preallocate(descriptor, sizeBytes: options.segmentSizeLimitBytes, path: path)
        case .zeroFill:
            // One MiB at a time, each flushed before the next: a single 64 MiB flush would sit in
            // the device queue in front of the commit path's small fdatasyncs.
            let chunk = [UInt8](repeating: 0, count: 1 << 20)
            var offset = start
            while offset < options.segmentSizeLimitBytes {
                let size = min(chunk.count, options.segmentSizeLimitBytes - offset)
                try withBytes(chunk) { (raw) throws(StorageError) in
                    try FileSystem.writeAll(
                        descriptor, UnsafeRawBufferPointer(rebasing: raw[0..<size]), offsetBytes: offset, path: path)
                }
                try FileSystem.dataSync(descriptor, path: path)
                offset += size
            }
        }
    }

    // MARK: Names

    static let segmentSuffix = ".wal"

    static func segmentName(sequence: UInt64, firstIndex: UInt64) -> String {
        hexadecimal16(sequence) + "-" + hexadecimal16(firstIndex) + segmentSuffix
    }

    /// Parses `<16 hex>-<16 hex>.wal`, or returns nil.
    static func parseSegmentName(_ name: String) -> (sequence: UInt64, firstIndex: UInt64)? {
        guard name.hasSuffix(segmentSuffix) else { return nil }
        let stem = name.dropLast(segmentSuffix.count)
        let parts = stem.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let sequence = parseHexadecimal16(parts[0]),
              let firstIndex = parseHexadecimal16(parts[1]) else { return nil }
        return (sequence, firstIndex)
    }
}

func parentDirectory(of path: String) -> String {
    var trimmed = Substring(path)
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    guard let slash = trimmed.lastIndex(of: "/") else { return "." }
    if slash == trimmed.startIndex { return "/" }
    return String(trimmed[..<slash])
}
