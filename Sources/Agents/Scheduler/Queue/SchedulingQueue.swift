import Api

/// QueuedPod is a pending pod in the scheduling queue with its scheduling history.
public struct QueuedPod: Sendable {
    public var pod: Pod
    public var info: PodInfo
    /// When the pod last entered the queue (monotonic nanoseconds): FIFO order among equal
    /// priorities, and the start of its back-off.
    public var enqueuedAt: UInt64
    /// When the pod first entered the queue, for the create-to-schedule latency.
    public var firstEnqueuedAt: UInt64
    /// Scheduling attempts so far; the back-off doubles with each.
    public var attempts = 0
    /// The events that may make the pod fit, from the plugins that rejected it; `.all` after
    /// an error, so that anything retries it.
    public var awaitedEvents: ClusterEvent = .all
    /// Tie-breaker for pods enqueued in the same nanosecond.
    var sequence: UInt64 = 0

    public init(pod: Pod, now: UInt64) {
        self.pod = pod
        info = PodInfo(pod)
        enqueuedAt = now
        firstEnqueuedAt = now
    }

    public var uid: String { info.uid }
}

/// SchedulingQueue holds the pods waiting for a node, as kube-scheduler's priority queue does:
///
/// - **active**: pods ready to be tried, highest `spec.priority` first, then first in, first out;
/// - **back-off**: pods that failed recently and wait out a back-off of 1 s doubling per attempt
///   up to 10 s before they return to active;
/// - **unschedulable**: pods no node could take. They stay until a cluster event that one of the
///   plugins that rejected them registered for (a node added, a pod deleted…) moves them to
///   back-off or active, or until they have waited `maximumUnschedulableNanoseconds` (5 min), as
///   a safety net for events that went unnoticed.
///
/// A pod that fails while an event arrived during its attempt (`moveRequestCycle`) goes to
/// back-off instead of unschedulable: that event may already have made room for it.
///
/// Bound: each pending pod is in exactly one of the three sets, so the queue holds at most the
/// number of pending pods. Time is an argument (monotonic nanoseconds) so tests control it.
/// Not thread-safe: it belongs to the scheduling loop.
public struct SchedulingQueue {
    public struct Configuration: Sendable {
        public var initialBackoffNanoseconds: UInt64 = 1_000_000_000
        public var maximumBackoffNanoseconds: UInt64 = 10_000_000_000
        public var maximumUnschedulableNanoseconds: UInt64 = 300_000_000_000

        public init() {}
    }

