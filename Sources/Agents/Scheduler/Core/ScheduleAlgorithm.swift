import Api
import Synchronization
import Wire

/// ScheduleAlgorithm picks a node for one pod against the cache (kube-scheduler's
/// `schedulePod`):
///
/// 1. PreFilter: each filter plugin looks at the pod once and returns a per-node check, or
///    skips (nothing to check for this pod), or rules out every node.
/// 2. Filter: the checks run on the nodes, in parallel chunks, starting where the previous pod
///    stopped (round robin), and stop once `feasibleNodesToFind` nodes fit — kube's
///    percentageOfNodesToScore, so a large cluster is not fully scanned for every pod.
/// 3. Score: each score plugin scores the feasible nodes, normalizes to 0...100, and the
///    weighted sum ranks them; ties are broken at random so equal nodes share the load.
///
/// The hot loops run over the cache's contiguous `NodeInfo` values and reuse scratch buffers:
/// scheduling a pod allocates nothing per node.
public struct ScheduleAlgorithm {
    public struct Configuration: Sendable {
        /// Percentage of nodes to find feasible before scoring; 0 is kube's adaptive default
        /// (50% minus 1% per 125 nodes, at least 5%), 100 scores every feasible node.
        public var percentageOfNodesToScore: Int = 0
        /// Threads filtering and scoring at once.
        public var parallelism: Int = 1
        /// Smallest chunk of nodes one thread takes.
        public var minimumChunk: Int = 256
        /// Seed of the tie-breaking generator (tests fix it).
        public var seed: UInt64 = 0x5EED

        public init() {}
    }

    public enum Result: Sendable {
        /// The chosen node; `evaluated` nodes were filtered and `feasible` of them fit.
        case selected(node: String, evaluated: Int, feasible: Int)
        /// No node fits; the pod should wait for `awaitedEvents` (empty: only a change to the
        /// pod itself can help).
        case unfit(FitError, awaitedEvents: ClusterEvent)
    }

    /// Below this many nodes, every node is evaluated (kube's minFeasibleNodesToFind).
    public static let minimumFeasibleNodesToFind = 100
    /// The adaptive percentage never goes below this (kube's minFeasibleNodesPercentageToFind).
    public static let minimumFeasiblePercentage = 5

    public let profile: Profile
    public let configuration: Configuration
    let parallelizer: Parallelizer
    private let pluginEvents: [ClusterEvent]
    private var random: SplitMix64
    /// Where the next pod's filtering starts, so that successive pods see different nodes first.
    public private(set) var nextStartNodeIndex = 0
    private var scratch: [FilterScratch]
    private var feasible: [Int32] = []
    private var scores: [Int64] = []
    private var totals: [Int64] = []

    public init(profile: Profile, configuration: Configuration) {
        precondition((0...100).contains(configuration.percentageOfNodesToScore))
        self.profile = profile
        self.configuration = configuration
        parallelizer = Parallelizer(parallelism: configuration.parallelism, minimumChunk: configuration.minimumChunk)
        pluginEvents = profile.filters.map(\.events)
        random = SplitMix64(seed: configuration.seed)
        scratch = (0..<configuration.parallelism).map { _ in FilterScratch() }
    }

    /// How many feasible nodes to find among `nodeCount` before scoring.
    public static func feasibleNodesToFind(nodeCount: Int, percentage: Int) -> Int {
        if nodeCount < minimumFeasibleNodesToFind || percentage >= 100 { return nodeCount }
        var adaptive = percentage
        if adaptive <= 0 {
            adaptive = 50 - nodeCount / 125
            if adaptive < minimumFeasiblePercentage { adaptive = minimumFeasiblePercentage }
        }
        return max(nodeCount * adaptive / 100, minimumFeasibleNodesToFind)
    }

