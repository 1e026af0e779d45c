/// BorrowedCall is a unary request handed to a borrowing handler (`MethodRouter.registerBorrowing`)
/// while its frame still lies in the connection's read buffer: the hot-path form of a call, with
/// no call object, no payload copy and no reference counting.
///
/// The handler answers before it returns, exactly once: `respond`, `fail`, or `detach` to answer
/// later. Answering twice is a programmer error (a precondition); a handler that returns
/// without answering has its call failed with INTERNAL at once, so the caller does not wait for
/// its deadline. `detach()` copies the request into a `ServerCall` that waits in the
/// connection's call table with its deadline and its cancellation like any other call.
///
/// Valid only during the handler, on the loop thread: `payload` points into the read buffer,
/// which the next read overwrites, and the call reaches its connection through an unowned(unsafe)
/// reference. The connection is alive while the handler runs (the transport holds it through its
/// relay for as long as it delivers frames). The type is not copyable and handlers get it
/// `borrowing`, so the compiler rejects keeping it, copying it or capturing it in a closure;
/// only the raw `payload` pointer could outlive the handler, and must not. Copy what you keep.
public struct BorrowedCall: ~Copyable {
    /// The call's stream id on its connection.
    public let streamID: UInt64
    /// The request's bytes, valid until the handler returns.
    public let payload: UnsafeRawBufferPointer
    /// Monotonic nanoseconds after which the caller has given up, or 0 for no deadline. An
    /// answer given inside the handler is always sent; a detached call is cancelled at this time.
    public let deadlineNanoseconds: UInt64
    /// Unretained: see the type's comment for why the connection outlives this value. Its
    /// methods are called through `_withUnsafeGuaranteedRef`, which costs no retain/release.
    let unmanagedConnection: Unmanaged<ServerConnection>

    init(streamID: UInt64, payload: UnsafeRawBufferPointer, deadlineNanoseconds: UInt64, connection: ServerConnection) {
        self.streamID = streamID
        self.payload = payload
        self.deadlineNanoseconds = deadlineNanoseconds
        self.unmanagedConnection = Unmanaged.passUnretained(connection)
    }

    /// The connection, for the rare paths (a strong reference for the duration of the use).
    var connection: ServerConnection { unmanagedConnection.takeUnretainedValue() }

    /// The method called.
    public var method: String { connection.currentMethod }
    /// Who called, as the connection's handshake established it.
    public var peer: PeerIdentity { connection.peerIdentity }
    /// The connection's loop, where the handler runs.
    public var loop: EventLoop { connection.loop }

    /// Answers with `payload`, copied straight into the connection's outbound buffer.
    public func respond(_ payload: UnsafeRawBufferPointer) {
        let streamID = self.streamID
        unmanagedConnection._withUnsafeGuaranteedRef { $0.respondBorrowed(streamID: streamID, payload: payload) }
    }

    /// Answers with `payload`.
    public func respond(_ payload: [UInt8]) {
        payload.withUnsafeBytes { bytes in respond(bytes) }
    }

    /// Answers with a payload of exactly `byteCount` bytes that `encode` writes in place, in the
    /// connection's outbound buffer: no intermediate array. `encode` must initialize every byte
    /// of the buffer it is given and must not keep it.
    public func respond(byteCount: Int, _ encode: (UnsafeMutableRawBufferPointer) -> Void) {
        precondition(byteCount >= 0 && byteCount <= Int(Int32.max), "a response payload of \(byteCount) bytes")
        let streamID = self.streamID
        unmanagedConnection._withUnsafeGuaranteedRef { connection in
            connection.answerBorrowedCall()
            connection.tcp.sendResponse(streamID: streamID, payloadByteCount: byteCount, encode)
        }
    }

    /// Answers with `message`, encoded once.
    public func respond<Message: ProtoMessage>(_ message: Message) {
        respond(message.protobufBytes())
    }

    /// Fails the call with an error status.
    public func fail(_ error: WireError) {
        precondition(error.code != .ok, "fail needs an error code")
        connection.answerBorrowedCall()
        connection.sendCallError(streamID: streamID, error)
    }

    /// Decodes the payload as `Message`. The error (INVALID_ARGUMENT, naming the method, the
    /// message and what is wrong) is what to `fail` the call with.
    public func decode<Message: ProtoMessage>(_ type: Message.Type) throws(WireError) -> Message {
        do {
            return try Message(protobuf: payload)
        } catch {
            throw WireError(.invalidArgument, "\(method): request is not a valid \(Message.self): \(error)")
        }
    }

    /// Turns this request into a `ServerCall` to answer after the handler returns: the payload
    /// is copied, and the call waits in the connection's call table for its answer, a cancel,
    /// its deadline or the end of the connection, like a call of a `(ServerCall) -> Void` route.
    public func detach() -> ServerCall {
        connection.answerBorrowedCall()
        return connection.detach(streamID: streamID, payload: payload, deadlineNanoseconds: deadlineNanoseconds)
    }
}

/// A handler of borrowed calls (see `BorrowedCall`).
public typealias BorrowedCallHandler = (borrowing BorrowedCall) -> Void
