import Synchronization
import Wire

/// WorkQueue hands keys to controller workers the way client-go's rate-limited work queue does:
///
/// - fair FIFO: keys come out in the order they were first added;
/// - de-duplicating: a key added while it waits in the queue collapses into the queued entry;
/// - stingy: a key is never handed to two workers at once; a key added while a worker processes
///   it is marked dirty and queued again only when that worker calls `done(_:)`;
/// - rate limited: `addRateLimited(_:)` waits the larger of a per-key exponential back-off
///   (`baseDelayNanoseconds` doubling per failure up to `maximumDelayNanoseconds`) and the
///   overall token bucket (`bucketQueriesPerSecond`, `bucketBurst`); `forget(_:)` resets a key.
///
/// Bound: the queue holds each distinct key at most once in each of its three sets (queued,
/// processing, waiting for a delay), so its memory is bounded by the number of distinct keys,
/// which for controllers is the number of objects they watch. `maximumKeys` states that bound
/// and is enforced with a precondition: more distinct keys than that is a programmer error (keys
/// that are not object keys).
///
/// Thread-safe: every method may be called from any thread or task; informer handlers call
/// `add(_:)` synchronously on their loop.
public final class WorkQueue<Key: Hashable & Sendable>: Sendable {
    public struct Configuration: Sendable {
        /// The first back-off of a failing key; client-go's default is 5 ms.
        public var baseDelayNanoseconds: UInt64 = 5_000_000
        /// The longest back-off of a failing key; client-go's default is 1000 s.
        public var maximumDelayNanoseconds: UInt64 = 1_000_000_000_000
        /// Steady rate of the overall token bucket shared by every key.
        public var bucketQueriesPerSecond: Double = 10
        /// Tokens the bucket holds when full: rate-limited adds that pass without waiting.
        public var bucketBurst: Int = 100
        /// The most distinct keys the queue may hold at once (see the type's comment).
        public var maximumKeys: Int = 1 << 20

        public init() {}
    }

    struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Key?, Never>
    }

    struct State {
        /// Keys ready to be handed out, oldest first; `queue[queueStart...]` is live.
        var queue: [Key] = []
        var queueStart = 0
        /// The keys in `queue[queueStart...]`: what makes repeated adds collapse.
        var queued: Set<Key> = []
        /// Keys a worker holds between `get()` and `done(_:)`.
        var processing: Set<Key> = []
        /// Keys added while a worker held them: queued again on `done(_:)`.
        var dirty: Set<Key> = []
        /// Keys waiting out a delay: the deadline (monotonic nanoseconds) and its timer task.
        var delayed: [Key: (deadline: UInt64, task: Task<Void, Never>)] = [:]
        /// Failures per key since its last `forget(_:)`: the exponent of its back-off.
        var failures: [Key: Int] = [:]
        /// Workers waiting in `get()`, oldest first.
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0
        /// Token bucket: tokens available at `bucketTime` (negative when reserved ahead).
        var bucketTokens: Double
        var bucketTime: UInt64
        var shuttingDown = false

        var queuedCount: Int { queue.count - queueStart }
    }

    public let configuration: Configuration
    private let state: Mutex<State>

    public init(configuration: Configuration = Configuration()) {
        precondition(configuration.bucketQueriesPerSecond > 0 && configuration.bucketBurst > 0)
        precondition(configuration.baseDelayNanoseconds > 0)
        precondition(configuration.maximumDelayNanoseconds >= configuration.baseDelayNanoseconds)
        self.configuration = configuration
        state = Mutex(State(bucketTokens: Double(configuration.bucketBurst), bucketTime: monotonicNanoseconds()))
    }

    // MARK: Adding

    /// Queues `key` unless it is already queued; a key being processed is queued again after
    /// `done(_:)`. Ignored after shutdown.
    public func add(_ key: Key) {
        let handed = state.withLock { state -> (Waiter, Key)? in
            Self.insert(key, into: &state, maximumKeys: configuration.maximumKeys)
            return Self.handOff(&state)
        }
        if let (waiter, key) = handed { waiter.continuation.resume(returning: key) }
    }

    /// Adds `key` after `delayNanoseconds`. A key already waiting keeps the earlier deadline.
    public func addAfter(_ key: Key, delayNanoseconds: UInt64) {
        guard delayNanoseconds > 0 else { return add(key) }
        let deadline = monotonicNanoseconds() &+ delayNanoseconds
        state.withLock { state in
            guard !state.shuttingDown else { return }
            if let waiting = state.delayed[key], waiting.deadline <= deadline { return }
            state.delayed[key]?.task.cancel()
            let task = Task { [weak self] in
                try? await Task.sleep(nanoseconds: delayNanoseconds)
                guard !Task.isCancelled else { return }
                self?.delayElapsed(key, deadline: deadline)
            }
            state.delayed[key] = (deadline, task)
            precondition(state.delayed.count <= configuration.maximumKeys, "work queue holds more than \(configuration.maximumKeys) delayed keys")
        }
    }

    /// Adds `key` after its back-off: the larger of its own exponential delay and the overall
    /// token bucket's. Each call counts as one more failure of `key` until `forget(_:)`.
    public func addRateLimited(_ key: Key) {
        let delay = state.withLock { state -> UInt64 in
            let failures = state.failures[key, default: 0]
            state.failures[key] = failures + 1
            let perKey = Self.exponentialDelay(failures: failures, configuration: configuration)
            let bucket = Self.reserveToken(&state, configuration: configuration, now: monotonicNanoseconds())
            return max(perKey, bucket)
        }
        addAfter(key, delayNanoseconds: delay)
    }

    /// Clears `key`'s failure count: its next rate-limited add starts from the base delay again.
    public func forget(_ key: Key) {
        state.withLock { _ = $0.failures.removeValue(forKey: key) }
    }

    /// Failures recorded for `key` since its last `forget(_:)`.
    public func requeueCount(_ key: Key) -> Int {
        state.withLock { $0.failures[key, default: 0] }
    }

    // MARK: Working

    /// The oldest queued key, waiting for one if none is queued; nil once the queue shuts down
    /// (or the calling task is cancelled). The caller must call `done(_:)` with the key.
    public func get() async -> Key? {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Key?, Never>) in
                let outcome = state.withLock { state -> (Key?, Bool) in
                    if state.shuttingDown || Task.isCancelled { return (nil, true) }
                    if let key = Self.popFront(&state) { return (key, true) }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return (nil, false)
                }
                if outcome.1 { continuation.resume(returning: outcome.0) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(returning: nil)
        }
    }

    /// Ends the processing of `key`; if it was added meanwhile, it is queued again now.
    public func done(_ key: Key) {
        let handed = state.withLock { state -> (Waiter, Key)? in
            precondition(state.processing.remove(key) != nil, "done(\(key)) for a key no worker holds")
            if state.dirty.remove(key) != nil, !state.shuttingDown {
                Self.insert(key, into: &state, maximumKeys: configuration.maximumKeys)
            }
            return Self.handOff(&state)
        }
        if let (waiter, key) = handed { waiter.continuation.resume(returning: key) }
    }

    /// Keys queued and not yet handed out.
    public var count: Int { state.withLock { $0.queuedCount } }

    public var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    /// Stops the queue: waiting workers get nil, delayed adds are dropped, later adds are
    /// ignored. Keys already queued are not handed out any more.
    public func shutDown() {
        let (waiters, tasks) = state.withLock { state -> ([Waiter], [Task<Void, Never>]) in
            state.shuttingDown = true
            let waiters = state.waiters
            state.waiters.removeAll()
            let tasks = state.delayed.values.map(\.task)
            state.delayed.removeAll()
            return (waiters, tasks)
        }
        for task in tasks { task.cancel() }
        for waiter in waiters { waiter.continuation.resume(returning: nil) }
    }

    // MARK: State transitions (under the lock)

    private func delayElapsed(_ key: Key, deadline: UInt64) {
        let handed = state.withLock { state -> (Waiter, Key)? in
            guard let waiting = state.delayed[key], waiting.deadline == deadline else { return nil }
            state.delayed[key] = nil
            Self.insert(key, into: &state, maximumKeys: configuration.maximumKeys)
            return Self.handOff(&state)
        }
        if let (waiter, key) = handed { waiter.continuation.resume(returning: key) }
    }

    private static func insert(_ key: Key, into state: inout State, maximumKeys: Int) {
        guard !state.shuttingDown else { return }
        if state.processing.contains(key) {
            state.dirty.insert(key)
            return
        }
        guard state.queued.insert(key).inserted else { return }
        state.queue.append(key)
        precondition(state.queued.count + state.processing.count <= maximumKeys, "work queue holds more than \(maximumKeys) keys")
    }

    /// Takes the oldest queued key and marks it processing.
    private static func popFront(_ state: inout State) -> Key? {
        guard state.queueStart < state.queue.count else { return nil }
        let key = state.queue[state.queueStart]
        state.queueStart += 1
        // Compact once the dead prefix is half the array, so removal stays amortised O(1).
        if state.queueStart >= 1024, state.queueStart * 2 >= state.queue.count {
            state.queue.removeFirst(state.queueStart)
            state.queueStart = 0
        }
        precondition(state.queued.remove(key) != nil)
        precondition(state.processing.insert(key).inserted, "a queued key was also being processed")
        return key
    }

    /// Gives the oldest queued key to the oldest waiting worker, if both exist; the caller
    /// resumes the waiter outside the lock.
    private static func handOff(_ state: inout State) -> (Waiter, Key)? {
        guard !state.waiters.isEmpty, let key = popFront(&state) else { return nil }
        return (state.waiters.removeFirst(), key)
    }

    static func exponentialDelay(failures: Int, configuration: Configuration) -> UInt64 {
        // 2^40 * 5 ms already exceeds any sensible maximum; stop shifting before overflow.
        let shift = min(failures, 40)
        let (delay, overflow) = configuration.baseDelayNanoseconds.multipliedReportingOverflow(by: 1 << UInt64(shift))
        return overflow ? configuration.maximumDelayNanoseconds : min(delay, configuration.maximumDelayNanoseconds)
    }

    /// Takes one token from the bucket, reserving ahead when it is empty; returns how long the
    /// caller must wait for its token.
    private static func reserveToken(_ state: inout State, configuration: Configuration, now: UInt64) -> UInt64 {
        let burst = Double(configuration.bucketBurst)
        let elapsedSeconds = Double(now &- state.bucketTime) / 1e9
        if now > state.bucketTime {
            state.bucketTokens = min(burst, state.bucketTokens + elapsedSeconds * configuration.bucketQueriesPerSecond)
            state.bucketTime = now
        }
        state.bucketTokens -= 1
        guard state.bucketTokens < 0 else { return 0 }
        return UInt64(-state.bucketTokens / configuration.bucketQueriesPerSecond * 1e9)
    }
}
