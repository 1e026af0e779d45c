import Foundation
import Testing
import Wire

/// Loopback tests of the wire with a real server and client on their own loops.
@Suite("Wire connections over loopback", .serialized)
struct ConnectionTests {
    @Test("unary calls echo, including a 4 MiB payload")
    func unaryEcho() async throws {
        let server = try await TestServer(router: makeRouter())
        let client = TestClient(address: server.address)
        do {
            let small = try await client.client.call("test.Echo", [1, 2, 3])
            #expect(small == [1, 2, 3])
            let big = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13) }
            let echoed = try await client.client.call("test.Echo", big)
            #expect(echoed == big)
            let empty = try await client.client.call("test.Echo", [])
            #expect(empty.isEmpty)
        }
        await client.stop()
        await server.stop()
    }

    @Test("answered calls are reused for later requests, but never a call a handler still holds")
    func reusedCalls() async throws {
        let log = CallLog()
        let router = MethodRouter()
        router.register("test.Keep") { call in
            log.keep(call)
            call.respond(call.payload)
        }
        router.register("test.Echo") { call in
            log.see(call)
            call.respond(call.payload)
        }
        let server = try await TestServer(router: router)
        let client = TestClient(address: server.address)
        for round in 0..<100 {
            let payload = [UInt8](repeating: UInt8(round), count: round % 7 + 1)
            #expect(try await client.client.call("test.Echo", payload + [1]) == payload + [1])
            #expect(try await client.client.call("test.Keep", payload) == payload)
        }
        let entries = await server.loop.submit { log.entries.map { ($0.call.streamID, $0.call.method, $0.call.payload, $0.streamID, $0.payload) } }
        #expect(entries.count == 100)
        for (streamID, method, payload, keptStreamID, keptPayload) in entries {
            #expect(streamID == keptStreamID && method == "test.Keep" && payload == keptPayload)
        }
        #expect(Set(log.keptObjects).count == 100, "a held call was handed to another request")
        // The kept calls came in objects answered echo calls had: the checks above ran on
        // reused calls.
        #expect(log.keptInEchoObjects > 50)
        await client.stop()
        await server.stop()
    }

    @Test("an unknown method is UNIMPLEMENTED with the list of methods, and the connection goes on")
    func unknownMethod() async throws {
        let server = try await TestServer(router: makeRouter())
        let client = TestClient(address: server.address)
        await #expect {
            _ = try await client.client.call("test.Missing", [])
        } throws: { error in
            let error = error as! WireError
            return error.code == .unimplemented && error.message.contains("test.Missing")
                && error.message.contains("test.Echo")
        }
        #expect(try await client.client.call("test.Echo", [9]) == [9])
        await client.stop()
        await server.stop()
    }

    @Test("a deadline fails the call on the client and cancels the handler on the server")
    func deadline() async throws {
        let router = MethodRouter()
        let cancelled = Counter()
        router.register("test.Slow") { call in call.onCancel = { cancelled.increment() } }
        let server = try await TestServer(router: router)
        let client = TestClient(address: server.address)
        let start = ContinuousClock.now
        await #expect {
            _ = try await client.client.call("test.Slow", [], timeoutMilliseconds: 100)
        } throws: { error in
            (error as! WireError).code == .deadlineExceeded
        }
        #expect(ContinuousClock.now - start < .seconds(5))
        try await eventually { cancelled.value == 1 }
        await client.stop()
        await server.stop()
    }

    @Test("cancelling the calling task cancels the call on both sides")
    func taskCancellation() async throws {
        let router = MethodRouter()
        let started = Counter()
        let cancelled = Counter()
        router.register("test.Slow") { call in
            started.increment()
            call.onCancel = { cancelled.increment() }
        }
        let server = try await TestServer(router: router)
        let client = TestClient(address: server.address)
        let task = Task { try await client.client.call("test.Slow", []) }
        try await eventually { started.value == 1 }
        task.cancel()
        let result = await task.result
        guard case .failure(let error) = result else {
            Issue.record("a cancelled call returned a value")
            return
        }
        #expect((error as? WireError)?.code == .cancelled)
        try await eventually { cancelled.value == 1 }
        await client.stop()
        await server.stop()
    }

    @Test("a server stream delivers items in order, ends with a status, and can be cancelled")
    func serverStream() async throws {
        let router = MethodRouter()
        let cancelled = Counter()
        router.register("test.Count") { call in
            let count = Int(call.payload.first ?? 0)
            for index in 0..<count { call.send([UInt8(index)]) }
            call.finish()
        }
        router.register("test.Forever") { call in
            call.send([1])
            call.onCancel = { cancelled.increment() }
        }
        let server = try await TestServer(router: router)
        let client = TestClient(address: server.address)
        let received = await collect(client.client, "test.Count", [50])
        #expect(received.items == (0..<50).map { [UInt8($0)] })
        #expect(received.end == .some(nil))

        let token = CallToken()
        let firstItem = Counter()
        let ended = Box<WireError?>()
        await client.loop.submit {
            client.client.openStream("test.Forever", [], token: token) { event in
                switch event {
                case .item: firstItem.increment()
                case .end(let error): ended.value = error
                }
            }
        }
        try await eventually { firstItem.value == 1 }
        await client.loop.submit { client.client.cancel(token) }
        try await eventually { cancelled.value == 1 }
        #expect(ended.value??.code == .cancelled)
        await client.stop()
        await server.stop()
    }

    @Test("a wrong credential is rejected at the handshake with a message")
    func badCredential() async throws {
        let server = try await TestServer(router: makeRouter())
        let client = TestClient(address: server.address, token: "wrong")
        await #expect {
            _ = try await client.client.call("test.Echo", [1])
        } throws: { error in
            let error = error as! WireError
            return error.code == .unauthenticated && error.message.contains("wrong token")
        }
        await client.stop()
        await server.stop()
    }

    @Test("a wrong protocol version is rejected with an error frame, then the connection closes")
    func wrongVersion() async throws {
        let server = try await TestServer(router: makeRouter())
        let socket = try RawSocket(server.address)
        socket.handshake(version: 99)
        let (bytes, closed) = socket.readUntilClosed()
        let frames = decodeFrames(bytes)
        #expect(closed)
        #expect(frames.count == 1)
        #expect(frames.first?.kind == .error)
        #expect(frames.first?.statusCode == .failedPrecondition)
        #expect(frames.first?.statusMessage.contains("version 99") == true)
        await server.stop()
    }

    @Test("a call before the handshake is refused")
    func callBeforeHandshake() async throws {
        let server = try await TestServer(router: makeRouter())
        let socket = try RawSocket(server.address)
        socket.write(Frame.encode(request(1, "test.Echo", [1])))
        let (bytes, closed) = socket.readUntilClosed()
        #expect(closed)
        #expect(decodeFrames(bytes).first?.statusMessage.contains("handshake") == true)
        await server.stop()
    }

    @Test("oversized and garbage frames get an error frame and a close; other connections are fine")
    func badFrames() async throws {
        let server = try await TestServer(router: makeRouter()) { $0.limits.maximumFrameBytes = 1 << 20 }
        let healthy = TestClient(address: server.address)
        #expect(try await healthy.client.call("test.Echo", [1]) == [1])

        let oversized = try RawSocket(server.address)
        oversized.handshake()
        oversized.write([0x10, 0, 0, 0])  // 256 MiB announced
        let (oversizedBytes, oversizedClosed) = oversized.readUntilClosed()
        let oversizedFrames = decodeFrames(oversizedBytes)
        #expect(oversizedClosed)
        #expect(oversizedFrames.last?.kind == .error)
        #expect(oversizedFrames.last?.statusCode == .resourceExhausted)
        #expect(oversizedFrames.last?.statusMessage.contains("exceeds the limit") == true)

        let garbage = try RawSocket(server.address)
        garbage.handshake()
        garbage.write([0, 0, 0, 6, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        let (garbageBytes, garbageClosed) = garbage.readUntilClosed()
        #expect(garbageClosed)
        #expect(decodeFrames(garbageBytes).last?.statusCode == .invalidArgument)
        #expect(decodeFrames(garbageBytes).last?.statusMessage.contains("malformed") == true)

        let unknownKind = try RawSocket(server.address)
        unknownKind.handshake()
        unknownKind.write([0, 0, 0, 4, 0x08, 0x01, 0x10, 99])  // stream 1, kind 99
        let (unknownBytes, unknownClosed) = unknownKind.readUntilClosed()
        #expect(unknownClosed)
        #expect(decodeFrames(unknownBytes).last?.kind == .error)

        let truncated = try RawSocket(server.address)
        truncated.handshake()
        truncated.write([0, 0, 1, 0, 1, 2, 3])  // announces 256 bytes, sends 3, then hangs up
        _ = truncated

        #expect(try await healthy.client.call("test.Echo", [2]) == [2])
        await healthy.stop()
        await server.stop()
    }

    @Test("too many calls in flight get RESOURCE_EXHAUSTED while the connection stays up")
    func inFlightLimit() async throws {
        let server = try await TestServer(router: makeRouter()) { $0.maximumInFlightCalls = 4 }
        let socket = try RawSocket(server.address)
        socket.handshake()
        var bytes: [UInt8] = []
        for index in 0..<6 { bytes += Frame.encode(request(UInt64(index * 2 + 1), "test.Never")) }
        var ping = Envelope()
        ping.kind = .ping
        bytes += Frame.encode(ping)
        socket.write(bytes)
        let frames = try socket.readFrames(4)  // ack, two refusals, pong
        #expect(frames.first?.kind == .handshakeAck)
        let refusals = frames.filter { $0.kind == .error && $0.statusCode == .resourceExhausted }
        #expect(refusals.map(\.streamID) == [9, 11])
        #expect(refusals.first?.statusMessage.contains("limit 4") == true)
        #expect(frames.last?.kind == .pong, "the connection still answers after refusing calls")
        await server.stop()
    }

    @Test("a reader that stops reading is throttled, then cut off, while others keep going")
    func slowReader() async throws {
        let router = makeRouter()
        let throttledSeen = Counter()
        let producedAfterThrottle = Counter()
        let cutOff = Counter()
        let brokenPhase = Counter()
        router.register("test.Flood") { call in
            let chunk = [UInt8](repeating: 7, count: 64 << 10)
            // Produce until throttled, as a well-behaved producer would...
            while call.send(chunk) == .sent {}
            throttledSeen.increment()
            // ...then keep producing slowly, ignoring the back-pressure, as a broken producer
            // would: once the kernel's buffers are full too, the connection must cut it off.
            let timer = LoopTimer(loop: call.loop)
            timer.arm(milliseconds: 5, repeatMilliseconds: 5) {
                // Not before the test has seen the healthy client served while this one is stuck.
                guard brokenPhase.value > 0 else { return }
                for _ in 0..<4 {
                    if call.send(chunk) == .closed {
                        cutOff.increment()
                        timer.cancel()
                        return
                    }
                    producedAfterThrottle.increment()
                }
            }
        }
        let server = try await TestServer(router: router) { configuration in
            configuration.limits.highWatermarkBytes = 1 << 20
            configuration.limits.lowWatermarkBytes = 256 << 10
            configuration.limits.maximumOutboundBytes = 8 << 20
        }
        let healthy = TestClient(address: server.address)
        #expect(try await healthy.client.call("test.Echo", [1]) == [1])

        let slow = try RawSocket(server.address)
        slow.handshake()
        slow.write(Frame.encode(request(1, "test.Flood", flags: Frame.flagServerStream)))
        try await eventually { throttledSeen.value == 1 }
        // The healthy client is served while the slow one is stuck…
        #expect(try await healthy.client.call("test.Echo", [42]) == [42])
        // …and while the producer ignores the back-pressure, until the slow one is cut off.
        brokenPhase.increment()
        var served = 0
        while cutOff.value == 0 {
            #expect(try await healthy.client.call("test.Echo", [UInt8(served % 256)]) == [UInt8(served % 256)])
            served += 1
            try await Task.sleep(for: .milliseconds(2))
            if served > 5000 { break }
        }
        #expect(cutOff.value == 1, "the slow reader was never disconnected")
        #expect(producedAfterThrottle.value > 0)
        #expect(try await healthy.client.call("test.Echo", [43]) == [43])
        // The slow reader sees the data that was already in the kernel's buffers, then EOF.
        let (_, closed) = slow.readUntilClosed()
        #expect(closed)
        await healthy.stop()
        await server.stop()
    }

    @Test("the client reconnects after the server restarts on the same port")
    func reconnect() async throws {
        let router = makeRouter()
        var server = try await TestServer(router: router)
        let port = server.address.port
        let client = TestClient(address: server.address) { $0.reconnectMaximumDelayMilliseconds = 200 }
        #expect(try await client.client.call("test.Echo", [1]) == [1])
        await server.stop()
        try await eventually { await client.loop.submit { client.client.state != .ready } }
        server = try await TestServer(router: router, port: port)
        try await client.client.waitUntilReady(timeoutMilliseconds: 10_000)
        #expect(try await client.client.call("test.Echo", [2]) == [2])
        await client.stop()
        await server.stop()
    }

    @Test("calls in flight when the server dies fail with UNAVAILABLE")
    func serverDiesWithCallsInFlight() async throws {
        let router = makeRouter()
        let server = try await TestServer(router: router)
        let client = TestClient(address: server.address) { $0.waitForReady = false }
        #expect(try await client.client.call("test.Echo", [1]) == [1])
        let pending = Task { try await client.client.call("test.Never", []) }
        try await Task.sleep(for: .milliseconds(100))
        await server.stop()
        let result = await pending.result
        guard case .failure(let error) = result else {
            Issue.record("call survived its server")
            return
        }
        #expect((error as? WireError)?.code == .unavailable)
        await client.stop()
    }

    @Test("a silent connection is closed by the server after three keepalive intervals")
    func keepaliveTimeout() async throws {
        let server = try await TestServer(router: makeRouter()) { $0.keepaliveIntervalMilliseconds = 100 }
        let socket = try RawSocket(server.address)
        socket.handshake()
        let start = ContinuousClock.now
        let (bytes, closed) = socket.readUntilClosed()
        #expect(closed)
        #expect(ContinuousClock.now - start < .seconds(4))
        #expect(decodeFrames(bytes).last?.statusMessage.contains("keepalive") == true)
        await server.stop()
    }

    @Test("a client keeps an idle connection alive with pings")
    func keepalivePings() async throws {
        let server = try await TestServer(router: makeRouter()) { $0.keepaliveIntervalMilliseconds = 100 }
        let client = TestClient(address: server.address) { $0.keepaliveIntervalMilliseconds = 100 }
        try await client.client.waitUntilReady()
        try await Task.sleep(for: .milliseconds(700))
        #expect(await client.loop.submit { client.client.state } == .ready)
        #expect(try await client.client.call("test.Echo", [5]) == [5])
        await client.stop()
        await server.stop()
    }

    /// A call the server never answers, and the error it fails with (none while it is in flight).
    static func callInFlight(_ client: TestClient) -> (Task<Void, Never>, Box<WireError>) {
        let failed = Box<WireError>()
        let pending = Task {
            do {
                _ = try await client.client.call("test.Never", [], timeoutMilliseconds: 30_000)
            } catch {
                failed.value = error as? WireError ?? WireError(.internal, "\(error)")
            }
        }
        return (pending, failed)
    }

    /// Blocks `loop` for `milliseconds` (as a process that was descheduled or stopped would be).
    static func stall(_ loop: EventLoop, milliseconds: UInt32) {
        loop.execute { usleep(milliseconds * 1000) }
    }

    @Test("a client whose own loop stalled past the keepalive timeout keeps its connection: the stall is not the server's silence")
    func clientStallIsNotServerSilence() async throws {
        let server = try await TestServer(router: makeRouter()) { $0.keepaliveIntervalMilliseconds = 5000 }
        // Checks every 500 ms, gives up after 2 s of silence; the stall comes before the first check.
        let client = TestClient(address: server.address) { $0.keepaliveIntervalMilliseconds = 1000 }
        try await client.client.waitUntilReady()
        let (pending, failed) = Self.callInFlight(client)
        try await Task.sleep(for: .milliseconds(100))
        Self.stall(client.loop, milliseconds: 3000)  // longer than the client's 2 s timeout
        try await Task.sleep(for: .milliseconds(3600))
        #expect(failed.value == nil, "the call in flight failed: \(failed.value?.message ?? "")")
        #expect(await client.loop.submit { client.client.state } == .ready)
        #expect(try await client.client.call("test.Echo", [7]) == [7])
        pending.cancel()
        await client.stop()
        await server.stop()
    }

    @Test("a handshake sent while the server's loop stalled past the handshake timeout is accepted, not timed out")
    func serverStallIsNotALateHandshake() async throws {
        let server = try await TestServer(router: makeRouter()) {
            $0.handshakeTimeoutMilliseconds = 600
            $0.keepaliveIntervalMilliseconds = 200  // sweeps every 100 ms
        }
        let socket = try RawSocket(server.address)
        try await Task.sleep(for: .milliseconds(150))  // accepted before the stall
        Self.stall(server.loop, milliseconds: 1500)  // well past the 600 ms handshake timeout
        try await Task.sleep(for: .milliseconds(200))
        socket.handshake()  // arrives during the stall, read after it
        let frames = try socket.readFrames(1)
        #expect(frames.first?.kind == .handshakeAck, "got \(frames.first.map { "\($0.kind) \($0.statusMessage)" } ?? "nothing")")
        // A client that never sends its handshake is still cut off.
        let silent = try RawSocket(server.address)
        let (bytes, closed) = silent.readUntilClosed()
        #expect(closed)
        #expect(decodeFrames(bytes).first?.statusMessage.contains("no handshake within 600 ms") == true)
        await server.stop()
    }

    @Test("a server whose own loop stalled past the keepalive timeout keeps its clients: the stall is not their silence")
    func serverStallIsNotClientSilence() async throws {
        // The server sweeps every 150 ms and closes after 900 ms without a frame; the client waits
        // 6 s for answers and keeps sending meanwhile, as a busy client would.
        let server = try await TestServer(router: makeRouter()) { $0.keepaliveIntervalMilliseconds = 300 }
        let client = TestClient(address: server.address) { $0.keepaliveIntervalMilliseconds = 3000 }
        try await client.client.waitUntilReady()
        let (pending, failed) = Self.callInFlight(client)
        let sending = Task {
            while !Task.isCancelled {
                client.loop.execute { client.client.start("test.Echo", [1], timeoutMilliseconds: 10_000) { _ in } }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        Self.stall(server.loop, milliseconds: 2500)  // well past the server's 900 ms timeout
        try await Task.sleep(for: .milliseconds(3200))
        sending.cancel()
        #expect(failed.value == nil, "the call in flight failed: \(failed.value?.message ?? "")")
        #expect(try await client.client.call("test.Echo", [8]) == [8])
        pending.cancel()
        await client.stop()
        await server.stop()
    }
}

// MARK: Helpers

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

final class Box<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value?
    var value: Value? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

/// Waits until `condition` holds, checking every 10 ms, failing after `seconds`.
func eventually(
    seconds: Double = 10, _ condition: @Sendable () async throws -> Bool,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("condition not met within \(seconds) s", sourceLocation: sourceLocation)
    throw TestFailure("condition not met within \(seconds) s")
}

/// Opens a stream and collects its items until it ends.
func collect(_ client: WireClient, _ method: String, _ payload: [UInt8]) async -> (items: [[UInt8]], end: WireError??) {
    await withUnsafeContinuation { continuation in
        client.loop.execute {
            var items: [[UInt8]] = []
            client.openStream(method, payload) { event in
                switch event {
                case .item(let bytes): items.append(bytes)
                case .end(let error): continuation.resume(returning: (items, .some(error)))
                }
            }
        }
    }
}

/// CallLog records what handlers saw, on the server's loop.
final class CallLog: @unchecked Sendable {
    private let lock = NSLock()
    private var kept: [(call: ServerCall, streamID: UInt64, payload: [UInt8])] = []
    private var echoObjects: Set<ObjectIdentifier> = []

    func keep(_ call: ServerCall) {
        lock.withLock { kept.append((call, call.streamID, call.payload)) }
    }

    func see(_ call: ServerCall) {
        lock.withLock {
            _ = echoObjects.insert(ObjectIdentifier(call))
        }
    }

    var entries: [(call: ServerCall, streamID: UInt64, payload: [UInt8])] { lock.withLock { kept } }
    var keptObjects: [ObjectIdentifier] { lock.withLock { kept.map { ObjectIdentifier($0.call) } } }
    /// Kept calls that came in an object an earlier echo call had.
    var keptInEchoObjects: Int {
        lock.withLock { kept.filter { echoObjects.contains(ObjectIdentifier($0.call)) }.count }
    }
}
