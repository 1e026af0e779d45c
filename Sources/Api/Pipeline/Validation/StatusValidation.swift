/// StatusValidation checks a write to the `status` subresource the way Kubernetes' status
/// strategies do (ValidatePodStatusUpdate, ValidateDeploymentStatusUpdate and the like): the
/// object as it would be stored (the stored object with the new status) against the stored one.
/// A status write keeps the stored metadata and spec, so only the status is looked at.
enum StatusValidation {
    static func validate(_ object: any KubernetesObject, old: any KubernetesObject, errors: inout FieldErrors) {
        switch object {
        case let pod as Pod:
            validatePod(pod.status ?? PodStatus(), old: (old as? Pod)?.status ?? PodStatus(), restartPolicy: pod.spec?.restartPolicy ?? "Always", errors: &errors)
        case let deployment as Deployment:
            validateDeployment(deployment.status ?? DeploymentStatus(), old: (old as? Deployment)?.status, errors: &errors)
        case let replicaSet as ReplicaSet:
            let status = replicaSet.status ?? ReplicaSetStatus()
            validateReplicas(
                status.replicas, fullyLabeled: status.fullyLabeledReplicas, ready: status.readyReplicas,
                available: status.availableReplicas, observedGeneration: status.observedGeneration, errors: &errors)
            errors.nonNegative("status.terminatingReplicas", status.terminatingReplicas.map(Int64.init))
        case let controller as ReplicationController:
            let status = controller.status ?? ReplicationControllerStatus()
            validateReplicas(
                status.replicas, fullyLabeled: status.fullyLabeledReplicas, ready: status.readyReplicas,
                available: status.availableReplicas, observedGeneration: status.observedGeneration, errors: &errors)
        case let statefulSet as StatefulSet:
            validateStatefulSet(statefulSet.status ?? StatefulSetStatus(), old: (old as? StatefulSet)?.status, errors: &errors)
        case let daemonSet as DaemonSet:
            validateDaemonSet(daemonSet.status ?? DaemonSetStatus(), old: (old as? DaemonSet)?.status, errors: &errors)
        case let job as Job:
            let status = job.status ?? JobStatus()
            counts(
                [("active", status.active), ("succeeded", status.succeeded), ("failed", status.failed),
                 ("ready", status.ready), ("terminating", status.terminating)], errors: &errors)
        case let quota as ResourceQuota:
            let status = quota.status ?? ResourceQuotaStatus()
            for (name, amount) in status.hard.sorted(by: { $0.key < $1.key }) {
                _ = errors.quantity("status.hard[\(name)]", amount)
            }
            for (name, amount) in status.used.sorted(by: { $0.key < $1.key }) {
                _ = errors.quantity("status.used[\(name)]", amount)
            }
        default:
            break
        }
    }

    // MARK: Pods

    /// The conditions the system itself sets; any other condition type (a readiness gate's)
    /// must be a qualified name.
    static let systemPodConditions: Set<String> = ["PodScheduled", "Ready", "Initialized", "ContainersReady"]

    static func validatePod(_ status: PodStatus, old: PodStatus, restartPolicy: String, errors: inout FieldErrors) {
        for (index, condition) in status.conditions.enumerated() {
            let type = condition.type ?? ""
            if systemPodConditions.contains(type) { continue }
            if type.isEmpty {
                errors.required("status.conditions[\(index)].type")
            } else {
                errors.check("status.conditions[\(index)].type", type, NameRules.qualifiedNameProblem)
            }
        }
        let nominated = status.nominatedNodeName ?? ""
        if !nominated.isEmpty, nominated != (old.nominatedNodeName ?? "") {
            errors.check("status.nominatedNodeName", nominated, NameRules.dnsSubdomainProblem)
        }
        let oldQoS = old.qosClass ?? ""
        if !oldQoS.isEmpty, (status.qosClass ?? "") != oldQoS {
            errors.immutable("status.qosClass", FieldErrors.show(status.qosClass ?? ""))
        }
        containerStateTransitions(status.containerStatuses, old: old.containerStatuses, path: "status.containerStatuses", restartPolicy: restartPolicy, errors: &errors)
        containerStateTransitions(status.initContainerStatuses, old: old.initContainerStatuses, path: "status.initContainerStatuses", restartPolicy: restartPolicy, errors: &errors)
        addresses(status.podIP, status.podIPs.map { $0.ip ?? "" }, field: "podIP", errors: &errors)
        addresses(status.hostIP, status.hostIPs.map { $0.ip ?? "" }, field: "hostIP", errors: &errors)
    }

