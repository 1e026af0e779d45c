/// Validation checks an object before it is stored, with the rules of Kubernetes that matter
/// to Skiff: metadata (names, generateName, namespace scope, label and annotation syntax),
/// required fields, supported values, and fields that may not change on update. It returns the
/// causes; the server answers `ApiError.invalid(type, name, causes)` (422) when there are any.
///
/// Call it after admission (which may fill in fields) with the stored object as `old` for
/// updates. It checks a write to the main resource; a write to the status subresource is
/// checked by `validateStatus` (StatusValidation.swift), in the registry where the stored object
/// it merges onto is at hand; binding and scale change fields the server copies in itself.
public enum Validation {
    public static func validate(object: any KubernetesObject, old: (any KubernetesObject)?) -> [StatusCause] {
        var errors = FieldErrors()
        let type = object.resourceType
        validateMetadata(object.metadata ?? ObjectMeta(), type: type, errors: &errors)
        if let old { validateMetadataUpdate(object.metadata ?? ObjectMeta(), old: old.metadata ?? ObjectMeta(), errors: &errors) }
        switch object {
        case let pod as Pod:
            PodValidation.validate(pod, old: old as? Pod, errors: &errors)
        case let service as Service:
            ServiceValidation.validate(service, old: old as? Service, errors: &errors)
        case let deployment as Deployment:
            WorkloadValidation.validateDeployment(deployment, old: old as? Deployment, errors: &errors)
        case let replicaSet as ReplicaSet:
            WorkloadValidation.validateReplicaSet(replicaSet, old: old as? ReplicaSet, errors: &errors)
        case let statefulSet as StatefulSet:
            WorkloadValidation.validateStatefulSet(statefulSet, old: old as? StatefulSet, errors: &errors)
        case let daemonSet as DaemonSet:
            WorkloadValidation.validateDaemonSet(daemonSet, old: old as? DaemonSet, errors: &errors)
        case let controller as ReplicationController:
            WorkloadValidation.validateReplicationController(controller, old: old as? ReplicationController, errors: &errors)
        case let job as Job:
            WorkloadValidation.validateJob(job, old: old as? Job, errors: &errors)
        case let configMap as ConfigMap:
            ConfigValidation.validate(configMap, old: old as? ConfigMap, errors: &errors)
        case let secret as Secret:
            ConfigValidation.validate(secret, old: old as? Secret, errors: &errors)
        case let quota as ResourceQuota:
            PolicyValidation.validate(quota, errors: &errors)
        case let limitRange as LimitRange:
            PolicyValidation.validate(limitRange, errors: &errors)
        case let claim as PersistentVolumeClaim:
            PolicyValidation.validate(claim, errors: &errors)
        case let node as Node:
            PolicyValidation.validate(node, errors: &errors)
        case let lease as Lease:
            if let duration = lease.spec?.leaseDurationSeconds, duration <= 0 {
                errors.invalid("spec.leaseDurationSeconds", String(duration), "must be greater than 0")
            }
        case let event as Event:
            PolicyValidation.validate(event, errors: &errors)
        case let role as Role:
            RBACValidation.validate(rules: role.rules, namespaced: true, errors: &errors)
        case let role as ClusterRole:
            RBACValidation.validate(rules: role.rules, namespaced: false, errors: &errors)
        case let binding as RoleBinding:
            RBACValidation.validate(
                roleRef: binding.roleRef, oldRoleRef: (old as? RoleBinding)?.roleRef, subjects: binding.subjects,
                namespaced: true, errors: &errors)
        case let binding as ClusterRoleBinding:
            RBACValidation.validate(
                roleRef: binding.roleRef, oldRoleRef: (old as? ClusterRoleBinding)?.roleRef, subjects: binding.subjects,
                namespaced: false, errors: &errors)
        default:
            break
        }
        return errors.causes
    }

