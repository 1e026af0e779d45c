// RaftStorage: what a member gets back after a restart.
import Foundation
import Testing
import Wire

@testable import Raft

@Suite struct StorageRaftStorageTests {
    private func entries(_ range: ClosedRange<UInt64>, term: UInt64, size: Int = 40) -> [Entry] {
        range.map { Entry(term: term, index: $0, type: .normal, data: testPayload(Int($0 * 10 + term), size: size)) }
    }

    private func smallSegments() -> RaftStorage.Options {
        var options = RaftStorage.Options.forTests
        options.log.segmentSizeLimitBytes = 4096
        options.log.preallocation = .none
        return options
    }

    @Test func emptyDirectoryRecoversNothing() throws {
        let directory = TemporaryDirectory()
        let dataDirectory = directory.child("member")
        let (storage, recovered) = try RaftStorage.open(dataDirectory: dataDirectory, options: .forTests)
        #expect(recovered.hardState == HardState())
        #expect(recovered.snapshot == nil)
        #expect(recovered.entries.isEmpty)
        #expect(storage.lastIndex == 0)
        #expect(RawFile.names(dataDirectory) == ["LOCK", "snap", "wal"])
    }

    @Test func entriesAndHardStateSurviveAReopen() throws {
        let directory = TemporaryDirectory()
        do {
            let (storage, _) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
            storage.append(entries(1...10, term: 1))
            storage.setHardState(HardState(term: 1, vote: 2, commit: 8))
            try storage.sync()
            storage.append(entries(11...12, term: 1))
            // Not synced: lost, like a crash before the fdatasync.
        }
        let (storage, recovered) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
        #expect(recovered.entries == entries(1...10, term: 1))
        #expect(recovered.hardState == HardState(term: 1, vote: 2, commit: 8))
        #expect(storage.lastIndex == 10)
    }

    @Test func onlyATermOrVoteChangeMustBeSynced() throws {
        let directory = TemporaryDirectory()
        do {
            let (storage, _) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
            #expect(storage.setHardState(HardState(term: 1, vote: 1, commit: 0)))
            storage.append(entries(1...10, term: 1))
            try storage.sync()
            // The commit index alone is a hint: buffered, not a reason to sync…
            #expect(!storage.setHardState(HardState(term: 1, vote: 1, commit: 10)))
            #expect(!storage.setHardState(HardState(term: 1, vote: 1, commit: 10)))
            #expect(storage.setHardState(HardState(term: 2, vote: 1, commit: 10)))
            #expect(storage.setHardState(HardState(term: 2, vote: 3, commit: 10)))
            #expect(!storage.setHardState(HardState(term: 2, vote: 3, commit: 9)))
            try storage.sync()
            // …and one left unsynced is lost with a crash, leaving the last synced one.
            #expect(!storage.setHardState(HardState(term: 2, vote: 3, commit: 10)))
        }
        let (_, recovered) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
        #expect(recovered.hardState == HardState(term: 2, vote: 3, commit: 9))
        #expect(recovered.entries == entries(1...10, term: 1))
    }

    @Test func conflictingAppendReplacesTheSuffixOnReplay() throws {
        let directory = TemporaryDirectory()
        do {
            let (storage, _) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
            storage.append(entries(1...10, term: 1))
            try storage.sync()
            storage.append(entries(6...8, term: 2))
            storage.setHardState(HardState(term: 2, vote: 3, commit: 5))
            try storage.sync()
            #expect(storage.lastIndex == 8)
        }
        let (_, recovered) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
        #expect(recovered.entries == entries(1...5, term: 1) + entries(6...8, term: 2))
    }

