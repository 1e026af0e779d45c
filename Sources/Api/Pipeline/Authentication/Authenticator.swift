/// AuthenticationResult is one authenticator's verdict on a bearer token.
public enum AuthenticationResult: Sendable, Hashable {
    /// The token is this authenticator's and is good.
    case authenticated(UserInfo)
    /// The token is not this authenticator's kind; the next authenticator tries.
    case unknown
    /// The token is this authenticator's kind but is bad (tampered, expired, revoked); the
    /// request fails with 401 and this reason, and no later authenticator is asked.
    case rejected(String)
}

/// Authenticator establishes who sent a request from its bearer token (seed item 15: the API
/// server asks its authentication plugins in turn until one knows the caller).
public protocol Authenticator: Sendable {
    func authenticate(token: String) -> AuthenticationResult
}

/// AuthenticatorChain asks its authenticators in order. The first `.authenticated` or
/// `.rejected` answer is final; when every one answers `.unknown` the request is unauthorized
/// unless anonymous access is enabled (add an `AnonymousAuthenticator` last).
///
/// Every authenticated user except the anonymous one also gets the group
/// `system:authenticated`, as in Kubernetes.
public struct AuthenticatorChain: Sendable {
    public var authenticators: [any Authenticator]

    public init(_ authenticators: [any Authenticator]) {
        self.authenticators = authenticators
    }

    /// The caller of a request with this bearer token ("" when the request had none), or the
    /// 401 to answer with.
    public func authenticate(token: String) throws(ApiError) -> UserInfo {
        for authenticator in authenticators {
            if token.isEmpty && !(authenticator is AnonymousAuthenticator) { continue }
            switch authenticator.authenticate(token: token) {
            case .unknown:
                continue
            case .rejected(let reason):
                throw ApiError.unauthorized("Unauthorized: \(reason)")
            case .authenticated(var user):
                if user.name != AnonymousAuthenticator.userName, !user.groups.contains(UserInfo.authenticatedGroup) {
                    user.groups.append(UserInfo.authenticatedGroup)
                }
                return user
            }
        }
        throw ApiError.unauthorized(
            token.isEmpty
                ? "Unauthorized: the request carries no bearer token and anonymous access is disabled"
                : "Unauthorized: no authenticator recognizes the bearer token")
    }
}

/// AnonymousAuthenticator answers every request with the user `system:anonymous` in group
/// `system:unauthenticated`. It is off by default: the server adds it last to the chain only
/// when anonymous access is enabled by flag, and RBAC then decides what the anonymous user may do
/// (the default roles let it read only discovery and health endpoints).
public struct AnonymousAuthenticator: Authenticator {
    public static let userName = "system:anonymous"

    public init() {}

    public func authenticate(token: String) -> AuthenticationResult {
        .authenticated(UserInfo(name: Self.userName, groups: [UserInfo.unauthenticatedGroup]))
    }
}
