import Api
import Dispatch
import Foundation
import Logging
import Synchronization
import Wire

/// Scheduler is kube-scheduler for Skiff: it watches nodes, pods and namespaces through shared
/// informers, decides on one thread (the scheduling loop, which owns a `SchedulerCore`), and
/// writes only through the API server: bindings (`pods/binding`), `Scheduled` and
/// `FailedScheduling` events, and the PodScheduled condition of pods that fit nowhere.
///
/// The loop alternates between applying everything the informers and binding answers posted to
/// its inbox and making up to `decisionsPerBatch` decisions. A decision assumes the pod on its
/// node at once and sends the binding without waiting (up to `maximumBindingsInFlight`), so
/// scheduling never waits for a round trip; the informer's bound pod confirms the assumption
/// and a failed binding undoes it.
///
/// The informers run from `start()`, leading or not, so that a standby takes over with a warm
/// cache; only `lead()` lets the loop make decisions.
public final class Scheduler: Sendable {
    public struct Configuration: Sendable {
        /// Pods with this `spec.schedulerName` (or none) are scheduled by this scheduler.
        public var schedulerName = "default-scheduler"
        public var algorithm = ScheduleAlgorithm.Configuration()
        public var queue = SchedulingQueue.Configuration()
        /// Bindings sent and not yet answered; at the limit, decisions wait for answers.
        public var maximumBindingsInFlight = 2048
        /// Decisions between two looks at the inbox, so that informer events are applied often.
        public var decisionsPerBatch = 256
        /// This replica's name in events (reportingInstance).
        public var identity: String

        public init(identity: String) {
            self.identity = identity
        }
    }

    /// Counters for logs and tests.
    public struct Statistics: Sendable {
        public var bound = 0
        public var unschedulableAttempts = 0
        public var bindingFailures = 0
    }

    public let client: ApiClient
    public let bindingClient: ApiClient
    public let configuration: Configuration
    public let informers: SharedInformers
    public let events: EventRecorder
    private let logger: Logger
    private let inbox = SchedulerInbox()
    private let conditions: PodConditionWriter
    private let leading = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let counters = Mutex(Statistics())

    /// `client` carries the informers, events and status writes; `bindingClient` the bindings
    /// (give it its own connection and loop so that bindings are not queued behind watch
    /// traffic; the same client works too).
    public init(client: ApiClient, bindingClient: ApiClient, configuration: Configuration, logger: Logger) {
        self.client = client
        self.bindingClient = bindingClient
        self.configuration = configuration
        self.logger = logger
        informers = SharedInformers(client: client, standardIndexes: false)
        events = EventRecorder(
            client: client, component: configuration.schedulerName, instance: configuration.identity, capacity: 4096, writers: 8,
            logger: logger)
        conditions = PodConditionWriter(client: client, logger: logger)
    }

    public var statistics: Statistics { counters.withLock { $0 } }

    public var isLeading: Bool { leading.load(ordering: .relaxed) }

    /// Starts the informers and the scheduling loop (not deciding until `lead()`); returns once
    /// the informers have listed, or false if they stopped first.
    public func start() async -> Bool {
        let inbox = self.inbox
        informers.informer(Node.self).addEventHandler(.init(
            onAdd: { inbox.post(.nodeChanged($0)) },
            onUpdate: { _, new in inbox.post(.nodeChanged(new)) },
            onDelete: { inbox.post(.nodeDeleted($0)) }))
        informers.informer(Namespace.self).addEventHandler(.init(
            onAdd: { inbox.post(.namespaceChanged($0)) },
            onUpdate: { _, new in inbox.post(.namespaceChanged(new)) },
            onDelete: { inbox.post(.namespaceDeleted($0)) }))
        informers.informer(Pod.self, transform: Self.trimmed).addEventHandler(.init(
            onAdd: { inbox.post(.podChanged(old: nil, $0)) },
            onUpdate: { old, new in inbox.post(.podChanged(old: old, new)) },
            onDelete: { inbox.post(.podDeleted($0)) }))
        let thread = Thread { [self] in
            runLoop()
            finished.signal()
        }
        thread.name = "scheduler"
        thread.stackSize = 8 << 20
        thread.start()
        informers.start()
        return await informers.waitForSync()
    }

