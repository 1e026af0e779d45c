import Api

/// DeploymentDecisions is the deployment controller's logic without I/O, after Kubernetes'
/// pkg/controller/deployment (rolling.go, recreate.go, sync.go, progress.go and
/// util/deployment_util.go): which replica set is new, how far each replica set may be scaled
/// at this step of a rollout, the revision bookkeeping, and the status with its Available and
/// Progressing conditions. Every function takes the objects read from the caches and returns
/// what to write; `DeploymentController` does the writing.
public enum DeploymentDecisions {
    public static let revisionAnnotation = "deployment.kubernetes.io/revision"
    public static let desiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
    public static let maxReplicasAnnotation = "deployment.kubernetes.io/max-replicas"
    public static let podTemplateHashLabel = "pod-template-hash"
    /// Annotations of the deployment that are not copied onto its replica sets.
    static let annotationsNotCopied: Set<String> = [
        "kubectl.kubernetes.io/last-applied-configuration", revisionAnnotation, "deployment.kubernetes.io/revision-history",
        desiredReplicasAnnotation, maxReplicasAnnotation, "deprecated.deployment.rollback.to",
    ]
    static let defaultMaxSurge = IntOrPercent.percent("25%")
    static let defaultMaxUnavailable = IntOrPercent.percent("25%")
    static let defaultRevisionHistoryLimit = 10
    static let defaultProgressDeadlineSeconds: Int32 = 600

    // MARK: Spec with defaults

    public static func replicas(_ deployment: Deployment) -> Int { Int(deployment.spec?.replicas ?? 1) }

    public static func isRecreate(_ deployment: Deployment) -> Bool { deployment.spec?.strategy?.type == "Recreate" }

    public static func revisionHistoryLimit(_ deployment: Deployment) -> Int {
        Int(deployment.spec?.revisionHistoryLimit ?? Int32(defaultRevisionHistoryLimit))
    }

    /// Seconds without progress before the rollout is reported failed; nil when there is no
    /// deadline (Kubernetes spells that as MaxInt32).
    public static func progressDeadlineSeconds(_ deployment: Deployment) -> Int32? {
        let value = deployment.spec?.progressDeadlineSeconds ?? defaultProgressDeadlineSeconds
        return value == Int32.max ? nil : value
    }

    /// maxSurge and maxUnavailable as counts (Kubernetes' ResolveFenceposts): surge rounds up,
    /// unavailable rounds down, and when both come out 0, one pod may be unavailable so that
    /// the rollout can move at all.
    public static func fenceposts(_ deployment: Deployment) throws(SpecError) -> (surge: Int, unavailable: Int) {
        let total = replicas(deployment)
        let rolling = deployment.spec?.strategy?.rollingUpdate
        let surge = try IntOrPercent.scaled(
            rolling?.maxSurge, default: defaultMaxSurge, total: total, roundUp: true, field: "spec.strategy.rollingUpdate.maxSurge")
        let unavailable = try IntOrPercent.scaled(
            rolling?.maxUnavailable, default: defaultMaxUnavailable, total: total, roundUp: false,
            field: "spec.strategy.rollingUpdate.maxUnavailable")
        if surge == 0 && unavailable == 0 { return (0, 1) }
        return (surge, unavailable)
    }

    /// Pods that may be unavailable during a rolling update, never more than the replicas.
    public static func maxUnavailable(_ deployment: Deployment) throws(SpecError) -> Int {
        guard !isRecreate(deployment), replicas(deployment) > 0 else { return 0 }
        return min(try fenceposts(deployment).unavailable, replicas(deployment))
    }

    public static func maxSurge(_ deployment: Deployment) throws(SpecError) -> Int {
        guard !isRecreate(deployment) else { return 0 }
        return try fenceposts(deployment).surge
    }

    // MARK: Replica sets

    public static func specReplicas(_ replicaSet: ReplicaSet) -> Int { Int(replicaSet.spec?.replicas ?? 1) }

    public static func revision(_ replicaSet: ReplicaSet) -> Int64 {
        Int64(replicaSet.metadata?.annotations[revisionAnnotation] ?? "") ?? 0
    }

    static func creationOrder(_ left: ReplicaSet, _ right: ReplicaSet) -> Bool {
        let leftTime = left.metadata?.creationTimestamp.map(WallClock.seconds) ?? 0
        let rightTime = right.metadata?.creationTimestamp.map(WallClock.seconds) ?? 0
        if leftTime != rightTime { return leftTime < rightTime }
        return (left.metadata?.name ?? "") < (right.metadata?.name ?? "")
    }

