import Api
import Logging

/// StatefulSetController gives each StatefulSet's pods stable names, host names and storage
/// (seed item 20): pod <set>-<i> with hostname <set>-<i> and subdomain spec.serviceName; a claim
/// <template>-<set>-<i> per volumeClaimTemplate, created before the pod and kept when the pod
/// goes; pods created in ordinal order, each once its predecessors are Running and Ready
/// (OrderedReady) or all at once (Parallel); scale-down from the highest ordinal; rolling
/// updates by deleting the highest out-of-date pod. The decisions are in StatefulSetDecisions;
/// this type reads the caches and writes.
public struct StatefulSetController: Controller {
    public static let name = "statefulset"
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
        let sets: Informer<StatefulSet>
        let pods: Informer<Pod>
        let claims: Informer<PersistentVolumeClaim>
        let expectations = Expectations()
        let events: EventRecorder
        let logger: Logger

        init(context: ControllerContext) {
            client = context.client
            logger = context.logger
            loop = ReconcileLoop(name: StatefulSetController.name, workers: context.workers, logger: context.logger)
            sets = context.informers.informer(StatefulSet.self)
            pods = context.informers.informer(Pod.self)
            claims = context.informers.informer(PersistentVolumeClaim.self)
            events = context.events("statefulset-controller")
            sets.addEventHandler(Informer<StatefulSet>.EventHandler(
                onAdd: { [loop] in loop.enqueue($0) },
                onUpdate: { [loop] _, new in loop.enqueue(new) },
                onDelete: { [loop, expectations] set in
                    expectations.forget(ObjectKey.of(set))
                    loop.enqueue(set)
                }))
            pods.addEventHandler(Informer<Pod>.EventHandler(
                onAdd: { [weak self] pod in
                    guard let self, let key = self.ownerKey(of: pod) else { return }
                    if PodState.isTerminating(pod) {
                        self.expectations.deletionObserved(key, dependent: ObjectKey.of(pod))
                    } else {
                        self.expectations.creationObserved(key)
                    }
                    self.loop.enqueue(key)
                },
                onUpdate: { [weak self] old, new in
                    guard let self, old.metadata?.resourceVersion != new.metadata?.resourceVersion else { return }
                    if let key = self.ownerKey(of: old), ControllerRef.of(old)?.uid != ControllerRef.of(new)?.uid { self.loop.enqueue(key) }
                    guard let key = self.ownerKey(of: new) else { return }
                    if PodState.isTerminating(new) { self.expectations.deletionObserved(key, dependent: ObjectKey.of(new)) }
                    self.loop.enqueue(key)
                    if !PodState.isReady(old), PodState.isReady(new),
                        let minReady = self.sets.indexer.get(key: key)?.spec?.minReadySeconds, minReady > 0
                    {
                        self.loop.enqueue(key, afterSeconds: Double(minReady) + 0.1)
                    }
                },
                onDelete: { [weak self] pod in
                    guard let self, let key = self.ownerKey(of: pod) else { return }
                    self.expectations.deletionObserved(key, dependent: ObjectKey.of(pod))
                    self.loop.enqueue(key)
                }))
        }

        private func ownerKey(of pod: Pod) -> String? {
            guard let reference = ControllerRef.of(pod), reference.kind == "StatefulSet", let name = reference.name else { return nil }
            let key = ObjectKey.make(namespace: pod.metadata?.namespace, name: name)
            guard sets.indexer.get(key: key)?.metadata?.uid == reference.uid else { return nil }
            return key
        }

        // MARK: Sync

