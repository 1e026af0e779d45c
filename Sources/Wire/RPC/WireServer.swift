import CLibUV
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// WireService handles the calls of a server. `handle` runs on the server's loop thread, once per
/// read batch, with every call that batch opened; an actor pinned to the same loop (`LoopBound`)
/// enters itself with `assumeIsolated` instead of hopping.
public protocol WireService: Sendable {
    func handle(_ calls: [ServerCall])
    /// The borrowing handler of `method`, if the service answers it on the hot path (see
    /// `BorrowedCall`): unary requests of that method go straight to it, one at a time as their
    /// frames are read, instead of reaching `handle` as `ServerCall`s. A connection asks once per
    /// change of method name, not per call. The default has none.
    func borrowingHandler(for method: String) -> BorrowedCallHandler?
}

extension WireService {
    public func borrowingHandler(for method: String) -> BorrowedCallHandler? { nil }
}

/// MethodRouter dispatches calls by method name; unknown methods get UNIMPLEMENTED with the list
/// of what the server offers.
///
/// A method is served either by a `(ServerCall) -> Void` handler, which gets a call object with
/// its own copy of the request and may answer any time later, or by a borrowing handler
/// (`registerBorrowing(_:_:)`), which gets the request in place in the read buffer and answers
/// it, or detaches it, before returning: the cheaper path for unary methods that answer at once.
public final class MethodRouter: WireService, @unchecked Sendable {
    // Safety of @unchecked Sendable: routes are registered before the server starts and only
    // read afterwards.
    private enum Route {
        case call((ServerCall) -> Void)
        case borrowing(BorrowedCallHandler)
    }

    private var routes: [String: Route] = [:]

    public init() {}

    public func register(_ method: String, _ handler: @escaping (ServerCall) -> Void) {
        precondition(routes[method] == nil, "method \(method) registered twice")
        routes[method] = .call(handler)
    }

    /// Registers a unary method answered by a borrowing handler (see `BorrowedCall`). Opening
    /// a server stream on it fails with INVALID_ARGUMENT.
    public func registerBorrowing(_ method: String, _ handler: @escaping BorrowedCallHandler) {
        precondition(routes[method] == nil, "method \(method) registered twice")
        routes[method] = .borrowing(handler)
    }

    public var methods: [String] { routes.keys.sorted() }

    public func borrowingHandler(for method: String) -> BorrowedCallHandler? {
        if case .borrowing(let handler)? = routes[method] { return handler }
        return nil
    }

    public func handle(_ calls: [ServerCall]) {
        // A batch usually repeats one method: look it up once per run of equal names.
        var lastMethod = ""
        var lastRoute: Route? = nil
        for call in calls {
            if lastRoute == nil || call.method != lastMethod {
                lastMethod = call.method
                lastRoute = routes[call.method]
            }
            switch lastRoute {
            case .call(let handler)?:
                handler(call)
            case .borrowing?:
                // Connections hand unary requests of these methods to the borrowing handler;
                // only a stream request gets here.
                call.fail(WireError(
                    .invalidArgument,
                    "\(call.method) is a unary method: make a call, do not open a stream"))
            case nil:
                call.fail(WireError(
                    .unimplemented,
                    "unknown method \"\(call.method)\"; this server offers: \(methods.joined(separator: ", "))"))
            }
        }
    }
}

/// ServerConfiguration is what a wire server enforces.
public struct ServerConfiguration: Sendable {
    /// Sent to clients in the handshake answer.
    public var identity: String
    public var limits = TCPConnectionLimits()
    /// Calls and streams open at once on one connection; more get RESOURCE_EXHAUSTED.
    public var maximumInFlightCalls = 4096
    /// Clients ping at this interval when idle; a connection silent for three intervals is closed.
    public var keepaliveIntervalMilliseconds: UInt32 = 5000
    /// A client that has not completed its handshake by then is disconnected.
    public var handshakeTimeoutMilliseconds: UInt64 = 5000
    /// Decides whether a handshake's credential is good; nil accepts, an error rejects.
    public var authenticate: @Sendable (Handshake) -> WireError?

