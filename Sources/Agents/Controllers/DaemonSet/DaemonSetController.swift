import Api
import Logging
import Synchronization

/// DaemonSetController runs one pod of each DaemonSet on every eligible node (seed item 20):
/// nodes are eligible by nodeSelector, required node affinity and taints (daemon pods tolerate
/// not-ready, unreachable, pressure and cordoned nodes); each pod is made with required node
/// affinity to its node, as Kubernetes does, for the scheduler to bind; node additions and
/// removals are followed; RollingUpdate replaces pods within maxUnavailable (or maxSurge).
/// The decisions are in DaemonSetDecisions; this type reads the caches and writes.
public struct DaemonSetController: Controller {
    public static let name = "daemonset"
    let core: Core

    public init(context: ControllerContext) {
        core = Core(context: context)
    }

    public func run() async {
        await core.loop.run { [core] key in try await core.sync(key) }
    }

    final class Core: Sendable {
        let client: ApiClient
        let loop: ReconcileLoop
        let daemonSets: Informer<DaemonSet>
        let nodes: Informer<Node>
        let pods: Informer<Pod>
        let expectations = Expectations()
        let backoff = FailedPodBackoff()
        let events: EventRecorder
        let logger: Logger

        init(context: ControllerContext) {
            client = context.client
            logger = context.logger
            loop = ReconcileLoop(name: DaemonSetController.name, workers: context.workers, logger: context.logger)
            daemonSets = context.informers.informer(DaemonSet.self)
            nodes = context.informers.informer(Node.self)
            pods = context.informers.informer(Pod.self)
            events = context.events("daemonset-controller")
            daemonSets.addEventHandler(Informer<DaemonSet>.EventHandler(
                onAdd: { [loop] in loop.enqueue($0) },
                onUpdate: { [loop] _, new in loop.enqueue(new) },
                onDelete: { [loop, expectations, backoff] daemonSet in
                    expectations.forget(ObjectKey.of(daemonSet))
                    backoff.forget(ObjectKey.of(daemonSet))
                    loop.enqueue(daemonSet)
                }))
            nodes.addEventHandler(Informer<Node>.EventHandler(
                onAdd: { [weak self] _ in self?.enqueueAll() },
                onUpdate: { [weak self] old, new in
                    // Only what decides eligibility matters; heartbeats do not.
                    if old.metadata?.labels != new.metadata?.labels || old.spec?.taints != new.spec?.taints
                        || old.spec?.unschedulable != new.spec?.unschedulable
                    {
                        self?.enqueueAll()
                    }
                },
                onDelete: { [weak self] _ in self?.enqueueAll() }))
            pods.addEventHandler(Informer<Pod>.EventHandler(
                onAdd: { [weak self] in self?.podAdded($0) },
                onUpdate: { [weak self] in self?.podUpdated(old: $0, new: $1) },
                onDelete: { [weak self] in self?.podDeleted($0) }))
        }

        private func enqueueAll() {
            for daemonSet in daemonSets.indexer.all() { loop.enqueue(daemonSet) }
        }

        // MARK: Pod events

        private func ownerKey(of pod: Pod) -> String? {
            guard let reference = ControllerRef.of(pod), reference.kind == "DaemonSet", let name = reference.name else { return nil }
            let key = ObjectKey.make(namespace: pod.metadata?.namespace, name: name)
            guard daemonSets.indexer.get(key: key)?.metadata?.uid == reference.uid else { return nil }
            return key
        }

        private func enqueueMatching(_ pod: Pod) {
            for daemonSet in daemonSets.indexer.byIndex(InformerIndexes.namespace, pod.metadata?.namespace ?? "") {
                if let selector = try? ParsedLabelSelector(daemonSet.spec?.selector), !selector.isEmpty, selector.matches(pod) {
                    loop.enqueue(daemonSet)
                }
            }
        }

        private func podAdded(_ pod: Pod) {
            if PodState.isTerminating(pod) { return podDeleted(pod) }
            if let key = ownerKey(of: pod) {
                expectations.creationObserved(key)
                loop.enqueue(key)
            } else if ControllerRef.of(pod) == nil {
                enqueueMatching(pod)
            }
        }

