/// ServiceAccountTokenClaims names the claims of a service-account token; they are those of
/// Kubernetes' legacy (secret-based) service-account tokens, plus an expiry.
public enum ServiceAccountTokenClaims {
    public static let issuerValue = "kubernetes/serviceaccount"
    public static let issuer = "iss"
    public static let subject = "sub"
    public static let issuedAt = "iat"
    public static let expiresAt = "exp"
    public static let namespace = "kubernetes.io/serviceaccount/namespace"
    public static let serviceAccountName = "kubernetes.io/serviceaccount/service-account.name"
    public static let serviceAccountUID = "kubernetes.io/serviceaccount/service-account.uid"
}

/// ServiceAccountTokenIssuer signs the tokens the API server hands to service accounts (the
/// token controller and the node agent ask for them). Tokens expire after `lifetimeSeconds`.
public struct ServiceAccountTokenIssuer: Sendable {
    public let codec: SignedTokenCodec
    public var lifetimeSeconds: Int64
    public var now: @Sendable () -> Int64

    public init(
        signingKey: [UInt8], lifetimeSeconds: Int64 = 3600,
        now: @escaping @Sendable () -> Int64 = SignedTokenCodec.wallClockSeconds
    ) {
        precondition(lifetimeSeconds > 0, "a token lifetime must be positive")
        self.codec = SignedTokenCodec(signingKey: signingKey, issuer: ServiceAccountTokenClaims.issuerValue)
        self.lifetimeSeconds = lifetimeSeconds
        self.now = now
    }

    public func issue(namespace: String, name: String, uid: String) -> String {
        let issuedAt = now()
        return codec.sign(
            TokenClaims(
                strings: [
                    ServiceAccountTokenClaims.issuer: ServiceAccountTokenClaims.issuerValue,
                    ServiceAccountTokenClaims.subject: UserInfo.serviceAccountUserPrefix + namespace + ":" + name,
                    ServiceAccountTokenClaims.namespace: namespace,
                    ServiceAccountTokenClaims.serviceAccountName: name,
                    ServiceAccountTokenClaims.serviceAccountUID: uid,
                ],
                integers: [
                    ServiceAccountTokenClaims.issuedAt: issuedAt,
                    ServiceAccountTokenClaims.expiresAt: issuedAt + lifetimeSeconds,
                ]))
    }
}

/// ServiceAccountTokenAuthenticator accepts the tokens `ServiceAccountTokenIssuer` signs with
/// the same key: the user is `system:serviceaccount:<namespace>:<name>` in groups
/// `system:serviceaccounts` and `system:serviceaccounts:<namespace>`, and `uid` is the service
/// account's uid.
///
/// `serviceAccountUID` looks up the uid of the service account a token names (nil: it does not
/// exist). A token is refused when its service account is gone, or was deleted and recreated
/// (another uid), so deleting a service account revokes its tokens, as in Kubernetes. Without
/// the lookup (bootstrap) only the signature and expiry are checked.
public struct ServiceAccountTokenAuthenticator: Authenticator {
    public let codec: SignedTokenCodec
    public var now: @Sendable () -> Int64
    public var serviceAccountUID: (@Sendable (_ namespace: String, _ name: String) -> String?)?

    public init(
        signingKey: [UInt8], now: @escaping @Sendable () -> Int64 = SignedTokenCodec.wallClockSeconds,
        serviceAccountUID: (@Sendable (_ namespace: String, _ name: String) -> String?)? = nil
    ) {
        self.codec = SignedTokenCodec(signingKey: signingKey, issuer: ServiceAccountTokenClaims.issuerValue)
        self.now = now
        self.serviceAccountUID = serviceAccountUID
    }

    public func authenticate(token: String) -> AuthenticationResult {
        let claims: TokenClaims
        switch codec.verify(token) {
        case .notOurs: return .unknown
        case .invalid(let reason): return .rejected(reason)
        case .valid(let verified): claims = verified
        }
        guard claims[string: ServiceAccountTokenClaims.issuer] == ServiceAccountTokenClaims.issuerValue else {
            return .rejected("the service account token's iss claim differs from its header")
        }
        guard let namespace = claims[string: ServiceAccountTokenClaims.namespace], !namespace.isEmpty,
            let name = claims[string: ServiceAccountTokenClaims.serviceAccountName], !name.isEmpty,
            let subject = claims[string: ServiceAccountTokenClaims.subject]
        else {
            return .rejected("the service account token lacks its namespace or name claim")
        }
        guard subject == UserInfo.serviceAccountUserPrefix + namespace + ":" + name else {
            return .rejected("the service account token's subject \(subject) does not match its namespace and name claims")
        }
        guard let expiresAt = claims[integer: ServiceAccountTokenClaims.expiresAt] else {
            return .rejected("the service account token has no expiry")
        }
        let now = now()
        guard now < expiresAt else {
            return .rejected("the service account token for \(namespace)/\(name) expired \(now - expiresAt) seconds ago; request a new one")
        }
        let uid = claims[string: ServiceAccountTokenClaims.serviceAccountUID] ?? ""
        if let serviceAccountUID {
            guard let currentUID = serviceAccountUID(namespace, name) else {
                return .rejected("service account \(namespace)/\(name) named by the token does not exist")
            }
            guard currentUID == uid else {
                return .rejected("service account \(namespace)/\(name) was deleted and recreated (uid \(currentUID), the token is for uid \(uid)); the token is invalidated")
            }
        }
        return .authenticated(UserInfo.serviceAccount(namespace: namespace, name: name, uid: uid))
    }
}
