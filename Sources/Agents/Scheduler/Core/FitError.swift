/// FitError says why no node can take a pod, in kube-scheduler's words:
/// "0/5 nodes are available: 2 node(s) didn't match Pod's node affinity/selector, 3 node(s) had
/// untolerated taint {dedicated: gpu}." Each reason is counted over the nodes that gave it, and
/// the counted reasons are sorted as text, as kube does.
public struct FitError: Sendable, Equatable, CustomStringConvertible {
    /// Nodes in the cluster when the pod was tried.
    public var nodeCount: Int
    /// Reason → nodes that gave it.
    public var reasonCounts: [String: Int]
    /// Set when a plugin ruled out every node before looking at any (PreFilter).
    public var preFilterMessage: String?
    /// The plugins that rejected the pod on some node (or in PreFilter).
    public var rejectingPlugins: [String]

    public static let noNodesMessage = "no nodes available to schedule pods"

    public var message: String {
        if nodeCount == 0 { return Self.noNodesMessage }
        let head = "0/\(nodeCount) nodes are available:"
        if let preFilterMessage { return head + " " + preFilterMessage + "." }
        let counted = reasonCounts.map { "\($0.value) \($0.key)" }.sorted()
        return head + " " + counted.joined(separator: ", ") + "."
    }

    public var description: String { message }
}
