import Dispatch
import Synchronization

/// Parallelizer runs a loop over `0..<count` in chunks on up to `parallelism` threads at once
/// (kube-scheduler's parallelizer), and inline on the calling thread when one worker would do.
/// Workers take chunks in order from a shared counter, so with an early stop the work done is
/// close to a prefix of the range. The calling thread takes part, and waits only for helpers that
/// are inside a chunk (see `run`).
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
    ///
    /// The caller works through the chunks itself and asks up to `workers - 1` helper threads to
    /// join; it never waits for a helper that has not started. On a busy machine (the scheduler
    /// shares its cores with the control plane) a helper may start milliseconds late: waiting for
    /// it, as `DispatchQueue.concurrentPerform` does for every iteration, held the scheduling
    /// thread idle for that long. The caller waits only for helpers that are inside a chunk; one
    /// that starts after the last chunk was taken leaves without touching `body`.
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
        withoutActuallyEscaping(body) { body in
            let shared = Shared(count: count, chunk: chunk, body: body)
            for worker in 1..<workers {
                launch { shared.help(worker: worker) }
            }
            shared.work(worker: 0, body)
            shared.closeAndWait()
        }
    }

    /// Starts a helper; tests replace it to start helpers late or never.
    var launch: @Sendable (@escaping @Sendable () -> Void) -> Void = { job in
        DispatchQueue.global(qos: .userInitiated).async(execute: job)
    }

    /// What the caller and its helpers share during one `run`.
    private final class Shared: @unchecked Sendable {
        // Safety of @unchecked Sendable: `body` is written before any helper is launched and
        // cleared by the caller only after `closeAndWait`, when every helper that entered has
        // left and none can enter any more; the counters are atomics.
        let count: Int
        let chunk: Int
        let chunks: Int
        private var body: ((Int, Range<Int>) -> Bool)?
        let nextChunk = Atomic<Int>(0)
        let stopped = Atomic<Bool>(false)
        /// Helpers inside `work`, plus `closedFlag` once the caller is done handing out chunks.
        private let state = Atomic<Int>(0)
        private static let closedFlag = 1 << 62
        private let allLeft = DispatchSemaphore(value: 0)

        init(count: Int, chunk: Int, body: @escaping (Int, Range<Int>) -> Bool) {
            self.count = count
            self.chunk = chunk
            chunks = (count + chunk - 1) / chunk
            self.body = body
        }

        /// Takes chunks in order until none is left or the body asked to stop.
        func work(worker: Int, _ body: (Int, Range<Int>) -> Bool) {
            while !stopped.load(ordering: .relaxed) {
                let index = nextChunk.wrappingAdd(1, ordering: .relaxed).oldValue
                guard index < chunks else { return }
                let start = index * chunk
                if !body(worker, start..<min(count, start + chunk)) { stopped.store(true, ordering: .relaxed) }
            }
        }

        /// A helper's part: nothing once the caller has closed the run.
        func help(worker: Int) {
            var current = state.load(ordering: .acquiring)
            while true {
                if current & Self.closedFlag != 0 { return }
                let (exchanged, original) = state.compareExchange(
                    expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
                if exchanged { break }
                current = original
            }
            workWithBody(worker: worker)
            let left = state.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue
            if left == Self.closedFlag { allLeft.signal() }
        }

        /// The helper's copy of the body is released when this returns, before it leaves.
        @inline(never)
        private func workWithBody(worker: Int) {
            if let body { work(worker: worker, body) }
        }

        /// Called by the caller when it finds no chunk left: no helper may enter from now on;
        /// waits for those inside, then lets go of the body.
        func closeAndWait() {
            let before = state.bitwiseOr(Self.closedFlag, ordering: .acquiringAndReleasing).oldValue
            if before != 0 { allLeft.wait() }
            body = nil
        }
    }
}
