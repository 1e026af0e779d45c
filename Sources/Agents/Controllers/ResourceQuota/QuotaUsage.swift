import Api
import Foundation

/// QuotaUsage computes a ResourceQuota's `status.used` from what its namespace holds, with the
/// resource names the ResourceQuota admission plugin charges on create:
/// - pods (`pods`, `count/pods`) that have not finished, and their compute resources
///   (`requests.cpu`/`cpu`, `requests.memory`/`memory`, `limits.cpu`, `limits.memory`, and the
///   ephemeral-storage ones): per pod the larger of the containers' sum and the largest init
///   container, plus overhead;
/// - `services`, `services.nodeports`, `services.loadbalancers`;
/// - `persistentvolumeclaims`, `requests.storage`, and per class
///   `<class>.storageclass.storage.k8s.io/requests.storage` and `/persistentvolumeclaims`;
/// - `configmaps`, `secrets`, `replicationcontrollers`, `resourcequotas`, and `count/<resource>`
///   for every namespaced kind the API serves (`count/deployments.apps`).
/// A quota with scopes (BestEffort, NotBestEffort, Terminating, NotTerminating) counts only the
/// pods its scopes select, and only pod resources. Names the controller cannot count are left
/// out of `used` (admission then refuses what they would limit, saying the status is unknown).
enum QuotaUsage {
    /// What the namespace holds, as the quota controller's caches see it.
    struct Objects {
        var pods: [Pod] = []
        var services: [Service] = []
        var claims: [PersistentVolumeClaim] = []
        /// The number of objects of any other namespaced kind.
        var count: (ResourceType) -> Int = { _ in 0 }
    }

    static let computeResources: [(name: String, resource: String, limits: Bool)] = [
        ("requests.cpu", "cpu", false), ("cpu", "cpu", false), ("requests.memory", "memory", false),
        ("memory", "memory", false), ("limits.cpu", "cpu", true), ("limits.memory", "memory", true),
        ("requests.ephemeral-storage", "ephemeral-storage", false), ("ephemeral-storage", "ephemeral-storage", false),
        ("limits.ephemeral-storage", "ephemeral-storage", true),
    ]
    static let storageClassSuffix = ".storageclass.storage.k8s.io/"

    /// The kind a `count/<resource>` name (or a legacy count name) counts; nil when unknown.
    static func countedKind(_ name: String) -> ResourceType? {
        let resource: String
        if name.hasPrefix("count/") {
            resource = String(name.dropFirst("count/".count))
        } else if ["configmaps", "secrets", "replicationcontrollers", "resourcequotas", "services", "pods", "persistentvolumeclaims"].contains(name) {
            resource = name
        } else {
            return nil
        }
        guard let type = ResourceCatalog.find(resource), type.qualifiedName == resource, type.namespaced else { return nil }
        return type
    }

    /// `status.used` for a quota with these hard limits and scopes.
    static func used(hard: [String: Quantity], scopes: [String], objects: Objects, now: Date) -> [String: Quantity] {
        let pods = objects.pods.filter { counts($0, now: now) && matches($0, scopes: scopes) }
        var used: [String: Quantity] = [:]
        for name in hard.keys {
            if let value = podUsage(name, pods: pods) {
                used[name] = Quantity(value)
                continue
            }
            guard scopes.isEmpty else { continue }
            if let value = otherUsage(name, objects: objects) { used[name] = Quantity(value) }
        }
        return used
    }

    private static func podUsage(_ name: String, pods: [Pod]) -> QuantityValue? {
        if name == "pods" || name == "count/pods" { return QuantityValue(units: Int64(pods.count)) }
        guard let compute = computeResources.first(where: { $0.name == name }) else { return nil }
        return pods.reduce(QuantityValue.zero) { $0 + (effective(compute.resource, limits: compute.limits, of: $1) ?? .zero) }
    }

    private static func otherUsage(_ name: String, objects: Objects) -> QuantityValue? {
        switch name {
        case "services", "count/services":
            return QuantityValue(units: Int64(objects.services.count))
        case "services.nodeports":
            let ports = objects.services.filter { ["NodePort", "LoadBalancer"].contains($0.spec?.type ?? "") }.reduce(0) { $0 + ($1.spec?.ports.count ?? 0) }
            return QuantityValue(units: Int64(ports))
        case "services.loadbalancers":
            return QuantityValue(units: Int64(objects.services.filter { $0.spec?.type == "LoadBalancer" }.count))
        case "persistentvolumeclaims", "count/persistentvolumeclaims":
            return QuantityValue(units: Int64(objects.claims.count))
        case "requests.storage":
            return objects.claims.reduce(QuantityValue.zero) { $0 + storage($1) }
        default:
            if let range = name.range(of: storageClassSuffix) {
                let storageClass = String(name[..<range.lowerBound])
                let claims = objects.claims.filter { $0.spec?.storageClassName == storageClass }
                switch name[range.upperBound...] {
                case "requests.storage": return claims.reduce(QuantityValue.zero) { $0 + storage($1) }
                case "persistentvolumeclaims": return QuantityValue(units: Int64(claims.count))
                default: return nil
                }
            }
            guard let type = countedKind(name) else { return nil }
            return QuantityValue(units: Int64(objects.count(type)))
        }
    }

