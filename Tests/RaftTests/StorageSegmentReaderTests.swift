// Reading segments through a bounded window: records straddling window boundaries, records
// larger than the window, torn tails and corruption found across windows, and agreement with the
// whole-file reader that opening used before.
import Foundation
import Testing
import Wire

@testable import Raft

@Suite struct StorageSegmentReaderTests {
    // MARK: The reader itself

    @Test func bytesAtAnyOffsetMatchTheFile() throws {
        let directory = TemporaryDirectory()
        let path = directory.child("file")
        let content = testPayload(11, size: 10_000)
        RawFile.write(path, content)
        let reader = try SegmentReader(path: path, windowBytes: 512)
        #expect(reader.sizeBytes == content.count)
        var random = SplitMix64(seed: 1)
        for _ in 0..<2_000 {
            let offset = Int.random(in: 0...content.count, using: &random)
            let count = Int.random(in: 0...min(content.count - offset, 1_500), using: &random)
            let bytes = try reader.bytes(at: offset, count: count)
            #expect(Array(bytes) == Array(content[offset..<(offset + count)]), "\(offset)+\(count)")
            #expect(reader.capacityBytes <= 1_500)
        }
    }

    @Test func windowGrowsForOneLargeRangeAndShrinksBack() throws {
        let directory = TemporaryDirectory()
        let path = directory.child("file")
        let content = testPayload(12, size: 100_000)
        RawFile.write(path, content)
        let reader = try SegmentReader(path: path, windowBytes: 4096)
        _ = try reader.bytes(at: 0, count: 100)
        #expect(reader.capacityBytes == 4096)
        let large = try reader.bytes(at: 1_000, count: 30_000)
        #expect(Array(large) == Array(content[1_000..<31_000]))
        #expect(reader.capacityBytes == 30_000)
        let after = try reader.bytes(at: 31_000, count: 100)
        #expect(Array(after) == Array(content[31_000..<31_100]))
        #expect(reader.capacityBytes == 4096)
    }

    @Test func checksumPastTheWindowLeavesTheWindowAlone() throws {
        let directory = TemporaryDirectory()
        let path = directory.child("file")
        let content = testPayload(13, size: 300_000)
        RawFile.write(path, content)
        let reader = try SegmentReader(path: path, windowBytes: 1024)
        let window = try reader.bytes(at: 500, count: 1024)
        let crc = try reader.checksum(at: 1_524, count: 200_000, continuing: CRC32C.checksum(window))
        #expect(crc == CRC32C.checksum(Array(content[500..<201_524])))
        #expect(Array(try reader.bytes(at: 500, count: 1024)) == Array(content[500..<1_524]))
    }

    // MARK: Opening through a small window

