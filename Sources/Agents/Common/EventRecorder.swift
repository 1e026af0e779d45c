import Api
import Foundation
import Logging
import Synchronization

/// EventRecorder writes core/v1 Events about objects ("Scheduled", "FailedScheduling",
/// "SuccessfulCreate"…), the way `kubectl describe` shows them. Recording never blocks the
/// caller: events go into a bounded queue that a few background tasks drain; when the queue is
/// full, new events are dropped and counted (client-go's broadcaster drops the same way), because
/// an event storm must never slow the work it reports on. Before the queue, client-go's spam
/// filter (`EventSpamFilter`) keeps one object from flooding the store: a replica set creating
/// 10,000 pods writes its first 25 SuccessfulCreate events, then one per 5 minutes.
public final class EventRecorder: Sendable {
    public enum EventType: String, Sendable {
        case normal = "Normal"
        case warning = "Warning"
    }

    struct State {
        var queue: [Event] = []
        var head = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
        var stopped = false
    }

    public let client: ApiClient
    /// source.component and reportingComponent: "default-scheduler", "replicaset-controller"…
    public let component: String
    /// reportingInstance: this replica's identity.
    public let instance: String
    public let capacity: Int
    private let logger: Logger
    private let state = Mutex(State())
    private let droppedCount = Atomic<Int>(0)
    private let filteredCount = Atomic<Int>(0)
    private let spamFilter = Mutex(EventSpamFilter())
    private let writtenCount = Atomic<Int>(0)
    private let sequence = Atomic<UInt64>(0)

    /// Events dropped because the queue was full, and events written.
    public var dropped: Int { droppedCount.load(ordering: .relaxed) }
    /// Events the spam filter held back.
    public var filtered: Int { filteredCount.load(ordering: .relaxed) }
    public var written: Int { writtenCount.load(ordering: .relaxed) }

    public init(client: ApiClient, component: String, instance: String, capacity: Int = 1000, writers: Int = 4, logger: Logger) {
        precondition(capacity > 0 && writers > 0)
        self.client = client
        self.component = component
        self.instance = instance
        self.capacity = capacity
        self.logger = logger
        for _ in 0..<writers { Task { await self.drain() } }
    }

    /// Records an event about `object`. `reason` is one CamelCase word; `message` a sentence.
    public func record<Object: KubernetesObject>(_ object: Object, _ type: EventType, reason: String, message: String) {
        var reference = ObjectReference()
        reference.kind = Object.resourceType.kind
        reference.apiVersion = Object.resourceType.apiVersion
        reference.namespace = object.metadata?.namespace
        reference.name = object.metadata?.name
        reference.uid = object.metadata?.uid
        reference.resourceVersion = object.metadata?.resourceVersion
        record(about: reference, type, reason: reason, message: message)
    }

    public func record(about reference: ObjectReference, _ type: EventType, reason: String, message: String) {
        // A full queue drops the event before it is built or charged to the spam filter (a
        // scheduler binding thousands of pods a second fills it, and would build each event to
        // drop it).
        enum Room { case stopped, full, open }
        switch state.withLock({ state -> Room in
            state.stopped ? .stopped : state.queue.count - state.head >= capacity ? .full : .open
        }) {
        case .stopped: return
        case .full:
            droppedCount.add(1, ordering: .relaxed)
            return
        case .open: break
        }
        let now = Date().timeIntervalSince1970
        let spamKey = EventSpamFilter.key(reference, type: type.rawValue)
        guard spamFilter.withLock({ $0.allow(spamKey, now: now) }) else {
            filteredCount.add(1, ordering: .relaxed)
            return
        }
        var event = Event()
        var meta = ObjectMeta()
        // Kubernetes names events <object>.<unique hex>; events of cluster-scoped objects live in "default".
        let unique = UInt64(now * 1_000_000_000) &+ sequence.add(1, ordering: .relaxed).newValue
        meta.name = "\(reference.name ?? "unnamed").\(String(unique, radix: 16))"
        meta.namespace = (reference.namespace ?? "").isEmpty ? "default" : reference.namespace
        event.metadata = meta
        event.involvedObject = reference
        event.reason = reason
        event.message = message
        event.type = type.rawValue
        var source = EventSource()
        source.component = component
        event.source = source
        var time = Time()
        time.seconds = Int64(now)
        event.firstTimestamp = time
        event.lastTimestamp = time
        event.count = 1
        event.reportingComponent = component
        event.reportingInstance = instance
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.stopped else { return nil }
            guard state.queue.count - state.head < capacity else {
                droppedCount.add(1, ordering: .relaxed)
                return nil
            }
            state.queue.append(event)
            return state.waiting.popLast()
        }
        continuation?.resume()
    }

    /// Stops the writers; queued events are dropped.
    public func stop() {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.stopped = true
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    private func next() async -> Event? {
        while true {
            enum Step { case event(Event), wait, stop }
            let step = state.withLock { state -> Step in
                if state.stopped { return .stop }
                guard state.head < state.queue.count else { return .wait }
                let event = state.queue[state.head]
                state.head += 1
                if state.head > 1024 && state.head * 2 > state.queue.count {
                    state.queue.removeFirst(state.head)
                    state.head = 0
                }
                return .event(event)
            }
            switch step {
            case .event(let event): return event
            case .stop: return nil
            case .wait:
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.stopped || state.head < state.queue.count { return true }
                        state.waiting.append(continuation)
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    private func drain() async {
        while let event = await next() {
            do {
                _ = try await client.create(event, namespace: event.metadata?.namespace)
                writtenCount.add(1, ordering: .relaxed)
            } catch {
                logger.debug("event \(event.reason ?? "") about \(event.involvedObject?.name ?? "") not written: \(error.message)")
            }
        }
    }
}

/// EventSpamFilter is client-go's EventSourceObjectSpamFilter: a token bucket per reporting
/// object and event type (the recorder has one source), holding `burst` events and refilled
/// with one every `refillSeconds`. The buckets live in a bounded table; when it is full, buckets
/// that have refilled completely (which say nothing) are dropped, and if that is not enough, the
/// fuller half, so that the buckets still holding an object back are the last to go.
struct EventSpamFilter {
    var burst = 25.0
    var refillSeconds = 300.0
    var capacity = 4096
    private var buckets: [String: (tokens: Double, at: Double)] = [:]

    static func key(_ reference: ObjectReference, type: String) -> String {
        [reference.kind ?? "", reference.namespace ?? "", reference.name ?? "", reference.uid ?? "", reference.apiVersion ?? "", type]
            .joined(separator: "\u{1}")
    }

    /// Takes a token for `key` at `now` (seconds); false when its bucket is empty.
    mutating func allow(_ key: String, now: Double) -> Bool {
        var bucket = buckets[key] ?? (tokens: burst, at: now)
        bucket.tokens = min(burst, bucket.tokens + max(0, now - bucket.at) / refillSeconds)
        bucket.at = now
        let allowed = bucket.tokens >= 1
        if allowed { bucket.tokens -= 1 }
        if buckets[key] == nil && buckets.count >= capacity {
            func current(_ bucket: (tokens: Double, at: Double)) -> Double {
                min(burst, bucket.tokens + max(0, now - bucket.at) / refillSeconds)
            }
            buckets = buckets.filter { current($0.value) < burst }
            if buckets.count >= capacity {
                let emptiestFirst = buckets.sorted { current($0.value) < current($1.value) }
                buckets = Dictionary(uniqueKeysWithValues: emptiestFirst.prefix(capacity / 2).map { ($0.key, $0.value) })
            }
        }
        buckets[key] = bucket
        return allowed
    }
}
