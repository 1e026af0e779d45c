import Api

/// NodePorts keeps a pod that opens host ports off nodes where one of them is taken.
public struct NodePorts: FilterPlugin {
    public static let name = "NodePorts"
    public static let events: ClusterEvent = [.nodeAdd, .assignedPodDelete, .assignedPodUpdate]
    public static let reason = "node(s) didn't have free ports for the requested pod ports"

    public init() {}

    public func preFilter(_ pod: PodInfo, _ cluster: ClusterView) -> PreFilterResult {
        pod.hostPorts.isEmpty ? .skip : .check(Check(ports: pod.hostPorts))
    }

    struct Check: NodeFilter {
        let ports: [HostPort]
        func filter(_ node: UnsafePointer<NodeInfo>) -> PluginStatus? {
            for port in ports where !node.pointee.isFree(port) { return PluginStatus(.unschedulable, NodePorts.reason) }
            return nil
        }
    }
}
