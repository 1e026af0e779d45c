/// NamespaceRules are Kubernetes' namespace lifecycle rules, which the registry applies to
/// Namespace objects only:
/// - a new namespace gets `spec.finalizers: ["kubernetes"]` and `status.phase: Active`;
/// - deleting a namespace that still has `spec.finalizers` only marks it: `deletionTimestamp`
///   and `status.phase: Terminating` (the NamespaceLifecycle admission plugin then refuses new
///   objects in it); the namespace controller deletes its contents, then removes its finalizer
///   through the `namespaces/finalize` subresource;
/// - `spec.finalizers` change only through `namespaces/finalize`; an ordinary update keeps them;
/// - a Terminating namespace goes once both `spec.finalizers` and `metadata.finalizers` are empty.
enum NamespaceRules {
    static let kubernetesFinalizer = "kubernetes"

    static func prepareForCreate(_ object: inout any KubernetesObject) {
        guard var namespace = object as? Namespace else { return }
        namespace.spec = NamespaceSpec(finalizers: [kubernetesFinalizer])
        var status = NamespaceStatus()
        status.phase = "Active"
        namespace.status = status
        object = namespace
    }

    /// An ordinary update keeps the stored `spec.finalizers`.
    static func prepareForUpdate(_ object: inout any KubernetesObject, old: any KubernetesObject) {
        guard var namespace = object as? Namespace, let stored = old as? Namespace else { return }
        var spec = namespace.spec ?? NamespaceSpec()
        spec.finalizers = stored.spec?.finalizers ?? []
        namespace.spec = spec
        object = namespace
    }

    /// What `namespaces/finalize` stores: the stored namespace with the request's
    /// `spec.finalizers`, nothing else.
    static func finalized(_ stored: any KubernetesObject, request: any KubernetesObject) -> (any KubernetesObject)? {
        guard var namespace = stored as? Namespace, let requested = request as? Namespace else { return nil }
        var spec = namespace.spec ?? NamespaceSpec()
        spec.finalizers = requested.spec?.finalizers ?? []
        namespace.spec = spec
        return namespace
    }

    /// Whether the object is a namespace whose `spec.finalizers` still hold it.
    static func hasSpecFinalizers(_ object: any KubernetesObject) -> Bool {
        guard let namespace = object as? Namespace else { return false }
        return !(namespace.spec?.finalizers ?? []).isEmpty
    }

    static func markTerminating(_ object: inout any KubernetesObject) {
        guard var namespace = object as? Namespace else { return }
        var status = namespace.status ?? NamespaceStatus()
        status.phase = "Terminating"
        namespace.status = status
        object = namespace
    }
}
