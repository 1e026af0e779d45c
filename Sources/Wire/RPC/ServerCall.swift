/// PeerIdentity is who is on the other end of a connection, as the handshake established it.
public struct PeerIdentity: Sendable, Hashable, CustomStringConvertible {
    /// What kind of component: "apiserver", "agentctl", "bench", a store member's peer link...
    public var component: String
    /// Which instance, e.g. a member or host name.
    public var identity: String
    /// "host:port" of the remote end.
    public var address: String
    /// The bearer token the handshake presented; servers that map tokens to users (the API
    /// server) authenticate it per request. Never printed.
    public var credential: String

    public init(component: String, identity: String, address: String, credential: String = "") {
        self.component = component
        self.identity = identity
        self.address = address
        self.credential = credential
    }

    public var description: String { "\(component)/\(identity) at \(address)" }
}

/// StreamSendResult tells a stream producer whether to keep going.
public enum StreamSendResult: Sendable {
    /// Queued; keep sending.
    case sent
    /// Queued, but the peer is behind: stop producing until `onWritable` runs.
    case throttled
    /// The stream is over (cancelled, finished, or the connection closed); nothing was sent.
    case closed
}

/// ServerCall is one unary call or server stream in progress on a server connection. It lives on
/// the connection's loop: every method must be called there, which is where handlers run.
///
/// Hold a call strongly for as long as you need it, never through a weak or unowned reference:
/// once a call is finished and its connection holds the only strong reference, the connection
/// reuses the object for a later request.
public final class ServerCall: @unchecked Sendable {
    // Safety of @unchecked Sendable: every mutation checks `loop.preconditionInLoop()`, or
    // happens in `reuse` on the loop while the connection holds the only reference.

    // Read through getters compiled into Wire: a stored `var` read from another module would
    // cost a dynamic exclusivity check per access there.
    public var streamID: UInt64 { currentStreamID }
    public var method: String { currentMethod }
    public var payload: [UInt8] { currentPayload }
    public var isStream: Bool { currentIsStream }
    /// Monotonic nanoseconds after which the caller has given up; nil for no deadline.
    public var deadline: UInt64? { currentDeadline }

    // What `reuse` replaces when the object serves another request.
    private var currentStreamID: UInt64
    private var currentMethod: String
    private var currentPayload: [UInt8]
    private var currentIsStream: Bool
    private var currentDeadline: UInt64?
    /// Who called, as the connection's handshake established it.
    public var peer: PeerIdentity { connection.peerIdentity }
    public var loop: EventLoop { connection.tcp.loop }

    /// Runs once if the caller cancels, the deadline passes or the connection closes before the
    /// call finished. Handlers that hold resources for the call release them here.
    public var onCancel: (() -> Void)?
    /// Runs when a throttled stream's connection has drained and production may resume.
    public var onWritable: (() -> Void)?

    public private(set) var isFinished = false
    /// True while the connection's call table holds this call (it was not answered inside the
    /// handler that opened it); only then does finishing have to remove it from there.
    var isRegistered = false
    /// Strong on purpose: a handler may hold the call after the connection closed, and the
    /// connection drops its reference to the call when the call finishes, so there is no cycle
    /// once either side is done (a weak reference cost a side table per call on the hot path).
    let connection: ServerConnection

    init(
        streamID: UInt64, method: String, payload: [UInt8], isStream: Bool, deadline: UInt64?,
        connection: ServerConnection
    ) {
        currentStreamID = streamID
        currentMethod = method
        currentPayload = payload
        currentIsStream = isStream
        currentDeadline = deadline
        self.connection = connection
    }

    /// Payload storage a reused call keeps; a larger one is given back.
    static let maximumReusedPayloadBytes = 1024

    /// True when the call is over and holds no handler state, so that its connection may reuse
    /// it once nobody else holds it.
    var isReusable: Bool {
        isFinished && !isRegistered && onCancel == nil && onWritable == nil
    }

    /// Makes this finished call, which nobody but its connection holds, the call of a new
    /// request. The payload is copied into the old payload's storage when that is unshared and
    /// not too large.
    func reuse(streamID: UInt64, method: String, payload bytes: UnsafeRawBufferPointer, isStream: Bool, deadline: UInt64?) {
        precondition(isReusable, "reusing a call in progress")
        currentStreamID = streamID
        currentMethod = method
        if currentPayload.capacity > Self.maximumReusedPayloadBytes || bytes.count > Self.maximumReusedPayloadBytes {
            currentPayload = bytes.isEmpty ? [] : [UInt8](bytes.assumingMemoryBound(to: UInt8.self))
        } else {
            currentPayload.removeAll(keepingCapacity: true)
            if !bytes.isEmpty { currentPayload.append(contentsOf: bytes.assumingMemoryBound(to: UInt8.self)) }
        }
        currentIsStream = isStream
        currentDeadline = deadline
        isFinished = false
    }

