import Api

/// SchedulerCore is the scheduler without its I/O: it takes what the informers report (nodes,
/// pods, namespaces) and binding results, keeps the cache and the queue, and decides where the
/// next pod goes. Everything that must be written to the API server comes out as a `Decision`
/// for the caller to perform, so the core can be driven by tests with plain objects and a
/// hand-moved clock.
///
/// Not thread-safe: one thread (the scheduling loop) owns it.
public final class SchedulerCore {
    public enum Decision: Sendable {
        /// Bind the pod to the node (it is assumed there already).
        case bind(QueuedPod, node: String)
        /// No node fits; the pod is back in the queue. Report `message` (FailedScheduling) and
        /// set the pod's PodScheduled condition to False.
        case unschedulable(QueuedPod, message: String)
    }

    public let profile: Profile
    public private(set) var cache = SchedulerCache()
    public private(set) var queue: SchedulingQueue
    public private(set) var algorithm: ScheduleAlgorithm
    private var namespaceLabels: [String: [String: String]] = [:]
    /// Pods assumed on a node whose binding has not been answered yet.
    private var binding: [String: QueuedPod] = [:]

    public init(profile: Profile, algorithm configuration: ScheduleAlgorithm.Configuration, queue: SchedulingQueue.Configuration = .init()) {
        self.profile = profile
        self.queue = SchedulingQueue(configuration: queue)
        algorithm = ScheduleAlgorithm(profile: profile, configuration: configuration)
    }

    public var bindingsInFlight: Int { binding.count }

    public func isBinding(uid: String) -> Bool { binding[uid] != nil }

    // MARK: Cluster state

    public func nodeChanged(_ node: Node, now: UInt64) {
        let event = cache.setNode(node)
        queue.move(event, now: now)
    }

    public func nodeDeleted(_ node: Node, now: UInt64) {
        cache.removeNode(named: node.metadata?.name ?? "")
        queue.move(.nodeDelete, now: now)
    }

    public func namespaceChanged(_ namespace: Namespace, now: UInt64) {
        let name = namespace.metadata?.name ?? ""
        let labels = namespace.metadata?.labels ?? [:]
        guard namespaceLabels[name] != labels else { return }
        namespaceLabels[name] = labels
        queue.move(.namespaceChange, now: now)
    }

    public func namespaceDeleted(_ namespace: Namespace) {
        namespaceLabels[namespace.metadata?.name ?? ""] = nil
    }

    /// A pod appeared or changed (informer add or update; `old` is nil for an add).
    public func podChanged(old: Pod?, _ pod: Pod, now: UInt64) {
        let uid = pod.metadata?.uid ?? ""
        guard !(pod.spec?.nodeName ?? "").isEmpty else {
            pendingPodChanged(pod, uid: uid, now: now)
            return
        }
        // Bound: it leaves the queue (someone, maybe us, bound it) and enters the cache.
        queue.delete(uid: uid)
        guard PodInfo.occupiesNode(pod) else {
            // Finished: its resources are free again.
            if cache.removePod(uid: uid) { queue.move(.assignedPodDelete, now: now) }
            return
        }
        let nodeName = pod.spec!.nodeName!
        if cache.nodeName(ofPod: uid) == nodeName, let cached = cache.podInfo(uid: uid),
            cached.labels == pod.metadata?.labels ?? [:], cached.terminating == (pod.metadata?.deletionTimestamp != nil)
        {
            // The binding confirmed (the assumed pod is the pod as bound), or a status update
            // of a bound pod: nothing the scheduler accounts for changed.
            if cache.isAssumed(uid: uid) {
                cache.confirm(uid: uid)
                queue.move(.assignedPodAdd, now: now)
            }
            return
        }
        let event = cache.addPod(PodInfo(pod))
        queue.move(event, now: now)
    }

    private func pendingPodChanged(_ pod: Pod, uid: String, now: UInt64) {
        guard PodInfo.wantsScheduling(pod, schedulerName: profile.schedulerName) else {
            queue.delete(uid: uid)
            return
        }
        // A pod being bound keeps the version it was scheduled with (kube skips updates of
        // assumed pods); the informer's bound version follows.
        if binding[uid] != nil { return }
        if !queue.update(pod, now: now) { queue.add(pod, now: now) }
    }

    public func podDeleted(_ pod: Pod, now: UInt64) {
        let uid = pod.metadata?.uid ?? ""
        queue.delete(uid: uid)
        binding[uid] = nil
        if cache.removePod(uid: uid) { queue.move(.assignedPodDelete, now: now) }
    }

    // MARK: Scheduling

    /// Moves pods whose back-off ended, and pods unschedulable for too long, to active.
    public func tick(now: UInt64) {
        queue.flushBackoff(now: now)
        queue.flushUnschedulableLeftovers(now: now)
    }

    /// Tries the next active pod; nil when none is active.
    public func scheduleNext(now: UInt64) -> Decision? {
        queue.flushBackoff(now: now)
        guard let queued = queue.pop() else { return nil }
        let cycle = queue.schedulingCycle
        switch algorithm.schedule(queued.info, cache: cache, namespaceLabels: namespaceLabels) {
        case .selected(let node, _, _):
            cache.assume(queued.info, on: node)
            binding[queued.uid] = queued
            return .bind(queued, node: node)
        case .unfit(let fit, let awaited):
            queue.requeue(queued, awaitedEvents: awaited, isError: false, cycle: cycle, now: now)
            return .unschedulable(queued, message: fit.message)
        }
    }

    /// The API server accepted the binding; the informer will confirm the assumption.
    public func bindingSucceeded(uid: String) {
        binding[uid] = nil
    }

    /// The binding failed: the assumption is undone and, unless the pod was bound or deleted
    /// meanwhile (`retry` false, or the informer already reported it), the pod backs off.
    /// Returns the pod when it was requeued.
    @discardableResult
    public func bindingFailed(uid: String, retry: Bool, now: UInt64) -> QueuedPod? {
        guard let queued = binding.removeValue(forKey: uid) else { return nil }
        guard cache.forget(uid: uid) else { return nil }
        queue.move(.assignedPodDelete, now: now)
        guard retry, queue.location(ofPod: uid) == nil else { return nil }
        queue.requeue(queued, awaitedEvents: .all, isError: true, cycle: queue.schedulingCycle, now: now)
        return queued
    }
}
