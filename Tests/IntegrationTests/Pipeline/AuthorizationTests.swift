import Api
import Testing

@Suite("Pipeline: RBAC authorizer")
struct PipelineRBACTests {
    typealias F = PipelineFixtures
    static let alice = UserInfo(name: "alice", groups: ["devs", "system:authenticated"])

    static func authorizer(_ source: StaticRBACSource) -> AuthorizerChain {
        AuthorizerChain([RBACAuthorizer(source: source)])
    }

    static func attributes(_ user: UserInfo, _ verb: Verb, group: String = "", _ resource: String, subresource: String = "", namespace: String = "default", name: String = "") -> RequestAttributes {
        RequestAttributes(user: user, verb: verb, apiGroup: group, resource: resource, subresource: subresource, namespace: namespace, name: name)
    }

    static func attributes(_ verb: Verb, group: String = "", _ resource: String, subresource: String = "", namespace: String = "default", name: String = "") -> RequestAttributes {
        attributes(alice, verb, group: group, resource, subresource: subresource, namespace: namespace, name: name)
    }

    @Test("a Role bound by a RoleBinding applies only in its namespace")
    func roleInNamespace() {
        let source = StaticRBACSource(
            roles: [F.role("pod-reader", namespace: "default", [F.rule(verbs: ["get", "list"], resources: ["pods"])])],
            roleBindings: [F.roleBinding("read-pods", namespace: "default", roleRef: F.roleRef("Role", "pod-reader"), [F.subject("User", "alice")])])
        let chain = Self.authorizer(source)
        #expect(chain.authorize(Self.attributes(.get, "pods", name: "web")).isAllowed)
        #expect(chain.authorize(Self.attributes(.list, "pods")).isAllowed)
        #expect(!chain.authorize(Self.attributes(.delete, "pods", name: "web")).isAllowed)
        #expect(!chain.authorize(Self.attributes(.get, "pods", namespace: "prod", name: "web")).isAllowed)
        #expect(!chain.authorize(Self.attributes(.get, "secrets", name: "web")).isAllowed)
        #expect(!chain.authorize(Self.attributes(.list, "pods", namespace: "")).isAllowed)
    }

    @Test("a ClusterRole through a RoleBinding is limited to the binding's namespace; through a ClusterRoleBinding it applies everywhere")
    func clusterRoleScopes() {
        let reader = F.clusterRole("reader", [F.rule(verbs: ["get", "list", "watch"], groups: ["", "apps"], resources: ["pods", "deployments"])])
        let namespaced = StaticRBACSource(
            clusterRoles: [reader],
            roleBindings: [F.roleBinding("r", namespace: "team", roleRef: F.roleRef("ClusterRole", "reader"), [F.subject("Group", "devs")])])
        #expect(Self.authorizer(namespaced).authorize(Self.attributes(.list, group: "apps", "deployments", namespace: "team")).isAllowed)
        #expect(!Self.authorizer(namespaced).authorize(Self.attributes(.list, group: "apps", "deployments", namespace: "other")).isAllowed)
        let clusterWide = StaticRBACSource(
            clusterRoles: [reader],
            clusterRoleBindings: [F.clusterRoleBinding("r", roleRef: F.roleRef("ClusterRole", "reader"), [F.subject("Group", "devs")])])
        #expect(Self.authorizer(clusterWide).authorize(Self.attributes(.list, "pods", namespace: "")).isAllowed)
        #expect(Self.authorizer(clusterWide).authorize(Self.attributes(.watch, group: "apps", "deployments", namespace: "other")).isAllowed)
        #expect(!Self.authorizer(clusterWide).authorize(Self.attributes(.list, group: "batch", "jobs", namespace: "other")).isAllowed)
    }

    @Test("service account subjects match system:serviceaccount:<ns>:<name>, defaulting to the binding's namespace")
    func serviceAccountSubjects() {
        let source = StaticRBACSource(
            roles: [F.role("cm", namespace: "build", [F.rule(verbs: ["*"], resources: ["configmaps"])])],
            roleBindings: [
                F.roleBinding("cm", namespace: "build", roleRef: F.roleRef("Role", "cm"), [F.subject("ServiceAccount", "robot")])
            ])
        let robot = UserInfo.serviceAccount(namespace: "build", name: "robot")
        let impostor = UserInfo.serviceAccount(namespace: "other", name: "robot")
        #expect(Self.authorizer(source).authorize(Self.attributes(robot, .create, "configmaps", namespace: "build")).isAllowed)
        #expect(!Self.authorizer(source).authorize(Self.attributes(impostor, .create, "configmaps", namespace: "build")).isAllowed)
    }