    @Test func overwriteBelowTheSnapshotStillTruncatesTheOldSuffix() throws {
        let directory = TemporaryDirectory()
        do {
            let (storage, _) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
            storage.append(entries(1...20, term: 1))
            try storage.sync()
            // A new leader replaces 10... with a shorter log; then the member compacts through 12.
            storage.append(entries(10...12, term: 2))
            try storage.sync()
            try storage.saveSnapshot(metadata: SnapshotMetadata(index: 12, term: 2), data: [12], replacesLog: false)
        }
        let (storage, recovered) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
        #expect(recovered.snapshot?.metadata?.index == 12)
        #expect(recovered.entries.isEmpty, "entries 13...20 of term 1 were overwritten before the snapshot")
        #expect(storage.lastIndex == 12)
    }

    /// A local compaction whose file another thread wrote: recorded like saveSnapshot's, and
    /// dropped (its older file removed) when a snapshot from the leader was installed meanwhile.
    @Test func snapshotWrittenElsewhereIsRecordedOrDropped() throws {
        let directory = TemporaryDirectory()
        let snapshots = RaftStorage.snapshotDirectory(of: directory.path)
        do {
            let (storage, _) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
            storage.append(entries(1...20, term: 1))
            try storage.sync()
            let local = SnapshotMetadata(index: 12, term: 1)
            try RaftStorage.snapshotFile(local, data: [12]).write(to: snapshots)
            #expect(try storage.recordWrittenSnapshot(local))
            #expect(storage.snapshotIndex == 12)
            // Written while the leader's snapshot at 30 replaced the log: not recorded, file gone.
            let stale = SnapshotMetadata(index: 15, term: 1)
            try RaftStorage.snapshotFile(stale, data: [15]).write(to: snapshots)
            try storage.saveSnapshot(metadata: SnapshotMetadata(index: 30, term: 2), data: [30], replacesLog: true)
            #expect(try storage.recordWrittenSnapshot(stale) == false)
            #expect(storage.snapshotIndex == 30)
            #expect(!RawFile.names(snapshots).contains(SnapshotFile.fileName(term: 1, index: 15)))
        }
        let (storage, recovered) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
        #expect(recovered.snapshot?.metadata?.index == 30)
        #expect(recovered.snapshot?.data == [30])
        #expect(storage.lastIndex == 30)
    }

    @Test func dataDirectoryInUseIsRefused() throws {
        let directory = TemporaryDirectory()
        let (storage, _) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
        let error = storageError { _ = try RaftStorage.open(dataDirectory: directory.path, options: .forTests) }
        guard case .directoryInUse(let path, _) = error else {
            Issue.record("expected directoryInUse, got \(String(describing: error))")
            return
        }
        #expect(path == directory.path)
        _ = storage
    }

    @Test func compactionRemovesCoveredSegmentsAndOldSnapshots() throws {
        let directory = TemporaryDirectory()
        let options = smallSegments()
        var hardState = HardState(term: 1, vote: 1, commit: 0)
        do {
            let (storage, _) = try RaftStorage.open(dataDirectory: directory.path, options: options)
            for index in UInt64(1)...300 {
                storage.append(entries(index...index, term: 1))
                hardState.commit = index - 1
                storage.setHardState(hardState)
                try storage.sync()
                if index % 100 == 0 {
                    let metadata = SnapshotMetadata(confState: ConfState(voters: [1, 2, 3]), index: index - 10, term: 1)
                    try storage.saveSnapshot(metadata: metadata, data: [UInt8(index / 100)], replacesLog: false)
                }
            }
            // Two snapshots kept (190 and 290); segments wholly below 191 gone.
            #expect(RawFile.names(directory.child("snap")).count == 2)
            #expect(storage.segments.first!.firstIndex <= 191)
            #expect(storage.segments.count > 1)
            #expect(storage.segments.dropFirst().allSatisfy { $0.firstIndex > 191 })
            #expect(storage.segments.first!.sequence > 1)
        }
        let (storage, recovered) = try RaftStorage.open(dataDirectory: directory.path, options: options)
        #expect(recovered.snapshot?.metadata == SnapshotMetadata(confState: ConfState(voters: [1, 2, 3]), index: 290, term: 1))
        #expect(recovered.snapshot?.data == [3])
        #expect(recovered.entries == entries(291...300, term: 1))
        #expect(recovered.hardState == hardState)
        #expect(storage.lastIndex == 300)
        #expect(storage.snapshotIndex == 290)
    }

