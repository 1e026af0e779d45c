@testable import Agents
import Api

/// Objects for the controller decision tests; times are seconds since the epoch around `now`.
enum Fixtures {
    static let now = 1_700_000_000.0

    static func pod(
        _ name: String, namespace: String = "ns", labels: [String: String] = [:], phase: String? = "Running",
        ready: Bool = true, readySince: Double = now - 100, node: String? = "node-1", created: Double = now - 200,
        owner: OwnerReference? = nil, terminating: Bool = false, restarts: Int32 = 0, finishedAt: Double? = nil
    ) -> Pod {
        var meta = ObjectMeta(name: name, namespace: namespace, labels: labels)
        meta.uid = "uid-\(name)"
        meta.creationTimestamp = WallClock.time(created)
        meta.resourceVersion = "1"
        if let owner { meta.ownerReferences = [owner] }
        if terminating { meta.deletionTimestamp = WallClock.time(now) }
        var spec = PodSpec()
        spec.nodeName = node
        var status = PodStatus()
        status.phase = phase
        var condition = PodCondition()
        condition.type = "Ready"
        condition.status = ready ? "True" : "False"
        condition.lastTransitionTime = WallClock.time(readySince)
        status.conditions = [condition]
        var container = ContainerStatus()
        container.name = "main"
        container.restartCount = restarts
        if let finishedAt {
            var terminated = ContainerStateTerminated()
            terminated.finishedAt = WallClock.time(finishedAt)
            container.state = ContainerState(terminated: terminated)
        }
        status.containerStatuses = [container]
        return Pod(metadata: meta, spec: spec, status: status)
    }

    static func template(_ labels: [String: String], image: String = "web:1") -> PodTemplateSpec {
        var container = Container()
        container.name = "main"
        container.image = image
        return PodTemplateSpec(metadata: ObjectMeta(labels: labels), spec: PodSpec(containers: [container]))
    }

    static func node(_ name: String, labels: [String: String] = [:], taints: [Taint] = []) -> Node {
        Node(metadata: ObjectMeta(name: name, labels: labels), spec: NodeSpec(taints: taints))
    }

    static func ownerReference(kind: String, name: String, uid: String) -> OwnerReference {
        OwnerReference(apiVersion: "apps/v1", kind: kind, name: name, uid: uid, controller: true)
    }

    /// A deployment "web" with the given strategy numbers.
    static func deployment(
        replicas: Int32, maxSurge: IntOrString? = nil, maxUnavailable: IntOrString? = nil, recreate: Bool = false,
        image: String = "web:1"
    ) -> Deployment {
        var meta = ObjectMeta(name: "web", namespace: "ns")
        meta.uid = "deployment-uid"
        meta.generation = 1
        var spec = DeploymentSpec()
        spec.replicas = replicas
        spec.selector = LabelSelector(matchLabels: ["app": "web"])
        spec.template = template(["app": "web"], image: image)
        if recreate {
            spec.strategy = DeploymentStrategy(type: "Recreate")
        } else {
            spec.strategy = DeploymentStrategy(
                type: "RollingUpdate", rollingUpdate: RollingUpdateDeployment(maxUnavailable: maxUnavailable, maxSurge: maxSurge))
        }
        return Deployment(metadata: meta, spec: spec)
    }

    /// A replica set of the deployment with `spec` replicas and the given status counts.
    static func replicaSet(
        _ name: String, of deployment: Deployment, image: String = "web:1", spec replicas: Int32, available: Int32,
        statusReplicas: Int32? = nil, revision: Int64 = 1, created: Double = now - 1000, maxReplicas: Int? = nil
    ) -> ReplicaSet {
        var meta = ObjectMeta(name: name, namespace: "ns")
        meta.uid = "uid-\(name)"
        meta.creationTimestamp = WallClock.time(created)
        meta.annotations[DeploymentDecisions.revisionAnnotation] = String(revision)
        if let maxReplicas { meta.annotations[DeploymentDecisions.maxReplicasAnnotation] = String(maxReplicas) }
        meta.ownerReferences = [ControllerRef.to(deployment)]
        var template = template(["app": "web"], image: image)
        template.metadata?.labels[DeploymentDecisions.podTemplateHashLabel] = "h-\(name)"
        var status = ReplicaSetStatus()
        status.replicas = statusReplicas ?? replicas
        status.availableReplicas = available
        status.readyReplicas = available
        return ReplicaSet(
            metadata: meta,
            spec: ReplicaSetSpec(replicas: replicas, selector: LabelSelector(matchLabels: ["app": "web"]), template: template),
            status: status)
    }
}
