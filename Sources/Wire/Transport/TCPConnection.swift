import CLibUV

#if canImport(Glibc)
import Glibc
#endif

/// TCPConnectionDelegate receives what happens on a connection, always on its loop thread.
public protocol TCPConnectionDelegate: AnyObject {
    /// Every frame decoded from one read, in order: the delegate is entered once per read batch.
    /// The views are valid only during the call; a delegate copies out what it keeps.
    func connection(_ connection: TCPConnection, didRead frames: [FrameView])
    /// The peer sent bytes that are not frames; the connection closes after this call.
    func connection(_ connection: TCPConnection, didFail error: FrameError)
    /// The outbound buffer crossed the high watermark (false) or drained below the low one (true).
    func connection(_ connection: TCPConnection, writabilityChanged writable: Bool)
    /// The connection is closed; `reason` says why. Called exactly once.
    func connectionDidClose(_ connection: TCPConnection, reason: String)
}

/// TCPConnectionLimits bound what one connection may hold in memory.
public struct TCPConnectionLimits: Sendable {
    /// Largest frame accepted from the peer.
    public var maximumFrameBytes: Int = Frame.defaultMaximumBytes
    /// Above this many unsent bytes the connection stops reading requests from its peer and
    /// tells stream producers to pause.
    public var highWatermarkBytes: Int = 8 << 20
    /// Below this many unsent bytes, reading and producing resume.
    public var lowWatermarkBytes: Int = 2 << 20
    /// Above this many unsent bytes the peer is too slow: the connection is closed with a reason.
    public var maximumOutboundBytes: Int = 64 << 20

    public init() {}

    func validated() -> TCPConnectionLimits {
        precondition(lowWatermarkBytes < highWatermarkBytes)
        precondition(highWatermarkBytes <= maximumOutboundBytes)
        precondition(maximumFrameBytes > 0)
        return self
    }
}

/// TCPConnection is one libuv TCP stream carrying frames. It lives on one loop and every method
/// must be called there.
///
/// Outbound frames are appended to `queue` and written once per loop turn (`flush`). What the
/// kernel does not take at once moves, without a copy, to `writing`, which `uv_write` sends from
/// while new frames keep accumulating in `queue`; `writing` is not touched until it is all
/// written. Fan-out frames (`sendStreamItem(streamID:payloadPrefix:shared:)`) queue a header and
/// a reference to the shared payload rather than a copy of it, so a backlog of them costs
/// memory per frame, not per payload byte (see OutboundQueue).
public final class TCPConnection: @unchecked Sendable {
    // Safety of @unchecked Sendable: all state is touched on `loop` only (preconditionInLoop).

    public let loop: EventLoop
    public let limits: TCPConnectionLimits
    public weak var delegate: (any TCPConnectionDelegate)?
    /// "host:port" of the peer, for messages.
    public private(set) var peerDescription: String = "unknown peer"

    let handle: UnsafeMutablePointer<uv_tcp_t>
    private var decoder: FrameDecoder
    /// Where new frames go.
    private var queue = OutboundQueue()
    /// What is being written by `uv_write`, frozen until it is all written; empty otherwise.
    private var writing = OutboundQueue()
    /// Bytes of the `uv_write` in flight (a part of `writing`); 0 when none is.
    private var writeRequestBytes = 0
    private var flushScheduled = false
    private var reading = false
    private var throttled = false
    public private(set) var isClosed = false
    /// Frames and bytes seen, for metrics and tests.
    public private(set) var framesRead = 0
    public private(set) var bytesRead = 0
    public private(set) var bytesWritten = 0

    init(loop: EventLoop, limits: TCPConnectionLimits) {
        loop.preconditionInLoop()
        self.loop = loop
        self.limits = limits.validated()
        self.decoder = FrameDecoder(maximumFrameBytes: limits.maximumFrameBytes)
        handle = .allocate(capacity: 1)
        precondition(uv_tcp_init(loop.uvLoop, handle) == 0)
        // The handle owns one reference until its close callback runs.
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    static func from(_ handle: UnsafeMutableRawPointer?) -> TCPConnection {
        let stream = handle!.assumingMemoryBound(to: uv_handle_t.self)
        return Unmanaged<TCPConnection>.fromOpaque(stream.pointee.data).takeUnretainedValue()
    }

    var stream: UnsafeMutablePointer<uv_stream_t> {
        UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self)
    }