    public init(identity: String, authenticate: @escaping @Sendable (Handshake) -> WireError?) {
        self.identity = identity
        self.authenticate = authenticate
    }

    /// Accepts exactly one bearer token.
    public static func bearerToken(_ token: String) -> @Sendable (Handshake) -> WireError? {
        return { handshake in
            if handshake.credential.isEmpty {
                return WireError(.unauthenticated, "no credential: pass the cluster's token")
            }
            if handshake.credential != token {
                return WireError(.unauthenticated, "credential rejected for \(handshake.component)/\(handshake.identity): wrong token")
            }
            return nil
        }
    }
}

/// WireServer listens on one address and serves a `WireService` on one loop.
public final class WireServer: @unchecked Sendable {
    // Safety of @unchecked Sendable: state is touched on `loop` only.
    public let loop: EventLoop
    public let configuration: ServerConfiguration
    let service: any WireService
    let logger: Logger
    private var listener: TCPListener?
    private var connectionList: [ObjectIdentifier: ServerConnection] = [:]
    private var sweepTimer: LoopTimer?
    /// Loop time of the last liveness sweep (of arming the timer, before the first).
    private var lastSweepMilliseconds: UInt64 = 0
    /// Loop time at which the last stall of this loop was noticed (0: none).
    private var stallEndedAtMilliseconds: UInt64 = 0
    private var sweepIntervalMilliseconds: UInt64 { UInt64(max(configuration.keepaliveIntervalMilliseconds / 2, 50)) }

    /// Starts listening; call on the loop (see `start(on:...)` for other threads).
    public init(
        loop: EventLoop, address: SocketAddress, configuration: ServerConfiguration,
        service: any WireService, logger: Logger = Logger(label: "skiff.wire.server")
    ) throws(WireError) {
        loop.preconditionInLoop()
        self.loop = loop
        self.configuration = configuration
        self.service = service
        self.logger = logger
        let limits = configuration.limits
        var accepted: ((TCPConnection) -> Void)? = nil
        listener = try TCPListener(loop: loop, address: address, limits: limits) { connection in
            accepted?(connection)
        }
        accepted = { [weak self] connection in
            guard let self else { return connection.close(reason: "server is gone") }
            self.accept(connection)
        }
        let sweep = LoopTimer(loop: loop)
        let interval = sweepIntervalMilliseconds
        sweep.arm(milliseconds: interval, repeatMilliseconds: interval, owner: self) { $0.sweepIdleConnections() }
        sweepTimer = sweep
        lastSweepMilliseconds = uv_now(loop.uvLoop)
    }

    /// Starts a server from any thread.
    public static func start(
        on loop: EventLoop, address: SocketAddress, configuration: ServerConfiguration,
        service: any WireService, logger: Logger = Logger(label: "skiff.wire.server")
    ) async throws(WireError) -> WireServer {
        let result = await loop.submit {
            Result { () throws(WireError) in
                try WireServer(
                    loop: loop, address: address, configuration: configuration, service: service,
                    logger: logger)
            }
        }
        return try result.get()
    }

    /// The bound address (the actual port when started with port 0).
    public var address: SocketAddress {
        listener!.address
    }

    public var connectionCount: Int {
        loop.preconditionInLoop()
        return connectionList.count
    }

    private func accept(_ tcp: TCPConnection) {
        let connection = ServerConnection(tcp: tcp, server: self)
        connectionList[ObjectIdentifier(connection)] = connection
    }

    func connectionClosed(_ connection: ServerConnection) {
        connectionList[ObjectIdentifier(connection)] = nil
    }

    private func sweepIdleConnections() {
        let loopMilliseconds = uv_now(loop.uvLoop)
        let previousSweep = lastSweepMilliseconds
        lastSweepMilliseconds = loopMilliseconds
        // A sweep far later than its period means this loop was stalled: libuv runs timers
        // before it reads, so clients' frames of meanwhile are still unread. The stall is not
        // counted against them: their silence is measured from its end.
        if loopMilliseconds > previousSweep && loopMilliseconds - previousSweep > 2 * sweepIntervalMilliseconds + 100 {
            stallEndedAtMilliseconds = loopMilliseconds
        }
        for connection in Array(connectionList.values) {
            connection.checkLiveness(loopMilliseconds: loopMilliseconds, silentSinceAtLeast: stallEndedAtMilliseconds)
        }
    }

