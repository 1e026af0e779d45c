import Api
import Testing

@Suite("Pipeline: SHA-256, HMAC and base64url")
struct PipelineCryptoTests {
    @Test("SHA-256 matches the FIPS 180-4 vectors")
    func sha256Vectors() {
        #expect(PipelineFixtures.hex(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(PipelineFixtures.hex(SHA256.hash([UInt8]())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            PipelineFixtures.hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            PipelineFixtures.hex(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("incremental updates give the one-shot digest")
    func incremental() {
        let message = Array("The quick brown fox jumps over the lazy dog, twice over to cross a block boundary.".utf8)
        var hasher = SHA256()
        hasher.update(message[..<7])
        hasher.update(message[7..<70])
        hasher.update(message[70...])
        #expect(hasher.finalize() == SHA256.hash(message))
    }

    @Test("HMAC-SHA256 matches the RFC 4231 vectors, including a key longer than a block")
    func hmacVectors() {
        #expect(
            PipelineFixtures.hex(HMACSHA256.authenticationCode(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8)))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(
            PipelineFixtures.hex(HMACSHA256.authenticationCode(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(
            PipelineFixtures.hex(
                HMACSHA256.authenticationCode(
                    key: [UInt8](repeating: 0xaa, count: 131),
                    message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test("base64url round-trips every length and refuses bad text")
    func base64URL() {
        #expect(Base64URL.encode([0xfb, 0xff, 0xfe, 0x01]) == "-__-AQ")
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)[...]) == bytes)
        }
        #expect(Base64URL.decode("ab+c") == nil)
        #expect(Base64URL.decode("abcde") == nil)
        #expect(Base64URL.decode("AR") == nil)  // non-zero unused bits
    }
}

@Suite("Pipeline: authentication")
struct PipelineAuthenticationTests {
    static let clock: @Sendable () -> Int64 = { 1_000_000 }

    @Test("the static token file gives users with uid and groups; unknown tokens pass to the next plugin")
    func staticTokens() throws {
        let file = """
            secret-admin,admin,uid-1,"system:masters,ops"
            secret-bob,bob,uid-2

            "quoted,token",carol,uid-3,devs,ignored-column
            """
        let authenticator = try StaticTokenAuthenticator(parsing: file, file: "tokens.csv")
        #expect(authenticator.authenticate(token: "secret-admin") == .authenticated(UserInfo(name: "admin", uid: "uid-1", groups: ["system:masters", "ops"])))
        #expect(authenticator.authenticate(token: "secret-bob") == .authenticated(UserInfo(name: "bob", uid: "uid-2")))
        #expect(authenticator.authenticate(token: "quoted,token") == .authenticated(UserInfo(name: "carol", uid: "uid-3", groups: ["devs"])))
        #expect(authenticator.authenticate(token: "nope") == .unknown)
    }

    @Test("token file errors name the file, line and column")
    func tokenFileErrors() {
        #expect(throws: TokenFileError(file: "t.csv", line: 2, column: 6, message: "a token line needs at least 3 columns (token,user,uid[,\"group1,group2\"]), found 2")) {
            try StaticTokenAuthenticator(parsing: "a,b,c\nt,bob\n", file: "t.csv")
        }
        #expect(throws: TokenFileError(file: "t.csv", line: 1, column: 10, message: "the quoted field is not closed; end it with a double quote (\")")) {
            try StaticTokenAuthenticator(parsing: "tok,user,\"uid", file: "t.csv")
        }
        #expect(throws: TokenFileError(file: "t.csv", line: 1, column: 5, message: "the user name is empty; put the user name in the second column")) {
            try StaticTokenAuthenticator(parsing: "tok,,uid", file: "t.csv")
        }
        do {
            _ = try StaticTokenAuthenticator(parsing: "to\"k,user,uid", file: "t.csv")
            Issue.record("a stray quote must be refused")
        } catch {
            #expect(error.description.hasPrefix("t.csv:1:3: a double quote inside an unquoted field"))
        }
    }

