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
    /// The queue's id of this entry; also the tie-breaker for pods enqueued at the same time.
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
    /// Every queued pod by queue id (its `sequence`), and the id of each uid.
    private var pods: [UInt64: QueuedPod] = [:]
    private var ids: [String: UInt64] = [:]
    /// Active pods ranked by priority (highest first), then enqueue time, then sequence.
    private var active = RankedHeap()
    /// Backing-off pods ranked by the end of their back-off.
    private var backoff = RankedHeap()
    private var unschedulable: Set<UInt64> = []
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
    }

    public var activeCount: Int { active.count }
    public var backoffCount: Int { backoff.count }
    public var unschedulableCount: Int { unschedulable.count }
    public var count: Int { pods.count }

    public enum Location: Sendable, Equatable { case active, backoff, unschedulable }

    public func location(ofPod uid: String) -> Location? {
        guard let id = ids[uid] else { return nil }
        if active.contains(id) { return .active }
        if backoff.contains(id) { return .backoff }
        precondition(unschedulable.contains(id), "queued pod \(uid) is in no set")
        return .unschedulable
    }

    public func queuedPod(uid: String) -> QueuedPod? {
        ids[uid].flatMap { pods[$0] }
    }

    // MARK: Adding and taking

    /// A new pending pod: straight to active.
    public mutating func add(_ pod: Pod, now: UInt64) {
        let queued = QueuedPod(pod: pod, now: now)
        precondition(ids[queued.uid] == nil, "pod \(queued.info.key) added to the scheduling queue twice")
        pushActive(insert(queued))
    }

    /// The next pod to try, or nil when none is active; counts the attempt.
    public mutating func pop() -> QueuedPod? {
        guard let entry = active.pop() else { return nil }
        guard var queued = pods.removeValue(forKey: entry.id) else {
            preconditionFailure("the active heap holds an id without a pod")
        }
        ids[queued.uid] = nil
        schedulingCycle += 1
        queued.attempts += 1
        return queued
    }

    /// Puts back a pod whose attempt in `cycle` failed. `awaitedEvents` is the union of the
    /// events registered by the plugins that rejected it (empty: only a change to the pod can
    /// help), or `.all` after an error, which always backs off.
    public mutating func requeue(_ pod: QueuedPod, awaitedEvents: ClusterEvent, isError: Bool, cycle: Int64, now: UInt64) {
        var queued = pod
        precondition(ids[queued.uid] == nil, "pod \(queued.info.key) requeued while still queued")
        queued.enqueuedAt = now
        queued.awaitedEvents = awaitedEvents
        let id = insert(queued)
        if isError || moveRequestCycle >= cycle {
            pushBackoffOrActive(id, now: now)
        } else {
            insertUnschedulable(id)
        }
    }

    /// A newer version of a queued pod. A pod waiting as unschedulable is retried when anything
    /// but its status changed (a fix to its spec or labels may make it fit); otherwise the newer
    /// object just replaces the older one. Returns false when the pod is not queued.
    @discardableResult
    public mutating func update(_ pod: Pod, now: UInt64) -> Bool {
        guard let id = ids[pod.metadata?.uid ?? ""], var queued = pods[id] else { return false }
        let changed = Self.schedulingRelevantChange(from: queued.pod, to: pod)
        queued.pod = pod
        if changed { queued.info = PodInfo(pod) }
        pods[id] = queued
        if active.contains(id) {
            // The priority may have changed.
            pushActive(id)
        } else if changed && unschedulable.contains(id) {
            removeUnschedulable(id)
            pushBackoffOrActive(id, now: now)
        }
        return true
    }

    @discardableResult
    public mutating func delete(uid: String) -> QueuedPod? {
        guard let id = ids.removeValue(forKey: uid) else { return nil }
        if active.remove(id) == nil && backoff.remove(id) == nil { removeUnschedulable(id) }
        return pods.removeValue(forKey: id)
    }

    // MARK: Moving

    /// Moves pods whose back-off has expired to active.
    public mutating func flushBackoff(now: UInt64) {
        while let first = backoff.first, first.rank.secondary <= now {
            backoff.remove(first.id)
            pushActive(first.id)
        }
    }

    /// Retries pods that have been unschedulable for longer than the maximum.
    public mutating func flushUnschedulableLeftovers(now: UInt64) {
        let limit = configuration.maximumUnschedulableNanoseconds
        let stale = unschedulable.filter { now >= pods[$0]!.enqueuedAt + limit }
        for id in stale.sorted() {
            removeUnschedulable(id)
            pushBackoffOrActive(id, now: now)
        }
    }

    /// A cluster event happened: unschedulable pods waiting for it go to back-off (if still
    /// backing off) or active; pods being scheduled right now will go to back-off if they fail.
    public mutating func move(_ event: ClusterEvent, now: UInt64) {
        moveRequestCycle = schedulingCycle
        guard !event.isEmpty, isAwaited(event) else { return }
        let matching = unschedulable.filter { !pods[$0]!.awaitedEvents.isDisjoint(with: event) }
        for id in matching.sorted() {
            removeUnschedulable(id)
            pushBackoffOrActive(id, now: now)
        }
    }

    /// When the earliest back-off ends, if any pod is backing off.
    public var nextBackoffExpiry: UInt64? {
        backoff.first?.rank.secondary
    }

    /// The back-off a pod with `attempts` failed attempts waits: initial × 2^(attempts-1), capped.
    public func backoffDuration(attempts: Int) -> UInt64 {
        var duration = configuration.initialBackoffNanoseconds
        var step = 1
        while step < attempts {
            duration *= 2
            if duration >= configuration.maximumBackoffNanoseconds { return configuration.maximumBackoffNanoseconds }
            step += 1
        }
        return min(duration, configuration.maximumBackoffNanoseconds)
    }

    // MARK: Internals

    private mutating func insert(_ pod: QueuedPod) -> UInt64 {
        sequence += 1
        var queued = pod
        queued.sequence = sequence
        pods[sequence] = queued
        ids[queued.uid] = sequence
        return sequence
    }

    private mutating func pushActive(_ id: UInt64) {
        let queued = pods[id]!
        active.push(id, rank: RankedHeap.Rank(primary: -Int64(queued.info.priority), secondary: queued.enqueuedAt, tertiary: id))
    }

    private func backoffExpiry(_ pod: QueuedPod) -> UInt64 {
        pod.enqueuedAt + backoffDuration(attempts: max(pod.attempts, 1))
    }

    private mutating func pushBackoffOrActive(_ id: UInt64, now: UInt64) {
        let queued = pods[id]!
        let expiry = backoffExpiry(queued)
        if queued.attempts > 0 && expiry > now {
            backoff.push(id, rank: RankedHeap.Rank(primary: 0, secondary: expiry, tertiary: id))
        } else {
            pushActive(id)
        }
    }

    private mutating func insertUnschedulable(_ id: UInt64) {
        unschedulable.insert(id)
        forEachBit(of: pods[id]!.awaitedEvents) { awaitingEvent[$0] += 1 }
    }

    private mutating func removeUnschedulable(_ id: UInt64) {
        guard unschedulable.remove(id) != nil else { return }
        forEachBit(of: pods[id]!.awaitedEvents) { awaitingEvent[$0] -= 1 }
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