    public mutating func schedule(
        _ pod: PodInfo, cache: SchedulerCache, namespaceLabels: [String: [String: String]]
    ) -> Result {
        let nodeCount = cache.nodeCount
        if let problem = pod.problem {
            return .unfit(
                FitError(nodeCount: nodeCount, reasonCounts: [:], preFilterMessage: "the pod cannot be scheduled: \(problem)", rejectingPlugins: []),
                awaitedEvents: [])
        }
        guard nodeCount > 0 else {
            return .unfit(FitError(nodeCount: 0, reasonCounts: [:], rejectingPlugins: []), awaitedEvents: .nodeAdd)
        }
        return cache.nodes.withUnsafeBufferPointer { nodes in
            let view = ClusterView(nodes: nodes, nodeCount: nodeCount, counts: cache.counts, namespaceLabels: namespaceLabels)
            // PreFilter.
            var checkPlugins: [Int] = []
            var checks: [any NodeFilter] = []
            for (index, plugin) in profile.filters.enumerated() {
                switch plugin.preFilter(pod, view) {
                case .skip: continue
                case .check(let filter):
                    checkPlugins.append(index)
                    checks.append(filter)
                case .reject(let status):
                    let fit = FitError(
                        nodeCount: nodeCount, reasonCounts: [:], preFilterMessage: status.reasons.joined(separator: ", "),
                        rejectingPlugins: [plugin.name])
                    return .unfit(fit, awaitedEvents: plugin.events)
                }
            }
            // Filter.
            let target = Self.feasibleNodesToFind(nodeCount: nodeCount, percentage: configuration.percentageOfNodesToScore)
            let evaluated = findFeasibleNodes(nodes, checks: checks, plugins: checkPlugins, target: target)
            if feasible.isEmpty {
                return .unfit(diagnose(nodeCount: nodeCount), awaitedEvents: awaitedEvents())
            }
            let node: Int
            if feasible.count == 1 {
                node = Int(feasible[0])
            } else {
                node = Int(feasible[prioritize(pod, view)])
            }
            return .selected(node: nodes[node].name, evaluated: evaluated, feasible: feasible.count)
        }
    }

    // MARK: Filtering

    /// Fills `feasible` with up to `target` node indexes that pass every check; returns how many
    /// nodes were evaluated. The first stretch runs on this thread: in the common case (most
    /// nodes fit) it finds the target alone, and handing chunks to other threads would only add
    /// wake-ups and evaluate nodes past the target. Only what remains after it, when many nodes
    /// were rejected, is filtered in parallel.
    private mutating func findFeasibleNodes(
        _ nodes: UnsafeBufferPointer<NodeInfo>, checks: [any NodeFilter], plugins: [Int], target: Int
    ) -> Int {
        let total = nodes.count
        guard total > 0 else {
            feasible.removeAll(keepingCapacity: true)
            return 0
        }
        let start = nextStartNodeIndex % total
        for worker in scratch { worker.reset() }
        let base = nodes.baseAddress!
        let found = Atomic<Int>(0)
        checks.withUnsafeBufferPointer { checks in
            plugins.withUnsafeBufferPointer { plugins in
                /// Evaluates the nodes at `positions` (counted from `start`) into `local`, until
                /// `target` nodes fit overall; returns whether to go on. Nodes go through the
                /// checks in batches, check by check, never more at once than are still needed,
                /// so that exactly as many nodes are evaluated as one at a time would.
                func evaluate(_ local: FilterScratch, _ positions: Range<Int>) -> Bool {
                    let before = found.load(ordering: .relaxed)
                    var fitting = 0
                    var position = positions.lowerBound
                    while position < positions.upperBound && before + fitting < target {
                        let batch = min(FilterScratch.batchSize, target - before - fitting, positions.upperBound - position)
                        var count = 0
                        for offset in 0..<batch {
                            var index = start + position + offset
                            if index >= total { index -= total }
                            guard base[index].hasNode else { continue }
                            local.candidates[count] = Int32(truncatingIfNeeded: index)
                            count += 1
                        }
                        position += batch
                        local.evaluated += count
                        for check in 0..<checks.count where count > 0 {
                            let plugin = plugins[check]
                            count = checks[check].keepFitting(base, local.candidates, count: count) { status in
                                local.reject(plugin: plugin, status)
                            }
                        }
                        local.feasible.append(contentsOf: local.candidates[0..<count])
                        fitting += count
                    }
                    return found.add(fitting, ordering: .relaxed).newValue < target
                }
                let inline = min(total, max(2 * target, parallelizer.minimumChunk))
                guard evaluate(scratch[0], 0..<inline), inline < total else { return }
                let workers = scratch
                parallelizer.run(count: total - inline) { worker, range in
                    evaluate(workers[worker], (inline + range.lowerBound)..<(inline + range.upperBound))
                }
            }
        }
        feasible.removeAll(keepingCapacity: true)
        var evaluated = 0
        for worker in scratch {
            evaluated += worker.evaluated
            feasible.append(contentsOf: worker.feasible)
        }
        if feasible.count > target { feasible.removeLast(feasible.count - target) }
        nextStartNodeIndex = (start + max(evaluated, 1)) % total
        return evaluated
    }