    /// The name rule of a kind: DNS-1123 labels for namespaces and services (their names become
    /// DNS labels), path segments for RBAC kinds, DNS-1123 subdomains for the rest.
    static func nameProblem(for type: ResourceType) -> (String) -> String? {
        switch (type.group, type.plural) {
        case ("", "namespaces"), ("", "services"):
            return NameRules.dnsLabelProblem
        case (DefaultRoles.rbacGroup, _):
            return { name in
                if name == "." || name == ".." { return "may not be '\(name)'" }
                if name.contains("/") { return "may not contain '/'" }
                if name.contains("%") { return "may not contain '%'" }
                return nil
            }
        default:
            return NameRules.dnsSubdomainProblem
        }
    }

    static func validateMetadata(_ metadata: ObjectMeta, type: ResourceType, errors: inout FieldErrors) {
        let rule = nameProblem(for: type)
        let name = metadata.name ?? ""
        let generateName = metadata.generateName ?? ""
        if name.isEmpty {
            if generateName.isEmpty {
                errors.required("metadata.name", "name or generateName is required")
            }
        } else {
            errors.check("metadata.name", name, rule)
        }
        if !generateName.isEmpty {
            // The registry appends random characters; a trailing '-' is fine before them.
            let masked = generateName.hasSuffix("-") ? String(generateName.dropLast()) + "a" : generateName
            if let problem = rule(masked) { errors.invalid("metadata.generateName", string: generateName, problem) }
        }
        let namespace = metadata.namespace ?? ""
        if type.namespaced {
            if namespace.isEmpty {
                errors.required("metadata.namespace")
            } else {
                errors.check("metadata.namespace", namespace, NameRules.dnsLabelProblem)
            }
        } else if !namespace.isEmpty {
            errors.forbidden("metadata.namespace", "not allowed on this type")
        }
        errors.labels("metadata.labels", metadata.labels)
        var annotationBytes = 0
        for (key, value) in metadata.annotations.sorted(by: { $0.key < $1.key }) {
            errors.check("metadata.annotations", key.lowercased(), NameRules.qualifiedNameProblem)
            annotationBytes += key.utf8.count + value.utf8.count
        }
        if annotationBytes > NameRules.totalAnnotationSizeLimitBytes {
            errors.tooLong("metadata.annotations", maximumBytes: NameRules.totalAnnotationSizeLimitBytes)
        }
        for (index, finalizer) in metadata.finalizers.enumerated() {
            errors.check("metadata.finalizers[\(index)]", finalizer, NameRules.qualifiedNameProblem)
        }
        for (index, owner) in metadata.ownerReferences.enumerated() {
            let path = "metadata.ownerReferences[\(index)]"
            if (owner.apiVersion ?? "").isEmpty { errors.invalid(path + ".apiVersion", string: "", "version must not be empty") }
            if (owner.kind ?? "").isEmpty { errors.invalid(path + ".kind", string: "", "kind must not be empty") }
            if (owner.name ?? "").isEmpty { errors.invalid(path + ".name", string: "", "name must not be empty") }
            if (owner.uid ?? "").isEmpty { errors.invalid(path + ".uid", string: "", "uid must not be empty") }
        }
        if metadata.ownerReferences.filter({ $0.controller == true }).count > 1 {
            errors.invalid("metadata.ownerReferences", "[…]", "Only one reference can have Controller set to true")
        }
    }

    static func validateMetadataUpdate(_ metadata: ObjectMeta, old: ObjectMeta, errors: inout FieldErrors) {
        if (metadata.name ?? "") != (old.name ?? "") {
            errors.immutable("metadata.name", FieldErrors.show(metadata.name ?? ""))
        }
        if (metadata.namespace ?? "") != (old.namespace ?? "") {
            errors.immutable("metadata.namespace", FieldErrors.show(metadata.namespace ?? ""))
        }
        if let uid = metadata.uid, !uid.isEmpty, uid != (old.uid ?? "") {
            errors.immutable("metadata.uid", FieldErrors.show(uid))
        }
        if let created = metadata.creationTimestamp, let oldCreated = old.creationTimestamp, created != oldCreated {
            errors.immutable("metadata.creationTimestamp", String(created.seconds ?? 0))
        }
    }
}
