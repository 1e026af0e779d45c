// SegmentedLog: round trips, rotation, torn tails and corruption.
import Foundation
import Testing

@testable import Raft

@Suite struct StorageSegmentedLogTests {
    @Test func crc32cMatchesTheStandardCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        let whole = testPayload(3, size: 1000)
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            let first = CRC32C.checksum(Array(whole[..<split]))
            #expect(CRC32C.checksum(Array(whole[split...]), continuing: first) == CRC32C.checksum(whole))
        }
    }

    @Test func crc32cInstructionAndTablesAgree() {
        // Every length around the 8-byte steps, at unaligned starts, continued from a prior state.
        let bytes = testPayload(11, size: 4096)
        for start in [0, 1, 3, 8] {
            for length in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4000] where start + length <= bytes.count {
                bytes[start..<start + length].withUnsafeBytes { slice in
                    #expect(CRC32C.checksum(slice) == CRC32C.portableChecksum(slice))
                    #expect(CRC32C.checksum(slice, continuing: 0xDEAD_BEEF) == CRC32C.portableChecksum(slice, continuing: 0xDEAD_BEEF))
                }
            }
        }
        Array("123456789".utf8).withUnsafeBytes { #expect(CRC32C.portableChecksum($0) == 0xE306_9283) }
    }

    @Test func appendSyncReopenRoundTrip() throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        try SegmentedLog.initializeDirectory(wal, firstIndex: 1, options: .forTests)
        let payloads = (0..<100).map { testPayload($0, size: $0 * 13 % 700) }
        do {
            let (log, records) = try openLog(wal)
            #expect(records.isEmpty)
            for (number, payload) in payloads.enumerated() {
                log.append(type: .testRecord, payload: payload)
                if number % 10 == 9 { try log.sync() }
            }
            #expect(log.bufferedBytes == 0)
        }
        let (log, records) = try openLog(wal)
        #expect(records.map(\.1) == payloads)
        #expect(records.allSatisfy { $0.0 == .testRecord })
        #expect(log.tornTail == nil)
        log.append(type: .testRecord, payload: [1, 2, 3])
        try log.sync()
        let (_, again) = try openLog(wal)
        #expect(again.map(\.1) == payloads + [[1, 2, 3]])
    }

    @Test func unsyncedRecordsAreNotWritten() throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        try SegmentedLog.initializeDirectory(wal, firstIndex: 1, options: .forTests)
        do {
            let (log, _) = try openLog(wal)
            log.append(type: .testRecord, payload: [1])
            try log.sync()
            log.append(type: .testRecord, payload: [2])
        }
        let (_, records) = try openLog(wal)
        #expect(records.map(\.1) == [[1]])
    }

    @Test(arguments: SegmentedLog.Preallocation.allCases)
    func rotationAcrossSegments(preallocation: SegmentedLog.Preallocation) throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        var options = SegmentedLog.Options.forTests
        options.segmentSizeLimitBytes = 4096
        options.preallocation = preallocation
        try SegmentedLog.initializeDirectory(wal, firstIndex: 1, options: options)
        let payloads = (0..<200).map { testPayload($0, size: 300) }
        do {
            let (log, _) = try openLog(wal, options: options)
            for (number, payload) in payloads.enumerated() {
                log.append(type: .testRecord, payload: payload)
                try log.sync()
                if log.isCurrentSegmentFull { try log.rotate(firstIndex: UInt64(number + 2)) }
            }
            #expect(log.segments.count > 10)
            #expect(log.segments.map(\.sequence) == Array(1...UInt64(log.segments.count)))
        }
        let names = RawFile.names(wal)
        #expect(names.first == "0000000000000001-0000000000000001.wal")
        #expect(names.allSatisfy { $0.hasSuffix(".wal") })
        let (log, records) = try openLog(wal, options: options)
        #expect(records.map(\.1) == payloads)
        try log.removeOldestSegments(count: 3)
        #expect(RawFile.names(wal).count == names.count - 3)
        let (_, remaining) = try openLog(wal, options: options)
        #expect(remaining.map(\.1) == Array(payloads.suffix(remaining.count)))
    }

    @Test func spareSegmentFileIsPreparedAtHalfAndTakenAtRotation() throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        var options = SegmentedLog.Options.forTests
        options.segmentSizeLimitBytes = 64 << 10
        try SegmentedLog.initializeDirectory(wal, firstIndex: 1, options: options)
        do {
            let (log, _) = try openLog(wal, options: options)
            log.append(type: .testRecord, payload: testPayload(1, size: 1000))
            try log.sync()
            #expect(!log.hasSpare, "no spare below half a segment")
            log.append(type: .testRecord, payload: testPayload(2, size: 40_000))
            try log.sync()
            #expect(log.hasSpare)
            log.append(type: .testRecord, payload: testPayload(3, size: 10))
            try log.rotate(firstIndex: 3)
            #expect(!log.hasSpare)
            #expect(RawFile.names(wal) == ["0000000000000001-0000000000000001.wal", "0000000000000002-0000000000000003.wal"])
            #expect(RawFile.read(wal + "/0000000000000002-0000000000000003.wal").count == options.segmentSizeLimitBytes)
            log.append(type: .testRecord, payload: testPayload(4, size: 40_000))
            try log.sync()
            #expect(log.hasSpare)
        }
        #expect(!RawFile.names(wal).contains { $0.hasSuffix(".tmp") }, "an untaken spare is removed with the log")
        let (_, records) = try openLog(wal, options: options)
        #expect(records.map(\.1) == [testPayload(1, size: 1000), testPayload(2, size: 40_000), testPayload(3, size: 10), testPayload(4, size: 40_000)])
    }

    @Test func rotationCarriesBufferedRecordsIntoTheNewSegment() throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        try SegmentedLog.initializeDirectory(wal, firstIndex: 1, options: .forTests)
        do {
            let (log, _) = try openLog(wal)
            log.append(type: .testRecord, payload: [1])
            try log.sync()
            log.append(type: .testRecord, payload: [2])
            try log.rotate(firstIndex: 7)
            #expect(log.bufferedBytes == 0)
        }
        #expect(RawFile.names(wal) == ["0000000000000001-0000000000000001.wal", "0000000000000002-0000000000000007.wal"])
        let (log, records) = try openLog(wal)
        #expect(records.map(\.1) == [[1], [2]])
        #expect(log.segments.last?.firstIndex == 7)
    }

    /// Writes `count` records of 300 bytes in one segment; returns the segment path and the byte
    /// range of the last record.
    private func writeSegment(_ wal: String, options: SegmentedLog.Options, count: Int) throws -> (String, Range<Int>) {
        try SegmentedLog.initializeDirectory(wal, firstIndex: 1, options: options)
        let (log, _) = try openLog(wal, options: options)
        for number in 0..<count - 1 {
            log.append(type: .testRecord, payload: testPayload(number, size: 300))
        }
        try log.sync()
        let lastStart = log.currentSegmentSizeBytes
        log.append(type: .testRecord, payload: testPayload(count - 1, size: 300))
        try log.sync()
        return (log.segments[0].path, lastStart..<log.currentSegmentSizeBytes)
    }

    @Test func tornTailTruncatedAtEveryByteOfTheLastRecord() throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        var options = SegmentedLog.Options.forTests
        options.preallocation = .none
        let (segment, last) = try writeSegment(wal, options: options, count: 5)
        let pristine = RawFile.read(segment)
        #expect(pristine.count == last.upperBound)
        let expected = (0..<4).map { testPayload($0, size: 300) }
        for cut in last.lowerBound..<last.upperBound {
            RawFile.write(segment, Array(pristine[..<cut]))
            let (log, records) = try openLog(wal, options: options)
            #expect(records.map(\.1) == expected, "cut at \(cut)")
            if cut == last.lowerBound {
                #expect(log.tornTail == nil)
            } else {
                #expect(log.tornTail?.offsetBytes == last.lowerBound, "cut at \(cut)")
                #expect(log.tornTail?.discardedBytes == cut - last.lowerBound)
            }
            // The log keeps working after the cut, and the new record survives a reopen.
            log.append(type: .testRecord, payload: [7, 7])
            try log.sync()
            let (_, after) = try openLog(wal, options: options)
            #expect(after.map(\.1) == expected + [[7, 7]], "cut at \(cut)")
        }
    }

    @Test func tornTailInPreallocatedSpaceAtEveryByteOfTheLastRecord() throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        var options = SegmentedLog.Options.forTests
        options.segmentSizeLimitBytes = 16 << 10
        options.preallocation = .fallocate
        let (segment, last) = try writeSegment(wal, options: options, count: 5)
        let pristine = RawFile.read(segment)
        #expect(pristine.count == options.segmentSizeLimitBytes)
        let expected = (0..<4).map { testPayload($0, size: 300) }
        for cut in last.lowerBound..<last.upperBound {
            // A write that reached the disk only up to `cut`: the rest reads as zeros.
            var bytes = pristine
            for offset in cut..<last.upperBound { bytes[offset] = 0 }
            RawFile.write(segment, bytes)
            let (log, records) = try openLog(wal, options: options)
            #expect(records.map(\.1) == expected, "cut at \(cut)")
            #expect((log.tornTail != nil) == (cut > last.lowerBound), "cut at \(cut)")
            #expect(RawFile.read(segment).count == options.segmentSizeLimitBytes, "preallocation restored")
        }
    }

    @Test func badChecksumOfTheLastRecordWithGarbageAfterIsATornTail() throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        var options = SegmentedLog.Options.forTests
        options.preallocation = .none
        let (segment, last) = try writeSegment(wal, options: options, count: 3)
        var bytes = RawFile.read(segment)
        bytes[last.lowerBound + 100] ^= 0xFF
        bytes.append(contentsOf: testPayload(99, size: 50))
        RawFile.write(segment, bytes)
        let (log, records) = try openLog(wal, options: options)
        #expect(records.count == 2)
        #expect(log.tornTail?.offsetBytes == last.lowerBound)
        #expect(log.tornTail?.problem.contains("checksum mismatch") == true)
        #expect(RawFile.read(segment).count == last.lowerBound)
    }

    @Test func flippedByteInTheMiddleOfTheNewestSegmentIsRefused() throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        let (segment, _) = try writeSegment(wal, options: .forTests, count: 10)
        // Record k starts at 44 + k * 312 (a 44-byte header record, then 12 + 300 per record).
        let recordStart = 44 + 4 * 312
        RawFile.flipByte(segment, at: recordStart + 150)
        let error = storageError { _ = try openLog(wal) }
        guard case .corruptLog(let path, let offset, _) = error else {
            Issue.record("expected corruptLog, got \(String(describing: error))")
            return
        }
        #expect(path == segment && offset == recordStart)
        let message = error?.description ?? ""
        #expect(message.contains(segment))
        #expect(message.contains("byte offset \(recordStart)"))
        #expect(message.contains("checksum mismatch"))
        #expect(message.contains("valid records follow"))
    }

    @Test func flippedLengthFieldIsRefused() throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        let (segment, _) = try writeSegment(wal, options: .forTests, count: 10)
        let recordStart = 44 + 2 * 312
        RawFile.flipByte(segment, at: recordStart + 3)
        let error = storageError { _ = try openLog(wal) }
        guard case .corruptLog(let path, let offset, let problem) = error else {
            Issue.record("expected corruptLog, got \(String(describing: error))")
            return
        }
        #expect(path == segment && offset == recordStart)
        #expect(problem.contains("exceeds the maximum"))
    }

    @Test func flippedByteInAnOlderSegmentIsRefusedEvenInItsLastRecord() throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        let (segment, last) = try writeSegment(wal, options: .forTests, count: 3)
        do {
            let (log, _) = try openLog(wal)
            try log.rotate(firstIndex: 4)
            log.append(type: .testRecord, payload: [1])
            try log.sync()
        }
        RawFile.flipByte(segment, at: last.upperBound - 1)
        let error = storageError { _ = try openLog(wal) }
        guard case .corruptLog(let path, let offset, let problem) = error else {
            Issue.record("expected corruptLog, got \(String(describing: error))")
            return
        }
        #expect(path == segment && offset == last.lowerBound)
        #expect(problem.contains("not the newest"))
    }

    @Test func truncatedOlderSegmentIsRefused() throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        var options = SegmentedLog.Options.forTests
        options.preallocation = .none
        let (segment, last) = try writeSegment(wal, options: options, count: 3)
        do {
            let (log, _) = try openLog(wal, options: options)
            try log.rotate(firstIndex: 4)
        }
        RawFile.write(segment, Array(RawFile.read(segment)[..<(last.upperBound - 1)]))
        let error = storageError { _ = try openLog(wal, options: options) }
        guard case .corruptLog(let path, let offset, _) = error else {
            Issue.record("expected corruptLog, got \(String(describing: error))")
            return
        }
        #expect(path == segment && offset == last.lowerBound)
    }

    @Test func missingSegmentIsRefused() throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        try SegmentedLog.initializeDirectory(wal, firstIndex: 1, options: .forTests)
        do {
            let (log, _) = try openLog(wal)
            for number in 0..<4 {
                log.append(type: .testRecord, payload: [UInt8(number)])
                try log.sync()
                try log.rotate(firstIndex: UInt64(number + 2))
            }
        }
        let names = RawFile.names(wal)
        #expect(names.count == 5)
        try FileManager.default.removeItem(atPath: wal + "/" + names[2])
        let error = storageError { _ = try openLog(wal) }
        guard case .inconsistentLayout(let path, let problem) = error else {
            Issue.record("expected inconsistentLayout, got \(String(describing: error))")
            return
        }
        #expect(path == wal)
        #expect(problem.contains("segment 0000000000000003 is missing"))
        #expect(error!.description.contains("refuses to start"))
    }

    @Test func segmentWhoseHeaderDisagreesWithItsNameIsRefused() throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        try SegmentedLog.initializeDirectory(wal, firstIndex: 1, options: .forTests)
        try FileManager.default.moveItem(
            atPath: wal + "/0000000000000001-0000000000000001.wal", toPath: wal + "/0000000000000001-0000000000000005.wal")
        let error = storageError { _ = try openLog(wal) }
        guard case .corruptLog(_, 0, let problem) = error else {
            Issue.record("expected corruptLog at 0, got \(String(describing: error))")
            return
        }
        #expect(problem.contains("does not match the file name"))
    }

    @Test func leftoverTemporarySegmentIsRemoved() throws {
        let directory = TemporaryDirectory()
        let wal = directory.child("wal")
        try SegmentedLog.initializeDirectory(wal, firstIndex: 1, options: .forTests)
        RawFile.write(wal + "/0000000000000002-0000000000000001.wal.tmp", [1, 2, 3])
        let (log, _) = try openLog(wal)
        #expect(log.segments.count == 1)
        #expect(RawFile.names(wal) == ["0000000000000001-0000000000000001.wal"])
    }

    @Test func emptyLogFolderIsRefused() throws {
        let directory = TemporaryDirectory()
        let error = storageError { _ = try openLog(directory.path) }
        guard case .inconsistentLayout = error else {
            Issue.record("expected inconsistentLayout, got \(String(describing: error))")
            return
        }
    }
}
