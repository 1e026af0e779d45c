import CLibUV
import Logging

/// ClientConfiguration is who a client says it is and how it behaves when the server goes away.
public struct ClientConfiguration: Sendable {
    public var component: String
    public var identity: String
    /// Bearer token presented in the handshake.
    public var credential: String
    public var limits = TCPConnectionLimits()
    /// A ping goes out after this long without sending; the connection is declared dead when
    /// nothing at all arrives for twice this long.
    public var keepaliveIntervalMilliseconds: UInt64 = 5000
    /// Reconnect back-off: the first delay, doubled per failed attempt up to the maximum, with
    /// up to 25% random jitter so that many clients do not return in lockstep.
    public var reconnectInitialDelayMilliseconds: UInt64 = 50
    public var reconnectMaximumDelayMilliseconds: UInt64 = 3000
    /// Calls accepted while not connected wait for the connection (true) or fail at once with
    /// UNAVAILABLE (false). Waiting calls still honour their own deadlines.
    public var waitForReady = true
    /// Calls waiting for a connection at once; more fail with RESOURCE_EXHAUSTED.
    public var maximumWaitingCalls = 65_536

    public init(component: String, identity: String, credential: String) {
        self.component = component
        self.identity = identity
        self.credential = credential
    }
}

/// ClientStreamEvent is what a server stream delivers to its handler.
public enum ClientStreamEvent: Sendable {
    case item([UInt8])
    /// The stream is over: `nil` when the server finished it normally.
    case end(WireError?)
}

/// WireClient holds one connection to a server: handshake, multiplexed calls and streams,
/// deadlines, keepalive and reconnection with capped exponential back-off.
///
/// The callback API (`start(...)`, `openStream(...)`) runs handlers on the loop thread and costs
/// no task switch; the async API (`call`) is built on it. A task that prefers the client's loop
/// as its executor (`withTaskExecutorPreference(client.loop.taskExecutor)`) resumes without any hop.
public final class WireClient: @unchecked Sendable {
    // Safety of @unchecked Sendable: the mutable state is touched on `loop` only; public entry
    // points either check preconditionInLoop() or hop with loop.execute.

    public let loop: EventLoop
    public let address: SocketAddress
    public let configuration: ClientConfiguration
    let logger: Logger

    public enum State: Sendable, Equatable {
        case idle, connecting, handshaking, ready, waitingToReconnect, closed
    }

    public private(set) var state: State = .idle
    /// What the last connection ended with, for error messages.
    public private(set) var lastError: WireError?
    /// Called on the loop whenever the state changes.
    public var onStateChange: ((State) -> Void)?

    private var tcp: TCPConnection? {
        didSet { unmanagedTCP = tcp.map { Unmanaged.passUnretained($0) } }
    }
    /// `tcp` without its reference count: the request path calls the connection through
    /// `_withUnsafeGuaranteedRef`, which retains nothing, while `tcp` keeps it alive.
    private var unmanagedTCP: Unmanaged<TCPConnection>?
    private var nextStreamID: UInt64 = 1
    /// Calls sent and not yet answered, by stream id.
    private var pendingCalls = StreamTable<PendingCall>()
    private var waiting: [Waiting] = []
    private var deadlines = DeadlineQueue()
    private var deadlineTimer: LoopTimer?
    private var keepaliveTimer: LoopTimer?
    private var reconnectTimer: LoopTimer?
    private var failedAttempts = 0
    /// Set by every send, cleared by the keepalive tick: pings go out only on idle connections
    /// (a flag instead of a timestamp keeps the clock off the per-frame path).
    private var sentSinceKeepaliveTick = false
    /// Loop time (milliseconds, `uv_now`) of the last frame received: libuv read the clock for
    /// this turn already, so a read batch costs no clock read.
    private var lastReceivedAtMilliseconds: UInt64 = 0
    /// Loop time of the last keepalive tick (of arming the timer, before the first).
    private var lastKeepaliveTickMilliseconds: UInt64 = 0
    private var serverLimits = HandshakeAck()
    private var random = SplitMix64(seed: monotonicNanoseconds())
    private var readyWaiters: [(Result<Void, WireError>) -> Void] = []
    /// The method of the last request and its encoded method field (`Frame.requestMethodField`),
    /// in memory of the client's own so that reading it per request retains nothing.
    private var requestMethod = ""
    private var requestMethodField = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    private enum Pending {
        case unary((Result<[UInt8], WireError>) -> Void)
        /// A call of the borrowing API: the answer is read in place.
        case borrowing(BorrowedCompletion)
        case stream((ClientStreamEvent) -> Void)
        /// A call of the async API: the call object holds the continuation (and is the token).
        case async(AsyncUnaryCall)
    }

