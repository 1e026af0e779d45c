import Wire

/// StoreClientError is every failure a `StoreClient` call reports. Its message is written for the
/// person at the terminal: which endpoint(s), what failed, and what to do about it.
public struct StoreClientError: Error, CustomStringConvertible, Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// No endpoint could be reached or every one answered UNAVAILABLE: the request was not
        /// applied anywhere.
        case unavailable
        /// A write was sent but its answer never came (connection lost or deadline passed): it may
        /// or may not have been applied, exactly like etcd's clients report it.
        case outcomeUnknown
        /// The total timeout passed before any member answered.
        case timedOut
        /// A member answered with an error (the status code says which); retrying elsewhere
        /// would give the same answer.
        case rejected
        /// The store refused the credential.
        case unauthenticated
        /// The caller's input is wrong before anything was sent.
        case invalidArgument
        /// The caller cancelled.
        case cancelled
        /// A snapshot stream or file is damaged, or a local file operation failed.
        case snapshot
    }

    public var kind: Kind
    /// The member's status code when a member answered (`.rejected`, `.unauthenticated`).
    public var code: StatusCode?
    public var message: String
    /// The endpoints involved, in the order they were tried.
    public var endpoints: [SocketAddress]

    public init(_ kind: Kind, _ message: String, code: StatusCode? = nil, endpoints: [SocketAddress] = []) {
        self.kind = kind
        self.message = message
        self.code = code
        self.endpoints = endpoints
    }

    public var description: String { message }

    /// invalidArgument builds the error for bad input to a client method or a CLI flag.
    public static func invalidArgument(_ message: String) -> StoreClientError {
        StoreClientError(.invalidArgument, message)
    }
}

/// EndpointFailure is why one endpoint did not serve one attempt; the client folds the failures
/// of every endpoint into one `StoreClientError` message.
struct EndpointFailure: Sendable, Hashable {
    var endpoint: SocketAddress
    /// The reason without the endpoint's address in front ("connection refused").
    var reason: String

    init(endpoint: SocketAddress, error: WireError) {
        self.endpoint = endpoint
        self.reason = Self.reason(error.message, endpoint: endpoint)
    }

    init(endpoint: SocketAddress, reason: String) {
        self.endpoint = endpoint
        self.reason = reason
    }

    /// reason strips the address prefixes the wire layer puts in front of a transport error
    /// ("cannot connect to 127.0.0.1:2379: connection refused" -> "connection refused"), so that
    /// the same cause on several endpoints reads as one.
    static func reason(_ message: String, endpoint: SocketAddress) -> String {
        var text = Substring(message)
        let prefixes = ["connection to \(endpoint) lost: ", "cannot connect to \(endpoint): ", "not connected to \(endpoint): "]
        // The wire layer nests them ("connection to X lost: cannot connect to X: ..."): strip
        // until none is left; each pass shortens the text, so this ends.
        while let prefix = prefixes.first(where: { text.hasPrefix($0) }) {
            text = text.dropFirst(prefix.count)
        }
        return text.isEmpty ? message : String(text)
    }

    /// summary folds failures into "no store member answered at A, B: reason; hint", grouping
    /// endpoints that failed for the same reason and keeping the last reason per endpoint.
    static func summary(_ failures: [EndpointFailure], endpoints: [SocketAddress]) -> String {
        var lastReason: [SocketAddress: String] = [:]
        for failure in failures { lastReason[failure.endpoint] = failure.reason }
        let tried = endpoints.filter { lastReason[$0] != nil }
        guard !tried.isEmpty else {
            return "no store member answered at \(endpoints.map(\.description).joined(separator: ", "))"
        }
        var groups: [(reason: String, endpoints: [SocketAddress])] = []
        for endpoint in tried {
            let reason = lastReason[endpoint]!
            if let index = groups.firstIndex(where: { $0.reason == reason }) {
                groups[index].endpoints.append(endpoint)
            } else {
                groups.append((reason, [endpoint]))
            }
        }
        let parts = groups.map { group in
            "\(group.endpoints.map(\.description).joined(separator: ", ")): \(group.reason)"
        }
        let text = "no store member answered at " + parts.joined(separator: "; ")
        return text + "; " + hint(for: groups.map(\.reason))
    }

    /// hint says what to check for the most telling reason.
    static func hint(for reasons: [String]) -> String {
        if reasons.contains(where: { $0.contains("no leader") || $0.contains("election") || $0.contains("leader changed") }) {
            return "the cluster has no leader: are a majority of its members running? see `agentctl store status`"
        }
        if reasons.allSatisfy({ $0.contains("refused") }) {
            return "is `agentctl store run` running, and do --endpoints (or SKIFF_STORE_ENDPOINTS) name its --listen address?"
        }
        return "check that the members are running (`agentctl store status`) and that --endpoints is right"
    }
}