    /// Decodes the request payload as `Message`, or fails the call with INVALID_ARGUMENT and
    /// returns nil.
    public func decode<Message: ProtoMessage>(_ type: Message.Type) -> Message? {
        do {
            return try payload.withUnsafeBytes { bytes throws(ProtoDecodingError) in
                try Message(protobuf: bytes)
            }
        } catch {
            fail(WireError(.invalidArgument, "\(method): request is not a valid \(Message.self): \(error)"))
            return nil
        }
    }

    /// Answers a unary call.
    public func respond(_ payload: [UInt8]) {
        loop.preconditionInLoop()
        precondition(!isStream, "respond is for unary calls; streams use send and finish")
        guard finish() else { return }
        payload.withUnsafeBytes { bytes in
            connection.tcp.sendCallFrame(streamID: streamID, kind: .response, payload: bytes)
        }
    }

    public func respond<Message: ProtoMessage>(_ message: Message) {
        respond(message.protobufBytes())
    }

    /// Fails a unary call or ends a stream with an error status.
    public func fail(_ error: WireError) {
        loop.preconditionInLoop()
        precondition(error.code != .ok, "fail needs an error code")
        guard finish() else { return }
        var envelope = Envelope()
        envelope.streamID = streamID
        envelope.kind = isStream ? .streamEnd : .error
        envelope.statusCode = error.code
        envelope.statusMessage = error.message
        connection.send(envelope)
    }

    /// Sends one stream item.
    @discardableResult
    public func send(_ payload: [UInt8]) -> StreamSendResult {
        loop.preconditionInLoop()
        precondition(isStream, "send is for server streams; unary calls use respond")
        guard !isFinished, !connection.isClosed else { return .closed }
        payload.withUnsafeBytes { bytes in
            connection.tcp.sendCallFrame(streamID: streamID, kind: .streamItem, payload: bytes)
        }
        return connection.isWritable ? .sent : .throttled
    }

    /// Sends one stream item whose payload is `prefix` followed by `shared`: for fan-out, where
    /// `shared` is encoded once and goes to many streams.
    @discardableResult
    public func send(prefix: [UInt8], shared: [UInt8]) -> StreamSendResult {
        loop.preconditionInLoop()
        precondition(isStream, "send is for server streams; unary calls use respond")
        guard !isFinished, !connection.isClosed else { return .closed }
        prefix.withUnsafeBytes { prefixBytes in
            shared.withUnsafeBytes { sharedBytes in
                connection.tcp.sendStreamItem(streamID: streamID, payloadPrefix: prefixBytes, payloadShared: sharedBytes)
            }
        }
        return connection.isWritable ? .sent : .throttled
    }

    /// Sends one stream item whose payload is `prefix` followed by `shared`, queueing a
    /// reference to `shared` instead of a copy: for fan-out of one encoded event to many
    /// streams, where the connection's backlog then grows by a header per item, not by the
    /// event's bytes. The peer receives the same frame as from `send(prefix:shared:)` with bytes.
    @discardableResult
    public func send(prefix: [UInt8], shared: SharedBytes) -> StreamSendResult {
        loop.preconditionInLoop()
        precondition(isStream, "send is for server streams; unary calls use respond")
        guard !isFinished, !connection.isClosed else { return .closed }
        prefix.withUnsafeBytes { prefixBytes in
            connection.tcp.sendStreamItem(streamID: streamID, payloadPrefix: prefixBytes, shared: shared)
        }
        return connection.isWritable ? .sent : .throttled
    }

    @discardableResult
    public func send<Message: ProtoMessage>(_ message: Message) -> StreamSendResult {
        send(message.protobufBytes())
    }

    /// Ends a stream normally.
    public func finish(status message: String = "") {
        loop.preconditionInLoop()
        precondition(isStream, "finish is for server streams")
        guard finish() else { return }
        var envelope = Envelope()
        envelope.streamID = streamID
        envelope.kind = .streamEnd
        envelope.statusCode = .ok
        envelope.statusMessage = message
        connection.send(envelope)
    }

    /// True while a stream item would be queued without pushing the peer past its high watermark.
    public var isWritable: Bool {
        return !isFinished && connection.isWritable
    }

    /// Marks the call finished; false if it already was (a late answer after cancel is dropped).
    private func finish() -> Bool {
        guard !isFinished else { return false }
        isFinished = true
        onCancel = nil
        onWritable = nil
        if isRegistered {
            isRegistered = false
            connection.callFinished(streamID)
        }
        return true
    }

    /// Called by the connection when the caller is gone.
    func cancel() {
        guard !isFinished else { return }
        isFinished = true
        onWritable = nil
        let handler = onCancel
        onCancel = nil
        handler?()
    }
}