    /// A container that terminated may not be reported running or waiting again unless the pod
    /// restarts it: always with restartPolicy Always, after a failure with OnFailure.
    static func containerStateTransitions(
        _ statuses: [ContainerStatus], old: [ContainerStatus], path: String, restartPolicy: String, errors: inout FieldErrors
    ) {
        if restartPolicy == "Always" { return }
        var finished: Set<String> = []
        for status in old {
            guard let terminated = status.state?.terminated else { continue }
            if restartPolicy == "OnFailure" && (terminated.exitCode ?? 0) != 0 { continue }
            finished.insert(status.name ?? "")
        }
        if finished.isEmpty { return }
        for (index, status) in statuses.enumerated() where finished.contains(status.name ?? "") && status.state?.terminated == nil {
            errors.forbidden(
                "\(path)[\(index)].state",
                "may not be transitioned to non-terminated state (container \(FieldErrors.show(status.name ?? "")) terminated and restartPolicy is \(restartPolicy))")
        }
    }

    /// `podIP`/`podIPs` (or `hostIP`/`hostIPs`): every address valid, the list's first equal
    /// to the single field, at most one address per IP family.
    static func addresses(_ primary: String?, _ list: [String], field: String, errors: inout FieldErrors) {
        let primary = primary ?? ""
        let plural = "status.\(field)s"
        if !primary.isEmpty, !ServiceValidation.isIPAddress(primary) {
            errors.invalid("status.\(field)", string: primary, "must be a valid IP address")
        }
        for (index, address) in list.enumerated() where !ServiceValidation.isIPAddress(address) {
            errors.invalid("\(plural)[\(index)].ip", string: address, "must be a valid IP address")
        }
        if let first = list.first, first != primary {
            errors.invalid("\(plural)[0].ip", string: first, "must be the same address as status.\(field) (\(FieldErrors.show(primary)))")
        }
        if list.count > 2 || (list.count == 2 && list[0].contains(":") == list[1].contains(":")) {
            errors.invalid(plural, "[" + list.map(FieldErrors.show).joined(separator: ", ") + "]", "may specify no more than one IP for each IP family")
        }
    }

    // MARK: Workloads

    static func counts(_ values: [(String, Int32?)], errors: inout FieldErrors) {
        for (name, value) in values { errors.nonNegative("status." + name, value.map(Int64.init)) }
    }

    /// `value` may not exceed `bound` (both under status).
    static func atMost(_ name: String, _ value: Int32?, _ boundName: String, _ bound: Int32?, errors: inout FieldErrors) {
        let value = value ?? 0
        if value > (bound ?? 0) { errors.invalid("status." + name, String(value), "cannot be greater than status.\(boundName)") }
    }

    static func notDecremented(_ name: String, _ value: Int32?, old: Int32?, errors: inout FieldErrors) {
        guard let old, (value ?? 0) < old else { return }
        errors.invalid("status." + name, String(value ?? 0), "cannot be decremented")
    }

    /// Ready and available pods are among the replicas, and available ones among the ready.
    static func readyAndAvailable(replicas: Int32?, ready: Int32?, available: Int32?, errors: inout FieldErrors) {
        atMost("readyReplicas", ready, "replicas", replicas, errors: &errors)
        atMost("availableReplicas", available, "replicas", replicas, errors: &errors)
        atMost("availableReplicas", available, "readyReplicas", ready, errors: &errors)
    }

