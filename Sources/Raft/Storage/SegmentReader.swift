// Reading a segment file through a fixed-size window, so opening a log needs memory bounded by
// the window (or the largest record), not by the segment size.
import Glibc

/// SegmentReader reads one segment file at any offset through a window of `windowBytes` that
/// slides forward as the caller moves on. A request larger than the window grows it to hold
/// exactly that range (one record larger than the window); the next request that fits the
/// normal size shrinks it back. The file's size is taken once, when the reader is created.
///
/// The buffer returned by `bytes(at:count:)` is only valid until the next call on the reader.
/// Ownership: one owner, not Sendable, like SegmentedLog.
final class SegmentReader {
    let path: String
    /// The size of the file when the reader was created; reads never go past it.
    let sizeBytes: Int
    /// The normal window size.
    let windowBytes: Int

    private let descriptor: Int32
    private var buffer: UnsafeMutableRawBufferPointer
    /// The file offset of `buffer[0]`.
    private var windowStart = 0
    /// How many bytes of `buffer` hold file content.
    private var windowCount = 0
    /// Scratch space for checksumming a range past the window without moving it.
    private var scratch: UnsafeMutableRawBufferPointer?

    static let scratchBytes = 64 << 10

    init(path: String, windowBytes: Int) throws(StorageError) {
        precondition(windowBytes >= 2 * LogRecordFormat.headerSizeBytes, "read window of \(windowBytes) bytes is too small")
        self.path = path
        self.windowBytes = windowBytes
        let descriptor = try FileSystem.openFile(path, flags: O_RDONLY)
        do throws(StorageError) {
            sizeBytes = try FileSystem.fileSize(descriptor, path: path)
        } catch {
            FileSystem.closeFile(descriptor)
            throw error
        }
        self.descriptor = descriptor
        // Never larger than the file: a small segment costs a small buffer.
        buffer = .allocate(byteCount: max(1, min(windowBytes, sizeBytes)), alignment: 16)
    }

    deinit {
        FileSystem.closeFile(descriptor)
        buffer.deallocate()
        scratch?.deallocate()
    }

    /// The bytes the window can hold now; more than `windowBytes` only while a large record is in it.
    var capacityBytes: Int { buffer.count }

    /// bytes returns the file's bytes `offset ..< offset + count`, reading what the window does
    /// not hold yet. Bytes already in the window from `offset` on are kept, so walking forward
    /// reads every byte of the file once.
    func bytes(at offset: Int, count: Int) throws(StorageError) -> UnsafeRawBufferPointer {
        precondition(offset >= 0 && count >= 0 && offset + count <= sizeBytes, "read of \(offset)+\(count) past \(sizeBytes) bytes")
        let windowEnd = windowStart + windowCount
        if offset >= windowStart && offset + count <= windowEnd {
            return UnsafeRawBufferPointer(rebasing: buffer[(offset - windowStart)..<(offset - windowStart + count)])
        }
        // Keep the part of the window at and after `offset`, at the front of the buffer.
        let kept = offset >= windowStart && offset < windowEnd ? windowEnd - offset : 0
        let wanted = max(count, min(windowBytes, sizeBytes - offset))
        if wanted > buffer.count || (buffer.count > windowBytes && count <= windowBytes) {
            let resized = UnsafeMutableRawBufferPointer.allocate(byteCount: max(wanted, 1), alignment: 16)
            if kept > 0 {
                resized.baseAddress!.copyMemory(from: buffer.baseAddress! + (offset - windowStart), byteCount: kept)
            }
            buffer.deallocate()
            buffer = resized
        } else if kept > 0 && offset != windowStart {
            buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + (offset - windowStart), byteCount: kept)
        }
        windowStart = offset
        windowCount = kept
        let target = min(buffer.count, sizeBytes - offset)
        let read = try FileSystem.readUpTo(
            descriptor, into: UnsafeMutableRawBufferPointer(rebasing: buffer[kept..<target]),
            offsetBytes: offset + kept, path: path)
        windowCount = kept + read
        if windowCount < count {
            throw .corruptLog(
                path: path, offsetBytes: offset + windowCount,
                problem: "the file ended while it was being read; it held \(sizeBytes) bytes when it was opened, "
                    + "so another process is changing it")
        }
        return UnsafeRawBufferPointer(rebasing: buffer[0..<count])
    }

    /// checksum returns the CRC32C of the file's bytes `offset ..< offset + count`, continuing
    /// `previous`, through a small scratch buffer: the window is left as it is.
    func checksum(at offset: Int, count: Int, continuing previous: UInt32) throws(StorageError) -> UInt32 {
        precondition(offset >= 0 && count >= 0 && offset + count <= sizeBytes, "checksum of \(offset)+\(count) past \(sizeBytes) bytes")
        let scratch = self.scratch ?? .allocate(byteCount: SegmentReader.scratchBytes, alignment: 16)
        self.scratch = scratch
        var crc = previous
        var position = offset
        while position < offset + count {
            let size = min(scratch.count, offset + count - position)
            let read = try FileSystem.readUpTo(
                descriptor, into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<size]), offsetBytes: position, path: path)
            if read < size {
                throw .corruptLog(
                    path: path, offsetBytes: position + read,
                    problem: "the file ended while it was being read; it held \(sizeBytes) bytes when it was opened, "
                        + "so another process is changing it")
            }
            crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: scratch[0..<size]), continuing: crc)
            position += size
        }
        return crc
    }
}

