/// PodRules is what the registry does to every new pod, as Kubernetes' pod strategy does: a pod
/// starts Pending, with the quality-of-service class its resources give it. (Kubernetes throws
/// away any status sent with a create; Skiff keeps fields a client set and fills the two that
/// every reader expects, so `kubectl describe` of a new pod says `Status: Pending`.)
enum PodRules {
    static func prepareForCreate(_ object: inout any KubernetesObject) {
        guard var pod = object as? Pod else { return }
        var status = pod.status ?? PodStatus()
        if (status.phase ?? "").isEmpty { status.phase = "Pending" }
        if (status.qosClass ?? "").isEmpty { status.qosClass = qosClass(of: pod.spec ?? PodSpec()) }
        pod.status = status
        object = pod
    }

    /// Guaranteed when every container limits cpu and memory and requests what it limits (an
    /// unset request counts as the limit); BestEffort when no container requests or limits cpu
    /// or memory; Burstable otherwise.
    static func qosClass(of spec: PodSpec) -> String {
        let containers = spec.initContainers + spec.containers
        let computeResources = ["cpu", "memory"]
        var anySet = false
        var guaranteed = !containers.isEmpty
        for container in containers {
            let requests = container.resources?.requests ?? [:]
            let limits = container.resources?.limits ?? [:]
            for resource in computeResources {
                let request = requests[resource]?.string
                let limit = limits[resource]?.string
                if request != nil || limit != nil { anySet = true }
                guard let limit, let limitValue = try? QuantityValue(parsing: limit) else {
                    guaranteed = false
                    continue
                }
                if let request, (try? QuantityValue(parsing: request)) != limitValue { guaranteed = false }
            }
        }
        if !anySet { return "BestEffort" }
        return guaranteed ? "Guaranteed" : "Burstable"
    }
}
