/// DefaultRoles are the ClusterRoles and ClusterRoleBindings the API server creates at start
/// when they are missing (Kubernetes' RBAC bootstrap policy), labelled
/// `kubernetes.io/bootstrapping=rbac-defaults`:
/// - `cluster-admin` (everything), bound to group `system:masters`;
/// - `admin`, `edit`, `view`: the user-facing roles meant for RoleBindings in a namespace
///   (view reads everything but secrets; edit also writes workloads and secrets; admin also
///   manages roles and role bindings);
/// - `system:kube-scheduler` (user `system:kube-scheduler`) and
///   `system:kube-controller-manager` (user `system:kube-controller-manager`): what Skiff's
///   scheduler and controllers read and write;
/// - `system:node`, bound to group `system:nodes`; the node authorizer, which runs first,
///   narrows it to each node's own objects;
/// - `system:basic-user`, `system:discovery` (authenticated users) and
///   `system:public-info-viewer` (everyone, also anonymous): self-reviews, discovery and health.
public enum DefaultRoles {
    public static let rbacGroup = "rbac.authorization.k8s.io"
    static let read = ["get", "list", "watch"]
    static let write = ["create", "delete", "deletecollection", "patch", "update"]
    static let readWrite = read + write

    static func rule(_ verbs: [String], _ groups: [String], _ resources: [String], names: [String] = []) -> PolicyRule {
        var rule = PolicyRule()
        rule.verbs = verbs
        rule.apiGroups = groups
        rule.resources = resources
        rule.resourceNames = names
        return rule
    }

    static func nonResourceRule(_ verbs: [String], _ urls: [String]) -> PolicyRule {
        var rule = PolicyRule()
        rule.verbs = verbs
        rule.nonResourceURLs = urls
        return rule
    }

    static func metadata(_ name: String) -> ObjectMeta {
        var metadata = ObjectMeta()
        metadata.name = name
        metadata.labels = ["kubernetes.io/bootstrapping": "rbac-defaults"]
        metadata.annotations = ["rbac.authorization.kubernetes.io/autoupdate": "true"]
        return metadata
    }

    static func clusterRole(_ name: String, _ rules: [PolicyRule]) -> ClusterRole {
        var role = ClusterRole()
        role.metadata = metadata(name)
        role.rules = rules
        return role
    }

    static func binding(_ name: String, role: String, _ subjects: [(kind: String, name: String)]) -> ClusterRoleBinding {
        var binding = ClusterRoleBinding()
        binding.metadata = metadata(name)
        var roleRef = RoleRef()
        roleRef.apiGroup = rbacGroup
        roleRef.kind = "ClusterRole"
        roleRef.name = role
        binding.roleRef = roleRef
        binding.subjects = subjects.map { subjectSpec in
            var subject = Subject()
            subject.kind = subjectSpec.kind
            subject.apiGroup = rbacGroup
            subject.name = subjectSpec.name
            return subject
        }
        return binding
    }

    /// Namespaced resources the user-facing roles cover, by API group.
    static let viewableCore = [
        "pods", "pods/log", "pods/status", "configmaps", "endpoints", "persistentvolumeclaims",
        "persistentvolumeclaims/status", "replicationcontrollers", "replicationcontrollers/scale",
        "replicationcontrollers/status", "serviceaccounts", "services", "services/status", "bindings", "events",
        "limitranges", "resourcequotas", "resourcequotas/status", "namespaces", "namespaces/status",
    ]
    static let viewableApps = [
        "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status", "replicasets",
        "replicasets/scale", "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status",
    ]
    static let editableCore = [
        "pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "pods/eviction", "configmaps", "endpoints",
        "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale", "secrets",
        "serviceaccounts", "services", "services/proxy", "events",
    ]
    static let editableApps = [
        "daemonsets", "deployments", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets",
        "statefulsets/scale",
    ]