    /// Stops listening and closes every connection. Call on the loop.
    public func close() {
        loop.preconditionInLoop()
        listener?.close()
        listener = nil
        sweepTimer?.cancel()
        sweepTimer = nil
        for connection in Array(connectionList.values) {
            connection.close(WireError(.unavailable, "server \(configuration.identity) is shutting down"))
        }
    }

    /// Stops the server from any thread.
    public func shutdown() async {
        await loop.submit { self.close() }
    }
}

/// ServerConnection is the server side of one client connection: handshake, call table,
/// deadlines, keepalive and limits.
final class ServerConnection: TCPConnectionDelegate {
    let tcp: TCPConnection
    /// Weak: a server released without `close()` must not leave its connections pointing at
    /// freed memory; they then close at their next event.
    weak var server: WireServer?
    let configuration: ServerConfiguration
    let service: any WireService
    let logger: Logger
    var loop: EventLoop { tcp.loop }
    private var peer: PeerIdentity?
    private var handshakeDone = false
    /// What the transport holds as its delegate (see `ServerTransportRelay`).
    private var relay: ServerTransportRelay?
    /// Calls waiting for an answer after the handler that opened them returned.
    private var calls: [UInt64: ServerCall] = [:]
    /// The highest stream id opened so far: a request above it cannot collide with a call in
    /// progress, which spares the lookup for clients that count up (all of ours do).
    private var highestStreamID: UInt64 = 0
    private var deadlines = DeadlineQueue()
    private var deadlineTimer: LoopTimer?
    /// Loop time at which the connection was accepted, for the handshake deadline.
    private let openedAtMilliseconds: UInt64
    /// Loop time (milliseconds, `uv_now`) of the last frame: the clock libuv already read this
    /// turn, so liveness costs no clock read per read batch.
    private var lastFrameAtMilliseconds: UInt64
    /// Calls opened by the read batch being handled, before they reach the service.
    private var opened: [ServerCall] = []
    /// The batch the service is handling (kept to reuse its storage).
    private var handling: [ServerCall] = []
    /// Calls answered inside the handler that opened them and then let go by everybody: the
    /// next requests reuse them, and their payload arrays' storage, instead of allocating both
    /// per call. A call is taken only when the connection holds the sole strong reference, so
    /// no handler can see its call change; ServerCall's documentation asks handlers not to keep
    /// weak or unowned references. Bounded in count and (see `ServerCall.reuse`) in the
    /// payload storage each keeps.
    private var spareCalls: [ServerCall] = []
    static let maximumSpareCalls = 128
    /// The method of the last request, its bytes and the service's borrowing handler for it
    /// (see `resolveMethod`). While a borrowing handler runs, `currentMethod` is its method.
    private(set) var currentMethod = ""
    /// The bytes of `currentMethod` in memory of the connection's own: compared per request
    /// without the retain and release an array's `withUnsafeBytes` costs.
    private var currentMethodUTF8 = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private var currentBorrowingRoute: Unmanaged<BorrowingRoute>?
    /// Whether the borrowed call being handled has been answered (see `BorrowedCall`).
    private var borrowedCallAnswered = false

    deinit {
        currentMethodUTF8.deallocate()
        currentBorrowingRoute?.release()
    }

    init(tcp: TCPConnection, server: WireServer) {
        self.tcp = tcp
        self.server = server
        configuration = server.configuration
        service = server.service
        logger = server.logger
        lastFrameAtMilliseconds = uv_now(tcp.loop.uvLoop)
        openedAtMilliseconds = lastFrameAtMilliseconds
        let relay = ServerTransportRelay(connection: self)
        self.relay = relay
        tcp.delegate = relay
    }

