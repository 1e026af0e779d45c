import Api

/// NodeResourcesBalancedAllocation prefers nodes whose CPU and memory would be used in equal
/// proportion once the pod is placed: the score is (1 - the standard deviation of the used
/// fractions) × 100, from actual requests (kube-scheduler's balanced allocation).
public struct NodeResourcesBalancedAllocation: ScorePlugin {
    public static let name = "NodeResourcesBalancedAllocation"
    public static let events: ClusterEvent = [.nodeAdd, .nodeAllocatableChange, .assignedPodDelete, .assignedPodUpdate]

    public init() {}

    public func preScore(_ pod: PodInfo, _ cluster: ClusterView, feasible: UnsafeBufferPointer<Int32>) -> (any NodeScorer)? {
        // A pod without requests changes no fraction: every node would keep its own balance, and
        // kube skips the plugin for it.
        if pod.requests.milliCPU == 0 && pod.requests.memory == 0 { return nil }
        return Scorer(podMilliCPU: pod.requests.milliCPU, podMemory: pod.requests.memory)
    }

    struct Scorer: NodeScorer {
        let podMilliCPU: Int64
        let podMemory: Int64

        func score(_ node: UnsafePointer<NodeInfo>) -> Int64 {
            let cpuCapacity = node.pointee.allocatable.milliCPU
            let memoryCapacity = node.pointee.allocatable.memory
            var fractions = (Double(0), Double(0))
            var count = 0
            if cpuCapacity > 0 {
                fractions.0 = min(1, Double(node.pointee.requested.milliCPU + podMilliCPU) / Double(cpuCapacity))
                count += 1
            }
            if memoryCapacity > 0 {
                let fraction = min(1, Double(node.pointee.requested.memory + podMemory) / Double(memoryCapacity))
                if count == 0 { fractions.0 = fraction } else { fractions.1 = fraction }
                count += 1
            }
            // With two resources the standard deviation is half their difference.
            let deviation = count == 2 ? abs(fractions.0 - fractions.1) / 2 : 0
            return Int64((1 - deviation) * Double(maximumNodeScore))
        }
    }
}
