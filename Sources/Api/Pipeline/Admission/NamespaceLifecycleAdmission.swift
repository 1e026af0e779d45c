/// NamespaceLifecycleAdmission refuses to create objects in a namespace that does not exist
/// (404) or is being deleted (403), and refuses to delete the namespaces the system needs:
/// default, kube-system and kube-public.
public struct NamespaceLifecycleAdmission: AdmissionPlugin {
    public static let pluginName = "NamespaceLifecycle"
    public static let immortalNamespaces: Set<String> = ["default", "kube-system", "kube-public"]

    public var name: String { Self.pluginName }

    public init() {}

    public func admit(_ request: inout AdmissionRequest) throws(ApiError) {
        let attributes = request.attributes
        if request.operation == .delete, attributes.apiGroup.isEmpty, attributes.resource == "namespaces",
            attributes.subresource.isEmpty, Self.immortalNamespaces.contains(attributes.name)
        {
            throw request.forbidden("this namespace may not be deleted")
        }
        guard request.operation == .create, !attributes.namespace.isEmpty else { return }
        // A namespace being created does not need to exist already.
        if attributes.apiGroup.isEmpty && attributes.resource == "namespaces" { return }
        guard let namespace = request.lookups.namespace(named: attributes.namespace) else {
            throw ApiError.notFound(Namespace.resourceType, attributes.namespace)
        }
        if namespace.status?.phase == "Terminating" || namespace.metadata?.deletionTimestamp != nil {
            var error = request.forbidden(
                "unable to create new content in namespace \(attributes.namespace) because it is being terminated")
            var cause = StatusCause()
            cause.reason = "NamespaceTerminating"
            cause.message = "namespace \(attributes.namespace) is being terminated"
            cause.field = "metadata.namespace"
            error.details?.causes = [cause]
            throw error
        }
    }
}

/// AlwaysPullImagesAdmission sets `imagePullPolicy: Always` on every container and init
/// container of pods being created or updated, so that a pod can only use an image its
/// registry credentials can pull, never one another tenant left on the node.
public struct AlwaysPullImagesAdmission: AdmissionPlugin {
    public static let pluginName = "AlwaysPullImages"
    public var name: String { Self.pluginName }

    public init() {}

    public func admit(_ request: inout AdmissionRequest) throws(ApiError) {
        guard request.operation != .delete, var pod = request.pod, var spec = pod.spec else { return }
        for index in spec.containers.indices { spec.containers[index].imagePullPolicy = "Always" }
        for index in spec.initContainers.indices { spec.initContainers[index].imagePullPolicy = "Always" }
        pod.spec = spec
        request.object = pod
    }
}

/// ServiceAccountAdmission gives pods without `serviceAccountName` the namespace's "default"
/// service account, and refuses pods whose service account does not exist. Mirror pods (from
/// a node's static manifests) are left alone, as in Kubernetes.
public struct ServiceAccountAdmission: AdmissionPlugin {
    public static let pluginName = "ServiceAccount"
    public static let defaultServiceAccountName = "default"
    public static let mirrorPodAnnotation = "kubernetes.io/config.mirror"

    public var name: String { Self.pluginName }

    public init() {}

    public func admit(_ request: inout AdmissionRequest) throws(ApiError) {
        guard request.operation == .create, var pod = request.pod else { return }
        if pod.metadata?.annotations[Self.mirrorPodAnnotation] != nil { return }
        var spec = pod.spec ?? PodSpec()
        var accountName = spec.serviceAccountName ?? ""
        if accountName.isEmpty { accountName = spec.serviceAccount ?? "" }
        if accountName.isEmpty { accountName = Self.defaultServiceAccountName }
        spec.serviceAccountName = accountName
        spec.serviceAccount = accountName
        let namespace = request.attributes.namespace
        let exists = request.lookups.serviceAccount(namespace: namespace, name: accountName) != nil
        guard exists else {
            throw request.forbidden(
                "error looking up service account \(namespace)/\(accountName): serviceaccount \"\(accountName)\" not found")
        }
        pod.spec = spec
        request.object = pod
    }
}
