import Foundation
import Testing

@testable import Wire

/// The borrowing hot path: handlers that answer a request in place (`registerBorrowing`,
/// `BorrowedCall`) and client calls whose completion reads the answer in place
/// (`start(_:payload:borrowing:)`), over loopback with real loops.
@Suite("Borrowed calls", .serialized)
struct BorrowedCallTests {
    @Test("response and request frames from the hot-path writers are byte for byte what protoc-c encodes")
    func responseFrameMatchesProtocC() {
        for streamID in WireFastPathTests.streamIDs where streamID != 0 {
            for payload in WireFastPathTests.payloads {
                var envelope = Envelope()
                envelope.streamID = streamID
                envelope.kind = .response
                envelope.payload = payload
                let expected = Frame.encode(envelope)
                // After other bytes, as in a connection's outbound buffer.
                var buffer = FrameBuffer()
                [UInt8](repeating: 0xEE, count: 5).withUnsafeBytes { buffer.append($0) }
                payload.withUnsafeBytes { bytes in
                    Frame.appendResponse(streamID: streamID, payloadByteCount: bytes.count, to: &buffer) { target in
                        target.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                    }
                }
                #expect(Array(buffer.bytes) == [UInt8](repeating: 0xEE, count: 5) + expected, "stream \(streamID) payload \(payload.count) B")
                for method in WireFastPathTests.methods {
                    for (deadline, flags) in [(UInt32(0), UInt32(0)), (1, 1), (5000, 0), (UInt32.max, UInt32.max)] {
                        var request = Envelope()
                        request.streamID = streamID
                        request.kind = .request
                        request.method = method
                        request.payload = payload
                        request.deadlineMilliseconds = deadline
                        request.flags = flags
                        let field = Frame.requestMethodField(method)
                        var written = FrameBuffer()
                        [UInt8](repeating: 0xEE, count: 3).withUnsafeBytes { written.append($0) }
                        field.withUnsafeBytes { methodField in
                            payload.withUnsafeBytes { bytes in
                                Frame.appendRequest(
                                    streamID: streamID, methodField: methodField, payload: bytes,
                                    deadlineMilliseconds: deadline, flags: flags, to: &written)
                            }
                        }
                        #expect(
                            Array(written.bytes) == [UInt8](repeating: 0xEE, count: 3) + Frame.encode(request),
                            "request stream \(streamID) method \(method.utf8.count) B payload \(payload.count) B")
                    }
                }
            }
        }
    }

    @Test("borrowing handler and borrowing completion round trip, and both interoperate with the copying API")
    func roundTrip() async throws {
        let seen = Box<[String]>()
        let router = MethodRouter()
        router.registerBorrowing("test.Echo") { call in
            seen.value = (seen.value ?? []) + ["\(call.method) from \(call.peer.component) stream \(call.streamID)"]
            call.respond(call.payload)
        }
        router.register("test.CopyEcho") { call in call.respond(call.payload) }
        let server = try await TestServer(router: router)
        let client = TestClient(address: server.address)
        for size in [0, 1, 255, 256, 70_000] {
            let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ size) }
            #expect(try await borrowedCall(client, "test.Echo", payload).get() == payload)
            #expect(try await borrowedCall(client, "test.CopyEcho", payload).get() == payload)
            #expect(try await client.client.call("test.Echo", payload) == payload)
        }
        let log = seen.value ?? []
        #expect(log.count == 10)
        #expect(log.allSatisfy { $0.hasPrefix("test.Echo from test stream ") })
        await client.stop()
        await server.stop()
    }

    @Test("4 MiB requests and answers go through the borrowing path unchanged")
    func largeFrames() async throws {
        let server = try await TestServer(router: borrowingRouter())
        let client = TestClient(address: server.address)
        let big = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
        #expect(try await borrowedCall(client, "test.Echo", big).get() == big)
        // The in-place encoder writes straight into the outbound buffer.
        let reversed = try await borrowedCall(client, "test.Reverse", big).get()
        #expect(reversed == big.reversed())
        await client.stop()
        await server.stop()
    }

    @Test("requests split across reads and merged into one read are each answered, in protoc-c's encoding")
    func splitAndMergedReads() async throws {
        let server = try await TestServer(router: borrowingRouter())
        let socket = try RawSocket(server.address)
        socket.handshake()
        let payloads: [[UInt8]] = (0..<40).map { index in (0..<(index * 37 % 300)).map { UInt8(truncatingIfNeeded: $0 + index) } }
        var bytes: [UInt8] = []
        for (index, payload) in payloads.enumerated() {
            bytes += Frame.encode(request(UInt64(2 * index + 1), "test.Echo", payload))
        }
        // The first half in one write (merged), the rest a few bytes at a time (split).
        let half = bytes.count / 2
        socket.write(Array(bytes[..<half]))
        var offset = half
        while offset < bytes.count {
            let end = min(offset + 7, bytes.count)
            socket.write(Array(bytes[offset..<end]))
            offset = end
        }
        let frames = try socket.readFrames(1 + payloads.count)
        #expect(frames.first?.kind == .handshakeAck)
        let answers = Array(frames.dropFirst())
        #expect(answers.count == payloads.count)
        for (index, answer) in answers.enumerated() {
            var expected = Envelope()
            expected.streamID = UInt64(2 * index + 1)
            expected.kind = .response
            expected.payload = payloads[index]
            #expect(answer == expected)
        }
        await server.stop()
    }

    @Test("error frames: a failed call, a handler that does not answer, a bad request, an unknown method, a stream")
    func errors() async throws {
        let server = try await TestServer(router: borrowingRouter())
        let client = TestClient(address: server.address)
        let failed = await borrowedCall(client, "test.Fail", [1])
        #expect(failed.failure == WireError(.notFound, "no such thing: 1 byte"))
        let silent = await borrowedCall(client, "test.Silent", [])
        #expect(silent.failure?.code == .internal)
        #expect(silent.failure?.message.contains("test.Silent returned without answering") == true)
        // A Handshake whose component (field 2) claims five bytes and has one.
        let malformed = await borrowedCall(client, "test.Decode", [0x12, 0x05, 0x41])
        #expect(malformed.failure?.code == .invalidArgument)
        #expect(malformed.failure?.message.contains("test.Decode: request is not a valid Handshake") == true)
        var handshake = Handshake()
        handshake.component = "decoded"
        #expect(try await borrowedCall(client, "test.Decode", handshake.protobufBytes()).get() == Array("decoded".utf8))
        let unknown = await borrowedCall(client, "test.Missing", [])
        #expect(unknown.failure?.code == .unimplemented)
        #expect(unknown.failure?.message.contains("test.Echo") == true)
        // A borrowing method is unary: a stream on it ends with INVALID_ARGUMENT.
        let stream = await collect(client.client, "test.Echo", [1])
        #expect(stream.items.isEmpty)
        #expect(stream.end??.code == .invalidArgument)
        // The connection survived every error.
        #expect(try await borrowedCall(client, "test.Echo", [7]).get() == [7])
        await client.stop()
        await server.stop()
    }

    @Test("a detached call is answered later, and its deadline cancels it on the server")
    func detachAndDeadline() async throws {
        let cancelled = Counter()
        let deadlines = Box<[Bool]>()
        let router = MethodRouter()
        router.registerBorrowing("test.Later") { call in
            let detached = call.detach()
            let loop = call.loop
            let payload = detached.payload
            // Answered after the handler returned, from a later job on the loop.
            loop.execute { detached.respond(Array(payload.reversed())) }
        }
        router.registerBorrowing("test.Hang") { call in
            deadlines.value = (deadlines.value ?? []) + [call.deadlineNanoseconds > monotonicNanoseconds()]
            let detached = call.detach()
            detached.onCancel = { cancelled.increment() }
        }
        let server = try await TestServer(router: router)
        let client = TestClient(address: server.address)
        #expect(try await borrowedCall(client, "test.Later", [1, 2, 3]).get() == [3, 2, 1])
        let start = ContinuousClock.now
        let timedOut = await borrowedCall(client, "test.Hang", [], timeoutMilliseconds: 100)
        #expect(timedOut.failure?.code == .deadlineExceeded)
        #expect(ContinuousClock.now - start < .seconds(5))
        try await eventually { cancelled.value == 1 }
        #expect(deadlines.value == [true])
        await client.stop()
        await server.stop()
    }

    @Test("cancelling a borrowing call fails it with CANCELLED and cancels the detached call on the server")
    func cancellation() async throws {
        let started = Counter()
        let cancelled = Counter()
        let router = MethodRouter()
        router.registerBorrowing("test.Hang") { call in
            let detached = call.detach()
            detached.onCancel = { cancelled.increment() }
            started.increment()
        }
        let server = try await TestServer(router: router)
        let client = TestClient(address: server.address)
        try await client.client.waitUntilReady()
        let token = CallToken()
        let result = Box<Result<[UInt8], WireError>>()
        client.loop.execute {
            [UInt8]([1]).withUnsafeBytes { bytes in
                client.client.start("test.Hang", payload: bytes, token: token) { outcome in
                    result.value = outcome.map { Array($0) }
                }
            }
        }
        try await eventually { started.value == 1 }
        await client.loop.submit { client.client.cancel(token) }
        try await eventually { result.value != nil }
        #expect(result.value?.failure?.code == .cancelled)
        try await eventually { cancelled.value == 1 }
        // A token cancelled before the call starts fails it at once.
        let early = await borrowedCall(client, "test.Hang", [], token: token)
        #expect(early.failure?.code == .cancelled)
        await client.stop()
        await server.stop()
    }

    @Test("a borrowing call made before the connection is ready keeps its own copy of the request")
    func waitsForConnectionWithACopy() async throws {
        let server = try await TestServer(router: borrowingRouter())
        let client = TestClient(address: server.address)
        let result = Box<Result<[UInt8], WireError>>()
        await client.loop.submit {
            #expect(client.client.state == .idle)
            let request = UnsafeMutableRawBufferPointer.allocate(byteCount: 3, alignment: 1)
            request.copyBytes(from: [4, 5, 6] as [UInt8])
            client.client.start("test.Echo", payload: UnsafeRawBufferPointer(request)) { outcome in
                result.value = outcome.map { Array($0) }
            }
            // The caller's buffer is gone before the connection exists.
            request.copyBytes(from: [0, 0, 0] as [UInt8])
            request.deallocate()
        }
        try await eventually { result.value != nil }
        #expect(try result.value?.get() == [4, 5, 6])
        await client.stop()
        await server.stop()
    }

    @Test("borrowing calls in flight fail with UNAVAILABLE when the server goes away")
    func serverGoesAway() async throws {
        let router = MethodRouter()
        router.registerBorrowing("test.Hang") { call in _ = call.detach() }
        let server = try await TestServer(router: router)
        let client = TestClient(address: server.address) { $0.waitForReady = false }
        try await client.client.waitUntilReady()
        let results = Box<[WireError?]>()
        await client.loop.submit {
            for _ in 0..<10 {
                client.client.start("test.Hang", payload: UnsafeRawBufferPointer(start: nil, count: 0)) { outcome in
                    results.value = (results.value ?? []) + [outcome.failure]
                }
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        await server.stop()
        try await eventually { results.value?.count == 10 }
        #expect(results.value?.allSatisfy { $0?.code == .unavailable } == true)
        await client.stop()
    }
}

// MARK: Helpers

/// The methods the tests above call, all answered by borrowing handlers.
func borrowingRouter() -> MethodRouter {
    let router = MethodRouter()
    router.registerBorrowing("test.Echo") { call in call.respond(call.payload) }
    router.registerBorrowing("test.Reverse") { call in
        let payload = call.payload
        call.respond(byteCount: payload.count) { target in
            for index in 0..<payload.count { target[index] = payload[payload.count - 1 - index] }
        }
    }
    router.registerBorrowing("test.Fail") { call in
        call.fail(WireError(.notFound, "no such thing: \(call.payload.count) byte"))
    }
    router.registerBorrowing("test.Silent") { _ in }
    router.registerBorrowing("test.Decode") { call in
        do throws(WireError) {
            let handshake = try call.decode(Handshake.self)
            call.respond(Array(handshake.component.utf8))
        } catch {
            call.fail(error)
        }
    }
    return router
}

/// One call through the borrowing client API, its answer copied out.
func borrowedCall(
    _ client: TestClient, _ method: String, _ payload: [UInt8], timeoutMilliseconds: UInt32 = 0,
    token: CallToken? = nil
) async -> Result<[UInt8], WireError> {
    await withCheckedContinuation { continuation in
        client.loop.execute {
            payload.withUnsafeBytes { bytes in
                client.client.start(method, payload: bytes, timeoutMilliseconds: timeoutMilliseconds, token: token) { result in
                    continuation.resume(returning: result.map { Array($0) })
                }
            }
        }
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
