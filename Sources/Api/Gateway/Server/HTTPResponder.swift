import Atomics
import NIOCore
import NIOHTTP1
import Wire

/// HTTPResponder writes the answer to one request onto its connection, from any thread: either
/// a whole response (`respond`), or a chunked stream (`startStream`, `send`, `endStream`) for
/// watches and large lists. Writes are queued in order on the connection's event loop.
///
/// Streams count the bytes written but not yet handed to the socket (`pendingBytes`), which is
/// how a watcher on this connection knows that its client is behind.
final class HTTPResponder: Sendable {
    let channel: any Channel
    let keepAlive: Bool
    private let pending = ManagedAtomic<Int>(0)
    private let closed = ManagedAtomic<Bool>(false)

    init(channel: any Channel, keepAlive: Bool) {
        self.channel = channel
        self.keepAlive = keepAlive
        channel.closeFuture.whenComplete { [closed] _ in closed.store(true, ordering: .releasing) }
    }

    /// True once the connection is gone.
    var isClosed: Bool { closed.load(ordering: .acquiring) }

    /// Bytes queued on a stream and not yet written to the socket.
    var pendingBytes: Int { pending.load(ordering: .relaxed) }

    private func head(_ status: HTTPResponseStatus, _ headers: HTTPHeaders) -> HTTPResponseHead {
        var headers = headers
        if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        headers.replaceOrAdd(name: "cache-control", value: "no-cache, private")
        return HTTPResponseHead(version: .http1_1, status: status, headers: headers)
    }

    /// Sends a complete response.
    func respond(_ status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: ByteBuffer) {
        var headers = headers
        headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        channel.write(HTTPServerResponsePart.head(head(status, headers)), promise: nil)
        if body.readableBytes > 0 { channel.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil) }
        finish()
    }

    /// Starts a chunked response.
    func startStream(_ status: HTTPResponseStatus, headers: HTTPHeaders) {
        var headers = headers
        headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
        channel.writeAndFlush(HTTPServerResponsePart.head(head(status, headers)), promise: nil)
    }

    /// Queues one chunk; says whether the client keeps up (`pendingBytes` under `limit`).
    @discardableResult
    func send(_ chunk: ByteBuffer, limit: Int) -> StreamSendResult {
        guard !isClosed else { return .closed }
        let size = chunk.readableBytes
        guard size > 0 else { return .sent }
        let queued = pending.wrappingIncrementThenLoad(by: size, ordering: .relaxed)
        let promise = channel.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { [pending] _ in pending.wrappingDecrement(by: size, ordering: .relaxed) }
        channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(chunk)), promise: promise)
        return queued > limit ? .throttled : .sent
    }

    /// Ends a chunked stream (or a response whose head and body were written).
    func endStream() { finish() }

    private func finish() {
        let keepAlive = self.keepAlive
        let channel = self.channel
        channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}