    /// The peer of a connection whose handshake succeeded (calls exist only after it).
    var peerIdentity: PeerIdentity {
        guard let peer else { preconditionFailure("a call exists only after the handshake") }
        return peer
    }

    var isClosed: Bool { tcp.isClosed }
    var isWritable: Bool { tcp.isWritable }

    func send(_ envelope: Envelope) {
        tcp.send(envelope)
    }

    // MARK: TCPConnectionDelegate

    func connection(_ connection: TCPConnection, didRead frames: [FrameView]) {
        lastFrameAtMilliseconds = uv_now(loop.uvLoop)
        opened.removeAll(keepingCapacity: true)
        for frame in frames {
            guard !tcp.isClosed else { return }
            if !handshakeDone {
                acceptHandshake(frame)
                continue
            }
            let streamID = frame.streamID
            switch frame.kind {
            case .request:
                open(frame)
            case .cancel:
                if let call = calls.removeValue(forKey: streamID) {
                    call.isRegistered = false
                    call.cancel()
                } else if let index = opened.firstIndex(where: { $0.streamID == streamID }) {
                    opened.remove(at: index).cancel()
                }
            case .ping:
                var pong = Envelope()
                pong.kind = .pong
                tcp.send(pong)
            case .pong:
                break
            default:
                protocolError("unexpected \(frame.kind) frame from a client (stream \(streamID))")
            }
        }
        if !opened.isEmpty && !tcp.isClosed {
            // Move the batch out of `opened` (a close during the handler cancels only what is
            // still there) into `handling`, whose storage is reused batch after batch.
            precondition(handling.isEmpty, "a read batch is handled inside another")
            swap(&opened, &handling)
            service.handle(handling)
            // Calls answered inside the handler never enter the table; the rest wait there
            // for their answer, a cancel, their deadline or the end of the connection.
            for index in handling.indices {
                if handling[index].isFinished {
                    // Nobody else holds it: the next batch can reuse it (see `spareCalls`); not
                    // after the close, which let the spares go. (No local binding of the call
                    // here: it would be a second reference.)
                    if !tcp.isClosed && spareCalls.count < Self.maximumSpareCalls && handling[index].isReusable
                        && isKnownUniquelyReferenced(&handling[index])
                    {
                        spareCalls.append(handling[index])
                    }
                    continue
                }
                let call = handling[index]
                if tcp.isClosed {
                    call.cancel()
                    continue
                }
                call.isRegistered = true
                calls[call.streamID] = call
                if let deadline = call.deadline { scheduleDeadline(deadline, streamID: call.streamID) }
            }
            handling.removeAll(keepingCapacity: handling.capacity <= 4096)
        }
    }

    func connection(_ connection: TCPConnection, didFail error: FrameError) {
        // Tell the peer why before the transport closes; it cannot continue after a bad frame.
        var envelope = Envelope()
        envelope.kind = .error
        envelope.statusCode = error.isTooLarge ? .resourceExhausted : .invalidArgument
        envelope.statusMessage = error.description
        tcp.send(envelope)
        tcp.flush()
        logger.warning("closing connection from \(tcp.peerDescription): \(error)")
    }

    func connection(_ connection: TCPConnection, writabilityChanged writable: Bool) {
        guard writable else { return }
        for call in Array(calls.values) where call.isStream {
            if let resume = call.onWritable { resume() }
        }
    }

    func connectionDidClose(_ connection: TCPConnection, reason: String) {
        let open = calls
        calls.removeAll()
        for call in open.values {
            call.isRegistered = false
            call.cancel()
        }
        let unregistered = opened
        opened.removeAll()
        for call in unregistered { call.cancel() }
        deadlineTimer?.cancel()
        deadlineTimer = nil
        // Spare calls hold this connection: let them go.
        spareCalls.removeAll()
        // The transport calls nothing after this: let the relay go, which ends the cycle that
        // kept this connection alive while it was open.
        relay?.connection = nil
        relay = nil
        server?.connectionClosed(self)
        logger.debug("connection from \(tcp.peerDescription) closed: \(reason)")
    }

