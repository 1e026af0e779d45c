/// PluginRegistry maps plugin names to factories, and builds kube-scheduler's default profile
/// from it: the filters in kube's order, and the scores with kube's default weights.
public enum PluginRegistry {
    public enum Entry: Sendable {
        case filter(@Sendable () -> any FilterPlugin)
        case score(@Sendable () -> any ScorePlugin)
        case filterAndScore(@Sendable () -> any FilterPlugin & ScorePlugin)
    }

    public static let plugins: [String: Entry] = [
        NodeUnschedulable.name: .filter { NodeUnschedulable() },
        NodeName.name: .filter { NodeName() },
        TaintToleration.name: .filterAndScore { TaintToleration() },
        NodeAffinityPlugin.name: .filterAndScore { NodeAffinityPlugin() },
        NodePorts.name: .filter { NodePorts() },
        NodeResourcesFit.name: .filterAndScore { NodeResourcesFit() },
        NodeResourcesBalancedAllocation.name: .score { NodeResourcesBalancedAllocation() },
        PodTopologySpread.name: .filterAndScore { PodTopologySpread() },
        InterPodAffinity.name: .filterAndScore { InterPodAffinity() },
    ]

    /// Filters in the order kube-scheduler's default profile runs them: cheap checks on the node
    /// first, the ones that look at other pods last.
    public static let defaultFilters = [
        NodeUnschedulable.name, NodeName.name, TaintToleration.name, NodeAffinityPlugin.name, NodePorts.name,
        NodeResourcesFit.name, PodTopologySpread.name, InterPodAffinity.name,
    ]

    /// Scores with kube-scheduler's default weights.
    public static let defaultScores: [(name: String, weight: Int64)] = [
        (TaintToleration.name, 3), (NodeAffinityPlugin.name, 2), (NodeResourcesFit.name, 1), (PodTopologySpread.name, 2),
        (InterPodAffinity.name, 2), (NodeResourcesBalancedAllocation.name, 1),
    ]

    public static func defaultProfile(schedulerName: String = "default-scheduler") -> Profile {
        let filters: [any FilterPlugin] = defaultFilters.map { name in
            switch plugins[name] {
            case .filter(let make)?: return make()
            case .filterAndScore(let make)?: return make()
            default: preconditionFailure("\(name) is not a registered filter plugin")
            }
        }
        let scorers: [(plugin: any ScorePlugin, weight: Int64)] = defaultScores.map { entry in
            switch plugins[entry.name] {
            case .score(let make)?: return (make(), entry.weight)
            case .filterAndScore(let make)?: return (make(), entry.weight)
            default: preconditionFailure("\(entry.name) is not a registered score plugin")
            }
        }
        return Profile(schedulerName: schedulerName, filters: filters, scorers: scorers)
    }
}
