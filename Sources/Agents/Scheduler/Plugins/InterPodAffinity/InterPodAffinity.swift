import Api

/// TopologyPair is a topology domain: a node label key and its value.
struct TopologyPair: Hashable {
    var key: String
    var value: String
}

/// InterPodAffinity places pods relative to other pods, by topology domain:
/// - filter: the pod's required affinity terms must each find a matching pod in the node's
///   domain (unless no pod matches anywhere and the pod matches its own terms: the first of a
///   group); its required anti-affinity terms must find none; and no pod already running may
///   have a required anti-affinity term that matches the pod in the node's domain;
/// - score: the weights of the pod's preferred terms, and of running pods' terms that match the
///   pod (symmetry), summed per domain and scaled to 0...100.
public struct InterPodAffinity: FilterPlugin, ScorePlugin {
    public static let name = "InterPodAffinity"
    public static let events: ClusterEvent = [
        .nodeAdd, .nodeLabelChange, .assignedPodAdd, .assignedPodUpdate, .assignedPodDelete, .namespaceChange,
    ]
    public static let affinityReason = "node(s) didn't match pod affinity rules"
    public static let antiAffinityReason = "node(s) didn't match pod anti-affinity rules"
    public static let existingAntiAffinityReason = "node(s) didn't satisfy existing pods anti-affinity rules"
    /// Weight of a running pod's required affinity term that matches the incoming pod, in scoring
    /// (kube's hardPodAffinityWeight default).
    public static let hardPodAffinityWeight: Int64 = 1

    public init() {}

    // MARK: Filter

    public func preFilter(_ pod: PodInfo, _ cluster: ClusterView) -> PreFilterResult {
        let required = pod.affinity.map { !$0.requiredAffinity.isEmpty || !$0.requiredAntiAffinity.isEmpty } ?? false
        guard required || cluster.counts.podsWithRequiredAntiAffinity > 0 else { return .skip }
        let namespaceLabels = cluster.labels(ofNamespace:)
        var existingAntiAffinity: [TopologyPair: Int64] = [:]
        var affinityCounts: [TopologyPair: Int64] = [:]
        var antiAffinityCounts: [TopologyPair: Int64] = [:]
        let affinityTerms = pod.affinity?.requiredAffinity ?? []
        let antiAffinityTerms = pod.affinity?.requiredAntiAffinity ?? []
        for node in cluster.allNodes where node.pointee.hasNode {
            if node.pointee.podsWithRequiredAntiAffinity > 0 {
                for other in node.pointee.pods {
                    for term in other.affinity?.requiredAntiAffinity ?? []
                    where term.matches(namespace: pod.namespace, labels: pod.labels, namespaceLabels: namespaceLabels) {
                        if let value = node.pointee.labels[term.topologyKey] {
                            existingAntiAffinity[TopologyPair(key: term.topologyKey, value: value), default: 0] += 1
                        }
                    }
                }
            }
            guard required else { continue }
            for other in node.pointee.pods {
                if !affinityTerms.isEmpty && affinityTerms.allSatisfy({
                    $0.matches(namespace: other.namespace, labels: other.labels, namespaceLabels: namespaceLabels)
                }) {
                    for term in affinityTerms {
                        if let value = node.pointee.labels[term.topologyKey] {
                            affinityCounts[TopologyPair(key: term.topologyKey, value: value), default: 0] += 1
                        }
                    }
                }
                for term in antiAffinityTerms
                where term.matches(namespace: other.namespace, labels: other.labels, namespaceLabels: namespaceLabels) {
                    if let value = node.pointee.labels[term.topologyKey] {
                        antiAffinityCounts[TopologyPair(key: term.topologyKey, value: value), default: 0] += 1
                    }
                }
            }
        }
        let matchesOwnTerms = affinityTerms.allSatisfy {
            $0.matches(namespace: pod.namespace, labels: pod.labels, namespaceLabels: namespaceLabels)
        }
        return .check(Check(
            affinityTerms: affinityTerms, antiAffinityTerms: antiAffinityTerms, existingAntiAffinity: existingAntiAffinity,
            affinityCounts: affinityCounts, antiAffinityCounts: antiAffinityCounts, matchesOwnTerms: matchesOwnTerms))
    }

    struct Check: NodeFilter {
        let affinityTerms: [AffinityTerm]
        let antiAffinityTerms: [AffinityTerm]
        let existingAntiAffinity: [TopologyPair: Int64]
        let affinityCounts: [TopologyPair: Int64]
        let antiAffinityCounts: [TopologyPair: Int64]
        let matchesOwnTerms: Bool