    @Test(arguments: [24, 100, 4096])
    func segmentLargerThanTheWindowWithRecordsStraddlingBoundaries(windowBytes: Int) throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        var options = SegmentedLog.Options.forTests
        options.segmentSizeLimitBytes = 256 << 10
        options.readWindowBytes = windowBytes
        try SegmentedLog.initializeDirectory(wal, firstIndex: 1, options: options)
        // Sizes chosen so record boundaries fall at every position relative to the window.
        let payloads = (0..<150).map { testPayload($0, size: ($0 * 197) % 1_500) }
        do {
            let (log, _) = try openLog(wal, options: options)
            for (number, payload) in payloads.enumerated() {
                log.append(type: .testRecord, payload: payload)
                if number % 7 == 6 { try log.sync() }
            }
            try log.sync()
            #expect(log.currentSegmentSizeBytes > 20 * windowBytes)
        }
        let (log, records) = try openLog(wal, options: options)
        #expect(records.map(\.1) == payloads)
        #expect(log.tornTail == nil)
        #expect(RawFile.read(log.segments[0].path).count == options.segmentSizeLimitBytes)
        log.append(type: .testRecord, payload: [4, 2])
        try log.sync()
        let (_, again) = try openLog(wal, options: options)
        #expect(again.map(\.1) == payloads + [[4, 2]])
    }

    @Test func recordsLargerThanTheWindowAcrossSegments() throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        var options = SegmentedLog.Options.forTests
        options.segmentSizeLimitBytes = 64 << 10
        options.readWindowBytes = 4096
        try SegmentedLog.initializeDirectory(wal, firstIndex: 1, options: options)
        let sizes = [10, 10_000, 3, 50_000, 4_084, 4_085, 4_096, 0, 120_000, 7]
        let payloads = sizes.enumerated().map { testPayload($0.offset, size: $0.element) }
        do {
            let (log, _) = try openLog(wal, options: options)
            for (number, payload) in payloads.enumerated() {
                log.append(type: .testRecord, payload: payload)
                try log.sync()
                if log.isCurrentSegmentFull { try log.rotate(firstIndex: UInt64(number + 2)) }
            }
            #expect(log.segments.count > 1)
        }
        let (_, records) = try openLog(wal, options: options)
        #expect(records.map(\.1) == payloads)
    }

    @Test func largeStoreValuesReplayThroughTheDefaultWindow() throws {
        let directory = TemporaryDirectory()
        var options = RaftStorage.Options.forTests
        #expect(options.log.readWindowBytes == 1 << 20)
        options.log.segmentSizeLimitBytes = 4 << 20
        let value = 1_536 << 10
        let entries = (1...5).map { Entry(term: 1, index: $0, type: .normal, data: testPayload(Int($0), size: value)) }
        do {
            let (storage, _) = try RaftStorage.open(dataDirectory: directory.path, options: options)
            storage.append(entries)
            storage.setHardState(HardState(term: 1, vote: 1, commit: 5))
            try storage.sync()
        }
        let (_, recovered) = try RaftStorage.open(dataDirectory: directory.path, options: options)
        #expect(recovered.entries == entries)
        #expect(recovered.hardState.commit == 5)
    }

    /// Writes records of `sizes` into one segment; returns its path and each record's byte range.
    private func writeRecords(
        _ wal: String, options: SegmentedLog.Options, sizes: [Int]
    ) throws -> (String, [Range<Int>]) {
        try SegmentedLog.initializeDirectory(wal, firstIndex: 1, options: options)
        let (log, _) = try openLog(wal, options: options)
        var ranges: [Range<Int>] = []
        for (number, size) in sizes.enumerated() {
            let start = log.currentSegmentSizeBytes
            log.append(type: .testRecord, payload: testPayload(number, size: size))
            try log.sync()
            ranges.append(start..<log.currentSegmentSizeBytes)
        }
        return (log.segments[0].path, ranges)
    }

    @Test(arguments: [24, 61, 256])
    func tornTailOfARecordLargerThanTheWindowAtEveryCut(windowBytes: Int) throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        var options = SegmentedLog.Options.forTests
        options.preallocation = .none
        options.readWindowBytes = windowBytes
        let sizes = [100, 700, 50, 900]
        let (segment, ranges) = try writeRecords(wal, options: options, sizes: sizes)
        let pristine = RawFile.read(segment)
        let last = ranges[ranges.count - 1]
        let expected = (0..<3).map { testPayload($0, size: sizes[$0]) }
        for cut in stride(from: last.lowerBound + 1, to: last.upperBound, by: 7) {
            RawFile.write(segment, Array(pristine[..<cut]))
            let (log, records) = try openLog(wal, options: options)
            #expect(records.map(\.1) == expected, "cut at \(cut)")
            #expect(log.tornTail?.offsetBytes == last.lowerBound, "cut at \(cut)")
            #expect(log.tornTail?.discardedBytes == cut - last.lowerBound, "cut at \(cut)")
            #expect(RawFile.read(segment).count == last.lowerBound)
        }
    }

    @Test(arguments: [24, 61, 256])
    func tornTailInZeroFilledSpaceSeveralWindowsLong(windowBytes: Int) throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        var options = SegmentedLog.Options.forTests
        options.segmentSizeLimitBytes = 32 << 10
        options.readWindowBytes = windowBytes
        let sizes = [100, 700, 50, 900]
        let (segment, ranges) = try writeRecords(wal, options: options, sizes: sizes)
        let pristine = RawFile.read(segment)
        let last = ranges[ranges.count - 1]
        for cut in stride(from: last.lowerBound + 1, to: last.upperBound, by: 13) {
            var bytes = pristine
            for offset in cut..<last.upperBound { bytes[offset] = 0 }
            RawFile.write(segment, bytes)
            let (log, records) = try openLog(wal, options: options)
            #expect(records.count == 3, "cut at \(cut)")
            #expect(log.tornTail?.offsetBytes == last.lowerBound, "cut at \(cut)")
            #expect(log.tornTail?.discardedBytes == options.segmentSizeLimitBytes - last.lowerBound)
            #expect(RawFile.read(segment).count == options.segmentSizeLimitBytes, "preallocation restored")
        }
    }

    @Test func strayByteFarIntoZeroFilledSpaceIsATornTail() throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        var options = SegmentedLog.Options.forTests
        options.segmentSizeLimitBytes = 64 << 10
        options.readWindowBytes = 100
        let (segment, ranges) = try writeRecords(wal, options: options, sizes: [300, 300])
        RawFile.flipByte(segment, at: 60_001)
        let (log, records) = try openLog(wal, options: options)
        #expect(records.count == 2)
        #expect(log.tornTail?.offsetBytes == ranges[1].upperBound)
        #expect(log.tornTail?.problem == "zero record header followed by non-zero bytes")
        #expect(RawFile.read(segment)[ranges[1].upperBound...].allSatisfy { $0 == 0 })
    }

    /// A valid record planted far after a damaged one, at every offset across a window's width,
    /// so its header and its payload straddle the scan's window boundaries in every way; and a
    /// planted record larger than the window, whose checksum runs past the window.
    @Test(arguments: [(61, 40), (256, 40), (256, 2_000)])
    func validRecordWindowsAfterDamageIsCorruption(windowBytes: Int, plantedSize: Int) throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        var options = SegmentedLog.Options.forTests
        options.segmentSizeLimitBytes = 32 << 10
        options.readWindowBytes = windowBytes
        let (segment, ranges) = try writeRecords(wal, options: options, sizes: [200, 300, 400])
        var planted: [UInt8] = []
        testPayload(77, size: plantedSize).withUnsafeBytes {
            LogRecordFormat.appendRecord(type: .testRecord, payload: $0, to: &planted)
        }
        var pristine = RawFile.read(segment)
        pristine[ranges[2].lowerBound + 20] ^= 0x10
        let base = 20_000
        for plantAt in base..<(base + windowBytes + 1) {
            var bytes = pristine
            bytes.replaceSubrange(plantAt..<(plantAt + planted.count), with: planted)
            RawFile.write(segment, bytes)
            let error = storageError { _ = try openLog(wal, options: options) }
            guard case .corruptLog(let path, let offset, let problem) = error else {
                Issue.record("planted at \(plantAt): expected corruptLog, got \(String(describing: error))")
                return
            }
            #expect(path == segment && offset == ranges[2].lowerBound, "planted at \(plantAt)")
            #expect(problem.hasPrefix("checksum mismatch") && problem.hasSuffix("and valid records follow it"))
        }
        // The same damage with nothing planted is a torn tail.
        RawFile.write(segment, pristine)
        let (log, records) = try openLog(wal, options: options)
        #expect(records.count == 2)
        #expect(log.tornTail?.offsetBytes == ranges[2].lowerBound)
    }

    @Test func plantedRecordWithOneCorruptPayloadByteIsNotAValidRecord() throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        var options = SegmentedLog.Options.forTests
        options.segmentSizeLimitBytes = 32 << 10
        options.readWindowBytes = 64
        let (segment, ranges) = try writeRecords(wal, options: options, sizes: [200, 300])
        var planted: [UInt8] = []
        testPayload(5, size: 1_000).withUnsafeBytes {
            LogRecordFormat.appendRecord(type: .testRecord, payload: $0, to: &planted)
        }
        planted[planted.count - 1] ^= 1
        var bytes = RawFile.read(segment)
        bytes[ranges[1].lowerBound + 5] ^= 0x01
        bytes.replaceSubrange(10_003..<(10_003 + planted.count), with: planted)
        RawFile.write(segment, bytes)
        let (log, records) = try openLog(wal, options: options)
        #expect(records.count == 1)
        #expect(log.tornTail?.offsetBytes == ranges[1].lowerBound)
    }

    @Test func emptyRecordEndingExactlyAtTheEndOfTheFileAfterDamageIsCorruption() throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        var options = SegmentedLog.Options.forTests
        options.preallocation = .none
        options.readWindowBytes = 64
        let (segment, ranges) = try writeRecords(wal, options: options, sizes: [100, 200, 0])
        #expect(RawFile.read(segment).count == ranges[2].upperBound)
        RawFile.flipByte(segment, at: ranges[1].lowerBound + 50)
        let error = storageError { _ = try openLog(wal, options: options) }
        guard case .corruptLog(_, let offset, let problem) = error else {
            Issue.record("expected corruptLog, got \(String(describing: error))")
            return
        }
        #expect(offset == ranges[1].lowerBound)
        #expect(problem.hasSuffix("and valid records follow it"))
    }

    @Test func damageInAnOlderSegmentReadThroughASmallWindowIsRefused() throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        var options = SegmentedLog.Options.forTests
        options.segmentSizeLimitBytes = 16 << 10
        options.readWindowBytes = 64
        let (segment, ranges) = try writeRecords(wal, options: options, sizes: [500, 900, 300])
        do {
            let (log, _) = try openLog(wal, options: options)
            try log.rotate(firstIndex: 4)
            log.append(type: .testRecord, payload: [1])
            try log.sync()
        }
        RawFile.flipByte(segment, at: ranges[1].lowerBound + 600)
        let error = storageError { _ = try openLog(wal, options: options) }
        guard case .corruptLog(let path, let offset, let problem) = error else {
            Issue.record("expected corruptLog, got \(String(describing: error))")
            return
        }
        #expect(path == segment && offset == ranges[1].lowerBound)
        #expect(problem.hasSuffix("(in a segment that is not the newest)"))
        #expect(error!.description.contains("byte offset \(ranges[1].lowerBound)"))
    }

    // MARK: Agreement with the whole-file reader

    /// Damaged segments of every kind, read through windows from the smallest allowed to larger
    /// than the file: the windowed reader visits the same records and reaches the same verdict,
    /// with the same path, offset and problem text, as the whole-file reader.
    @Test(arguments: [SegmentedLog.Preallocation.none, .zeroFill])
    func windowedReadingAgreesWithTheWholeFileReader(preallocation: SegmentedLog.Preallocation) throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        var options = SegmentedLog.Options.forTests
        options.segmentSizeLimitBytes = 16 << 10
        options.preallocation = preallocation
        var random = SplitMix64(seed: preallocation == .none ? 7 : 8)
        let sizes = (0..<14).map { _ in Int.random(in: 0...1_200, using: &random) }
        let (path, ranges) = try writeRecords(wal, options: options, sizes: sizes)
        let pristine = RawFile.read(path)
        let recordsEnd = ranges[ranges.count - 1].upperBound
        var planted: [UInt8] = []
        testPayload(99, size: 150).withUnsafeBytes {
            LogRecordFormat.appendRecord(type: .testRecord, payload: $0, to: &planted)
        }
        let segment = SegmentedLog.Segment(sequence: 1, firstIndex: 1, path: path)
        var verdicts: Set<String> = []
        for round in 0..<160 {
            var bytes = pristine
            let victim = ranges[Int.random(in: 0..<ranges.count, using: &random)]
            switch round % 7 {
            case 0:
                bytes[Int.random(in: 0..<min(bytes.count, recordsEnd + 64), using: &random)] ^= UInt8.random(in: 1...255, using: &random)
            case 1:
                bytes.removeSubrange(Int.random(in: 0...bytes.count, using: &random)...)
            case 2:
                for offset in Int.random(in: victim, using: &random)..<recordsEnd { bytes[offset] = 0 }
            case 3:
                bytes[Int.random(in: victim, using: &random)] ^= 0x40
                if bytes.count < recordsEnd + planted.count + 2_000 { bytes.append(contentsOf: repeatElement(0, count: 3_000)) }
                let at = Int.random(in: recordsEnd...(bytes.count - planted.count), using: &random)
                bytes.replaceSubrange(at..<(at + planted.count), with: planted)
            case 4:
                bytes[Int.random(in: victim, using: &random)] ^= 0x01
                bytes.append(contentsOf: testPayload(round, size: Int.random(in: 1...40, using: &random)))
            case 5:
                // Header damage: length, tag or reserved bytes of one record.
                bytes[victim.lowerBound + [0, 1, 3, 8, 9, 11].randomElement(using: &random)!] ^= 0x80
            default:
                break
            }
            RawFile.write(path, bytes)
            for isNewest in [true, false] {
                let expected = bytes.withUnsafeBytes {
                    WholeFileReference.readSegment($0, segment: segment, isNewest: isNewest)
                }
                verdicts.insert(expected.verdict)
                for windowBytes in [24, 61, 256, 4_096, 1 << 20] {
                    let actual = windowedOutcome(segment: segment, isNewest: isNewest, windowBytes: windowBytes)
                    #expect(actual == expected, "round \(round), newest \(isNewest), window \(windowBytes)")
                }
            }
        }
        // The rounds reach every verdict: clean end, torn tail and corruption.
        #expect(verdicts == ["end", "torn", "corrupt"])
    }

    private func windowedOutcome(
        segment: SegmentedLog.Segment, isNewest: Bool, windowBytes: Int
    ) -> WholeFileReference.Outcome {
        var outcome = WholeFileReference.Outcome()
        do throws(StorageError) {
            let reader = try SegmentReader(path: segment.path, windowBytes: windowBytes)
            outcome.scan = try SegmentedLog.readSegment(reader, segment: segment, isNewest: isNewest) { type, payload, location in
                outcome.records.append(.init(type: type, payload: Array(payload), offsetBytes: location.offsetBytes))
            }
        } catch {
            outcome.error = error
        }
        return outcome
    }
}

