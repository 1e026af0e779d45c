// Opening a write-ahead log: reading every segment, checking it, and removing a torn tail.
import Glibc
import Logging

extension SegmentedLog {
    /// open reads every segment of the log in `directory` in order, calls `visit` with each
    /// record (type, payload, location) oldest first, and returns the log ready to append after
    /// the last valid record. The payload buffer is only valid during the call.
    ///
    /// Torn tail rule. Only the newest segment may end in a torn write: the records of a batch
    /// whose sync never returned. Let `o` be the offset of the first record of the newest
    /// segment that does not parse (header cut short, length past the end of the file or above
    /// the maximum, zero tag, non-zero reserved bytes, checksum mismatch). If no well-formed
    /// record with a matching checksum starts at any byte offset after `o`, the bytes from `o`
    /// to the end are a torn tail: the file is cut at `o`, its preallocation restored, the event
    /// logged and reported in `tornTail`. If a valid record does start after `o`, acknowledged
    /// data follows the damage, so it is corruption. The rule is conservative: a crash that
    /// persisted a later record of the final batch but not an earlier one is refused too, as is
    /// a bad header in a segment's first record (segments are created complete, under a
    /// temporary name).
    ///
    /// Memory: each segment is read through a window of `options.readWindowBytes` (grown only to
    /// hold one record larger than it), and the torn tail check walks the rest of the newest
    /// segment window by window, so opening needs about one window whatever the segment size.
    ///
    /// Everything else throws with the file and byte offset: any bad record in an older segment,
    /// non-zero bytes after the end of an older segment's records, a gap in the sequence numbers,
    /// a header that disagrees with the file name. Leftover `.wal.tmp` files (a rotation cut short
    /// before its rename, a spare segment file being prepared) are removed.
    public static func open(
        directory: String, options: Options = Options(),
        logger: Logger = Logger(label: "skiff.raft.storage"),
        visit: (LogRecordType, UnsafeRawBufferPointer, RecordLocation) throws(StorageError) -> Void
    ) throws(StorageError) -> SegmentedLog {
        let segments = try listSegments(directory: directory, logger: logger)
        var tornTail: TornTail?
        var lastValidEndBytes = 0
        for (position, segment) in segments.enumerated() {
            let isNewest = position == segments.count - 1
            let reader = try SegmentReader(path: segment.path, windowBytes: options.readWindowBytes)
            let scan = try readSegment(reader, segment: segment, isNewest: isNewest, visit: visit)
            lastValidEndBytes = scan.validEndBytes
            tornTail = scan.tornTail
        }
        let newest = segments[segments.count - 1]
        let descriptor = try FileSystem.openFile(newest.path, flags: O_RDWR)
        do throws(StorageError) {
            if let tornTail {
                try cutTornTail(tornTail, descriptor: descriptor, options: options)
                logger.warning(
                    "write-ahead log: removed a torn tail from an interrupted write",
                    metadata: [
                        "path": "\(tornTail.path)", "offsetBytes": "\(tornTail.offsetBytes)",
                        "discardedBytes": "\(tornTail.discardedBytes)", "problem": "\(tornTail.problem)",
                    ])
            }
        } catch {
            FileSystem.closeFile(descriptor)
            throw error
        }
        return SegmentedLog(
            directory: directory, options: options, segments: segments, descriptor: descriptor,
            writeOffsetBytes: lastValidEndBytes, tornTail: tornTail)
    }

    /// Lists the segments in sequence order, checking there is no gap.
    private static func listSegments(directory: String, logger: Logger) throws(StorageError) -> [Segment] {
        var segments: [Segment] = []
        for name in try FileSystem.listDirectory(directory) {
            let path = FileSystem.join(directory, name)
            if name.hasSuffix(segmentSuffix + ".tmp") {
                logger.notice("write-ahead log: removing an unfinished segment file", metadata: ["path": "\(path)"])
                try FileSystem.removeFile(path)
                continue
            }
            guard let parsed = parseSegmentName(name) else {
                if name.hasSuffix(segmentSuffix) {
                    throw .inconsistentLayout(path: path, problem: "segment file name is not <16 hex digits>-<16 hex digits>.wal")
                }
                logger.notice("write-ahead log: ignoring a file that is not a segment", metadata: ["path": "\(path)"])
                continue
            }
            segments.append(Segment(sequence: parsed.sequence, firstIndex: parsed.firstIndex, path: path))
        }
        guard !segments.isEmpty else {
            throw .inconsistentLayout(path: directory, problem: "the write-ahead log folder holds no segment files")
        }
        segments.sort { $0.sequence < $1.sequence }
        for (previous, next) in zip(segments, segments.dropFirst()) where next.sequence != previous.sequence + 1 {
            let missing = segmentName(sequence: previous.sequence + 1, firstIndex: 0).prefix(16)
            throw .inconsistentLayout(
                path: directory,
                problem: "segment \(missing) is missing between \(previous.path) and \(next.path)")
        }
        return segments
    }

