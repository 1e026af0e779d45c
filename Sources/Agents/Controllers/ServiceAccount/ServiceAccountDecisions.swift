import Api
import Foundation

/// ServiceAccountDefaults: every namespace that is not being deleted has a ServiceAccount named
/// `default` (the ServiceAccount admission plugin gives it to pods that name none, and refuses
/// pods whose account is missing), re-created when deleted.
enum ServiceAccountDefaults {
    static let name = "default"

    static func needsDefaultAccount(_ namespace: Namespace, accounts: [ServiceAccount]) -> Bool {
        guard namespace.metadata?.deletionTimestamp == nil, namespace.status?.phase != "Terminating" else { return false }
        return !accounts.contains { $0.metadata?.name == name && $0.metadata?.deletionTimestamp == nil }
    }

    static func defaultAccount(in namespace: String) -> ServiceAccount {
        var account = ServiceAccount()
        account.metadata = ObjectMeta(name: name, namespace: namespace)
        return account
    }
}

/// ServiceAccountTokens is the token controller's decision logic, free of I/O. It does what
/// Kubernetes' token controller does with Secrets of type `kubernetes.io/service-account-token`
/// (Kubernetes no longer creates one per account; users create them, annotated with the
/// account's name, and the controller fills them):
/// - a token Secret whose account does not exist, or was re-created (another uid), is deleted;
/// - a token Secret without a valid token gets one, signed with the controller manager's
///   `--service-account-private-key-file` key (the API server verifies it with the same key,
///   `--service-account-key-file`: Skiff signs with HMAC-SHA256, so both hold one secret), plus
///   `namespace`, and the account's uid as annotation;
/// - Skiff's service-account tokens expire (the API server refuses tokens without `exp`), so a
///   token is re-issued once four fifths of its lifetime have passed, and when the key changed.
/// There is no `ca.crt`: Skiff's binary API has no cluster certificate authority.
enum ServiceAccountTokens {
    static let secretType = "kubernetes.io/service-account-token"
    static let nameAnnotation = "kubernetes.io/service-account.name"
    static let uidAnnotation = "kubernetes.io/service-account.uid"
    static let tokenKey = "token"
    static let namespaceKey = "namespace"

    enum SecretAction: Equatable {
        case none
        /// Nothing to do until this moment (the token's renewal time).
        case recheck(at: Date)
        /// Delete the secret, for this reason.
        case delete(String)
        /// Write this secret (with a fresh token).
        case fill(Secret)
    }

    /// The account a token secret belongs to, from its annotation; nil for other secrets.
    static func accountName(of secret: Secret) -> String? {
        guard secret.type == secretType, let name = secret.metadata?.annotations[nameAnnotation], !name.isEmpty else { return nil }
        return name
    }

    /// What to do with a token secret whose account is `account` (nil: confirmed absent).
    static func action(
        for secret: Secret, account: ServiceAccount?, signingKey: [UInt8], lifetimeSeconds: Int64, now: Date
    ) -> SecretAction {
        guard let accountName = accountName(of: secret), secret.metadata?.deletionTimestamp == nil else { return .none }
        let namespace = secret.metadata?.namespace ?? ""
        guard let account, let accountUID = account.metadata?.uid else {
            return .delete("service account \(namespace)/\(accountName) does not exist")
        }
        if let recorded = secret.metadata?.annotations[uidAnnotation], !recorded.isEmpty, recorded != accountUID {
            return .delete("service account \(namespace)/\(accountName) was re-created (uid \(accountUID), the secret is for \(recorded))")
        }
        let nowSeconds = Int64(now.timeIntervalSince1970)
        if let token = secret.data[tokenKey], let renewal = renewalTime(of: String(decoding: token, as: UTF8.self),
            namespace: namespace, name: accountName, uid: accountUID, signingKey: signingKey),
            renewal > nowSeconds, secret.metadata?.annotations[uidAnnotation] == accountUID,
            secret.data[namespaceKey] == Array(namespace.utf8)
        {
            return .recheck(at: Date(timeIntervalSince1970: TimeInterval(renewal)))
        }
        let issuer = ServiceAccountTokenIssuer(signingKey: signingKey, lifetimeSeconds: lifetimeSeconds, now: { nowSeconds })
        var filled = secret
        filled.data[tokenKey] = Array(issuer.issue(namespace: namespace, name: accountName, uid: accountUID).utf8)
        filled.data[namespaceKey] = Array(namespace.utf8)
        filled.meta.annotations[uidAnnotation] = accountUID
        return .fill(filled)
    }

    /// When a token this key signed for this account should be replaced (four fifths into its
    /// life), or nil when it is not such a token.
    static func renewalTime(of token: String, namespace: String, name: String, uid: String, signingKey: [UInt8]) -> Int64? {
        let codec = SignedTokenCodec(signingKey: signingKey, issuer: ServiceAccountTokenClaims.issuerValue)
        guard case .valid(let claims) = codec.verify(token),
            claims[string: ServiceAccountTokenClaims.namespace] == namespace,
            claims[string: ServiceAccountTokenClaims.serviceAccountName] == name,
            claims[string: ServiceAccountTokenClaims.serviceAccountUID] == uid,
            let issued = claims[integer: ServiceAccountTokenClaims.issuedAt],
            let expires = claims[integer: ServiceAccountTokenClaims.expiresAt], expires > issued
        else { return nil }
        return issued + (expires - issued) * 4 / 5
    }
}
