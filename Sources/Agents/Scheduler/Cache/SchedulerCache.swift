import Api

/// SchedulerCache is the scheduler's picture of where pods run: one `NodeInfo` per node with
/// the aggregates of its pods, kept incrementally as the informers report nodes and pods, plus
/// the pods this scheduler placed but whose binding the informer has not confirmed yet
/// (kube-scheduler's cache with its assume step):
///
/// - `assume(_:on:)` puts a pod on its chosen node at once, so the next decision sees it, while
///   the binding is still in flight;
/// - `addPod(_:)` for a bound pod confirms the assumption (or moves the pod, if it was bound
///   elsewhere), and `forget(_:)` undoes it when the binding fails;
/// - `removePod(_:)` drops a pod, assumed or not.
///
/// Not thread-safe: it belongs to the scheduling loop (`SchedulerCore`). Node infos live in one
/// array so that filtering walks contiguous values; a node's index changes only when another
/// node is removed.
public struct SchedulerCache {
    /// Cluster-wide counts that let plugins skip work for every node at once.
    public struct Counts: Sendable, Equatable {
        public var unschedulableNodes = 0
        public var nodesWithFilterTaints = 0
        public var nodesWithPreferNoScheduleTaints = 0
        public var podsWithAffinity = 0
        public var podsWithRequiredAntiAffinity = 0
    }

    struct PodState {
        var info: PodInfo
        var nodeName: String
        var assumed: Bool
    }

    /// Every node, and nodes that were deleted while pods remained on them (`hasNode` false).
    public private(set) var nodes: [NodeInfo] = []
    private var indexByName: [String: Int] = [:]
    /// Nodes with a node object.
    public private(set) var nodeCount = 0
    public private(set) var counts = Counts()
    private var pods: [String: PodState] = [:]
    public private(set) var assumedCount = 0

    public init() {}

    public func nodeInfo(named name: String) -> NodeInfo? {
        indexByName[name].map { nodes[$0] }
    }

    public var podCount: Int { pods.count }

    public func isAssumed(uid: String) -> Bool { pods[uid]?.assumed ?? false }

    /// The node a cached pod is on (assumed or bound).
    public func nodeName(ofPod uid: String) -> String? { pods[uid]?.nodeName }

    public func podInfo(uid: String) -> PodInfo? { pods[uid]?.info }

    // MARK: Nodes

    /// Adds or replaces a node; returns what changed for pods waiting to be scheduled
    /// (`.nodeAdd` for a new node, the kinds of update otherwise, empty for no relevant change).
    @discardableResult
    public mutating func setNode(_ node: Node) -> ClusterEvent {
        let name = node.metadata?.name ?? ""
        precondition(!name.isEmpty, "a node without a name reached the scheduler cache")
        guard let index = indexByName[name] else {
            var info = NodeInfo(name: name)
            info.setNode(node)
            indexByName[name] = nodes.count
            nodes.append(info)
            nodeCount += 1
            adjustNodeCounts(info, by: 1)
            return .nodeAdd
        }
        let old = nodes[index]
        adjustNodeCounts(old, by: -1)
        nodes[index].setNode(node)
        let new = nodes[index]
        adjustNodeCounts(new, by: 1)
        if !old.hasNode {
            nodeCount += 1
            return .nodeAdd
        }
        var change: ClusterEvent = []
        if old.allocatable != new.allocatable || old.allowedPodCount != new.allowedPodCount { change.insert(.nodeAllocatableChange) }
        if old.labels != new.labels { change.insert(.nodeLabelChange) }
        if old.filterTaints.map(\.taint) != new.filterTaints.map(\.taint)
            || old.preferNoScheduleTaints.map(\.taint) != new.preferNoScheduleTaints.map(\.taint)
        {
            change.insert(.nodeTaintChange)
        }
        if old.unschedulable != new.unschedulable { change.insert(.nodeSpecUnschedulableChange) }
        return change
    }

    /// Removes a node; its pods stay accounted for until they are removed too.
    public mutating func removeNode(named name: String) {
        guard let index = indexByName[name], nodes[index].hasNode else { return }
        adjustNodeCounts(nodes[index], by: -1)
        nodes[index].removeNode()
        nodeCount -= 1
        removeIfEmptyGhost(at: index)
    }

    // MARK: Pods

