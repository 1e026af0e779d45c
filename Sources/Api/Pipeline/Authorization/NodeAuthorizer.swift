/// NodeAuthorizer keeps each node (user `system:node:<name>` in group `system:nodes`) to its own
/// objects, like Kubernetes' Node authorizer; chain it before RBAC so that its denials are final.
/// For a node it decides:
/// - its Node object (and nodes/status): get, list, watch, create, update, patch allowed for its
///   own name, denied for another node's; a list or watch without a name is left to RBAC
///   (the node agent selects its own node with `metadata.name`);
/// - its heartbeat Lease (`coordination.k8s.io` leases named like the node in namespace
///   `kube-node-lease`): allowed; another node's lease: denied;
/// - pods: list and watch allowed (the server filters a node's lists by `spec.nodeName`); get,
///   delete, pods/status and pods/eviction allowed only for pods bound to it, denied otherwise;
///   other writes denied;
/// - events: create, update and patch allowed;
/// - configmaps, secrets, persistentvolumeclaims and persistentvolumes: get allowed only for
///   those a pod bound to the node references; lists, watches, other names denied;
/// - everything else: no opinion (RBAC's system:node role decides).
/// Other users: no opinion.
///
/// For create, the server must put the new object's name in `RequestAttributes.name`, since
/// "its own name" is checked there.
public struct NodeAuthorizer: Authorizer {
    /// The namespace of node heartbeat leases.
    public static let nodeLeaseNamespace = "kube-node-lease"

    /// The node a pod is bound to (`spec.nodeName`); nil when the pod does not exist or is not
    /// bound.
    public var podNodeName: @Sendable (_ namespace: String, _ name: String) -> String?
    /// Whether a pod bound to `nodeName` references the object: `resource` is "configmaps",
    /// "secrets", "persistentvolumeclaims" (through volumes, env and envFrom, image pull secrets)
    /// or "persistentvolumes" (through a referenced claim; `namespace` is "").
    public var isReferencedByPodOnNode: @Sendable (_ resource: String, _ namespace: String, _ name: String, _ nodeName: String) -> Bool

    public init(
        podNodeName: @escaping @Sendable (_ namespace: String, _ name: String) -> String?,
        isReferencedByPodOnNode: @escaping @Sendable (_ resource: String, _ namespace: String, _ name: String, _ nodeName: String) -> Bool
    ) {
        self.podNodeName = podNodeName
        self.isReferencedByPodOnNode = isReferencedByPodOnNode
    }

    public func authorize(_ attributes: RequestAttributes) -> AuthorizationDecision {
        guard let node = attributes.user.nodeName, attributes.isResourceRequest else {
            return .noOpinion("")
        }
        switch (attributes.apiGroup, attributes.resource) {
        case ("", "nodes"): return authorizeNode(attributes, node: node)
        case ("coordination.k8s.io", "leases"): return authorizeLease(attributes, node: node)
        case ("", "pods"): return authorizePod(attributes, node: node)
        case ("", "events"), ("events.k8s.io", "events"):
            return ["create", "update", "patch"].contains(attributes.verb.rawValue)
                ? .allow("node authorizer: nodes may record events") : .noOpinion("")
        case ("", "configmaps"), ("", "secrets"), ("", "persistentvolumeclaims"), ("", "persistentvolumes"):
            return authorizeReferenced(attributes, node: node)
        default:
            return .noOpinion("")
        }
    }

    private func authorizeNode(_ attributes: RequestAttributes, node: String) -> AuthorizationDecision {
        guard attributes.subresource.isEmpty || attributes.subresource == "status" else { return .noOpinion("") }
        if attributes.name.isEmpty { return .noOpinion("") }
        guard attributes.name == node else {
            return .deny("node \"\(node)\" may only access its own Node object, not node \"\(attributes.name)\"")
        }
        let allowed: Set<Verb> = [.get, .list, .watch, .create, .update, .patch]
        return allowed.contains(attributes.verb) ? .allow("node authorizer: a node's own Node object") : .noOpinion("")
    }

    private func authorizeLease(_ attributes: RequestAttributes, node: String) -> AuthorizationDecision {
        guard attributes.namespace == Self.nodeLeaseNamespace else { return .noOpinion("") }
        if attributes.name.isEmpty { return .noOpinion("") }
        guard attributes.name == node else {
            return .deny("node \"\(node)\" may only access its own lease in \(Self.nodeLeaseNamespace), not the lease \"\(attributes.name)\"")
        }
        return .allow("node authorizer: a node's own heartbeat lease")
    }

    private func authorizePod(_ attributes: RequestAttributes, node: String) -> AuthorizationDecision {
        let verb = attributes.verb
        switch attributes.subresource {
        case "":
            if verb == .list || verb == .watch { return .allow("node authorizer: the server limits a node's pod lists to its own pods") }
            guard verb == .get || verb == .delete else {
                if verb == .create { return .noOpinion("") }
                return .deny("node \"\(node)\" may not \(verb) pods; nodes write only pods/status")
            }
        case "status":
            guard verb == .get || verb == .update || verb == .patch else { return .noOpinion("") }
        case "eviction":
            guard verb == .create else { return .noOpinion("") }
        default:
            return .noOpinion("")
        }
        guard !attributes.name.isEmpty else {
            return .deny("node \"\(node)\" must name the pod it accesses")
        }
        let boundNode = podNodeName(attributes.namespace, attributes.name)
        guard boundNode == node else {
            let binding = boundNode.map { "is bound to node \"\($0)\"" } ?? "is not bound to any node (or does not exist)"
            return .deny("node \"\(node)\" may only access pods bound to it; pod \"\(attributes.namespace)/\(attributes.name)\" \(binding)")
        }
        return .allow("node authorizer: pod \(attributes.namespace)/\(attributes.name) is bound to the node")
    }

    private func authorizeReferenced(_ attributes: RequestAttributes, node: String) -> AuthorizationDecision {
        if attributes.resource == "persistentvolumeclaims" && !attributes.subresource.isEmpty { return .noOpinion("") }
        let kind = attributes.resource
        guard attributes.verb == .get, !attributes.name.isEmpty, attributes.subresource.isEmpty else {
            return .deny("node \"\(node)\" may only get individual \(kind) referenced by pods bound to it; \(attributes.verb) is not allowed")
        }
        guard isReferencedByPodOnNode(kind, attributes.namespace, attributes.name, node) else {
            let object = attributes.namespace.isEmpty ? attributes.name : attributes.namespace + "/" + attributes.name
            return .deny("no relationship found between node \"\(node)\" and \(kind) \"\(object)\"; no pod bound to the node references it")
        }
        return .allow("node authorizer: referenced by a pod bound to the node")
    }
}