    static var viewRules: [PolicyRule] {
        [
            rule(read, [""], viewableCore),
            rule(read, ["apps"], viewableApps),
            rule(read, ["batch"], ["jobs", "jobs/status", "cronjobs", "cronjobs/status"]),
            rule(read, ["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"]),
            rule(read, ["discovery.k8s.io"], ["endpointslices"]),
            rule(read, ["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
            rule(read, ["coordination.k8s.io"], ["leases"]),
        ]
    }

    static var editRules: [PolicyRule] {
        viewRules + [
            rule(readWrite, [""], editableCore),
            rule(["impersonate"], [""], ["serviceaccounts"]),
            rule(["create"], [""], ["serviceaccounts/token"]),
            rule(readWrite, ["apps"], editableApps),
            rule(readWrite, ["batch"], ["jobs", "cronjobs"]),
            rule(readWrite, ["networking.k8s.io"], ["ingresses", "networkpolicies"]),
            rule(readWrite, ["discovery.k8s.io"], ["endpointslices"]),
            rule(readWrite, ["autoscaling"], ["horizontalpodautoscalers"]),
            rule(readWrite, ["coordination.k8s.io"], ["leases"]),
        ]
    }

    static var adminRules: [PolicyRule] {
        editRules + [
            rule(readWrite, [rbacGroup], ["roles", "rolebindings"]),
            rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
        ]
    }

    static var schedulerRules: [PolicyRule] {
        [
            rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
            rule(["create"], ["coordination.k8s.io"], ["leases"]),
            rule(["get", "update"], ["coordination.k8s.io"], ["leases"], names: ["kube-scheduler"]),
            rule(read, [""], ["nodes", "namespaces", "services", "replicationcontrollers", "persistentvolumeclaims", "persistentvolumes", "configmaps"]),
            rule(read + ["delete"], [""], ["pods"]),
            rule(["create"], [""], ["bindings", "pods/binding"]),
            rule(["patch", "update"], [""], ["pods/status"]),
            rule(read, ["apps"], ["replicasets", "statefulsets"]),
            rule(read, ["policy"], ["poddisruptionbudgets"]),
            rule(read, ["storage.k8s.io"], ["storageclasses", "csinodes", "csidrivers", "csistoragecapacities"]),
        ]
    }

    static var controllerManagerRules: [PolicyRule] {
        [
            // The controllers watch every kind (garbage collector, quota, namespace deletion).
            rule(read, ["*"], ["*"]),
            // The garbage collector and the namespace controller delete objects of every kind and
            // edit their ownerReferences and finalizers (Kubernetes' generic-garbage-collector and
            // namespace-controller roles hold every verb on every resource).
            rule(["delete", "deletecollection", "patch", "update"], ["*"], ["*"]),
            rule(write, [""], [
                "pods", "pods/status", "pods/binding", "pods/eviction", "replicationcontrollers",
                "replicationcontrollers/status", "replicationcontrollers/scale", "endpoints", "events", "serviceaccounts",
                "serviceaccounts/token", "secrets", "namespaces", "namespaces/status", "namespaces/finalize", "nodes",
                "nodes/status", "resourcequotas/status", "persistentvolumes", "persistentvolumes/status",
                "persistentvolumeclaims", "persistentvolumeclaims/status", "services/status", "configmaps",
            ]),
            rule(write, ["apps"], [
                "deployments", "deployments/status", "deployments/scale", "replicasets", "replicasets/status",
                "replicasets/scale", "statefulsets", "statefulsets/status", "statefulsets/scale", "daemonsets",
                "daemonsets/status", "controllerrevisions",
            ]),
            rule(write, ["batch"], ["jobs", "jobs/status", "cronjobs", "cronjobs/status"]),
            rule(write, ["discovery.k8s.io"], ["endpointslices"]),
            rule(write, ["events.k8s.io"], ["events"]),
            rule(write, ["coordination.k8s.io"], ["leases"]),
            rule(write, ["networking.k8s.io"], ["ingresses/status"]),
            rule(write, ["autoscaling"], ["horizontalpodautoscalers/status"]),
        ]
    }

    static var nodeRules: [PolicyRule] {
        [
            rule(read + ["create", "update", "patch"], [""], ["nodes"]),
            rule(["update", "patch"], [""], ["nodes/status"]),
            rule(read + ["create", "delete"], [""], ["pods"]),
            rule(["update", "patch"], [""], ["pods/status"]),
            rule(["create"], [""], ["pods/eviction"]),
            rule(read, [""], ["services", "endpoints", "configmaps", "secrets"]),
            rule(["get"], [""], ["persistentvolumeclaims", "persistentvolumes"]),
            rule(["update", "patch"], [""], ["persistentvolumeclaims/status"]),
            rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
            rule(read + ["create", "update", "patch", "delete"], ["coordination.k8s.io"], ["leases"]),
            rule(["create"], [""], ["serviceaccounts/token"]),
            rule(read, ["discovery.k8s.io"], ["endpointslices"]),
        ]
    }

    static let discoveryURLs = ["/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*", "/version", "/version/"]
    static let publicInfoURLs = ["/healthz", "/livez", "/readyz", "/version", "/version/"]

    public static var clusterRoles: [ClusterRole] {
        [
            clusterRole("cluster-admin", [rule(["*"], ["*"], ["*"]), nonResourceRule(["*"], ["*"])]),
            clusterRole("admin", adminRules),
            clusterRole("edit", editRules),
            clusterRole("view", viewRules),
            clusterRole("system:kube-scheduler", schedulerRules),
            clusterRole("system:kube-controller-manager", controllerManagerRules),
            clusterRole("system:node", nodeRules),
            clusterRole("system:basic-user", [
                rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
                rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
            ]),
            clusterRole("system:discovery", [nonResourceRule(["get"], discoveryURLs)]),
            clusterRole("system:public-info-viewer", [nonResourceRule(["get"], publicInfoURLs)]),
        ]
    }

    public static var clusterRoleBindings: [ClusterRoleBinding] {
        [
            binding("cluster-admin", role: "cluster-admin", [("Group", UserInfo.mastersGroup)]),
            binding("system:kube-scheduler", role: "system:kube-scheduler", [("User", "system:kube-scheduler")]),
            binding(
                "system:kube-controller-manager", role: "system:kube-controller-manager",
                [("User", "system:kube-controller-manager")]),
            binding("system:node", role: "system:node", [("Group", UserInfo.nodesGroup)]),
            binding("system:basic-user", role: "system:basic-user", [("Group", UserInfo.authenticatedGroup)]),
            binding("system:discovery", role: "system:discovery", [("Group", UserInfo.authenticatedGroup)]),
            binding(
                "system:public-info-viewer", role: "system:public-info-viewer",
                [("Group", UserInfo.authenticatedGroup), ("Group", UserInfo.unauthenticatedGroup)]),
        ]
    }

    /// The defaults as an RBAC source on their own (bootstrap, tests).
    public static var source: StaticRBACSource {
        StaticRBACSource(clusterRoles: clusterRoles, clusterRoleBindings: clusterRoleBindings)
    }
}
