import Api
import Logging

/// DeploymentController rolls Deployments out through ReplicaSets (seed item 20): one replica
/// set per template revision, named <deployment>-<pod-template-hash>; RollingUpdate grows the
/// new one and shrinks the old ones within maxSurge and maxUnavailable; Recreate removes every
/// old pod before the new replica set starts; changing only spec.replicas scales
/// proportionally; paused deployments only scale; old replica sets beyond revisionHistoryLimit
/// are deleted; status carries the Available and Progressing conditions, the latter with
/// ProgressDeadlineExceeded once the rollout stalls for progressDeadlineSeconds. The decisions
/// are in DeploymentDecisions; this type reads the caches and writes.
public struct DeploymentController: Controller {
    public static let name = "deployment"
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
        let deployments: Informer<Deployment>
        let replicaSets: Informer<ReplicaSet>
        let pods: Informer<Pod>
        let events: EventRecorder
        let logger: Logger

        init(context: ControllerContext) {
            client = context.client
            logger = context.logger
            loop = ReconcileLoop(name: DeploymentController.name, workers: context.workers, logger: context.logger)
            deployments = context.informers.informer(Deployment.self)
            replicaSets = context.informers.informer(ReplicaSet.self)
            pods = context.informers.informer(Pod.self)
            events = context.events("deployment-controller")
            deployments.addEventHandler(loop.objectHandler(Deployment.self))
            replicaSets.addEventHandler(Informer<ReplicaSet>.EventHandler(
                onAdd: { [weak self] in self?.replicaSetChanged(old: nil, new: $0) },
                onUpdate: { [weak self] in self?.replicaSetChanged(old: $0, new: $1) },
                onDelete: { [weak self] in self?.replicaSetChanged(old: nil, new: $0) }))
            pods.addEventHandler(Informer<Pod>.EventHandler(onDelete: { [weak self] in self?.podDeleted($0) }))
        }

        // MARK: Events

        private func ownerKey(of replicaSet: ReplicaSet) -> String? {
            guard let reference = ControllerRef.of(replicaSet), reference.kind == "Deployment", let name = reference.name else { return nil }
            let key = ObjectKey.make(namespace: replicaSet.metadata?.namespace, name: name)
            guard deployments.indexer.get(key: key)?.metadata?.uid == reference.uid else { return nil }
            return key
        }

        private func replicaSetChanged(old: ReplicaSet?, new: ReplicaSet) {
            if let old, ControllerRef.of(old)?.uid != ControllerRef.of(new)?.uid, let key = ownerKey(of: old) { loop.enqueue(key) }
            if let key = ownerKey(of: new) {
                loop.enqueue(key)
            } else if ControllerRef.of(new) == nil {
                // An orphan: the deployments that may adopt it look.
                for deployment in deployments.indexer.byIndex(InformerIndexes.namespace, new.metadata?.namespace ?? "") {
                    if let selector = try? ParsedLabelSelector(deployment.spec?.selector), !selector.isEmpty, selector.matches(new) {
                        loop.enqueue(deployment)
                    }
                }
            }
        }

        /// Recreate waits for old pods to be gone: their deletions wake it.
        private func podDeleted(_ pod: Pod) {
            guard let reference = ControllerRef.of(pod), reference.kind == "ReplicaSet", let name = reference.name else { return }
            guard let replicaSet = replicaSets.indexer.get(key: ObjectKey.make(namespace: pod.metadata?.namespace, name: name)),
                let key = ownerKey(of: replicaSet), let deployment = deployments.indexer.get(key: key),
                DeploymentDecisions.isRecreate(deployment)
            else { return }
            loop.enqueue(key)
        }

        // MARK: Sync