    // MARK: Handshake

    private func acceptHandshake(_ frame: FrameView) {
        guard frame.kind == .handshake else {
            reject(WireError(.failedPrecondition, "the first frame must be a handshake, got \(frame.kind)"))
            return
        }
        let handshake: Handshake
        do {
            handshake = try Handshake(protobuf: frame.payload)
        } catch {
            reject(WireError(.invalidArgument, "malformed handshake: \(error)"))
            return
        }
        guard handshake.protocolVersion == Frame.protocolVersion else {
            reject(WireError(
                .failedPrecondition,
                "protocol version \(handshake.protocolVersion) is not supported; this server speaks version \(Frame.protocolVersion)"))
            return
        }
        if let error = configuration.authenticate(handshake) {
            reject(error)
            return
        }
        handshakeDone = true
        peer = PeerIdentity(
            component: handshake.component, identity: handshake.identity, address: tcp.peerDescription,
            credential: handshake.credential)
        var ack = HandshakeAck()
        ack.protocolVersion = Frame.protocolVersion
        ack.serverIdentity = configuration.identity
        ack.maxFrameBytes = UInt32(configuration.limits.maximumFrameBytes)
        ack.maxInFlightCalls = UInt32(configuration.maximumInFlightCalls)
        ack.keepaliveIntervalMilliseconds = configuration.keepaliveIntervalMilliseconds
        var reply = Envelope()
        reply.kind = .handshakeAck
        reply.payload = ack.protobufBytes()
        tcp.send(reply)
    }

    private func reject(_ error: WireError) {
        logger.info("rejected handshake from \(tcp.peerDescription): \(error.message)")
        close(error)
    }

    // MARK: Calls

    private func open(_ frame: FrameView) {
        let streamID = frame.streamID
        guard streamID != 0 else {
            protocolError("request with stream id 0; stream ids start at 1")
            return
        }
        if streamID > highestStreamID {
            highestStreamID = streamID
        } else if calls[streamID] != nil || opened.contains(where: { $0.streamID == streamID }) {
            protocolError("stream id \(streamID) is already in use on this connection")
            return
        }
        guard calls.count + opened.count < configuration.maximumInFlightCalls else {
            var error = Envelope()
            error.streamID = streamID
            error.kind = .error
            error.statusCode = .resourceExhausted
            error.statusMessage = "too many calls in flight on one connection (limit \(configuration.maximumInFlightCalls)); wait for answers before sending more"
            tcp.send(error)
            return
        }
        var deadline: UInt64 = 0
        if frame.deadlineMilliseconds > 0 {
            deadline = monotonicNanoseconds() + UInt64(frame.deadlineMilliseconds) * 1_000_000
        }
        resolveMethod(frame.methodUTF8)
        let isStream = frame.flags & Frame.flagServerStream != 0
        if !isStream, let route = currentBorrowingRoute {
            // Answered (or detached) before the handler returns: no call object, no copy.
            borrowedCallAnswered = false
            let call = BorrowedCall(streamID: streamID, payload: frame.payload, deadlineNanoseconds: deadline, connection: self)
            route._withUnsafeGuaranteedRef { $0.handler(call) }
            if !borrowedCallAnswered {
                // Tell the caller now rather than at its deadline.
                sendCallError(
                    streamID: streamID, WireError(.internal, "the handler of \(currentMethod) returned without answering"))
            }
            return
        }
        let call: ServerCall
        if let spare = spareCalls.popLast() {
            spare.reuse(
                streamID: streamID, method: currentMethod, payload: frame.payload, isStream: isStream,
                deadline: deadline == 0 ? nil : deadline)
            call = spare
        } else {
            call = ServerCall(
                streamID: streamID, method: currentMethod, payload: frame.payloadBytes, isStream: isStream,
                deadline: deadline == 0 ? nil : deadline, connection: self)
        }
        opened.append(call)
    }