    /// The template without the pod-template-hash label, for comparing a replica set's template
    /// with its deployment's (Kubernetes' EqualIgnoreHash).
    public static func withoutHash(_ template: PodTemplateSpec?) -> PodTemplateSpec {
        var copy = template ?? PodTemplateSpec()
        copy.metadata?.labels[podTemplateHashLabel] = nil
        if copy.metadata == ObjectMeta() { copy.metadata = nil }
        return copy
    }

    public static func templatesEqualIgnoringHash(_ left: PodTemplateSpec?, _ right: PodTemplateSpec?) -> Bool {
        withoutHash(left) == withoutHash(right)
    }

    /// The replica set whose template is the deployment's (the oldest, if several are), and the
    /// others.
    public static func split(_ deployment: Deployment, _ replicaSets: [ReplicaSet]) -> (new: ReplicaSet?, old: [ReplicaSet]) {
        let sorted = replicaSets.sorted(by: creationOrder)
        guard let index = sorted.firstIndex(where: { templatesEqualIgnoringHash($0.spec?.template, deployment.spec?.template) }) else {
            return (nil, sorted)
        }
        var old = sorted
        let new = old.remove(at: index)
        return (new, old)
    }

    /// The revision the deployment's current template gets: one more than every other's, so
    /// that an old template brought back by a rollback becomes the newest revision again.
    public static func nextRevision(old: [ReplicaSet]) -> Int64 {
        (old.map(revision).max() ?? 0) + 1
    }

    /// The name of the replica set for the deployment's template (Kubernetes: name-hash).
    public static func newReplicaSetName(_ deployment: Deployment) -> (name: String, hash: String) {
        let hash = TemplateHash.of(withoutHash(deployment.spec?.template), collisionCount: deployment.status?.collisionCount)
        return ((deployment.metadata?.name ?? "") + "-" + hash, hash)
    }

    /// A new replica set for the deployment's template: the template and selector carry the
    /// pod-template-hash label, so that its pods are told apart from other revisions'.
    public static func newReplicaSet(_ deployment: Deployment, revision: Int64, replicas: Int) throws(SpecError) -> ReplicaSet {
        let (name, hash) = newReplicaSetName(deployment)
        var template = withoutHash(deployment.spec?.template)
        var templateMeta = template.metadata ?? ObjectMeta()
        templateMeta.labels[podTemplateHashLabel] = hash
        template.metadata = templateMeta
        var selector = deployment.spec?.selector ?? LabelSelector()
        selector.matchLabels[podTemplateHashLabel] = hash
        var meta = ObjectMeta()
        meta.name = name
        meta.namespace = deployment.metadata?.namespace
        meta.labels = templateMeta.labels
        meta.ownerReferences = [ControllerRef.to(deployment)]
        var replicaSet = ReplicaSet()
        replicaSet.metadata = meta
        replicaSet.spec = ReplicaSetSpec(
            replicas: Int32(replicas), selector: selector, template: template, minReadySeconds: deployment.spec?.minReadySeconds)
        _ = applyAnnotations(deployment, to: &replicaSet, revision: revision, isNew: true)
        _ = try applyReplicasAnnotations(deployment, to: &replicaSet)
        return replicaSet
    }

    /// Copies the deployment's annotations onto its new replica set and raises the revision
    /// annotation to `revision` when it is lower (Kubernetes' SetNewReplicaSetAnnotations).
    /// Returns whether anything changed.
    @discardableResult
    public static func applyAnnotations(_ deployment: Deployment, to replicaSet: inout ReplicaSet, revision: Int64, isNew: Bool) -> Bool {
        var meta = replicaSet.meta
        let before = meta.annotations
        for (key, value) in deployment.metadata?.annotations ?? [:] where !annotationsNotCopied.contains(key) {
            meta.annotations[key] = value
        }
        let current = Int64(meta.annotations[revisionAnnotation] ?? "") ?? 0
        if current < revision || (isNew && meta.annotations[revisionAnnotation] == nil) {
            meta.annotations[revisionAnnotation] = String(revision)
        }
        replicaSet.metadata = meta
        return meta.annotations != before
    }

