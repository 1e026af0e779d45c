import Logging
import Wire

extension ApiServer {
    /// The namespaces every cluster has, with their default service accounts.
    static let systemNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"]

    /// Creates what a new cluster needs once (system namespaces and their default service
    /// accounts, the bootstrap RBAC roles and bindings); objects that exist are left alone, so
    /// several API servers may all run it.
    func bootstrap() async {
        var objects: [any KubernetesObject] = []
        for name in Self.systemNamespaces {
            var namespace = Namespace()
            namespace.metadata = ObjectMeta(name: name)
            objects.append(namespace)
            var account = ServiceAccount()
            account.metadata = ObjectMeta(name: "default", namespace: name)
            objects.append(account)
        }
        objects += DefaultRoles.clusterRoles as [any KubernetesObject]
        objects += DefaultRoles.clusterRoleBindings as [any KubernetesObject]
        for object in objects {
            let type = object.resourceType
            do {
                try await registry.ready(type)
                let exists = await loop.submit {
                    self.registry.cache(type).get(namespace: object.metadata?.namespace ?? "", name: object.metadata?.name ?? "") != nil
                }
                if exists { continue }
                _ = try await registry.create(type, namespace: object.metadata?.namespace ?? "", object: object)
            } catch where error.reason == "AlreadyExists" {
                continue
            } catch {
                logger.warning("bootstrap: could not create \(type.qualifiedName) \(object.metadata?.name ?? ""): \(error)")
            }
        }
    }
}