    /// Makes `currentMethod` and `currentBorrowingHandler` those of the method named by `utf8`: a
    /// connection's requests mostly repeat a few methods, so the last one is kept and reused
    /// when the bytes match instead of building a new String and asking the service again.
    @inline(__always)
    private func resolveMethod(_ utf8: UnsafeRawBufferPointer) {
        if utf8.count == currentMethodUTF8.count && Self.bytesEqual(utf8, UnsafeRawBufferPointer(currentMethodUTF8)) {
            return
        }
        resolveNewMethod(utf8)
    }

    private func resolveNewMethod(_ utf8: UnsafeRawBufferPointer) {
        currentMethod = EnvelopeDecoding.string(utf8)
        currentMethodUTF8.deallocate()
        currentMethodUTF8 = UnsafeMutableRawBufferPointer.allocate(byteCount: utf8.count, alignment: 8)
        if !utf8.isEmpty { currentMethodUTF8.copyMemory(from: utf8) }
        currentBorrowingRoute?.release()
        currentBorrowingRoute = service.borrowingHandler(for: currentMethod).map {
            Unmanaged.passRetained(BorrowingRoute($0))
        }
    }

    /// Whether two byte runs of the same length are equal; method names are short, so the
    /// common case is two or three word compares instead of a call to memcmp.
    @inline(__always)
    static func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        let count = a.count
        guard count > 0 else { return true }
        let x = a.baseAddress!, y = b.baseAddress!
        if count < 8 {
            for index in 0..<count where x.load(fromByteOffset: index, as: UInt8.self) != y.load(fromByteOffset: index, as: UInt8.self) {
                return false
            }
            return true
        }
        var index = 0
        while count - index > 8 {
            if x.loadUnaligned(fromByteOffset: index, as: UInt64.self) != y.loadUnaligned(fromByteOffset: index, as: UInt64.self) {
                return false
            }
            index += 8
        }
        // The last eight bytes, overlapping what was compared.
        return x.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) == y.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
    }

    /// The `ServerCall` a borrowing handler turned its request into (`BorrowedCall.detach`):
    /// registered at once, so that a cancel later in the same read batch finds it.
    func detach(streamID: UInt64, payload: UnsafeRawBufferPointer, deadlineNanoseconds: UInt64) -> ServerCall {
        let call = ServerCall(
            streamID: streamID, method: currentMethod, payload: payload.isEmpty ? [] : [UInt8](payload.assumingMemoryBound(to: UInt8.self)),
            isStream: false, deadline: deadlineNanoseconds == 0 ? nil : deadlineNanoseconds, connection: self)
        guard !tcp.isClosed else {
            call.cancel()
            return call
        }
        call.isRegistered = true
        calls[streamID] = call
        if deadlineNanoseconds != 0 { scheduleDeadline(deadlineNanoseconds, streamID: streamID) }
        return call
    }

    /// Answers the borrowed call being handled (`BorrowedCall.respond`).
    @inline(__always)
    func respondBorrowed(streamID: UInt64, payload: UnsafeRawBufferPointer) {
        answerBorrowedCall()
        tcp.sendResponse(streamID: streamID, payload: payload)
    }

    /// Records the answer of the borrowed call being handled; a second one is a handler's bug.
    @inline(__always)
    func answerBorrowedCall() {
        precondition(!borrowedCallAnswered, "a borrowed call of \(currentMethod) was answered twice")
        borrowedCallAnswered = true
    }

    /// Fails one unary call with an error frame.
    func sendCallError(streamID: UInt64, _ error: WireError) {
        var envelope = Envelope()
        envelope.streamID = streamID
        envelope.kind = .error
        envelope.statusCode = error.code
        envelope.statusMessage = error.message
        tcp.send(envelope)
    }

    func callFinished(_ streamID: UInt64) {
        calls[streamID] = nil
    }

    private func scheduleDeadline(_ due: UInt64, streamID: UInt64) {
        let earliestBefore = deadlines.earliest
        deadlines.insert(deadline: due, streamID: streamID)
        if earliestBefore == nil || due < earliestBefore! { armDeadlineTimer() }
    }

    private func armDeadlineTimer() {
        guard let earliest = deadlines.earliest else { return }
        if deadlineTimer == nil { deadlineTimer = LoopTimer(loop: loop) }
        let now = monotonicNanoseconds()
        let delay = earliest > now ? (earliest - now + 999_999) / 1_000_000 : 0
        // Unowned, not weak (a weak reference would move this object's reference counts to a
        // side table, slowing every call's retain): the timer is cancelled when the connection
        // closes, and the connection lives at least as long as its transport is open.
        deadlineTimer!.arm(milliseconds: delay) { [unowned self] in expireDeadlines() }
    }

    private func expireDeadlines() {
        for streamID in deadlines.popDue(now: monotonicNanoseconds()) {
            // The caller has given up and failed the call locally; stop the work, send nothing.
            if let call = calls.removeValue(forKey: streamID) {
                call.isRegistered = false
                call.cancel()
            }
        }
        armDeadlineTimer()
    }

    // MARK: Liveness and errors

    /// Closes the connection when the handshake is overdue or no frame came for three keepalive
    /// intervals, both counted from `silentSinceAtLeast` at the earliest (the end of this loop's
    /// last stall, when frames, a handshake among them, may have waited unread).
    func checkLiveness(loopMilliseconds: UInt64, silentSinceAtLeast floor: UInt64) {
        let interval = UInt64(configuration.keepaliveIntervalMilliseconds)
        let heardAt = max(lastFrameAtMilliseconds, floor)
        let waitingSince = max(openedAtMilliseconds, floor)
        if peer == nil && loopMilliseconds > waitingSince
            && loopMilliseconds - waitingSince > configuration.handshakeTimeoutMilliseconds
        {
            close(WireError(.deadlineExceeded, "no handshake within \(configuration.handshakeTimeoutMilliseconds) ms"))
        } else if loopMilliseconds > heardAt && loopMilliseconds - heardAt > 3 * interval {
            close(WireError(.unavailable, "no frame for \(3 * interval) ms (keepalive timeout)"))
        }
    }

    private func protocolError(_ message: String) {
        logger.warning("protocol error from \(tcp.peerDescription): \(message)")
        close(WireError(.invalidArgument, "protocol error: \(message)"))
    }

    /// Sends a connection-level error frame and closes.
    func close(_ error: WireError) {
        guard !tcp.isClosed else { return }
        var envelope = Envelope()
        envelope.kind = .error
        envelope.statusCode = error.code
        envelope.statusMessage = error.message
        tcp.close(after: envelope, reason: error.message)
    }
}