    /// Writes desired-replicas and max-replicas, which proportional scaling reads back later.
    /// Returns whether anything changed.
    @discardableResult
    public static func applyReplicasAnnotations(_ deployment: Deployment, to replicaSet: inout ReplicaSet) throws(SpecError) -> Bool {
        var meta = replicaSet.meta
        let desired = String(replicas(deployment))
        let maximum = String(replicas(deployment) + (try maxSurge(deployment)))
        guard meta.annotations[desiredReplicasAnnotation] != desired || meta.annotations[maxReplicasAnnotation] != maximum else {
            return false
        }
        meta.annotations[desiredReplicasAnnotation] = desired
        meta.annotations[maxReplicasAnnotation] = maximum
        replicaSet.metadata = meta
        return true
    }

    // MARK: Counting (conservative against status that lags spec)

    /// Pods that may exist for these replica sets: the larger of spec and status, so that a
    /// replica set scaled down whose pods are not gone yet still counts them. (Kubernetes
    /// counts spec only; counting both keeps maxSurge true of the pods that actually exist.)
    static func podsThatMayExist(_ replicaSets: [ReplicaSet]) -> Int {
        replicaSets.reduce(0) { $0 + max(specReplicas($1), Int($1.status?.replicas ?? 0)) }
    }

    /// Available pods these replica sets are known to keep: status, capped by spec, so that a
    /// replica set scaled down whose status was not refreshed yet does not count pods it is
    /// about to delete.
    static func availableKept(_ replicaSets: [ReplicaSet]) -> Int {
        replicaSets.reduce(0) { $0 + min(Int($1.status?.availableReplicas ?? 0), specReplicas($1)) }
    }

    // MARK: Rolling update

    /// The size the new replica set may grow to at this step (Kubernetes' NewRSNewReplicas):
    /// up to replicas + maxSurge pods in all, and never past replicas.
    public static func newReplicaSetReplicas(_ deployment: Deployment, all: [ReplicaSet], new: ReplicaSet?) throws(SpecError) -> Int {
        let current = new.map(specReplicas) ?? 0
        if isRecreate(deployment) { return replicas(deployment) }
        let surge = try maxSurge(deployment)
        let existing = podsThatMayExist(all)
        let maximumTotal = replicas(deployment) + surge
        guard existing < maximumTotal else { return current }
        let scaleUp = min(maximumTotal - existing, replicas(deployment) - current)
        return current + max(0, scaleUp)
    }

    /// ScaleTarget is one replica set's new size.
    public struct ScaleTarget: Sendable, Hashable {
        public var name: String
        public var replicas: Int
    }

    /// How far the old replica sets may shrink at this step (Kubernetes'
    /// reconcileOldReplicaSets): first pods that are not available anyway, oldest replica set
    /// first, then available ones as long as replicas - maxUnavailable stay available, counting
    /// the new replica set's pods that are not available yet. Returns only changed sizes.
    public static func scaleDownOld(_ deployment: Deployment, old: [ReplicaSet], new: ReplicaSet?) throws(SpecError) -> [ScaleTarget] {
        var sizes = old.sorted(by: creationOrder).map { (replicaSet: $0, size: specReplicas($0)) }
        let oldTotal = sizes.reduce(0) { $0 + $1.size }
        guard oldTotal > 0 else { return [] }
        let allTotal = oldTotal + (new.map(specReplicas) ?? 0)
        let minAvailable = replicas(deployment) - (try maxUnavailable(deployment))
        let newUnavailable = new.map { max(0, specReplicas($0) - Int($0.status?.availableReplicas ?? 0)) } ?? 0
        let maxScaledDown = allTotal - minAvailable - newUnavailable
        guard maxScaledDown > 0 else { return [] }

        // Unhealthy pods first: they are unavailable already, so removing them costs nothing.
        var cleaned = 0
        for index in sizes.indices where cleaned < maxScaledDown {
            let available = min(Int(sizes[index].replicaSet.status?.availableReplicas ?? 0), sizes[index].size)
            let unhealthy = sizes[index].size - available
            guard sizes[index].size > 0, unhealthy > 0 else { continue }
            let count = min(maxScaledDown - cleaned, unhealthy)
            sizes[index].size -= count
            cleaned += count
        }

        // Then available pods, down to minAvailable. The replica set controller deletes its
        // unavailable pods first, so shrinking by the excess keeps minAvailable.
        var available = availableKept(new.map { [$0] } ?? [])
        for entry in sizes { available += min(Int(entry.replicaSet.status?.availableReplicas ?? 0), entry.size) }
        if available > minAvailable {
            var remaining = available - minAvailable
            for index in sizes.indices where remaining > 0 && sizes[index].size > 0 {
                let count = min(sizes[index].size, remaining)
                sizes[index].size -= count
                remaining -= count
            }
        }
        return sizes.compactMap { entry in
            entry.size == specReplicas(entry.replicaSet) ? nil : ScaleTarget(name: entry.replicaSet.metadata?.name ?? "", replicas: entry.size)
        }
    }