        private func podUpdated(old: Pod, new: Pod) {
            guard old.metadata?.resourceVersion != new.metadata?.resourceVersion else { return }
            if PodState.isTerminating(new) { return podDeleted(new) }
            if ControllerRef.of(old)?.uid != ControllerRef.of(new)?.uid, let key = ownerKey(of: old) { loop.enqueue(key) }
            if let key = ownerKey(of: new) {
                loop.enqueue(key)
                if let node = DaemonSetDecisions.targetNode(new), PodState.isReady(new) { backoff.reset(key, node: node) }
            } else if ControllerRef.of(new) == nil, old.metadata?.labels != new.metadata?.labels {
                enqueueMatching(new)
            }
        }

        private func podDeleted(_ pod: Pod) {
            guard let key = ownerKey(of: pod) else { return }
            expectations.deletionObserved(key, dependent: ObjectKey.of(pod))
            loop.enqueue(key)
        }

        // MARK: Sync

        func sync(_ key: String) async throws {
            let (namespace, name) = ObjectKey.split(key)
            guard let daemonSet = daemonSets.lister.get(namespace: namespace, name: name) else {
                expectations.forget(key)
                return
            }
            let selector: ParsedLabelSelector
            do {
                selector = try ParsedLabelSelector(daemonSet.spec?.selector, field: "spec.selector")
            } catch {
                events.record(daemonSet, .warning, reason: "InvalidSelector", message: error.message)
                return
            }
            if selector.isEmpty {
                events.record(daemonSet, .warning, reason: "SelectingAll", message: "This daemon set is selecting all pods. A non-empty selector is required.")
                return
            }
            let allNodes = nodes.indexer.all()
            let candidates = pods.indexer.byIndex(InformerIndexes.namespace, namespace)
            let owned = try await ClaimWriter(client: client, owner: daemonSet).claim(candidates, selector: selector)
            let podsByNode = DaemonSetDecisions.podsByNode(owned)
            let hash = DaemonSetDecisions.templateHash(daemonSet)
            let now = WallClock.now()
            var failure: (any Error)? = nil
            if daemonSet.metadata?.deletionTimestamp == nil && expectations.satisfied(key) {
                do {
                    let desired = allNodes.filter {
                        DaemonSetDecisions.shouldRun(daemonSet, on: $0, template: DaemonSetDecisions.podTemplate(daemonSet, hash: hash)).run
                    }.count
                    let surge = DaemonSetDecisions.isRollingUpdate(daemonSet)
                        ? try DaemonSetDecisions.rollingLimits(daemonSet, desired: desired).surge : 0
                    var plan = DaemonSetDecisions.manage(daemonSet, nodes: allNodes, podsByNode: podsByNode, hash: hash, surge: surge, now: now)
                    if plan.isEmpty && DaemonSetDecisions.isRollingUpdate(daemonSet) {
                        plan = try DaemonSetDecisions.rollingUpdate(daemonSet, nodes: allNodes, podsByNode: podsByNode, hash: hash, now: now)
                    }
                    if let error = await execute(plan, daemonSet: daemonSet, key: key, hash: hash, now: now) { failure = error }
                } catch {
                    events.record(daemonSet, .warning, reason: "InvalidSpec", message: error.description)
                }
            }
            let status = DaemonSetDecisions.status(daemonSet, nodes: allNodes, podsByNode: podsByNode, hash: hash, now: now)
            try await writeStatus(daemonSet, status)
            let minReady = daemonSet.spec?.minReadySeconds ?? 0
            if let wait = owned.compactMap({ PodState.secondsUntilAvailable($0, minReadySeconds: minReady, now: now) }).min() {
                loop.enqueue(key, afterSeconds: wait + 0.1)
            }
            if let failure { throw failure }
        }

