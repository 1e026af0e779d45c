import Api
import Foundation

/// PodTopologySpread spreads matching pods over topology domains (zones, nodes…) as the pod's
/// `topologySpreadConstraints` ask:
/// - filter (DoNotSchedule constraints): a node is rejected when placing the pod there would
///   make its domain exceed the emptiest eligible domain by more than maxSkew, or when it lacks
///   the topology label;
/// - score (ScheduleAnyway constraints): nodes in domains with fewer matching pods score higher.
/// Only pods in the pod's namespace and not being deleted are counted; which nodes count as
/// domains follows nodeAffinityPolicy (default Honor) and nodeTaintsPolicy (default Ignore).
public struct PodTopologySpread: FilterPlugin, ScorePlugin {
    public static let name = "PodTopologySpread"
    public static let events: ClusterEvent = [
        .nodeAdd, .nodeLabelChange, .nodeTaintChange, .nodeDelete, .assignedPodAdd, .assignedPodUpdate, .assignedPodDelete,
    ]
    public static let reason = "node(s) didn't match pod topology spread constraints"
    public static let missingLabelReason = "node(s) didn't match pod topology spread constraints (missing required label)"
    static let hostnameKey = "kubernetes.io/hostname"

    public init() {}

    // MARK: Filter

    public func preFilter(_ pod: PodInfo, _ cluster: ClusterView) -> PreFilterResult {
        let constraints = pod.spreadConstraints.filter(\.hard)
        guard !constraints.isEmpty else { return .skip }
        var counts = [[String: Int64]](repeating: [:], count: constraints.count)
        for node in cluster.allNodes where node.pointee.hasNode && Self.hasAllKeys(node, constraints) {
            for (index, constraint) in constraints.enumerated() where Self.counts(node, for: pod, constraint) {
                counts[index][node.pointee.labels[constraint.topologyKey]!, default: 0] += Self.matchingPods(on: node, pod, constraint.selector)
            }
        }
        var minimums: [Int64] = []
        for (index, constraint) in constraints.enumerated() {
            let domains = counts[index]
            // Fewer domains than minDomains: the missing ones count as empty.
            minimums.append(Int64(domains.count) < constraint.minDomains ? 0 : (domains.values.min() ?? 0))
        }
        let selfMatches = constraints.map { $0.selector.matches(pod.labels) ? Int64(1) : 0 }
        return .check(Check(constraints: constraints, counts: counts, minimums: minimums, selfMatches: selfMatches))
    }

    struct Check: NodeFilter {
        let constraints: [SpreadConstraint]
        let counts: [[String: Int64]]
        let minimums: [Int64]
        let selfMatches: [Int64]

        func filter(_ node: UnsafePointer<NodeInfo>) -> PluginStatus? {
            for index in constraints.indices {
                guard let value = node.pointee.labels[constraints[index].topologyKey] else {
                    return PluginStatus(.unschedulableAndUnresolvable, PodTopologySpread.missingLabelReason)
                }
                let skew = counts[index][value, default: 0] + selfMatches[index] - minimums[index]
                if skew > constraints[index].maxSkew { return PluginStatus(.unschedulable, PodTopologySpread.reason) }
            }
            return nil
        }
    }

    // MARK: Score

    public func preScore(_ pod: PodInfo, _ cluster: ClusterView, feasible: UnsafeBufferPointer<Int32>) -> (any NodeScorer)? {
        let constraints = pod.spreadConstraints.filter { !$0.hard }
        guard !constraints.isEmpty else { return nil }
        // Domains among the feasible nodes that carry every key; the others are ignored.
        var counts = [[String: Int64]](repeating: [:], count: constraints.count)
        var scoredNodes = 0
        for index in feasible {
            let node = cluster.node(Int(index))
            guard Self.hasAllKeys(node, constraints) else { continue }
            scoredNodes += 1
            for (position, constraint) in constraints.enumerated() where constraint.topologyKey != Self.hostnameKey {
                counts[position][node.pointee.labels[constraint.topologyKey]!] = 0
            }
        }
        guard scoredNodes > 0 else { return nil }
        let weights = constraints.indices.map { position in
            log(Double((constraints[position].topologyKey == Self.hostnameKey ? scoredNodes : counts[position].count) + 2))
        }
        // Matching pods per domain, over every node the policies count.
        for node in cluster.allNodes where node.pointee.hasNode && Self.hasAllKeys(node, constraints) {
            for (position, constraint) in constraints.enumerated()
            where constraint.topologyKey != Self.hostnameKey && Self.counts(node, for: pod, constraint) {
                let value = node.pointee.labels[constraint.topologyKey]!
                guard counts[position][value] != nil else { continue }
                counts[position][value]! += Self.matchingPods(on: node, pod, constraint.selector)
            }
        }
        return Scorer(pod: pod, constraints: constraints, counts: counts, weights: weights)
    }

    struct Scorer: NodeScorer {
        let pod: PodInfo
        let constraints: [SpreadConstraint]
        let counts: [[String: Int64]]
        let weights: [Double]

        /// Score of a node without every topology key: it takes no part in normalizing.
        static let ignored: Int64 = -1

        func score(_ node: UnsafePointer<NodeInfo>) -> Int64 {
            guard PodTopologySpread.hasAllKeys(node, constraints) else { return Self.ignored }
            var total = 0.0
            for (position, constraint) in constraints.enumerated() {
                let count: Int64
                if constraint.topologyKey == PodTopologySpread.hostnameKey {
                    count = PodTopologySpread.matchingPods(on: node, pod, constraint.selector)
                } else {
                    count = counts[position][node.pointee.labels[constraint.topologyKey]!, default: 0]
                }
                total += Double(count) * weights[position] + Double(constraint.maxSkew - 1)
            }
            return Int64(total.rounded())
        }

        /// Fewer matching pods is better: maps the lowest raw score to 100.
        func normalize(_ scores: UnsafeMutableBufferPointer<Int64>) {
            var lowest = Int64.max
            var highest: Int64 = 0
            for score in scores where score != Self.ignored {
                lowest = min(lowest, score)
                highest = max(highest, score)
            }
            for index in scores.indices {
                let score = scores[index]
                if score == Self.ignored {
                    scores[index] = 0
                } else if highest == 0 {
                    scores[index] = maximumNodeScore
                } else {
                    scores[index] = maximumNodeScore * (highest + lowest - score) / highest
                }
            }
        }
    }

    // MARK: Counting

    static func hasAllKeys(_ node: UnsafePointer<NodeInfo>, _ constraints: [SpreadConstraint]) -> Bool {
        for constraint in constraints where node.pointee.labels[constraint.topologyKey] == nil { return false }
        return true
    }

    /// Whether `node` counts as a domain for `constraint` under its inclusion policies.
    static func counts(_ node: UnsafePointer<NodeInfo>, for pod: PodInfo, _ constraint: SpreadConstraint) -> Bool {
        if constraint.honorNodeAffinity, let required = pod.requiredNodeAffinity,
            !required.matches(labels: node.pointee.labels, nodeName: node.pointee.name)
        {
            return false
        }
        if constraint.honorNodeTaints {
            for taint in node.pointee.filterTaints where !pod.tolerations.contains(where: { $0.tolerates(taint.taint) }) { return false }
        }
        return true
    }

    static func matchingPods(on node: UnsafePointer<NodeInfo>, _ pod: PodInfo, _ selector: ParsedLabelSelector) -> Int64 {
        var count: Int64 = 0
        for other in node.pointee.pods where !other.terminating && other.namespace == pod.namespace && selector.matches(other.labels) {
            count += 1
        }
        return count
    }
}