    // MARK: Scaling outside a rollout (Kubernetes' sync.go scale)

    /// Whether spec.replicas changed since the active replica sets were sized (their
    /// desired-replicas annotation differs): then the controller only scales.
    public static func isScalingEvent(_ deployment: Deployment, _ replicaSets: [ReplicaSet]) -> Bool {
        for replicaSet in replicaSets where specReplicas(replicaSet) > 0 {
            guard let desired = Int(replicaSet.metadata?.annotations[desiredReplicasAnnotation] ?? "") else { continue }
            if desired != replicas(deployment) { return true }
        }
        return false
    }

    /// The replica set to scale alone when only one is active (or, with none active, the newest).
    static func activeOrLatest(new: ReplicaSet?, old: [ReplicaSet]) -> ReplicaSet? {
        let all = old + (new.map { [$0] } ?? [])
        let active = all.filter { specReplicas($0) > 0 }
        switch active.count {
        case 0: return new ?? all.sorted(by: creationOrder).last
        case 1: return active[0]
        default: return nil
        }
    }

    /// New sizes after a change of spec.replicas: the only active replica set takes it all;
    /// during a rolling update the difference is spread over the active replica sets in
    /// proportion to their size (Kubernetes' proportional scaling), leftovers to the largest.
    public static func scale(_ deployment: Deployment, new: ReplicaSet?, old: [ReplicaSet]) throws(SpecError) -> [ScaleTarget] {
        let wanted = replicas(deployment)
        if let only = activeOrLatest(new: new, old: old) {
            guard specReplicas(only) != wanted else { return [] }
            return [ScaleTarget(name: only.metadata?.name ?? "", replicas: wanted)]
        }
        // Saturated: the new replica set has everything; the old ones go.
        if let new, specReplicas(new) == wanted, Int(new.status?.availableReplicas ?? 0) == wanted {
            return old.filter { specReplicas($0) > 0 }.map { ScaleTarget(name: $0.metadata?.name ?? "", replicas: 0) }
        }
        guard !isRecreate(deployment) else { return [] }
        let active = (old + (new.map { [$0] } ?? [])).filter { specReplicas($0) > 0 }
        let allowed = wanted > 0 ? wanted + (try maxSurge(deployment)) : 0
        let current = active.reduce(0) { $0 + specReplicas($1) }
        let toAdd = allowed - current
        guard toAdd != 0 else { return [] }
        // Growing: largest (then newest) first; shrinking: largest (then oldest) first.
        let ordered = active.sorted { left, right in
            if specReplicas(left) != specReplicas(right) { return specReplicas(left) > specReplicas(right) }
            return toAdd > 0 ? creationOrder(right, left) : creationOrder(left, right)
        }
        var added = 0
        var sizes = ordered.map(specReplicas)
        for index in ordered.indices {
            let proportion = try proportion(ordered[index], deployment, toAdd: toAdd, added: added)
            sizes[index] += proportion
            added += proportion
        }
        if !sizes.isEmpty {
            sizes[0] = max(0, sizes[0] + toAdd - added)
        }
        return ordered.indices.compactMap { index in
            sizes[index] == specReplicas(ordered[index]) ? nil : ScaleTarget(name: ordered[index].metadata?.name ?? "", replicas: sizes[index])
        }
    }

    /// A replica set's share of `toAdd` (Kubernetes' GetProportion and getReplicaSetFraction).
    static func proportion(_ replicaSet: ReplicaSet, _ deployment: Deployment, toAdd: Int, added: Int) throws(SpecError) -> Int {
        guard specReplicas(replicaSet) > 0, toAdd != 0, toAdd != added else { return 0 }
        let fraction: Int
        if replicas(deployment) == 0 {
            fraction = -specReplicas(replicaSet)
        } else {
            let deploymentReplicas = replicas(deployment) + (try maxSurge(deployment))
            let annotated = Int(replicaSet.metadata?.annotations[maxReplicasAnnotation] ?? "")
                ?? Int(deployment.status?.replicas ?? 0)
            guard annotated > 0 else { return 0 }
            let size = Double(specReplicas(replicaSet) * deploymentReplicas) / Double(annotated)
            fraction = Int(size.rounded()) - specReplicas(replicaSet)
        }
        let allowed = toAdd - added
        return toAdd > 0 ? min(fraction, allowed) : max(fraction, allowed)
    }