    @Test("a service account token authenticates as system:serviceaccount:<ns>:<name> with Kubernetes' groups")
    func serviceAccountToken() {
        let issuer = ServiceAccountTokenIssuer(signingKey: PipelineFixtures.signingKey, now: Self.clock)
        let token = issuer.issue(namespace: "build", name: "robot", uid: "sa-uid-1")
        #expect(token.split(separator: ".").count == 3)
        let authenticator = ServiceAccountTokenAuthenticator(
            signingKey: PipelineFixtures.signingKey, now: Self.clock,
            serviceAccountUID: { namespace, name in namespace == "build" && name == "robot" ? "sa-uid-1" : nil })
        guard case .authenticated(let user) = authenticator.authenticate(token: token) else {
            Issue.record("a good token must authenticate")
            return
        }
        #expect(user.name == "system:serviceaccount:build:robot")
        #expect(user.uid == "sa-uid-1")
        #expect(user.groups.contains("system:serviceaccounts"))
        #expect(user.groups.contains("system:serviceaccounts:build"))
        #expect(user.serviceAccount?.namespace == "build")
    }

    @Test("tampered, foreign-key, expired and revoked service account tokens are rejected; other tokens are unknown")
    func serviceAccountRejections() {
        let issuer = ServiceAccountTokenIssuer(signingKey: PipelineFixtures.signingKey, lifetimeSeconds: 60, now: Self.clock)
        let token = issuer.issue(namespace: "build", name: "robot", uid: "sa-uid-1")
        let authenticator = ServiceAccountTokenAuthenticator(
            signingKey: PipelineFixtures.signingKey, now: Self.clock,
            serviceAccountUID: { namespace, name in namespace == "build" && name == "robot" ? "sa-uid-1" : nil })

        // Flip one character of the signature.
        var characters = Array(token)
        characters[characters.count - 2] = characters[characters.count - 2] == "A" ? "B" : "A"
        guard case .rejected(let reason) = authenticator.authenticate(token: String(characters)) else {
            Issue.record("a tampered signature must be rejected")
            return
        }
        #expect(reason.contains("signature is invalid"))

        // Rewrite the payload to another namespace, keeping the old signature.
        let parts = token.split(separator: ".").map(String.init)
        let payload = String(decoding: Base64URL.decode(parts[1][...])!, as: UTF8.self)
        let forged = payload.replacingOccurrencesOfBuild()
        let forgedToken = parts[0] + "." + Base64URL.encode(Array(forged.utf8)) + "." + parts[2]
        #expect(authenticator.authenticate(token: forgedToken) == .rejected("the token signature is invalid (tampered, or signed with another key)"))

        // Signed with another key.
        let foreign = ServiceAccountTokenIssuer(signingKey: PipelineFixtures.otherKey, now: Self.clock).issue(namespace: "build", name: "robot", uid: "sa-uid-1")
        #expect(authenticator.authenticate(token: foreign) == .rejected("the token signature is invalid (tampered, or signed with another key)"))

        // Expired.
        let later = ServiceAccountTokenAuthenticator(signingKey: PipelineFixtures.signingKey, now: { 1_000_061 })
        guard case .rejected(let expired) = later.authenticate(token: token) else {
            Issue.record("an expired token must be rejected")
            return
        }
        #expect(expired.contains("expired 1 seconds ago"))

        // A token for a service account that exists only in another namespace (wrong namespace),
        // and one whose account was recreated with a new uid.
        let wrongNamespace = issuer.issue(namespace: "other", name: "robot", uid: "sa-uid-1")
        #expect(authenticator.authenticate(token: wrongNamespace) == .rejected("service account other/robot named by the token does not exist"))
        let recreated = issuer.issue(namespace: "build", name: "robot", uid: "old-uid")
        guard case .rejected(let revoked) = authenticator.authenticate(token: recreated) else {
            Issue.record("a token of a recreated account must be rejected")
            return
        }
        #expect(revoked.contains("deleted and recreated"))

        // Not ours at all.
        #expect(authenticator.authenticate(token: "plain-static-token") == .unknown)
        #expect(authenticator.authenticate(token: NodeTokenIssuer(signingKey: PipelineFixtures.otherKey, now: Self.clock).issue(nodeName: "n1")) == .unknown)
    }

