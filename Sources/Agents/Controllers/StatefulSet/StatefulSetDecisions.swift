import Api

/// StatefulSetDecisions is the stateful set controller's logic without I/O, after Kubernetes'
/// pkg/controller/statefulset (stateful_set_control.go updateStatefulSet, stateful_set_utils.go):
/// pods named <set>-<ordinal> with stable host names, claims named
/// <template>-<set>-<ordinal> made before their pod, creation in ordinal order each waiting for
/// its predecessors to be Running and Ready (OrderedReady) or all at once (Parallel), scale-down
/// from the highest ordinal, rolling updates from the highest ordinal down to the partition.
///
/// Unlike Kubernetes, revisions are not stored as ControllerRevision objects (Skiff does not
/// serve that kind): a missing pod is always made from the current template, also below a
/// partition.
public enum StatefulSetDecisions {
    public static let podNameLabel = "statefulset.kubernetes.io/pod-name"
    public static let podIndexLabel = "apps.kubernetes.io/pod-index"
    public static let revisionLabel = "controller-revision-hash"

    // MARK: Spec

    public static func replicas(_ set: StatefulSet) -> Int { Int(set.spec?.replicas ?? 1) }
    public static func startOrdinal(_ set: StatefulSet) -> Int { Int(set.spec?.ordinals?.start ?? 0) }
    public static func isParallel(_ set: StatefulSet) -> Bool { set.spec?.podManagementPolicy == "Parallel" }
    public static func isOnDelete(_ set: StatefulSet) -> Bool { set.spec?.updateStrategy?.type == "OnDelete" }
    public static func partition(_ set: StatefulSet) -> Int { Int(set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0) }

    /// The revision name of the set's template: <set>-<hash>.
    public static func updateRevision(_ set: StatefulSet) -> String {
        (set.metadata?.name ?? "") + "-" + TemplateHash.of(set.spec?.template ?? PodTemplateSpec(), collisionCount: set.status?.collisionCount)
    }

    public static func podName(_ set: StatefulSet, ordinal: Int) -> String {
        "\(set.metadata?.name ?? "")-\(ordinal)"
    }

    /// The parent name and ordinal of a pod named <parent>-<ordinal>.
    public static func parentAndOrdinal(_ name: String) -> (parent: String, ordinal: Int)? {
        guard let dash = name.lastIndex(of: "-") else { return nil }
        let digits = name[name.index(after: dash)...]
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let ordinal = Int(digits) else { return nil }
        return (String(name[..<dash]), ordinal)
    }

    /// A pod belongs to the set when it is named <set>-<ordinal>.
    public static func isMember(_ pod: Pod, of set: StatefulSet) -> Bool {
        parentAndOrdinal(pod.metadata?.name ?? "")?.parent == set.metadata?.name
    }

    public static func ordinal(_ pod: Pod) -> Int {
        parentAndOrdinal(pod.metadata?.name ?? "")?.ordinal ?? -1
    }

    public static func claimName(template: String, set: StatefulSet, ordinal: Int) -> String {
        "\(template)-\(set.metadata?.name ?? "")-\(ordinal)"
    }

    // MARK: Objects

    /// The claims of the pod with `ordinal`, from volumeClaimTemplates: labelled with the set's
    /// matchLabels; owned by the set when whenDeleted is Delete, so that they go with it.
    public static func claims(_ set: StatefulSet, ordinal: Int) -> [PersistentVolumeClaim] {
        set.spec?.volumeClaimTemplates.map { template in
            var claim = template
            var meta = ObjectMeta()
            meta.name = claimName(template: template.metadata?.name ?? "", set: set, ordinal: ordinal)
            meta.namespace = set.metadata?.namespace
            meta.labels = template.metadata?.labels ?? [:]
            for (key, value) in set.spec?.selector?.matchLabels ?? [:] { meta.labels[key] = value }
            meta.annotations = template.metadata?.annotations ?? [:]
            if set.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted == "Delete" {
                var owner = ControllerRef.to(set)
                owner.controller = false
                meta.ownerReferences = [owner]
            }
            claim.metadata = meta
            claim.status = nil
            return claim
        } ?? []
    }

    /// The pod with `ordinal`: the template plus its stable identity (name, hostname,
    /// subdomain, identity labels), the revision label, and a volume per claim template
    /// pointing at its claim.
    public static func pod(_ set: StatefulSet, ordinal: Int, revision: String) -> Pod {
        let name = podName(set, ordinal: ordinal)
        var pod = PodTemplates.pod(from: set.spec?.template, owner: set, name: name)
        var meta = pod.meta
        meta.labels[podNameLabel] = name
        meta.labels[podIndexLabel] = String(ordinal)
        meta.labels[revisionLabel] = revision
        pod.metadata = meta
        var spec = pod.spec ?? PodSpec()
        spec.hostname = name
        if let service = set.spec?.serviceName, !service.isEmpty { spec.subdomain = service }
        for template in set.spec?.volumeClaimTemplates ?? [] {
            let volumeName = template.metadata?.name ?? ""
            var source = VolumeSource()
            source.persistentVolumeClaim = PersistentVolumeClaimVolumeSource(
                claimName: claimName(template: volumeName, set: set, ordinal: ordinal))
            spec.volumes.removeAll { $0.name == volumeName }
            spec.volumes.append(Volume(name: volumeName, volumeSource: source))
        }
        pod.spec = spec
        return pod
    }