    @Test("resourceNames limit a rule to named objects; subresources need their own rule or */subresource")
    func resourceNamesAndSubresources() {
        let source = StaticRBACSource(
            clusterRoles: [
                F.clusterRole("one-config", [F.rule(verbs: ["get", "update"], resources: ["configmaps"], names: ["settings"])]),
                F.clusterRole("status-writer", [F.rule(verbs: ["update"], resources: ["pods/status"])]),
                F.clusterRole("scaler", [F.rule(verbs: ["update"], groups: ["*"], resources: ["*/scale"])]),
            ],
            clusterRoleBindings: ["one-config", "status-writer", "scaler"].map {
                F.clusterRoleBinding($0, roleRef: F.roleRef("ClusterRole", $0), [F.subject("User", "alice")])
            })
        let chain = Self.authorizer(source)
        #expect(chain.authorize(Self.attributes(.get, "configmaps", name: "settings")).isAllowed)
        #expect(!chain.authorize(Self.attributes(.get, "configmaps", name: "other")).isAllowed)
        #expect(!chain.authorize(Self.attributes(.list, "configmaps")).isAllowed)
        #expect(chain.authorize(Self.attributes(.update, "pods", subresource: "status", name: "web")).isAllowed)
        #expect(!chain.authorize(Self.attributes(.update, "pods", name: "web")).isAllowed)
        #expect(chain.authorize(Self.attributes(.update, group: "apps", "deployments", subresource: "scale", name: "web")).isAllowed)
        #expect(!chain.authorize(Self.attributes(.update, group: "apps", "deployments", name: "web")).isAllowed)
    }