    @Test("node credentials: a token file and signed node tokens give system:node:<name> in system:nodes")
    func nodeTokens() throws {
        let authenticator = try NodeAuthenticator(
            parsingTokenFile: "node-token-1,worker-1\nnode-token-2,worker-2\n", file: "nodes.csv",
            signingKey: PipelineFixtures.signingKey, now: Self.clock)
        #expect(authenticator.authenticate(token: "node-token-2") == .authenticated(UserInfo.node("worker-2")))
        let signed = NodeTokenIssuer(signingKey: PipelineFixtures.signingKey, now: Self.clock).issue(nodeName: "worker-3")
        guard case .authenticated(let user) = authenticator.authenticate(token: signed) else {
            Issue.record("a signed node token must authenticate")
            return
        }
        #expect(user.name == "system:node:worker-3")
        #expect(user.groups.contains("system:nodes"))
        #expect(user.nodeName == "worker-3")
        #expect(authenticator.authenticate(token: "unknown") == .unknown)
        #expect(throws: TokenFileError(file: "nodes.csv", line: 1, column: 3, message: "\"Bad_Node\" is not a node name; a node name is a DNS-1123 subdomain such as worker-1")) {
            try NodeAuthenticator(parsingTokenFile: "t,Bad_Node", file: "nodes.csv")
        }
    }

    @Test("the chain tries plugins in order, stops at a rejection, adds system:authenticated, and allows anonymous only when enabled")
    func chain() throws {
        let staticTokens = StaticTokenAuthenticator(users: ["admin-token": UserInfo(name: "admin", groups: ["system:masters"])])
        let serviceAccounts = ServiceAccountTokenAuthenticator(signingKey: PipelineFixtures.signingKey, now: Self.clock)
        let chain = AuthenticatorChain([staticTokens, serviceAccounts])
        let admin = try chain.authenticate(token: "admin-token")
        #expect(admin.groups == ["system:masters", "system:authenticated"])
        let token = ServiceAccountTokenIssuer(signingKey: PipelineFixtures.signingKey, now: Self.clock).issue(namespace: "a", name: "b", uid: "u")
        #expect(try chain.authenticate(token: token).name == "system:serviceaccount:a:b")
        #expect(throws: ApiError.unauthorized("Unauthorized: no authenticator recognizes the bearer token")) { try chain.authenticate(token: "who") }
        #expect(throws: ApiError.unauthorized("Unauthorized: the request carries no credentials (bearer token or client certificate) and anonymous access is disabled")) {
            try chain.authenticate(token: "")
        }
        #expect(throws: ApiError.unauthorized("Unauthorized: the token signature is invalid (tampered, or signed with another key)")) {
            try chain.authenticate(token: String(token.dropLast(2)) + (token.hasSuffix("AA") ? "BB" : "AA"))
        }
        let open = AuthenticatorChain([staticTokens, AnonymousAuthenticator()])
        let anonymous = try open.authenticate(token: "")
        #expect(anonymous.name == "system:anonymous")
        #expect(anonymous.groups == ["system:unauthenticated"])
    }
}

extension String {
    /// The token payload with its namespace claims moved from "build" to "other".
    fileprivate func replacingOccurrencesOfBuild() -> String {
        var output = ""
        var rest = self[...]
        while let range = rest.firstRange(of: "build") {
            output += rest[..<range.lowerBound] + "other"
            rest = rest[range.upperBound...]
        }
        return output + rest
    }
}
