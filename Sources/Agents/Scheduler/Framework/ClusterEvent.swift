/// ClusterEvent is a change in the cluster that may make a pod that did not fit schedulable
/// (kube-scheduler's `ClusterEvent`). Each plugin registers the events after which a pod it
/// rejected is worth another try; the queue moves such pods out of the unschedulable set when one
/// happens, and leaves the others where they are.
public struct ClusterEvent: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let nodeAdd = ClusterEvent(rawValue: 1 << 0)
    /// allocatable changed
    public static let nodeAllocatableChange = ClusterEvent(rawValue: 1 << 1)
    public static let nodeLabelChange = ClusterEvent(rawValue: 1 << 2)
    public static let nodeTaintChange = ClusterEvent(rawValue: 1 << 3)
    /// spec.unschedulable changed
    public static let nodeSpecUnschedulableChange = ClusterEvent(rawValue: 1 << 4)
    public static let nodeDelete = ClusterEvent(rawValue: 1 << 5)
    /// A pod was bound (by this scheduler or anyone) or an assigned pod appeared.
    public static let assignedPodAdd = ClusterEvent(rawValue: 1 << 6)
    /// An assigned pod's labels changed or it stopped using resources (it finished).
    public static let assignedPodUpdate = ClusterEvent(rawValue: 1 << 7)
    public static let assignedPodDelete = ClusterEvent(rawValue: 1 << 8)
    public static let namespaceChange = ClusterEvent(rawValue: 1 << 9)

    public static let anyNodeUpdate: ClusterEvent = [
        .nodeAllocatableChange, .nodeLabelChange, .nodeTaintChange, .nodeSpecUnschedulableChange,
    ]
    public static let all = ClusterEvent(rawValue: (1 << 10) - 1)
}
