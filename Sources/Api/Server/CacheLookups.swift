import Wire

/// CacheLookups answers the pipeline's questions (RBAC objects, namespaces, service accounts,
/// quotas, limit ranges, which node a pod is on) from the watch caches. The pipeline runs on
/// the API server's loop, where the caches live; every lookup checks that.
final class CacheLookups: RBACSource, AdmissionLookups, @unchecked Sendable {
    // Safety of @unchecked Sendable: the registry's caches are read on its loop only (checked).
    let registry: Registry

    init(registry: Registry) {
        self.registry = registry
    }

    private func objects<Object: KubernetesObject>(_ type: Object.Type, namespace: String = "") -> [Object] {
        registry.loop.preconditionInLoop()
        guard let cache = registry.caches[Object.resourceType] else { return [] }
        return cache.list(ObjectFilter(namespace: namespace)).compactMap { $0.object as? Object }
    }

    private func object<Object: KubernetesObject>(_ type: Object.Type, namespace: String = "", name: String) -> Object? {
        registry.loop.preconditionInLoop()
        return registry.caches[Object.resourceType]?.get(namespace: namespace, name: name)?.object as? Object
    }

    // MARK: RBACSource

    func role(namespace: String, name: String) -> Role? { object(Role.self, namespace: namespace, name: name) }
    func clusterRole(name: String) -> ClusterRole? { object(ClusterRole.self, name: name) }
    func roleBindings(namespace: String) -> [RoleBinding] { objects(RoleBinding.self, namespace: namespace) }
    func allClusterRoleBindings() -> [ClusterRoleBinding] { objects(ClusterRoleBinding.self) }

    /// The four RBAC kinds' caches, found once the registry has started them.
    private var rbacCaches: [WatchCache] = []

    /// The sum of the four RBAC caches' change counts: it grows with every change to any of
    /// them. Nil until the registry has started its caches.
    var rulesVersion: UInt64? {
        registry.loop.preconditionInLoop()
        if rbacCaches.count != 4 {
            rbacCaches = [Role.resourceType, ClusterRole.resourceType, RoleBinding.resourceType, ClusterRoleBinding.resourceType]
                .compactMap { registry.caches[$0] }
            guard rbacCaches.count == 4 else { return nil }
        }
        var version: UInt64 = 0
        for cache in rbacCaches { version &+= cache.changeCount }
        return version
    }

    // MARK: AdmissionLookups

    func namespace(named name: String) -> Namespace? { object(Namespace.self, name: name) }
    func serviceAccounts(inNamespace namespace: String) -> [ServiceAccount] { objects(ServiceAccount.self, namespace: namespace) }
    func serviceAccount(namespace: String, name: String) -> ServiceAccount? {
        object(ServiceAccount.self, namespace: namespace, name: name)
    }
    /// The uid of a service account, for the service-account token authenticator.
    func serviceAccountUID(namespace: String, name: String) -> String? {
        object(ServiceAccount.self, namespace: namespace, name: name)?.metadata?.uid
    }
    func resourceQuotas(inNamespace namespace: String) -> [ResourceQuota] { objects(ResourceQuota.self, namespace: namespace) }
    func limitRanges(inNamespace namespace: String) -> [LimitRange] { objects(LimitRange.self, namespace: namespace) }

    // MARK: Node authorizer

    func podNodeName(namespace: String, name: String) -> String? {
        object(Pod.self, namespace: namespace, name: name)?.spec?.nodeName
    }

    /// Whether a pod on `node` uses the object (volumes, env, envFrom, image pull secrets).
    func isReferenced(resource: String, namespace: String, name: String, node: String) -> Bool {
        let pods = objects(Pod.self).filter { $0.spec?.nodeName == node }
        for pod in pods {
            guard let spec = pod.spec else { continue }
            let podNamespace = pod.metadata?.namespace ?? ""
            switch resource {
            case "secrets":
                guard podNamespace == namespace else { continue }
                if spec.imagePullSecrets.contains(where: { $0.name == name }) { return true }
                if spec.volumes.contains(where: { $0.volumeSource?.secret?.secretName == name }) { return true }
                for container in spec.containers + spec.initContainers {
                    if container.env.contains(where: { $0.valueFrom?.secretKeyRef?.localObjectReference?.name == name }) { return true }
                    if container.envFrom.contains(where: { $0.secretRef?.localObjectReference?.name == name }) { return true }
                }
            case "configmaps":
                guard podNamespace == namespace else { continue }
                if spec.volumes.contains(where: { $0.volumeSource?.configMap?.localObjectReference?.name == name }) { return true }
                for container in spec.containers + spec.initContainers {
                    if container.env.contains(where: { $0.valueFrom?.configMapKeyRef?.localObjectReference?.name == name }) { return true }
                    if container.envFrom.contains(where: { $0.configMapRef?.localObjectReference?.name == name }) { return true }
                }
            case "persistentvolumeclaims":
                guard podNamespace == namespace else { continue }
                if spec.volumes.contains(where: { $0.volumeSource?.persistentVolumeClaim?.claimName == name }) { return true }
            default:
                continue
            }
        }
        return false
    }
}
