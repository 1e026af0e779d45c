import Api

/// ReplicaCounts is what a replica set's (or replication controller's) status reports about its
/// pods.
public struct ReplicaCounts: Sendable, Hashable {
    /// Active pods (not terminal, not being deleted).
    public var replicas = 0
    /// Active pods carrying every label of the template.
    public var fullyLabeled = 0
    public var ready = 0
    /// Ready for at least minReadySeconds.
    public var available = 0
    /// Pods being deleted.
    public var terminating = 0

    public init(replicas: Int = 0, fullyLabeled: Int = 0, ready: Int = 0, available: Int = 0, terminating: Int = 0) {
        self.replicas = replicas
        self.fullyLabeled = fullyLabeled
        self.ready = ready
        self.available = available
        self.terminating = terminating
    }
}

/// ReplicaFailure is the ReplicaFailure condition: pods could not be created or deleted.
public struct ReplicaFailure: Sendable, Hashable {
    /// FailedCreate or FailedDelete.
    public var reason: String
    public var message: String
}

/// ReplicaStatusView is the part of a replica set's status its controller computes.
public struct ReplicaStatusView: Sendable, Hashable {
    public var counts = ReplicaCounts()
    public var observedGeneration: Int64 = 0
    public var failure: ReplicaFailure?

    public init(counts: ReplicaCounts = ReplicaCounts(), observedGeneration: Int64 = 0, failure: ReplicaFailure? = nil) {
        self.counts = counts
        self.observedGeneration = observedGeneration
        self.failure = failure
    }
}

/// ReplicaDecisions is the replica set controller's logic without I/O (Kubernetes'
/// replica_set.go manageReplicas and calculateStatus): how many pods to create, which to delete,
/// and what the status says.
public enum ReplicaDecisions {
    /// The most pods created or deleted in one sync (Kubernetes' BurstReplicas); the rest
    /// follow in the next sync, once the informer has seen these.
    public static let burstReplicas = 500

    public enum Action: Sendable, Equatable {
        case none
        case create(count: Int)
        case delete([Pod])
    }

    /// What to do so that `active` (the controller's active pods) becomes `desired` pods.
    /// `related` are the pods of sibling replica sets, for ranking crowded nodes.
    public static func manage(desired: Int, active: [Pod], related: [Pod]? = nil, now: Double) -> Action {
        let difference = active.count - desired
        if difference < 0 {
            return .create(count: min(-difference, burstReplicas))
        }
        if difference > 0 {
            let count = min(difference, burstReplicas)
            return .delete(PodRanking.toDelete(active, count: count, related: related ?? active, now: now))
        }
        return .none
    }

    /// The counts of the status, from the controller's active pods and its terminating ones.
    public static func counts(
        active: [Pod], terminating: Int = 0, template: PodTemplateSpec?, minReadySeconds: Int32, now: Double
    ) -> ReplicaCounts {
        var counts = ReplicaCounts(replicas: active.count, terminating: terminating)
        for pod in active {
            if PodTemplates.isFullyLabeled(pod, template: template) { counts.fullyLabeled += 1 }
            if PodState.isReady(pod) {
                counts.ready += 1
                if PodState.isAvailable(pod, minReadySeconds: minReadySeconds, now: now) { counts.available += 1 }
            }
        }
        return counts
    }

    /// The status after a sync: the counts, the generation seen, and the ReplicaFailure
    /// condition — set when creating or deleting failed, kept until a sync manages without error.
    public static func status(
        counts: ReplicaCounts, generation: Int64, previous: ReplicaStatusView, manageError: ApiError?, wantedMore: Bool
    ) -> ReplicaStatusView {
        var status = ReplicaStatusView(counts: counts, observedGeneration: generation, failure: previous.failure)
        if let manageError {
            if status.failure == nil {
                status.failure = ReplicaFailure(reason: wantedMore ? "FailedCreate" : "FailedDelete", message: manageError.message)
            }
        } else {
            status.failure = nil
        }
        return status
    }

    /// How soon a change of an owned pod must be synced (labels and controller references are
    /// looked at separately, since they can change the owner).
    public enum Urgency: Sendable, Equatable {
        /// Nothing the controller counts changed (a binding, addresses, container details).
        case none
        /// Only the status counts changed (readiness): the sync may wait for a batch of such
        /// changes, so that thousands of pods turning ready cost a few status writes, not one each.
        case batched
        /// The pod stopped or started counting toward replicas (it finished or is being
        /// deleted): replace it now.
        case now
    }

    public static func urgency(old: Pod, new: Pod) -> Urgency {
        if PodState.isActive(old) != PodState.isActive(new) { return .now }
        let (before, after) = (PodState.readyCondition(old), PodState.readyCondition(new))
        if before?.status != after?.status || before?.lastTransitionTime != after?.lastTransitionTime { return .batched }
        return .none
    }

    /// Seconds until the next ready pod becomes available, so that the status is recomputed
    /// then; nil when no pod is waiting out minReadySeconds.
    public static func nextAvailabilityCheck(active: [Pod], minReadySeconds: Int32, now: Double) -> Double? {
        active.compactMap { PodState.secondsUntilAvailable($0, minReadySeconds: minReadySeconds, now: now) }.min()
    }
}
