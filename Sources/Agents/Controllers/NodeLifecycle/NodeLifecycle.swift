import Api
import Foundation

/// NodeLifecycle is the node lifecycle controller's decision logic, free of I/O: when a node
/// stopped posting heartbeats (its Lease in kube-node-lease, or its Ready condition), its
/// conditions become Unknown; its Ready condition decides the `not-ready` and `unreachable`
/// taints; the NoExecute taints decide when each pod on the node is evicted.
enum NodeLifecycle {
    static let unreachableTaintKey = "node.kubernetes.io/unreachable"
    static let notReadyTaintKey = "node.kubernetes.io/not-ready"
    static let noSchedule = "NoSchedule"
    static let noExecute = "NoExecute"
    /// The namespace of the node Leases the node agents renew, one per node, named like it.
    static let leaseNamespace = "kube-node-lease"

    static let statusUnknownReason = "NodeStatusUnknown"
    static let statusUnknownMessage = "Kubelet stopped posting node status."
    static let neverUpdatedReason = "NodeStatusNeverUpdated"
    static let neverUpdatedMessage = "Kubelet never posted node status."
    /// The conditions a node agent posts; all of them become Unknown when it goes silent.
    static let agentConditionTypes = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"]

    /// What the controller must change on one node.
    struct Assessment: Equatable {
        /// The node's new `status.conditions`, when they must change.
        var conditions: [NodeCondition]?
        /// The node's new `spec.taints`, when they must change.
        var taints: [Taint]?
        /// The Ready condition's status after the change ("True", "False", "Unknown"; nil when
        /// the node never posted one and is still within its grace period).
        var readyStatus: String?
        /// When the grace period runs out, if the node is healthy now: check again then.
        var recheckAt: Date?
    }

    /// Assesses `node`, whose last heartbeat the controller observed at `lastHeartbeat` (by its
    /// own clock, as Kubernetes does, so that clock skew between nodes does not matter).
    static func assess(node: Node, lastHeartbeat: Date, now: Date, gracePeriod: TimeInterval) -> Assessment {
        var conditions = node.status?.conditions ?? []
        var assessment = Assessment()
        let deadline = lastHeartbeat.addingTimeInterval(gracePeriod)
        if now > deadline {
            if markUnknown(&conditions, now: now) { assessment.conditions = conditions }
        } else {
            assessment.recheckAt = deadline
        }
        let ready = conditions.first { $0.type == "Ready" }?.status
        assessment.readyStatus = ready
        let taints = desiredTaints(current: node.spec?.taints ?? [], readyStatus: ready, now: now)
        if taintSet(taints) != taintSet(node.spec?.taints ?? []) { assessment.taints = taints }
        return assessment
    }

    /// Sets every agent condition to Unknown (adding Ready when missing); true when anything
    /// changed. The last heartbeat time stays: it tells when the agent was last heard from.
    static func markUnknown(_ conditions: inout [NodeCondition], now: Date) -> Bool {
        var changed = false
        for type in agentConditionTypes {
            if let index = conditions.firstIndex(where: { $0.type == type }) {
                guard conditions[index].status != "Unknown" else { continue }
                conditions[index].status = "Unknown"
                conditions[index].reason = statusUnknownReason
                conditions[index].message = statusUnknownMessage
                conditions[index].lastTransitionTime = ClusterTime.time(now)
                changed = true
            } else if type == "Ready" {
                var condition = NodeCondition()
                condition.type = type
                condition.status = "Unknown"
                condition.reason = neverUpdatedReason
                condition.message = neverUpdatedMessage
                condition.lastTransitionTime = ClusterTime.time(now)
                conditions.append(condition)
                changed = true
            }
        }
        return changed
    }

    /// The node's taints with this controller's four (not-ready and unreachable, NoSchedule and
    /// NoExecute) made to follow the Ready condition: Unknown → unreachable, False → not-ready,
    /// True or absent → neither. Taints already present keep their `timeAdded`, which is when
    /// the NoExecute tolerations of the node's pods started counting.
    static func desiredTaints(current: [Taint], readyStatus: String?, now: Date) -> [Taint] {
        let ours: Set<String> = [unreachableTaintKey, notReadyTaintKey]
        var wanted: [(key: String, effect: String)] = []
        switch readyStatus {
        case "Unknown": wanted = [(unreachableTaintKey, noSchedule), (unreachableTaintKey, noExecute)]
        case "False": wanted = [(notReadyTaintKey, noSchedule), (notReadyTaintKey, noExecute)]
        default: break
        }
        var result = current.filter { taint in
            guard let key = taint.key, ours.contains(key) else { return true }
            return wanted.contains { $0.key == key && $0.effect == taint.effect }
        }
        for (key, effect) in wanted where !result.contains(where: { $0.key == key && $0.effect == effect }) {
            var taint = Taint()
            taint.key = key
            taint.effect = effect
            taint.timeAdded = ClusterTime.time(now)
            result.append(taint)
        }
        return result
    }

