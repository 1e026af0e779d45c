import Wire

/// StoreWatchEvent is what a watch delivers to its handler.
public enum StoreWatchEvent: Sendable {
    case response(WatchResponse)
    /// The watch is over: nil when the caller cancelled it or the store ended it with a canceled
    /// response (delivered just before; its `cancelReason` says why, e.g. compaction).
    case end(StoreClientError?)
}

/// StoreWatch is one running watch. Responses reach the handler on the client's loop in order.
///
/// When the stream breaks (the member went away), the watch resumes on the next endpoint from the
/// revision after the last one it delivered, with the client's failover rules; the handler sees
/// one uninterrupted sequence and only the first `created` response. It ends with an error when
/// no member takes the watch back within the request timeout.
public final class StoreWatch: @unchecked Sendable {
    // Safety of @unchecked Sendable: all mutable state is touched on `client.loop`; `cancel()`
    // hops there.

    public let request: WatchCreateRequest
    let client: StoreClient
    private let handler: (StoreWatchEvent) -> Void
    private var cursor: FailoverCursor
    private var failures: [EndpointFailure] = []
    private var stream: (token: CallToken, endpoint: Int)?
    /// The revision the next (re)opened stream starts from; 0 until the store said where it began.
    private var nextRevision: Int64
    private var createdDelivered = false
    private var resumeDeadline: UInt64 = 0
    private var pauseTimer: LoopTimer?
    private var finished = false
    private var attempt = 0

    init(client: StoreClient, request: WatchCreateRequest, handler: @escaping (StoreWatchEvent) -> Void) {
        self.client = client
        self.request = request
        self.handler = handler
        nextRevision = request.startRevision
        cursor = FailoverCursor(endpointCount: client.endpoints.count, start: 0)
    }

    /// cancel stops the watch; the handler gets `.end(nil)` unless it already ended. Any thread.
    public func cancel() {
        client.loop.execute { [self] in
            guard !finished else { return }
            finish(nil)
        }
    }

    func start() {
        client.loop.preconditionInLoop()
        cursor = FailoverCursor(endpointCount: client.endpoints.count, start: client.preferredEndpoint)
        resumeDeadline = monotonicNanoseconds() + client.options.requestTimeoutMilliseconds * 1_000_000
        open()
    }

    private func open() {
        guard !finished else { return }
        attempt += 1
        let attemptNumber = attempt
        let index = cursor.current
        let connection = client.connection(index)
        connection.whenReady { [self] error in
            guard !finished, attempt == attemptNumber else { return }
            if let error {
                return streamFailed(index, error, answeredByMember: false)
            }
            var create = request
            create.startRevision = nextRevision
            let token = CallToken()
            stream = (token, index)
            connection.client.openStream("store.Watch", create.protobufBytes(), token: token) { [self] event in
                guard !finished, stream?.token === token else { return }
                switch event {
                case .item(let bytes):
                    received(bytes, endpoint: index)
                case .end(nil):
                    stream = nil
                    finish(nil)
                case .end(let error?):
                    stream = nil
                    streamFailed(index, error, answeredByMember: true)
                }
            }
        }
    }

    private func received(_ bytes: [UInt8], endpoint: Int) {
        let response: WatchResponse
        do {
            response = try WatchResponse(protobuf: bytes)
        } catch {
            let address = client.endpoints[endpoint]
            return finish(StoreClientError(.rejected, "store.Watch at \(address): an answer is not a valid WatchResponse: \(error)", code: .internal, endpoints: [address]))
        }
        // A stream that delivers is healthy again: the next break gets a fresh timeout.
        failures.removeAll()
        resumeDeadline = monotonicNanoseconds() + client.options.requestTimeoutMilliseconds * 1_000_000
        client.preferredEndpoint = endpoint
        if let revision = response.header?.revision, response.created, nextRevision == 0 {
            nextRevision = revision + 1
        }
        for event in response.events {
            if let modified = event.kv?.modRevision, modified >= nextRevision { nextRevision = modified + 1 }
        }
        if response.created {
            if createdDelivered { return }
            createdDelivered = true
        }
        handler(.response(response))
        if response.canceled { finish(nil) }
    }

