import Synchronization

/// RBACSource supplies the RBAC objects the authorizer evaluates. The API server backs it with
/// the watch caches of roles, cluster roles and their bindings; tests use `StaticRBACSource`.
/// Calls happen on every request, so implementations answer from memory.
public protocol RBACSource: Sendable {
    func role(namespace: String, name: String) -> Role?
    func clusterRole(name: String) -> ClusterRole?
    func roleBindings(namespace: String) -> [RoleBinding]
    func allClusterRoleBindings() -> [ClusterRoleBinding]
    /// Grows whenever any Role, ClusterRole or binding changes (nil: unknown, so the
    /// authorizer resolves every request from scratch). Equal versions promise equal answers
    /// from the four functions above.
    var rulesVersion: UInt64? { get }
}

extension RBACSource {
    public var rulesVersion: UInt64? { nil }
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

    /// A StaticRBACSource held by an authorizer never changes.
    public var rulesVersion: UInt64? { 0 }
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
    private let resolved: ResolvedRulesCache

    public init(source: any RBACSource) {
        self.source = source
        self.resolved = ResolvedRulesCache()
    }

    public func authorize(_ attributes: RequestAttributes) -> AuthorizationDecision {
        let namespace = attributes.isResourceRequest ? attributes.namespace : ""
        let rules = resolved.rules(for: attributes.user, namespace: namespace, source: source)
        for granted in rules where Self.rule(granted.rule, covers: attributes) {
            return .allow(granted.reason)
        }
        return .noOpinion("RBAC: no role bound to User \"\(attributes.user.name)\" or its groups allows this")
    }

    /// Every rule granted to `user` that applies in `namespace` (cluster-wide rules first, in
    /// binding order, then the namespace's), each with the reason an allow reports. This is the
    /// walk over all bindings that used to run per request; the cache keeps its result per user
    /// and namespace until the source's rules version changes.
    static func resolveRules(for user: UserInfo, namespace: String, source: any RBACSource) -> [GrantedRule] {
        var granted: [GrantedRule] = []
        for binding in source.allClusterRoleBindings() {
            guard let subject = binding.subjects.first(where: { Self.subject($0, appliesTo: user, bindingNamespace: "") }),
                let roleRef = binding.roleRef, roleRef.kind == "ClusterRole",
                let role = source.clusterRole(name: roleRef.name ?? "")
            else { continue }
            let reason =
                "RBAC: allowed by ClusterRoleBinding \"\(binding.metadata?.name ?? "")\" of ClusterRole \"\(roleRef.name ?? "")\" to \(subject.kind ?? "") \"\(subject.name ?? "")\""
            granted += role.rules.map { GrantedRule(rule: $0, reason: reason) }
        }
        guard !namespace.isEmpty else { return granted }
        for binding in source.roleBindings(namespace: namespace) {
            guard let subject = binding.subjects.first(where: { Self.subject($0, appliesTo: user, bindingNamespace: namespace) }),
                let roleRef = binding.roleRef
            else { continue }
            let rules: [PolicyRule]
            switch roleRef.kind {
            case "Role": rules = source.role(namespace: namespace, name: roleRef.name ?? "")?.rules ?? []
            case "ClusterRole": rules = source.clusterRole(name: roleRef.name ?? "")?.rules ?? []
            default: rules = []
            }
            let reason =
                "RBAC: allowed by RoleBinding \"\(binding.metadata?.name ?? "")/\(namespace)\" of \(roleRef.kind ?? "") \"\(roleRef.name ?? "")\" to \(subject.kind ?? "") \"\(subject.name ?? "")\""
            granted += rules.map { GrantedRule(rule: $0, reason: reason) }
        }
        return granted
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

/// GrantedRule is one policy rule a user holds through a binding, with the allow reason.
struct GrantedRule: Sendable {
    var rule: PolicyRule
    var reason: String
}

/// ResolvedRulesCache keeps each user's granted rules per namespace, resolved once per version
/// of the RBAC objects: requests then check a few rules instead of walking every binding (6.6% of
/// the API server's CPU while scheduling, most of it copying bindings out of the watch cache).
/// Sources without a version are resolved on every request.
final class ResolvedRulesCache: Sendable {
    /// Entries kept before the cache starts over (a cluster with many distinct users, such as one
    /// per node, refills it from the source; correctness never depends on a hit).
    static let capacity = 8192

    private struct Key: Hashable {
        var user: String
        var groups: [String]
        var namespace: String
    }

    private struct State {
        var version: UInt64 = 0
        var entries: [Key: [GrantedRule]] = [:]
    }

    private let state = Mutex(State())

    func rules(for user: UserInfo, namespace: String, source: any RBACSource) -> [GrantedRule] {
        guard let version = source.rulesVersion else {
            return RBACAuthorizer.resolveRules(for: user, namespace: namespace, source: source)
        }
        let key = Key(user: user.name, groups: user.groups, namespace: namespace)
        if let hit = state.withLock({ $0.version == version ? $0.entries[key] : nil }) { return hit }
        let resolved = RBACAuthorizer.resolveRules(for: user, namespace: namespace, source: source)
        state.withLock { state in
            // Versions only grow: an answer resolved at an older version than the cache's is
            // returned but not kept.
            guard version >= state.version else { return }
            if version > state.version || state.entries.count >= Self.capacity {
                state.version = version
                state.entries.removeAll(keepingCapacity: true)
            }
            state.entries[key] = resolved
        }
        return resolved
    }
}
