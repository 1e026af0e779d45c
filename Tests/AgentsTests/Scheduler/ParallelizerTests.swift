// Parallelizer: every item once, per-worker exclusivity, early stop, and no waiting for helpers
// that have not started.
import Foundation
import Synchronization
import Testing

@testable import Agents

@Suite("Scheduler: the parallelizer")
struct ParallelizerTests {
    /// Records which items each call covered and whether two calls of one worker overlapped.
    final class Record: @unchecked Sendable {
        // Safety of @unchecked Sendable: every field is behind `lock`.
        private let lock = Mutex<(covered: [Int], busy: Set<Int>, overlaps: Int, workers: Set<Int>)>(([], [], 0, []))

        func enter(_ worker: Int) {
            lock.withLock { state in
                if !state.busy.insert(worker).inserted { state.overlaps += 1 }
                state.workers.insert(worker)
            }
        }

        func leave(_ worker: Int, _ range: Range<Int>) {
            lock.withLock { state in
                state.busy.remove(worker)
                state.covered.append(contentsOf: range)
            }
        }

        var covered: [Int] { lock.withLock { $0.covered } }
        var overlaps: Int { lock.withLock { $0.overlaps } }
        var workers: Set<Int> { lock.withLock { $0.workers } }
    }

    @Test("every item is covered exactly once, by workers in range, one call per worker at a time", arguments: [1, 2, 4, 8])
    func coversEveryItemOnce(parallelism: Int) {
        let parallelizer = Parallelizer(parallelism: parallelism, minimumChunk: 16)
        for count in [0, 1, 15, 16, 17, 1000, 4099] {
            let record = Record()
            parallelizer.run(count: count) { worker, range in
                record.enter(worker)
                var sum = 0
                for item in range { sum &+= item * item }  // some work, so that helpers join
                record.leave(worker, range)
                return sum >= 0
            }
            #expect(record.covered.sorted() == Array(0..<count), "count \(count)")
            #expect(record.overlaps == 0)
            #expect(record.workers.allSatisfy { $0 >= 0 && $0 < parallelizer.workers(for: count) })
        }
    }

    @Test("a body that returns false stops the handing out of chunks")
    func earlyStop() {
        let parallelizer = Parallelizer(parallelism: 4, minimumChunk: 10)
        let calls = Atomic<Int>(0)
        parallelizer.run(count: 10_000) { _, _ in
            calls.add(1, ordering: .relaxed)
            return false
        }
        // Each worker may have had one chunk running when the first said stop.
        #expect(calls.load(ordering: .relaxed) <= 4)
        #expect(calls.load(ordering: .relaxed) >= 1)
    }

    @Test("the caller does not wait for helpers that have not started; those that start late do nothing")
    func lateHelpersAreNotWaitedFor() {
        var parallelizer = Parallelizer(parallelism: 4, minimumChunk: 8)
        let held = Mutex<[@Sendable () -> Void]>([])
        parallelizer.launch = { job in held.withLock { $0.append(job) } }  // no helper runs yet
        let record = Record()
        parallelizer.run(count: 1000) { worker, range in
            record.enter(worker)
            record.leave(worker, range)
            return true
        }
        // The caller did all the work alone and returned.
        #expect(record.covered.sorted() == Array(0..<1000))
        #expect(record.workers == [0])
        let late = held.withLock { $0 }
        #expect(late.count == 3)
        for job in late { job() }  // they find the run closed and never call the body
        #expect(record.covered.count == 1000)
    }

    @Test("helpers that do start share the work with the caller")
    func helpersJoin() {
        var parallelizer = Parallelizer(parallelism: 2, minimumChunk: 1)
        parallelizer.launch = { job in Thread { job() }.start() }  // a helper on a thread of its own
        let record = Record()
        let firstCall = Atomic<Bool>(true)
        parallelizer.run(count: 64) { worker, range in
            record.enter(worker)
            record.leave(worker, range)
            // The caller's first chunk lingers until the helper has done one (the run cannot
            // close meanwhile), so that both take part however busy the machine is.
            if worker == 0 && firstCall.exchange(false, ordering: .relaxed) {
                let deadline = Date().addingTimeInterval(10)
                while !record.workers.contains(1) && Date() < deadline { usleep(200) }
            }
            return true
        }
        #expect(record.covered.sorted() == Array(0..<64))
        #expect(record.workers == [0, 1])
    }
}