    // MARK: History

    /// Old replica sets beyond revisionHistoryLimit that may be deleted: lowest revisions first,
    /// and only those with no pods left.
    public static func historyToDelete(_ deployment: Deployment, old: [ReplicaSet]) -> [ReplicaSet] {
        let alive = old.filter { $0.metadata?.deletionTimestamp == nil }
        let excess = alive.count - revisionHistoryLimit(deployment)
        guard excess > 0 else { return [] }
        let byRevision = alive.sorted { left, right in
            if revision(left) != revision(right) { return revision(left) < revision(right) }
            return creationOrder(left, right)
        }
        return byRevision.prefix(excess).filter { replicaSet in
            (replicaSet.status?.replicas ?? 0) == 0 && specReplicas(replicaSet) == 0
                && (replicaSet.metadata?.generation ?? 0) <= (replicaSet.status?.observedGeneration ?? 0)
        }
    }

    // MARK: Status and conditions

    public static func condition(_ status: DeploymentStatus?, _ type: String) -> DeploymentCondition? {
        status?.conditions.first { $0.type == type }
    }

    static func makeCondition(_ type: String, _ status: String, reason: String, message: String, now: Double) -> DeploymentCondition {
        DeploymentCondition(
            type: type, status: status, reason: reason, message: message, lastUpdateTime: WallClock.time(now),
            lastTransitionTime: WallClock.time(now))
    }

    /// Sets `condition` unless one with the same status and reason is there (Kubernetes'
    /// SetDeploymentCondition); a same-status change keeps the transition time.
    static func setCondition(_ status: inout DeploymentStatus, _ condition: DeploymentCondition) {
        var condition = condition
        if let current = self.condition(status, condition.type ?? "") {
            if current.status == condition.status && current.reason == condition.reason { return }
            if current.status == condition.status { condition.lastTransitionTime = current.lastTransitionTime }
        }
        status.conditions.removeAll { $0.type == condition.type }
        status.conditions.append(condition)
    }

    /// The status computed from the replica sets, with the Available condition (Kubernetes'
    /// calculateStatus). Other conditions are carried over.
    public static func calculateStatus(_ deployment: Deployment, all: [ReplicaSet], new: ReplicaSet?, now: Double) throws(SpecError) -> DeploymentStatus {
        var status = deployment.status ?? DeploymentStatus()
        let available = all.reduce(0) { $0 + Int($1.status?.availableReplicas ?? 0) }
        let total = all.reduce(0) { $0 + specReplicas($1) }
        status.observedGeneration = deployment.metadata?.generation ?? 0
        status.replicas = Int32(all.reduce(0) { $0 + Int($1.status?.replicas ?? 0) })
        status.updatedReplicas = new?.status?.replicas ?? 0
        status.readyReplicas = Int32(all.reduce(0) { $0 + Int($1.status?.readyReplicas ?? 0) })
        status.availableReplicas = Int32(available)
        status.unavailableReplicas = Int32(max(0, total - available))
        status.terminatingReplicas = Int32(all.reduce(0) { $0 + Int($1.status?.terminatingReplicas ?? 0) })
        if available >= replicas(deployment) - (try maxUnavailable(deployment)) {
            setCondition(&status, makeCondition(
                "Available", "True", reason: "MinimumReplicasAvailable", message: "Deployment has minimum availability.", now: now))
        } else {
            setCondition(&status, makeCondition(
                "Available", "False", reason: "MinimumReplicasUnavailable", message: "Deployment does not have minimum availability.",
                now: now))
        }
        return status
    }

    /// Every pod is updated and available and the latest generation was seen.
    public static func isComplete(_ deployment: Deployment, _ status: DeploymentStatus) -> Bool {
        let wanted = Int32(replicas(deployment))
        return status.updatedReplicas == wanted && status.replicas == wanted && status.availableReplicas == wanted
            && (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0)
    }

