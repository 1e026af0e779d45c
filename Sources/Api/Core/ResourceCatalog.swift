/// The kinds the API server serves, with Kubernetes' names, scopes and short names.
extension Namespace: KubernetesObject {
    public static let resourceType = ResourceType(
        Namespace.self, group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false,
        shortNames: ["ns"], subresources: ["status", "finalize"])
}
extension Node: KubernetesObject {
    public static let resourceType = ResourceType(
        Node.self, group: "", version: "v1", kind: "Node", plural: "nodes", namespaced: false,
        shortNames: ["no"], subresources: ["status"])
}
extension Pod: KubernetesObject {
    public static let resourceType = ResourceType(
        Pod.self, group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true,
        shortNames: ["po"], subresources: ["status", "binding"])
}
extension Service: KubernetesObject {
    public static let resourceType = ResourceType(
        Service.self, group: "", version: "v1", kind: "Service", plural: "services", namespaced: true,
        shortNames: ["svc"], subresources: ["status"])
}
extension Endpoints: KubernetesObject {
    public static let resourceType = ResourceType(
        Endpoints.self, group: "", version: "v1", kind: "Endpoints", plural: "endpoints", namespaced: true,
        shortNames: ["ep"])
}
extension ConfigMap: KubernetesObject {
    public static let resourceType = ResourceType(
        ConfigMap.self, group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true,
        shortNames: ["cm"])
}
extension Secret: KubernetesObject {
    public static let resourceType = ResourceType(
        Secret.self, group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true)
}
extension ServiceAccount: KubernetesObject {
    public static let resourceType = ResourceType(
        ServiceAccount.self, group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts",
        namespaced: true, shortNames: ["sa"])
}
extension Event: KubernetesObject {
    public static let resourceType = ResourceType(
        Event.self, group: "", version: "v1", kind: "Event", plural: "events", namespaced: true, shortNames: ["ev"])
}
extension ReplicationController: KubernetesObject {
    public static let resourceType = ResourceType(
        ReplicationController.self, group: "", version: "v1", kind: "ReplicationController",
        plural: "replicationcontrollers", namespaced: true, shortNames: ["rc"], subresources: ["status", "scale"])
}
extension ResourceQuota: KubernetesObject {
    public static let resourceType = ResourceType(
        ResourceQuota.self, group: "", version: "v1", kind: "ResourceQuota", plural: "resourcequotas",
        namespaced: true, shortNames: ["quota"], subresources: ["status"])
}
extension LimitRange: KubernetesObject {
    public static let resourceType = ResourceType(
        LimitRange.self, group: "", version: "v1", kind: "LimitRange", plural: "limitranges", namespaced: true,
        shortNames: ["limits"])
}
extension PersistentVolume: KubernetesObject {
    public static let resourceType = ResourceType(
        PersistentVolume.self, group: "", version: "v1", kind: "PersistentVolume", plural: "persistentvolumes",
        namespaced: false, shortNames: ["pv"], subresources: ["status"])
}
extension PersistentVolumeClaim: KubernetesObject {
    public static let resourceType = ResourceType(
        PersistentVolumeClaim.self, group: "", version: "v1", kind: "PersistentVolumeClaim",
        plural: "persistentvolumeclaims", namespaced: true, shortNames: ["pvc"], subresources: ["status"])
}
extension ComponentStatus: KubernetesObject {
    public static let resourceType = ResourceType(
        ComponentStatus.self, group: "", version: "v1", kind: "ComponentStatus", plural: "componentstatuses",
        namespaced: false, shortNames: ["cs"])
}
extension Deployment: KubernetesObject {
    public static let resourceType = ResourceType(
        Deployment.self, group: "apps", version: "v1", kind: "Deployment", plural: "deployments", namespaced: true,
        shortNames: ["deploy"], subresources: ["status", "scale"])
}
extension ReplicaSet: KubernetesObject {
    public static let resourceType = ResourceType(
        ReplicaSet.self, group: "apps", version: "v1", kind: "ReplicaSet", plural: "replicasets", namespaced: true,
        shortNames: ["rs"], subresources: ["status", "scale"])
}
extension DaemonSet: KubernetesObject {
    public static let resourceType = ResourceType(
        DaemonSet.self, group: "apps", version: "v1", kind: "DaemonSet", plural: "daemonsets", namespaced: true,
        shortNames: ["ds"], subresources: ["status"])
}
extension StatefulSet: KubernetesObject {
    public static let resourceType = ResourceType(
        StatefulSet.self, group: "apps", version: "v1", kind: "StatefulSet", plural: "statefulsets",
        namespaced: true, shortNames: ["sts"], subresources: ["status", "scale"])
}
extension Job: KubernetesObject {
    public static let resourceType = ResourceType(
        Job.self, group: "batch", version: "v1", kind: "Job", plural: "jobs", namespaced: true,
        subresources: ["status"])
}
extension Ingress: KubernetesObject {
    public static let resourceType = ResourceType(
        Ingress.self, group: "networking.k8s.io", version: "v1", kind: "Ingress", plural: "ingresses",
        namespaced: true, shortNames: ["ing"], subresources: ["status"])
}
extension Role: KubernetesObject {
    public static let resourceType = ResourceType(
        Role.self, group: "rbac.authorization.k8s.io", version: "v1", kind: "Role", plural: "roles", namespaced: true)
}
extension ClusterRole: KubernetesObject {
    public static let resourceType = ResourceType(
        ClusterRole.self, group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole",
        plural: "clusterroles", namespaced: false)
}
extension RoleBinding: KubernetesObject {
    public static let resourceType = ResourceType(
        RoleBinding.self, group: "rbac.authorization.k8s.io", version: "v1", kind: "RoleBinding",
        plural: "rolebindings", namespaced: true)
}
extension ClusterRoleBinding: KubernetesObject {
    public static let resourceType = ResourceType(
        ClusterRoleBinding.self, group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRoleBinding",
        plural: "clusterrolebindings", namespaced: false)
}
extension Lease: KubernetesObject {
    public static let resourceType = ResourceType(
        Lease.self, group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", namespaced: true)
}
extension EndpointSlice: KubernetesObject {
    public static let resourceType = ResourceType(
        EndpointSlice.self, group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice",
        plural: "endpointslices", namespaced: true)
}

/// ResourceCatalog finds a served kind by the names requests use.
public enum ResourceCatalog {
    public static let all: [ResourceType] = [
        Namespace.resourceType, Node.resourceType, Pod.resourceType, Service.resourceType,
        Endpoints.resourceType, ConfigMap.resourceType, Secret.resourceType, ServiceAccount.resourceType,
        Event.resourceType, ReplicationController.resourceType, ResourceQuota.resourceType,
        LimitRange.resourceType, PersistentVolume.resourceType, PersistentVolumeClaim.resourceType,
        ComponentStatus.resourceType, Deployment.resourceType, ReplicaSet.resourceType, DaemonSet.resourceType,
        StatefulSet.resourceType, Job.resourceType, Ingress.resourceType, Role.resourceType,
        ClusterRole.resourceType, RoleBinding.resourceType, ClusterRoleBinding.resourceType, Lease.resourceType,
        EndpointSlice.resourceType,
    ]

    private static let byName: [String: ResourceType] = {
        var table: [String: ResourceType] = [:]
        for type in all {
            for name in [type.qualifiedName, type.plural, type.singular, type.kind.lowercased()] + type.shortNames
            where table[name] == nil {
                table[name] = type
            }
        }
        return table
    }()

    /// Resolves "pods", "deployments.apps", "deploy", "Pod"...; nil when unknown.
    public static func find(_ name: String) -> ResourceType? {
        byName[name] ?? byName[name.lowercased()]
    }

    /// The kind of a resource by apiVersion and kind, as objects name themselves.
    public static func find(apiVersion: String, kind: String) -> ResourceType? {
        all.first { $0.apiVersion == apiVersion && $0.kind == kind }
    }
}
