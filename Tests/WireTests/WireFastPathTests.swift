import Foundation
import Testing

@testable import Wire

/// The hot-path pieces that replace general machinery: hand-built call frames (checked byte for
/// byte against protoc-c), the outbound frame buffer, the client's stream table, and the
/// server's stream id rule.
@Suite("Wire fast paths")
struct WireFastPathTests {
    static let streamIDs: [UInt64] = [0, 1, 127, 128, 300, 1 << 35, UInt64.max]
    static let methods = ["", "wire.Echo", "store.Put/état ✓", String(repeating: "m", count: 200), "cut\u{0}here"]
    static let payloads: [[UInt8]] = [[], [0], (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) }, [UInt8](repeating: 0xAB, count: 70_000)]
    static let numbers: [UInt32] = [0, 1, 127, 128, 5000, UInt32.max]

    @Test("a call frame is byte for byte what protoc-c encodes, for every kind and field value")
    func callFrameMatchesProtocC() {
        var checked = 0
        for kind in FrameKind.allCases {
            for streamID in Self.streamIDs {
                for method in Self.methods {
                    for (payloadIndex, payload) in Self.payloads.enumerated() {
                        // Every deadline and flag value with the small payloads; a few with the big one.
                        let numbers = payloadIndex == 3 ? [0, UInt32.max] : Self.numbers
                        for deadline in numbers {
                            for flags in numbers where flags == deadline || flags <= 1 {
                                var envelope = Envelope()
                                envelope.streamID = streamID
                                envelope.kind = kind
                                envelope.method = method
                                envelope.payload = payload
                                envelope.deadlineMilliseconds = deadline
                                envelope.flags = flags
                                let expected = Frame.encode(envelope)
                                var handmade: [UInt8] = []
                                payload.withUnsafeBytes { bytes in
                                    Frame.appendCallFrame(
                                        streamID: streamID, kind: kind, method: method, payload: bytes,
                                        deadlineMilliseconds: deadline, flags: flags, to: &handmade)
                                }
                                #expect(handmade == expected, "\(kind) stream \(streamID) method \(method.utf8.count) B payload \(payload.count) B deadline \(deadline) flags \(flags)")
                                // The outbound-buffer path writes the same bytes.
                                var buffer = FrameBuffer()
                                var methodCopy = method
                                methodCopy.withUTF8 { methodBytes in
                                    payload.withUnsafeBytes { bytes in
                                        Frame.appendCallFrame(
                                            streamID: streamID, kind: kind, method: UnsafeRawBufferPointer(methodBytes),
                                            payload: bytes, deadlineMilliseconds: deadline, flags: flags, to: &buffer)
                                    }
                                }
                                #expect(Array(buffer.bytes) == expected)
                                checked += 1
                            }
                        }
                    }
                }
            }
        }
        #expect(checked > 5000)
    }

    @Test("a call frame with the payload in two parts equals one with the joined payload")
    func callFrameInTwoParts() {
        let head: [UInt8] = [1, 2, 3]
        let tail = [UInt8](repeating: 9, count: 200)
        var twoParts = FrameBuffer()
        head.withUnsafeBytes { h in
            tail.withUnsafeBytes { t in
                Frame.appendCallFrame(
                    streamID: 9, kind: .streamItem, method: UnsafeRawBufferPointer(start: nil, count: 0),
                    payload: h, payloadTail: t, to: &twoParts)
            }
        }
        var envelope = Envelope()
        envelope.streamID = 9
        envelope.kind = .streamItem
        envelope.payload = head + tail
        #expect(Array(twoParts.bytes) == Frame.encode(envelope))
    }

    @Test("envelopes packed by protoc-c straight into the frame buffer equal Frame.encode")
    func envelopeIntoFrameBuffer() {
        var buffer = FrameBuffer()
        var expected: [UInt8] = []
        for envelope in FrameDecoderTests.everyKind() {
            Frame.append(envelope, to: &buffer)
            expected += Frame.encode(envelope)
        }
        #expect(Array(buffer.bytes) == expected)
        buffer.removeAll(keepingCapacityUpTo: 1 << 20)
        #expect(buffer.isEmpty && buffer.capacity > 0)
        buffer.removeAll(keepingCapacityUpTo: 0)
        #expect(buffer.capacity == 0)
    }

    @Test("the frame buffer grows across many appends and keeps every byte")
    func frameBufferGrowth() {
        var buffer = FrameBuffer()
        var model: [UInt8] = []
        for round in 0..<2000 {
            let chunk = (0..<(round % 97)).map { UInt8(truncatingIfNeeded: $0 &+ round) }
            chunk.withUnsafeBytes { buffer.append($0) }
            model += chunk
        }
        #expect(Array(buffer.bytes) == model)
    }

    @Test("the stream table agrees with a dictionary through inserts, removals and growth")
    func streamTableMatchesDictionary() {
        var table = StreamTable<Int>(minimumCapacity: 4)
        var model: [UInt64: Int] = [:]
        var live: [UInt64] = []
        var random = SplitMix64(seed: 42)
        var next: UInt64 = 1
        // A long-lived entry that every later id wraps around.
        table.insert(-1, for: next)
        model[next] = -1
        next += 2
        for step in 0..<100_000 {
            // Grow to a few thousand entries, then hover around that size.
            let insertPercent: UInt64 = step < 5000 ? 80 : 50
            if random.next() % 100 < insertPercent || live.isEmpty {
                table.insert(step, for: next)
                model[next] = step
                live.append(next)
                next += 2
            } else if random.next() % 20 == 0 {
                #expect(table.removeValue(forKey: next + 2) == nil)
            } else {
                let index = Int(random.next() % UInt64(live.count))
                live.swapAt(index, live.count - 1)
                let key = live.removeLast()
                #expect(table.removeValue(forKey: key) == model.removeValue(forKey: key))
            }
            if step % 2000 == 0 {
                #expect(table.count == model.count)
                for (key, value) in model { #expect(table[key] == value) }
                #expect(table[next] == nil && table[0] == nil)
            }
        }
        #expect(table[1] == -1)
        let drained = table.removeAll()
        #expect(drained.sorted() == model.values.sorted())
        #expect(table.isEmpty && table[1] == nil)
    }

    @Test("the stream table finds calls whose slot a long-lived stream holds, through growth and removal")
    func streamTableOverflow() {
        var table = StreamTable<UInt64>(minimumCapacity: 8)
        var model: [UInt64: UInt64] = [:]
        // Long-lived streams, then rounds of short calls that wrap around the slots they hold.
        var next: UInt64 = 1
        for _ in 0..<5 {
            table.insert(next * 10, for: next)
            model[next] = next * 10
            next += 2
        }
        var open: [UInt64] = []
        for round in 0..<400 {
            for _ in 0..<(round % 13 + 1) {
                table.insert(next * 10, for: next)
                model[next] = next * 10
                open.append(next)
                next += 2
            }
            // Answer most calls, oldest first, keeping a few open for a while.
            while open.count > 6 {
                let key = open.removeFirst()
                #expect(table.removeValue(forKey: key) == model.removeValue(forKey: key))
            }
            #expect(table.count == model.count)
        }
        for (key, value) in model { #expect(table[key] == value && table.contains(key)) }
        // Ids the client never assigned, even ones and 0, are simply absent.
        for key: UInt64 in [0, 2, 4, next, next + 2, UInt64.max] { #expect(table[key] == nil && !table.contains(key)) }
        #expect(table.removeValue(forKey: next) == nil)
        #expect(table.removeAll().sorted() == model.values.sorted())
        #expect(table.isEmpty && table[1] == nil)
    }

    @Test("the probing overflow table agrees with a dictionary")
    func probingTableMatchesDictionary() {
        var table = ProbingStreamTable<Int>(minimumCapacity: 4)
        var model: [UInt64: Int] = [:]
        var random = SplitMix64(seed: 7)
        for step in 0..<20_000 {
            let key = (random.next() % 3000) * 2 + 1
            if model[key] == nil && random.next() % 2 == 0 {
                table.insert(step, for: key)
                model[key] = step
            } else {
                #expect(table.removeValue(forKey: key) == model.removeValue(forKey: key))
            }
        }
        #expect(table.count == model.count)
        for (key, value) in model { #expect(table[key] == value) }
        let entries = table.removeAllEntries()
        #expect(Dictionary(uniqueKeysWithValues: entries.map { ($0.key, $0.value) }) == model)
        #expect(table.isEmpty == true)
    }

    @Test("the server refuses a stream id still in use, whether above or below the highest")
    func streamIDReuse() async throws {
        let server = try await TestServer(router: makeRouter())
        // Lower ids than the highest are fine while they are free.
        let lower = try RawSocket(server.address)
        lower.handshake()
        lower.write(
            Frame.encode(request(9, "test.Never")) + Frame.encode(request(3, "test.Echo", [3]))
                + Frame.encode(request(1, "test.Echo", [1])))
        let frames = try lower.readFrames(3)
        #expect(frames.map(\.kind) == [.handshakeAck, .response, .response])
        #expect(frames.dropFirst().map(\.payload) == [[3], [1]])
        lower.write(Frame.encode(request(3, "test.Echo", [4])))  // 3 finished: free again
        let again = try lower.readFrames(1)
        #expect(again.map(\.payload) == [[4]] && again.first?.streamID == 3)

        // An id still open (here: below the highest) is a protocol error.
        let reused = try RawSocket(server.address)
        reused.handshake()
        reused.write(
            Frame.encode(request(5, "test.Never")) + Frame.encode(request(7, "test.Never"))
                + Frame.encode(request(5, "test.Echo")))
        let (answer, closed) = reused.readUntilClosed()
        let errors = decodeFrames(answer).filter { $0.kind == .error }
        #expect(closed)
        #expect(errors.first?.statusMessage.contains("stream id 5 is already in use") == true)
        await server.stop()
    }

    @Test("the callback API works without a token, and a finished call's token cancels nothing")
    func tokensAreOptional() async throws {
        let server = try await TestServer(router: makeRouter())
        let client = TestClient(address: server.address)
        try await client.client.waitUntilReady()
        let token = CallToken()
        var answers: [[UInt8]] = []
        for index in 0..<3 {
            let result: Result<[UInt8], WireError> = await withCheckedContinuation { continuation in
                client.loop.execute {
                    client.client.start("test.Echo", [UInt8(index)], token: index == 0 ? token : nil) {
                        continuation.resume(returning: $0)
                    }
                    // Cancelling the first call's token after it finished must not touch the
                    // calls that follow.
                    if index > 0 { client.client.cancel(token) }
                }
            }
            answers.append(try result.get())
        }
        #expect(answers == [[0], [1], [2]])
        await client.stop()
        await server.stop()
    }
}