    /// Places a pod the scheduler just chose a node for, before the binding is confirmed.
    public mutating func assume(_ pod: PodInfo, on nodeName: String) {
        precondition(pods[pod.uid] == nil, "pod \(pod.key) assumed while already in the cache")
        place(pod, on: nodeName)
        pods[pod.uid] = PodState(info: pod, nodeName: nodeName, assumed: true)
        assumedCount += 1
    }

    /// Marks an assumed pod bound where it was assumed, keeping its PodInfo: the informer showed
    /// the pod bound to that node, and nothing the scheduler accounts for changed.
    public mutating func confirm(uid: String) {
        guard pods[uid]?.assumed == true else { return }
        pods[uid]!.assumed = false
        assumedCount -= 1
    }

    /// Undoes `assume` after a failed binding; false when the pod is not assumed (the informer
    /// confirmed or removed it meanwhile).
    @discardableResult
    public mutating func forget(uid: String) -> Bool {
        guard let state = pods[uid], state.assumed else { return false }
        unplace(state.info, from: state.nodeName)
        pods[uid] = nil
        assumedCount -= 1
        return true
    }

    /// Adds or updates a pod bound to a node (from the informer): confirms an assumed pod, moves
    /// one bound elsewhere, replaces an older version. Returns the event for waiting pods.
    @discardableResult
    public mutating func addPod(_ pod: PodInfo) -> ClusterEvent {
        precondition(!pod.nodeName.isEmpty, "only bound pods enter the cache from the informer")
        guard let state = pods[pod.uid] else {
            place(pod, on: pod.nodeName)
            pods[pod.uid] = PodState(info: pod, nodeName: pod.nodeName, assumed: false)
            return .assignedPodAdd
        }
        unplace(state.info, from: state.nodeName)
        place(pod, on: pod.nodeName)
        pods[pod.uid] = PodState(info: pod, nodeName: pod.nodeName, assumed: false)
        if state.assumed {
            assumedCount -= 1
            return .assignedPodAdd
        }
        return state.info.labels != pod.labels || state.info.terminating != pod.terminating ? .assignedPodUpdate : []
    }

    /// Removes a pod, assumed or bound; false when it was not cached.
    @discardableResult
    public mutating func removePod(uid: String) -> Bool {
        guard let state = pods.removeValue(forKey: uid) else { return false }
        unplace(state.info, from: state.nodeName)
        if state.assumed { assumedCount -= 1 }
        return true
    }

    private mutating func place(_ pod: PodInfo, on nodeName: String) {
        let index: Int
        if let existing = indexByName[nodeName] {
            index = existing
        } else {
            // The pod was bound to a node the informer has not shown yet: keep its place.
            index = nodes.count
            indexByName[nodeName] = index
            nodes.append(NodeInfo(name: nodeName))
        }
        nodes[index].add(pod)
        if pod.affinity != nil { counts.podsWithAffinity += 1 }
        if pod.affinity?.requiredAntiAffinity.isEmpty == false { counts.podsWithRequiredAntiAffinity += 1 }
    }

    private mutating func unplace(_ pod: PodInfo, from nodeName: String) {
        guard let index = indexByName[nodeName] else {
            preconditionFailure("pod \(pod.key) is cached on node \(nodeName), which the cache does not know")
        }
        let removed = nodes[index].remove(pod)
        precondition(removed, "pod \(pod.key) is not on node \(nodeName) where the cache put it")
        if pod.affinity != nil { counts.podsWithAffinity -= 1 }
        if pod.affinity?.requiredAntiAffinity.isEmpty == false { counts.podsWithRequiredAntiAffinity -= 1 }
        removeIfEmptyGhost(at: index)
    }

    private mutating func removeIfEmptyGhost(at index: Int) {
        guard !nodes[index].hasNode, nodes[index].podCount == 0 else { return }
        indexByName[nodes[index].name] = nil
        let last = nodes.count - 1
        if index != last {
            nodes.swapAt(index, last)
            indexByName[nodes[index].name] = index
        }
        nodes.removeLast()
    }

    private mutating func adjustNodeCounts(_ info: NodeInfo, by delta: Int) {
        guard info.hasNode else { return }
        if info.unschedulable { counts.unschedulableNodes += delta }
        if !info.filterTaints.isEmpty { counts.nodesWithFilterTaints += delta }
        if !info.preferNoScheduleTaints.isEmpty { counts.nodesWithPreferNoScheduleTaints += delta }
    }
}