/// BorrowingRoute holds a borrowing handler for a connection's method cache: one object retained
/// once per change of method, so that calling the handler per request retains nothing.
final class BorrowingRoute {
    let handler: BorrowedCallHandler

    init(_ handler: @escaping BorrowedCallHandler) {
        self.handler = handler
    }
}

/// ServerTransportRelay is the transport's delegate on behalf of a ServerConnection.
///
/// TCPConnection holds its delegate weakly, and an object that is referenced weakly keeps its
/// reference counts in a side table, which makes each of its retains and releases several times
/// slower. Every call retains its connection, so the weak reference points at this relay
/// instead. The relay and the connection hold each other while the transport is open (a server
/// released without `close()` leaves its open connections serving until they close); the
/// connection breaks the cycle when the transport closes.
final class ServerTransportRelay: TCPConnectionDelegate {
    var connection: ServerConnection?

    init(connection: ServerConnection) {
        self.connection = connection
    }

    func connection(_ transport: TCPConnection, didRead frames: [FrameView]) {
        connection?.connection(transport, didRead: frames)
    }

    func connection(_ transport: TCPConnection, didFail error: FrameError) {
        connection?.connection(transport, didFail: error)
    }

    func connection(_ transport: TCPConnection, writabilityChanged writable: Bool) {
        connection?.connection(transport, writabilityChanged: writable)
    }

    func connectionDidClose(_ transport: TCPConnection, reason: String) {
        connection?.connectionDidClose(transport, reason: reason)
    }
}

extension FrameError {
    var isTooLarge: Bool {
        if case .tooLarge = self { return true }
        return false
    }
}
