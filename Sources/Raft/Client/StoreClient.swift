import Wire

/// StoreClient is the Swift client of Skiff's store, used by the API server and `agentctl store`.
/// It holds one `WireClient` per endpoint (connected on first use) and gives typed async methods
/// for every method of proto/store/cluster.proto.
///
/// Failover: a request that fails on one endpoint in a way that guarantees it was not applied
/// (the connection could not be made, or the member answered UNAVAILABLE: no leader yet, not the
/// leader, leader changed before commit) is retried on the next endpoint, every endpoint once per
/// round with a capped exponential pause between rounds, until `requestTimeoutMilliseconds` is
/// spent. A write whose connection was lost after sending, or whose deadline passed, is reported
/// as `.outcomeUnknown`: it may have been applied, and retrying could apply it twice (etcd's
/// clients report it the same way). Reads, status and keep-alives are safe to repeat and are
/// retried on every transport failure.
///
/// Threading: every piece of mutable state lives on `loop`; the async methods hop there once per
/// request and the continuation is resumed from the loop.
public final class StoreClient: @unchecked Sendable {
    // Safety of @unchecked Sendable: `connections` and `preferredEndpoint` are touched on `loop`
    // only (every entry point goes through loop.execute or checks preconditionInLoop).

    public struct Options: Sendable {
        /// Total time for one request, failover included.
        public var requestTimeoutMilliseconds: UInt64 = 5000
        /// Pause after a round in which every endpoint failed, doubled per round up to the maximum.
        public var retryInitialDelayMilliseconds: UInt64 = 50
        public var retryMaximumDelayMilliseconds: UInt64 = 1000
        public var keepaliveIntervalMilliseconds: UInt64 = 5000
        /// Largest frame accepted from a member (a range answer can be large).
        public var maximumFrameBytes: Int = 64 << 20

        public init() {}
    }

    /// RetryPolicy says which failures a request may be repeated after.
    enum RetryPolicy {
        /// Repeating changes nothing (reads, status, keep-alive): retry after any transport failure.
        case idempotent
        /// Retry only when the request surely was not applied.
        case write
    }

    public let endpoints: [SocketAddress]
    public let loop: EventLoop
    public let options: Options
    let configuration: ClientConfiguration
    private let ownsLoop: Bool
    private var connections: [EndpointConnection?]
    /// The endpoint that answered last: later requests start there.
    var preferredEndpoint = 0
    private var closed = false

    /// Creates a client; nothing connects until the first request. With `loop` nil the client
    /// runs its own event loop thread, stopped by `close()`.
    public init(
        endpoints: [SocketAddress], credential: String, component: String = "store-client",
        identity: String, loop: EventLoop? = nil, options: Options = Options()
    ) {
        precondition(!endpoints.isEmpty, "StoreClient needs at least one endpoint")
        self.endpoints = endpoints
        self.options = options
        self.ownsLoop = loop == nil
        self.loop = loop ?? EventLoop(name: "store-client")
        var configuration = ClientConfiguration(component: component, identity: identity, credential: credential)
        configuration.keepaliveIntervalMilliseconds = options.keepaliveIntervalMilliseconds
        configuration.limits.maximumFrameBytes = options.maximumFrameBytes
        self.configuration = configuration
        connections = Array(repeating: nil, count: endpoints.count)
    }

    /// close ends every connection (calls in flight fail with `.cancelled`) and, when the client
    /// made its own loop, stops it. Call it from outside the loop.
    public func close() async {
        await loop.submit {
            self.closed = true
            for connection in self.connections { connection?.close() }
        }
        if ownsLoop { loop.shutdown() }
    }

    func connection(_ index: Int) -> EndpointConnection {
        loop.preconditionInLoop()
        if let existing = connections[index] { return existing }
        let made = EndpointConnection(loop: loop, address: endpoints[index], configuration: configuration)
        connections[index] = made
        return made
    }

    var isClosed: Bool {
        loop.preconditionInLoop()
        return closed
    }

    // MARK: Requests