        func sync(_ key: String) async throws {
            let (namespace, name) = ObjectKey.split(key)
            guard let cached = deployments.lister.get(namespace: namespace, name: name) else { return }
            var work = Work(core: self, deployment: cached)
            do {
                try await work.sync()
            } catch let error as SpecError {
                events.record(work.deployment, .warning, reason: "InvalidSpec", message: error.description)
            }
        }
    }

    /// Work is one sync of one deployment: the deployment and its replica sets as they are now,
    /// replaced by what the API server returns after each write.
    struct Work {
        let core: Core
        var deployment: Deployment
        var replicaSets: [ReplicaSet] = []
        let now = WallClock.now()

        init(core: Core, deployment: Deployment) {
            self.core = core
            self.deployment = deployment
        }

        var client: ApiClient { core.client }
        var key: String { ObjectKey.of(deployment) }

        mutating func sync() async throws {
            let selector: ParsedLabelSelector
            do {
                selector = try ParsedLabelSelector(deployment.spec?.selector, field: "spec.selector")
            } catch {
                throw SpecError(field: "spec.selector", error.message)
            }
            if selector.isEmpty {
                core.events.record(
                    deployment, .warning, reason: "SelectingAll",
                    message: "This deployment is selecting all pods. A non-empty selector is required.")
                return
            }
            let namespace = deployment.metadata?.namespace ?? ""
            let candidates = core.replicaSets.indexer.byIndex(InformerIndexes.namespace, namespace)
            replicaSets = try await ClaimWriter(client: client, owner: deployment).claim(candidates, selector: selector)

            if deployment.metadata?.deletionTimestamp != nil {
                let (new, old) = try await replicaSetsAndRevision(create: false)
                return try await writeStatus(try DeploymentDecisions.calculateStatus(deployment, all: all(new, old), new: new, now: now))
            }
            if let status = DeploymentDecisions.pausedConditionStatus(deployment, now: now) {
                deployment = try await client.updateStatus(with(status))
            }
            if deployment.spec?.paused == true || DeploymentDecisions.isScalingEvent(deployment, replicaSets) {
                return try await scaleOnly()
            }
            if DeploymentDecisions.isRecreate(deployment) {
                try await rolloutRecreate()
            } else {
                try await rolloutRolling()
            }
        }

        func all(_ new: ReplicaSet?, _ old: [ReplicaSet]) -> [ReplicaSet] {
            old + (new.map { [$0] } ?? [])
        }

        func with(_ status: DeploymentStatus) -> Deployment {
            var copy = deployment
            copy.status = status
            return copy
        }

        // MARK: Strategies

        /// Paused, or only spec.replicas changed: resize, prune history when paused, status.
        mutating func scaleOnly() async throws {
            var (new, old) = try await replicaSetsAndRevision(create: false)
            for target in try DeploymentDecisions.scale(deployment, new: new, old: old) {
                try await scale(named: target.name, to: target.replicas)
            }
            (new, old) = split()
            if deployment.spec?.paused == true { try await pruneHistory(old) }
            try await writeStatus(try DeploymentDecisions.calculateStatus(deployment, all: all(new, old), new: new, now: now))
        }

        mutating func rolloutRolling() async throws {
            var (new, old) = try await replicaSetsAndRevision(create: true)
            guard let newReplicaSet = new else { return }
            // Grow (or trim) the new replica set first.
            let wanted = DeploymentDecisions.replicas(deployment)
            let current = DeploymentDecisions.specReplicas(newReplicaSet)
            if current != wanted {
                let target = current > wanted
                    ? wanted : try DeploymentDecisions.newReplicaSetReplicas(deployment, all: all(new, old), new: newReplicaSet)
                if target != current {
                    try await scale(named: newReplicaSet.metadata?.name ?? "", to: target)
                    (new, old) = split()
                    return try await rolloutStatus(new: new, old: old)
                }
            }
            // Then shrink the old ones as far as availability allows.
            let targets = try DeploymentDecisions.scaleDownOld(deployment, old: old, new: new)
            for target in targets { try await scale(named: target.name, to: target.replicas) }
            (new, old) = split()
            if targets.isEmpty, DeploymentDecisions.isComplete(
                deployment, try DeploymentDecisions.calculateStatus(deployment, all: all(new, old), new: new, now: now))
            {
                try await pruneHistory(old)
            }
            try await rolloutStatus(new: new, old: old)
        }

        mutating func rolloutRecreate() async throws {
            var (new, old) = try await replicaSetsAndRevision(create: false)
            let active = old.filter { DeploymentDecisions.specReplicas($0) > 0 }
            for replicaSet in active { try await scale(named: replicaSet.metadata?.name ?? "", to: 0) }
            (new, old) = split()
            if !active.isEmpty || oldPodsRunning(new: new, old: old) {
                return try await rolloutStatus(new: new, old: old)
            }
            if new == nil {
                (new, old) = try await replicaSetsAndRevision(create: true)
            }
            if let newReplicaSet = new, DeploymentDecisions.specReplicas(newReplicaSet) != DeploymentDecisions.replicas(deployment) {
                try await scale(named: newReplicaSet.metadata?.name ?? "", to: DeploymentDecisions.replicas(deployment))
                (new, old) = split()
            }
            if DeploymentDecisions.isComplete(deployment, try DeploymentDecisions.calculateStatus(deployment, all: all(new, old), new: new, now: now)) {
                try await pruneHistory(old)
            }
            try await rolloutStatus(new: new, old: old)
        }

        /// Whether any pod of an old replica set still exists and has not finished (Recreate
        /// waits for them: two revisions must never run at once).
        func oldPodsRunning(new: ReplicaSet?, old: [ReplicaSet]) -> Bool {
            if old.contains(where: { ($0.status?.replicas ?? 0) > 0 }) { return true }
            for replicaSet in old {
                guard let uid = replicaSet.metadata?.uid else { continue }
                for pod in core.pods.indexer.byIndex(InformerIndexes.controllerUID, uid) where !PodState.isTerminal(pod) {
                    return true
                }
            }
            return false
        }

        // MARK: Replica sets

        func split() -> (ReplicaSet?, [ReplicaSet]) {
            DeploymentDecisions.split(deployment, replicaSets)
        }

        /// Finds the new replica set (creating it when `create` and none exists), brings its
        /// revision annotation above every old one, and records that revision on the deployment.
        mutating func replicaSetsAndRevision(create: Bool) async throws -> (ReplicaSet?, [ReplicaSet]) {
            let (existing, old) = split()
            let revision = DeploymentDecisions.nextRevision(old: old)
            var new: ReplicaSet
            if let existing {
                new = existing
                let annotated = DeploymentDecisions.applyAnnotations(deployment, to: &new, revision: revision, isNew: false)
                if annotated || new.spec?.minReadySeconds != deployment.spec?.minReadySeconds {
                    new.spec?.minReadySeconds = deployment.spec?.minReadySeconds
                    new = try await client.update(new)
                    replace(new)
                }
                if DeploymentDecisions.progressDeadlineSeconds(deployment) != nil,
                    DeploymentDecisions.condition(deployment.status, "Progressing") == nil
                {
                    var status = deployment.status ?? DeploymentStatus()
                    DeploymentDecisions.setCondition(&status, DeploymentDecisions.makeCondition(
                        "Progressing", "True", reason: "FoundNewReplicaSet",
                        message: "Found new replica set \"\(new.metadata?.name ?? "")\"", now: now))
                    deployment = try await client.updateStatus(with(status))
                }
            } else {
                guard create else { return (nil, old) }
                new = try await createNewReplicaSet(revision: revision, old: old)
            }
            try await recordRevision(DeploymentDecisions.revision(new))
            return (new, old)
        }

        mutating func createNewReplicaSet(revision: Int64, old: [ReplicaSet]) async throws -> ReplicaSet {
            let replicas = try DeploymentDecisions.newReplicaSetReplicas(deployment, all: old, new: nil)
            let wanted = try DeploymentDecisions.newReplicaSet(deployment, revision: revision, replicas: replicas)
            let name = wanted.metadata?.name ?? ""
            do throws(ApiError) {
                let created = try await client.create(wanted)
                replicaSets.append(created)
                if replicas > 0 {
                    core.events.record(deployment, .normal, reason: "ScalingReplicaSet", message: "Scaled up replica set \(name) from 0 to \(replicas)")
                }
                if DeploymentDecisions.progressDeadlineSeconds(deployment) != nil {
                    var status = deployment.status ?? DeploymentStatus()
                    DeploymentDecisions.setCondition(&status, DeploymentDecisions.makeCondition(
                        "Progressing", "True", reason: "NewReplicaSetCreated", message: "Created new replica set \"\(name)\"", now: now))
                    deployment = try await client.updateStatus(with(status))
                }
                return created
            } catch {
                guard error.code == 409 && error.reason == "AlreadyExists" else { throw error }
                let found = try await client.get(ReplicaSet.self, namespace: deployment.metadata?.namespace, name: name)
                if ControllerRef.isControlled(found, by: deployment),
                    DeploymentDecisions.templatesEqualIgnoringHash(found.spec?.template, deployment.spec?.template)
                {
                    // Ours, made by an earlier sync whose create we did not see answered.
                    replace(found)
                    return found
                }
                // A hash collision: another template (or object) has this name. Count it so
                // that the next sync tries another name.
                var status = deployment.status ?? DeploymentStatus()
                status.collisionCount = (status.collisionCount ?? 0) + 1
                deployment = try await client.updateStatus(with(status))
                core.events.record(
                    deployment, .warning, reason: "HashCollision",
                    message: "Found a hash collision for deployment \(deployment.metadata?.name ?? "") with replica set \(name); bumping the collision count")
                throw error
            }
        }

        /// Writes the revision annotation on the deployment (metadata, so a plain update).
        mutating func recordRevision(_ revision: Int64) async throws {
            let text = String(revision)
            guard deployment.metadata?.annotations[DeploymentDecisions.revisionAnnotation] != text else { return }
            var copy = deployment
            copy.meta.annotations[DeploymentDecisions.revisionAnnotation] = text
            deployment = try await client.update(copy)
        }

        mutating func replace(_ replicaSet: ReplicaSet) {
            if let index = replicaSets.firstIndex(where: { $0.metadata?.uid == replicaSet.metadata?.uid }) {
                replicaSets[index] = replicaSet
            } else {
                replicaSets.append(replicaSet)
            }
        }

        /// Sets a replica set's size and its desired/max-replicas annotations; records an event
        /// when the size changes.
        mutating func scale(named name: String, to size: Int) async throws {
            guard let index = replicaSets.firstIndex(where: { $0.metadata?.name == name }) else { return }
            var replicaSet = replicaSets[index]
            let before = DeploymentDecisions.specReplicas(replicaSet)
            let annotated = try DeploymentDecisions.applyReplicasAnnotations(deployment, to: &replicaSet)
            guard before != size || annotated else { return }
            var spec = replicaSet.spec ?? ReplicaSetSpec()
            spec.replicas = Int32(size)
            replicaSet.spec = spec
            replicaSet = try await client.update(replicaSet)
            replicaSets[index] = replicaSet
            if before != size {
                let direction = size > before ? "up" : "down"
                core.events.record(
                    deployment, .normal, reason: "ScalingReplicaSet", message: "Scaled \(direction) replica set \(name) from \(before) to \(size)")
            }
        }

        func pruneHistory(_ old: [ReplicaSet]) async throws(ApiError) {
            for replicaSet in DeploymentDecisions.historyToDelete(deployment, old: old) {
                do {
                    try await client.delete(ReplicaSet.self, namespace: replicaSet.metadata?.namespace, name: replicaSet.metadata?.name ?? "")
                } catch {
                    if error.code != 404 { throw error }
                }
            }
        }

        // MARK: Status

        mutating func rolloutStatus(new: ReplicaSet?, old: [ReplicaSet]) async throws {
            let (status, recheck) = try DeploymentDecisions.rolloutStatus(deployment, all: all(new, old), new: new, now: now)
            try await writeStatus(status)
            if let recheck { core.loop.enqueue(key, afterSeconds: recheck) }
        }

        mutating func writeStatus(_ status: DeploymentStatus) async throws {
            guard status != deployment.status else { return }
            deployment = try await client.updateStatus(with(status))
        }
    }
}
