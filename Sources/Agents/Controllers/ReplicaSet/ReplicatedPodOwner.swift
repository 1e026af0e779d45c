import Api

/// ReplicatedPodOwner is what the replica set logic needs of the kinds it serves: ReplicaSet
/// and ReplicationController keep the same number of identical pods and differ only in how they
/// spell their selector and status.
public protocol ReplicatedPodOwner: KubernetesObject {
    /// spec.replicas, 1 when unset.
    var desiredReplicas: Int { get }
    var podTemplate: PodTemplateSpec? { get }
    var minReadySecondsValue: Int32 { get }
    /// The pods the owner counts; a SpecError when the selector cannot be used.
    func podSelector() throws(SpecError) -> ParsedLabelSelector
    var replicaStatus: ReplicaStatusView { get }
    /// The object with its status replaced by `status`; the condition's transition time is
    /// `now` when it changes.
    func withReplicaStatus(_ status: ReplicaStatusView, now: Double) -> Self
}

extension ReplicaSet: ReplicatedPodOwner {
    public var desiredReplicas: Int { Int(spec?.replicas ?? 1) }
    public var podTemplate: PodTemplateSpec? { spec?.template }
    public var minReadySecondsValue: Int32 { spec?.minReadySeconds ?? 0 }

    public func podSelector() throws(SpecError) -> ParsedLabelSelector {
        do {
            return try ParsedLabelSelector(spec?.selector, field: "spec.selector")
        } catch {
            throw SpecError(field: "spec.selector", error.message)
        }
    }

    public var replicaStatus: ReplicaStatusView {
        let status = self.status ?? ReplicaSetStatus()
        let failure = status.conditions.first { $0.type == "ReplicaFailure" && $0.status == "True" }
        return ReplicaStatusView(
            counts: ReplicaCounts(
                replicas: Int(status.replicas ?? 0), fullyLabeled: Int(status.fullyLabeledReplicas ?? 0),
                ready: Int(status.readyReplicas ?? 0), available: Int(status.availableReplicas ?? 0),
                terminating: Int(status.terminatingReplicas ?? 0)),
            observedGeneration: status.observedGeneration ?? 0,
            failure: failure.map { ReplicaFailure(reason: $0.reason ?? "", message: $0.message ?? "") })
    }

    public func withReplicaStatus(_ view: ReplicaStatusView, now: Double) -> ReplicaSet {
        var copy = self
        var status = self.status ?? ReplicaSetStatus()
        status.replicas = Int32(view.counts.replicas)
        status.fullyLabeledReplicas = Int32(view.counts.fullyLabeled)
        status.readyReplicas = Int32(view.counts.ready)
        status.availableReplicas = Int32(view.counts.available)
        status.terminatingReplicas = Int32(view.counts.terminating)
        status.observedGeneration = view.observedGeneration
        let previous = status.conditions.first { $0.type == "ReplicaFailure" }
        status.conditions.removeAll { $0.type == "ReplicaFailure" }
        if let failure = view.failure {
            var condition = ReplicaSetCondition()
            condition.type = "ReplicaFailure"
            condition.status = "True"
            condition.reason = failure.reason
            condition.message = failure.message
            condition.lastTransitionTime = previous?.status == "True" ? previous?.lastTransitionTime : WallClock.time(now)
            status.conditions.append(condition)
        }
        copy.status = status
        return copy
    }
}

extension ReplicationController: ReplicatedPodOwner {
    public var desiredReplicas: Int { Int(spec?.replicas ?? 1) }
    public var podTemplate: PodTemplateSpec? { spec?.template }
    public var minReadySecondsValue: Int32 { spec?.minReadySeconds ?? 0 }

    /// spec.selector, or the template's labels when it is empty (Kubernetes defaults it so).
    public func podSelector() throws(SpecError) -> ParsedLabelSelector {
        let labels = (spec?.selector ?? [:]).isEmpty ? (spec?.template?.metadata?.labels ?? [:]) : spec!.selector
        guard !labels.isEmpty else {
            throw SpecError(field: "spec.selector", "empty selector: a replication controller needs a selector or template labels")
        }
        return ParsedLabelSelector(matchingLabels: labels)
    }

    public var replicaStatus: ReplicaStatusView {
        let status = self.status ?? ReplicationControllerStatus()
        let failure = status.conditions.first { $0.type == "ReplicaFailure" && $0.status == "True" }
        return ReplicaStatusView(
            counts: ReplicaCounts(
                replicas: Int(status.replicas ?? 0), fullyLabeled: Int(status.fullyLabeledReplicas ?? 0),
                ready: Int(status.readyReplicas ?? 0), available: Int(status.availableReplicas ?? 0)),
            observedGeneration: status.observedGeneration ?? 0,
            failure: failure.map { ReplicaFailure(reason: $0.reason ?? "", message: $0.message ?? "") })
    }

    public func withReplicaStatus(_ view: ReplicaStatusView, now: Double) -> ReplicationController {
        var copy = self
        var status = self.status ?? ReplicationControllerStatus()
        status.replicas = Int32(view.counts.replicas)
        status.fullyLabeledReplicas = Int32(view.counts.fullyLabeled)
        status.readyReplicas = Int32(view.counts.ready)
        status.availableReplicas = Int32(view.counts.available)
        status.observedGeneration = view.observedGeneration
        let previous = status.conditions.first { $0.type == "ReplicaFailure" }
        status.conditions.removeAll { $0.type == "ReplicaFailure" }
        if let failure = view.failure {
            var condition = ReplicationControllerCondition()
            condition.type = "ReplicaFailure"
            condition.status = "True"
            condition.reason = failure.reason
            condition.message = failure.message
            condition.lastTransitionTime = previous?.status == "True" ? previous?.lastTransitionTime : WallClock.time(now)
            status.conditions.append(condition)
        }
        copy.status = status
        return copy
    }
}
