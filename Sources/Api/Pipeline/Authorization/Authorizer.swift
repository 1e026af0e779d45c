/// AuthorizationDecision is one authorizer's answer for a request.
public enum AuthorizationDecision: Sendable, Hashable {
    /// Allowed; the string says why (which binding and role), for audit and debugging.
    case allow(String)
    /// Refused outright; later authorizers are not asked. The reason reaches the caller.
    case deny(String)
    /// This authorizer has nothing to say; the next one is asked. The reason says what it
    /// checked, and is reported if every authorizer has no opinion.
    case noOpinion(String)

    public static let allow = AuthorizationDecision.allow("")
    public static let noOpinion = AuthorizationDecision.noOpinion("")

    public var isAllowed: Bool {
        if case .allow = self { return true }
        return false
    }
}

/// Authorizer decides whether a user may do what a request asks (seed item 15).
public protocol Authorizer: Sendable {
    func authorize(_ attributes: RequestAttributes) -> AuthorizationDecision
}

/// AuthorizerChain asks its authorizers in order (Kubernetes' `--authorization-mode=Node,RBAC`):
/// the first allow or deny is final; when all have no opinion the request is denied.
public struct AuthorizerChain: Authorizer {
    public var authorizers: [any Authorizer]

    public init(_ authorizers: [any Authorizer]) {
        self.authorizers = authorizers
    }

    public func authorize(_ attributes: RequestAttributes) -> AuthorizationDecision {
        var reasons: [String] = []
        for authorizer in authorizers {
            let decision = authorizer.authorize(attributes)
            switch decision {
            case .allow, .deny: return decision
            case .noOpinion(let reason): if !reason.isEmpty { reasons.append(reason) }
            }
        }
        return .deny(reasons.joined(separator: "; "))
    }

    /// Nothing when allowed; otherwise the 403 Forbidden to answer with, in Kubernetes' words:
    /// `pods "web" is forbidden: User "alice" cannot get resource "pods" in API group "" in the
    /// namespace "default": <reason>`.
    public func check(_ attributes: RequestAttributes) throws(ApiError) {
        let decision = authorize(attributes)
        switch decision {
        case .allow: return
        case .deny(let reason), .noOpinion(let reason):
            throw ApiError.forbidden(attributes, reason: reason)
        }
    }
}

extension ApiError {
    /// The 403 for a request the authorizers refused, worded like Kubernetes'.
    public static func forbidden(_ attributes: RequestAttributes, reason: String) -> ApiError {
        let user = attributes.user.name
        let why = reason.isEmpty ? "" : ": " + reason
        guard attributes.isResourceRequest else {
            return ApiError(
                code: 403, reason: "Forbidden",
                message: "forbidden: User \"\(user)\" cannot \(attributes.verb) path \"\(attributes.path)\"\(why)")
        }
        let resource = attributes.apiGroup.isEmpty ? attributes.resource : attributes.resource + "." + attributes.apiGroup
        let named = attributes.name.isEmpty ? "" : " \"\(attributes.name)\""
        let scope = attributes.namespace.isEmpty ? "at the cluster scope" : "in the namespace \"\(attributes.namespace)\""
        var details = StatusDetails()
        details.name = attributes.name
        details.group = attributes.apiGroup
        details.kind = attributes.resource
        return ApiError(
            code: 403, reason: "Forbidden",
            message: "\(resource)\(named) is forbidden: User \"\(user)\" cannot \(attributes.verb) resource \"\(attributes.combinedResource)\" in API group \"\(attributes.apiGroup)\" \(scope)\(why)",
            details: details)
    }

    /// A 403 from an admission plugin, worded like Kubernetes':
    /// `pods "web" is forbidden: <message>`.
    public static func admissionForbidden(_ attributes: RequestAttributes, _ message: String) -> ApiError {
        let resource = attributes.apiGroup.isEmpty ? attributes.resource : attributes.resource + "." + attributes.apiGroup
        let named = attributes.name.isEmpty ? "" : " \"\(attributes.name)\""
        var details = StatusDetails()
        details.name = attributes.name
        details.group = attributes.apiGroup
        details.kind = attributes.resource
        return ApiError(code: 403, reason: "Forbidden", message: "\(resource)\(named) is forbidden: \(message)", details: details)
    }
}
