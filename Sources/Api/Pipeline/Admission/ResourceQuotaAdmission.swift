/// ResourceQuotaAdmission refuses creates that would take a namespace past a ResourceQuota's
/// hard limits (seed item 15: pods in a namespace use only the CPU and memory assigned to it).
/// It counts, for the object being created:
/// - `count/<resource>` (`count/pods`, `count/deployments.apps`) for every kind, and the legacy
///   names `pods`, `services`, `configmaps`, `secrets`, `persistentvolumeclaims`,
///   `replicationcontrollers`, `resourcequotas`;
/// - for pods: `requests.cpu` (also `cpu`), `requests.memory` (also `memory`), `limits.cpu`,
///   `limits.memory`, `requests.ephemeral-storage`, `limits.ephemeral-storage`;
/// - for services: `services.nodeports`, `services.loadbalancers`;
/// - for claims: `requests.storage`.
/// A pod must state every compute resource a quota limits ("must specify limits.cpu for: web").
/// Quotas with scopes BestEffort, NotBestEffort, Terminating or NotTerminating apply only to
/// matching pods. Usage comes from each quota's `status.used`; when a quota has not been
/// counted yet the create is refused like Kubernetes does ("status unknown for quota").
/// On success the quotas with raised usage are put in `request.quotaStatusUpdates` for the
/// server to write with the object.
public struct ResourceQuotaAdmission: AdmissionPlugin {
    public static let pluginName = "ResourceQuota"
    public var name: String { Self.pluginName }

    public init() {}

    static let computeResources: [(name: String, resource: String, limits: Bool)] = [
        ("requests.cpu", "cpu", false), ("cpu", "cpu", false), ("requests.memory", "memory", false),
        ("memory", "memory", false), ("limits.cpu", "cpu", true), ("limits.memory", "memory", true),
        ("requests.ephemeral-storage", "ephemeral-storage", false), ("ephemeral-storage", "ephemeral-storage", false),
        ("limits.ephemeral-storage", "ephemeral-storage", true),
    ]
    static let legacyCounts: Set<String> = [
        "pods", "services", "configmaps", "secrets", "persistentvolumeclaims", "replicationcontrollers", "resourcequotas",
    ]

    public func admit(_ request: inout AdmissionRequest) throws(ApiError) {
        let attributes = request.attributes
        guard request.operation == .create, attributes.subresource.isEmpty, !attributes.namespace.isEmpty,
            let object = request.object
        else { return }
        let quotas = request.lookups.resourceQuotas(inNamespace: attributes.namespace)
        guard !quotas.isEmpty else { return }
        let pod = request.pod
        let podResources = try pod.map { (pod) throws(ApiError) in try PodResources(pod.spec ?? PodSpec(), throwingFor: request) }
        let usage = try usage(of: object, attributes: attributes, podResources: podResources, request: request)

        var updates: [ResourceQuota] = []
        for quota in quotas.sorted(by: { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }) {
            let quotaName = quota.metadata?.name ?? ""
            if let scopes = quota.spec?.scopes, !scopes.isEmpty, !Self.scopes(scopes, match: pod, resources: podResources) {
                continue
            }
            let hard = try values(quota.spec?.hard ?? [:], quota: quotaName, field: "spec.hard")
            let used = try values(quota.status?.used ?? [:], quota: quotaName, field: "status.used")
            if let podResources {
                var missing: [String] = []
                for compute in Self.computeResources where hard[compute.name] != nil {
                    let lacking = podResources.containersLacking(compute.resource, limits: compute.limits)
                    if !lacking.isEmpty { missing.append("\(compute.name) for: \(lacking.joined(separator: ","))") }
                }
                if !missing.isEmpty {
                    throw request.forbidden("failed quota: \(quotaName): must specify \(missing.joined(separator: "; "))")
                }
            }
            let constrained = hard.keys.filter { usage[$0] != nil }.sorted()
            guard !constrained.isEmpty else { continue }
            var exceeded: [String] = []
            var updatedUsed = quota.status?.used ?? [:]
            for resource in constrained {
                guard let current = used[resource] else {
                    throw request.forbidden("status unknown for quota: \(quotaName), resource: \(resource)")
                }
                let requested = usage[resource] ?? .zero
                let total = current + requested
                if total > hard[resource]! { exceeded.append(resource) }
                updatedUsed[resource] = Quantity(total)
            }
            if !exceeded.isEmpty {
                func list(_ values: (String) -> QuantityValue) -> String {
                    exceeded.map { "\($0)=\(values($0))" }.joined(separator: ",")
                }
                throw request.forbidden(
                    "exceeded quota: \(quotaName), requested: \(list { usage[$0] ?? .zero }), used: \(list { used[$0] ?? .zero }), limited: \(list { hard[$0] ?? .zero })")
            }
            var updated = quota
            var status = updated.status ?? ResourceQuotaStatus()
            status.used = updatedUsed
            updated.status = status
            updates.append(updated)
        }
        request.quotaStatusUpdates += updates
    }

