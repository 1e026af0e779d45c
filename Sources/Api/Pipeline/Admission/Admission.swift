/// AdmissionLookups is what admission plugins read about the cluster; the API server answers
/// from its watch caches. Calls happen on every write, so implementations answer from memory.
public protocol AdmissionLookups: Sendable {
    func namespace(named name: String) -> Namespace?
    func serviceAccounts(inNamespace namespace: String) -> [ServiceAccount]
    /// The quotas of a namespace; `status.used` is the current usage, as the quota controller
    /// (or the registry, when a quota is created) computed it.
    func resourceQuotas(inNamespace namespace: String) -> [ResourceQuota]
    func limitRanges(inNamespace namespace: String) -> [LimitRange]
    /// One service account, by name.
    func serviceAccount(namespace: String, name: String) -> ServiceAccount?
}

extension AdmissionLookups {
    public func serviceAccount(namespace: String, name: String) -> ServiceAccount? {
        serviceAccounts(inNamespace: namespace).first { $0.metadata?.name == name }
    }
}

/// AdmissionRequest is one write on its way through the admission plugins: create, update,
/// patch (after the patch is applied: an update), delete.
public struct AdmissionRequest: Sendable {
    public enum Operation: String, Sendable, Hashable {
        case create = "CREATE"
        case update = "UPDATE"
        case delete = "DELETE"
    }

    public var attributes: RequestAttributes
    /// The object to store (create, update); plugins may change it. Nil for delete.
    public var object: (any KubernetesObject)?
    /// The stored object (update, delete).
    public var oldObject: (any KubernetesObject)?
    public let lookups: any AdmissionLookups
    /// Quotas whose `status.used` the ResourceQuota plugin raised to count this object; the
    /// server writes them (status subresource, with their resourceVersion) in the same store
    /// transaction as the object, so that two creates cannot both take the last unit.
    public var quotaStatusUpdates: [ResourceQuota] = []

    public init(
        attributes: RequestAttributes, object: (any KubernetesObject)?, oldObject: (any KubernetesObject)?,
        lookups: any AdmissionLookups
    ) {
        self.attributes = attributes
        self.object = object
        self.oldObject = oldObject
        self.lookups = lookups
    }

    public var operation: Operation {
        switch attributes.verb {
        case .create: return .create
        case .delete, .deleteCollection: return .delete
        default: return .update
        }
    }

    /// The name of the object, for messages: the request's, or the object's metadata.name.
    public var objectName: String {
        if !attributes.name.isEmpty { return attributes.name }
        return object?.metadata?.name ?? object?.metadata?.generateName ?? ""
    }

    /// The pod being written to the main resource (not a subresource), when it is one.
    var pod: Pod? {
        guard attributes.apiGroup.isEmpty, attributes.resource == "pods", attributes.subresource.isEmpty else { return nil }
        return object as? Pod
    }

    /// The 403 an admission plugin refuses with, naming this object.
    func forbidden(_ message: String) -> ApiError {
        var attributes = attributes
        attributes.name = objectName
        return ApiError.admissionForbidden(attributes, message)
    }
}

/// AdmissionPlugin checks and may change a write before validation and the store (seed item 15).
/// Plugins run in a fixed order (see `AdmissionChain`); the first that throws ends the request.
public protocol AdmissionPlugin: Sendable {
    var name: String { get }
    func admit(_ request: inout AdmissionRequest) throws(ApiError)
}

/// AdmissionConfigurationError is an admission flag the server cannot start with.
public struct AdmissionConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public init(message: String) {
        self.message = message
    }

    public var message: String
    public var description: String { message }
}

/// AdmissionOptions are the admission plugins' settings, from the API server's flags.
public struct AdmissionOptions: Sendable, Hashable {
    /// `--default-not-ready-toleration-seconds`: DefaultTolerationSeconds' toleration of
    /// node.kubernetes.io/not-ready.
    public var defaultNotReadyTolerationSeconds: Int64 = 300
    /// `--default-unreachable-toleration-seconds`: its toleration of node.kubernetes.io/unreachable.
    public var defaultUnreachableTolerationSeconds: Int64 = 300

    public init() {}
}

/// AdmissionChain is the enabled admission plugins in Kubernetes' order (the order of the flag
/// does not matter): NamespaceLifecycle, LimitRanger, ServiceAccount, AlwaysPullImages,
/// DefaultTolerationSeconds, ResourceQuota — quota last, so that it counts the requests
/// LimitRanger filled in.
public struct AdmissionChain: Sendable {
    public var plugins: [any AdmissionPlugin]

    public init(plugins: [any AdmissionPlugin]) {
        self.plugins = plugins
    }

    /// Every plugin by name, in the order they run.
    public static let knownPlugins: [(name: String, make: @Sendable (AdmissionOptions) -> any AdmissionPlugin)] = [
        (NamespaceLifecycleAdmission.pluginName, { _ in NamespaceLifecycleAdmission() }),
        (LimitRangerAdmission.pluginName, { _ in LimitRangerAdmission() }),
        (ServiceAccountAdmission.pluginName, { _ in ServiceAccountAdmission() }),
        (AlwaysPullImagesAdmission.pluginName, { _ in AlwaysPullImagesAdmission() }),
        (DefaultTolerationSecondsAdmission.pluginName, { options in
            DefaultTolerationSecondsAdmission(
                notReadySeconds: options.defaultNotReadyTolerationSeconds,
                unreachableSeconds: options.defaultUnreachableTolerationSeconds)
        }),
        (ResourceQuotaAdmission.pluginName, { _ in ResourceQuotaAdmission() }),
    ]

    /// The plugins enabled when no flag is given (Kubernetes enables all of these but
    /// AlwaysPullImages by default).
    public static let defaultEnabled = [
        "NamespaceLifecycle", "LimitRanger", "ServiceAccount", "DefaultTolerationSeconds", "ResourceQuota",
    ]

    /// The chain for `--enable-admission-plugins`: names as separate elements or comma-separated
    /// ("NamespaceLifecycle,ServiceAccount"). An unknown name is an error listing the known ones,
    /// and so are negative toleration seconds.
    public static func make(
        enabled: [String], options: AdmissionOptions = AdmissionOptions()
    ) throws(AdmissionConfigurationError) -> AdmissionChain {
        let names = enabled.flatMap { $0.split(separator: ",") }.map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
        let known = knownPlugins.map(\.name)
        for name in names where !known.contains(name) {
            throw AdmissionConfigurationError(
                message: "--enable-admission-plugins: unknown admission plugin \"\(name)\"; known plugins: \(known.sorted().joined(separator: ", "))")
        }
        for (flag, seconds) in [
            ("--default-not-ready-toleration-seconds", options.defaultNotReadyTolerationSeconds),
            ("--default-unreachable-toleration-seconds", options.defaultUnreachableTolerationSeconds),
        ] where seconds < 0 {
            throw AdmissionConfigurationError(message: "\(flag) must not be negative, not \(seconds)")
        }
        return AdmissionChain(plugins: knownPlugins.filter { names.contains($0.name) }.map { $0.make(options) })
    }

    public var pluginNames: [String] { plugins.map(\.name) }

    /// Runs every plugin on a write; read-only verbs are not admitted.
    public func admit(_ request: inout AdmissionRequest) throws(ApiError) {
        precondition(!request.attributes.verb.isReadOnly, "admission runs for writes only, not \(request.attributes.verb)")
        for plugin in plugins {
            try plugin.admit(&request)
        }
    }
}