    private func diagnose(nodeCount: Int) -> FitError {
        var reasons: [String: Int] = [:]
        var rejected: UInt64 = 0
        for worker in scratch {
            reasons.merge(worker.reasons, uniquingKeysWith: +)
            rejected |= worker.rejectedPlugins
        }
        let plugins = profile.filters.indices.filter { rejected & (1 << UInt64($0)) != 0 }.map { profile.filters[$0].name }
        return FitError(nodeCount: nodeCount, reasonCounts: reasons, rejectingPlugins: plugins)
    }

    private func awaitedEvents() -> ClusterEvent {
        var rejected: UInt64 = 0
        for worker in scratch { rejected |= worker.rejectedPlugins }
        var events: ClusterEvent = []
        for index in pluginEvents.indices where rejected & (1 << UInt64(index)) != 0 { events.formUnion(pluginEvents[index]) }
        return events.isEmpty ? .all : events
    }

    // MARK: Scoring

    /// Scores the feasible nodes and returns the position (in `feasible`) of the best, ties
    /// broken at random. Scores are computed in parallel only for large numbers of nodes: a
    /// score costs tens of nanoseconds, less than waking a thread.
    private mutating func prioritize(_ pod: PodInfo, _ view: ClusterView) -> Int {
        let count = feasible.count
        if totals.count < count {
            totals = [Int64](repeating: 0, count: count)
            scores = [Int64](repeating: 0, count: count)
        }
        let base = view.nodes.baseAddress!
        let parallelizer = parallelizer
        let scorers = profile.scorers
        feasible.withUnsafeBufferPointer { feasible in
            totals.withUnsafeMutableBufferPointer { totals in
                scores.withUnsafeMutableBufferPointer { scores in
                    let totals = UnsafeMutableBufferPointer(rebasing: totals[0..<count])
                    let scores = UnsafeMutableBufferPointer(rebasing: scores[0..<count])
                    totals.update(repeating: 0)
                    for entry in 0..<scorers.count {
                        guard let scorer = scorers[entry].plugin.preScore(pod, view, feasible: feasible) else { continue }
                        let weight = scorers[entry].weight
                        if count >= Self.parallelScoringThreshold && parallelizer.parallelism > 1 {
                            parallelizer.run(count: count) { _, range in
                                scorer.scoreAll(
                                    base, UnsafeBufferPointer(rebasing: feasible[range]), into: UnsafeMutableBufferPointer(rebasing: scores[range]))
                                return true
                            }
                        } else {
                            scorer.scoreAll(base, feasible, into: scores)
                        }
                        scorer.normalize(scores)
                        for position in 0..<count { totals[position] += scores[position] * weight }
                    }
                }
            }
        }
        var best = Int64.min
        var choice = 0
        var ties: UInt64 = 0
        for position in 0..<count {
            let total = totals[position]
            if total > best {
                best = total
                choice = position
                ties = 1
            } else if total == best {
                ties += 1
                if random.next() % ties == 0 { choice = position }
            }
        }
        return choice
    }

    /// Feasible nodes from which scoring is spread over threads.
    static let parallelScoringThreshold = 4096
}

/// FilterScratch is one filtering worker's results, reused from pod to pod.
final class FilterScratch: @unchecked Sendable {
    // Safety of @unchecked Sendable: during a parallel filter each worker index is used by one
    // thread at a time (Parallelizer's contract); between runs only the scheduling thread reads.
    /// Nodes evaluated at once, check by check.
    static let batchSize = 64

    var feasible: [Int32] = []
    /// The batch being filtered.
    let candidates = UnsafeMutableBufferPointer<Int32>.allocate(capacity: FilterScratch.batchSize)
    var reasons: [String: Int] = [:]
    /// Bit i set: filter plugin i rejected some node.
    var rejectedPlugins: UInt64 = 0
    var evaluated = 0

    deinit {
        candidates.deallocate()
    }

    func reset() {
        feasible.removeAll(keepingCapacity: true)
        if !reasons.isEmpty { reasons.removeAll(keepingCapacity: true) }
        rejectedPlugins = 0
        evaluated = 0
    }

    func reject(plugin: Int, _ status: PluginStatus) {
        rejectedPlugins |= 1 << UInt64(plugin)
        for reason in status.reasons { reasons[reason, default: 0] += 1 }
    }
}