    private struct PendingCall {
        var handler: Pending
        /// The token the call was started with, so that a stale token (its call finished and the
        /// stream id was reused after a reconnect) cannot cancel somebody else's call.
        var token: CallToken?
    }

    private struct Waiting {
        var token: CallToken?
        var method: String
        var payload: [UInt8]
        var deadline: UInt64?
        var isStream: Bool
        var handler: Pending
    }

    deinit {
        requestMethodField.deallocate()
    }

    public init(
        loop: EventLoop, address: SocketAddress, configuration: ClientConfiguration,
        logger: Logger = Logger(label: "skiff.wire.client")
    ) {
        self.loop = loop
        self.address = address
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: Public API

    /// Makes a unary call and waits for its answer.
    ///
    /// `nonisolated(nonsending)`: the call runs on the caller's executor instead of hopping to
    /// the generic one on entry and back on return; for a task that prefers the client's loop,
    /// each such hop cost a look-up of the preferred executor under the task's status lock.
    nonisolated(nonsending)
    public func call(
        _ method: String, _ payload: [UInt8], timeoutMilliseconds: UInt32 = 0
    ) async throws(WireError) -> [UInt8] {
        // One object is the token, the pending entry and the holder of the continuation: one
        // allocation per call, no closure.
        let call = AsyncUnaryCall()
        let result: Result<[UInt8], WireError> = await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                call.continuation = continuation
                if loop.inLoop {
                    payload.withUnsafeBytes { bytes in
                        submit(method, bytes, timeoutMilliseconds: timeoutMilliseconds, token: call,
                               isStream: false, handler: .async(call))
                    }
                } else {
                    loop.execute { [self] in
                        payload.withUnsafeBytes { bytes in
                            submit(method, bytes, timeoutMilliseconds: timeoutMilliseconds, token: call,
                                   isStream: false, handler: .async(call))
                        }
                    }
                }
            }
        } onCancel: {
            loop.execute { [self] in cancel(call) }
        }
        return try result.get()
    }

    /// Makes a unary call with typed messages.
    nonisolated(nonsending)
    public func call<Request: ProtoMessage, Response: ProtoMessage>(
        _ method: String, _ request: Request, as: Response.Type = Response.self,
        timeoutMilliseconds: UInt32 = 0
    ) async throws(WireError) -> Response {
        let bytes = try await call(method, request.protobufBytes(), timeoutMilliseconds: timeoutMilliseconds)
        do {
            return try bytes.withUnsafeBytes { raw throws(ProtoDecodingError) in try Response(protobuf: raw) }
        } catch {
            throw WireError(.internal, "\(method): answer is not a valid \(Response.self): \(error)")
        }
    }

    /// Starts a unary call from the loop thread; `completion` runs on the loop exactly once.
    /// Pass a `token` to be able to cancel the call.
    public func start(
        _ method: String, _ payload: [UInt8], timeoutMilliseconds: UInt32 = 0,
        token: CallToken? = nil, completion: @escaping (Result<[UInt8], WireError>) -> Void
    ) {
        loop.preconditionInLoop()
        payload.withUnsafeBytes { bytes in
            submit(method, bytes, timeoutMilliseconds: timeoutMilliseconds, token: token,
                   isStream: false, handler: .unary(completion))
        }
    }

    /// Starts a unary call from the loop thread without copying either payload: the request is
    /// encoded from `payload` straight into the connection's outbound buffer before this
    /// returns, and `completion` reads the answer in place in the read buffer. It runs on the
    /// loop exactly once; the answer's bytes are valid only until it returns, so copy what you
    /// keep. Deadlines, cancellation (`token`), waiting for a connection and errors behave as
    /// for `start(_:_:completion:)`; a call that has to wait for a connection keeps a copy of
    /// its request meanwhile.
    public func start(
        _ method: String, payload: UnsafeRawBufferPointer, timeoutMilliseconds: UInt32 = 0,
        token: CallToken? = nil, borrowing completion: consuming @escaping BorrowedCompletion
    ) {
        loop.preconditionInLoop()
        // Consumed all the way into the call table: the caller's reference is the table's.
        if state == .ready && token == nil && timeoutMilliseconds == 0 {
            // The hot path: nothing to check before sending.
            send(method, payload, deadline: nil, token: nil, isStream: false, handler: .borrowing(consume completion))
            return
        }
        submit(method, payload, timeoutMilliseconds: timeoutMilliseconds, token: token,
               isStream: false, handler: .borrowing(consume completion))
    }

    /// Opens a server stream from the loop thread; `handler` runs on the loop for each item and
    /// once for the end. Returns the token that cancels it.
    @discardableResult
    public func openStream(
        _ method: String, _ payload: [UInt8], token: CallToken = CallToken(),
        handler: @escaping (ClientStreamEvent) -> Void
    ) -> CallToken {
        loop.preconditionInLoop()
        payload.withUnsafeBytes { bytes in
            submit(method, bytes, timeoutMilliseconds: 0, token: token, isStream: true, handler: .stream(handler))
        }
        return token
    }

    /// Cancels a call or stream: the server is told, the handler gets CANCELLED.
    public func cancel(_ token: CallToken) {
        loop.preconditionInLoop()
        token.cancelled = true
        if let index = waiting.firstIndex(where: { $0.token === token }) {
            let entry = waiting.remove(at: index)
            Self.finish(entry.handler, WireError(.cancelled, "\(entry.method): cancelled by the caller"))
            return
        }
        guard let streamID = token.streamID, pendingCalls[streamID]?.token === token,
            let pending = pendingCalls.removeValue(forKey: streamID)?.handler
        else {
            return
        }
        var envelope = Envelope()
        envelope.streamID = streamID
        envelope.kind = .cancel
        send(envelope)
        Self.finish(pending, WireError(.cancelled, "cancelled by the caller"))
    }

    /// Connects now rather than at the first call.
    public func connect() {
        loop.preconditionInLoop()
        if state == .idle || state == .waitingToReconnect { attemptConnection() }
    }

    /// Waits until the client is connected and the handshake is done.
    public func waitUntilReady(timeoutMilliseconds: UInt64 = 10_000) async throws(WireError) {
        let result: Result<Void, WireError> = await withUnsafeContinuation { continuation in
            loop.execute { [self] in
                if state == .ready { return continuation.resume(returning: .success(())) }
                if state == .closed {
                    return continuation.resume(returning: .failure(WireError(.unavailable, "client is closed")))
                }
                var resumed = false
                let timer = LoopTimer(loop: loop)
                let finish: (Result<Void, WireError>) -> Void = { result in
                    guard !resumed else { return }
                    resumed = true
                    timer.cancel()
                    continuation.resume(returning: result)
                }
                readyWaiters.append(finish)
                timer.arm(milliseconds: timeoutMilliseconds) { [self] in
                    finish(.failure(WireError(
                        .deadlineExceeded,
                        "not connected to \(address) after \(timeoutMilliseconds) ms: \(lastError?.message ?? "no answer")")))
                }
                connect()
            }
        }
        try result.get()
    }

    /// Closes the client for good; calls in flight fail with CANCELLED.
    public func close() {
        loop.preconditionInLoop()
        guard state != .closed else { return }
        setState(.closed)
        reconnectTimer?.cancel()
        reconnectTimer = nil
        keepaliveTimer?.cancel()
        keepaliveTimer = nil
        deadlineTimer?.cancel()
        deadlineTimer = nil
        let connection = tcp
        tcp = nil
        connection?.close(reason: "client closed")
        failEverything(WireError(.cancelled, "client closed"))
    }

    /// Closes from any thread and waits until done.
    public func shutdown() async {
        await loop.submit { self.close() }
    }

    /// The server's limits from the handshake (zero before the first handshake).
    public var serverAcknowledgement: HandshakeAck {
        loop.preconditionInLoop()
        return serverLimits
    }

    // MARK: Calls

    private func submit(
        _ method: String, _ payload: UnsafeRawBufferPointer, timeoutMilliseconds: UInt32, token: CallToken?,
        isStream: Bool, handler: consuming Pending
    ) {
        if let token, token.cancelled {
            Self.finish(handler, WireError(.cancelled, "\(method): cancelled by the caller"))
            return
        }
        if state == .closed {
            Self.finish(handler, WireError(.unavailable, "\(method): client for \(address) is closed"))
            return
        }
        let deadline = timeoutMilliseconds > 0
            ? monotonicNanoseconds() + UInt64(timeoutMilliseconds) * 1_000_000 : nil
        if state == .ready {
            send(method, payload, deadline: deadline, token: token, isStream: isStream, handler: handler)
            return
        }
        guard configuration.waitForReady || state == .idle else {
            Self.finish(handler, WireError(
                .unavailable, "\(method): not connected to \(address): \(lastError?.message ?? "connecting")"))
            return
        }
        guard waiting.count < configuration.maximumWaitingCalls else {
            Self.finish(handler, WireError(
                .resourceExhausted, "\(method): \(waiting.count) calls already wait for a connection to \(address)"))
            return
        }
        waiting.append(Waiting(
            token: token, method: method, payload: Array(payload), deadline: deadline, isStream: isStream,
            handler: handler))
        if let deadline { scheduleDeadline(deadline, streamID: 0) }
        if state == .idle { attemptConnection() }
    }

    private func send(
        _ method: String, _ payload: UnsafeRawBufferPointer, deadline: UInt64?, token: CallToken?, isStream: Bool,
        handler: consuming Pending
    ) {
        let maximum = Int(serverLimits.maxInFlightCalls)
        if maximum > 0 && pendingCalls.count >= maximum {
            Self.finish(handler, WireError(
                .resourceExhausted,
                "\(method): \(pendingCalls.count) calls in flight to \(address), the server's limit is \(maximum)"))
            return
        }
        guard let unmanagedTCP else {
            // The connection is gone and the state has not caught up yet (a handler failed by
            // the loss starts a new call): the call waits for the next connection like any call
            // made while not connected.
            waiting.append(Waiting(
                token: token, method: method, payload: Array(payload), deadline: deadline, isStream: isStream,
                handler: handler))
            return
        }
        var deadlineMilliseconds: UInt32 = 0
        if let deadline {
            let now = monotonicNanoseconds()
            guard deadline > now else {
                Self.finish(handler, WireError(.deadlineExceeded, "\(method): deadline passed before sending"))
                return
            }
            deadlineMilliseconds = UInt32(min((deadline - now + 999_999) / 1_000_000, UInt64(UInt32.max)))
        }
        let streamID = nextStreamID
        nextStreamID += 2
        token?.streamID = streamID
        if deadline != nil { scheduleDeadline(deadline!, streamID: streamID) }
        pendingCalls.insert(PendingCall(handler: handler, token: token), for: streamID)
        sentSinceKeepaliveTick = true
        // The request is encoded straight into the connection's outbound buffer.
        if method != requestMethod { cacheMethodField(method) }
        let methodField = UnsafeRawBufferPointer(requestMethodField)
        unmanagedTCP._withUnsafeGuaranteedRef { tcp in
            tcp.sendRequest(
                streamID: streamID, methodField: methodField, payload: payload,
                deadlineMilliseconds: deadlineMilliseconds, flags: isStream ? Frame.flagServerStream : 0)
        }
    }

    /// Encodes the method field of `method`'s requests once, for every request that repeats it.
    private func cacheMethodField(_ method: String) {
        let field = Frame.requestMethodField(method)
        requestMethodField.deallocate()
        requestMethodField = UnsafeMutableRawBufferPointer.allocate(byteCount: field.count, alignment: 8)
        field.withUnsafeBytes { bytes in
            if !bytes.isEmpty { requestMethodField.copyMemory(from: bytes) }
        }
        requestMethod = method
    }

    private func send(_ envelope: Envelope) {
        guard let tcp else { return }
        sentSinceKeepaliveTick = true
        tcp.send(envelope)
    }

    private static func finish(_ pending: Pending, _ error: WireError) {
        switch pending {
        case .unary(let completion): completion(.failure(error))
        case .borrowing(let completion): completion(.failure(error))
        case .stream(let handler): handler(.end(error))
        case .async(let call): call.resume(.failure(error))
        }
    }

    // MARK: Deadlines

    private func scheduleDeadline(_ due: UInt64, streamID: UInt64) {
        let earliestBefore = deadlines.earliest
        deadlines.insert(deadline: due, streamID: streamID)
        if earliestBefore == nil || due < earliestBefore! { armDeadlineTimer() }
    }

    private func armDeadlineTimer() {
        guard let earliest = deadlines.earliest, state != .closed else { return }
        if deadlineTimer == nil { deadlineTimer = LoopTimer(loop: loop) }
        let now = monotonicNanoseconds()
        let delay = earliest > now ? (earliest - now + 999_999) / 1_000_000 : 0
        deadlineTimer!.arm(milliseconds: delay, owner: self) { $0.expireDeadlines() }
    }

    private func expireDeadlines() {
        let now = monotonicNanoseconds()
        for streamID in deadlines.popDue(now: now) where streamID != 0 {
            guard let pending = pendingCalls.removeValue(forKey: streamID)?.handler else { continue }
            var envelope = Envelope()
            envelope.streamID = streamID
            envelope.kind = .cancel
            send(envelope)
            Self.finish(pending, WireError(.deadlineExceeded, "deadline exceeded waiting for \(address)"))
        }
        // Calls still waiting for a connection whose deadline passed.
        var kept: [Waiting] = []
        for entry in waiting {
            if let deadline = entry.deadline, deadline <= now {
                Self.finish(entry.handler, WireError(
                    .deadlineExceeded,
                    "\(entry.method): deadline exceeded while connecting to \(address): \(lastError?.message ?? "no answer")"))
            } else {
                kept.append(entry)
            }
        }
        waiting = kept
        armDeadlineTimer()
    }

    // MARK: Connection

    private func setState(_ newState: State) {
        guard state != newState else { return }
        state = newState
        onStateChange?(newState)
    }

    private func attemptConnection() {
        setState(.connecting)
        TCPConnection.connect(loop: loop, to: address, limits: configuration.limits) { [self] result in
            guard state == .connecting else {
                if case .success(let connection) = result { connection.close(reason: "client closed") }
                return
            }
            switch result {
            case .failure(let error):
                connectionLost(error)
            case .success(let connection):
                tcp = connection
                connection.delegate = self
                setState(.handshaking)
                var handshake = Handshake()
                handshake.protocolVersion = Frame.protocolVersion
                handshake.component = configuration.component
                handshake.identity = configuration.identity
                handshake.credential = configuration.credential
                var envelope = Envelope()
                envelope.kind = .handshake
                envelope.payload = handshake.protobufBytes()
                lastReceivedAtMilliseconds = uv_now(loop.uvLoop)
                send(envelope)
                armKeepalive()
            }
        }
    }

    private func handshakeAccepted(_ envelope: Envelope) {
        do {
            serverLimits = try envelope.payload.withUnsafeBytes { bytes throws(ProtoDecodingError) in
                try HandshakeAck(protobuf: bytes)
            }
        } catch {
            tcp?.close(reason: "malformed handshake answer: \(error)")
            return
        }
        failedAttempts = 0
        lastError = nil
        setState(.ready)
        let queued = waiting
        waiting.removeAll()
        for entry in queued {
            entry.payload.withUnsafeBytes { payload in
                send(entry.method, payload, deadline: entry.deadline, token: entry.token,
                     isStream: entry.isStream, handler: entry.handler)
            }
        }
        let waiters = readyWaiters
        readyWaiters.removeAll()
        for waiter in waiters { waiter(.success(())) }
    }

    private func armKeepalive() {
        if keepaliveTimer == nil { keepaliveTimer = LoopTimer(loop: loop) }
        let check = Self.keepaliveCheckMilliseconds(configuration.keepaliveIntervalMilliseconds)
        lastKeepaliveTickMilliseconds = uv_now(loop.uvLoop)
        keepaliveTimer!.arm(milliseconds: check, repeatMilliseconds: check, owner: self) { $0.keepaliveTick() }
    }

    private static func keepaliveCheckMilliseconds(_ interval: UInt64) -> UInt64 { max(interval / 2, 10) }

    private func keepaliveTick() {
        guard let tcp, state == .ready || state == .handshaking else { return }
        let now = uv_now(loop.uvLoop)
        let interval = configuration.keepaliveIntervalMilliseconds
        let previousTick = lastKeepaliveTickMilliseconds
        lastKeepaliveTickMilliseconds = now
        // A tick far later than its period means this loop was stalled, not the server silent:
        // libuv runs timers before it reads, so what the server sent meanwhile is still unread,
        // and no ping went out to draw an answer. The stall is not counted against the server:
        // its silence is measured from now.
        if now > previousTick && now - previousTick > 2 * Self.keepaliveCheckMilliseconds(interval) + 100 {
            lastReceivedAtMilliseconds = max(lastReceivedAtMilliseconds, now)
        }
        if now > lastReceivedAtMilliseconds && now - lastReceivedAtMilliseconds > 2 * interval {
            tcp.close(reason: "no answer from \(address) for \(2 * interval) ms (keepalive timeout)")
            return
        }
        if !sentSinceKeepaliveTick {
            var ping = Envelope()
            ping.kind = .ping
            send(ping)
        }
        sentSinceKeepaliveTick = false
    }

    /// Fails what was in flight on a lost connection and schedules the next attempt.
    private func connectionLost(_ error: WireError) {
        tcp = nil
        lastError = error
        keepaliveTimer?.stop()
        let inFlight = pendingCalls.removeAll()
        nextStreamID = 1
        for pending in inFlight {
            Self.finish(pending.handler, WireError(.unavailable, "connection to \(address) lost: \(error.message)"))
        }
        guard state != .closed else { return }
        if !configuration.waitForReady {
            let queued = waiting
            waiting.removeAll()
            for entry in queued {
                Self.finish(entry.handler, WireError(.unavailable, "\(entry.method): \(error.message)"))
            }
        }
        scheduleReconnect()
    }

    private func scheduleReconnect() {
        setState(.waitingToReconnect)
        let shift = min(failedAttempts, 16)
        let base = min(
            configuration.reconnectInitialDelayMilliseconds << UInt64(shift),
            configuration.reconnectMaximumDelayMilliseconds)
        let jitter = base / 4 == 0 ? 0 : random.next() % (base / 4 + 1)
        failedAttempts += 1
        if reconnectTimer == nil { reconnectTimer = LoopTimer(loop: loop) }
        reconnectTimer!.arm(milliseconds: base + jitter, owner: self) { client in
            if client.state == .waitingToReconnect { client.attemptConnection() }
        }
    }

    private func failEverything(_ error: WireError) {
        let inFlight = pendingCalls.removeAll()
        for pending in inFlight { Self.finish(pending.handler, error) }
        let queued = waiting
        waiting.removeAll()
        for entry in queued { Self.finish(entry.handler, error) }
        let waiters = readyWaiters
        readyWaiters.removeAll()
        for waiter in waiters { waiter(.failure(error)) }
    }
}

