/// WorkloadValidation checks the controllers of pods: deployments, replica sets, stateful sets,
/// daemon sets, replication controllers and jobs.
enum WorkloadValidation {
    /// A selector that must be present, non-empty, well-formed and match the template's labels.
    static func validateSelector(_ selector: LabelSelector?, template: PodTemplateSpec?, kind: String, errors: inout FieldErrors) {
        guard let selector else {
            errors.required("spec.selector")
            return
        }
        if selector.matchLabels.isEmpty && selector.matchExpressions.isEmpty {
            errors.invalid("spec.selector", "{}", "empty selector is invalid for \(kind)")
            return
        }
        do {
            let parsed = try ParsedLabelSelector(selector, field: "spec.selector")
            let labels = template?.metadata?.labels ?? [:]
            if template != nil && !parsed.matches(labels) {
                errors.invalid("spec.template.metadata.labels", FieldErrors.show(labels), "`selector` does not match template `labels`")
            }
        } catch {
            errors.invalid("spec.selector", "{…}", error.message)
        }
    }

    static func validateTemplate(_ template: PodTemplateSpec?, restartPolicies: [String], errors: inout FieldErrors) {
        guard let template else {
            errors.required("spec.template")
            return
        }
        errors.labels("spec.template.metadata.labels", template.metadata?.labels ?? [:])
        guard let spec = template.spec else {
            errors.required("spec.template.spec")
            return
        }
        PodValidation.validateSpec(spec, path: "spec.template.spec", errors: &errors)
        let policy = spec.restartPolicy ?? "Always"
        if !restartPolicies.contains(policy) {
            errors.notSupported("spec.template.spec.restartPolicy", policy, supported: restartPolicies)
        }
    }

    static func replicas(_ value: Int32?, errors: inout FieldErrors) {
        errors.nonNegative("spec.replicas", value.map(Int64.init))
    }

    static func selectorImmutable(_ selector: LabelSelector?, old: LabelSelector?, hasOld: Bool, errors: inout FieldErrors) {
        guard hasOld, selector != old else { return }
        errors.immutable("spec.selector", "v1.LabelSelector{…}")
    }

    static func validateDeployment(_ deployment: Deployment, old: Deployment?, errors: inout FieldErrors) {
        let spec = deployment.spec ?? DeploymentSpec()
        replicas(spec.replicas, errors: &errors)
        validateSelector(spec.selector, template: spec.template, kind: "deployment", errors: &errors)
        validateTemplate(spec.template, restartPolicies: ["Always"], errors: &errors)
        if let type = spec.strategy?.type { errors.supported("spec.strategy.type", type, ["Recreate", "RollingUpdate"]) }
        selectorImmutable(spec.selector, old: old?.spec?.selector, hasOld: old != nil, errors: &errors)
    }

    static func validateReplicaSet(_ replicaSet: ReplicaSet, old: ReplicaSet?, errors: inout FieldErrors) {
        let spec = replicaSet.spec ?? ReplicaSetSpec()
        replicas(spec.replicas, errors: &errors)
        validateSelector(spec.selector, template: spec.template, kind: "replicaset", errors: &errors)
        validateTemplate(spec.template, restartPolicies: ["Always"], errors: &errors)
        selectorImmutable(spec.selector, old: old?.spec?.selector, hasOld: old != nil, errors: &errors)
    }

    static func validateStatefulSet(_ statefulSet: StatefulSet, old: StatefulSet?, errors: inout FieldErrors) {
        let spec = statefulSet.spec ?? StatefulSetSpec()
        replicas(spec.replicas, errors: &errors)
        validateSelector(spec.selector, template: spec.template, kind: "statefulset", errors: &errors)
        validateTemplate(spec.template, restartPolicies: ["Always"], errors: &errors)
        errors.supported("spec.podManagementPolicy", spec.podManagementPolicy, ["OrderedReady", "Parallel"])
        selectorImmutable(spec.selector, old: old?.spec?.selector, hasOld: old != nil, errors: &errors)
        if let old, (old.spec?.serviceName ?? "") != (spec.serviceName ?? "") {
            errors.forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")
        }
    }

    static func validateDaemonSet(_ daemonSet: DaemonSet, old: DaemonSet?, errors: inout FieldErrors) {
        let spec = daemonSet.spec ?? DaemonSetSpec()
        validateSelector(spec.selector, template: spec.template, kind: "daemonset", errors: &errors)
        validateTemplate(spec.template, restartPolicies: ["Always"], errors: &errors)
        selectorImmutable(spec.selector, old: old?.spec?.selector, hasOld: old != nil, errors: &errors)
    }

