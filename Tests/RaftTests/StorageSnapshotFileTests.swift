// SnapshotFile: write, load, damage.
import Foundation
import Testing

@testable import Raft

@Suite struct StorageSnapshotFileTests {
    private func sample(term: UInt64 = 3, index: UInt64 = 42) -> SnapshotFile {
        SnapshotFile(term: term, index: index, metadata: [1, 2, 3, 4], data: testPayload(5, size: 10_000))
    }

    @Test func writeThenReadReturnsTheSameSnapshot() throws {
        let directory = TemporaryDirectory()
        let path = try sample().write(to: directory.path)
        #expect(path == directory.path + "/0000000000000003-000000000000002a.snap")
        #expect(RawFile.names(directory.path) == ["0000000000000003-000000000000002a.snap"])
        #expect(try SnapshotFile.read(path: path) == sample())
    }

    @Test func emptyDataAndMetadataRoundTrip() throws {
        let directory = TemporaryDirectory()
        let empty = SnapshotFile(term: 1, index: 1, metadata: [], data: [])
        #expect(try SnapshotFile.read(path: empty.write(to: directory.path)) == empty)
    }

    @Test func everyFlippedByteIsDetected() throws {
        let directory = TemporaryDirectory()
        let small = SnapshotFile(term: 2, index: 9, metadata: [9, 9], data: testPayload(1, size: 64))
        let path = try small.write(to: directory.path)
        let pristine = RawFile.read(path)
        for offset in 0..<pristine.count {
            var bytes = pristine
            bytes[offset] ^= 0x01
            RawFile.write(path, bytes)
            let error = storageError { _ = try SnapshotFile.read(path: path) }
            guard case .corruptSnapshot(let reportedPath, _) = error else {
                Issue.record("flip at \(offset) not detected: \(String(describing: error))")
                continue
            }
            #expect(reportedPath == path)
        }
    }

    @Test func truncatedFileIsDetected() throws {
        let directory = TemporaryDirectory()
        let path = try sample().write(to: directory.path)
        let bytes = RawFile.read(path)
        for size in [0, 10, 40, bytes.count / 2, bytes.count - 1] {
            RawFile.write(path, Array(bytes[..<size]))
            let error = storageError { _ = try SnapshotFile.read(path: path) }
            guard case .corruptSnapshot = error else {
                Issue.record("truncation to \(size) not detected")
                continue
            }
            #expect(error!.description.contains(path))
        }
    }

    @Test func renamedFileIsDetected() throws {
        let directory = TemporaryDirectory()
        let path = try sample().write(to: directory.path)
        let renamed = directory.path + "/0000000000000003-0000000000000099.snap"
        try FileManager.default.moveItem(atPath: path, toPath: renamed)
        let error = storageError { _ = try SnapshotFile.read(path: renamed) }
        guard case .corruptSnapshot(_, let problem) = error else {
            Issue.record("expected corruptSnapshot, got \(String(describing: error))")
            return
        }
        #expect(problem.contains("file name"))
    }

    @Test func listOrdersByIndexAndSkipsOtherFiles() throws {
        let directory = TemporaryDirectory()
        try sample(term: 5, index: 100).write(to: directory.path)
        try sample(term: 9, index: 20).write(to: directory.path)
        try sample(term: 2, index: 300).write(to: directory.path)
        RawFile.write(directory.path + "/0000000000000002-0000000000000400.snap.tmp", [1])
        RawFile.write(directory.path + "/notes.txt", [1])
        let listings = try SnapshotFile.list(directory: directory.path)
        #expect(listings.map(\.index) == [20, 100, 300])
        #expect(try SnapshotFile.temporaryFiles(directory: directory.path).count == 1)
    }
}
