import Api

/// NodeName keeps a pod that names its node (`spec.nodeName`) to that node.
public struct NodeName: FilterPlugin {
    public static let name = "NodeName"
    public static let events: ClusterEvent = [.nodeAdd]
    public static let reason = "node(s) didn't match the requested node name"

    public init() {}

    public func preFilter(_ pod: PodInfo, _ cluster: ClusterView) -> PreFilterResult {
        pod.nodeName.isEmpty ? .skip : .check(Check(nodeName: pod.nodeName))
    }

    struct Check: NodeFilter {
        let nodeName: String
        func filter(_ node: UnsafePointer<NodeInfo>) -> PluginStatus? {
            node.pointee.name == nodeName ? nil : PluginStatus(.unschedulableAndUnresolvable, NodeName.reason)
        }
    }
}
