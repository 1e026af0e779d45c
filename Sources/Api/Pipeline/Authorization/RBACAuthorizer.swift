/// RBACSource supplies the RBAC objects the authorizer evaluates. The API server backs it with
/// the watch caches of roles, cluster roles and their bindings; tests use `StaticRBACSource`.
/// Calls happen on every request, so implementations answer from memory.
public protocol RBACSource: Sendable {
    func role(namespace: String, name: String) -> Role?
    func clusterRole(name: String) -> ClusterRole?
    func roleBindings(namespace: String) -> [RoleBinding]
    func allClusterRoleBindings() -> [ClusterRoleBinding]
}

/// StaticRBACSource is an RBACSource over fixed lists, for tests and for bootstrap before the
/// caches have synced.
public struct StaticRBACSource: RBACSource {
    public var roles: [Role]
    public var clusterRoles: [ClusterRole]
    public var roleBindings: [RoleBinding]
    public var clusterRoleBindings: [ClusterRoleBinding]

    public init(
        roles: [Role] = [], clusterRoles: [ClusterRole] = [], roleBindings: [RoleBinding] = [],
        clusterRoleBindings: [ClusterRoleBinding] = []
    ) {
        self.roles = roles
        self.clusterRoles = clusterRoles
        self.roleBindings = roleBindings
        self.clusterRoleBindings = clusterRoleBindings
    }

    public func role(namespace: String, name: String) -> Role? {
        roles.first { $0.metadata?.namespace == namespace && $0.metadata?.name == name }
    }

    public func clusterRole(name: String) -> ClusterRole? {
        clusterRoles.first { $0.metadata?.name == name }
    }

    public func roleBindings(namespace: String) -> [RoleBinding] {
        roleBindings.filter { $0.metadata?.namespace == namespace }
    }

    public func allClusterRoleBindings() -> [ClusterRoleBinding] { clusterRoleBindings }
}

/// RBACAuthorizer allows a request when a rule of a role bound to the user covers it, with
/// Kubernetes' semantics:
/// - ClusterRoleBindings give a ClusterRole everywhere; RoleBindings give a Role of their own
///   namespace, or a ClusterRole, only inside their namespace.
/// - Subjects match by User name, by Group among the user's groups, or by ServiceAccount
///   (`system:serviceaccount:<namespace>:<name>`; a subject without a namespace in a RoleBinding
///   means the binding's namespace).
/// - A rule covers a resource request when its verbs, apiGroups and resources contain the
///   request's (or `*`), resources naming subresources as "pods/status" (and "*/scale"), and
///   resourceNames is empty or contains the request's name. A rule covers a non-resource request
///   when nonResourceURLs contains its path, `*`, or a prefix ending in `*`.
/// RBAC only allows: without a covering rule it has no opinion, and the chain denies.
public struct RBACAuthorizer: Authorizer {
    public let source: any RBACSource

    public init(source: any RBACSource) {
        self.source = source
    }

    public func authorize(_ attributes: RequestAttributes) -> AuthorizationDecision {
        let user = attributes.user
        for binding in source.allClusterRoleBindings() {
            guard let subject = binding.subjects.first(where: { Self.subject($0, appliesTo: user, bindingNamespace: "") }),
                let roleRef = binding.roleRef, roleRef.kind == "ClusterRole",
                let role = source.clusterRole(name: roleRef.name ?? "")
            else { continue }
            if role.rules.contains(where: { Self.rule($0, covers: attributes) }) {
                return .allow(
                    "RBAC: allowed by ClusterRoleBinding \"\(binding.metadata?.name ?? "")\" of ClusterRole \"\(roleRef.name ?? "")\" to \(subject.kind ?? "") \"\(subject.name ?? "")\"")
            }
        }
        if attributes.isResourceRequest && !attributes.namespace.isEmpty {
            for binding in source.roleBindings(namespace: attributes.namespace) {
                guard let subject = binding.subjects.first(where: { Self.subject($0, appliesTo: user, bindingNamespace: attributes.namespace) }),
                    let roleRef = binding.roleRef
                else { continue }
                let rules: [PolicyRule]
                switch roleRef.kind {
                case "Role": rules = source.role(namespace: attributes.namespace, name: roleRef.name ?? "")?.rules ?? []
                case "ClusterRole": rules = source.clusterRole(name: roleRef.name ?? "")?.rules ?? []
                default: rules = []
                }
                if rules.contains(where: { Self.rule($0, covers: attributes) }) {
                    return .allow(
                        "RBAC: allowed by RoleBinding \"\(binding.metadata?.name ?? "")/\(attributes.namespace)\" of \(roleRef.kind ?? "") \"\(roleRef.name ?? "")\" to \(subject.kind ?? "") \"\(subject.name ?? "")\"")
                }
            }
        }
        return .noOpinion("RBAC: no role bound to User \"\(user.name)\" or its groups allows this")
    }

    public static func subject(_ subject: Subject, appliesTo user: UserInfo, bindingNamespace: String) -> Bool {
        switch subject.kind {
        case "User":
            return subject.name == user.name
        case "Group":
            return user.groups.contains(subject.name ?? "")
        case "ServiceAccount":
            let namespace = (subject.namespace ?? "").isEmpty ? bindingNamespace : subject.namespace ?? ""
            guard !namespace.isEmpty, let name = subject.name, !name.isEmpty else { return false }
            return user.name == UserInfo.serviceAccountUserPrefix + namespace + ":" + name
        default:
            return false
        }
    }

    public static func rule(_ rule: PolicyRule, covers attributes: RequestAttributes) -> Bool {
        guard rule.verbs.contains("*") || rule.verbs.contains(attributes.verb.rawValue) else { return false }
        guard attributes.isResourceRequest else {
            return rule.nonResourceURLs.contains { pattern in
                pattern == "*" || pattern == attributes.path
                    || (pattern.hasSuffix("*") && attributes.path.hasPrefix(pattern.dropLast()))
            }
        }
        guard rule.apiGroups.contains("*") || rule.apiGroups.contains(attributes.apiGroup) else { return false }
        let combined = attributes.combinedResource
        let resourceMatches = rule.resources.contains { resource in
            resource == "*" || resource == combined
                || (!attributes.subresource.isEmpty && resource == "*/" + attributes.subresource)
        }
        guard resourceMatches else { return false }
        return rule.resourceNames.isEmpty || rule.resourceNames.contains(attributes.name)
    }
}