    @Test func hardStateWrittenOnceSurvivesTheRemovalOfItsSegment() throws {
        let directory = TemporaryDirectory()
        let options = smallSegments()
        let hardState = HardState(term: 4, vote: 2, commit: 1)
        do {
            let (storage, _) = try RaftStorage.open(dataDirectory: directory.path, options: options)
            storage.append(entries(1...1, term: 4))
            storage.setHardState(hardState)
            try storage.sync()
            for index in UInt64(2)...200 {
                storage.append(entries(index...index, term: 4))
                try storage.sync()
            }
            try storage.saveSnapshot(metadata: SnapshotMetadata(index: 150, term: 4), data: [], replacesLog: false)
            try storage.saveSnapshot(metadata: SnapshotMetadata(index: 190, term: 4), data: [], replacesLog: false)
            #expect(storage.segments.first!.sequence > 1, "the segment holding the only hard state record is gone")
        }
        let (_, recovered) = try RaftStorage.open(dataDirectory: directory.path, options: options)
        #expect(recovered.hardState == hardState, "each new segment starts with the current hard state")
        #expect(recovered.entries == entries(191...200, term: 4))
    }

    @Test func commitIndexBeyondTheLogIsRefused() throws {
        let directory = TemporaryDirectory()
        do {
            let (storage, _) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
            storage.append(entries(1...3, term: 1))
            try storage.sync()
            // A hard state that claims more than the log holds cannot come from a correct driver
            // and disk; storage refuses it rather than hand Raft a commit it cannot back.
            storage.setHardState(HardState(term: 1, vote: 1, commit: 9))
            try storage.sync()
        }
        let error = storageError { _ = try RaftStorage.open(dataDirectory: directory.path, options: .forTests) }
        guard case .inconsistentLayout(_, let problem) = error else {
            Issue.record("expected inconsistentLayout, got \(String(describing: error))")
            return
        }
        #expect(problem.contains("commits index 9"))
    }

    @Test func installedSnapshotDiscardsTheLog() throws {
        let directory = TemporaryDirectory()
        do {
            let (storage, _) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
            storage.append(entries(1...10, term: 1))
            try storage.sync()
            try storage.saveSnapshot(metadata: SnapshotMetadata(index: 7, term: 3), data: [7], replacesLog: true)
            #expect(storage.lastIndex == 7)
        }
        do {
            let (storage, recovered) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
            #expect(recovered.snapshot?.metadata?.index == 7)
            #expect(recovered.entries.isEmpty)
            storage.append(entries(8...9, term: 3))
            try storage.sync()
        }
        let (_, recovered) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
        #expect(recovered.entries == entries(8...9, term: 3))
    }

    @Test func snapshotFileWithoutItsLogRecordKeepsOnlyAMatchingSuffix() throws {
        let directory = TemporaryDirectory()
        do {
            let (storage, _) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
            storage.append(entries(1...10, term: 1))
            try storage.sync()
        }
        // A crash after the snapshot file was written but before its log record was synced.
        let metadata = SnapshotMetadata(index: 5, term: 2)
        try SnapshotFile(term: 2, index: 5, metadata: metadata.protobufBytes(), data: [5]).write(to: directory.child("snap"))
        let (storage, recovered) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
        #expect(recovered.snapshot?.metadata == metadata)
        #expect(recovered.entries.isEmpty, "entry 5 has term 1, the snapshot says 2: entries after it are not its future")
        #expect(storage.lastIndex == 5)
    }

