/// NodeTokenIssuer signs node credentials: a token whose subject is `system:node:<name>`. The
/// cluster command hands one to each node agent it starts.
public struct NodeTokenIssuer: Sendable {
    public static let issuerValue = "skiff/node"
    public let codec: SignedTokenCodec
    public var lifetimeSeconds: Int64
    public var now: @Sendable () -> Int64

    public init(
        signingKey: [UInt8], lifetimeSeconds: Int64 = 365 * 24 * 3600,
        now: @escaping @Sendable () -> Int64 = SignedTokenCodec.wallClockSeconds
    ) {
        precondition(lifetimeSeconds > 0, "a token lifetime must be positive")
        self.codec = SignedTokenCodec(signingKey: signingKey, issuer: Self.issuerValue)
        self.lifetimeSeconds = lifetimeSeconds
        self.now = now
    }

    public func issue(nodeName: String) -> String {
        precondition(!nodeName.isEmpty, "a node token names its node")
        let issuedAt = now()
        return codec.sign(
            TokenClaims(
                strings: ["iss": Self.issuerValue, "sub": UserInfo.nodeUserPrefix + nodeName],
                integers: ["iat": issuedAt, "exp": issuedAt + lifetimeSeconds]))
    }
}

/// NodeAuthenticator knows node credentials: tokens listed in a node token file
/// (`token,nodeName` a line) and tokens `NodeTokenIssuer` signed with the same key. The user is
/// `system:node:<name>` in group `system:nodes`, which the node authorizer keeps to its own
/// objects.
public struct NodeAuthenticator: Authenticator {
    public private(set) var nodeNamesByToken: [String: String]
    public let codec: SignedTokenCodec?
    public var now: @Sendable () -> Int64

    public init(
        nodeNamesByToken: [String: String] = [:], signingKey: [UInt8]? = nil,
        now: @escaping @Sendable () -> Int64 = SignedTokenCodec.wallClockSeconds
    ) {
        self.nodeNamesByToken = nodeNamesByToken
        self.codec = signingKey.map { SignedTokenCodec(signingKey: $0, issuer: NodeTokenIssuer.issuerValue) }
        self.now = now
    }

    /// Reads a node token file; `file` names it in error messages.
    public init(
        parsingTokenFile text: String, file: String, signingKey: [UInt8]? = nil,
        now: @escaping @Sendable () -> Int64 = SignedTokenCodec.wallClockSeconds
    ) throws(TokenFileError) {
        var tokens: [String: String] = [:]
        for record in try TokenFile.parse(text, file: file) {
            guard record.fields.count == 2 else {
                let column = record.fields.count > 2 ? record.fields[2].column : (record.fields.last.map { $0.column + $0.value.count } ?? 1)
                throw TokenFileError(
                    file: file, line: record.line, column: column,
                    message: "a node token line has 2 columns (token,nodeName), found \(record.fields.count)")
            }
            let token = record.fields[0], nodeName = record.fields[1]
            guard !token.value.isEmpty else {
                throw TokenFileError(file: file, line: record.line, column: token.column, message: "the token is empty; put the token in the first column")
            }
            guard !nodeName.value.isEmpty, NameRules.dnsSubdomainProblem(nodeName.value) == nil else {
                throw TokenFileError(
                    file: file, line: record.line, column: nodeName.column,
                    message: "\"\(nodeName.value)\" is not a node name; a node name is a DNS-1123 subdomain such as worker-1")
            }
            guard tokens[token.value] == nil else {
                throw TokenFileError(file: file, line: record.line, column: token.column, message: "this token is already given to node \(tokens[token.value] ?? ""); give each node its own token")
            }
            tokens[token.value] = nodeName.value
        }
        self.init(nodeNamesByToken: tokens, signingKey: signingKey, now: now)
    }

    public func authenticate(token: String) -> AuthenticationResult {
        if let nodeName = nodeNamesByToken[token] {
            return .authenticated(UserInfo.node(nodeName))
        }
        guard let codec else { return .unknown }
        switch codec.verify(token) {
        case .notOurs:
            return .unknown
        case .invalid(let reason):
            return .rejected(reason)
        case .valid(let claims):
            guard claims[string: "iss"] == NodeTokenIssuer.issuerValue else {
                return .rejected("the node token's iss claim differs from its header")
            }
            guard let subject = claims[string: "sub"], subject.hasPrefix(UserInfo.nodeUserPrefix),
                subject.count > UserInfo.nodeUserPrefix.count
            else {
                return .rejected("the node token's subject is not system:node:<name>")
            }
            guard let expiresAt = claims[integer: "exp"], now() < expiresAt else {
                return .rejected("the node token for \(subject) has expired; issue the node a new one")
            }
            return .authenticated(UserInfo.node(String(subject.dropFirst(UserInfo.nodeUserPrefix.count))))
        }
    }
}