extension SegmentReader {
    /// parseRecord reads the record at `offset`, with the outcomes and problem texts a parse of
    /// the whole file held in memory gives (the tests keep that parser as their reference): the
    /// window holds the header, then the whole record once its header is plausible, and the
    /// check that only zeros remain runs window by window.
    func parseRecord(at offset: Int) throws(StorageError) -> LogRecordFormat.Parsed {
        let remaining = sizeBytes - offset
        if remaining == 0 { return .endOfData }
        if remaining < LogRecordFormat.headerSizeBytes {
            if try isZero(from: offset) { return .endOfData }
            return .invalid(problem: "incomplete record header: only \(remaining) bytes before the end of the file")
        }
        let header = try bytes(at: offset, count: LogRecordFormat.headerSizeBytes)
        switch LogRecordFormat.checkHeader(header, remainingBytes: remaining) {
        case .zero:
            if try isZero(from: offset + LogRecordFormat.headerSizeBytes) { return .endOfData }
            return .invalid(problem: "zero record header followed by non-zero bytes")
        case .invalid(let problem):
            return .invalid(problem: problem)
        case .plausible(let type, let payloadSizeBytes, let storedChecksum):
            let end = offset + LogRecordFormat.headerSizeBytes + payloadSizeBytes
            let record = try bytes(at: offset, count: end - offset)
            let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: record[8...]))
            if let problem = LogRecordFormat.checksumProblem(stored: storedChecksum, computed: computed) {
                return .invalid(problem: problem)
            }
            return .record(
                type: type, payloadOffsetBytes: offset + LogRecordFormat.headerSizeBytes,
                payloadSizeBytes: payloadSizeBytes, endOffsetBytes: end)
        }
    }

    /// isZero reports whether every byte from `offset` to the end of the file is zero, reading
    /// one window at a time; it stops at the first non-zero byte.
    func isZero(from offset: Int) throws(StorageError) -> Bool {
        var position = offset
        while position < sizeBytes {
            let chunk = try bytes(at: position, count: min(windowBytes, sizeBytes - position))
            if !LogRecordFormat.isZero(chunk, from: 0) { return false }
            position += chunk.count
        }
        return true
    }

    /// containsRecord reports whether a well-formed record with a matching checksum starts at
    /// any byte offset from `start` on. It walks the file one window at a time; consecutive
    /// windows overlap by a header minus one byte, so every candidate header lies whole in one
    /// window. A candidate's payload may run past the window: its checksum then continues over
    /// the file through scratch space, so the window never grows here, whatever length the
    /// bytes claim.
    func containsRecord(startingAt start: Int) throws(StorageError) -> Bool {
        let headerSize = LogRecordFormat.headerSizeBytes
        var windowOffset = start
        while sizeBytes - windowOffset >= headerSize {
            let window = try bytes(at: windowOffset, count: min(windowBytes, sizeBytes - windowOffset))
            // Candidates whose header lies whole in this window.
            let candidates = window.count - headerSize + 1
            var candidate = 0
            while candidate < candidates {
                // Zeroed space: eight zero tag bytes rule out eight candidates at once.
                if candidate + 16 <= window.count && window.loadUnaligned(fromByteOffset: candidate + 8, as: UInt64.self) == 0 {
                    candidate += 8
                    continue
                }
                // Cheap filter: a non-zero tag followed by three zero reserved bytes.
                if window[candidate + 8] != 0 && window[candidate + 9] == 0 && window[candidate + 10] == 0
                    && window[candidate + 11] == 0,
                    try isRecord(window, candidate: candidate, fileOffset: windowOffset + candidate)
                {
                    return true
                }
                candidate += 1
            }
            windowOffset += candidates
        }
        return false
    }

    /// Whether the candidate header at `window[candidate...]` (file offset `fileOffset`) starts a
    /// well-formed record whose checksum matches.
    private func isRecord(_ window: UnsafeRawBufferPointer, candidate: Int, fileOffset: Int) throws(StorageError) -> Bool {
        let header = UnsafeRawBufferPointer(rebasing: window[candidate..<(candidate + LogRecordFormat.headerSizeBytes)])
        guard case .plausible(_, let payloadSizeBytes, let storedChecksum) = LogRecordFormat.checkHeader(
            header, remainingBytes: sizeBytes - fileOffset)
        else { return false }
        let coveredEnd = candidate + LogRecordFormat.headerSizeBytes + payloadSizeBytes
        let inWindowEnd = min(coveredEnd, window.count)
        var computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: window[(candidate + 8)..<inWindowEnd]))
        if coveredEnd > window.count {
            let windowFileEnd = fileOffset - candidate + window.count
            computed = try checksum(at: windowFileEnd, count: coveredEnd - window.count, continuing: computed)
        }
        return computed == storedChecksum
    }
}
