import Api

/// TaintEffect is what a taint does to pods that do not tolerate it.
public enum TaintEffect: String, Sendable {
    case noSchedule = "NoSchedule"
    case preferNoSchedule = "PreferNoSchedule"
    case noExecute = "NoExecute"
}

/// TaintInfo is a node taint with the FailedScheduling reason it gives, made once per node
/// change so that a rejection costs no string building.
public struct TaintInfo: Sendable {
    public var taint: Taint
    public var effect: TaintEffect
    /// "node(s) had untolerated taint {key: value}", as kube-scheduler words it.
    public var reason: String

    public init(_ taint: Taint, effect: TaintEffect) {
        self.taint = taint
        self.effect = effect
        reason = "node(s) had untolerated taint {\(taint.key ?? ""): \(taint.value ?? "")}"
    }
}

/// PortKey is a protocol and port number; NodeInfo counts the addresses using each.
public struct PortKey: Hashable, Sendable {
    public var `protocol`: String
    public var port: Int32
}

/// NodeInfo is one node as the scheduler sees it: the node's labels, taints and allocatable
/// resources, plus aggregates of the pods on it (requested resources, pod count, host ports,
/// pods with affinity), updated incrementally as pods are assumed, bound, and removed
/// (kube-scheduler's `framework.NodeInfo`). Filters and scores read only these fields, so a
/// scheduling decision never walks a node's pods unless the pod has affinity or spread
/// constraints.
///
/// A NodeInfo without a node (`hasNode` false) keeps the pods of a node that was deleted while
/// pods were still bound to it, so that the aggregates are right if it comes back.
public struct NodeInfo: Sendable {
    public let name: String
    public private(set) var hasNode = false
    public private(set) var labels: [String: String] = [:]
    public private(set) var unschedulable = false
    /// NoSchedule and NoExecute taints: what the TaintToleration filter checks.
    public private(set) var filterTaints: [TaintInfo] = []
    /// PreferNoSchedule taints: what the TaintToleration score counts.
    public private(set) var preferNoScheduleTaints: [TaintInfo] = []
    public private(set) var allocatable = ResourceAmounts()
    public private(set) var allowedPodCount: Int64 = 0
    /// A problem reading the node's allocatable resources, reported for every pod it rejects.
    public private(set) var problem: String?

    public private(set) var requested = ResourceAmounts()
    public private(set) var nonZeroRequestedMilliCPU: Int64 = 0
    public private(set) var nonZeroRequestedMemory: Int64 = 0
    public private(set) var podCount = 0
    /// Host ports in use: protocol and port → address → pods using it.
    public private(set) var usedPorts: [PortKey: [String: Int]] = [:]
    public private(set) var pods: [PodInfo] = []
    /// Pods on the node with any pod (anti-)affinity term, and with required anti-affinity.
    public private(set) var podsWithAffinity = 0
    public private(set) var podsWithRequiredAntiAffinity = 0

    public init(name: String) {
        self.name = name
    }

    public init(node: Node) {
        self.init(name: node.metadata?.name ?? "")
        setNode(node)
    }

    /// Takes the node's labels, taints, unschedulable flag and allocatable resources (capacity
    /// when allocatable is not reported).
    public mutating func setNode(_ node: Node) {
        hasNode = true
        labels = node.metadata?.labels ?? [:]
        unschedulable = node.spec?.unschedulable ?? false
        filterTaints = []
        preferNoScheduleTaints = []
        for taint in node.spec?.taints ?? [] {
            switch TaintEffect(rawValue: taint.effect ?? "") {
            case .noSchedule?: filterTaints.append(TaintInfo(taint, effect: .noSchedule))
            case .noExecute?: filterTaints.append(TaintInfo(taint, effect: .noExecute))
            case .preferNoSchedule?: preferNoScheduleTaints.append(TaintInfo(taint, effect: .preferNoSchedule))
            case nil: break
            }
        }
        let status = node.status ?? NodeStatus()
        let list = status.allocatable.isEmpty ? status.capacity : status.allocatable
        problem = nil
        do {
            allocatable = try ResourceAmounts(list, field: "node \(name) status.allocatable")
        } catch {
            allocatable = ResourceAmounts()
            problem = error.description
        }
        allowedPodCount = 0
        if let pods = list[ResourceNames.pods] {
            if let value = try? pods.value() {
                allowedPodCount = ResourceAmounts.clamp(value.unitsRoundedUp)
            } else {
                problem = "node \(name) status.allocatable[pods]: \"\(pods.string ?? "")\" is not a quantity"
            }
        }
    }

    /// Keeps the pods, forgets the node (it was deleted).
    public mutating func removeNode() {
        hasNode = false
        labels = [:]
        unschedulable = false
        filterTaints = []
        preferNoScheduleTaints = []
        allocatable = ResourceAmounts()
        allowedPodCount = 0
        problem = nil
    }

    public mutating func add(_ pod: PodInfo) {
        requested.add(pod.requests)
        nonZeroRequestedMilliCPU += pod.nonZeroMilliCPU
        nonZeroRequestedMemory += pod.nonZeroMemory
        podCount += 1
        for port in pod.hostPorts {
            usedPorts[PortKey(protocol: port.protocol, port: port.port), default: [:]][port.ip, default: 0] += 1
        }
        if let affinity = pod.affinity {
            podsWithAffinity += 1
            if !affinity.requiredAntiAffinity.isEmpty { podsWithRequiredAntiAffinity += 1 }
        }
        pods.append(pod)
    }

    /// Removes `pod` (the same PodInfo that was added); false when it is not on this node.
    @discardableResult
    public mutating func remove(_ pod: PodInfo) -> Bool {
        guard let index = pods.firstIndex(where: { $0 === pod }) else { return false }
        pods.swapAt(index, pods.count - 1)
        pods.removeLast()
        requested.subtract(pod.requests)
        nonZeroRequestedMilliCPU -= pod.nonZeroMilliCPU
        nonZeroRequestedMemory -= pod.nonZeroMemory
        podCount -= 1
        for port in pod.hostPorts {
            let key = PortKey(protocol: port.protocol, port: port.port)
            let left = (usedPorts[key]?[port.ip] ?? 1) - 1
            usedPorts[key]?[port.ip] = left > 0 ? left : nil
            if usedPorts[key]?.isEmpty == true { usedPorts[key] = nil }
        }
        if let affinity = pod.affinity {
            podsWithAffinity -= 1
            if !affinity.requiredAntiAffinity.isEmpty { podsWithRequiredAntiAffinity -= 1 }
        }
        precondition(podCount >= 0 && podsWithAffinity >= 0, "node \(name): pod accounting went negative")
        return true
    }

    /// Whether `port` can be opened on this node: free on its address and on 0.0.0.0, and, for
    /// 0.0.0.0, free on every address.
    public func isFree(_ port: HostPort) -> Bool {
        guard let addresses = usedPorts[PortKey(protocol: port.protocol, port: port.port)] else { return true }
        if port.ip == HostPort.anyAddress { return addresses.isEmpty }
        return addresses[port.ip] == nil && addresses[HostPort.anyAddress] == nil
    }
}
