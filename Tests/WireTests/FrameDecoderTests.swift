import Testing
import Wire

@Suite("Frame encoding and decoding")
struct FrameDecoderTests {
    /// One envelope of every frame kind, with every field set.
    static func everyKind() -> [Envelope] {
        FrameKind.allCases.filter { $0 != .unspecified }.enumerated().map { index, kind in
            var envelope = Envelope()
            envelope.streamID = UInt64(index * 2 + 1) << 40
            envelope.kind = kind
            envelope.method = "store.Put/\(kind)"
            envelope.statusCode = StatusCode.allCases[index % StatusCode.allCases.count]
            envelope.statusMessage = "état \(index) ✓"
            envelope.payload = (0..<(index * 37)).map { UInt8(truncatingIfNeeded: $0 * 7) }
            envelope.deadlineMilliseconds = UInt32(index) * 1000
            envelope.flags = UInt32(index % 2)
            return envelope
        }
    }

    @Test("every frame kind round-trips through one frame")
    func roundTripEveryKind() throws {
        for envelope in Self.everyKind() {
            let frames = decodeFrames(Frame.encode(envelope))
            #expect(frames == [envelope])
        }
    }

    @Test("frames split at every byte boundary decode the same")
    func splitAcrossReads() throws {
        let envelopes = Self.everyKind()
        let stream = envelopes.flatMap { Frame.encode($0) }
        for chunkSize in [1, 2, 3, 5, 7, 64, 1000] {
            var decoder = FrameDecoder()
            var decoded: [Envelope] = []
            var offset = 0
            while offset < stream.count {
                let end = min(offset + chunkSize, stream.count)
                try stream[offset..<end].withUnsafeBytes { bytes in
                    try decoder.feed(bytes) { decoded.append($0) }
                }
                offset = end
            }
            #expect(decoded == envelopes, "chunk size \(chunkSize)")
            #expect(decoder.bufferedBytes == 0)
        }
    }

    @Test("many frames merged in one read all decode, in order")
    func mergedInOneRead() throws {
        let envelopes = (0..<500).map { request(UInt64($0 * 2 + 1), "test.Echo", [UInt8(truncatingIfNeeded: $0)]) }
        let stream = envelopes.flatMap { Frame.encode($0) }
        #expect(decodeFrames(stream) == envelopes)
    }

    @Test("a 4 MiB payload decodes whole, split or not")
    func fourMebibytes() throws {
        let big = request(1, "test.Echo", [UInt8](repeating: 0xAB, count: 4 << 20))
        let bytes = Frame.encode(big)
        #expect(decodeFrames(bytes) == [big])
        var decoder = FrameDecoder()
        var decoded: [Envelope] = []
        for start in stride(from: 0, to: bytes.count, by: 65_536) {
            try bytes[start..<min(start + 65_536, bytes.count)].withUnsafeBytes { raw in
                try decoder.feed(raw) { decoded.append($0) }
            }
        }
        #expect(decoded == [big])
    }

    @Test("a fan-out stream item is byte for byte what protoc-c encodes")
    func fanOutStreamItem() throws {
        for (streamID, prefix, shared) in [
            (UInt64(1), [UInt8](), [UInt8]()), (UInt64(0), [UInt8](), [UInt8]()),
            (UInt64(77), [0x10, 0x05], Array(repeating: UInt8(9), count: 300)),
            (UInt64.max, Array(repeating: UInt8(1), count: 200), Array(repeating: UInt8(2), count: 70_000)),
        ] {
            var envelope = Envelope()
            envelope.streamID = streamID
            envelope.kind = .streamItem
            envelope.payload = prefix + shared
            var handmade: [UInt8] = []
            prefix.withUnsafeBytes { p in
                shared.withUnsafeBytes { s in
                    Frame.appendStreamItem(streamID: streamID, payloadPrefix: p, payloadShared: s, to: &handmade)
                }
            }
            #expect(handmade == Frame.encode(envelope), "stream \(streamID), payload \(prefix.count)+\(shared.count)")
            #expect(decodeFrames(handmade) == [envelope])
        }
    }

    @Test("a length above the limit is refused before the body arrives")
    func oversizedLength() {
        var decoder = FrameDecoder(maximumFrameBytes: 1024)
        let header: [UInt8] = [0, 0, 4, 1]
        #expect(throws: FrameError.tooLarge(length: 1025, limit: 1024)) {
            try header.withUnsafeBytes { try decoder.feed($0) { _ in } }
        }
    }

    @Test("garbage in a frame is a malformed-frame error, not a crash")
    func garbageBody() {
        var decoder = FrameDecoder()
        let frame: [UInt8] = [0, 0, 0, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(throws: FrameError.self) {
            try frame.withUnsafeBytes { try decoder.feed($0) { _ in } }
        }
    }

    @Test("an envelope without a kind is malformed")
    func missingKind() {
        var decoder = FrameDecoder()
        var envelope = Envelope()
        envelope.streamID = 3
        let frame = Frame.encode(envelope)
        #expect(throws: FrameError.self) {
            try frame.withUnsafeBytes { try decoder.feed($0) { _ in } }
        }
    }
}
