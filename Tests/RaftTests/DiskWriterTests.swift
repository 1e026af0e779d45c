// DiskWriter: what it syncs, and what a graceful stop leaves on disk.
import Logging
import Synchronization
import Testing
import Wire

@testable import Raft

@Suite("Store: the disk writer")
struct DiskWriterTests {
    private func entries(_ range: ClosedRange<UInt64>) -> [Entry] {
        range.map { Entry(term: 1, index: $0, type: .normal, data: testPayload(Int($0), size: 32)) }
    }

    private func ready(_ sequence: UInt64, entries: [Entry] = [], hardState: HardState?) -> Ready {
        var ready = Ready(sequence: sequence)
        ready.entries = entries
        ready.hardState = hardState
        return ready
    }

    /// Runs `jobs` through a writer, waits for each to complete, then stops it; returns the
    /// number of fdatasyncs.
    private func write(_ jobs: [Ready], in directory: String) async throws -> Int {
        let (storage, _) = try RaftStorage.open(dataDirectory: directory, options: .forTests)
        let loop = EventLoop(name: "disk-writer-test")
        defer { loop.shutdown() }
        let writer = DiskWriter(storage: storage, loop: loop, logger: Logger(label: "test"))
        writer.start()
        for job in jobs {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                writer.enqueue(.persist(job)) { done.resume() }
            }
        }
        let syncs = writer.syncCount.load(ordering: .relaxed)
        writer.stop()
        return syncs
    }

    @Test("entries and a vote are synced; a commit index alone is not, and a graceful stop still writes it")
    func commitOnlyHardStateIsWrittenAtStop() async throws {
        let directory = TemporaryDirectory()
        let syncs = try await write(
            [
                ready(1, entries: entries(1...5), hardState: HardState(term: 1, vote: 1, commit: 0)),
                ready(2, hardState: HardState(term: 1, vote: 1, commit: 5)),
            ], in: directory.path)
        #expect(syncs == 1, "the commit-only hard state made a sync of its own")
        let (_, recovered) = try RaftStorage.open(dataDirectory: directory.path, options: .forTests)
        #expect(recovered.entries == entries(1...5))
        #expect(recovered.hardState == HardState(term: 1, vote: 1, commit: 5))
    }

    @Test("a new term is synced before its job completes")
    func termChangeIsSynced() async throws {
        let directory = TemporaryDirectory()
        let syncs = try await write(
            [
                ready(1, entries: entries(1...2), hardState: HardState(term: 1, vote: 1, commit: 2)),
                ready(2, hardState: HardState(term: 2, vote: 3, commit: 2)),
            ], in: directory.path)
        #expect(syncs == 2)
    }
}