    /// unary sends one request with failover and decodes the answer.
    nonisolated(nonsending) func unary<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: String, _ request: Request, as: Response.Type = Response.self, policy: RetryPolicy,
        endpoint: Int? = nil
    ) async throws(StoreClientError) -> Response {
        try await unary(method, encoded: request.protobufBytes(), as: Response.self, policy: policy, endpoint: endpoint)
    }

    /// unary with the request already encoded (`payload`, the protobuf of the method's request).
    nonisolated(nonsending) func unary<Response: ProtoMessage>(
        _ method: String, encoded payload: [UInt8], as: Response.Type = Response.self, policy: RetryPolicy,
        endpoint: Int? = nil
    ) async throws(StoreClientError) -> Response {
        let state = UnaryRequest.CancelBox()
        let result: Result<[UInt8], StoreClientError> = await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                let send: @Sendable () -> Void = { [self] in
                    let unary = UnaryRequest(
                        client: self, method: method, payload: payload, policy: policy, onlyEndpoint: endpoint
                    ) { continuation.resume(returning: $0) }
                    state.attach(unary)
                    unary.start()
                }
                // A caller on the loop (the API server's requests) sends at once.
                if loop.inLoop { send() } else { loop.execute(send) }
            }
        } onCancel: {
            loop.execute { state.cancel() }
        }
        let bytes = try result.get()
        do {
            return try bytes.withUnsafeBytes { raw throws(ProtoDecodingError) in try Response(protobuf: raw) }
        } catch {
            throw StoreClientError(.rejected, "\(method): the member's answer is not a valid \(Response.self): \(error)", code: .internal)
        }
    }

    /// leaderHint finds the endpoint a member named in "this member is not the leader; the leader
    /// is NAME at HOST:PORT", when it is one of ours.
    func leaderHint(_ message: String) -> Int? {
        guard let afterLeader = message.suffix(after: "the leader is "),
            let afterAt = afterLeader.suffix(after: " at ")
        else { return nil }
        let addressText = afterAt.prefix { $0 != " " && $0 != ";" && $0 != "," && $0 != ")" }
        guard let address = try? SocketAddress(parsing: String(addressText)) else { return nil }
        return endpoints.firstIndex(of: address)
    }
}

extension StringProtocol {
    /// suffix(after:) is the text after the first occurrence of `marker`, or nil (Raft does not
    /// import Foundation, whose `range(of:)` this replaces).
    func suffix(after marker: String) -> SubSequence? {
        let text = Array(utf8)
        let pattern = Array(marker.utf8)
        guard !pattern.isEmpty, text.count >= pattern.count else { return nil }
        for start in 0...(text.count - pattern.count) where text[start..<start + pattern.count].elementsEqual(pattern) {
            let index = utf8.index(utf8.startIndex, offsetBy: start + pattern.count)
            return self[index...]
        }
        return nil
    }
}

/// UnaryRequest is one request's life on the loop: wait for an endpoint's connection, send, and
/// on failure decide between the next endpoint, a pause, or giving up.
final class UnaryRequest {
    /// CancelBox carries the task's cancellation to the request once it exists on the loop.
    final class CancelBox: @unchecked Sendable {
        // Safety of @unchecked Sendable: attach and cancel both run on the client's loop.
        private var request: UnaryRequest?
        private var cancelled = false
        func attach(_ request: UnaryRequest) {
            self.request = request
            if cancelled { request.cancel() }
        }
        func cancel() {
            cancelled = true
            request?.cancel()
        }
    }

    let client: StoreClient
    let method: String
    let payload: [UInt8]
    let policy: StoreClient.RetryPolicy
    /// Set for requests about one member (status): no failover to another.
    let onlyEndpoint: Int?
    let deadline: UInt64
    private var cursor: FailoverCursor
    private var failures: [EndpointFailure] = []
    private var attempt = 0
    private var inFlight: (token: CallToken, endpoint: Int)?
    private var finished = false
    private var deadlineTimer: LoopTimer?
    private var pauseTimer: LoopTimer?
    private let completion: (Result<[UInt8], StoreClientError>) -> Void

