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

/// RequestCredentials is everything a request presents to prove who sent it: a bearer token
/// (binary handshake or HTTP `Authorization: Bearer`), and over HTTPS a client certificate that
/// TLS already verified against the cluster CA.
public struct RequestCredentials: Sendable, Hashable {
    /// "" when the request carries none.
    public var bearerToken: String
    public var clientCertificate: VerifiedClientCertificate?

    public init(bearerToken: String = "", clientCertificate: VerifiedClientCertificate? = nil) {
        self.bearerToken = bearerToken
        self.clientCertificate = clientCertificate
    }

    public var isEmpty: Bool { bearerToken.isEmpty && clientCertificate == nil }
}

/// VerifiedClientCertificate is the subject of a client certificate whose chain TLS verified
/// against the cluster CA: Kubernetes reads the user from the common name and the groups from
/// the organizations.
public struct VerifiedClientCertificate: Sendable, Hashable {
    public var commonName: String
    public var organizations: [String]

    public init(commonName: String, organizations: [String]) {
        self.commonName = commonName
        self.organizations = organizations
    }
}

/// Authenticator establishes who sent a request from its credentials (seed item 15: the API
/// server asks its authentication plugins in turn until one knows the caller). Token plugins
/// implement `authenticate(token:)`; the default `authenticate(_:)` hands them the bearer token
/// and answers `.unknown` when there is none.
public protocol Authenticator: Sendable {
    func authenticate(token: String) -> AuthenticationResult
    func authenticate(_ credentials: RequestCredentials) -> AuthenticationResult
}

extension Authenticator {
    public func authenticate(_ credentials: RequestCredentials) -> AuthenticationResult {
        credentials.bearerToken.isEmpty ? .unknown : authenticate(token: credentials.bearerToken)
    }
}

/// ClientCertificateAuthenticator is Kubernetes' x509 authenticator: a verified client
/// certificate's CN is the user and each O a group. It comes first in the chain, so a request
/// with both a certificate and a token is the certificate's user, as in Kubernetes.
public struct ClientCertificateAuthenticator: Authenticator {
    public init() {}

    public func authenticate(token: String) -> AuthenticationResult { .unknown }

    public func authenticate(_ credentials: RequestCredentials) -> AuthenticationResult {
        guard let certificate = credentials.clientCertificate else { return .unknown }
        guard !certificate.commonName.isEmpty else {
            return .rejected("the client certificate has no common name (CN) to take the user name from")
        }
        return .authenticated(UserInfo(name: certificate.commonName, groups: certificate.organizations))
    }
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
        try authenticate(RequestCredentials(bearerToken: token))
    }

    /// The caller of a request with these credentials, or the 401 to answer with.
    public func authenticate(_ credentials: RequestCredentials) throws(ApiError) -> UserInfo {
        for authenticator in authenticators {
            if credentials.isEmpty && !(authenticator is AnonymousAuthenticator) { continue }
            switch authenticator.authenticate(credentials) {
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
            credentials.isEmpty
                ? "Unauthorized: the request carries no credentials (bearer token or client certificate) and anonymous access is disabled"
                : credentials.bearerToken.isEmpty
                    ? "Unauthorized: no authenticator recognizes the client certificate"
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

    public func authenticate(_ credentials: RequestCredentials) -> AuthenticationResult {
        authenticate(token: credentials.bearerToken)
    }
}
