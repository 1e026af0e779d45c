#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// TokenClaims are the claims of a token the API server signs: a flat JSON object of string and
/// integer values, as in Kubernetes' legacy service-account tokens.
public struct TokenClaims: Sendable, Hashable {
    public var strings: [String: String] = [:]
    public var integers: [String: Int64] = [:]

    public init(strings: [String: String] = [:], integers: [String: Int64] = [:]) {
        self.strings = strings
        self.integers = integers
    }

    public subscript(string key: String) -> String? { strings[key] }
    public subscript(integer key: String) -> Int64? { integers[key] }
}

/// SignedTokenCodec writes and checks JWT-shaped tokens `header.payload.signature` (base64url,
/// no padding) whose signature is HMAC-SHA256 over `header.payload` with the cluster's signing
/// key (JWS "HS256"). The header repeats the issuer (RFC 7519 section 5.3 allows claims in the
/// header), so each codec recognises its own tokens before checking anything: a token with
/// another header is someone else's (`.notOurs`), and the service-account and node
/// authenticators can use different keys without refusing each other's tokens.
///
/// The signing key must stay secret: anyone holding it can mint tokens for any service account
/// or node. It is at least 32 bytes.
public struct SignedTokenCodec: Sendable {
    /// The header this codec writes for an issuer; its exact bytes mark a token as ours.
    public static func header(issuer: String) -> String {
        #"{"alg":"HS256","iss":"# + FlatJSON.quote(issuer) + #","typ":"JWT"}"#
    }
    /// The upper bound on a token's length; longer bearer tokens are not ours.
    public static let maximumTokenLength = 8192

    private let key: [UInt8]
    private let encodedHeader: String

    public let issuer: String

    public init(signingKey: [UInt8], issuer: String) {
        precondition(signingKey.count >= 32, "the token signing key must have at least 32 bytes")
        self.key = signingKey
        self.issuer = issuer
        self.encodedHeader = Base64URL.encode(Array(Self.header(issuer: issuer).utf8))
    }

    public enum Verification: Sendable, Hashable {
        /// Not a token this codec wrote.
        case notOurs
        /// Shaped like ours but failing a check; the reason says which.
        case invalid(String)
        /// A good signature over these claims (expiry not yet checked).
        case valid(TokenClaims)
    }

    public func sign(_ claims: TokenClaims) -> String {
        let signingInput = encodedHeader + "." + Base64URL.encode(Array(FlatJSON.encode(claims).utf8))
        let signature = HMACSHA256.authenticationCode(key: key, message: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }

    /// The claims of a token this codec wrote with this key. The payload is decoded only
    /// after the signature checks out, so nothing unsigned is ever parsed as claims.
    public func verify(_ token: String) -> Verification {
        guard token.utf8.count <= Self.maximumTokenLength else { return .notOurs }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == encodedHeader else { return .notOurs }
        guard let signature = Base64URL.decode(parts[2]) else { return .invalid("the token signature is not base64url") }
        let signingInput = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        let expected = HMACSHA256.authenticationCode(key: key, message: signingInput)
        guard HMACSHA256.constantTimeEqual(signature, expected) else {
            return .invalid("the token signature is invalid (tampered, or signed with another key)")
        }
        guard let payload = Base64URL.decode(parts[1]), let claims = FlatJSON.decode(payload) else {
            return .invalid("the token payload is not a flat JSON object")
        }
        return .valid(claims)
    }

    /// Seconds since the Unix epoch, the clock tokens are issued and checked against by default.
    public static func wallClockSeconds() -> Int64 {
        Int64(time(nil))
    }
}

/// FlatJSON reads and writes JSON objects whose values are strings or integers, which is all a
/// token's claims need.
enum FlatJSON {
    static func encode(_ claims: TokenClaims) -> String {
        var members: [(String, String)] = []
        for (key, value) in claims.strings { members.append((key, quote(value))) }
        for (key, value) in claims.integers { members.append((key, String(value))) }
        members.sort { $0.0 < $1.0 }
        return "{" + members.map { quote($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    static func quote(_ text: String) -> String {
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        return output + "\""
    }

    static func decode(_ bytes: [UInt8]) -> TokenClaims? {
        var reader = Reader(bytes: bytes)
        return reader.object()
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[index]) { index += 1 }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func object() -> TokenClaims? {
            var claims = TokenClaims()
            guard consume(UInt8(ascii: "{")) else { return nil }
            if consume(UInt8(ascii: "}")) { return end(claims) }
            repeat {
                skipSpace()
                guard let key = string(), consume(UInt8(ascii: ":")) else { return nil }
                skipSpace()
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: "\"") {
                    guard let value = string() else { return nil }
                    claims.strings[key] = value
                } else {
                    guard let value = integer() else { return nil }
                    claims.integers[key] = value
                }
            } while consume(UInt8(ascii: ","))
            guard consume(UInt8(ascii: "}")) else { return nil }
            return end(claims)
        }

        mutating func end(_ claims: TokenClaims) -> TokenClaims? {
            skipSpace()
            return index == bytes.count ? claims : nil
        }

        mutating func integer() -> Int64? {
            let start = index
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
            return Int64(String(decoding: bytes[start..<index], as: UTF8.self))
        }

        mutating func string() -> String? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            index += 1
            var output: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\"") {
                    return String(validating: output, as: UTF8.self)
                }
                guard byte == UInt8(ascii: "\\") else {
                    output.append(byte)
                    continue
                }
                guard index < bytes.count else { return nil }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escaped)
                case UInt8(ascii: "n"): output.append(0x0a)
                case UInt8(ascii: "r"): output.append(0x0d)
                case UInt8(ascii: "t"): output.append(0x09)
                case UInt8(ascii: "b"): output.append(0x08)
                case UInt8(ascii: "f"): output.append(0x0c)
                case UInt8(ascii: "u"):
                    guard index + 4 <= bytes.count,
                        let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16),
                        let scalar = Unicode.Scalar(value)
                    else { return nil }
                    index += 4
                    output.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    return nil
                }
            }
            return nil
        }
    }
}