    private func streamFailed(_ index: Int, _ error: WireError, answeredByMember: Bool) {
        let endpoint = client.endpoints[index]
        switch error.code {
        case .unavailable, .deadlineExceeded:
            failures.append(EndpointFailure(endpoint: endpoint, error: error))
        case .unauthenticated, .permissionDenied:
            return finish(StoreClientError(
                .unauthenticated,
                "the store member at \(endpoint) refused the credential (\(error.message)); use the cluster's store token",
                code: error.code, endpoints: [endpoint]))
        default:
            let kind: StoreClientError.Kind = client.isClosed ? .cancelled : .rejected
            return finish(StoreClientError(kind, "store.Watch at \(endpoint): \(error.message)", code: error.code, endpoints: [endpoint]))
        }
        let pause = cursor.advance(
            hint: answeredByMember ? client.leaderHint(error.message) : nil,
            initialDelayMilliseconds: client.options.retryInitialDelayMilliseconds,
            maximumDelayMilliseconds: client.options.retryMaximumDelayMilliseconds)
        let now = monotonicNanoseconds()
        guard resumeDeadline > now + pause * 1_000_000 else {
            return finish(StoreClientError(
                .unavailable, "watch: " + EndpointFailure.summary(failures, endpoints: client.endpoints),
                code: .unavailable, endpoints: client.endpoints))
        }
        if pause == 0 { return open() }
        if pauseTimer == nil { pauseTimer = LoopTimer(loop: client.loop) }
        pauseTimer!.arm(milliseconds: pause) { [unowned self] in self.open() }
    }

    private func finish(_ error: StoreClientError?) {
        guard !finished else { return }
        finished = true
        if let stream {
            client.connection(stream.endpoint).client.cancel(stream.token)
            self.stream = nil
        }
        pauseTimer?.cancel()
        pauseTimer = nil
        handler(.end(error))
    }
}

extension StoreClient {
    /// watch starts a watch; `handler` runs on the client's loop for every response and once for
    /// the end. Keep the handler short: it runs on the loop every request of this client shares.
    @discardableResult
    public func watch(_ request: WatchCreateRequest, handler: @escaping (StoreWatchEvent) -> Void) -> StoreWatch {
        let watch = StoreWatch(client: self, request: request, handler: handler)
        if loop.inLoop {
            watch.start()
        } else {
            loop.execute { watch.start() }
        }
        return watch
    }

    /// watch(key:) watches one key, or every key under it with `prefix`.
    @discardableResult
    public func watch(
        key: [UInt8], prefix: Bool = false, startRevision: Int64 = 0, previousKeyValue: Bool = false,
        handler: @escaping (StoreWatchEvent) -> Void
    ) -> StoreWatch {
        var request = WatchCreateRequest(key: key, startRevision: startRevision, prevKv: previousKeyValue)
        if prefix {
            let interval = StoreKeys.prefixInterval(key)
            request.key = interval.key
            request.rangeEnd = interval.rangeEnd
        }
        return watch(request, handler: handler)
    }

    /// watchResponses adapts a watch to an AsyncSequence. The buffer between the loop and the
    /// consuming task holds at most `bufferLimit` responses; a consumer that falls further behind
    /// gets an error rather than silently missing events (it can watch again from the revision it
    /// last saw). Ending the iteration cancels the watch.
    public func watchResponses(_ request: WatchCreateRequest, bufferLimit: Int = 10_000) -> AsyncThrowingStream<WatchResponse, any Error> {
        precondition(bufferLimit > 0)
        let (stream, continuation) = AsyncThrowingStream<WatchResponse, any Error>.makeStream(
            bufferingPolicy: .bufferingOldest(bufferLimit))
        let watch = self.watch(request) { event in
            switch event {
            case .response(let response):
                if case .dropped = continuation.yield(response) {
                    continuation.finish(throwing: StoreClientError(
                        .rejected,
                        "watch: the consumer fell \(bufferLimit) responses behind; watch again from the last revision it processed",
                        code: .resourceExhausted))
                }
            case .end(nil):
                continuation.finish()
            case .end(let error?):
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in watch.cancel() }
        return stream
    }
}
