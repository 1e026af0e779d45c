import Api
import Foundation
import Synchronization
import Testing
import Wire

/// Polls `condition` every 20 ms until it holds or `seconds` pass; returns whether it held.
func clientEventually(seconds: Double = 20, _ condition: () async -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}

/// The work queue on its own: no processes, but real time (bounds are generous on purpose).
@Suite("Client work queue")
struct ClientWorkQueueTests {
    @Test("repeated adds collapse; a key added while processed comes back after done, once")
    func deduplication() async throws {
        let queue = WorkQueue<String>()
        for key in ["a", "b", "a", "c", "b", "a"] { queue.add(key) }
        #expect(queue.count == 3)
        let first = await queue.get()
        #expect(first == "a")
        queue.add("a")
        queue.add("a")
        #expect(queue.count == 2, "a key being processed is not queued again before done")
        #expect(await queue.get() == "b")
        #expect(await queue.get() == "c")
        #expect(queue.count == 0)
        queue.done("a")
        #expect(queue.count == 1)
        #expect(await queue.get() == "a")
        queue.done("a")
        queue.done("b")
        queue.done("c")
        #expect(queue.count == 0)
        queue.shutDown()
        #expect(await queue.get() == nil)
    }

    @Test("four workers never hold one key at once, and every key added is processed after its last add")
    func noConcurrentProcessing() async throws {
        final class Tally: Sendable {
            let inFlight = Mutex<Set<Int>>([])
            let overlaps = Atomic<Int>(0)
            let processed = Mutex<[Int: Int]>([:])
        }
        let queue = WorkQueue<Int>()
        let tally = Tally()
        let workers = (0..<4).map { _ in
            Task { [tally] in
                while let key = await queue.get() {
                    let fresh = tally.inFlight.withLock { $0.insert(key).inserted }
                    if !fresh { tally.overlaps.add(1, ordering: .relaxed) }
                    try? await Task.sleep(for: .microseconds(Int.random(in: 50...500)))
                    tally.inFlight.withLock { _ = $0.remove(key) }
                    tally.processed.withLock { $0[key, default: 0] += 1 }
                    queue.done(key)
                }
            }
        }
        for round in 0..<50 {
            for key in 0..<20 { queue.add(key) }
            if round % 10 == 0 { try await Task.sleep(for: .milliseconds(2)) }
        }
        let lastAdd = tally.processed.withLock { $0 }
        let drained = await clientEventually(seconds: 20) {
            let now = tally.processed.withLock { $0 }
            return queue.count == 0 && tally.inFlight.withLock { $0.isEmpty }
                && (0..<20).allSatisfy { now[$0, default: 0] > 0 && now[$0, default: 0] >= lastAdd[$0, default: 0] }
        }
        queue.shutDown()
        for worker in workers { await worker.value }
        #expect(drained)
        #expect(tally.overlaps.load(ordering: .relaxed) == 0, "one key was handed to two workers at once")
        let total = tally.processed.withLock { $0.values.reduce(0, +) }
        #expect(total < 20 * 50, "repeated adds collapse: \(total) runs for 1000 adds")
    }

    @Test("rate-limited adds back off exponentially per key, forget resets, the token bucket spaces bursts")
    func rateLimitedBackOff() async throws {
        var configuration = WorkQueue<String>.Configuration()
        configuration.baseDelayNanoseconds = 20_000_000
        let queue = WorkQueue<String>(configuration: configuration)
        // 20, 40, 80, 160, 320 ms: each wait is at least its delay. No upper bound: the machine is
        // shared, and a late wake-up is not a wrong answer.
        for failures in 0..<5 {
            let expected = 20.0 * Double(1 << failures) / 1000
            let start = Date()
            queue.addRateLimited("key")
            #expect(queue.count == 0, "a rate-limited add waits")
            let key = await queue.get()
            let waited = Date().timeIntervalSince(start)
            #expect(key == "key")
            #expect(waited >= expected * 0.9, "failure \(failures): waited \(waited) s, expected \(expected) s")
            queue.done("key")
        }
        #expect(queue.requeueCount("key") == 5)
        queue.forget("key")
        #expect(queue.requeueCount("key") == 0)
        queue.addRateLimited("key")
        #expect(queue.requeueCount("key") == 1, "after forget the back-off starts from the base again")
        _ = await queue.get()
        queue.done("key")

        // A bucket of 5 at 20 per second: 15 keys need about (15 - 5) / 20 = 0.5 s.
        var bucketConfiguration = WorkQueue<Int>.Configuration()
        bucketConfiguration.baseDelayNanoseconds = 1
        bucketConfiguration.bucketQueriesPerSecond = 20
        bucketConfiguration.bucketBurst = 5
        let bucketQueue = WorkQueue<Int>(configuration: bucketConfiguration)
        let bucketStart = Date()
        for key in 0..<15 { bucketQueue.addRateLimited(key) }
        for _ in 0..<15 {
            let key = await bucketQueue.get()
            #expect(key != nil)
            if let key { bucketQueue.done(key) }
        }
        let elapsed = Date().timeIntervalSince(bucketStart)
        #expect(elapsed >= 0.4, "the token bucket let 15 adds through in \(elapsed) s")
        queue.shutDown()
        bucketQueue.shutDown()
    }

    @Test("addAfter keeps the earlier deadline; shutdown wakes waiting workers with nil")
    func delayedAddsAndShutdown() async throws {
        let queue = WorkQueue<String>()
        let start = Date()
        queue.addAfter("late", delayNanoseconds: 10_000_000_000)
        queue.addAfter("late", delayNanoseconds: 50_000_000)
        #expect(await queue.get() == "late")
        #expect(Date().timeIntervalSince(start) < 5)
        queue.done("late")
        let waiter = Task { await queue.get() }
        try await Task.sleep(for: .milliseconds(50))
        queue.shutDown()
        #expect(await waiter.value == nil)
        queue.add("ignored")
        #expect(queue.count == 0)
    }
}
