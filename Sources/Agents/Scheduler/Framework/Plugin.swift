import Api

/// SchedulerPlugin is one scheduling plugin (kube-scheduler's framework): a name, the cluster
/// events after which a pod it rejected may fit, and conformance to the extension points it
/// implements (`FilterPlugin`, `ScorePlugin`). Each lives in its own folder under Plugins/.
public protocol SchedulerPlugin: Sendable {
    /// The name kube-scheduler's configuration uses: "NodeResourcesFit", "TaintToleration"…
    static var name: String { get }
    /// Events that can make a pod this plugin rejected schedulable (EventsToRegister).
    static var events: ClusterEvent { get }
}

extension SchedulerPlugin {
    public var name: String { Self.name }
    public var events: ClusterEvent { Self.events }
}

/// ClusterView is what PreFilter and PreScore may look at: every node (including ones without a
/// node object that still hold pods, `hasNode == false`) and cluster-wide counts that let a
/// plugin skip work no node could need. Valid only during the call that receives it.
public struct ClusterView {
    public let nodes: UnsafeBufferPointer<NodeInfo>
    /// Nodes with a node object.
    public let nodeCount: Int
    public let counts: SchedulerCache.Counts
    public let namespaceLabels: [String: [String: String]]

    public func labels(ofNamespace namespace: String) -> [String: String] { namespaceLabels[namespace] ?? [:] }

    /// The node at `index`, by pointer: copying a NodeInfo would retain a dozen buffers.
    public func node(_ index: Int) -> UnsafePointer<NodeInfo> {
        precondition(index >= 0 && index < nodes.count, "node index \(index) out of range")
        return nodes.baseAddress! + index
    }

    /// Every node (check `hasNode`), by pointer.
    public var allNodes: LazyMapSequence<Range<Int>, UnsafePointer<NodeInfo>> {
        let base = nodes.baseAddress
        return (0..<nodes.count).lazy.map { base! + $0 }
    }
}

/// PreFilterResult is a filter plugin's look at a pod before any node.
public enum PreFilterResult {
    /// Nothing about this pod can fail here: the plugin is not run on any node.
    case skip
    /// Run this check on each node.
    case check(any NodeFilter)
    /// No node can fit (kube's PreFilter returning Unschedulable).
    case reject(PluginStatus)
}

/// FilterPlugin rules nodes out (kube's PreFilter and Filter): `preFilter` looks at the pod once
/// per scheduling attempt and returns the per-node check with what it precomputed.
public protocol FilterPlugin: SchedulerPlugin {
    func preFilter(_ pod: PodInfo, _ cluster: ClusterView) -> PreFilterResult
}

/// NodeFilter is a filter prepared for one pod. It is called for many nodes, from several
/// threads at once, and must not allocate when the node fits. The node comes by pointer (valid
/// for the call only): copying a NodeInfo per node would retain a dozen buffers, which cost
/// more than the checks themselves.
public protocol NodeFilter: Sendable {
    /// nil when the node fits (as a nil *Status in kube-scheduler), or why it does not.
    func filter(_ node: UnsafePointer<NodeInfo>) -> PluginStatus?
}

/// ScorePlugin ranks the nodes that passed every filter (kube's PreScore, Score and
/// NormalizeScore). `preScore` returns nil when the plugin would give every node the same score
/// for this pod, which cannot change the ranking.
public protocol ScorePlugin: SchedulerPlugin {
    func preScore(_ pod: PodInfo, _ cluster: ClusterView, feasible: UnsafeBufferPointer<Int32>) -> (any NodeScorer)?
}

/// NodeScorer scores one pod against one node at a time (from several threads at once), then
/// maps all the scores to 0...`maximumNodeScore`.
public protocol NodeScorer: Sendable {
    /// The node comes by pointer, valid for the call only (see NodeFilter).
    func score(_ node: UnsafePointer<NodeInfo>) -> Int64
    /// `scores[i]` is the score of the i-th feasible node. Plugins whose scores are already in
    /// 0...100 keep the default, which changes nothing.
    func normalize(_ scores: UnsafeMutableBufferPointer<Int64>)
}

extension NodeScorer {
    public func normalize(_ scores: UnsafeMutableBufferPointer<Int64>) {}

    /// Scores the nodes at `indexes` into `scores`. Called once per batch on the opened
    /// existential, so that each node costs a direct call and no copy of the scorer.
    func scoreAll(_ base: UnsafePointer<NodeInfo>, _ indexes: UnsafeBufferPointer<Int32>, into scores: UnsafeMutableBufferPointer<Int64>) {
        for position in indexes.indices { scores[position] = score(base + Int(indexes[position])) }
    }
}

extension NodeFilter {
    /// Keeps in `candidates[0..<count]` the nodes this filter passes, in order, and hands each
    /// rejection to `reject`; returns how many remain. Called once per batch of nodes on the
    /// opened existential (calling through an existential held in an array copied it per node).
    func keepFitting(
        _ base: UnsafePointer<NodeInfo>, _ candidates: UnsafeMutableBufferPointer<Int32>, count: Int,
        reject: (PluginStatus) -> Void
    ) -> Int {
        var kept = 0
        for position in 0..<count {
            let index = candidates[position]
            if let status = filter(base + Int(index)) {
                reject(status)
            } else {
                candidates[kept] = index
                kept += 1
            }
        }
        return kept
    }
}

/// The highest score a plugin gives a node (kube's MaxNodeScore).
public let maximumNodeScore: Int64 = 100

/// Kube's DefaultNormalizeScore: scales so that the highest score becomes 100 (or, reversed,
/// the lowest), leaving all-zero scores as they are.
public func normalizeToMaximum(_ scores: UnsafeMutableBufferPointer<Int64>, reverse: Bool) {
    var highest: Int64 = 0
    for score in scores where score > highest { highest = score }
    if highest == 0 {
        if reverse { for index in scores.indices { scores[index] = maximumNodeScore } }
        return
    }
    for index in scores.indices {
        var score = maximumNodeScore * scores[index] / highest
        if reverse { score = maximumNodeScore - score }
        scores[index] = score
    }
}

/// Profile is the plugins one scheduler runs, in order, with the weight of each score (kube's
/// default profile with its default weights).
public struct Profile: Sendable {
    public var schedulerName: String
    public var filters: [any FilterPlugin]
    public var scorers: [(plugin: any ScorePlugin, weight: Int64)]

    public init(schedulerName: String, filters: [any FilterPlugin], scorers: [(plugin: any ScorePlugin, weight: Int64)]) {
        self.schedulerName = schedulerName
        self.filters = filters
        self.scorers = scorers
    }

    /// The events each plugin registered, by plugin name.
    public var eventsByPlugin: [String: ClusterEvent] {
        var result: [String: ClusterEvent] = [:]
        for filter in filters { result[filter.name, default: []].formUnion(filter.events) }
        for (scorer, _) in scorers { result[scorer.name, default: []].formUnion(scorer.events) }
        return result
    }
}
