import Api

/// PodRanking orders pods for deletion, most expendable first, with Kubernetes' rules
/// (controller.ActivePodsWithRanks): unscheduled before scheduled; Pending before Unknown before
/// Running; not ready before ready; lower `controller.kubernetes.io/pod-deletion-cost` first;
/// pods doubled up on a node with more of their siblings first; ready for a shorter time before
/// longer; more container restarts first; newer before older.
public enum PodRanking {
    public static let deletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

    /// The `count` pods to delete out of `pods`. `related` are the pods counted when ranking how
    /// crowded a node is (the pods themselves plus their siblings in other replica sets).
    public static func toDelete(_ pods: [Pod], count: Int, related: [Pod]? = nil, now: Double) -> [Pod] {
        guard count > 0 else { return [] }
        return Array(ordered(pods, related: related ?? pods, now: now).prefix(count))
    }

    /// `pods` sorted most expendable first.
    public static func ordered(_ pods: [Pod], related: [Pod], now: Double) -> [Pod] {
        var perNode: [String: Int] = [:]
        for pod in related where PodState.isActive(pod) {
            if let node = pod.spec?.nodeName, !node.isEmpty { perNode[node, default: 0] += 1 }
        }
        let ranked = pods.map { pod -> (Pod, Int) in
            let node = pod.spec?.nodeName ?? ""
            return (pod, node.isEmpty ? 0 : perNode[node, default: 0])
        }
        return ranked.sorted { left, right in moreExpendable(left.0, rank: left.1, than: right.0, rank: right.1) }.map(\.0)
    }

    static func phaseOrdinal(_ pod: Pod) -> Int {
        switch pod.status?.phase ?? "Pending" {
        case "Pending": return 0
        case "Unknown": return 1
        case "Running": return 2
        default: return 3
        }
    }

    static func deletionCost(_ pod: Pod) -> Int {
        Int(pod.metadata?.annotations[deletionCostAnnotation] ?? "") ?? 0
    }

    static func moreExpendable(_ left: Pod, rank leftRank: Int, than right: Pod, rank rightRank: Int) -> Bool {
        let leftNode = left.spec?.nodeName ?? ""
        let rightNode = right.spec?.nodeName ?? ""
        if leftNode != rightNode && (leftNode.isEmpty || rightNode.isEmpty) { return leftNode.isEmpty }
        if phaseOrdinal(left) != phaseOrdinal(right) { return phaseOrdinal(left) < phaseOrdinal(right) }
        let leftReady = PodState.isReady(left)
        let rightReady = PodState.isReady(right)
        if leftReady != rightReady { return !leftReady }
        if deletionCost(left) != deletionCost(right) { return deletionCost(left) < deletionCost(right) }
        if leftRank != rightRank { return leftRank > rightRank }
        if leftReady && rightReady {
            let leftSince = PodState.readyCondition(left)?.lastTransitionTime.map(WallClock.seconds) ?? 0
            let rightSince = PodState.readyCondition(right)?.lastTransitionTime.map(WallClock.seconds) ?? 0
            if leftSince != rightSince { return leftSince > rightSince }
        }
        if PodState.restarts(left) != PodState.restarts(right) { return PodState.restarts(left) > PodState.restarts(right) }
        let leftCreated = PodState.creationSeconds(left)
        let rightCreated = PodState.creationSeconds(right)
        if leftCreated != rightCreated { return leftCreated > rightCreated }
        return (left.metadata?.name ?? "") > (right.metadata?.name ?? "")
    }
}