/// The whole-file segment reader SegmentedLog.open used before it read through a window, kept
/// verbatim as the reference the windowed reader must agree with, with one deliberate change: a
/// candidate record may end exactly at the end of the file. The old loop stopped one byte short
/// of that, so an empty record ending the file was never seen as a valid record following damage.
enum WholeFileReference {
    struct Record: Equatable {
        var type: LogRecordType
        var payload: [UInt8]
        var offsetBytes: Int
    }

    struct Outcome: Equatable {
        var records: [Record] = []
        var scan: SegmentedLog.SegmentScan?
        var error: StorageError?

        var verdict: String { error != nil ? "corrupt" : scan?.tornTail != nil ? "torn" : "end" }
    }

    static func readSegment(_ bytes: UnsafeRawBufferPointer, segment: SegmentedLog.Segment, isNewest: Bool) -> Outcome {
        var outcome = Outcome()
        do throws(StorageError) {
            var offset = try checkHeader(bytes, segment: segment)
            while outcome.scan == nil {
                switch parse(bytes, at: offset) {
                case .endOfData:
                    outcome.scan = SegmentedLog.SegmentScan(validEndBytes: offset, tornTail: nil)
                case .record(let type, let payloadOffset, let payloadSize, let end):
                    if type == .segmentHeader {
                        throw .corruptLog(path: segment.path, offsetBytes: offset, problem: "a second segment header record")
                    }
                    let payload = Array(bytes[payloadOffset..<(payloadOffset + payloadSize)])
                    outcome.records.append(Record(type: type, payload: payload, offsetBytes: offset))
                    offset = end
                case .invalid(let problem):
                    if !isNewest {
                        throw .corruptLog(
                            path: segment.path, offsetBytes: offset, problem: problem + " (in a segment that is not the newest)")
                    }
                    if containsRecord(bytes, startingIn: (offset + 1)..<bytes.count) {
                        throw .corruptLog(path: segment.path, offsetBytes: offset, problem: problem + ", and valid records follow it")
                    }
                    let tornTail = SegmentedLog.TornTail(
                        path: segment.path, offsetBytes: offset, discardedBytes: bytes.count - offset, problem: problem)
                    outcome.scan = SegmentedLog.SegmentScan(validEndBytes: offset, tornTail: tornTail)
                }
            }
        } catch {
            outcome.error = error
        }
        return outcome
    }

