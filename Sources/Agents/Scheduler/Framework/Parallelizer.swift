import Dispatch
import Synchronization

/// Parallelizer runs a loop over `0..<count` in chunks on up to `parallelism` threads at once
/// (kube-scheduler's parallelizer), and inline on the calling thread when one worker would do.
/// Workers take chunks in order from a shared counter, so with an early stop the work done is
/// close to a prefix of the range. The calling thread takes part and waits for the others.
public struct Parallelizer: Sendable {
    /// Threads working at once; 1 runs everything on the caller.
    public let parallelism: Int
    /// Smallest chunk handed to a worker: below this, a chunk costs more to hand out than to do.
    public let minimumChunk: Int

    public init(parallelism: Int, minimumChunk: Int = 128) {
        precondition(parallelism >= 1 && minimumChunk >= 1)
        self.parallelism = parallelism
        self.minimumChunk = minimumChunk
    }

    /// How many workers `run(count:_:)` uses for `count` items: what per-worker scratch needs.
    public func workers(for count: Int) -> Int {
        min(parallelism, max(1, count / minimumChunk))
    }

    /// Calls `body(worker, range)` for consecutive chunks covering `0..<count` until it returns
    /// false (stop: no further chunks are started; chunks already running finish). `worker` is in
    /// `0..<workers(for: count)`, and no two calls with the same worker overlap, so per-worker
    /// scratch needs no lock.
    public func run(count: Int, _ body: (_ worker: Int, _ range: Range<Int>) -> Bool) {
        guard count > 0 else { return }
        let workers = workers(for: count)
        // About four chunks per worker, so a slow worker does not hold up the others.
        let chunk = max(minimumChunk, (count + workers * 4 - 1) / (workers * 4))
        if workers == 1 {
            var start = 0
            while start < count {
                guard body(0, start..<min(count, start + chunk)) else { return }
                start += chunk
            }
            return
        }
        let shared = Shared()
        let chunks = (count + chunk - 1) / chunk
        withoutActuallyEscaping(body) { body in
            let work = UncheckedBody(body: body)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                while !shared.stopped.load(ordering: .relaxed) {
                    let index = shared.nextChunk.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard index < chunks else { return }
                    let start = index * chunk
                    if !work.body(worker, start..<min(count, start + chunk)) { shared.stopped.store(true, ordering: .relaxed) }
                }
            }
        }
    }

    /// The caller's loop body, handed to the worker threads.
    private struct UncheckedBody: @unchecked Sendable {
        // Safety of @unchecked Sendable: concurrentPerform returns only after every worker is
        // done, so the body never outlives the call; by the contract of `run`, the body only
        // reads what it shares and writes to per-worker scratch.
        let body: (Int, Range<Int>) -> Bool
    }

    private final class Shared: Sendable {
        let nextChunk = Atomic<Int>(0)
        let stopped = Atomic<Bool>(false)
    }
}