    init(
        client: StoreClient, method: String, payload: [UInt8], policy: StoreClient.RetryPolicy,
        onlyEndpoint: Int?, completion: @escaping (Result<[UInt8], StoreClientError>) -> Void
    ) {
        self.client = client
        self.method = method
        self.payload = payload
        self.policy = policy
        self.onlyEndpoint = onlyEndpoint
        self.completion = completion
        deadline = monotonicNanoseconds() + client.options.requestTimeoutMilliseconds * 1_000_000
        cursor = FailoverCursor(
            endpointCount: client.endpoints.count, start: onlyEndpoint ?? client.preferredEndpoint)
    }

    func start() {
        client.loop.preconditionInLoop()
        if client.isClosed {
            return finish(.failure(StoreClientError(.cancelled, "\(method): the store client is closed")))
        }
        let timer = LoopTimer(loop: client.loop)
        timer.arm(milliseconds: client.options.requestTimeoutMilliseconds) { [unowned self] in self.deadlinePassed() }
        deadlineTimer = timer
        tryCurrentEndpoint()
    }

    func cancel() {
        guard !finished else { return }
        if let inFlight { client.connection(inFlight.endpoint).client.cancel(inFlight.token) }
        finish(.failure(StoreClientError(.cancelled, "\(method): cancelled by the caller")))
    }

    private var remainingMilliseconds: UInt64 {
        let now = monotonicNanoseconds()
        return deadline > now ? (deadline - now) / 1_000_000 : 0
    }

    private func tryCurrentEndpoint() {
        guard !finished else { return }
        attempt += 1
        let attemptNumber = attempt
        let index = cursor.current
        let connection = client.connection(index)
        connection.whenReady { [self] error in
            guard !finished, attempt == attemptNumber else { return }
            if let error {
                failedBeforeSending(index, error)
            } else {
                send(index, connection)
            }
        }
    }

    private func send(_ index: Int, _ connection: EndpointConnection) {
        let remaining = remainingMilliseconds
        guard remaining > 0 else { return deadlinePassed() }
        let token = CallToken()
        let generation = connection.generation
        inFlight = (token, index)
        // The connection is ready and we are on its loop: `start` writes the request in this
        // turn, or fails synchronously without sending.
        connection.client.start(method, payload, timeoutMilliseconds: UInt32(min(remaining, UInt64(UInt32.max))), token: token) {
            [self] result in
            guard !finished, inFlight?.token === token else { return }
            inFlight = nil
            switch result {
            case .success(let bytes):
                client.preferredEndpoint = index
                finish(.success(bytes))
            case .failure(let error):
                // A lost connection fails its calls before it changes state: look after the turn.
                client.loop.onTurnEnd { [self] in
                    guard !finished else { return }
                    let lost = connection.generation != generation
                    failedAfterSending(index, error, connectionLost: lost)
                }
            }
        }
    }

    private func failedBeforeSending(_ index: Int, _ error: WireError) {
        let endpoint = client.endpoints[index]
        switch error.code {
        case .unauthenticated, .permissionDenied:
            finish(.failure(StoreClientError(
                .unauthenticated,
                "the store member at \(endpoint) refused the credential (\(error.message)); use the cluster's store token: --token-file FILE, --token, or SKIFF_STORE_TOKEN",
                code: error.code, endpoints: [endpoint])))
        case .cancelled where client.isClosed:
            finish(.failure(StoreClientError(.cancelled, "\(method): the store client is closed")))
        default:
            failures.append(EndpointFailure(endpoint: endpoint, error: error))
            moveOn(hint: nil)
        }
    }