    static func taintSet(_ taints: [Taint]) -> Set<String> {
        Set(taints.map { "\($0.key ?? "")=\($0.value ?? ""):\($0.effect ?? "")" })
    }

    // MARK: Pods

    /// The status that marks a pod on an unhealthy node not ready, or nil when it already is (or
    /// has finished, or has no Ready condition to lower).
    static func notReadyStatus(of pod: Pod, now: Date) -> PodStatus? {
        guard var status = pod.status, status.phase != "Succeeded", status.phase != "Failed",
            let index = status.conditions.firstIndex(where: { $0.type == "Ready" }),
            status.conditions[index].status != "False"
        else { return nil }
        status.conditions[index].status = "False"
        status.conditions[index].reason = "NodeNotReady"
        status.conditions[index].message = "the pod's node is not ready"
        status.conditions[index].lastTransitionTime = ClusterTime.time(now)
        return status
    }

    /// When a pod on a node with these taints must go.
    enum Eviction: Equatable {
        case keep
        case now
        case at(Date)
    }

    /// Taint-based eviction: a pod that does not tolerate every NoExecute taint goes now; one
    /// that tolerates them all stays for the shortest `tolerationSeconds` among the tolerations
    /// used, counted from when each taint was added; tolerations without seconds keep it forever.
    static func eviction(of pod: Pod, taints: [Taint], now: Date) -> Eviction {
        guard pod.metadata?.deletionTimestamp == nil else { return .keep }
        let tolerations = pod.spec?.tolerations ?? []
        var deadline: Date?
        for taint in taints where taint.effect == noExecute {
            let matching = tolerations.filter { tolerates($0, taint) }
            guard !matching.isEmpty else { return .now }
            let added = ClusterTime.date(taint.timeAdded) ?? now
            for toleration in matching {
                guard let seconds = toleration.tolerationSeconds else { continue }
                let end = added.addingTimeInterval(TimeInterval(max(0, seconds)))
                deadline = min(deadline ?? end, end)
            }
        }
        guard let deadline else { return .keep }
        return deadline <= now ? .now : .at(deadline)
    }

    /// Kubernetes' ToleratesTaint: effects match (an empty toleration effect matches all), keys
    /// match (an empty key matches all), and `Exists` or an equal value.
    static func tolerates(_ toleration: Toleration, _ taint: Taint) -> Bool {
        if let effect = toleration.effect, !effect.isEmpty, effect != taint.effect { return false }
        if let key = toleration.key, !key.isEmpty, key != (taint.key ?? "") { return false }
        switch toleration.operator ?? "Equal" {
        case "Exists": return true
        case "Equal", "": return (toleration.value ?? "") == (taint.value ?? "")
        default: return false
        }
    }
}

/// NodeHeartbeats remembers, per node, when the controller last saw a heartbeat: a new
/// `renewTime` on the node's Lease or a new `lastHeartbeatTime` on its Ready condition. The
/// time is the controller's own clock at observation, so a node whose clock is off is judged
/// fairly; a controller that starts (or becomes leader) gives every node a full grace period.
struct NodeHeartbeats {
    struct Signature: Hashable {
        var leaseRenewTime: MicroTime?
        var readyHeartbeat: Time?
    }

    private var observations: [String: (signature: Signature, at: Date)] = [:]

    /// Records what `node` and `lease` say at `now`; returns the last heartbeat time.
    mutating func observe(node: Node, lease: Lease?, now: Date) -> Date {
        let name = node.metadata?.name ?? ""
        let signature = Signature(
            leaseRenewTime: lease?.spec?.renewTime,
            readyHeartbeat: node.status?.conditions.first { $0.type == "Ready" }?.lastHeartbeatTime)
        if let previous = observations[name], previous.signature == signature { return previous.at }
        observations[name] = (signature, now)
        return now
    }

    mutating func forget(_ name: String) {
        observations[name] = nil
    }
}
