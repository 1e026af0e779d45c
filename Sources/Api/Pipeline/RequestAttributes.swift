/// UserInfo is who a request comes from, as an authenticator established it. Kubernetes'
/// `user.Info`: a name, a uid, the groups RBAC matches Group subjects against, and extra
/// key-to-values facts (for example a service-account token's pod name).
public struct UserInfo: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var uid: String
    public var groups: [String]
    public var extra: [String: [String]]

    public init(name: String, uid: String = "", groups: [String] = [], extra: [String: [String]] = [:]) {
        self.name = name
        self.uid = uid
        self.groups = groups
        self.extra = extra
    }

    public var description: String { name }

    /// The group every authenticated caller gets, as in Kubernetes.
    public static let authenticatedGroup = "system:authenticated"
    /// The group the anonymous caller gets.
    public static let unauthenticatedGroup = "system:unauthenticated"
    /// The group that is bound to cluster-admin by the default roles.
    public static let mastersGroup = "system:masters"
    /// The group every node belongs to.
    public static let nodesGroup = "system:nodes"
    /// The group every service account belongs to.
    public static let serviceAccountsGroup = "system:serviceaccounts"
    /// The user name prefix of nodes: `system:node:<node name>`.
    public static let nodeUserPrefix = "system:node:"
    /// The user name prefix of service accounts: `system:serviceaccount:<namespace>:<name>`.
    public static let serviceAccountUserPrefix = "system:serviceaccount:"

    /// The user of a service account, with Kubernetes' name and groups.
    public static func serviceAccount(namespace: String, name: String, uid: String = "") -> UserInfo {
        UserInfo(
            name: serviceAccountUserPrefix + namespace + ":" + name, uid: uid,
            groups: [serviceAccountsGroup, serviceAccountsGroup + ":" + namespace, authenticatedGroup])
    }

    /// The user of a node, with Kubernetes' name and groups.
    public static func node(_ nodeName: String) -> UserInfo {
        UserInfo(name: nodeUserPrefix + nodeName, groups: [nodesGroup, authenticatedGroup])
    }

    /// The node name when this is a node's user (`system:node:<name>` in group system:nodes),
    /// otherwise nil.
    public var nodeName: String? {
        guard name.hasPrefix(Self.nodeUserPrefix), groups.contains(Self.nodesGroup) else { return nil }
        let nodeName = String(name.dropFirst(Self.nodeUserPrefix.count))
        return nodeName.isEmpty ? nil : nodeName
    }

    /// (namespace, name) when this is a service account's user, otherwise nil.
    public var serviceAccount: (namespace: String, name: String)? {
        guard name.hasPrefix(Self.serviceAccountUserPrefix) else { return nil }
        let parts = name.dropFirst(Self.serviceAccountUserPrefix.count).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }
}

/// Verb is what a request does, in Kubernetes' authorization vocabulary. Resource requests use
/// the constants below; non-resource requests (such as `/healthz`) use the lower-case HTTP method.
/// It is open like Kubernetes' (RBAC also knows "bind", "escalate", "impersonate", "use").
public struct Verb: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    public static let get: Verb = "get"
    public static let list: Verb = "list"
    public static let watch: Verb = "watch"
    public static let create: Verb = "create"
    public static let update: Verb = "update"
    public static let patch: Verb = "patch"
    public static let delete: Verb = "delete"
    public static let deleteCollection: Verb = "deletecollection"

    /// Verbs that change nothing; admission runs only for the others.
    public var isReadOnly: Bool { self == .get || self == .list || self == .watch }
}

/// RequestAttributes is what authorization and admission know about a request, with Kubernetes'
/// authorizer-attribute meaning:
/// - a resource request names `apiGroup` ("" for core), `resource` (the plural, "pods"),
///   optionally `subresource` ("status", "binding", "scale", "log"), `namespace` ("" for
///   cluster-scoped kinds and for lists across all namespaces) and `name` ("" for list, watch
///   and deletecollection; for create the server should set it from the object's
///   metadata.name when known, so that resourceNames rules and the node authorizer can check it);
/// - a non-resource request (`isResourceRequest == false`) names only `path` ("/healthz",
///   "/metrics", "/version").
public struct RequestAttributes: Sendable, Hashable, CustomStringConvertible {
    public var user: UserInfo
    public var verb: Verb
    public var isResourceRequest: Bool
    public var apiGroup: String
    public var resource: String
    public var subresource: String
    public var namespace: String
    public var name: String
    public var path: String

    public init(
        user: UserInfo, verb: Verb, apiGroup: String = "", resource: String, subresource: String = "",
        namespace: String = "", name: String = ""
    ) {
        self.user = user
        self.verb = verb
        self.isResourceRequest = true
        self.apiGroup = apiGroup
        self.resource = resource
        self.subresource = subresource
        self.namespace = namespace
        self.name = name
        self.path = ""
    }

    /// Attributes of a request on one served kind.
    public init(
        user: UserInfo, verb: Verb, type: ResourceType, subresource: String = "", namespace: String = "",
        name: String = ""
    ) {
        self.init(
            user: user, verb: verb, apiGroup: type.group, resource: type.plural, subresource: subresource,
            namespace: namespace, name: name)
    }

    /// Attributes of a non-resource request such as `get /healthz`.
    public static func nonResource(user: UserInfo, verb: Verb, path: String) -> RequestAttributes {
        var attributes = RequestAttributes(user: user, verb: verb, resource: "")
        attributes.isResourceRequest = false
        attributes.path = path
        return attributes
    }

    /// "pods/status" for subresources, "pods" otherwise: how RBAC rules name resources.
    public var combinedResource: String { subresource.isEmpty ? resource : resource + "/" + subresource }

    /// The served kind, when the request is on one.
    public var resourceType: ResourceType? {
        guard isResourceRequest else { return nil }
        return ResourceCatalog.all.first { $0.group == apiGroup && $0.plural == resource }
    }

    public var description: String {
        guard isResourceRequest else { return "\(user.name) \(verb) \(path)" }
        let group = apiGroup.isEmpty ? "" : "." + apiGroup
        let scope = namespace.isEmpty ? "" : " in namespace \(namespace)"
        let object = name.isEmpty ? "" : " \"\(name)\""
        return "\(user.name) \(verb) \(combinedResource)\(group)\(object)\(scope)"
    }
}
