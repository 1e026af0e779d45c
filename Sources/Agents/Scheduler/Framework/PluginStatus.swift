/// StatusCode is a plugin's verdict on a pod, or on a pod and one node. The comment on each case
/// says what the scheduling queue does with a pod that ends with it.
public enum StatusCode: Sendable, Hashable {
    /// The pod fits (or the plugin has nothing to say).
    case success
    /// The pod does not fit now, but a change in the cluster may make it fit: the pod waits in
    /// the unschedulable set until an event one of the rejecting plugins registered for.
    case unschedulable
    /// The pod does not fit and evicting other pods would not help either (a label or taint
    /// mismatch); the queue treats it like `unschedulable`.
    case unschedulableAndUnresolvable
    /// Something went wrong that is not about fitting (a malformed pod, a failed binding): the
    /// pod goes to the back-off set and is retried when its back-off expires.
    case error
}

/// PluginStatus is a verdict with the reasons a user reads in the FailedScheduling event, such as
/// "Insufficient cpu" or "node(s) had untolerated taint {dedicated: gpu}".
///
/// A node filter returns nil instead of a success status (kube's nil *Status): the hot path
/// then touches no array at all for the nodes that fit.
public struct PluginStatus: Sendable, Hashable {
    public var code: StatusCode
    public var reasons: [String]

    public init(_ code: StatusCode, _ reasons: [String] = []) {
        self.code = code
        self.reasons = reasons
    }

    public init(_ code: StatusCode, _ reason: String) {
        self.init(code, [reason])
    }

    public var isSuccess: Bool { code == .success }
}
