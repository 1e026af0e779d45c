import Api

/// TaintToleration keeps pods off nodes with NoSchedule and NoExecute taints they do not
/// tolerate (filter), and prefers nodes with fewer untolerated PreferNoSchedule taints (score,
/// reversed so that fewer is better).
public struct TaintToleration: FilterPlugin, ScorePlugin {
    public static let name = "TaintToleration"
    public static let events: ClusterEvent = [.nodeAdd, .nodeTaintChange]

    public init() {}

    public func preFilter(_ pod: PodInfo, _ cluster: ClusterView) -> PreFilterResult {
        cluster.counts.nodesWithFilterTaints == 0 ? .skip : .check(Check(tolerations: pod.tolerations))
    }

    struct Check: NodeFilter {
        let tolerations: [Toleration]
        func filter(_ node: UnsafePointer<NodeInfo>) -> PluginStatus? {
            for taint in node.pointee.filterTaints where !tolerations.contains(where: { $0.tolerates(taint.taint) }) {
                return PluginStatus(.unschedulableAndUnresolvable, taint.reason)
            }
            return nil
        }
    }

    public func preScore(_ pod: PodInfo, _ cluster: ClusterView, feasible: UnsafeBufferPointer<Int32>) -> (any NodeScorer)? {
        guard cluster.counts.nodesWithPreferNoScheduleTaints > 0 else { return nil }
        // Only tolerations that can apply to PreferNoSchedule taints matter here.
        let relevant = pod.tolerations.filter { ($0.effect ?? "").isEmpty || $0.effect == TaintEffect.preferNoSchedule.rawValue }
        return Scorer(tolerations: relevant)
    }

    struct Scorer: NodeScorer {
        let tolerations: [Toleration]
        func score(_ node: UnsafePointer<NodeInfo>) -> Int64 {
            var untolerated: Int64 = 0
            for taint in node.pointee.preferNoScheduleTaints where !tolerations.contains(where: { $0.tolerates(taint.taint) }) {
                untolerated += 1
            }
            return untolerated
        }

        func normalize(_ scores: UnsafeMutableBufferPointer<Int64>) {
            normalizeToMaximum(scores, reverse: true)
        }
    }
}

extension Toleration {
    /// Kubernetes' `ToleratesTaint`: the effect matches (or the toleration names none), the key
    /// matches (or the toleration names none, with Exists), and the value is equal under Equal.
    public func tolerates(_ taint: Taint) -> Bool {
        if let effect, !effect.isEmpty, effect != (taint.effect ?? "") { return false }
        if let key, !key.isEmpty, key != (taint.key ?? "") { return false }
        switch `operator` ?? "" {
        case "", "Equal": return (value ?? "") == (taint.value ?? "")
        case "Exists": return true
        default: return false
        }
    }
}
