import Api
import Logging
import Wire

/// ReplicaManager is the replica set controller loop, shared by ReplicaSet and
/// ReplicationController (Kubernetes' ReplicaSetController serves both the same way): it claims
/// the active pods its selector matches, creates or deletes pods to reach spec.replicas
/// (ReplicaDecisions), and writes the status. Expectations keep it from acting again before
/// the informer has seen its own creations and deletions.
///
/// Unlike Kubernetes, pod events that can only change the status counts (a creation the
/// expectations still wait for, a pod turning ready) do not sync the owner at once: they are
/// batched over `statusBatchSeconds`, since each sync reads every pod of the owner and may
/// write its status (and wake the deployment controller). Events that call for action — the
/// last expected creation or deletion seen, a pod that finished, was deleted, or changed labels
/// or owner — sync at once.
final class ReplicaManager<Owner: ReplicatedPodOwner>: Sendable {
    let client: ApiClient
    let loop: ReconcileLoop
    let owners: Informer<Owner>
    let pods: Informer<Pod>
    let expectations = Expectations()
    let slowStart = SlowStartMemory(maximum: ReplicaDecisions.burstReplicas)
    /// How long status-only pod events wait, so that a burst of them costs one sync.
    static var statusBatchSeconds: Double { 0.2 }
    let events: EventRecorder
    let logger: Logger

    init(context: ControllerContext, name: String, eventComponent: String) {
        client = context.client
        logger = context.logger
        loop = ReconcileLoop(name: name, workers: context.workers, logger: context.logger)
        owners = context.informers.informer(Owner.self)
        pods = context.informers.informer(Pod.self)
        events = context.events(eventComponent)
        owners.addEventHandler(Informer<Owner>.EventHandler(
            onAdd: { [loop] in loop.enqueue($0) },
            onUpdate: { [loop] _, new in loop.enqueue(new) },
            onDelete: { [loop, expectations, slowStart] owner in
                expectations.forget(ObjectKey.of(owner))
                slowStart.forget(ObjectKey.of(owner))
                loop.enqueue(owner)
            }))
        pods.addEventHandler(Informer<Pod>.EventHandler(
            onAdd: { [weak self] in self?.podAdded($0) },
            onUpdate: { [weak self] in self?.podUpdated(old: $0, new: $1) },
            onDelete: { [weak self] in self?.podDeleted($0) }))
    }

    func run() async {
        await loop.run { [self] key in try await sync(key) }
    }

    // MARK: Pod events

    /// The key of the pod's controller when it is one of ours (same kind, and the uid of the
    /// cached owner of that name).
    private func ownerKey(of pod: Pod) -> String? {
        guard let reference = ControllerRef.of(pod), reference.kind == Owner.resourceType.kind, let name = reference.name else { return nil }
        let key = ObjectKey.make(namespace: pod.metadata?.namespace, name: name)
        guard let owner = owners.indexer.get(key: key), owner.metadata?.uid == reference.uid else { return nil }
        return key
    }

    /// Owners in the pod's namespace whose selector matches it: those that may adopt an orphan.
    private func matchingOwners(of pod: Pod) -> [String] {
        owners.indexer.byIndex(InformerIndexes.namespace, pod.metadata?.namespace ?? "").compactMap { owner in
            guard let selector = try? owner.podSelector(), selector.matches(pod) else { return nil }
            return ObjectKey.of(owner)
        }
    }

    private func podAdded(_ pod: Pod) {
        if PodState.isTerminating(pod) {
            // Restarted controller manager: a pod being deleted must not count as a creation.
            return podDeleted(pod)
        }
        if let key = ownerKey(of: pod) {
            expectations.creationObserved(key)
            if expectations.satisfied(key) {
                loop.enqueue(key)
            } else {
                loop.enqueue(key, afterSeconds: Self.statusBatchSeconds)
            }
        } else if ControllerRef.of(pod) == nil {
            for key in matchingOwners(of: pod) { loop.enqueue(key) }
        }
    }

    private func podUpdated(old: Pod, new: Pod) {
        guard old.metadata?.resourceVersion != new.metadata?.resourceVersion else { return }
        let labelsChanged = old.metadata?.labels != new.metadata?.labels
        if PodState.isTerminating(new) {
            podDeleted(new)
            if labelsChanged { podDeleted(old) }
            return
        }
        let controllerChanged = ControllerRef.of(old)?.uid != ControllerRef.of(new)?.uid
        if controllerChanged, let key = ownerKey(of: old) { loop.enqueue(key) }
        if let key = ownerKey(of: new) {
            if labelsChanged || controllerChanged {
                loop.enqueue(key)
            } else {
                switch ReplicaDecisions.urgency(old: old, new: new) {
                case .none: break
                case .batched: loop.enqueue(key, afterSeconds: Self.statusBatchSeconds)
                case .now: loop.enqueue(key)
                }
            }
            // A pod that just became ready becomes available after minReadySeconds.
            if !PodState.isReady(old), PodState.isReady(new),
                let owner = owners.indexer.get(key: key), owner.minReadySecondsValue > 0
            {
                loop.enqueue(key, afterSeconds: Double(owner.minReadySecondsValue) + 1)
            }
        } else if ControllerRef.of(new) == nil, labelsChanged || controllerChanged {
            for key in matchingOwners(of: new) { loop.enqueue(key) }
        }
    }

    private func podDeleted(_ pod: Pod) {
        guard let key = ownerKey(of: pod) else { return }
        expectations.deletionObserved(key, dependent: ObjectKey.of(pod))
        loop.enqueue(key)
    }