        func filter(_ node: UnsafePointer<NodeInfo>) -> PluginStatus? {
            if !existingAntiAffinity.isEmpty {
                for (key, value) in node.pointee.labels where existingAntiAffinity[TopologyPair(key: key, value: value), default: 0] > 0 {
                    return PluginStatus(.unschedulable, InterPodAffinity.existingAntiAffinityReason)
                }
            }
            if !affinityTerms.isEmpty {
                var podsExist = true
                for term in affinityTerms {
                    guard let value = node.pointee.labels[term.topologyKey] else {
                        return PluginStatus(.unschedulableAndUnresolvable, InterPodAffinity.affinityReason)
                    }
                    if affinityCounts[TopologyPair(key: term.topologyKey, value: value), default: 0] <= 0 { podsExist = false }
                }
                // The first pod of a group that wants to be near its own kind may go anywhere.
                if !podsExist && !(affinityCounts.isEmpty && matchesOwnTerms) {
                    return PluginStatus(.unschedulableAndUnresolvable, InterPodAffinity.affinityReason)
                }
            }
            for term in antiAffinityTerms {
                if let value = node.pointee.labels[term.topologyKey],
                    antiAffinityCounts[TopologyPair(key: term.topologyKey, value: value), default: 0] > 0
                {
                    return PluginStatus(.unschedulable, InterPodAffinity.antiAffinityReason)
                }
            }
            return nil
        }
    }

    // MARK: Score

    public func preScore(_ pod: PodInfo, _ cluster: ClusterView, feasible: UnsafeBufferPointer<Int32>) -> (any NodeScorer)? {
        let preferred = pod.affinity?.hasPreferred ?? false
        guard preferred || cluster.counts.podsWithAffinity > 0 else { return nil }
        let namespaceLabels = cluster.labels(ofNamespace:)
        var topologyScores: [String: [String: Int64]] = [:]
        func add(_ weight: Int64, _ term: AffinityTerm, _ node: UnsafePointer<NodeInfo>) {
            guard let value = node.pointee.labels[term.topologyKey] else { return }
            topologyScores[term.topologyKey, default: [:]][value, default: 0] += weight
        }
        for node in cluster.allNodes where node.pointee.hasNode && (preferred || node.pointee.podsWithAffinity > 0) {
            for other in node.pointee.pods {
                if preferred, let terms = pod.affinity {
                    for weighted in terms.preferredAffinity
                    where weighted.term.matches(namespace: other.namespace, labels: other.labels, namespaceLabels: namespaceLabels) {
                        add(weighted.weight, weighted.term, node)
                    }
                    for weighted in terms.preferredAntiAffinity
                    where weighted.term.matches(namespace: other.namespace, labels: other.labels, namespaceLabels: namespaceLabels) {
                        add(-weighted.weight, weighted.term, node)
                    }
                }
                guard let theirs = other.affinity else { continue }
                for term in theirs.requiredAffinity
                where term.matches(namespace: pod.namespace, labels: pod.labels, namespaceLabels: namespaceLabels) {
                    add(Self.hardPodAffinityWeight, term, node)
                }
                for weighted in theirs.preferredAffinity
                where weighted.term.matches(namespace: pod.namespace, labels: pod.labels, namespaceLabels: namespaceLabels) {
                    add(weighted.weight, weighted.term, node)
                }
                for weighted in theirs.preferredAntiAffinity
                where weighted.term.matches(namespace: pod.namespace, labels: pod.labels, namespaceLabels: namespaceLabels) {
                    add(-weighted.weight, weighted.term, node)
                }
            }
        }
        return topologyScores.isEmpty ? nil : Scorer(topologyScores: topologyScores)
    }

    struct Scorer: NodeScorer {
        let topologyScores: [String: [String: Int64]]

        func score(_ node: UnsafePointer<NodeInfo>) -> Int64 {
            var total: Int64 = 0
            for (key, values) in topologyScores {
                if let value = node.pointee.labels[key] { total += values[value, default: 0] }
            }
            return total
        }

        /// Maps the lowest score to 0 and the highest to 100.
        func normalize(_ scores: UnsafeMutableBufferPointer<Int64>) {
            guard let lowest = scores.min(), let highest = scores.max() else { return }
            let range = highest - lowest
            for index in scores.indices {
                scores[index] = range > 0 ? Int64(Double(maximumNodeScore) * Double(scores[index] - lowest) / Double(range)) : 0
            }
        }
    }
}