    static func checkHeader(_ bytes: UnsafeRawBufferPointer, segment: SegmentedLog.Segment) throws(StorageError) -> Int {
        guard case .record(let type, let payloadOffset, let payloadSize, let end) = parse(bytes, at: 0) else {
            let problem: String
            if case .invalid(let text) = parse(bytes, at: 0) { problem = text } else { problem = "empty file" }
            throw .corruptLog(path: segment.path, offsetBytes: 0, problem: "no valid segment header: \(problem)")
        }
        guard type == .segmentHeader else {
            throw .corruptLog(path: segment.path, offsetBytes: 0, problem: "the first record is \(type), not a segment header")
        }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[payloadOffset..<(payloadOffset + payloadSize)])
        switch SegmentHeader.decode(payload) {
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

    static func parse(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> LogRecordFormat.Parsed {
        let headerSizeBytes = LogRecordFormat.headerSizeBytes
        let maximumPayloadBytes = LogRecordFormat.maximumPayloadBytes
        let remaining = bytes.count - offset
        if remaining == 0 { return .endOfData }
        if remaining < headerSizeBytes {
            if LogRecordFormat.isZero(bytes, from: offset) { return .endOfData }
            return .invalid(problem: "incomplete record header: only \(remaining) bytes before the end of the file")
        }
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        let storedChecksum = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        let typeWord = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
        if length == 0 && storedChecksum == 0 && typeWord == 0 {
            if LogRecordFormat.isZero(bytes, from: offset) { return .endOfData }
            return .invalid(problem: "zero record header followed by non-zero bytes")
        }
        if typeWord & 0xFF == 0 { return .invalid(problem: "record type tag is 0") }
        if typeWord >> 8 != 0 { return .invalid(problem: "reserved header bytes are not zero") }
        if length > maximumPayloadBytes {
            return .invalid(problem: "record length \(length) exceeds the maximum of \(maximumPayloadBytes) bytes")
        }
        if length > remaining - headerSizeBytes {
            return .invalid(
                problem: "incomplete record: \(length) payload bytes declared, \(remaining - headerSizeBytes) present")
        }
        let covered = UnsafeRawBufferPointer(rebasing: bytes[(offset + 8)..<(offset + headerSizeBytes + length)])
        let computedChecksum = CRC32C.checksum(covered)
        if computedChecksum != storedChecksum {
            return .invalid(
                problem: "checksum mismatch (stored \(hexadecimal8(storedChecksum)), computed \(hexadecimal8(computedChecksum)))")
        }
        return .record(
            type: LogRecordType(rawValue: UInt8(typeWord)), payloadOffsetBytes: offset + headerSizeBytes,
            payloadSizeBytes: length, endOffsetBytes: offset + headerSizeBytes + length)
    }

    static func containsRecord(_ bytes: UnsafeRawBufferPointer, startingIn range: Range<Int>) -> Bool {
        let headerSizeBytes = LogRecordFormat.headerSizeBytes
        // The one change from the old reader: `<=` here (a record may end at the end of the file).
        let lastCandidate = min(range.upperBound, bytes.count - headerSizeBytes)
        var offset = range.lowerBound
        while offset <= lastCandidate {
            if bytes[offset + 8] != 0 && bytes[offset + 9] == 0 && bytes[offset + 10] == 0 && bytes[offset + 11] == 0 {
                if case .record = parse(bytes, at: offset) { return true }
            }
            offset += 1
        }
        return false
    }
}