    /// The new status shows progress over the stored one.
    static func isProgressing(_ deployment: Deployment, _ status: DeploymentStatus) -> Bool {
        let old = deployment.status ?? DeploymentStatus()
        let oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0)
        let newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0)
        return (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || newOld < oldOld
            || (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
    }

    static func hasTimedOut(_ deployment: Deployment, _ status: DeploymentStatus, now: Double) -> Bool {
        guard let deadline = progressDeadlineSeconds(deployment), let condition = condition(status, "Progressing") else { return false }
        if condition.reason == "NewReplicaSetAvailable" { return false }
        if condition.reason == "ProgressDeadlineExceeded" { return true }
        let from = condition.lastUpdateTime.map(WallClock.seconds) ?? now
        return from + Double(deadline) < now
    }

    /// The status of a rolling or recreating deployment with its Progressing condition
    /// (Kubernetes' syncRolloutStatus), and when to look again to catch a progress deadline.
    public static func rolloutStatus(
        _ deployment: Deployment, all: [ReplicaSet], new: ReplicaSet?, now: Double
    ) throws(SpecError) -> (status: DeploymentStatus, recheckAfterSeconds: Double?) {
        var status = try calculateStatus(deployment, all: all, new: new, now: now)
        let current = condition(deployment.status, "Progressing")
        let deadline = progressDeadlineSeconds(deployment)
        if deadline == nil { status.conditions.removeAll { $0.type == "Progressing" } }
        let alreadyComplete = status.replicas == status.updatedReplicas && current?.reason == "NewReplicaSetAvailable"
        let subject = new.map { "ReplicaSet \"\($0.metadata?.name ?? "")\"" } ?? "Deployment \"\(deployment.metadata?.name ?? "")\""
        if deadline != nil && !alreadyComplete {
            if isComplete(deployment, status) {
                setCondition(&status, makeCondition(
                    "Progressing", "True", reason: "NewReplicaSetAvailable", message: "\(subject) has successfully progressed.", now: now))
            } else if isProgressing(deployment, status) {
                var condition = makeCondition(
                    "Progressing", "True", reason: "ReplicaSetUpdated", message: "\(subject) is progressing.", now: now)
                if let current, current.status == "True" { condition.lastTransitionTime = current.lastTransitionTime }
                // Progress moves lastUpdateTime, which is what the deadline counts from.
                status.conditions.removeAll { $0.type == "Progressing" }
                status.conditions.append(condition)
            } else if hasTimedOut(deployment, status, now: now) {
                setCondition(&status, makeCondition(
                    "Progressing", "False", reason: "ProgressDeadlineExceeded", message: "\(subject) has timed out progressing.", now: now))
            }
        }
        // A replica set that cannot create or delete its pods makes the deployment say so.
        if let failure = all.lazy.compactMap({ $0.status?.conditions.first { $0.type == "ReplicaFailure" && $0.status == "True" } }).first {
            setCondition(&status, makeCondition(
                "ReplicaFailure", "True", reason: failure.reason ?? "FailedCreate", message: failure.message ?? "", now: now))
        } else {
            status.conditions.removeAll { $0.type == "ReplicaFailure" }
        }
        var recheck: Double? = nil
        if let deadline, let progressing = condition(status, "Progressing"), !isComplete(deployment, status),
            progressing.reason != "ProgressDeadlineExceeded", progressing.reason != "NewReplicaSetAvailable" || !alreadyComplete
        {
            let from = progressing.lastUpdateTime.map(WallClock.seconds) ?? now
            recheck = max(1, from + Double(deadline) - now + 1)
        }
        return (status, recheck)
    }

    /// The Progressing condition for a paused or resumed deployment (Kubernetes'
    /// checkPausedConditions); nil when nothing changes.
    public static func pausedConditionStatus(_ deployment: Deployment, now: Double) -> DeploymentStatus? {
        guard progressDeadlineSeconds(deployment) != nil else { return nil }
        let current = condition(deployment.status, "Progressing")
        if current?.reason == "ProgressDeadlineExceeded" { return nil }
        let pausedShown = current?.reason == "DeploymentPaused"
        let paused = deployment.spec?.paused == true
        var status = deployment.status ?? DeploymentStatus()
        if paused && !pausedShown {
            setCondition(&status, makeCondition("Progressing", "Unknown", reason: "DeploymentPaused", message: "Deployment is paused", now: now))
        } else if !paused && pausedShown {
            setCondition(&status, makeCondition("Progressing", "Unknown", reason: "DeploymentResumed", message: "Deployment is resumed", now: now))
        } else {
            return nil
        }
        return status
    }
}