    /// Unsent bytes: queued plus handed to an unfinished `uv_write`. Shared payloads count in
    /// full: this is how far behind the peer is, and what the watermarks bound.
    public var outboundBytes: Int { queue.unsentBytes + writing.unsentBytes }

    /// Memory the outbound buffers hold: their capacity and the references to shared payloads
    /// (which are not counted: they belong to whoever shares them).
    public var outboundHeldBytes: Int { queue.heldBytes + writing.heldBytes }

    /// False while the peer is not reading fast enough; producers should pause until told.
    public var isWritable: Bool { !throttled && !isClosed }

    func didConnect() {
        loop.preconditionInLoop()
        uv_tcp_nodelay(handle, 1)
        peerDescription = Self.peerName(handle) ?? "unknown peer"
        startReading()
    }

    // MARK: Reading

    private func startReading() {
        guard !reading, !isClosed else { return }
        reading = true
        let result = uv_read_start(stream, { handle, _, buffer in
            let connection = TCPConnection.from(UnsafeMutableRawPointer(handle))
            let loopBuffer = connection.loop.readBuffer
            buffer!.pointee = uv_buf_init(
                loopBuffer.baseAddress!.assumingMemoryBound(to: CChar.self),
                UInt32(loopBuffer.count))
        }, { stream, count, buffer in
            TCPConnection.from(UnsafeMutableRawPointer(stream)).didRead(
                count: count, base: buffer!.pointee.base)
        })
        if result != 0 { close(reason: "cannot read: \(uvError(result))") }
    }

    private func stopReading() {
        guard reading else { return }
        reading = false
        uv_read_stop(stream)
    }

