import Foundation
import Wire

/// The subresources the server shapes itself: pods/binding and the scale of workloads.
extension ApiServer {
    /// pods/binding: the scheduler's only way to place a pod (seed item 18).
    nonisolated(nonsending) func bind(_ request: ResourceRequest, _ binding: Binding) async throws(ApiError) -> ServedObject {
        let podName = binding.metadata?.name ?? request.name
        if !request.name.isEmpty && podName != request.name {
            throw .badRequest("the binding names pod \(podName), but the request is for pod \(request.name)")
        }
        guard let node = binding.target?.name, !node.isEmpty else {
            throw .invalid(Pod.resourceType, podName, [.field("target.name", "FieldValueRequired", "Required value: the node to bind to")])
        }
        let check: (any KubernetesObject) throws(ApiError) -> Pod = { object throws(ApiError) in
            guard var pod = object as? Pod else { throw .internalError("pods/binding on a non-pod") }
            if pod.metadata?.deletionTimestamp != nil {
                throw .conflict(Pod.resourceType, podName, "pod \(podName) is being deleted, cannot be assigned to a host")
            }
            if let existing = pod.spec?.nodeName, !existing.isEmpty {
                throw .conflict(Pod.resourceType, podName, "pod \(podName) is already assigned to node \"\(existing)\"")
            }
            var spec = pod.spec ?? PodSpec()
            spec.nodeName = node
            pod.spec = spec
            return pod
        }
        if request.dryRun {
            guard let current = await loop.submit({ self.registry.cache(Pod.resourceType).get(namespace: request.namespace, name: podName) }) else {
                throw .notFound(Pod.resourceType, podName)
            }
            _ = try check(current.object)
        } else {
            _ = try await registry.modify(Pod.resourceType, namespace: request.namespace, name: podName) { (object) throws(ApiError) in
                object = try check(object)
            }
        }
        var status = Status()
        status.status = "Success"
        status.code = 201
        return .status(status)
    }

    static func scale(of object: any KubernetesObject) throws(ApiError) -> Scale {
        var scale = Scale()
        var meta = ObjectMeta()
        meta.name = object.metadata?.name
        meta.namespace = object.metadata?.namespace
        meta.uid = object.metadata?.uid
        meta.resourceVersion = object.metadata?.resourceVersion
        meta.creationTimestamp = object.metadata?.creationTimestamp
        scale.metadata = meta
        let (wanted, observed, selector) = try replicas(of: object)
        scale.spec = ScaleSpec(replicas: wanted)
        scale.status = ScaleStatus(replicas: observed, selector: selector)
        return scale
    }

    private static func replicas(of object: any KubernetesObject) throws(ApiError) -> (Int32, Int32, String) {
        func text(_ selector: LabelSelector?) -> String {
            (selector?.matchLabels ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        }
        switch object {
        case let deployment as Deployment:
            return (deployment.spec?.replicas ?? 1, deployment.status?.replicas ?? 0, text(deployment.spec?.selector))
        case let replicaSet as ReplicaSet:
            return (replicaSet.spec?.replicas ?? 1, replicaSet.status?.replicas ?? 0, text(replicaSet.spec?.selector))
        case let statefulSet as StatefulSet:
            return (statefulSet.spec?.replicas ?? 1, statefulSet.status?.replicas ?? 0, text(statefulSet.spec?.selector))
        case let controller as ReplicationController:
            let selector = (controller.spec?.selector ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            return (controller.spec?.replicas ?? 1, controller.status?.replicas ?? 0, selector)
        default:
            throw .badRequest("\(object.resourceType.qualifiedName) has no scale subresource")
        }
    }

    /// Sets `spec.replicas` of the object behind a scale subresource.
    private static func setReplicas(_ wanted: Int32, of object: inout any KubernetesObject) throws(ApiError) {
        switch object {
        case var deployment as Deployment:
            deployment.spec = deployment.spec ?? DeploymentSpec()
            deployment.spec!.replicas = wanted
            object = deployment
        case var replicaSet as ReplicaSet:
            replicaSet.spec = replicaSet.spec ?? ReplicaSetSpec()
            replicaSet.spec!.replicas = wanted
            object = replicaSet
        case var statefulSet as StatefulSet:
            statefulSet.spec = statefulSet.spec ?? StatefulSetSpec()
            statefulSet.spec!.replicas = wanted
            object = statefulSet
        case var controller as ReplicationController:
            controller.spec = controller.spec ?? ReplicationControllerSpec()
            controller.spec!.replicas = wanted
            object = controller
        default:
            throw .badRequest("\(object.resourceType.qualifiedName) has no scale subresource")
        }
    }

    func updateScale(_ request: ResourceRequest, _ scale: Scale) async throws(ApiError) -> Scale {
        let type = request.type
        let name = request.name
        guard let wanted = scale.spec?.replicas, wanted >= 0 else {
            throw .invalid(type, name, [.field("spec.replicas", "FieldValueInvalid", "Invalid value: must be greater than or equal to 0")])
        }
        let expected = scale.metadata?.resourceVersion ?? ""
        let check: (any KubernetesObject) throws(ApiError) -> Void = { object throws(ApiError) in
            if !expected.isEmpty && object.metadata?.resourceVersion != expected {
                throw .conflict(type, name, "the object has been modified; please apply your changes to the latest version and try again")
            }
        }
        if request.dryRun {
            guard var current = await loop.submit({ self.registry.cache(type).get(namespace: request.namespace, name: name)?.object }) else {
                throw .notFound(type, name)
            }
            try check(current)
            try Self.setReplicas(wanted, of: &current)
            return try Self.scale(of: current)
        }
        let updated = try await registry.modify(type, namespace: request.namespace, name: name) { (object) throws(ApiError) in
            try check(object)
            try Self.setReplicas(wanted, of: &object)
        }
        return try Self.scale(of: updated.object)
    }
}

extension ObjectFilter {
    /// A namespace plus Kubernetes' label and field selector strings (400 on a bad selector,
    /// naming the position).
    init(namespace: String, labelSelector: String, fieldSelector: String, type: ResourceType) throws(ApiError) {
        let labels: ParsedLabelSelector
        let fields: FieldSelector
        do {
            labels = try ParsedLabelSelector(parsing: labelSelector)
            fields = try FieldSelector(parsing: fieldSelector)
            try fields.validate(for: type)
        } catch {
            throw error.apiError
        }
        if labels.isEmpty && fields.terms.isEmpty {
            self.init(namespace: namespace)
        } else {
            self.init(namespace: namespace) { object in labels.matches(object) && fields.matches(object) }
        }
    }
}