        /// Creates and deletes what the plan says, with expectations; returns the first error.
        private func execute(_ plan: Plan, daemonSet: DaemonSet, key: String, hash: String, now: Double) async -> ApiError? {
            var createOn: [String] = []
            for node in plan.createOn {
                if let wait = backoff.remaining(key, node: node, now: now) {
                    loop.enqueue(key, afterSeconds: wait)
                } else {
                    createOn.append(node)
                }
            }
            for pod in plan.delete where PodState.isTerminal(pod) {
                if let node = DaemonSetDecisions.targetNode(pod) { backoff.failed(key, node: node, now: now) }
                events.record(
                    daemonSet, .warning, reason: "FailedDaemonPod",
                    message: "Found failed daemon pod \(ObjectKey.of(pod)) on node \(DaemonSetDecisions.targetNode(pod) ?? ""), will try to kill it")
            }
            expectations.expectCreations(key, count: createOn.count)
            expectations.expectDeletions(key, dependents: plan.delete.map(ObjectKey.of))
            let template = DaemonSetDecisions.podTemplate(daemonSet, hash: hash)
            let (client, events, expectations) = (client, events, expectations)
            let nodesToCreate = createOn
            let (succeeded, createError) = await SlowStart.run(count: nodesToCreate.count) { index throws(ApiError) in
                let pod = DaemonSetDecisions.pod(daemonSet, template: template, node: nodesToCreate[index])
                do throws(ApiError) {
                    let created = try await client.create(pod)
                    events.record(daemonSet, .normal, reason: "SuccessfulCreate", message: "Created pod: \(created.metadata?.name ?? "")")
                } catch {
                    events.record(daemonSet, .warning, reason: "FailedCreate", message: "Error creating: \(error.message)")
                    throw error
                }
            }
            if succeeded < nodesToCreate.count { expectations.creationsSkipped(key, count: nodesToCreate.count - succeeded) }
            let deleteError = await withTaskGroup(of: ApiError?.self) { group in
                for pod in plan.delete {
                    group.addTask {
                        do throws(ApiError) {
                            try await client.delete(Pod.self, namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? "")
                            events.record(daemonSet, .normal, reason: "SuccessfulDelete", message: "Deleted pod: \(pod.metadata?.name ?? "")")
                            return nil
                        } catch {
                            expectations.deletionObserved(key, dependent: ObjectKey.of(pod))
                            if error.code == 404 { return nil }
                            events.record(daemonSet, .warning, reason: "FailedDelete", message: "Error deleting: \(error.message)")
                            return error
                        }
                    }
                }
                var first: ApiError? = nil
                for await error in group where first == nil { first = error }
                return first
            }
            return createError ?? deleteError
        }

        typealias Plan = DaemonSetDecisions.Plan

        private func writeStatus(_ daemonSet: DaemonSet, _ status: DaemonSetStatus) async throws(ApiError) {
            guard status != daemonSet.status else { return }
            var updated = daemonSet
            updated.status = status
            do {
                _ = try await client.updateStatus(updated)
            } catch {
                guard error.code == 409 else {
                    if error.code == 404 { return }
                    throw error
                }
                var fresh = try await client.get(DaemonSet.self, namespace: daemonSet.metadata?.namespace, name: daemonSet.metadata?.name ?? "")
                guard fresh.metadata?.uid == daemonSet.metadata?.uid else { return }
                var retried = status
                retried.observedGeneration = min(status.observedGeneration ?? 0, fresh.metadata?.generation ?? 0)
                fresh.status = retried
                _ = try await client.updateStatus(fresh)
            }
        }
    }
}

/// FailedPodBackoff spaces out replacing daemon pods that keep failing on one node (Kubernetes
/// backs off from 1 s doubling to 15 min): a pod that cannot run there must not be recreated in
/// a hot loop. Bound: one entry per daemon set and node with a recent failure; entries of
/// deleted daemon sets are dropped, and a ready pod clears its node's entry.
final class FailedPodBackoff: Sendable {
    static let initialSeconds = 1.0
    static let maximumSeconds = 900.0
    private let entries = Mutex<[String: (failures: Int, until: Double)]>([:])

    func failed(_ key: String, node: String, now: Double) {
        entries.withLock { entries in
            let failures = (entries[key + "|" + node]?.failures ?? 0) + 1
            let delay = min(Self.maximumSeconds, Self.initialSeconds * Double(1 << min(failures - 1, 20)))
            entries[key + "|" + node] = (failures, now + delay)
        }
    }

    /// Seconds until a pod may be created on `node` again, or nil when it may now.
    func remaining(_ key: String, node: String, now: Double) -> Double? {
        entries.withLock { entries in
            guard let entry = entries[key + "|" + node], entry.until > now else { return nil }
            return entry.until - now
        }
    }

    func reset(_ key: String, node: String) {
        _ = entries.withLock { $0.removeValue(forKey: key + "|" + node) }
    }

    func forget(_ key: String) {
        entries.withLock { entries in
            for entryKey in entries.keys where entryKey.hasPrefix(key + "|") { entries[entryKey] = nil }
        }
    }
}
