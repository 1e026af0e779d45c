import Foundation

@testable import Agents
@testable import Api

/// Builders for the objects the cluster controllers' unit tests feed their decision logic.
enum Fixture {
    static let epoch = Date(timeIntervalSince1970: 1_800_000_000)

    static func meta(_ name: String, namespace: String? = "default", uid: String? = nil, labels: [String: String] = [:]) -> ObjectMeta {
        var meta = ObjectMeta(name: name, namespace: namespace)
        meta.uid = uid ?? "uid-\(name)"
        meta.labels = labels
        return meta
    }

    static func pod(
        _ name: String, namespace: String = "default", labels: [String: String] = ["app": "web"], ip: String? = nil,
        ready: Bool = true, node: String? = nil, ports: [(name: String, port: Int32)] = [], phase: String = "Running"
    ) -> Pod {
        var pod = Pod()
        pod.metadata = meta(name, namespace: namespace, labels: labels)
        var spec = PodSpec()
        var container = Container()
        container.name = "main"
        container.image = "nginx"
        container.ports = ports.map { ContainerPort(name: $0.name, containerPort: $0.port) }
        spec.containers = [container]
        spec.nodeName = node
        pod.spec = spec
        var status = PodStatus()
        status.phase = phase
        status.podIP = ip
        var condition = PodCondition()
        condition.type = "Ready"
        condition.status = ready ? "True" : "False"
        status.conditions = [condition]
        pod.status = status
        return pod
    }

    static func service(
        _ name: String = "web", namespace: String = "default", selector: [String: String] = ["app": "web"],
        ports: [ServicePort] = [servicePort(80, target: .number(8080))], clusterIP: String? = "127.97.0.20",
        type: String? = nil
    ) -> Service {
        var service = Service()
        service.metadata = meta(name, namespace: namespace, labels: ["team": "shop"])
        var spec = ServiceSpec()
        spec.selector = selector
        spec.ports = ports
        spec.clusterIP = clusterIP
        spec.type = type
        service.spec = spec
        return service
    }

    enum Target {
        case number(Int32)
        case name(String)
    }

    static func servicePort(_ port: Int32, target: Target? = nil, name: String? = nil) -> ServicePort {
        var servicePort = ServicePort()
        servicePort.port = port
        servicePort.name = name
        servicePort.protocol = "TCP"
        switch target {
        case .number(let number): servicePort.targetPort = IntOrString(type: 0, intVal: number)
        case .name(let text): servicePort.targetPort = IntOrString(type: 1, strVal: text)
        case nil: break
        }
        return servicePort
    }

    static func node(_ name: String, ready: String? = "True", heartbeat: Date = epoch, taints: [Taint] = []) -> Node {
        var node = Node()
        node.metadata = meta(name, namespace: nil)
        var spec = NodeSpec()
        spec.taints = taints
        node.spec = spec
        var status = NodeStatus()
        if let ready {
            var condition = NodeCondition()
            condition.type = "Ready"
            condition.status = ready
            condition.reason = "KubeletReady"
            condition.lastHeartbeatTime = ClusterTime.time(heartbeat)
            status.conditions = [condition]
        }
        node.status = status
        return node
    }

    static func lease(_ node: String, renewed: Date) -> Lease {
        var lease = Lease()
        lease.metadata = meta(node, namespace: "kube-node-lease")
        var spec = LeaseSpec()
        spec.holderIdentity = node
        spec.leaseDurationSeconds = 40
        spec.renewTime = ClusterTime.microTime(renewed)
        lease.spec = spec
        return lease
    }

    static func taint(_ key: String, _ effect: String, added: Date? = nil) -> Taint {
        var taint = Taint()
        taint.key = key
        taint.effect = effect
        taint.timeAdded = added.map(ClusterTime.time)
        return taint
    }

    static func toleration(_ key: String?, effect: String? = "NoExecute", seconds: Int64? = nil, operator: String = "Exists") -> Toleration {
        var toleration = Toleration()
        toleration.key = key
        toleration.operator = `operator`
        toleration.effect = effect
        toleration.tolerationSeconds = seconds
        return toleration
    }

    static func volume(
        _ name: String, size: String, modes: [String] = ["ReadWriteOnce"], storageClass: String? = "standard",
        claimRef: ObjectReference? = nil, phase: String? = "Available", reclaim: String = "Retain", labels: [String: String] = [:]
    ) -> PersistentVolume {
        var volume = PersistentVolume()
        volume.metadata = meta(name, namespace: nil, labels: labels)
        var spec = PersistentVolumeSpec()
        spec.capacity = ["storage": Quantity(size)]
        spec.accessModes = modes
        spec.storageClassName = storageClass
        spec.claimRef = claimRef
        spec.persistentVolumeReclaimPolicy = reclaim
        var source = PersistentVolumeSource()
        source.hostPath = HostPathVolumeSource(path: "/srv/\(name)")
        spec.persistentVolumeSource = source
        volume.spec = spec
        volume.status = PersistentVolumeStatus(phase: phase)
        return volume
    }

    static func claim(
        _ name: String, namespace: String = "default", size: String, modes: [String] = ["ReadWriteOnce"],
        storageClass: String? = "standard", volumeName: String? = nil, phase: String? = "Pending"
    ) -> PersistentVolumeClaim {
        var claim = PersistentVolumeClaim()
        claim.metadata = meta(name, namespace: namespace)
        var spec = PersistentVolumeClaimSpec()
        spec.accessModes = modes
        spec.resources = VolumeResourceRequirements(requests: ["storage": Quantity(size)])
        spec.storageClassName = storageClass
        spec.volumeName = volumeName
        claim.spec = spec
        claim.status = PersistentVolumeClaimStatus(phase: phase)
        return claim
    }

    static func ownerReference(_ name: String, kind: String = "ReplicaSet", apiVersion: String = "apps/v1", uid: String? = nil, block: Bool? = nil) -> OwnerReference {
        var reference = OwnerReference()
        reference.apiVersion = apiVersion
        reference.kind = kind
        reference.name = name
        reference.uid = uid ?? "uid-\(name)"
        reference.blockOwnerDeletion = block
        return reference
    }
}