extension WireClient: TCPConnectionDelegate {
    public func connection(_ connection: TCPConnection, didRead frames: [FrameView]) {
        guard connection === tcp else { return }
        lastReceivedAtMilliseconds = uv_now(loop.uvLoop)
        for frame in frames {
            // Answers are handled straight from the read buffer; other kinds are rare enough to
            // copy into an Envelope.
            if frame.kind == .response {
                switch pendingCalls.removeValue(forKey: frame.streamID)?.handler {
                case .borrowing(let completion)?: completion(.success(frame.payload))
                case .unary(let completion)?: completion(.success(frame.payloadBytes))
                case .async(let call)?: call.resume(.success(frame.payloadBytes))
                case .stream(let handler)?:
                    handler(.end(WireError(.internal, "a unary response for a stream")))
                case nil: break
                }
                continue
            }
            if frame.kind == .streamItem {
                if case .stream(let handler)? = pendingCalls[frame.streamID]?.handler {
                    handler(.item(frame.payloadBytes))
                }
                continue
            }
            let envelope = frame.envelope()
            switch envelope.kind {
            case .handshakeAck where state == .handshaking:
                handshakeAccepted(envelope)
            case .streamEnd:
                if let pending = pendingCalls.removeValue(forKey: envelope.streamID)?.handler {
                    let status = envelope.statusCode == .ok
                        ? nil : WireError(envelope.statusCode, envelope.statusMessage)
                    switch pending {
                    case .stream(let handler): handler(.end(status))
                    case .unary, .borrowing, .async:
                        Self.finish(pending, status ?? WireError(.internal, "stream end for a unary call"))
                    }
                }
            case .error where envelope.streamID != 0:
                if let pending = pendingCalls.removeValue(forKey: envelope.streamID)?.handler {
                    Self.finish(pending, WireError(envelope.statusCode, envelope.statusMessage))
                }
            case .error:
                // A connection-level error: the server closes after sending it.
                let error = WireError(envelope.statusCode, envelope.statusMessage)
                lastError = error
                if state == .handshaking {
                    // A rejected handshake will be rejected again: do not retry, fail loudly.
                    logger.error("\(address) rejected the handshake: \(error.message)")
                    setState(.closed)
                    failEverything(error)
                }
            case .ping:
                var pong = Envelope()
                pong.kind = .pong
                send(pong)
            case .pong:
                break
            default:
                connection.close(reason: "unexpected \(envelope.kind) frame from the server")
                return
            }
        }
    }