    static func validateReplicas(
        _ replicas: Int32?, fullyLabeled: Int32?, ready: Int32?, available: Int32?, observedGeneration: Int64?, errors: inout FieldErrors
    ) {
        errors.nonNegative("status.observedGeneration", observedGeneration)
        counts(
            [("replicas", replicas), ("fullyLabeledReplicas", fullyLabeled), ("readyReplicas", ready), ("availableReplicas", available)],
            errors: &errors)
        atMost("fullyLabeledReplicas", fullyLabeled, "replicas", replicas, errors: &errors)
        readyAndAvailable(replicas: replicas, ready: ready, available: available, errors: &errors)
    }

    static func validateDeployment(_ status: DeploymentStatus, old: DeploymentStatus?, errors: inout FieldErrors) {
        errors.nonNegative("status.observedGeneration", status.observedGeneration)
        counts(
            [("replicas", status.replicas), ("updatedReplicas", status.updatedReplicas), ("readyReplicas", status.readyReplicas),
             ("availableReplicas", status.availableReplicas), ("unavailableReplicas", status.unavailableReplicas),
             ("collisionCount", status.collisionCount)],
            errors: &errors)
        atMost("updatedReplicas", status.updatedReplicas, "replicas", status.replicas, errors: &errors)
        readyAndAvailable(replicas: status.replicas, ready: status.readyReplicas, available: status.availableReplicas, errors: &errors)
        notDecremented("collisionCount", status.collisionCount, old: old?.collisionCount, errors: &errors)
    }

    static func validateStatefulSet(_ status: StatefulSetStatus, old: StatefulSetStatus?, errors: inout FieldErrors) {
        errors.nonNegative("status.observedGeneration", status.observedGeneration)
        counts(
            [("replicas", status.replicas), ("readyReplicas", status.readyReplicas), ("currentReplicas", status.currentReplicas),
             ("updatedReplicas", status.updatedReplicas), ("availableReplicas", status.availableReplicas),
             ("collisionCount", status.collisionCount)],
            errors: &errors)
        atMost("currentReplicas", status.currentReplicas, "replicas", status.replicas, errors: &errors)
        atMost("updatedReplicas", status.updatedReplicas, "replicas", status.replicas, errors: &errors)
        readyAndAvailable(replicas: status.replicas, ready: status.readyReplicas, available: status.availableReplicas, errors: &errors)
        notDecremented("collisionCount", status.collisionCount, old: old?.collisionCount, errors: &errors)
    }

    static func validateDaemonSet(_ status: DaemonSetStatus, old: DaemonSetStatus?, errors: inout FieldErrors) {
        errors.nonNegative("status.observedGeneration", status.observedGeneration)
        counts(
            [("currentNumberScheduled", status.currentNumberScheduled), ("numberMisscheduled", status.numberMisscheduled),
             ("desiredNumberScheduled", status.desiredNumberScheduled), ("numberReady", status.numberReady),
             ("updatedNumberScheduled", status.updatedNumberScheduled), ("numberAvailable", status.numberAvailable),
             ("numberUnavailable", status.numberUnavailable), ("collisionCount", status.collisionCount)],
            errors: &errors)
        notDecremented("collisionCount", status.collisionCount, old: old?.collisionCount, errors: &errors)
    }
}

extension Validation {
    /// validateStatus checks a write to the status subresource: `object` is what would be
    /// stored (the stored object with the new status), `old` the stored object. The server
    /// answers `ApiError.invalid` (422) when there are causes.
    public static func validateStatus(object: any KubernetesObject, old: any KubernetesObject) -> [StatusCause] {
        var errors = FieldErrors()
        StatusValidation.validate(object, old: old, errors: &errors)
        return errors.causes
    }
}