    @Test("wildcards in verbs, groups and resources; everything else is denied by default with Kubernetes' message")
    func wildcardsAndDefaultDeny() {
        let chain = Self.authorizer(DefaultRoles.source)
        let admin = UserInfo(name: "root", groups: ["system:masters", "system:authenticated"])
        #expect(chain.authorize(Self.attributes(admin, .deleteCollection, group: "anything.example.com", "widgets", namespace: "x")).isAllowed)
        #expect(chain.authorize(RequestAttributes.nonResource(user: admin, verb: "post", path: "/anything")).isAllowed)
        let nobody = UserInfo(name: "mallory", groups: ["system:authenticated"])
        #expect(throws: ApiError(
            code: 403, reason: "Forbidden",
            message: "pods \"web\" is forbidden: User \"mallory\" cannot get resource \"pods\" in API group \"\" in the namespace \"default\": RBAC: no role bound to User \"mallory\" or its groups allows this",
            details: {
                var details = StatusDetails()
                details.name = "web"
                details.group = ""
                details.kind = "pods"
                return details
            }())) {
            try chain.check(Self.attributes(nobody, .get, "pods", name: "web"))
        }
        // Authenticated users may read discovery and health; the anonymous user only health.
        #expect(chain.authorize(.nonResource(user: nobody, verb: "get", path: "/apis/apps/v1")).isAllowed)
        let anonymous = UserInfo(name: "system:anonymous", groups: ["system:unauthenticated"])
        #expect(chain.authorize(.nonResource(user: anonymous, verb: "get", path: "/healthz")).isAllowed)
        #expect(!chain.authorize(.nonResource(user: anonymous, verb: "get", path: "/api")).isAllowed)
    }

    @Test("default roles let the scheduler bind pods and the controller manager write workloads, and nothing more")
    func componentRoles() {
        let chain = Self.authorizer(DefaultRoles.source)
        let scheduler = UserInfo(name: "system:kube-scheduler", groups: ["system:authenticated"])
        #expect(chain.authorize(Self.attributes(scheduler, .create, "pods", subresource: "binding", name: "web")).isAllowed)
        #expect(chain.authorize(Self.attributes(scheduler, .watch, "nodes", namespace: "")).isAllowed)
        #expect(!chain.authorize(Self.attributes(scheduler, .get, "secrets", name: "token")).isAllowed)
        let controllers = UserInfo(name: "system:kube-controller-manager", groups: ["system:authenticated"])
        #expect(chain.authorize(Self.attributes(controllers, .create, group: "apps", "replicasets")).isAllowed)
        #expect(chain.authorize(Self.attributes(controllers, .update, group: "apps", "deployments", subresource: "status", name: "web")).isAllowed)
        #expect(!chain.authorize(Self.attributes(controllers, .create, group: "rbac.authorization.k8s.io", "clusterrolebindings", namespace: "")).isAllowed)
        // "view" through a RoleBinding reads workloads but not secrets.
        var source = DefaultRoles.source
        source.roleBindings = [F.roleBinding("v", namespace: "default", roleRef: F.roleRef("ClusterRole", "view"), [F.subject("User", "alice")])]
        #expect(Self.authorizer(source).authorize(Self.attributes(.list, group: "apps", "deployments")).isAllowed)
        #expect(!Self.authorizer(source).authorize(Self.attributes(.get, "secrets", name: "db")).isAllowed)
    }

    @Test("resolved rules are kept while the rules version stands and re-read when it changes")
    func resolvedRulesFollowTheVersion() {
        let source = VersionedRBACSource()
        source.set(StaticRBACSource(
            clusterRoles: [F.clusterRole("reader", [F.rule(verbs: ["get"], resources: ["pods"])])],
            clusterRoleBindings: [F.clusterRoleBinding("read", roleRef: F.roleRef("ClusterRole", "reader"), [F.subject("User", "alice")])]))
        let chain = AuthorizerChain([RBACAuthorizer(source: source)])
        #expect(chain.authorize(Self.attributes(.get, "pods", name: "a")).isAllowed)
        #expect(!chain.authorize(Self.attributes(.delete, "pods", name: "a")).isAllowed)
        #expect(chain.authorize(Self.attributes(.get, "pods", name: "b")) == .allow("RBAC: allowed by ClusterRoleBinding \"read\" of ClusterRole \"reader\" to User \"alice\""))
        #expect(source.bindingWalks == 1, "one user in one namespace resolves once")
        // Another user, and alice in another namespace, are resolved separately.
        #expect(!chain.authorize(Self.attributes(Self.bob, .get, "pods", name: "a")).isAllowed)
        #expect(chain.authorize(Self.attributes(.get, "pods", namespace: "prod", name: "a")).isAllowed)
        #expect(source.bindingWalks == 3)
        // Revoking the binding takes effect with the next version: no stale allow.
        source.set(StaticRBACSource(clusterRoles: [F.clusterRole("reader", [F.rule(verbs: ["get"], resources: ["pods"])])]))
        #expect(!chain.authorize(Self.attributes(.get, "pods", name: "a")).isAllowed)
        // Granting bob a Role in one namespace takes effect too.
        source.set(StaticRBACSource(
            roles: [F.role("deleter", namespace: "default", [F.rule(verbs: ["delete"], resources: ["pods"])])],
            roleBindings: [F.roleBinding("bob-deletes", namespace: "default", roleRef: F.roleRef("Role", "deleter"), [F.subject("User", "bob")])]))
        #expect(chain.authorize(Self.attributes(Self.bob, .delete, "pods", name: "a")).isAllowed)
        #expect(!chain.authorize(Self.attributes(Self.bob, .delete, "pods", namespace: "prod", name: "a")).isAllowed)
    }

    static let bob = UserInfo(name: "bob", groups: ["system:authenticated"])
}

/// VersionedRBACSource is a changing RBAC source, like the API server's watch caches: every
/// `set` bumps the rules version. It counts walks over the cluster role bindings.
final class VersionedRBACSource: RBACSource, @unchecked Sendable {
    // Safety of @unchecked Sendable: used by one test at a time, on one thread.
    private var current = StaticRBACSource()
    private var version: UInt64 = 0
    private(set) var bindingWalks = 0

    func set(_ source: StaticRBACSource) {
        current = source
        version += 1
    }

    var rulesVersion: UInt64? { version }
    func role(namespace: String, name: String) -> Role? { current.role(namespace: namespace, name: name) }
    func clusterRole(name: String) -> ClusterRole? { current.clusterRole(name: name) }
    func roleBindings(namespace: String) -> [RoleBinding] { current.roleBindings(namespace: namespace) }
    func allClusterRoleBindings() -> [ClusterRoleBinding] {
        bindingWalks += 1
        return current.allClusterRoleBindings()
    }
}