    @Test func corruptNewestSnapshotIsRefused() throws {
        let directory = TemporaryDirectory()
        do {
            let (storage, _) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
            storage.append(entries(1...20, term: 1))
            try storage.sync()
            try storage.saveSnapshot(metadata: SnapshotMetadata(index: 5, term: 1), data: [5], replacesLog: false)
            try storage.saveSnapshot(metadata: SnapshotMetadata(index: 10, term: 1), data: [10], replacesLog: false)
        }
        let newest = directory.child("snap/0000000000000001-000000000000000a.snap")
        RawFile.flipByte(newest, at: 41)
        let error = storageError { _ = try RaftStorage.open(dataDirectory: directory.path, options: .forTests) }
        guard case .corruptSnapshot(let path, _) = error else {
            Issue.record("expected corruptSnapshot, got \(String(describing: error))")
            return
        }
        #expect(path == newest)
        // The operator moves it aside: the older snapshot plus the log still cover everything.
        try FileManager.default.moveItem(atPath: newest, toPath: directory.child("damaged.snap"))
        let (_, recovered) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
        #expect(recovered.snapshot?.metadata?.index == 5)
        #expect(recovered.entries == entries(6...20, term: 1))
    }

    @Test func missingInstalledSnapshotIsRefused() throws {
        let directory = TemporaryDirectory()
        do {
            let (storage, _) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
            storage.append(entries(1...3, term: 1))
            try storage.sync()
            try storage.saveSnapshot(metadata: SnapshotMetadata(index: 50, term: 4), data: [50], replacesLog: true)
        }
        try FileManager.default.removeItem(atPath: directory.child("snap/0000000000000004-0000000000000032.snap"))
        let error = storageError { _ = try RaftStorage.open(dataDirectory: directory.path, options: .forTests) }
        guard case .inconsistentLayout(_, let problem) = error else {
            Issue.record("expected inconsistentLayout, got \(String(describing: error))")
            return
        }
        #expect(problem.contains("0000000000000004-0000000000000032.snap"))
    }

    @Test func missingWriteAheadLogWithSnapshotsIsRefused() throws {
        let directory = TemporaryDirectory()
        do {
            let (storage, _) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
            storage.append(entries(1...3, term: 1))
            try storage.sync()
            try storage.saveSnapshot(metadata: SnapshotMetadata(index: 2, term: 1), data: [], replacesLog: false)
        }
        try FileManager.default.removeItem(atPath: directory.child("wal"))
        let error = storageError { _ = try RaftStorage.open(dataDirectory: directory.path, options: .forTests) }
        guard case .inconsistentLayout(_, let problem) = error else {
            Issue.record("expected inconsistentLayout, got \(String(describing: error))")
            return
        }
        #expect(problem.contains("write-ahead log folder"))
    }

    @Test func tornTailOfTheLastBatchIsDroppedOnOpen() throws {
        let directory = TemporaryDirectory()
        var options = RaftStorage.Options.forTests
        options.log.preallocation = .none
        do {
            let (storage, _) = try RaftStorage.open(dataDirectory: directory.path, options: options)
            storage.append(entries(1...5, term: 1))
            try storage.sync()
            storage.append(entries(6...6, term: 1, size: 300))
            try storage.sync()
        }
        let segment = directory.child("wal/0000000000000001-0000000000000001.wal")
        let bytes = RawFile.read(segment)
        RawFile.write(segment, Array(bytes[..<(bytes.count - 100)]))
        let (storage, recovered) = try RaftStorage.open(dataDirectory: directory.path, options: options)
        #expect(recovered.entries == entries(1...5, term: 1))
        #expect(recovered.tornTail?.path == segment)
        #expect(storage.lastIndex == 5)
    }

    @Test func corruptEntryInTheMiddleIsRefused() throws {
        let directory = TemporaryDirectory()
        do {
            let (storage, _) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
            storage.append(entries(1...10, term: 1))
            try storage.sync()
        }
        let segment = directory.child("wal/0000000000000001-0000000000000001.wal")
        RawFile.flipByte(segment, at: 200)
        let error = storageError { _ = try RaftStorage.open(dataDirectory: directory.path, options: .forTests) }
        guard case .corruptLog(let path, _, _) = error else {
            Issue.record("expected corruptLog, got \(String(describing: error))")
            return
        }
        #expect(path == segment)
    }
}
