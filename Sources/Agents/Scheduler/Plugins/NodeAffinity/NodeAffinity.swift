import Api

/// NodeAffinityPlugin (kube-scheduler's NodeAffinity) keeps pods on nodes matching
/// `spec.nodeSelector` and required node affinity (filter), and adds the weights of the
/// preferred terms a node matches (score, scaled so the best node gets 100). Unlike the other
/// plugins its type is not named like the plugin: `NodeAffinity` is the pod spec's type in Api,
/// which a plugin of that name would hide everywhere in Agents.
public struct NodeAffinityPlugin: FilterPlugin, ScorePlugin {
    public static let name = "NodeAffinity"
    public static let events: ClusterEvent = [.nodeAdd, .nodeLabelChange]
    public static let reason = "node(s) didn't match Pod's node affinity/selector"

    public init() {}

    public func preFilter(_ pod: PodInfo, _ cluster: ClusterView) -> PreFilterResult {
        guard let required = pod.requiredNodeAffinity else { return .skip }
        return .check(Check(required: required))
    }

    struct Check: NodeFilter {
        let required: RequiredNodeAffinity
        func filter(_ node: UnsafePointer<NodeInfo>) -> PluginStatus? {
            required.matches(labels: node.pointee.labels, nodeName: node.pointee.name)
                ? nil : PluginStatus(.unschedulableAndUnresolvable, NodeAffinityPlugin.reason)
        }
    }

    public func preScore(_ pod: PodInfo, _ cluster: ClusterView, feasible: UnsafeBufferPointer<Int32>) -> (any NodeScorer)? {
        pod.preferredNodeTerms.isEmpty ? nil : Scorer(terms: pod.preferredNodeTerms)
    }

    struct Scorer: NodeScorer {
        let terms: [WeightedNodeSelectorTerm]
        func score(_ node: UnsafePointer<NodeInfo>) -> Int64 {
            var total: Int64 = 0
            for term in terms where term.term.matches(labels: node.pointee.labels, nodeName: node.pointee.name) { total += term.weight }
            return total
        }

        func normalize(_ scores: UnsafeMutableBufferPointer<Int64>) {
            normalizeToMaximum(scores, reverse: false)
        }
    }
}