        func sync(_ key: String) async throws {
            let (namespace, name) = ObjectKey.split(key)
            guard let set = sets.lister.get(namespace: namespace, name: name) else {
                expectations.forget(key)
                return
            }
            let selector: ParsedLabelSelector
            do {
                selector = try ParsedLabelSelector(set.spec?.selector, field: "spec.selector")
            } catch {
                events.record(set, .warning, reason: "InvalidSelector", message: error.message)
                return
            }
            if selector.isEmpty {
                events.record(set, .warning, reason: "SelectingAll", message: "This stateful set is selecting all pods. A non-empty selector is required.")
                return
            }
            // Only pods named <set>-<ordinal> are candidates (Kubernetes' isMemberOf).
            let candidates = pods.indexer.byIndex(InformerIndexes.namespace, namespace).filter { StatefulSetDecisions.isMember($0, of: set) }
            let owned = try await ClaimWriter(client: client, owner: set).claim(candidates, selector: selector)
            let now = WallClock.now()
            var failure: ApiError? = nil
            if set.metadata?.deletionTimestamp == nil && expectations.satisfied(key) {
                let existingClaims = Set(claims.indexer.byIndex(InformerIndexes.namespace, namespace).compactMap { $0.metadata?.name })
                let steps = StatefulSetDecisions.plan(set, pods: owned, existingClaims: existingClaims, now: now)
                failure = await execute(steps, set: set, key: key)
            }
            let status = StatefulSetDecisions.status(set, pods: owned, now: now)
            try await writeStatus(set, status)
            let minReady = set.spec?.minReadySeconds ?? 0
            if let wait = owned.compactMap({ PodState.secondsUntilAvailable($0, minReadySeconds: minReady, now: now) }).min() {
                loop.enqueue(key, afterSeconds: wait + 0.1)
            }
            if let failure { throw failure }
        }

        /// Runs the steps in order (OrderedReady plans hold at most one pod write); stops at the
        /// first error.
        private func execute(_ steps: [StatefulSetDecisions.Step], set: StatefulSet, key: String) async -> ApiError? {
            let creations = steps.filter { if case .create = $0 { return true } else { return false } }.count
            let deletions = steps.compactMap { step -> String? in
                if case .delete(let pod) = step { return ObjectKey.of(pod) }
                return nil
            }
            expectations.expectCreations(key, count: creations)
            expectations.expectDeletions(key, dependents: deletions)
            var remainingCreations = creations
            for step in steps {
                do throws(ApiError) {
                    switch step {
                    case .createClaims(let missing):
                        try await createClaims(missing, set: set)
                    case .create(let pod, let missing):
                        try await createClaims(missing, set: set)
                        let name = pod.metadata?.name ?? ""
                        do throws(ApiError) {
                            _ = try await client.create(pod)
                            remainingCreations -= 1
                            events.record(set, .normal, reason: "SuccessfulCreate", message: "create Pod \(name) in StatefulSet \(set.metadata?.name ?? "") successful")
                        } catch {
                            events.record(set, .warning, reason: "FailedCreate", message: "create Pod \(name) in StatefulSet \(set.metadata?.name ?? "") failed error: \(error.message)")
                            throw error
                        }
                    case .delete(let pod):
                        let name = pod.metadata?.name ?? ""
                        do throws(ApiError) {
                            try await client.delete(Pod.self, namespace: pod.metadata?.namespace, name: name)
                            events.record(set, .normal, reason: "SuccessfulDelete", message: "delete Pod \(name) in StatefulSet \(set.metadata?.name ?? "") successful")
                        } catch {
                            expectations.deletionObserved(key, dependent: ObjectKey.of(pod))
                            if error.code != 404 {
                                events.record(set, .warning, reason: "FailedDelete", message: "delete Pod \(name) in StatefulSet \(set.metadata?.name ?? "") failed error: \(error.message)")
                                throw error
                            }
                        }
                    }
                } catch {
                    if remainingCreations > 0 { expectations.creationsSkipped(key, count: remainingCreations) }
                    for step in steps {
                        if case .delete(let pod) = step { expectations.deletionObserved(key, dependent: ObjectKey.of(pod)) }
                    }
                    return error
                }
            }
            return nil
        }

        private func createClaims(_ missing: [PersistentVolumeClaim], set: StatefulSet) async throws(ApiError) {
            for claim in missing {
                let name = claim.metadata?.name ?? ""
                do {
                    _ = try await client.create(claim)
                    events.record(set, .normal, reason: "SuccessfulCreate", message: "create Claim \(name) for StatefulSet \(set.metadata?.name ?? "") success")
                } catch {
                    if error.code == 409 && error.reason == "AlreadyExists" { continue }
                    events.record(set, .warning, reason: "FailedCreate", message: "create Claim \(name) for StatefulSet \(set.metadata?.name ?? "") failed error: \(error.message)")
                    throw error
                }
            }
        }

        private func writeStatus(_ set: StatefulSet, _ status: StatefulSetStatus) async throws(ApiError) {
            guard status != set.status else { return }
            var updated = set
            updated.status = status
            do {
                _ = try await client.updateStatus(updated)
            } catch {
                if error.code == 404 { return }
                throw error
            }
        }
    }
}
