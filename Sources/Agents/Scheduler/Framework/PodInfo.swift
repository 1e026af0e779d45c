import Api

/// PodInfo is what the scheduler needs to know about a pod, computed once from the object
/// (kube-scheduler's `framework.PodInfo`): requests, host ports, tolerations, compiled node
/// selectors and affinity terms, spread constraints. It is immutable and shared: by the queue
/// while the pod waits, by every node it was assumed on or bound to in the cache.
///
/// A pod whose fields cannot be understood (a quantity that does not parse, an unknown operator)
/// gets a `problem`; the scheduler reports it as the reason the pod cannot be scheduled instead
/// of guessing.
public final class PodInfo: Sendable {
    public let uid: String
    public let namespace: String
    public let name: String
    public let labels: [String: String]
    public let priority: Int32
    /// spec.nodeName: set for assigned pods; for pending ones only by someone forcing a node.
    public let nodeName: String
    public let requests: ResourceAmounts
    public let nonZeroMilliCPU: Int64
    public let nonZeroMemory: Int64
    public let hostPorts: [HostPort]
    public let tolerations: [Toleration]
    /// nodeSelector plus required node affinity; nil when the pod has neither.
    public let requiredNodeAffinity: RequiredNodeAffinity?
    public let preferredNodeTerms: [WeightedNodeSelectorTerm]
    /// Pod (anti-)affinity terms; nil when the pod has none.
    public let affinity: PodAffinityTerms?
    public let spreadConstraints: [SpreadConstraint]
    /// The pod is being deleted (metadata.deletionTimestamp is set).
    public let terminating: Bool
    /// Why the pod cannot be scheduled no matter the nodes, or nil.
    public let problem: String?

    public var key: String { namespace + "/" + name }

    public init(_ pod: Pod) {
        let meta = pod.metadata ?? ObjectMeta()
        let spec = pod.spec ?? PodSpec()
        uid = meta.uid ?? ""
        namespace = meta.namespace ?? ""
        name = meta.name ?? ""
        labels = meta.labels
        priority = spec.priority ?? 0
        nodeName = spec.nodeName ?? ""
        terminating = meta.deletionTimestamp != nil
        tolerations = spec.tolerations
        hostPorts = HostPort.of(spec)
        var problems: [String] = []
        do {
            let computed = try PodRequests.of(spec)
            requests = computed.requests
            nonZeroMilliCPU = computed.nonZeroMilliCPU
            nonZeroMemory = computed.nonZeroMemory
        } catch {
            problems.append(error.description)
            requests = ResourceAmounts()
            nonZeroMilliCPU = 0
            nonZeroMemory = 0
        }
        do {
            requiredNodeAffinity = try RequiredNodeAffinity(spec)
        } catch {
            problems.append(error.description)
            requiredNodeAffinity = nil
        }
        var preferred: [WeightedNodeSelectorTerm] = []
        for (index, term) in (spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).enumerated() {
            let field = "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[\(index)]"
            guard let weight = term.weight, weight != 0 else { continue }
            do {
                preferred.append(WeightedNodeSelectorTerm(
                    weight: Int64(weight), term: try NodeSelectorTermMatcher(term.preference ?? NodeSelectorTerm(), field: field + ".preference")))
            } catch {
                problems.append(error.description)
            }
        }
        preferredNodeTerms = preferred
        do {
            affinity = try PodAffinityTerms(spec.affinity, namespace: meta.namespace ?? "", labels: meta.labels)
        } catch {
            problems.append(error.description)
            affinity = nil
        }
        do {
            spreadConstraints = try SpreadConstraint.of(spec, labels: meta.labels)
        } catch {
            problems.append(error.description)
            spreadConstraints = []
        }
        problem = problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    /// Whether the pod is a candidate for this scheduler at all: no node yet, our scheduler
    /// name, not being deleted, not finished, and no scheduling gates.
    public static func wantsScheduling(_ pod: Pod, schedulerName: String) -> Bool {
        guard let spec = pod.spec, (spec.nodeName ?? "").isEmpty else { return false }
        let name = spec.schedulerName ?? ""
        guard name.isEmpty || name == schedulerName else { return false }
        guard pod.metadata?.deletionTimestamp == nil, spec.schedulingGates.isEmpty else { return false }
        let phase = pod.status?.phase ?? ""
        return phase != "Succeeded" && phase != "Failed"
    }

    /// Whether a pod occupies its node's resources: bound and not finished.
    public static func occupiesNode(_ pod: Pod) -> Bool {
        guard !(pod.spec?.nodeName ?? "").isEmpty else { return false }
        let phase = pod.status?.phase ?? ""
        return phase != "Succeeded" && phase != "Failed"
    }
}

/// HostPort is one port a pod opens on its node (`containers[].ports[].hostPort`).
public struct HostPort: Hashable, Sendable {
    public var `protocol`: String
    /// "0.0.0.0" when the port is opened on every address of the node.
    public var ip: String
    public var port: Int32

    public static let anyAddress = "0.0.0.0"

    public init(protocol: String, ip: String, port: Int32) {
        self.protocol = `protocol`
        self.ip = ip
        self.port = port
    }

    /// The host ports of the regular containers and of sidecars (which keep running).
    static func of(_ spec: PodSpec) -> [HostPort] {
        var result: [HostPort] = []
        let running = spec.containers + spec.initContainers.filter { $0.restartPolicy == "Always" }
        for container in running {
            for port in container.ports {
                guard let hostPort = port.hostPort, hostPort > 0 else { continue }
                let ip = (port.hostIP ?? "").isEmpty ? anyAddress : port.hostIP!
                result.append(HostPort(protocol: port.protocol ?? "TCP", ip: ip, port: hostPort))
            }
        }
        return result
    }
}

/// SchedulingSpecError is a pod field the scheduler cannot interpret.
public struct SchedulingSpecError: Error, Sendable, CustomStringConvertible {
    public var field: String
    public var message: String
    public var description: String { "\(field): \(message)" }
}