    static func validateReplicationController(_ controller: ReplicationController, old: ReplicationController?, errors: inout FieldErrors) {
        let spec = controller.spec ?? ReplicationControllerSpec()
        replicas(spec.replicas, errors: &errors)
        let labels = spec.template?.metadata?.labels ?? [:]
        // An empty selector means the template's labels (Kubernetes defaults it so).
        let selector = spec.selector.isEmpty ? labels : spec.selector
        if selector.isEmpty {
            errors.required("spec.selector")
        } else {
            errors.labels("spec.selector", selector)
            if spec.template != nil && !ParsedLabelSelector(matchingLabels: selector).matches(labels) {
                errors.invalid("spec.template.metadata.labels", FieldErrors.show(labels), "`selector` does not match template `labels`")
            }
        }
        validateTemplate(spec.template, restartPolicies: ["Always"], errors: &errors)
    }

    static func validateJob(_ job: Job, old: Job?, errors: inout FieldErrors) {
        let spec = job.spec ?? JobSpec()
        errors.nonNegative("spec.parallelism", spec.parallelism.map(Int64.init))
        errors.nonNegative("spec.completions", spec.completions.map(Int64.init))
        errors.nonNegative("spec.backoffLimit", spec.backoffLimit.map(Int64.init))
        if let deadline = spec.activeDeadlineSeconds, deadline <= 0 {
            errors.invalid("spec.activeDeadlineSeconds", String(deadline), "must be greater than 0")
        }
        if let selector = spec.selector, spec.template != nil {
            validateSelector(selector, template: spec.template, kind: "job", errors: &errors)
        }
        guard let template = spec.template else {
            errors.required("spec.template")
            return
        }
        guard let podSpec = template.spec else {
            errors.required("spec.template.spec")
            return
        }
        PodValidation.validateSpec(podSpec, path: "spec.template.spec", errors: &errors)
        let policy = podSpec.restartPolicy ?? ""
        if policy != "OnFailure" && policy != "Never" {
            errors.notSupported("spec.template.spec.restartPolicy", policy, supported: ["OnFailure", "Never"])
        }
        if let old, let oldSpec = old.spec {
            if oldSpec.template != spec.template { errors.immutable("spec.template", "core.PodTemplateSpec{…}") }
            if oldSpec.selector != nil && oldSpec.selector != spec.selector { errors.immutable("spec.selector", "v1.LabelSelector{…}") }
            if oldSpec.completions != spec.completions {
                errors.immutable("spec.completions", spec.completions.map { String($0) } ?? "null")
            }
        }
    }
}

/// ConfigValidation checks config maps and secrets.
enum ConfigValidation {
    /// The limit on a config map's or secret's data, in bytes.
    static let maximumDataBytes = 1024 * 1024
    static let secretTypes = [
        "Opaque", "kubernetes.io/service-account-token", "kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson",
        "kubernetes.io/basic-auth", "kubernetes.io/ssh-auth", "kubernetes.io/tls", "bootstrap.kubernetes.io/token",
    ]

    static func keys(_ keys: [String], path: String, errors: inout FieldErrors) {
        for key in keys.sorted() { errors.check("\(path)[\(key)]", key, NameRules.configMapKeyProblem) }
    }

    static func validate(_ configMap: ConfigMap, old: ConfigMap?, errors: inout FieldErrors) {
        keys(Array(configMap.data.keys), path: "data", errors: &errors)
        keys(Array(configMap.binaryData.keys), path: "binaryData", errors: &errors)
        for key in configMap.data.keys.sorted() where configMap.binaryData[key] != nil {
            errors.invalid("data[\(key)]", string: key, "duplicate of key present in binaryData")
        }
        let size = configMap.data.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
            + configMap.binaryData.reduce(0) { $0 + $1.key.utf8.count + $1.value.count }
        if size > maximumDataBytes { errors.tooLong("data", maximumBytes: maximumDataBytes) }
        if let old, old.immutable == true {
            if configMap.immutable != true {
                errors.forbidden("immutable", "field is immutable when `immutable` is set")
            }
            if configMap.data != old.data { errors.forbidden("data", "field is immutable when `immutable` is set") }
            if configMap.binaryData != old.binaryData { errors.forbidden("binaryData", "field is immutable when `immutable` is set") }
        }
    }

    static func validate(_ secret: Secret, old: Secret?, errors: inout FieldErrors) {
        keys(Array(secret.data.keys), path: "data", errors: &errors)
        keys(Array(secret.stringData.keys), path: "stringData", errors: &errors)
        let size = secret.data.reduce(0) { $0 + $1.key.utf8.count + $1.value.count }
        if size > maximumDataBytes { errors.tooLong("data", maximumBytes: maximumDataBytes) }
        if let type = secret.type, !type.isEmpty, !secretTypes.contains(type) {
            errors.check("type", type, NameRules.qualifiedNameProblem)
        }
        if let old {
            if (old.type ?? "") != (secret.type ?? "") { errors.immutable("type", FieldErrors.show(secret.type ?? "")) }
            if old.immutable == true {
                if secret.immutable != true { errors.forbidden("immutable", "field is immutable when `immutable` is set") }
                if secret.data != old.data { errors.forbidden("data", "field is immutable when `immutable` is set") }
            }
        }
    }
}
