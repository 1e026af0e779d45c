import Api

@testable import Agents

/// Builders for the nodes and pods the scheduler tests use.
enum SchedulerFixtures {
    static func node(
        _ name: String, cpu: String = "4", memory: String = "16Gi", pods: String = "110", labels: [String: String] = [:],
        taints: [Taint] = [], unschedulable: Bool = false
    ) -> Node {
        var node = Node()
        var allLabels = labels
        allLabels["kubernetes.io/hostname"] = name
        node.metadata = ObjectMeta(name: name, uid: name + "-uid", labels: allLabels)
        node.spec = NodeSpec(unschedulable: unschedulable ? true : nil, taints: taints)
        let resources = ["cpu": Quantity(cpu), "memory": Quantity(memory), "pods": Quantity(pods)]
        node.status = NodeStatus(capacity: resources, allocatable: resources)
        return node
    }

    static func pod(
        _ name: String, namespace: String = "default", cpu: String? = nil, memory: String? = nil, labels: [String: String] = [:],
        nodeName: String? = nil, priority: Int32? = nil, tolerations: [Toleration] = [], nodeSelector: [String: String] = [:],
        affinity: Affinity? = nil, spread: [TopologySpreadConstraint] = [], hostPorts: [Int32] = [],
        initContainers: [Container] = []
    ) -> Pod {
        var pod = Pod()
        pod.metadata = ObjectMeta(name: name, namespace: namespace, uid: namespace + "-" + name + "-uid", labels: labels)
        var container = Container()
        container.name = "app"
        container.image = "registry.local/app:1"
        var requests: [String: Quantity] = [:]
        if let cpu { requests["cpu"] = Quantity(cpu) }
        if let memory { requests["memory"] = Quantity(memory) }
        if !requests.isEmpty { container.resources = ResourceRequirements(requests: requests) }
        container.ports = hostPorts.map { ContainerPort(hostPort: $0, containerPort: $0) }
        var spec = PodSpec(containers: [container])
        spec.initContainers = initContainers
        spec.nodeName = nodeName
        spec.priority = priority
        spec.tolerations = tolerations
        spec.nodeSelector = nodeSelector
        spec.affinity = affinity
        spec.topologySpreadConstraints = spread
        pod.spec = spec
        return pod
    }

    static func cache(nodes: [Node], pods: [Pod] = []) -> SchedulerCache {
        var cache = SchedulerCache()
        for node in nodes { cache.setNode(node) }
        for pod in pods { cache.addPod(PodInfo(pod)) }
        return cache
    }

    static func core(nodes: [Node] = [], percentage: Int = 100, parallelism: Int = 1) -> SchedulerCore {
        var configuration = ScheduleAlgorithm.Configuration()
        configuration.percentageOfNodesToScore = percentage
        configuration.parallelism = parallelism
        configuration.minimumChunk = 16
        let core = SchedulerCore(profile: PluginRegistry.defaultProfile(), algorithm: configuration)
        for node in nodes { core.nodeChanged(node, now: 0) }
        return core
    }

    /// Runs `plugin`'s PreFilter for `pod` and its check on node `name`.
    static func filter(_ plugin: some FilterPlugin, _ pod: Pod, _ cache: SchedulerCache, node name: String) -> PluginStatus {
        let info = PodInfo(pod)
        return cache.nodes.withUnsafeBufferPointer { nodes in
            let view = ClusterView(nodes: nodes, nodeCount: cache.nodeCount, counts: cache.counts, namespaceLabels: [:])
            switch plugin.preFilter(info, view) {
            case .skip: return PluginStatus(.success)
            case .reject(let status): return status
            case .check(let check):
                let index = nodes.firstIndex { $0.name == name }!
                return check.filter(view.node(index)) ?? PluginStatus(.success)
            }
        }
    }

    /// Normalized scores of `plugin` for `pod` on every node, by node name; nil when it skips.
    static func scores(_ plugin: some ScorePlugin, _ pod: Pod, _ cache: SchedulerCache) -> [String: Int64]? {
        let info = PodInfo(pod)
        return cache.nodes.withUnsafeBufferPointer { nodes in
            let view = ClusterView(nodes: nodes, nodeCount: cache.nodeCount, counts: cache.counts, namespaceLabels: [:])
            let feasible = (0..<nodes.count).filter { nodes[$0].hasNode }.map { Int32($0) }
            return feasible.withUnsafeBufferPointer { feasible -> [String: Int64]? in
                guard let scorer = plugin.preScore(info, view, feasible: feasible) else { return nil }
                var scores = feasible.map { scorer.score(view.node(Int($0))) }
                scores.withUnsafeMutableBufferPointer { scorer.normalize($0) }
                var result: [String: Int64] = [:]
                for (position, index) in feasible.enumerated() { result[nodes[Int(index)].name] = scores[position] }
                return result
            }
        }
    }

    static func taint(_ key: String, _ value: String = "", _ effect: TaintEffect = .noSchedule) -> Taint {
        Taint(key: key, value: value, effect: effect.rawValue)
    }

    static func requirement(_ key: String, _ op: String, _ values: [String] = []) -> NodeSelectorRequirement {
        NodeSelectorRequirement(key: key, operator: op, values: values)
    }

    static func term(_ labels: [String: String], topologyKey: String) -> PodAffinityTerm {
        PodAffinityTerm(labelSelector: LabelSelector(matchLabels: labels), topologyKey: topologyKey)
    }
}
