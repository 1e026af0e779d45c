import CLibUV
import Foundation
import Testing

@testable import Wire

/// Fan-out frames whose payload the outbound queue references instead of copying: their bytes,
/// the queue's cursor through partial and vectored writes, and the behaviour over loopback.
@Suite("Shared-payload frames", .serialized)
struct SharedPayloadTests {
    @Test("a stream item queued by reference has the bytes of the copied stream item")
    func headPlusSharedEqualsEnvelope() {
        let sizes = [0, 1, 127, 128, 1000, 70_000]
        for streamID: UInt64 in [1, 127, 128, 1 << 35, UInt64.max] {
            for prefix: [UInt8] in [[], [0x10, 0x05], [UInt8](repeating: 3, count: 130)] {
                for size in sizes {
                    let shared = SharedBytes((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
                    var head = FrameBuffer()
                    prefix.withUnsafeBytes { p in
                        Frame.appendStreamItemHead(streamID: streamID, payloadPrefix: p, sharedByteCount: shared.count, to: &head)
                    }
                    var envelope = Envelope()
                    envelope.streamID = streamID
                    envelope.kind = .streamItem
                    envelope.payload = prefix + shared.array
                    #expect(Array(head.bytes) + shared.array == Frame.encode(envelope), "stream \(streamID) prefix \(prefix.count) B shared \(size) B")
                }
            }
        }
    }

    @Test("the outbound queue yields owned and shared bytes in order through partial writes, any vector limit and appends while draining")
    func queueDrainsInOrder() {
        var random = SplitMix64(seed: 7)
        let payloads = (0..<5).map { index in
            SharedBytes((0..<(1 + index * 700)).map { UInt8(truncatingIfNeeded: $0 &+ index &* 41) })
        }
        for vectorLimit in [1, 2, 3, 7, EventLoop.maximumWriteBuffers] {
            var queue = OutboundQueue()
            var model: [UInt8] = []
            var received: [UInt8] = []
            let buffers = UnsafeMutableBufferPointer<uv_buf_t>.allocate(capacity: vectorLimit)
            defer { buffers.deallocate() }
            func appendSome() {
                for _ in 0..<Int(random.next() % 20) {
                    if random.next() % 3 == 0 {
                        let payload = payloads[Int(random.next() % UInt64(payloads.count))]
                        queue.append(shared: payload)
                        model += payload.array
                    } else {
                        let owned = (0..<Int(random.next() % 40)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                        owned.withUnsafeBytes { queue.owned.append($0) }
                        model += owned
                    }
                }
                // A zero-byte payload is queued as nothing.
                queue.append(shared: SharedBytes([]))
            }
            appendSome()
            for round in 0..<400 {
                #expect(queue.unsentBytes == model.count - received.count)
                if round % 4 == 0 { appendSome() }
                guard !queue.isEmpty else { continue }
                let (count, bytes) = queue.gather(into: buffers)
                #expect(count > 0 && count <= vectorLimit && bytes > 0 && bytes <= queue.unsentBytes)
                // The socket takes some prefix of what was offered, possibly none or all of it.
                let taken = Int(random.next() % UInt64(bytes + 1))
                var left = taken
                for index in 0..<count where left > 0 {
                    let piece = min(left, Int(buffers[index].len))
                    received += UnsafeRawBufferPointer(start: buffers[index].base, count: piece)
                    left -= piece
                }
                queue.consume(taken)
            }
            while !queue.isEmpty {
                let (count, bytes) = queue.gather(into: buffers)
                for index in 0..<count {
                    received += UnsafeRawBufferPointer(start: buffers[index].base, count: Int(buffers[index].len))
                }
                queue.consume(bytes)
            }
            #expect(received == model, "vector limit \(vectorLimit)")
            queue.reset(keepingCapacityUpTo: 0)
            #expect(queue.isEmpty && queue.heldBytes == 0)
        }
    }

    @Test("a backlog of frames of one shared payload holds a reference per frame, not a copy")
    func backlogHoldsReferences() {
        let event = SharedBytes([UInt8](repeating: 0x5A, count: 1024))
        var queue = OutboundQueue()
        for streamID: UInt64 in 1...1000 {
            Frame.appendStreamItemHead(
                streamID: streamID, payloadPrefix: UnsafeRawBufferPointer(start: nil, count: 0),
                sharedByteCount: event.count, to: &queue.owned)
            queue.append(shared: event)
        }
        #expect(queue.unsentBytes > 1000 * 1024)
        // A header and a reference per frame: well under a tenth of the bytes it stands for.
        #expect(queue.heldBytes < 64 << 10, "held \(queue.heldBytes) bytes for \(queue.unsentBytes) unsent")
    }

    @Test("shared-payload items arrive intact and in order on every stream, interleaved with copied items and unary answers")
    func fanOutOverLoopback() async throws {
        let streams = 6
        let events = 1500
        let fan = FanOut(streams: streams)
        let router = makeRouter()
        router.register("test.Fan") { call in fan.opened(call, events: events) }
        let server = try await TestServer(router: router)
        let client = TestClient(address: server.address)
        let collected = (0..<streams).map { _ in ReceivedItems() }
        let ended = Counter()
        await client.loop.submit {
            for index in 0..<streams {
                client.client.openStream("test.Fan", [UInt8(index)]) { event in
                    switch event {
                    case .item(let bytes): collected[index].items.append(bytes)
                    case .end(let error):
                        if error == nil { ended.increment() }
                    }
                }
            }
        }
        // Unary calls on the same connection while the burst is queued behind them.
        for round in 0..<20 {
            let payload = [UInt8](repeating: UInt8(round), count: round * 100)
            #expect(try await client.client.call("test.Echo", payload) == payload)
        }
        try await eventually(seconds: 60) { ended.value == streams }
        for index in 0..<streams {
            let items = await client.loop.submit { collected[index].items }
            #expect(items.count == events * 2, "stream \(index) got \(items.count) items")
            #expect(items == FanOut.expectedItems(stream: index, events: events), "stream \(index) differs")
        }
        await client.stop()
        await server.stop()
    }

    @Test("a stalled reader of shared-payload items is cut off at the outbound limit while another client is served")
    func stalledReaderIsCutOff() async throws {
        let router = makeRouter()
        let throttled = Counter()
        let cutOff = Counter()
        let heldAtThrottle = Box<(held: Int, unsent: Int)>()
        let event = SharedBytes([UInt8](repeating: 0x42, count: 16 << 10))
        router.register("test.FanFlood") { call in
            while call.send(prefix: [], shared: event) == .sent {}
            heldAtThrottle.value = (call.connection.tcp.outboundHeldBytes, call.connection.tcp.outboundBytes)
            throttled.increment()
            // Keep producing, ignoring back-pressure, as a broken producer would.
            let timer = LoopTimer(loop: call.loop)
            timer.arm(milliseconds: 2, repeatMilliseconds: 2) {
                for _ in 0..<64 {
                    if call.send(prefix: [], shared: event) == .closed {
                        cutOff.increment()
                        timer.cancel()
                        return
                    }
                }
            }
        }
        let server = try await TestServer(router: router) { configuration in
            configuration.limits.highWatermarkBytes = 1 << 20
            configuration.limits.lowWatermarkBytes = 256 << 10
            configuration.limits.maximumOutboundBytes = 16 << 20
        }
        let healthy = TestClient(address: server.address)
        #expect(try await healthy.client.call("test.Echo", [1]) == [1])
        let slow = try RawSocket(server.address)
        slow.handshake()
        slow.write(Frame.encode(request(1, "test.FanFlood", flags: Frame.flagServerStream)))
        try await eventually { throttled.value == 1 }
        let held = heldAtThrottle.value!
        #expect(held.unsent > 1 << 20)
        #expect(held.held * 16 < held.unsent, "the queue held \(held.held) bytes for \(held.unsent) unsent: copies, not references")
        var served = 0
        while cutOff.value == 0 && served < 5000 {
            #expect(try await healthy.client.call("test.Echo", [UInt8(served % 256)]) == [UInt8(served % 256)])
            served += 1
            try await Task.sleep(for: .milliseconds(2))
        }
        #expect(cutOff.value == 1, "the stalled reader was never disconnected")
        #expect(served > 0)
        let (bytes, closed) = slow.readUntilClosed()
        #expect(closed)
        // What did arrive is whole frames of the event.
        let frames = decodeFrames(bytes).filter { $0.kind == .streamItem }
        #expect(!frames.isEmpty && frames.allSatisfy { $0.payload == event.array })
        await healthy.stop()
        await server.stop()
    }
}

/// FanOut sends the same events to every open "test.Fan" stream once all are open: each event
/// is one SharedBytes sent by reference to every stream (with the stream's index as a prefix),
/// followed by a copied item; the sizes vary so that frames straddle write boundaries.
final class FanOut: @unchecked Sendable {
    // Safety of @unchecked Sendable: touched on the server's loop only.
    let streams: Int
    private var calls: [Int: ServerCall] = [:]

    init(streams: Int) { self.streams = streams }

    static func eventBytes(_ event: Int) -> [UInt8] {
        let size = event % 50 == 0 ? 100_000 : 1 + (event * 37) % 3000
        return (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ event) }
    }

    static func expectedItems(stream: Int, events: Int) -> [[UInt8]] {
        (0..<events).flatMap { event in [[UInt8(stream)] + eventBytes(event), [0xEE, UInt8(truncatingIfNeeded: event)]] }
    }

    func opened(_ call: ServerCall, events: Int) {
        calls[Int(call.payload.first ?? 0)] = call
        guard calls.count == streams else { return }
        for event in 0..<events {
            let shared = SharedBytes(Self.eventBytes(event))
            for index in 0..<streams {
                let call = calls[index]!
                call.send(prefix: [UInt8(index)], shared: shared)
                call.send([0xEE, UInt8(truncatingIfNeeded: event)])
            }
        }
        for call in calls.values { call.finish() }
    }
}

/// Items one stream received; touched on the client's loop only.
final class ReceivedItems: @unchecked Sendable {
    var items: [[UInt8]] = []
}