    // MARK: Plan

    static func isHealthy(_ pod: Pod, minReadySeconds: Int32, now: Double) -> Bool {
        pod.status?.phase == "Running" && PodState.isAvailable(pod, minReadySeconds: minReadySeconds, now: now)
            && !PodState.isTerminating(pod)
    }

    /// Step is one write of a sync.
    public enum Step: Sendable, Equatable {
        /// Create the claims that do not exist yet, then the pod.
        case create(Pod, claims: [PersistentVolumeClaim])
        /// Create missing claims of an existing pod.
        case createClaims([PersistentVolumeClaim])
        case delete(Pod)
    }

    /// The writes of one sync, in order. In OrderedReady mode a sync stops at the first pod it
    /// must wait for (creating, terminating, not yet running and ready); Parallel mode does not
    /// wait. `existingClaims` are the names of the claims in the set's namespace.
    public static func plan(_ set: StatefulSet, pods: [Pod], existingClaims: Set<String>, now: Double) -> [Step] {
        let count = replicas(set)
        let start = startOrdinal(set)
        let monotonic = !isParallel(set)
        let minReady = set.spec?.minReadySeconds ?? 0
        let revision = updateRevision(set)
        var slots = [Pod?](repeating: nil, count: count)
        var condemned: [Pod] = []
        for pod in pods where isMember(pod, of: set) {
            let ordinal = ordinal(pod)
            if ordinal >= start && ordinal < start + count {
                slots[ordinal - start] = pod
            } else if ordinal >= 0 {
                condemned.append(pod)
            }
        }
        condemned.sort { ordinal($0) < ordinal($1) }
        let firstUnhealthy = (slots.compactMap { $0 } + condemned).first { !isHealthy($0, minReadySeconds: minReady, now: now) }
        var steps: [Step] = []

        for index in slots.indices {
            let ordinal = start + index
            guard let pod = slots[index] else {
                let claims = claims(set, ordinal: ordinal).filter { !existingClaims.contains($0.metadata?.name ?? "") }
                steps.append(.create(pod(set, ordinal: ordinal, revision: revision), claims: claims))
                if monotonic { return steps }
                continue
            }
            if PodState.isTerminal(pod) {
                // A finished pod is deleted; the next sync, after it is gone, makes it again.
                if !PodState.isTerminating(pod) { steps.append(.delete(pod)) }
                if monotonic { return steps }
                continue
            }
            let missing = claims(set, ordinal: ordinal).filter { !existingClaims.contains($0.metadata?.name ?? "") }
            if !missing.isEmpty { steps.append(.createClaims(missing)) }
            if monotonic && (PodState.isTerminating(pod) || !isHealthy(pod, minReadySeconds: minReady, now: now)) { return steps }
        }

        // Scale down, highest ordinal first; in OrderedReady mode one at a time, and only when
        // everything else is healthy (the first unhealthy pod may go).
        for pod in condemned.reversed() {
            if PodState.isTerminating(pod) {
                if monotonic { return steps }
                continue
            }
            if monotonic && !isHealthy(pod, minReadySeconds: minReady, now: now) && pod != firstUnhealthy { return steps }
            steps.append(.delete(pod))
            if monotonic { return steps }
        }

        // Rolling update, highest ordinal first down to the partition, one pod at a time.
        guard !isOnDelete(set) else { return steps }
        let lowest = max(0, partition(set))
        var index = count - 1
        while index >= lowest {
            guard let pod = slots[index] else { return steps }
            if pod.metadata?.labels[revisionLabel] != revision && !PodState.isTerminating(pod) {
                steps.append(.delete(pod))
                return steps
            }
            if !isHealthy(pod, minReadySeconds: minReady, now: now) { return steps }
            index -= 1
        }
        return steps
    }

    // MARK: Status

    /// The status (Kubernetes' UpdateStatefulSet status part): pods that exist, ready and
    /// available ones, those at the current and update revisions; once every pod is updated and
    /// ready, the update revision becomes the current one.
    public static func status(_ set: StatefulSet, pods: [Pod], now: Double) -> StatefulSetStatus {
        var status = set.status ?? StatefulSetStatus()
        let revision = updateRevision(set)
        let current = (status.currentRevision ?? "").isEmpty ? revision : status.currentRevision!
        let minReady = set.spec?.minReadySeconds ?? 0
        var replicas: Int32 = 0, ready: Int32 = 0, available: Int32 = 0, currentCount: Int32 = 0, updated: Int32 = 0
        for pod in pods where isMember(pod, of: set) {
            replicas += 1
            if PodState.isRunningAndReady(pod) {
                ready += 1
                if PodState.isAvailable(pod, minReadySeconds: minReady, now: now) { available += 1 }
            }
            guard !PodState.isTerminating(pod) else { continue }
            let podRevision = pod.metadata?.labels[revisionLabel]
            if podRevision == current { currentCount += 1 }
            if podRevision == revision { updated += 1 }
        }
        status.observedGeneration = set.metadata?.generation ?? 0
        status.replicas = replicas
        status.readyReplicas = ready
        status.availableReplicas = available
        status.currentReplicas = currentCount
        status.updatedReplicas = updated
        status.currentRevision = current
        status.updateRevision = revision
        if !isOnDelete(set) && updated == replicas && ready == replicas {
            status.currentRevision = revision
            status.currentReplicas = updated
        }
        return status
    }
}