    private func didRead(count: Int, base: UnsafeMutablePointer<CChar>?) {
        if count < 0 {
            let reason = count == Int(UV_EOF.rawValue) ? "peer closed the connection" : uvError(Int32(count))
            close(reason: reason)
            return
        }
        guard count > 0, let base else { return }
        bytesRead += count
        let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(base), count: count)
        do {
            try decoder.feedBatch(bytes) { frames in deliver(frames) }
        } catch {
            delegate?.connection(self, didFail: error)
            close(reason: error.description)
        }
    }

    private func deliver(_ frames: [FrameView]) {
        guard !isClosed else { return }
        framesRead += frames.count
        delegate?.connection(self, didRead: frames)
    }

    // MARK: Writing

    /// Queues one frame; it is written at the end of this loop turn.
    public func send(_ envelope: Envelope) {
        loop.preconditionInLoop()
        guard !isClosed else { return }
        Frame.append(envelope, to: &queue.owned)
        afterQueueing()
    }

    /// Queues a stream item built from two payload parts (see `Frame.appendStreamItem`).
    public func sendStreamItem(
        streamID: UInt64, payloadPrefix: UnsafeRawBufferPointer, payloadShared: UnsafeRawBufferPointer
    ) {
        loop.preconditionInLoop()
        guard !isClosed else { return }
        Frame.appendCallFrame(
            streamID: streamID, kind: .streamItem, method: UnsafeRawBufferPointer(start: nil, count: 0),
            payload: payloadPrefix, payloadTail: payloadShared, to: &queue.owned)
        afterQueueing()
    }

    /// Queues a stream item whose payload is `payloadPrefix` followed by `shared`, without
    /// copying `shared`: the queue keeps the frame's header and prefix and a reference to the
    /// shared bytes, which the socket write reads in place. The bytes on the wire are those of
    /// the copying variant above.
    public func sendStreamItem(streamID: UInt64, payloadPrefix: UnsafeRawBufferPointer, shared: SharedBytes) {
        loop.preconditionInLoop()
        guard !isClosed else { return }
        Frame.appendStreamItemHead(
            streamID: streamID, payloadPrefix: payloadPrefix, sharedByteCount: shared.count, to: &queue.owned)
        queue.append(shared: shared)
        afterQueueing()
    }

    /// Queues a request, response or stream item (see `Frame.appendCallFrame`), encoded straight
    /// into the outbound buffer.
    func sendCallFrame(
        streamID: UInt64, kind: FrameKind, method: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        payload: UnsafeRawBufferPointer, deadlineMilliseconds: UInt32 = 0, flags: UInt32 = 0
    ) {
        loop.preconditionInLoop()
        guard !isClosed else { return }
        Frame.appendCallFrame(
            streamID: streamID, kind: kind, method: method, payload: payload,
            deadlineMilliseconds: deadlineMilliseconds, flags: flags, to: &queue.owned)
        afterQueueing()
    }

    /// Queues a request, written straight into the outbound buffer by the request writer
    /// (`Frame.appendRequest`) with its method field encoded beforehand.
    func sendRequest(
        streamID: UInt64, methodField: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer,
        deadlineMilliseconds: UInt32, flags: UInt32
    ) {
        // Internal and on the hot path: every caller runs on the loop already (WireClient's
        // entry points and a borrowing handler, which the loop calls), so only debug builds
        // check again.
        assert(loop.inLoop, "must run on event loop \(loop.name)")
        guard !isClosed else { return }
        Frame.appendRequest(
            streamID: streamID, methodField: methodField, payload: payload, deadlineMilliseconds: deadlineMilliseconds,
            flags: flags, to: &queue.owned)
        afterQueueing()
    }

    /// Queues the response of a unary call, written straight into the outbound buffer by the
    /// response writer (`Frame.appendResponse`).
    func sendResponse(streamID: UInt64, payload: UnsafeRawBufferPointer) {
        // Internal and on the hot path: every caller runs on the loop already (WireClient's
        // entry points and a borrowing handler, which the loop calls), so only debug builds
        // check again.
        assert(loop.inLoop, "must run on event loop \(loop.name)")
        guard !isClosed else { return }
        Frame.appendResponse(streamID: streamID, payloadByteCount: payload.count, to: &queue.owned) { target in
            target.copyMemory(from: payload.baseAddress!, byteCount: payload.count)
        }
        afterQueueing()
    }

    /// Queues the response of a unary call whose `payloadByteCount` payload bytes `encode`
    /// writes in place in the outbound buffer.
    func sendResponse(
        streamID: UInt64, payloadByteCount: Int, _ encode: (UnsafeMutableRawBufferPointer) -> Void
    ) {
        // Internal and on the hot path: every caller runs on the loop already (WireClient's
        // entry points and a borrowing handler, which the loop calls), so only debug builds
        // check again.
        assert(loop.inLoop, "must run on event loop \(loop.name)")
        guard !isClosed else { return }
        if payloadByteCount == 0 { encode(UnsafeMutableRawBufferPointer(start: nil, count: 0)) }
        Frame.appendResponse(streamID: streamID, payloadByteCount: payloadByteCount, to: &queue.owned) { target in
            encode(UnsafeMutableRawBufferPointer(start: target, count: payloadByteCount))
        }
        afterQueueing()
    }

    /// Queues bytes that already hold whole frames (for example one watch event encoded once
    /// and sent to many connections).
    public func send(encodedFrames bytes: UnsafeRawBufferPointer) {
        loop.preconditionInLoop()
        guard !isClosed else { return }
        queue.owned.append(bytes)
        afterQueueing()
    }

    /// After a frame was queued: the bounds and the flush at the end of the turn. The common
    /// case (within the watermark, flush already scheduled) is two compares, inlined.
    @inline(__always)
    private func afterQueueing() {
        if flushScheduled && !throttled && outboundBytes <= limits.highWatermarkBytes { return }
        afterQueueingSlowly()
    }

    private func afterQueueingSlowly() {
        if outboundBytes > limits.maximumOutboundBytes {
            close(reason: "peer is not reading: \(outboundBytes) bytes unsent exceed the limit of "
                + "\(limits.maximumOutboundBytes) bytes")
            return
        }
        if !throttled && outboundBytes > limits.highWatermarkBytes {
            throttled = true
            stopReading()
            delegate?.connection(self, writabilityChanged: false)
        }
        if !flushScheduled {
            flushScheduled = true
            loop.onTurnEnd { [self] in flush() }
        }
    }

    /// Writes what is queued now instead of at the end of the turn.
    public func flush() {
        flushScheduled = false
        guard !isClosed, writing.isEmpty, !queue.isEmpty else { return }
        // As much as the kernel takes now, without a write request; a fan-out backlog may need
        // several vectored writes (each takes at most `maximumWriteBuffers` pieces).
        let buffers = loop.writeBuffers
        while !queue.isEmpty {
            let (count, bytes) = queue.gather(into: buffers)
            let written = uv_try_write(stream, buffers.baseAddress, UInt32(count))
            if written < 0 && written != UV_EAGAIN.rawValue {
                close(reason: "write failed: \(uvError(written))")
                return
            }
            let done = max(0, Int(written))
            queue.consume(done)
            bytesWritten += done
            if done < bytes { break }
        }
        if queue.isEmpty {
            queue.reset(keepingCapacityUpTo: Self.keptQueueCapacity)
            updateWritability()
            return
        }
        // The rest goes out through `uv_write` from where it is: no copy. New frames go to the
        // (empty) other queue meanwhile.
        swap(&queue, &writing)
        startWrite()
    }

    /// Owned outbound memory a drained queue keeps for the next frames.
    static let keptQueueCapacity = 1 << 20

    /// Hands the next part of `writing` to `uv_write`; one request is in flight at a time.
    private func startWrite() {
        let buffers = loop.writeBuffers
        let (count, bytes) = writing.gather(into: buffers)
        precondition(count > 0 && writeRequestBytes == 0, "a write request with nothing to write or while another is in flight")
        let request = UnsafeMutablePointer<uv_write_t>.allocate(capacity: 1)
        writeRequestBytes = bytes
        // libuv copies the buffer array; the bytes it points at stay put until the callback.
        let result = uv_write(request, stream, buffers.baseAddress, UInt32(count)) { request, status in
            let connection = TCPConnection.from(UnsafeMutableRawPointer(request!.pointee.handle))
            request!.deallocate()
            connection.didWrite(status: status)
        }
        if result != 0 {
            request.deallocate()
            writeRequestBytes = 0
            writing.reset(keepingCapacityUpTo: 0)
            close(reason: "write failed: \(uvError(result))")
        }
    }

    private func didWrite(status: Int32) {
        let done = writeRequestBytes
        writeRequestBytes = 0
        if status < 0 {
            writing.reset(keepingCapacityUpTo: 0)
            close(reason: status == UV_ECANCELED.rawValue ? "closed" : "write failed: \(uvError(status))")
            return
        }
        writing.consume(done)
        bytesWritten += done
        if isClosed {
            writing.reset(keepingCapacityUpTo: 0)
            return
        }
        if !writing.isEmpty {
            startWrite()
            return
        }
        writing.reset(keepingCapacityUpTo: Self.keptQueueCapacity)
        updateWritability()
        flush()
    }

    private func updateWritability() {
        if throttled && outboundBytes < limits.lowWatermarkBytes {
            throttled = false
            startReading()
            delegate?.connection(self, writabilityChanged: true)
        }
    }

    // MARK: Closing

    /// Sends `envelope` if the socket takes it now, then closes: the way a peer learns why.
    public func close(after envelope: Envelope, reason: String) {
        send(envelope)
        flush()
        close(reason: reason)
    }

    /// Closes the connection; pending writes are dropped. The delegate hears once.
    public func close(reason: String) {
        loop.preconditionInLoop()
        guard !isClosed else { return }
        isClosed = true
        stopReading()
        let raw = UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)
        // A loop shutting down closes every handle itself; closing twice would abort in libuv.
        if uv_is_closing(raw) != 0 {
            releaseQueues()
            delegate?.connectionDidClose(self, reason: reason)
            return
        }
        uv_close(raw) { handle in
            let opaque = handle!.pointee.data!
            handle!.withMemoryRebound(to: uv_tcp_t.self, capacity: 1) { $0.deallocate() }
            Unmanaged<TCPConnection>.fromOpaque(opaque).release()
        }
        releaseQueues()
        delegate?.connectionDidClose(self, reason: reason)
    }

    /// Drops what was not sent. A `uv_write` in flight still points into `writing`: that queue
    /// goes when its callback (cancelled by the close) runs.
    private func releaseQueues() {
        queue.reset(keepingCapacityUpTo: 0)
        if writeRequestBytes == 0 { writing.reset(keepingCapacityUpTo: 0) }
    }

    private static func peerName(_ handle: UnsafeMutablePointer<uv_tcp_t>) -> String? {
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                uv_tcp_getpeername(handle, $0, &length)
            }
        }
        guard result == 0 else { return nil }
        return SocketAddress(storage)?.description
    }
}

func uvError(_ code: Int32) -> String {
    String(cString: uv_strerror(code))
}

func uvError(_ code: Int) -> String {
    uvError(Int32(truncatingIfNeeded: code))
}