    struct SegmentScan: Equatable {
        var validEndBytes: Int
        var tornTail: TornTail?
    }

    /// Reads one segment: checks its header, visits its records, applies the torn tail rule.
    /// Changes nothing on disk.
    static func readSegment(
        _ reader: SegmentReader, segment: Segment, isNewest: Bool,
        visit: (LogRecordType, UnsafeRawBufferPointer, RecordLocation) throws(StorageError) -> Void
    ) throws(StorageError) -> SegmentScan {
        var offset = try checkHeader(reader, segment: segment)
        while true {
            switch try reader.parseRecord(at: offset) {
            case .endOfData:
                return SegmentScan(validEndBytes: offset, tornTail: nil)
            case .record(let type, let payloadOffset, let payloadSize, let end):
                if type == .segmentHeader {
                    throw .corruptLog(path: segment.path, offsetBytes: offset, problem: "a second segment header record")
                }
                // parseRecord left the whole record in the window, so this reads nothing.
                let payload = try reader.bytes(at: payloadOffset, count: payloadSize)
                try visit(type, payload, RecordLocation(path: segment.path, offsetBytes: offset))
                offset = end
            case .invalid(let problem):
                if !isNewest {
                    throw .corruptLog(path: segment.path, offsetBytes: offset, problem: problem + " (in a segment that is not the newest)")
                }
                if try reader.containsRecord(startingAt: offset + 1) {
                    throw .corruptLog(path: segment.path, offsetBytes: offset, problem: problem + ", and valid records follow it")
                }
                let tornTail = TornTail(
                    path: segment.path, offsetBytes: offset, discardedBytes: reader.sizeBytes - offset, problem: problem)
                return SegmentScan(validEndBytes: offset, tornTail: tornTail)
            }
        }
    }

    /// Checks the first record is a header matching the file name; returns the offset after it.
    private static func checkHeader(_ reader: SegmentReader, segment: Segment) throws(StorageError) -> Int {
        let parsed = try reader.parseRecord(at: 0)
        guard case .record(let type, let payloadOffset, let payloadSize, let end) = parsed else {
            let problem: String
            if case .invalid(let text) = parsed { problem = text } else { problem = "empty file" }
            throw .corruptLog(path: segment.path, offsetBytes: 0, problem: "no valid segment header: \(problem)")
        }
        guard type == .segmentHeader else {
            throw .corruptLog(path: segment.path, offsetBytes: 0, problem: "the first record is \(type), not a segment header")
        }
        switch SegmentHeader.decode(try reader.bytes(at: payloadOffset, count: payloadSize)) {
        case .failure(let problem):
            throw .corruptLog(path: segment.path, offsetBytes: 0, problem: problem.text)
        case .success(let header):
            guard header.sequence == segment.sequence && header.firstIndex == segment.firstIndex else {
                throw .corruptLog(
                    path: segment.path, offsetBytes: 0,
                    problem: "the header says sequence \(header.sequence), first index \(header.firstIndex), "
                        + "which does not match the file name")
            }
        }
        return end
    }

    /// Removes a torn tail: the file is cut at the end of the last valid record, so no stale bytes
    /// of the interrupted batch can ever follow newer records, then preallocated again.
    private static func cutTornTail(_ tornTail: TornTail, descriptor: Int32, options: Options) throws(StorageError) {
        try FileSystem.truncateFile(descriptor, sizeBytes: tornTail.offsetBytes, path: tornTail.path)
        try reserveSpace(descriptor, fromOffsetBytes: tornTail.offsetBytes, path: tornTail.path, options: options)
        try FileSystem.fullSync(descriptor, path: tornTail.path)
    }
}