@Suite("Pipeline: node authorizer")
struct PipelineNodeAuthorizerTests {
    static let node = UserInfo.node("worker-1")

    static let chain = AuthorizerChain([
        NodeAuthorizer(
            podNodeName: { namespace, name in
                switch (namespace, name) {
                case ("default", "mine"): return "worker-1"
                case ("default", "theirs"): return "worker-2"
                default: return nil
                }
            },
            isReferencedByPodOnNode: { resource, namespace, name, nodeName in
                resource == "secrets" && namespace == "default" && name == "db-password" && nodeName == "worker-1"
            }),
        RBACAuthorizer(source: DefaultRoles.source),
    ])

    static func decide(_ verb: Verb, group: String = "", _ resource: String, subresource: String = "", namespace: String = "", name: String = "") -> AuthorizationDecision {
        chain.authorize(RequestAttributes(user: node, verb: verb, apiGroup: group, resource: resource, subresource: subresource, namespace: namespace, name: name))
    }

    @Test("a node reads and writes its own Node and heartbeat Lease, not another node's")
    func ownNodeAndLease() {
        for verb: Verb in [.get, .update, .patch, .create] {
            #expect(Self.decide(verb, "nodes", name: "worker-1").isAllowed)
        }
        #expect(Self.decide(.patch, "nodes", subresource: "status", name: "worker-1").isAllowed)
        #expect(Self.decide(.watch, "nodes").isAllowed)
        #expect(Self.decide(.update, "nodes", name: "worker-2") == .deny("node \"worker-1\" may only access its own Node object, not node \"worker-2\""))
        #expect(Self.decide(.update, group: "coordination.k8s.io", "leases", namespace: "kube-node-lease", name: "worker-1").isAllowed)
        #expect(Self.decide(.update, group: "coordination.k8s.io", "leases", namespace: "kube-node-lease", name: "worker-2")
            == .deny("node \"worker-1\" may only access its own lease in kube-node-lease, not the lease \"worker-2\""))
    }

    @Test("a node lists pods, but gets and writes the status of only the pods bound to it")
    func pods() {
        #expect(Self.decide(.list, "pods").isAllowed)
        #expect(Self.decide(.watch, "pods", namespace: "default").isAllowed)
        #expect(Self.decide(.get, "pods", namespace: "default", name: "mine").isAllowed)
        #expect(Self.decide(.update, "pods", subresource: "status", namespace: "default", name: "mine").isAllowed)
        #expect(Self.decide(.update, "pods", subresource: "status", namespace: "default", name: "theirs")
            == .deny("node \"worker-1\" may only access pods bound to it; pod \"default/theirs\" is bound to node \"worker-2\""))
        #expect(!Self.decide(.get, "pods", namespace: "default", name: "ghost").isAllowed)
        #expect(!Self.decide(.update, "pods", namespace: "default", name: "mine").isAllowed)
    }

    @Test("a node creates events and gets only the secrets its pods reference")
    func eventsAndSecrets() {
        #expect(Self.decide(.create, "events", namespace: "default").isAllowed)
        #expect(Self.decide(.get, "secrets", namespace: "default", name: "db-password").isAllowed)
        #expect(Self.decide(.get, "secrets", namespace: "default", name: "other")
            == .deny("no relationship found between node \"worker-1\" and secrets \"default/other\"; no pod bound to the node references it"))
        #expect(!Self.decide(.list, "secrets", namespace: "default").isAllowed)
        #expect(!Self.decide(.get, "configmaps", namespace: "default", name: "db-password").isAllowed)
    }

    @Test("other users get no opinion from the node authorizer")
    func otherUsers() {
        let authorizer = NodeAuthorizer(podNodeName: { _, _ in nil }, isReferencedByPodOnNode: { _, _, _, _ in false })
        let alice = UserInfo(name: "alice", groups: ["system:authenticated"])
        #expect(authorizer.authorize(RequestAttributes(user: alice, verb: .get, resource: "nodes", name: "worker-2")) == .noOpinion(""))
        // A user merely named like a node, without the system:nodes group, is not a node.
        let pretender = UserInfo(name: "system:node:worker-1", groups: ["system:authenticated"])
        #expect(authorizer.authorize(RequestAttributes(user: pretender, verb: .get, resource: "nodes", name: "worker-1")) == .noOpinion(""))
    }
}
