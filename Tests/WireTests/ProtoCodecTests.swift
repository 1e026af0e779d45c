import Testing
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// Round trips and interop of the generated protobuf types (docs/generated-swift.md): the
/// messages of proto/wire/wire.proto plus the test-only proto/wire/testing.proto (proto2) and
/// proto/wire/testing_proto3.proto. Hand-built bytes follow the protobuf encoding
/// specification, which proves the output is ordinary protobuf rather than something only
/// protoc-c reads.
@Suite("Protobuf codec")
struct ProtoCodecTests {
    // MARK: Hand encoding per https://protobuf.dev/programming-guides/encoding/

    enum WireType: UInt64 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case fixed32 = 5
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7f) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
        return bytes
    }

    static func tag(_ field: UInt64, _ type: WireType) -> [UInt8] { varint(field << 3 | type.rawValue) }

    static func varintField(_ field: UInt64, _ value: UInt64) -> [UInt8] { tag(field, .varint) + varint(value) }

    static func bytesField(_ field: UInt64, _ value: [UInt8]) -> [UInt8] {
        tag(field, .lengthDelimited) + varint(UInt64(value.count)) + value
    }

    static func stringField(_ field: UInt64, _ value: String) -> [UInt8] { bytesField(field, Array(value.utf8)) }

    static func zigZag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }

    static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    // MARK: Fixtures

    static let largePayload: [UInt8] = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }

    static let envelopes: [Envelope] = [
        Envelope(
            streamID: .max, kind: .pong, method: "store.Put", statusCode: .unauthenticated,
            statusMessage: "ünïcödé ✓ 日本語 🚀", payload: [0, 1, 2, 0xff], deadlineMilliseconds: .max, flags: .max),
        Envelope(streamID: 1, kind: .request, method: "", statusCode: .ok, statusMessage: "", payload: []),
        Envelope(streamID: 3, kind: .response, payload: largePayload),
        Envelope(
            streamID: 1 << 63, kind: .error, statusCode: .dataLoss,
            statusMessage: String(repeating: "x", count: 5000), payload: Array(repeating: 0, count: 256)),
    ]

    static func fullProto2Object() -> Proto2TestObject {
        var container = Proto2TestObject.Container(
            name: "sidecar", image: "registry.example/sidecar:1.2", args: ["--verbose", "", "ärg"], port: 8080,
            protocol: .udp, env: ["HOME": "/root", "EMPTY": "", "ÜTF": "✓"])
        var object = Proto2TestObject(
            name: "web-0", uid: .max, namespace: "production", replicas: .min, generation: .max, paused: false,
            ratio: -1.5e300, weight: .infinity, data: [], phase: .failed, requiredPhase: .running,
            kind: "Pod", requiredData: [0xde, 0xad], finalizers: ["a", "", "ç"],
            labels: ["app": "web", "tier": "", "é": "ü"],
            containersByName: ["main": Proto2TestObject.Container(name: "main"), "empty": Proto2TestObject.Container()],
            mainContainer: container, requiredContainer: Proto2TestObject.Container(port: 0),
            containers: [container, Proto2TestObject.Container()], history: [.pending, .running, .failed, .pending],
            numbers: [.min, -1, 0, 1, .max], flags: [true, false, true], chunks: [[], [1], largePayload],
            blobs: [.min: [1, 2], 0: [], .max: [3]], toggles: [true: "on", false: ""], counters: [0: .min, .max: .max],
            delta32: .min, delta64: .min, fixedSmall: .max, fixedLarge: .max, signedFixedSmall: .min,
            signedFixedLarge: .min, small: 0, envelope: envelopes[0], class: "keyword", samples: [0, -0.5, .greatestFiniteMagnitude],
            defaultProtocol: .tcp)
        container.args = []
        object.containers.append(container)
        return object
    }

    static func fullProto3Object() -> Proto3TestObject {
        Proto3TestObject(
            doubleValue: -.greatestFiniteMagnitude, floatValue: .leastNonzeroMagnitude, int32Value: .min,
            int64Value: .min, uint32Value: .max, uint64Value: .max, sint32Value: .min, sint64Value: .min,
            fixed32Value: .max, fixed64Value: .max, sfixed32Value: .min, sfixed64Value: .min, boolValue: true,
            stringValue: "naïve café 🍰", bytesValue: largePayload, color: .negative,
            child: Proto3TestObject.Child(name: "only", values: [.max, 0, 1]),
            children: [Proto3TestObject.Child(), Proto3TestObject.Child(name: "second", values: [7])],
            names: ["", "a", "ß"], colors: [.red, .negative, .unspecified],
            labels: ["k": "v", "": "empty key", "empty value": ""],
            childrenByName: ["x": Proto3TestObject.Child(name: "x"), "default": Proto3TestObject.Child()],
            colorsByNumber: [.min: .negative, 0: .unspecified, .max: .red], envelope: envelopes[0],
            chunks: [[], [0], [1, 2, 3]], deltas: [.min, -1, 0, .max], flags: [false, true],
            floats: [-.infinity, 1.5], fixedValues: [.max, 0], default: 42, nodeIDs: [1, 2, 3],
            nestedEnvelope: Proto3TestObject.Envelope(note: "nested"), nothing: Proto3TestObject.Nothing())
    }

    // MARK: Round trips

    /// Indices rather than the envelopes themselves, so test output does not print 1 MiB payloads.
    @Test("Envelope round trips with extreme, empty, non-ASCII and large values", arguments: envelopes.indices)
    func envelopeRoundTrip(index: Int) throws {
        let envelope = Self.envelopes[index]
        let bytes = envelope.protobufBytes()
        #expect(bytes.count == envelope.protobufSize)
        #expect(try Envelope(protobuf: bytes) == envelope)
    }

    @Test("Handshake and HandshakeAck round trip")
    func handshakeRoundTrip() throws {
        let handshake = Handshake(protocolVersion: .max, component: "agentctl", identity: "hôst-1", credential: "")
        #expect(try Handshake(protobuf: handshake.protobufBytes()) == handshake)
        let acknowledgement = HandshakeAck(
            protocolVersion: 1, serverIdentity: "apiserver-ø", maxFrameBytes: .max, maxInFlightCalls: 0,
            keepaliveIntervalMilliseconds: 15_000)
        #expect(try HandshakeAck(protobuf: acknowledgement.protobufBytes()) == acknowledgement)
    }

    @Test("default values encode to nothing and nothing decodes to defaults")
    func defaults() throws {
        #expect(Envelope().protobufBytes().isEmpty)
        #expect(Envelope().protobufSize == 0)
        #expect(Handshake().protobufBytes().isEmpty)
        #expect(Proto3TestObject().protobufBytes().isEmpty)
        #expect(try Envelope(protobuf: [UInt8]()) == Envelope())
        #expect(try Proto3TestObject(protobuf: [UInt8]()) == Proto3TestObject())
    }

    @Test("proto3: every scalar type, nested types, repeated fields and maps round trip")
    func proto3RoundTrip() throws {
        let object = Self.fullProto3Object()
        let bytes = object.protobufBytes()
        #expect(bytes.count == object.protobufSize)
        #expect(try Proto3TestObject(protobuf: bytes) == object)
    }

    @Test("proto2: optional, required, repeated, maps, nested enums and messages round trip")
    func proto2RoundTrip() throws {
        let object = Self.fullProto2Object()
        let bytes = object.protobufBytes()
        #expect(bytes.count == object.protobufSize)
        let decoded = try Proto2TestObject(protobuf: bytes)
        #expect(decoded == object)
        #expect(decoded.data == [])
        #expect(decoded.paused == false)
    }

    @Test("proto2: absent optional fields decode as nil even when they have a default")
    func proto2Absent() throws {
        let minimal = Proto2TestObject(uid: 7, kind: "")
        let decoded = try Proto2TestObject(protobuf: minimal.protobufBytes())
        #expect(decoded == minimal)
        #expect(decoded.namespace == nil)
        #expect(decoded.replicas == nil)
        #expect(decoded.phase == nil)
        #expect(decoded.name == nil)
        // Present and equal to the default is still present.
        let explicit = Proto2TestObject(uid: 7, namespace: "default", replicas: 1, phase: .running, kind: "")
        #expect(try Proto2TestObject(protobuf: explicit.protobufBytes()) == explicit)
    }

    @Test("proto2: a missing required field throws")
    func proto2MissingRequired() {
        // uid and required_container but no kind, required_phase or required_data.
        let bytes = Self.varintField(2, 1) + Self.bytesField(18, [])
        #expect(throws: ProtoDecodingError.self) { try Proto2TestObject(protobuf: bytes) }
    }

    @Test("nested messages have their own encode and decode")
    func nestedMessage() throws {
        let container = Proto2TestObject.fullContainer
        let bytes = container.protobufBytes()
        #expect(bytes.count == container.protobufSize)
        #expect(try Proto2TestObject.Container(protobuf: bytes) == container)
        let child = Proto3TestObject.Child(name: "c", values: [1, 2])
        #expect(try Proto3TestObject.Child(protobuf: child.protobufBytes()) == child)
        #expect(throws: ProtoDecodingError.self) { try Proto3TestObject.Child(protobuf: [0x0a, 0x05, 0x61]) }
    }

    @Test("equal maps encode to equal bytes whatever their insertion order")
    func deterministicMaps() {
        var first = Proto3TestObject()
        var second = Proto3TestObject()
        let keys = (0..<200).map { "key-\($0)" }
        for key in keys { first.labels[key] = key }
        for key in keys.reversed() { second.labels[key] = key }
        #expect(first.protobufBytes() == second.protobufBytes())
    }

    @Test("appendProtobuf keeps what the buffer held")
    func appendKeepsPrefix() throws {
        var buffer: [UInt8] = [9, 9, 9]
        let envelope = Self.envelopes[0]
        envelope.appendProtobuf(to: &buffer)
        #expect(Array(buffer.prefix(3)) == [9, 9, 9])
        #expect(try Envelope(protobuf: Array(buffer.dropFirst(3))) == envelope)
        var reserved: [UInt8] = []
        reserved.reserveCapacity(4096)
        envelope.appendProtobuf(to: &reserved)
        #expect(reserved == envelope.protobufBytes())
    }

    // MARK: Interop with hand-built bytes

    @Test("hand-built Envelope bytes decode, and encoding produces the same bytes")
    func envelopeInterop() throws {
        let payload: [UInt8] = [0, 0xff, 0x80]
        var bytes = Self.varintField(1, UInt64.max)
        bytes += Self.varintField(2, 3)
        bytes += Self.stringField(3, "store.Put")
        bytes += Self.varintField(4, 16)
        bytes += Self.stringField(5, "nö")
        bytes += Self.bytesField(6, payload)
        bytes += Self.varintField(7, 1500)
        bytes += Self.varintField(8, 1)
        let expected = Envelope(
            streamID: .max, kind: .request, method: "store.Put", statusCode: .unauthenticated, statusMessage: "nö",
            payload: payload, deadlineMilliseconds: 1500, flags: 1)
        #expect(try Envelope(protobuf: bytes) == expected)
        #expect(expected.protobufBytes() == bytes)
    }

    @Test("unknown fields are skipped, later values of a field win")
    func unknownFieldsAndRepeats() throws {
        var bytes = Self.varintField(1, 5)
        bytes += Self.varintField(99, 123)
        bytes += Self.bytesField(100, [1, 2, 3])
        bytes += Self.tag(101, .fixed32) + Self.littleEndian(UInt32(7))
        bytes += Self.tag(102, .fixed64) + Self.littleEndian(UInt64(7))
        bytes += Self.varintField(1, 6)
        #expect(try Envelope(protobuf: bytes) == Envelope(streamID: 6))
    }

    @Test("hand-built proto3 bytes: zig-zag, fixed widths, packed and unpacked repeated, maps, sub-messages")
    func proto3Interop() throws {
        var bytes = Self.tag(1, .fixed64) + Self.littleEndian(Double(2.5).bitPattern)
        bytes += Self.tag(2, .fixed32) + Self.littleEndian(Float(-1.25).bitPattern)
        bytes += Self.varintField(3, UInt64(bitPattern: -2))  // negative int32: ten-byte varint
        bytes += Self.varintField(7, Self.zigZag(-3))
        bytes += Self.varintField(8, Self.zigZag(.min))
        bytes += Self.tag(11, .fixed32) + Self.littleEndian(Int32(-4))
        bytes += Self.varintField(16, UInt64(bitPattern: -2))  // Color.negative
        bytes += Self.bytesField(17, Self.stringField(1, "kid") + Self.bytesField(2, Self.varint(1) + Self.varint(300)))
        bytes += Self.stringField(19, "one") + Self.stringField(19, "two")
        bytes += Self.bytesField(21, Self.stringField(1, "app") + Self.stringField(2, "web"))
        bytes += Self.bytesField(21, Self.stringField(1, "app") + Self.stringField(2, "api"))
        bytes += Self.bytesField(22, Self.stringField(1, "c"))  // map entry without value
        bytes += Self.bytesField(23, Self.varintField(2, 1))  // map entry without key
        // node_ids unpacked (one tag per element), which proto3 parsers must accept too.
        bytes += Self.varintField(31, 10) + Self.varintField(31, 20)
        let decoded = try Proto3TestObject(protobuf: bytes)
        let expected = Proto3TestObject(
            doubleValue: 2.5, floatValue: -1.25, int32Value: -2, sint32Value: -3, sint64Value: .min,
            sfixed32Value: -4, color: .negative, child: Proto3TestObject.Child(name: "kid", values: [1, 300]),
            names: ["one", "two"], labels: ["app": "api"], childrenByName: ["c": Proto3TestObject.Child()],
            colorsByNumber: [0: .red], nodeIDs: [10, 20])
        #expect(decoded == expected)
    }

    @Test("hand-built proto2 bytes decode with presence")
    func proto2Interop() throws {
        var bytes = Self.varintField(2, 42)
        bytes += Self.varintField(11, 3)
        bytes += Self.stringField(12, "Pod")
        bytes += Self.bytesField(13, [])
        bytes += Self.bytesField(18, [])
        bytes += Self.varintField(6, 0)  // paused = false, present
        bytes += Self.varintField(27, Self.zigZag(-1))
        bytes += Self.bytesField(15, Self.stringField(1, "a") + Self.stringField(2, "b"))
        let decoded = try Proto2TestObject(protobuf: bytes)
        #expect(decoded == Proto2TestObject(
            uid: 42, paused: false, requiredPhase: .failed, kind: "Pod", labels: ["a": "b"],
            requiredContainer: Proto2TestObject.Container(), delta32: -1))
    }

    // MARK: Bad input

    @Test("an enum number the schema does not know throws, naming message and field")
    func unknownEnum() {
        do {
            _ = try Envelope(protobuf: Self.varintField(2, 99))
            Issue.record("decoding an unknown enum number succeeded")
        } catch {
            #expect(error.reason == .unknownEnumNumber(99))
            #expect(error.messageName == "skiff.wire.Envelope")
            #expect(error.fieldName == "kind")
            #expect(error.description.contains("skiff.wire.Envelope.kind"))
        }
        #expect(throws: ProtoDecodingError.self) { try Proto3TestObject(protobuf: Self.bytesField(20, Self.varint(5))) }
        #expect(throws: ProtoDecodingError.self) {
            try Proto2TestObject(protobuf: Self.varintField(2, 1) + Self.varintField(11, 9) + Self.stringField(12, "")
                + Self.bytesField(13, []) + Self.bytesField(18, []))
        }
    }

    @Test("proto3 strings must be valid UTF-8")
    func invalidUTF8() {
        do {
            _ = try Envelope(protobuf: Self.bytesField(3, [0x66, 0xff, 0xfe]))
            Issue.record("decoding invalid UTF-8 succeeded")
        } catch {
            #expect(error.reason == .invalidUTF8)
            #expect(error.fieldName == "method")
        }
    }

    @Test("truncated bytes throw")
    func truncated() {
        let bytes = Self.envelopes[0].protobufBytes()
        // Cuts inside the stream_id varint (bytes 1-11), right after the kind tag (byte 12) and
        // inside the flags varint (the last 5 bytes); a cut at a field boundary is a valid message.
        for cut in [1, 2, 5, 10, 12, bytes.count - 1] {
            let prefix = Array(bytes.prefix(cut))
            #expect(throws: ProtoDecodingError.self, "prefix of \(cut) bytes") { try Envelope(protobuf: prefix) }
        }
        do {
            _ = try Envelope(protobuf: Array(bytes.prefix(bytes.count - 1)))
        } catch {
            #expect(error.reason == .malformed(byteCount: bytes.count - 1))
            #expect(error.description.contains("skiff.wire.Envelope"))
        }
        // A length that runs past the end.
        #expect(throws: ProtoDecodingError.self) { try Envelope(protobuf: Self.tag(6, .lengthDelimited) + Self.varint(1000) + [1, 2]) }
    }

    @Test("garbage throws or decodes, never crashes")
    func garbage() {
        #expect(throws: ProtoDecodingError.self) { try Envelope(protobuf: [UInt8](repeating: 0xff, count: 11)) }
        #expect(throws: ProtoDecodingError.self) { try Envelope(protobuf: [0x0f, 0x00]) }  // wire type 7
        #expect(throws: ProtoDecodingError.self) { try Envelope(protobuf: [0x00, 0x00]) }  // field number 0
        #expect(throws: ProtoDecodingError.self) { try Envelope(protobuf: [0x08]) }  // tag without value
        #expect(throws: ProtoDecodingError.self) { try Envelope(protobuf: Self.varintField(3, 1)) }  // string as varint
        // Seeded so that a failure replays; prints nothing unless an expectation fails.
        var generator = SplitMix64(seed: 0x5eed)
        let valid = Self.fullProto3Object().protobufBytes().prefix(4096)
        for round in 0..<3000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int(generator.next() % 64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            } else {
                bytes = Array(valid)
                for _ in 0..<4 {
                    bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
                }
            }
            _ = try? Envelope(protobuf: bytes)
            _ = try? Proto3TestObject(protobuf: bytes)
            _ = try? Proto2TestObject(protobuf: bytes)
        }
    }

    /// tree nests `depth` levels through `children` (or through the `named` map).
    static func tree(depth: Int, throughMap: Bool = false) -> Proto3TestTree {
        var tree = Proto3TestTree(label: "leaf")
        for level in 1..<depth {
            tree = throughMap
                ? Proto3TestTree(label: "\(level)", named: ["child": tree])
                : Proto3TestTree(label: "\(level)", children: [tree])
        }
        return tree
    }

    @Test("nesting up to the limit decodes; deeper nesting throws instead of overflowing the stack")
    func nestingLimit() throws {
        // A map entry is a message too, so through `named` a tree of n levels nests 2n - 1.
        for (throughMap, deepestAccepted) in [(false, ProtoNesting.depthLimit), (true, (ProtoNesting.depthLimit + 1) / 2)] {
            let deepest = Self.tree(depth: deepestAccepted, throughMap: throughMap)
            #expect(try Proto3TestTree(protobuf: deepest.protobufBytes()) == deepest)
            let tooDeep = Self.tree(depth: deepestAccepted + 1, throughMap: throughMap).protobufBytes()
            #expect(throws: ProtoDecodingError(
                messageName: "skiff.wire.testing.Proto3TestTree", reason: .nestingTooDeep(limit: ProtoNesting.depthLimit))
            ) { try Proto3TestTree(protobuf: tooDeep) }
        }
        // Hand-built, as a hostile peer would send it: 100,000 levels in about 400 KB, which
        // crashes protoc-c's unpack without the check.
        var bytes: [UInt8] = []
        for _ in 0..<100_000 { bytes = Self.bytesField(2, bytes) }
        #expect(throws: ProtoDecodingError.self) { try Proto3TestTree(protobuf: bytes) }
    }

    // MARK: Speed

    /// Envelope encode and decode time, the per-frame cost of the wire protocol. A measurement
    /// rather than a check, so it runs only on request, in release:
    ///   SKIFF_PROTO_BENCHMARK=1 swift test -c release -Xswiftc -enable-testing --filter envelopeSpeed
    /// It prints the best of five runs of 200,000 operations for each of encode (append to a
    /// reused buffer), decode, and encode+decode.
    @Test("Envelope encode and decode speed", .enabled(if: getenv("SKIFF_PROTO_BENCHMARK") != nil))
    func envelopeSpeed() throws {
        let envelope = Envelope(
            streamID: 12345, kind: .request, method: "store.Put", statusCode: .ok,
            payload: (0..<256).map { UInt8(truncatingIfNeeded: $0) }, deadlineMilliseconds: 5000)
        let bytes = envelope.protobufBytes()
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1024)
        var checksum = 0
        func best(_ name: String, _ body: () throws -> Void) rethrows {
            let operations = 200_000
            var bestNanoseconds = Double.infinity
            for _ in 0..<5 {
                let clock = ContinuousClock()
                let start = clock.now
                for _ in 0..<operations { try body() }
                let elapsed = (clock.now - start).components
                let nanoseconds = Double(elapsed.seconds) * 1e9 + Double(elapsed.attoseconds) / 1e9
                bestNanoseconds = min(bestNanoseconds, nanoseconds / Double(operations))
            }
            print("Envelope \(name) (\(bytes.count) bytes): \(Int(bestNanoseconds.rounded())) ns")
        }
        best("encode") {
            buffer.removeAll(keepingCapacity: true)
            envelope.appendProtobuf(to: &buffer)
            checksum &+= buffer.count
        }
        try best("decode") { checksum &+= Int(try Envelope(protobuf: bytes).streamID) }
        try best("encode+decode") {
            buffer.removeAll(keepingCapacity: true)
            envelope.appendProtobuf(to: &buffer)
            checksum &+= Int(try Envelope(protobuf: buffer).streamID)
        }
        #expect(checksum != 0)
    }

    // MARK: Memory

    #if os(Linux)
    /// residentBytes reads VmRSS from /proc/self/status.
    static func residentBytes() -> Int {
        guard let file = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("VmRSS:") {
                return (Int(text.dropFirst(6).filter(\.isNumber)) ?? 0) * 1024
            }
        }
        return 0
    }

    @Test("encoding and decoding large messages returns all memory")
    func noLeaks() throws {
        let object = Self.fullProto2Object()
        let bytes = object.protobufBytes()
        // Each round moves over 3 MiB through arena chunks (the 1 MiB chunk and payload are in
        // the message twice); leaking them would grow the process by hundreds of MiB.
        func round() throws {
            _ = object.protobufBytes()
            _ = object.protobufSize
            _ = try Proto2TestObject(protobuf: bytes)
            _ = try? Proto2TestObject(protobuf: Array(bytes.prefix(bytes.count / 2)))
        }
        for _ in 0..<10 { try round() }
        let before = Self.residentBytes()
        for _ in 0..<100 { try round() }
        let after = Self.residentBytes()
        #expect(after - before < 64 << 20, "resident memory grew from \(before) to \(after) bytes")
    }
    #endif
}

extension Proto2TestObject {
    static let fullContainer = Proto2TestObject.Container(
        name: "c", image: "", args: ["x"], port: -1, protocol: .tcp, env: ["A": "1"])
}

/// SplitMix64 is a tiny seeded generator so garbage inputs are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var value = state
        value = (value ^ (value >> 30)) &* 0xbf58_476d_1ce4_e5b9
        value = (value ^ (value >> 27)) &* 0x94d0_49bb_1331_11eb
        return value ^ (value >> 31)
    }
}
