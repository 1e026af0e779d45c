import Foundation
import NIOCore
import NIOHTTP1
import Wire

/// HTTPWatchSink is one HTTP watch (`?watch=1`): a chunked response of newline-delimited
/// WatchEvent JSON (`{"type":"ADDED","object":{…}}`), or of Table events for `as=Table`
/// watchers. Each event's line is encoded once per format for every HTTP watcher of the cache
/// (WatchDelivery.sharedEncoding), and the same ByteBuffer goes to each of them.
///
/// It lives on the API server's loop like every sink; writes hop to the connection's NIO loop.
/// The cache's slow-watcher rule applies: `deliver` says `.throttled` while more than
/// `bufferBytes` are unsent on the connection.
final class HTTPWatchSink: WatchSink, @unchecked Sendable {
    // Safety of @unchecked Sendable: state is touched on the API server's loop only (deliver,
    // end and onCancel come from the watch cache there; the close and timeout callbacks hop
    // there first).
    let responder: HTTPResponder
    let type: ResourceType
    let format: ResponseFormat
    let include: IncludeObject
    let bufferBytes: Int
    let loop: Wire.EventLoop
    var onCancel: (() -> Void)?
    private var headSent = false
    private var finished = false
    /// Table watchers get the column definitions with their first event only.
    private var tableHeadersSent = false

    init(responder: HTTPResponder, type: ResourceType, format: ResponseFormat, include: IncludeObject, bufferBytes: Int, loop: Wire.EventLoop) {
        self.responder = responder
        self.type = type
        self.format = format
        self.include = include
        self.bufferBytes = bufferBytes
        self.loop = loop
    }

    /// After the watch is registered: sends the response head (if no event did yet), ends the
    /// stream after `timeoutSeconds`, and releases the watcher when the client goes away.
    func started(timeoutSeconds: Int64?) {
        loop.preconditionInLoop()
        sendHead()
        responder.channel.closeFuture.whenComplete { [self] _ in
            loop.execute { self.cancel() }
        }
        if let timeoutSeconds {
            responder.channel.eventLoop.scheduleTask(in: .seconds(timeoutSeconds)) { [self] in
                loop.execute { self.timedOut() }
            }
        }
    }

    private func sendHead() {
        guard !headSent else { return }
        headSent = true
        let contentType = format == .table ? ResponseFormat.tableMediaType : "application/json"
        responder.startStream(.ok, headers: Gateway.headers(contentType: contentType))
    }

    func deliver(_ delivery: inout WatchDelivery) -> StreamSendResult {
        guard !finished, !responder.isClosed else { return .closed }
        sendHead()
        let line: ByteBuffer
        switch format {
        case .json:
            line = delivery.sharedEncoding("json") { Self.jsonLine($0) }
        case .table:
            let headers = !tableHeadersSent
            tableHeadersSent = true
            let include = self.include
            line = delivery.sharedEncoding("table:\(include.rawValue):\(headers)") {
                Self.tableLine($0, include: include, includeHeaders: headers)
            }
        }
        return responder.send(line, limit: bufferBytes)
    }

    func end(error: ApiError) {
        guard !finished else { return }
        sendHead()
        let event: JSONValue = ["type": "ERROR", "object": Gateway.statusJSON(error)]
        responder.send(Self.line(event), limit: Int.max)
        finish()
    }

    /// The client went away.
    private func cancel() {
        guard !finished else { return }
        finished = true
        runOnCancel()
    }

    /// timeoutSeconds passed: the stream ends normally; the client watches again.
    private func timedOut() {
        guard !finished else { return }
        finish()
        runOnCancel()
    }

    private func finish() {
        finished = true
        responder.endStream()
    }

    private func runOnCancel() {
        let handler = onCancel
        onCancel = nil
        handler?()
    }

    // MARK: Event lines

    static func line(_ event: JSONValue) -> ByteBuffer {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(2048)
        event.write(to: &bytes)
        bytes.append(UInt8(ascii: "\n"))
        return ByteBuffer(bytes: bytes)
    }

    static func jsonLine(_ delivery: WatchDelivery) -> ByteBuffer {
        let type = delivery.resourceType
        let object: JSONValue
        if let cached = delivery.object {
            object = type.encodeJSON(cached.object)
        } else {
            object = [
                "kind": .string(type.kind), "apiVersion": .string(type.apiVersion),
                "metadata": ["resourceVersion": .string(String(delivery.revision))],
            ]
        }
        return line(["type": .string(delivery.type), "object": object])
    }

    static func tableLine(_ delivery: WatchDelivery, include: IncludeObject, includeHeaders: Bool) -> ByteBuffer {
        var meta = ListMeta()
        meta.resourceVersion = String(delivery.revision)
        let objects = delivery.object.map { [$0.object] } ?? []
        let table = Gateway.tableJSON(
            type: delivery.resourceType, objects: objects, listMeta: meta, include: include, includeHeaders: includeHeaders)
        return line(["type": .string(delivery.type), "object": table])
    }
}
