import Api
import Foundation

/// HollowPodLifecycle is what a hollow node does with a pod, decided from the object alone (a
/// kubelet whose containers start instantly and never fail):
/// - a pod bound to one of its live nodes that is not reported Running yet is reported Running,
///   with every container ready;
/// - a pod being deleted is finalized at once (deleted with grace period 0), since there are no
///   containers to stop;
/// - anything else is left alone.
public enum HollowPodLifecycle {
    public enum Action: Equatable, Sendable {
        case none
        case reportRunning
        case finalize
    }

    public static func action(for pod: Pod, isLiveNode: (String) -> Bool) -> Action {
        guard let node = pod.spec?.nodeName, !node.isEmpty, isLiveNode(node) else { return .none }
        if pod.metadata?.deletionTimestamp != nil { return .finalize }
        let status = pod.status ?? PodStatus()
        switch status.phase {
        case "Succeeded", "Failed": return .none
        case "Running" where !(status.podIP ?? "").isEmpty && isReady(status): return .none
        default: return .reportRunning
        }
    }

    static func isReady(_ status: PodStatus) -> Bool {
        status.conditions.contains { $0.type == "Ready" && $0.status == "True" }
    }

    /// The status a kubelet reports once every container runs: phase Running, the four pod
    /// conditions True, the node's and the pod's addresses, and each container running and
    /// ready (init containers completed, sidecars running). Conditions of other types (readiness
    /// gates) are kept, and so is an earlier startTime.
    public static func runningStatus(of pod: Pod, hostIP: String, podIP: String, now: Date = Date()) -> PodStatus {
        var status = pod.status ?? PodStatus()
        let time = Time(seconds: Int64(now.timeIntervalSince1970))
        let ours: Set<String> = ["PodScheduled", "Initialized", "ContainersReady", "Ready"]
        var conditions = status.conditions.filter { !ours.contains($0.type ?? "") }
        for type in ["PodScheduled", "Initialized", "ContainersReady", "Ready"] {
            let previous = status.conditions.first { $0.type == type }
            let since = previous?.status == "True" ? (previous?.lastTransitionTime ?? time) : time
            conditions.append(PodCondition(type: type, status: "True", lastTransitionTime: since))
        }
        status.conditions = conditions
        status.phase = "Running"
        status.hostIP = hostIP
        status.hostIPs = [HostIP(ip: hostIP)]
        status.podIP = podIP
        status.podIPs = [PodIP(ip: podIP)]
        if status.startTime == nil { status.startTime = time }
        status.reason = nil
        status.message = nil
        let spec = pod.spec ?? PodSpec()
        let uid = pod.metadata?.uid ?? ""
        status.containerStatuses = spec.containers.map { container in
            containerStatus(container, uid: uid, state: ContainerState(running: ContainerStateRunning(startedAt: time)))
        }
        status.initContainerStatuses = spec.initContainers.map { container in
            if container.restartPolicy == "Always" {
                return containerStatus(container, uid: uid, state: ContainerState(running: ContainerStateRunning(startedAt: time)))
            }
            var done = ContainerStateTerminated()
            done.exitCode = 0
            done.reason = "Completed"
            done.startedAt = time
            done.finishedAt = time
            return containerStatus(container, uid: uid, state: ContainerState(terminated: done))
        }
        return status
    }

    private static func containerStatus(_ container: Container, uid: String, state: ContainerState) -> ContainerStatus {
        let name = container.name ?? ""
        var status = ContainerStatus()
        status.name = name
        status.state = state
        status.ready = true
        status.started = state.running != nil
        status.restartCount = 0
        status.image = container.image
        status.imageID = "hollow://" + (container.image ?? "")
        status.containerID = "hollow://\(uid)/\(name)"
        return status
    }
}

/// PodAddressPool hands out pod addresses from the /24 blocks of 127.96.0.0/16 (.1 to .254 of
/// each), one pool per block. A block shared by several nodes (more than 256 nodes) is shared
/// by their pods; when a block is full, addresses are reused from its start and `exhausted`
/// counts it, since a simulation must go on.
public struct PodAddressPool: Sendable {
    private var used: [UInt64]
    private var next = 1
    public private(set) var inUse = 0
    public private(set) var exhausted = 0
    public let block: Int

    public init(block: Int) {
        precondition((0..<256).contains(block))
        self.block = block
        used = [UInt64](repeating: 0, count: 4)
    }

    public mutating func allocate() -> String {
        for offset in 0..<254 {
            let host = (next - 1 + offset) % 254 + 1
            if used[host >> 6] & (1 << UInt64(host & 63)) == 0 {
                used[host >> 6] |= 1 << UInt64(host & 63)
                next = host % 254 + 1
                inUse += 1
                return Self.address(block: block, host: host)
            }
        }
        exhausted += 1
        let host = next
        next = host % 254 + 1
        return Self.address(block: block, host: host)
    }

    public mutating func release(_ address: String) {
        guard let host = Self.host(of: address, block: block) else { return }
        if used[host >> 6] & (1 << UInt64(host & 63)) != 0 {
            used[host >> 6] &= ~(1 << UInt64(host & 63))
            inUse -= 1
        }
    }

    static func address(block: Int, host: Int) -> String { "127.96.\(block).\(host)" }

    static func host(of address: String, block: Int) -> Int? {
        let parts = address.split(separator: ".")
        guard parts.count == 4, parts[0] == "127", parts[1] == "96", Int(parts[2]) == block, let host = Int(parts[3]),
            (1...254).contains(host)
        else { return nil }
        return host
    }
}
