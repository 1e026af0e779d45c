import Api

/// NodeResourcesFit keeps pods off nodes without room for their requests (filter: CPU, memory,
/// ephemeral storage, extended resources and the pod count against allocatable, minus what the
/// node's pods already request), and prefers the least allocated nodes (score, kube's
/// LeastAllocated strategy with CPU and memory weighted equally, counting containers without
/// requests at the default 100m CPU and 200 MiB).
public struct NodeResourcesFit: FilterPlugin, ScorePlugin {
    public static let name = "NodeResourcesFit"
    public static let events: ClusterEvent = [.nodeAdd, .nodeAllocatableChange, .assignedPodDelete, .assignedPodUpdate]
    public static let tooManyPods = "Too many pods"
    public static let insufficientCPU = "Insufficient cpu"
    public static let insufficientMemory = "Insufficient memory"
    public static let insufficientEphemeralStorage = "Insufficient ephemeral-storage"

    public init() {}

    public func preFilter(_ pod: PodInfo, _ cluster: ClusterView) -> PreFilterResult {
        .check(Check(requests: pod.requests))
    }

    struct Check: NodeFilter {
        let requests: ResourceAmounts
        /// The extended resources requested, sorted by name so reasons come out in one order.
        let scalar: [(name: String, amount: Int64)]

        init(requests: ResourceAmounts) {
            self.requests = requests
            scalar = requests.scalar.sorted { $0.key < $1.key }.map { (name: $0.key, amount: $0.value) }
        }

        func filter(_ node: UnsafePointer<NodeInfo>) -> PluginStatus? {
            if let problem = node.pointee.problem { return PluginStatus(.unschedulableAndUnresolvable, problem) }
            let tooManyPods = Int64(node.pointee.podCount) + 1 > node.pointee.allowedPodCount
            let allocatable = node.pointee.allocatable
            let requested = node.pointee.requested
            let cpuShort = requests.milliCPU > 0 && requests.milliCPU > allocatable.milliCPU - requested.milliCPU
            let memoryShort = requests.memory > 0 && requests.memory > allocatable.memory - requested.memory
            let storageShort = requests.ephemeralStorage > 0
                && requests.ephemeralStorage > allocatable.ephemeralStorage - requested.ephemeralStorage
            guard tooManyPods || cpuShort || memoryShort || storageShort || !scalar.isEmpty else { return nil }
            var reasons: [String] = []
            if tooManyPods { reasons.append(NodeResourcesFit.tooManyPods) }
            if cpuShort { reasons.append(NodeResourcesFit.insufficientCPU) }
            if memoryShort { reasons.append(NodeResourcesFit.insufficientMemory) }
            if storageShort { reasons.append(NodeResourcesFit.insufficientEphemeralStorage) }
            for (name, amount) in scalar
            where amount > allocatable.scalar[name, default: 0] - requested.scalar[name, default: 0] {
                reasons.append("Insufficient \(name)")
            }
            return reasons.isEmpty ? nil : PluginStatus(.unschedulable, reasons)
        }
    }

    public func preScore(_ pod: PodInfo, _ cluster: ClusterView, feasible: UnsafeBufferPointer<Int32>) -> (any NodeScorer)? {
        LeastAllocated(podMilliCPU: pod.nonZeroMilliCPU, podMemory: pod.nonZeroMemory)
    }

    /// LeastAllocated scores (allocatable - requested) / allocatable per resource, averaged.
    struct LeastAllocated: NodeScorer {
        let podMilliCPU: Int64
        let podMemory: Int64

        func score(_ node: UnsafePointer<NodeInfo>) -> Int64 {
            var total: Int64 = 0
            var weights: Int64 = 0
            let cpu = node.pointee.allocatable.milliCPU
            if cpu > 0 {
                total += Self.leastRequested(node.pointee.nonZeroRequestedMilliCPU + podMilliCPU, capacity: cpu)
                weights += 1
            }
            let memory = node.pointee.allocatable.memory
            if memory > 0 {
                total += Self.leastRequested(node.pointee.nonZeroRequestedMemory + podMemory, capacity: memory)
                weights += 1
            }
            return weights == 0 ? 0 : total / weights
        }

        static func leastRequested(_ requested: Int64, capacity: Int64) -> Int64 {
            guard requested <= capacity else { return 0 }
            let (scaled, overflow) = (capacity - requested).multipliedReportingOverflow(by: maximumNodeScore)
            // Only capacities beyond 2^63 / 100 (92 PB of memory) need 128 bits.
            if overflow { return Int64(Int128(capacity - requested) * Int128(maximumNodeScore) / Int128(capacity)) }
            return scaled / capacity
        }
    }
}