    public let configuration: Configuration
    private var active = KeyedHeap<QueuedPod>(key: \.uid) { left, right in
        let leftPriority = left.info.priority, rightPriority = right.info.priority
        if leftPriority != rightPriority { return leftPriority > rightPriority }
        if left.enqueuedAt != right.enqueuedAt { return left.enqueuedAt < right.enqueuedAt }
        return left.sequence < right.sequence
    }
    private var backoff: KeyedHeap<QueuedPod>
    private var unschedulable: [String: QueuedPod] = [:]
    /// How many unschedulable pods await each event bit: lets `move` skip the scan when no
    /// waiting pod cares about an event (most events, in a busy cluster).
    private var awaitingEvent = [Int](repeating: 0, count: 32)
    private var sequence: UInt64 = 0
    /// Incremented by every `pop`.
    public private(set) var schedulingCycle: Int64 = 0
    /// The scheduling cycle during which the last move request arrived.
    private var moveRequestCycle: Int64 = -1

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        let initial = configuration.initialBackoffNanoseconds, maximum = configuration.maximumBackoffNanoseconds
        backoff = KeyedHeap(key: \.uid) { left, right in
            Self.backoffExpiry(left, initial: initial, maximum: maximum) < Self.backoffExpiry(right, initial: initial, maximum: maximum)
        }
    }

    public var activeCount: Int { active.count }
    public var backoffCount: Int { backoff.count }
    public var unschedulableCount: Int { unschedulable.count }
    public var count: Int { active.count + backoff.count + unschedulable.count }

    public enum Location: Sendable, Equatable { case active, backoff, unschedulable }

    public func location(ofPod uid: String) -> Location? {
        if active.contains(uid) { return .active }
        if backoff.contains(uid) { return .backoff }
        if unschedulable[uid] != nil { return .unschedulable }
        return nil
    }

    public func queuedPod(uid: String) -> QueuedPod? {
        active.element(forKey: uid) ?? backoff.element(forKey: uid) ?? unschedulable[uid]
    }

    // MARK: Adding and taking

    /// A new pending pod: straight to active.
    public mutating func add(_ pod: Pod, now: UInt64) {
        var queued = QueuedPod(pod: pod, now: now)
        let uid = queued.uid
        precondition(location(ofPod: uid) == nil, "pod \(queued.info.key) added to the scheduling queue twice")
        queued.sequence = nextSequence()
        active.push(queued)
    }

    /// The next pod to try, or nil when none is active; counts the attempt.
    public mutating func pop() -> QueuedPod? {
        guard var queued = active.pop() else { return nil }
        schedulingCycle += 1
        queued.attempts += 1
        return queued
    }

    /// Puts back a pod whose attempt in `cycle` failed. `awaitedEvents` is the union of the
    /// events registered by the plugins that rejected it, or `.all` after an error (which
    /// always backs off).
    public mutating func requeue(_ pod: QueuedPod, awaitedEvents: ClusterEvent, isError: Bool, cycle: Int64, now: UInt64) {
        var queued = pod
        precondition(location(ofPod: queued.uid) == nil, "pod \(queued.info.key) requeued while still queued")
        queued.enqueuedAt = now
        queued.sequence = nextSequence()
        queued.awaitedEvents = awaitedEvents.isEmpty ? .all : awaitedEvents
        if isError || moveRequestCycle >= cycle {
            pushBackoffOrActive(queued, now: now)
        } else {
            insertUnschedulable(queued)
        }
    }

    /// A newer version of a queued pod. A pod waiting as unschedulable is retried when anything
    /// but its status changed (a fix to its spec or labels may make it fit); otherwise the newer
    /// object just replaces the older one. Returns false when the pod is not queued.
    @discardableResult
    public mutating func update(_ pod: Pod, now: UInt64) -> Bool {
        let uid = pod.metadata?.uid ?? ""
        if var queued = active.element(forKey: uid) {
            queued.pod = pod
            queued.info = PodInfo(pod)
            active.push(queued)
            return true
        }
        if var queued = backoff.element(forKey: uid) {
            queued.pod = pod
            queued.info = PodInfo(pod)
            backoff.push(queued)
            return true
        }
        guard var queued = unschedulable[uid] else { return false }
        let changed = Self.schedulingRelevantChange(from: queued.pod, to: pod)
        queued.pod = pod
        queued.info = PodInfo(pod)
        if changed {
            removeUnschedulable(uid)
            pushBackoffOrActive(queued, now: now)
        } else {
            unschedulable[uid] = queued
        }
        return true
    }

    @discardableResult
    public mutating func delete(uid: String) -> QueuedPod? {
        if let removed = active.remove(key: uid) { return removed }
        if let removed = backoff.remove(key: uid) { return removed }
        return removeUnschedulable(uid)
    }

    // MARK: Moving

    /// Moves pods whose back-off has expired to active.
    public mutating func flushBackoff(now: UInt64) {
        while let first = backoff.first, backoffExpiry(first) <= now {
            var queued = backoff.pop()!
            queued.sequence = nextSequence()
            active.push(queued)
        }
    }

    /// Retries pods that have been unschedulable for longer than the maximum.
    public mutating func flushUnschedulableLeftovers(now: UInt64) {
        let limit = configuration.maximumUnschedulableNanoseconds
        let stale = unschedulable.values.filter { now >= $0.enqueuedAt + limit }.map(\.uid)
        for uid in stale.sorted() {
            if let queued = removeUnschedulable(uid) { pushBackoffOrActive(queued, now: now) }
        }
    }

    /// A cluster event happened: unschedulable pods waiting for it go to back-off (if still
    /// backing off) or active; pods being scheduled right now will go to back-off if they fail.
    public mutating func move(_ event: ClusterEvent, now: UInt64) {
        moveRequestCycle = schedulingCycle
        guard !event.isEmpty, isAwaited(event) else { return }
        let matching = unschedulable.values.filter { !$0.awaitedEvents.isDisjoint(with: event) }
        for queued in matching.sorted(by: { ($0.enqueuedAt, $0.sequence) < ($1.enqueuedAt, $1.sequence) }) {
            removeUnschedulable(queued.uid)
            pushBackoffOrActive(queued, now: now)
        }
    }

    /// When the earliest back-off ends, if any pod is backing off.
    public var nextBackoffExpiry: UInt64? {
        backoff.first.map { backoffExpiry($0) }
    }

    /// The back-off a pod with `attempts` failed attempts waits: initial × 2^(attempts-1), capped.
    public func backoffDuration(attempts: Int) -> UInt64 {
        Self.backoffDuration(
            attempts: attempts, initial: configuration.initialBackoffNanoseconds, maximum: configuration.maximumBackoffNanoseconds)
    }

    // MARK: Internals

    static func backoffDuration(attempts: Int, initial: UInt64, maximum: UInt64) -> UInt64 {
        var duration = initial
        var step = 1
        while step < attempts {
            duration *= 2
            if duration >= maximum { return maximum }
            step += 1
        }
        return min(duration, maximum)
    }

    static func backoffExpiry(_ pod: QueuedPod, initial: UInt64, maximum: UInt64) -> UInt64 {
        pod.enqueuedAt + backoffDuration(attempts: max(pod.attempts, 1), initial: initial, maximum: maximum)
    }

    private func backoffExpiry(_ pod: QueuedPod) -> UInt64 {
        Self.backoffExpiry(pod, initial: configuration.initialBackoffNanoseconds, maximum: configuration.maximumBackoffNanoseconds)
    }

    private mutating func pushBackoffOrActive(_ pod: QueuedPod, now: UInt64) {
        var queued = pod
        queued.sequence = nextSequence()
        if queued.attempts > 0 && backoffExpiry(queued) > now {
            backoff.push(queued)
        } else {
            active.push(queued)
        }
    }

    private mutating func insertUnschedulable(_ pod: QueuedPod) {
        unschedulable[pod.uid] = pod
        forEachBit(of: pod.awaitedEvents) { awaitingEvent[$0] += 1 }
    }

    @discardableResult
    private mutating func removeUnschedulable(_ uid: String) -> QueuedPod? {
        guard let removed = unschedulable.removeValue(forKey: uid) else { return nil }
        forEachBit(of: removed.awaitedEvents) { awaitingEvent[$0] -= 1 }
        return removed
    }

    private func isAwaited(_ event: ClusterEvent) -> Bool {
        var awaited = false
        forEachBit(of: event) { if awaitingEvent[$0] > 0 { awaited = true } }
        return awaited
    }

    private func forEachBit(of event: ClusterEvent, _ body: (Int) -> Void) {
        var bits = event.rawValue
        while bits != 0 {
            let bit = bits.trailingZeroBitCount
            body(bit)
            bits &= bits - 1
        }
    }

    private mutating func nextSequence() -> UInt64 {
        sequence += 1
        return sequence
    }

    /// Whether anything but the status and bookkeeping metadata differs (kube's isPodUpdated).
    static func schedulingRelevantChange(from old: Pod, to new: Pod) -> Bool {
        func stripped(_ pod: Pod) -> Pod {
            var copy = pod
            copy.status = nil
            copy.metadata?.resourceVersion = nil
            copy.metadata?.generation = nil
            copy.metadata?.managedFields = []
            return copy
        }
        return stripped(old) != stripped(new)
    }
}