    /// The active pods the owner may claim: those it controls and the orphans of its namespace
    /// (never the pods of other controllers, which a namespace-wide scan would copy).
    private func candidates(_ owner: Owner, namespace: String) -> (active: [Pod], terminating: Int) {
        var owned = pods.indexer.byIndex(InformerIndexes.controllerUID, owner.metadata?.uid ?? "")
        let terminating = owned.count(where: PodState.isTerminating)
        owned.removeAll { !PodState.isActive($0) }
        for orphan in pods.indexer.byIndex(InformerIndexes.orphanNamespace, namespace) where PodState.isActive(orphan) {
            owned.append(orphan)
        }
        return (owned, terminating)
    }

    // MARK: Sync

    func sync(_ key: String) async throws {
        let syncStarted = monotonicNanoseconds()
        defer { logger.trace("\(loop.name) \(key): synced in \((monotonicNanoseconds() - syncStarted) / 1000) µs") }
        let (namespace, name) = ObjectKey.split(key)
        guard let owner = owners.lister.get(namespace: namespace, name: name) else {
            expectations.forget(key)
            return
        }
        let needsSync = expectations.satisfied(key)
        let selector: ParsedLabelSelector
        do {
            selector = try owner.podSelector()
        } catch {
            events.record(owner, .warning, reason: "InvalidSelector", message: "\(error)")
            return
        }
        let (active, terminating) = candidates(owner, namespace: namespace)
        let owned = try await ClaimWriter(client: client, owner: owner).claim(active, selector: selector)
        var manageError: ApiError? = nil
        var changedPods = false
        let wantedMore = owned.count < owner.desiredReplicas
        if needsSync && owner.metadata?.deletionTimestamp == nil {
            (manageError, changedPods) = await manage(owner, key: key, active: owned)
        }
        // The status this sync could write counts the pods as they were before its creations or
        // deletions; the sync that observes them (expectations met) writes the right one, so
        // a burst of creations costs no status write of its own.
        if changedPods && manageError == nil { return }
        let now = WallClock.now()
        let counts = ReplicaDecisions.counts(
            active: owned, terminating: terminating, template: owner.podTemplate, minReadySeconds: owner.minReadySecondsValue,
            now: now)
        let status = ReplicaDecisions.status(
            counts: counts, generation: owner.metadata?.generation ?? 0, previous: owner.replicaStatus,
            manageError: manageError, wantedMore: wantedMore)
        try await writeStatus(owner, status, now: now)
        if let wait = ReplicaDecisions.nextAvailabilityCheck(active: owned, minReadySeconds: owner.minReadySecondsValue, now: now) {
            loop.enqueue(key, afterSeconds: wait + 0.1)
        }
        if let manageError { throw manageError }
    }

    /// Creates or deletes pods; returns the first error, and whether it asked for any change.
    private func manage(_ owner: Owner, key: String, active: [Pod]) async -> (error: ApiError?, changed: Bool) {
        switch ReplicaDecisions.manage(desired: owner.desiredReplicas, active: active, now: WallClock.now()) {
        case .none:
            return (nil, false)
        case .create(let count):
            expectations.expectCreations(key, count: count)
            let pod = PodTemplates.pod(from: owner.podTemplate, owner: owner)
            let (client, events) = (client, events)
            let initial = slowStart.initialBatch(key)
            let started = monotonicNanoseconds()
            let (succeeded, error) = await SlowStart.run(count: count, initial: initial) { _ throws(ApiError) in
                do throws(ApiError) {
                    let created = try await client.create(pod)
                    events.record(owner, .normal, reason: "SuccessfulCreate", message: "Created pod: \(created.metadata?.name ?? "")")
                } catch {
                    events.record(owner, .warning, reason: "FailedCreate", message: "Error creating: \(error.message)")
                    throw error
                }
            }
            if succeeded < count { expectations.creationsSkipped(key, count: count - succeeded) }
            slowStart.record(key, attempted: count, succeeded: succeeded)
            logger.debug("\(loop.name) \(key): created \(succeeded) of \(count) pods (first batch \(initial)) in \((monotonicNanoseconds() - started) / 1_000_000) ms")
            return (error, true)
        case .delete(let victims):
            expectations.expectDeletions(key, dependents: victims.map(ObjectKey.of))
            let error = await withTaskGroup(of: ApiError?.self) { group in
                for pod in victims {
                    group.addTask { [client, events, expectations] in
                        do throws(ApiError) {
                            try await client.delete(Pod.self, namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? "")
                            events.record(owner, .normal, reason: "SuccessfulDelete", message: "Deleted pod: \(pod.metadata?.name ?? "")")
                            return nil
                        } catch {
                            // The deletion will not be observed; do not wait for it.
                            expectations.deletionObserved(key, dependent: ObjectKey.of(pod))
                            if error.code == 404 { return nil }
                            events.record(owner, .warning, reason: "FailedDelete", message: "Error deleting: \(error.message)")
                            return error
                        }
                    }
                }
                var first: ApiError? = nil
                for await error in group where first == nil { first = error }
                return first
            }
            return (error, true)
        }
    }

    /// Writes the status when it changed; on a conflict reads the owner again and retries once.
    private func writeStatus(_ owner: Owner, _ status: ReplicaStatusView, now: Double) async throws(ApiError) {
        let updated = owner.withReplicaStatus(status, now: now)
        guard updated != owner else { return }
        do {
            _ = try await client.updateStatus(updated)
        } catch where error.code == 409 {
            let fresh = try await client.get(Owner.self, namespace: owner.metadata?.namespace, name: owner.metadata?.name ?? "")
            guard fresh.metadata?.uid == owner.metadata?.uid else { return }
            var retried = status
            retried.observedGeneration = min(status.observedGeneration, fresh.metadata?.generation ?? 0)
            _ = try await client.updateStatus(fresh.withReplicaStatus(retried, now: now))
        } catch where error.code == 404 {
            return
        }
    }
}