    public func connection(_ connection: TCPConnection, didFail error: FrameError) {
        lastError = WireError(.internal, "bad frame from \(address): \(error)")
    }

    public func connection(_ connection: TCPConnection, writabilityChanged writable: Bool) {}

    public func connectionDidClose(_ connection: TCPConnection, reason: String) {
        guard connection === tcp else { return }
        connectionLost(lastError ?? WireError(.unavailable, reason))
    }
}

/// The completion of a call whose answer is read in place (`WireClient.start(_:payload:
/// timeoutMilliseconds:token:borrowing:)`): the bytes are valid only until it returns.
public typealias BorrowedCompletion = (Result<UnsafeRawBufferPointer, WireError>) -> Void

/// CallToken names one call so that it can be cancelled; the stream id is assigned when the call
/// is actually sent.
public class CallToken: @unchecked Sendable {
    // Safety of @unchecked Sendable: read and written on the client's loop only.
    var streamID: UInt64?
    var cancelled = false
    public init() {}
}

/// AsyncUnaryCall is one call of the async API: its token, its pending entry and the holder of
/// the waiting task's continuation.
final class AsyncUnaryCall: CallToken, @unchecked Sendable {
    // Safety of @unchecked Sendable: `continuation` is set by the calling task before the call
    // is submitted (the loop's queue orders the two) and then used on the loop only.
    var continuation: UnsafeContinuation<Result<[UInt8], WireError>, Never>?

    /// Resumes the waiting task; exactly once.
    func resume(_ result: Result<[UInt8], WireError>) {
        guard let continuation else { preconditionFailure("an async call was answered twice") }
        self.continuation = nil
        continuation.resume(returning: result)
    }
}