    private static func storage(_ claim: PersistentVolumeClaim) -> QuantityValue {
        (try? claim.spec?.resources?.requests["storage"]?.value()) ?? .zero
    }

    /// A pod counts until it has finished or its deletion grace period has run out.
    static func counts(_ pod: Pod, now: Date) -> Bool {
        let phase = pod.status?.phase
        if phase == "Succeeded" || phase == "Failed" { return false }
        if let deadline = ClusterTime.date(pod.metadata?.deletionTimestamp), deadline <= now { return false }
        return true
    }

    static func matches(_ pod: Pod, scopes: [String]) -> Bool {
        scopes.allSatisfy { scope in
            switch scope {
            case "BestEffort": return isBestEffort(pod)
            case "NotBestEffort": return !isBestEffort(pod)
            case "Terminating": return pod.spec?.activeDeadlineSeconds != nil
            case "NotTerminating": return pod.spec?.activeDeadlineSeconds == nil
            default: return false
            }
        }
    }

    static func isBestEffort(_ pod: Pod) -> Bool {
        let containers = (pod.spec?.containers ?? []) + (pod.spec?.initContainers ?? [])
        return containers.allSatisfy { ($0.resources?.requests ?? [:]).isEmpty && ($0.resources?.limits ?? [:]).isEmpty }
    }

    /// The pod's effective amount of one resource (as the scheduler and quota admission count
    /// it); nil when no container states it. Malformed quantities count as zero: admission
    /// refused them, so they only come from objects older than the rules.
    static func effective(_ resource: String, limits: Bool, of pod: Pod) -> QuantityValue? {
        func amount(_ container: Container) -> QuantityValue? {
            let map = limits ? container.resources?.limits : container.resources?.requests
            guard let quantity = map?[resource] else { return nil }
            return (try? quantity.value()) ?? .zero
        }
        let stated = (pod.spec?.containers ?? []).compactMap(amount)
        let statedInit = (pod.spec?.initContainers ?? []).compactMap(amount)
        guard !stated.isEmpty || !statedInit.isEmpty else { return nil }
        let sum = stated.reduce(QuantityValue.zero, +)
        let largestInit = statedInit.max() ?? .zero
        let overhead = (try? pod.spec?.overhead[resource]?.value()) ?? .zero
        return max(sum, largestInit) + overhead
    }

    /// The quota's new status, or nil when `status.hard` and `status.used` already say this.
    static func desiredStatus(of quota: ResourceQuota, used: [String: Quantity]) -> ResourceQuotaStatus? {
        let hard = quota.spec?.hard ?? [:]
        var status = quota.status ?? ResourceQuotaStatus()
        if same(status.hard, hard) && same(status.used, used) { return nil }
        status.hard = hard
        status.used = used
        return status
    }

    /// The resources for which `used` is below `stored`. The API server raises `status.used`
    /// in the transaction of each create it admits; a count lower than that is only safe to
    /// write from caches that have seen the quota's version (else it would hand a unit out twice).
    static func lowered(_ used: [String: Quantity], than stored: [String: Quantity]) -> [String] {
        used.filter { key, value in
            guard let storedValue = try? stored[key]?.value(), let newValue = try? value.value() else { return false }
            return newValue < storedValue
        }.keys.sorted()
    }

    /// The kind whose objects a quota resource name counts (pods for compute resources).
    static func countedKind(ofResource name: String) -> ResourceType? {
        if computeResources.contains(where: { $0.name == name }) { return Pod.resourceType }
        if name.hasPrefix("services.") { return Service.resourceType }
        if name == "requests.storage" || name.contains(storageClassSuffix) { return PersistentVolumeClaim.resourceType }
        return countedKind(name)
    }

    /// Equal keys and equal amounts ("1000m" equals "1").
    static func same(_ left: [String: Quantity], _ right: [String: Quantity]) -> Bool {
        guard Set(left.keys) == Set(right.keys) else { return false }
        return left.allSatisfy { key, value in
            guard let other = right[key] else { return false }
            if value.string == other.string { return true }
            guard let leftValue = try? value.value(), let rightValue = try? other.value() else { return false }
            return leftValue == rightValue
        }
    }
}
