import Api

/// NodeUnschedulable keeps pods off cordoned nodes (`spec.unschedulable`), unless the pod
/// tolerates the `node.kubernetes.io/unschedulable:NoSchedule` taint, as DaemonSet pods do.
public struct NodeUnschedulable: FilterPlugin {
    public static let name = "NodeUnschedulable"
    public static let events: ClusterEvent = [.nodeAdd, .nodeSpecUnschedulableChange, .nodeTaintChange]
    public static let reason = "node(s) were unschedulable"
    static let unschedulableTaint = Taint(key: "node.kubernetes.io/unschedulable", effect: TaintEffect.noSchedule.rawValue)

    public init() {}

    public func preFilter(_ pod: PodInfo, _ cluster: ClusterView) -> PreFilterResult {
        if cluster.counts.unschedulableNodes == 0 { return .skip }
        if pod.tolerations.contains(where: { $0.tolerates(Self.unschedulableTaint) }) { return .skip }
        return .check(Check())
    }

    struct Check: NodeFilter {
        func filter(_ node: UnsafePointer<NodeInfo>) -> PluginStatus? {
            node.pointee.unschedulable ? PluginStatus(.unschedulableAndUnresolvable, NodeUnschedulable.reason) : nil
        }
    }
}
