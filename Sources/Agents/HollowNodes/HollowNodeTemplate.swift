import Api
import Foundation

/// HollowNodeTemplate describes the simulated nodes of one `agentctl run hollow-nodes` process
/// (Kubernetes' kubemark/kwok idea): N nodes named `<prefix><index>` with the same capacity,
/// labels, optional zones, loopback addresses from 127.95.0.0/16 and pod ranges from
/// 127.96.0.0/16 (DESIGN.md section 7).
public struct HollowNodeTemplate: Sendable {
    public var count: Int
    public var namePrefix = "hollow-node-"
    /// Added to every index for addresses, so that two processes do not share them.
    public var startIndex = 0
    public var cpu = Quantity("4")
    public var memory = Quantity("16Gi")
    public var pods = Quantity("110")
    public var ephemeralStorage = Quantity("100Gi")
    public var labels: [String: String] = [:]
    /// Nodes are spread over this many zones (topology.kubernetes.io/zone=zone-<i mod zones>);
    /// 0 sets no zone label.
    public var zones = 0

    public static let zoneLabel = "topology.kubernetes.io/zone"
    public static let hostnameLabel = "kubernetes.io/hostname"
    public static let hollowLabel = "skiff.io/hollow-node"
    public static let kubeletVersion = "v1.31.0-skiff-hollow"

    public init(count: Int) {
        self.count = count
    }

    public func name(_ index: Int) -> String { namePrefix + String(index) }

    /// The node's InternalIP: 127.95.<n / 256>.<n mod 256> with n = startIndex + index + 1.
    public func address(_ index: Int) -> String {
        let number = startIndex + index + 1
        return "127.95.\((number >> 8) & 255).\(number & 255)"
    }

    /// The /24 the node's pods get addresses from: 127.96.<(startIndex + index) mod 256>.0/24.
    /// Past 256 nodes, nodes share a /24 (and its 254 addresses).
    public func podBlock(_ index: Int) -> Int { (startIndex + index) & 255 }

    public func podCIDR(_ index: Int) -> String { "127.96.\(podBlock(index)).0/24" }

    public func node(_ index: Int, now: Date = Date()) -> Node {
        let name = name(index)
        var meta = ObjectMeta()
        meta.name = name
        var nodeLabels = labels
        nodeLabels[Self.hostnameLabel] = name
        nodeLabels["kubernetes.io/os"] = "linux"
        nodeLabels["kubernetes.io/arch"] = "amd64"
        nodeLabels["node.kubernetes.io/instance-type"] = "hollow"
        nodeLabels[Self.hollowLabel] = "true"
        if zones > 0 { nodeLabels[Self.zoneLabel] = "zone-\(index % zones)" }
        meta.labels = nodeLabels
        var spec = NodeSpec()
        spec.podCIDR = podCIDR(index)
        spec.podCIDRs = [podCIDR(index)]
        spec.providerID = "hollow://" + name
        var node = Node()
        node.metadata = meta
        node.spec = spec
        node.status = status(index, now: now)
        return node
    }

    /// A healthy node's status: capacity, Ready and the pressure conditions, addresses.
    public func status(_ index: Int, now: Date = Date()) -> NodeStatus {
        var status = NodeStatus()
        let resources: [String: Quantity] = [
            ResourceNames.cpu: cpu, ResourceNames.memory: memory, ResourceNames.pods: pods,
            ResourceNames.ephemeralStorage: ephemeralStorage,
        ]
        status.capacity = resources
        status.allocatable = resources
        let time = Time(seconds: Int64(now.timeIntervalSince1970))
        func condition(_ type: String, _ value: String, _ reason: String, _ message: String) -> NodeCondition {
            NodeCondition(type: type, status: value, lastHeartbeatTime: time, lastTransitionTime: time, reason: reason, message: message)
        }
        status.conditions = [
            condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ]
        status.addresses = [NodeAddress(type: "InternalIP", address: address(index)), NodeAddress(type: "Hostname", address: name(index))]
        status.daemonEndpoints = NodeDaemonEndpoints(kubeletEndpoint: DaemonEndpoint(port: 10250))
        var info = NodeSystemInfo()
        info.kubeletVersion = Self.kubeletVersion
        info.operatingSystem = "linux"
        info.architecture = "amd64"
        info.osImage = "Skiff hollow node"
        info.containerRuntimeVersion = "hollow://1.0"
        status.nodeInfo = info
        status.phase = "Running"
        return status
    }

    /// The node's heartbeat Lease in kube-node-lease, owned by the node so that deleting the
    /// node deletes it.
    public static func lease(
        nodeName: String, nodeUID: String?, durationSeconds: Int32, now: Date = Date()
    ) -> Lease {
        var meta = ObjectMeta()
        meta.name = nodeName
        meta.namespace = NodeAuthorizer.nodeLeaseNamespace
        if let nodeUID, !nodeUID.isEmpty {
            var owner = OwnerReference()
            owner.apiVersion = "v1"
            owner.kind = "Node"
            owner.name = nodeName
            owner.uid = nodeUID
            meta.ownerReferences = [owner]
        }
        var lease = Lease()
        lease.metadata = meta
        lease.spec = LeaseSpec(holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: microTime(now))
        return lease
    }

    public static func microTime(_ date: Date) -> MicroTime {
        let seconds = date.timeIntervalSince1970
        return MicroTime(seconds: Int64(seconds), nanos: Int32((seconds - seconds.rounded(.down)) * 1e9))
    }
}