    /// Starts making decisions (this replica leads).
    public func lead() {
        leading.store(true, ordering: .relaxed)
        inbox.post(.wake)
    }

    /// Stops deciding (leadership lost); the informers keep the cache warm.
    public func resign() {
        leading.store(false, ordering: .relaxed)
    }

    /// Stops deciding, the loop and the informers.
    public func stop() async {
        leading.store(false, ordering: .relaxed)
        if !stopping.exchange(true, ordering: .relaxed) {
            inbox.post(.wake)
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().async { [finished] in
                    finished.wait()
                    continuation.resume()
                }
            }
        }
        events.stop()
        await informers.stop()
    }

    // MARK: The scheduling loop

    private struct BindingTarget {
        var pod: ObjectReference
        var node: String
    }

    private func runLoop() {
        let core = SchedulerCore(
            profile: PluginRegistry.defaultProfile(schedulerName: configuration.schedulerName),
            algorithm: configuration.algorithm, queue: configuration.queue)
        var targets: [String: BindingTarget] = [:]
        var failures = FailureEvents()
        var lastTick: UInt64 = 0
        var lastReport = monotonicNanoseconds()
        var reported = Statistics()
        while !stopping.load(ordering: .relaxed) {
            let isLeading = leading.load(ordering: .relaxed)
            let canDecide = core.bindingsInFlight < configuration.maximumBindingsInFlight
            var timeout: UInt64 = 0
            if !(isLeading && canDecide && core.queue.activeCount > 0) {
                timeout = 1_000_000_000
                if isLeading && canDecide, let expiry = core.queue.nextBackoffExpiry {
                    let now = monotonicNanoseconds()
                    timeout = expiry > now ? min(timeout, max(expiry - now, 1_000_000)) : 0
                }
            }
            let batch = inbox.take(timeoutNanoseconds: timeout)
            let now = monotonicNanoseconds()
            for input in batch { apply(input, to: core, targets: &targets, failures: &failures, now: now) }
            if now - lastTick >= 1_000_000_000 {
                core.tick(now: now)
                lastTick = now
            }
            if now - lastReport >= 10_000_000_000 {
                report(core, since: &reported)
                lastReport = now
            }
            guard isLeading else { continue }
            var decisions = 0
            while decisions < configuration.decisionsPerBatch, core.bindingsInFlight < configuration.maximumBindingsInFlight,
                let decision = core.scheduleNext(now: monotonicNanoseconds())
            {
                perform(decision, targets: &targets, failures: &failures, now: now)
                decisions += 1
            }
        }
    }

    private func apply(
        _ input: SchedulerInput, to core: SchedulerCore, targets: inout [String: BindingTarget], failures: inout FailureEvents, now: UInt64
    ) {
        switch input {
        case .nodeChanged(let node): core.nodeChanged(node, now: now)
        case .nodeDeleted(let node): core.nodeDeleted(node, now: now)
        case .podChanged(let old, let pod):
            core.podChanged(old: old, pod, now: now)
            if !(pod.spec?.nodeName ?? "").isEmpty { failures.forget(pod.metadata?.uid ?? "") }
        case .podDeleted(let pod):
            core.podDeleted(pod, now: now)
            failures.forget(pod.metadata?.uid ?? "")
        case .namespaceChanged(let namespace): core.namespaceChanged(namespace, now: now)
        case .namespaceDeleted(let namespace): core.namespaceDeleted(namespace)
        case .wake: break
        case .bindingAnswered(let uid, let error):
            guard let target = targets.removeValue(forKey: uid) else { return }
            if let error {
                // Already bound, or gone: the informer tells the rest; anything else backs off.
                let retry = error.code != 404 && error.code != 409
                core.bindingFailed(uid: uid, retry: retry, now: now)
                counters.withLock { $0.bindingFailures += 1 }
                logger.info("binding \(target.pod.namespace ?? "")/\(target.pod.name ?? "") to \(target.node) failed: \(error.message)")
                events.record(about: target.pod, .warning, reason: "FailedScheduling", message: "Binding rejected: \(error.message)")
            } else {
                core.bindingSucceeded(uid: uid)
                counters.withLock { $0.bound += 1 }
                events.record(
                    about: target.pod, .normal, reason: "Scheduled",
                    message: "Successfully assigned \(target.pod.namespace ?? "")/\(target.pod.name ?? "") to \(target.node)")
            }
        }
    }

    private func perform(
        _ decision: SchedulerCore.Decision, targets: inout [String: BindingTarget], failures: inout FailureEvents, now: UInt64
    ) {
        switch decision {
        case .bind(let queued, let node):
            let reference = Self.reference(to: queued.pod)
            let uid = queued.uid
            targets[uid] = BindingTarget(pod: reference, node: node)
            let inbox = self.inbox
            bindingClient.bind(podNamespace: queued.info.namespace, podName: queued.info.name, node: node) { error in
                inbox.post(.bindingAnswered(uid: uid, error: error))
            }
        case .unschedulable(let queued, let message):
            counters.withLock { $0.unschedulableAttempts += 1 }
            logger.debug("pod \(queued.info.key) is unschedulable: \(message)")
            if failures.shouldRecord(uid: queued.uid, message: message, now: now) {
                events.record(about: Self.reference(to: queued.pod), .warning, reason: "FailedScheduling", message: message)
            }
            conditions.setUnschedulable(queued.pod, message: message)
        }
    }

    private func report(_ core: SchedulerCore, since last: inout Statistics) {
        let now = statistics
        guard now.bound != last.bound || now.unschedulableAttempts != last.unschedulableAttempts || core.queue.count > 0 else { return }
        logger.info(
            "bound \(now.bound - last.bound) pods in the last 10 s (\(now.bound) in all); pending: \(core.queue.activeCount) active, \(core.queue.backoffCount) backing off, \(core.queue.unschedulableCount) unschedulable; \(core.bindingsInFlight) bindings in flight; \(events.dropped) events dropped")
        last = now
    }

    /// What the scheduler keeps of a pod: all of a pending pod (its status is written back
    /// with the PodScheduled condition), and of a bound pod everything but its status (only the
    /// phase is kept: finished pods free their node) and managed fields. Bound pods are nearly
    /// all of a cluster's pods, and their status most of their size.
    static func trimmed(_ pod: Pod) -> Pod {
        guard !(pod.spec?.nodeName ?? "").isEmpty else { return pod }
        var trimmed = pod
        trimmed.metadata?.managedFields = []
        trimmed.status = pod.status.map { PodStatus(phase: $0.phase) }
        return trimmed
    }

    /// FailureEvents keeps a pod that stays unschedulable from writing the same FailedScheduling
    /// event at every retry: an unchanged message is recorded again only after
    /// `repeatNanoseconds` (where Kubernetes' event correlator would bump the count of the
    /// existing event instead). Bound: one entry per pending pod that failed.
    struct FailureEvents {
        static let repeatNanoseconds: UInt64 = 60_000_000_000
        private var last: [String: (message: String, at: UInt64)] = [:]

        mutating func shouldRecord(uid: String, message: String, now: UInt64) -> Bool {
            if let previous = last[uid], previous.message == message, now < previous.at + Self.repeatNanoseconds { return false }
            last[uid] = (message, now)
            return true
        }

        mutating func forget(_ uid: String) {
            if !last.isEmpty { last[uid] = nil }
        }
    }

    static func reference(to pod: Pod) -> ObjectReference {
        var reference = ObjectReference()
        reference.kind = "Pod"
        reference.apiVersion = "v1"
        reference.namespace = pod.metadata?.namespace
        reference.name = pod.metadata?.name
        reference.uid = pod.metadata?.uid
        reference.resourceVersion = pod.metadata?.resourceVersion
        return reference
    }
}