    private func values(_ map: [String: Quantity], quota: String, field: String) throws(ApiError) -> [String: QuantityValue] {
        var values: [String: QuantityValue] = [:]
        for (resource, quantity) in map {
            do {
                values[resource] = try quantity.value()
            } catch {
                throw ApiError.internalError("ResourceQuota \"\(quota)\" has a malformed \(field)[\(resource)]: \(error); fix the quota")
            }
        }
        return values
    }

    /// What creating `object` adds to each quota resource name.
    func usage(of object: any KubernetesObject, attributes: RequestAttributes, podResources: PodResources?, request: AdmissionRequest) throws(ApiError) -> [String: QuantityValue] {
        let one = QuantityValue(units: 1)
        let countName = attributes.apiGroup.isEmpty ? "count/\(attributes.resource)" : "count/\(attributes.resource).\(attributes.apiGroup)"
        var usage: [String: QuantityValue] = [countName: one]
        if attributes.apiGroup.isEmpty && Self.legacyCounts.contains(attributes.resource) { usage[attributes.resource] = one }
        if let podResources {
            for compute in Self.computeResources {
                usage[compute.name] = podResources.effective(compute.resource, limits: compute.limits) ?? .zero
            }
        }
        if let service = object as? Service {
            let type = service.spec?.type ?? "ClusterIP"
            let nodePorts = (type == "NodePort" || type == "LoadBalancer") ? Int64(service.spec?.ports.count ?? 0) : 0
            usage["services.nodeports"] = QuantityValue(units: nodePorts)
            usage["services.loadbalancers"] = QuantityValue(units: type == "LoadBalancer" ? 1 : 0)
        }
        if let claim = object as? PersistentVolumeClaim {
            var causes: [StatusCause] = []
            let requests = PodResources.parse(claim.spec?.resources?.requests ?? [:], path: "spec.resources.requests", into: &causes)
            guard causes.isEmpty else { throw ApiError.invalid(PersistentVolumeClaim.resourceType, request.objectName, causes) }
            usage["requests.storage"] = requests["storage"] ?? .zero
        }
        return usage
    }

    /// Whether a quota's scopes select this object; only pods are scoped.
    static func scopes(_ scopes: [String], match pod: Pod?, resources: PodResources?) -> Bool {
        guard let pod, let resources else { return false }
        let bestEffort = (resources.containers + resources.initContainers).allSatisfy { $0.requests.isEmpty && $0.limits.isEmpty }
        let terminating = pod.spec?.activeDeadlineSeconds != nil
        return scopes.allSatisfy { scope in
            switch scope {
            case "BestEffort": return bestEffort
            case "NotBestEffort": return !bestEffort
            case "Terminating": return terminating
            case "NotTerminating": return !terminating
            default: return false
            }
        }
    }
}