    private func failedAfterSending(_ index: Int, _ error: WireError, connectionLost: Bool) {
        let endpoint = client.endpoints[index]
        let transportFailure = connectionLost || Self.isRelayedTransportFailure(error)
        switch error.code {
        case .unavailable where !transportFailure:
            // The member's own answer: the request was not applied; try the leader it named.
            failures.append(EndpointFailure(endpoint: endpoint, error: error))
            moveOn(hint: client.leaderHint(error.message))
        case .unavailable, .deadlineExceeded, .cancelled:
            if error.code == .cancelled && client.isClosed {
                return finish(.failure(StoreClientError(.cancelled, "\(method): the store client is closed")))
            }
            if policy == .idempotent && error.code != .deadlineExceeded {
                failures.append(EndpointFailure(endpoint: endpoint, error: error))
                return moveOn(hint: nil)
            }
            if policy == .idempotent {
                return deadlinePassed()
            }
            finish(.failure(StoreClientError(
                .outcomeUnknown,
                "\(method) was sent to \(endpoint) but no answer came (\(EndpointFailure(endpoint: endpoint, error: error).reason)); the write may or may not have been applied: read the key(s) to find out before retrying",
                code: error.code, endpoints: [endpoint])))
        case .unauthenticated, .permissionDenied:
            failedBeforeSending(index, error)
        default:
            finish(.failure(StoreClientError(
                .rejected, "\(method) at \(endpoint): \(error.message)", code: error.code, endpoints: [endpoint])))
        }
    }

    /// isRelayedTransportFailure spots a member relaying its own lost connection to the leader
    /// (a forwarded write): the leader may have applied it, so it must not count as "not applied".
    static func isRelayedTransportFailure(_ error: WireError) -> Bool {
        error.code == .unavailable && error.message.hasPrefix("connection to ") && error.message.contains(" lost")
    }

    private func moveOn(hint: Int?) {
        guard !finished else { return }
        if onlyEndpoint != nil {
            return giveUp()
        }
        let pause = cursor.advance(
            hint: hint, initialDelayMilliseconds: client.options.retryInitialDelayMilliseconds,
            maximumDelayMilliseconds: client.options.retryMaximumDelayMilliseconds)
        guard remainingMilliseconds > pause else { return giveUp() }
        if pause == 0 { return tryCurrentEndpoint() }
        // Jitter up to a quarter keeps many clients from retrying in lockstep.
        let jittered = pause + UInt64.random(in: 0...(pause / 4))
        if pauseTimer == nil { pauseTimer = LoopTimer(loop: client.loop) }
        pauseTimer!.arm(milliseconds: jittered) { [unowned self] in self.tryCurrentEndpoint() }
    }

    private func deadlinePassed() {
        guard !finished else { return }
        if let inFlight {
            client.connection(inFlight.endpoint).client.cancel(inFlight.token)
            let endpoint = client.endpoints[inFlight.endpoint]
            if policy == .write {
                return finish(.failure(StoreClientError(
                    .outcomeUnknown,
                    "\(method) was sent to \(endpoint) but no answer came within \(client.options.requestTimeoutMilliseconds) ms; the write may or may not have been applied: read the key(s) to find out before retrying (--timeout raises the limit)",
                    code: .deadlineExceeded, endpoints: [endpoint])))
            }
            failures.append(EndpointFailure(endpoint: endpoint, reason: "no answer within \(client.options.requestTimeoutMilliseconds) ms"))
        }
        giveUp()
    }

    private func giveUp() {
        let tried = onlyEndpoint.map { [client.endpoints[$0]] } ?? client.endpoints
        if failures.isEmpty {
            return finish(.failure(StoreClientError(
                .timedOut,
                "\(method): no store member answered at \(tried.map(\.description).joined(separator: ", ")) within \(client.options.requestTimeoutMilliseconds) ms; check that the members are running (`agentctl store status`), or raise --timeout",
                code: .deadlineExceeded, endpoints: tried)))
        }
        finish(.failure(StoreClientError(
            .unavailable, EndpointFailure.summary(failures, endpoints: tried), code: .unavailable, endpoints: tried)))
    }

    private func finish(_ result: Result<[UInt8], StoreClientError>) {
        guard !finished else { return }
        finished = true
        inFlight = nil
        deadlineTimer?.cancel()
        deadlineTimer = nil
        pauseTimer?.cancel()
        pauseTimer = nil
        completion(result)
    }
}
