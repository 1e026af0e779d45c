import Foundation
import Testing

@testable import Wire

/// The Envelope decode fast path (`EnvelopeDecoding`, used by `FrameDecoder`) against the
/// generated `Envelope(protobuf:)` (protoc-c): the same value or the same error for every
/// input, from the committed corpus, random and mutated envelopes, and hand-built edge cases.
@Suite("Envelope decode fast path")
struct EnvelopeFastDecodeTests {
    /// What one decoder made of some bytes.
    enum Outcome: Equatable, CustomStringConvertible {
        case value(Envelope)
        case failure(ProtoDecodingError)

        var description: String {
            switch self {
            case .value(let envelope): return "value(\(envelope))"
            case .failure(let error): return "failure(\(error))"
            }
        }
    }

    static func generated(_ bytes: [UInt8]) -> Outcome {
        bytes.withUnsafeBytes { raw in
            do throws(ProtoDecodingError) {
                return .value(try Envelope(protobuf: raw))
            } catch {
                return .failure(error)
            }
        }
    }

    static func fast(_ bytes: [UInt8]) -> Outcome {
        bytes.withUnsafeBytes { raw in
            do throws(ProtoDecodingError) {
                return .value(try EnvelopeDecoding.decode(raw))
            } catch {
                return .failure(error)
            }
        }
    }

    /// What `FrameDecoder` must make of a frame whose body is `body`, given the generated
    /// decoder's outcome.
    static func expectedFrame(_ body: [UInt8], _ outcome: Outcome) -> Result<Envelope, FrameError> {
        switch outcome {
        case .failure(let error):
            return .failure(.malformed(length: body.count, reason: "\(error)"))
        case .value(let envelope) where envelope.kind == .unspecified:
            return .failure(.malformed(length: body.count, reason: "envelope has no frame kind"))
        case .value(let envelope):
            return .success(envelope)
        }
    }

    static func frameDecoded(_ body: [UInt8]) -> Result<Envelope, FrameError> {
        var frame: [UInt8] = []
        let length = UInt32(body.count)
        frame += [UInt8(length >> 24), UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8),
                  UInt8(truncatingIfNeeded: length)]
        frame += body
        var decoder = FrameDecoder(maximumFrameBytes: 64 << 20)
        let decoded: Result<[Envelope], FrameError> = frame.withUnsafeBytes { raw in
            var envelopes: [Envelope] = []
            do throws(FrameError) {
                try decoder.feed(raw) { envelopes.append($0) }
            } catch {
                return .failure(error)
            }
            return .success(envelopes)
        }
        return decoded.map { envelopes in
            precondition(envelopes.count == 1, "one frame in, \(envelopes.count) envelopes out")
            return envelopes[0]
        }
    }

    /// Checks both decoders agree on `body`, directly and through FrameDecoder; returns the
    /// outcome, or nil after recording an issue.
    @discardableResult
    static func agree(
        _ body: [UInt8], _ what: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation
    ) -> Outcome? {
        let reference = generated(body)
        let candidate = fast(body)
        guard reference == candidate else {
            Issue.record(
                "\(what()): generated \(reference), fast path \(candidate); bytes \(hex(body))",
                sourceLocation: sourceLocation)
            return nil
        }
        let expected = expectedFrame(body, reference)
        let decoded = frameDecoded(body)
        guard expected == decoded else {
            Issue.record(
                "\(what()): FrameDecoder gave \(decoded), expected \(expected); bytes \(hex(body))",
                sourceLocation: sourceLocation)
            return nil
        }
        return reference
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let shown = bytes.prefix(96).map { String(format: "%02x", $0) }.joined()
        return bytes.count > 96 ? shown + "… (\(bytes.count) bytes)" : shown
    }

    static func malformed(_ byteCount: Int) -> Outcome {
        .failure(ProtoDecodingError(messageName: "skiff.wire.Envelope", reason: .malformed(byteCount: byteCount)))
    }

    // MARK: Corpus and random inputs

    /// The bodies of the frames in a corpus file, as far as its length headers make sense.
    static func bodies(_ stream: [UInt8]) -> [[UInt8]] {
        var bodies: [[UInt8]] = []
        var offset = 0
        while stream.count - offset >= Frame.headerBytes {
            let length = Int(stream[offset]) << 24 | Int(stream[offset + 1]) << 16 | Int(stream[offset + 2]) << 8
                | Int(stream[offset + 3])
            let start = offset + Frame.headerBytes
            guard length <= stream.count - start else {
                // An incomplete or oversized frame: its available bytes are still an input.
                bodies.append(Array(stream[start...]))
                break
            }
            bodies.append(Array(stream[start..<(start + length)]))
            offset = start + length
        }
        return bodies
    }

    @Test("every frame of the committed corpus decodes the same with both decoders")
    func corpus() throws {
        var checked = 0
        for file in try FrameFuzzTests.corpus() {
            for body in Self.bodies(file) {
                Self.agree(body, "corpus frame")
                checked += 1
            }
        }
        #expect(checked >= 16)
    }

    @Test("random envelopes and mutations of them and of the corpus decode the same with both decoders")
    func randomAndMutated() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["WIRE_FUZZ_SEED"] ?? "") ?? 20_260_611
        let iterations = Int(ProcessInfo.processInfo.environment["WIRE_FUZZ_ITERATIONS"] ?? "") ?? 20_000
        var random = TestRandom(seed: seed)
        let corpusBodies = try FrameFuzzTests.corpus().flatMap(Self.bodies).filter { !$0.isEmpty }
        var values = 0, failures = 0
        var failureKinds: Set<String> = []
        func count(_ outcome: Outcome?) {
            switch outcome {
            case .value?: values += 1
            case .failure(let error)?:
                failures += 1
                failureKinds.insert("\(error.fieldName ?? "-") \(error.reason)".prefix(while: { $0 != "(" }).description)
            case nil: break
            }
        }
        for iteration in 0..<iterations {
            // Raw wire format with every field shape, including broken ones.
            let raw = Self.randomFields(&random)
            count(Self.agree(raw, "random fields (seed \(seed), iteration \(iteration))"))

            // A well-formed envelope: the fast path gives back exactly what was encoded.
            let envelope = Self.randomEnvelope(&random)
            let encoded = Array(Frame.encode(envelope).dropFirst(Frame.headerBytes))
            if Self.agree(encoded, "random envelope (seed \(seed), iteration \(iteration))") != .value(envelope) {
                Issue.record("random envelope did not round-trip: \(envelope)")
            }

            // Mutations of the envelope, of raw fields and of corpus frames.
            var mutated: [UInt8]
            switch random.next() % 3 {
            case 0: mutated = encoded
            case 1: mutated = raw
            default: mutated = corpusBodies[Int(random.next() % UInt64(corpusBodies.count))]
            }
            for _ in 0...(random.next() % 3) { Self.mutate(&mutated, &random) }
            count(Self.agree(mutated, "mutated input (seed \(seed), iteration \(iteration))"))
        }
        // The inputs must reach every outcome, not only one.
        #expect(values > iterations / 4)
        #expect(failures > iterations / 4)
        for kind in ["- malformed", "kind unknownEnumNumber", "status_code unknownEnumNumber", "method invalidUTF8",
                     "status_message invalidUTF8"] {
            #expect(failureKinds.contains(kind), "no input failed with \(kind); seen \(failureKinds.sorted())")
        }
    }

    static func mutate(_ input: inout [UInt8], _ random: inout TestRandom) {
        switch random.next() % 6 {
        case 0 where !input.isEmpty:
            let index = Int(random.next() % UInt64(input.count))
            input[index] ^= UInt8(1 << (random.next() % 8))
        case 1 where !input.isEmpty:
            input.removeLast(Int(random.next() % UInt64(input.count)) + 1)
        case 2:
            let index = Int(random.next() % UInt64(input.count + 1))
            input.insert(
                contentsOf: (0..<(random.next() % 9)).map { _ in UInt8(truncatingIfNeeded: random.next()) }, at: index)
        case 3:
            // Append one more field, well-formed or not.
            input += randomField(&random)
        case 4 where input.count >= 2:
            let index = Int(random.next() % UInt64(input.count - 1))
            input.swapAt(index, index + 1)
        default:
            if !input.isEmpty {
                let index = Int(random.next() % UInt64(input.count))
                input[index] = [0x00, 0x80, 0xFF, 0x7F, 0xC0, 0xED][Int(random.next() % 6)]
            }
        }
    }

    /// 0 to 11 random fields.
    static func randomFields(_ random: inout TestRandom) -> [UInt8] {
        var bytes: [UInt8] = []
        for _ in 0..<(random.next() % 12) { bytes += randomField(&random) }
        return bytes
    }

    /// The wire type each known field of Envelope has.
    static func wireType(of field: UInt64) -> UInt8? {
        switch field {
        case 1, 2, 4, 7, 8: return 0
        case 3, 5, 6: return 2
        default: return nil
        }
    }

    /// One field: mostly a known field with its own wire type, sometimes an unknown field, a
    /// wrong wire type, a group, an unused wire type, a non-canonical or over-long encoding.
    static func randomField(_ random: inout TestRandom) -> [UInt8] {
        var writer = WireWriter()
        let field: UInt64
        switch random.next() % 10 {
        case 0..<7: field = random.next() % 8 + 1
        case 7: field = random.next() % 100 + 9
        case 8: field = [0, 16, 1 << 28, (1 << 29) - 1, 1 << 31, UInt64(UInt32.max)][Int(random.next() % 6)]
        default: field = random.next() % (1 << 32)
        }
        var wireType = wireType(of: field) ?? [0, 1, 2, 5][Int(random.next() % 4)]
        if random.next() % 16 == 0 { wireType = UInt8(random.next() % 8) }
        let tag = field << 3 | UInt64(wireType)
        if random.next() % 24 == 0 {
            // Non-canonical tag: padded with continuation bytes, possibly past protoc-c's 5.
            writer.paddedVarint(tag, length: Int(random.next() % 6) + 1)
        } else {
            writer.varint(tag)
        }
        switch wireType {
        case 0:
            let value: UInt64
            switch random.next() % 8 {
            case 0..<3: value = random.next() % 18
            case 3: value = random.next() % 200
            case 4: value = random.next()
            case 5: value = [UInt64.max, UInt64(UInt32.max), 1 << 31, 1 << 32, 1 << 63][Int(random.next() % 5)]
            case 6: value = UInt64(bitPattern: -Int64(random.next() % 5 + 1))
            default: value = random.next() % (1 << 35)
            }
            switch random.next() % 12 {
            case 0: writer.paddedVarint(value, length: 10)
            case 1:
                // 10 bytes with high bits in the last, or 11 bytes: protoc-c refuses 11.
                writer.bytes += [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
                writer.bytes += random.next() % 2 == 0 ? [UInt8(random.next() % 128)] : [0xFF, 0x01]
            default: writer.varint(value)
            }
        case 1:
            for _ in 0..<8 { writer.bytes.append(UInt8(truncatingIfNeeded: random.next())) }
        case 5:
            for _ in 0..<4 { writer.bytes.append(UInt8(truncatingIfNeeded: random.next())) }
        case 2:
            let contents = randomContents(&random)
            switch random.next() % 16 {
            case 0: writer.paddedVarint(UInt64(contents.count), length: Int(random.next() % 6) + 1)
            case 1: writer.varint(UInt64(contents.count) + random.next() % 4 + 1)  // past the end, unless more follows
            default: writer.varint(UInt64(contents.count))
            }
            writer.bytes += contents
        default:
            // Groups and unused wire types: protoc-c refuses them whatever follows.
            for _ in 0..<(random.next() % 3) { writer.bytes.append(UInt8(truncatingIfNeeded: random.next())) }
        }
        return writer.bytes
    }

    /// Contents of a length-delimited field: ASCII, Unicode, NULs, invalid UTF-8, random bytes.
    static func randomContents(_ random: inout TestRandom) -> [UInt8] {
        switch random.next() % 9 {
        case 0: return []
        case 1, 2: return Array(["wire.Echo", "store.Put", "x", String(repeating: "m", count: 130)][Int(random.next() % 4)].utf8)
        case 3: return Array(["état ✓", "日本語", "🛶 skiff", "\u{10FFFF}"][Int(random.next() % 4)].utf8)
        case 4: return Array("ok".utf8) + [0] + (random.next() % 2 == 0 ? [0xFF, 0xFE] : Array("tail".utf8))
        case 5:
            // Invalid UTF-8: lone continuation, overlong, surrogate, truncated sequence, > U+10FFFF.
            let bad: [[UInt8]] = [[0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80], [0xFF]]
            return Array("ab".utf8) + bad[Int(random.next() % UInt64(bad.count))] + Array("cd".utf8)
        case 6: return [0]
        default: return (0..<(random.next() % 40)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        }
    }

    /// A random well-formed Envelope, valid UTF-8 strings without NULs.
    static func randomEnvelope(_ random: inout TestRandom) -> Envelope {
        let strings = ["", "wire.Echo", "store.Put/état ✓", "🛶", String(repeating: "s", count: 300)]
        var envelope = Envelope()
        envelope.streamID = [0, 1, 127, 128, random.next(), UInt64.max][Int(random.next() % 6)]
        envelope.kind = FrameKind.allCases.filter { $0 != .unspecified }[Int(random.next() % 10)]
        envelope.method = strings[Int(random.next() % UInt64(strings.count))]
        envelope.statusCode = StatusCode.allCases[Int(random.next() % UInt64(StatusCode.allCases.count))]
        envelope.statusMessage = strings[Int(random.next() % UInt64(strings.count))]
        envelope.payload = (0..<[0, 1, 256, 3000][Int(random.next() % 4)]).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        envelope.deadlineMilliseconds = [0, 1, 5000, UInt32.max][Int(random.next() % 4)]
        envelope.flags = UInt32(truncatingIfNeeded: random.next() % 3)
        return envelope
    }

    // MARK: Hand-built edge cases

    /// The fields of a full request, each encoded on its own.
    static let requestFields: [[UInt8]] = {
        var fields: [[UInt8]] = []
        var writer = WireWriter()
        writer.field(1, varint: 300); fields.append(writer.take())
        writer.field(2, varint: 3); fields.append(writer.take())
        writer.field(3, bytes: Array("store.Put".utf8)); fields.append(writer.take())
        writer.field(4, varint: 5); fields.append(writer.take())
        writer.field(5, bytes: Array("not found: é".utf8)); fields.append(writer.take())
        writer.field(6, bytes: [1, 2, 3, 0, 255]); fields.append(writer.take())
        writer.field(7, varint: 1500); fields.append(writer.take())
        writer.field(8, varint: 1); fields.append(writer.take())
        return fields
    }()

    static let request = Envelope(
        streamID: 300, kind: .request, method: "store.Put", statusCode: .notFound, statusMessage: "not found: é",
        payload: [1, 2, 3, 0, 255], deadlineMilliseconds: 1500, flags: 1)

    @Test("call frames take the call-frame path, and it and its mutations agree with the generated decoder")
    func callFrames() throws {
        var random = TestRandom(seed: 20_261_124)
        let methods = ["", "wire.Echo", "store.Put", String(repeating: "m", count: 127), String(repeating: "m", count: 128)]
        let payloadSizes = [0, 1, 127, 128, 256, 16_383, 16_384, 70_000]
        let streamIDs: [UInt64] = [1, 127, 128, 1 << 35, UInt64.max]
        for kind in FrameKind.allCases where kind != .unspecified {
            for method in methods {
                for size in payloadSizes {
                    let streamID = streamIDs[Int(random.next() % UInt64(streamIDs.count))]
                    let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 13) }
                    var frame: [UInt8] = []
                    payload.withUnsafeBytes {
                        Frame.appendCallFrame(streamID: streamID, kind: kind, method: method, payload: $0, to: &frame)
                    }
                    let body = Array(frame.dropFirst(Frame.headerBytes))
                    let what = "\(kind) frame, method of \(method.utf8.count) bytes, \(size)-byte payload"
                    // Method lengths past one varint byte are left to the general path.
                    let taken = body.withUnsafeBytes { EnvelopeDecoding.parseCallFrame($0) } != nil
                    #expect(taken == (method.utf8.count < 128), "\(what): call-frame path taken: \(taken)")
                    Self.agree(body, what)
                    // Flipped bits and cut tails must give what the generated decoder gives,
                    // whichever path takes them.
                    for _ in 0..<8 {
                        var mutated = body
                        Self.mutate(&mutated, &random)
                        Self.agree(mutated, "mutated \(what): \(Self.hex(mutated))")
                    }
                }
            }
        }
    }

    @Test("fields in any order decode to the same envelope")
    func shuffledFieldOrder() {
        var random = TestRandom(seed: 7)
        #expect(Self.agree(Self.requestFields.flatMap { $0 }, "field order") == .value(Self.request))
        for round in 0..<200 {
            var fields = Self.requestFields
            for index in stride(from: fields.count - 1, to: 0, by: -1) {
                fields.swapAt(index, Int(random.next() % UInt64(index + 1)))
            }
            #expect(Self.agree(fields.flatMap { $0 }, "shuffle \(round)") == .value(Self.request))
        }
    }

    @Test("a field given twice keeps its last value, scalars, enums, strings and bytes alike")
    func duplicatedFields() {
        var writer = WireWriter()
        writer.field(2, varint: 99)  // an unknown kind, replaced before anything checks it
        writer.field(3, bytes: [0xFF])  // invalid UTF-8, replaced as well
        writer.bytes += Self.requestFields.flatMap { $0 }
        writer.field(1, varint: 7)
        writer.field(2, varint: 4)
        writer.field(3, bytes: Array("second".utf8))
        writer.field(5, bytes: [])
        writer.field(6, bytes: [9, 9])
        writer.field(6, bytes: [8])
        writer.field(7, varint: 0)
        var expected = Self.request
        expected.streamID = 7
        expected.kind = .response
        expected.method = "second"
        expected.statusMessage = ""
        expected.payload = [8]
        expected.deadlineMilliseconds = 0
        #expect(Self.agree(writer.bytes, "duplicates") == .value(expected))

        // The last kind is unknown: refused even though an earlier one was fine.
        writer.field(2, varint: 11)
        #expect(Self.agree(writer.bytes, "last kind unknown") == .failure(ProtoDecodingError(
            messageName: "skiff.wire.Envelope", fieldName: "kind", reason: .unknownEnumNumber(11))))
    }

    @Test("unknown fields of every accepted wire type are skipped; groups and wire types 6 and 7 are refused")
    func unknownFields() {
        let fields = Self.requestFields.flatMap { $0 }
        var accepted: [[UInt8]] = []
        for number: UInt64 in [9, 15, 16, 2047, 2048, (1 << 29) - 1, 1 << 29, UInt64(UInt32.max)] {
            var writer = WireWriter()
            writer.tag(number, 0); writer.varint(UInt64.max); accepted.append(writer.take())
            writer.tag(number, 1); writer.bytes += [1, 2, 3, 4, 5, 6, 7, 8]; accepted.append(writer.take())
            writer.tag(number, 2); writer.varint(3); writer.bytes += [0xFF, 0, 0x80]; accepted.append(writer.take())
            writer.tag(number, 2); writer.varint(0); accepted.append(writer.take())
            writer.tag(number, 5); writer.bytes += [1, 2, 3, 4]; accepted.append(writer.take())
        }
        // Field number 0 written in two bytes: protoc-c checks only the first byte for zero.
        accepted.append([0x80, 0x00, 0x05])
        for unknown in accepted {
            #expect(Self.agree(unknown + fields, "unknown first \(unknown)") == .value(Self.request))
            #expect(Self.agree(fields + unknown, "unknown last \(unknown)") == .value(Self.request))
        }
        for wireType: UInt8 in [3, 4, 6, 7] {
            for number: UInt64 in [1, 3, 6, 9, 1000] {
                var writer = WireWriter()
                writer.tag(number, wireType)
                let refused = fields + writer.bytes + [0x08, 0x01]
                #expect(Self.agree(refused, "wire type \(wireType)") == Self.malformed(refused.count))
            }
        }
        // A group that opens and closes at once: still refused.
        let group: [UInt8] = fields + [0x4B, 0x4C]
        #expect(Self.agree(group, "empty group") == Self.malformed(group.count))
        // Field number 0 in one byte.
        let zero: [UInt8] = fields + [0x00, 0x01]
        #expect(Self.agree(zero, "field 0") == Self.malformed(zero.count))
    }

    @Test("a known field with another wire type is malformed")
    func wireTypeMismatch() {
        for field: UInt64 in 1...8 {
            for wireType: UInt8 in [0, 1, 2, 5] where wireType != Self.wireType(of: field) {
                var writer = WireWriter()
                writer.field(2, varint: 3)
                writer.tag(field, wireType)
                switch wireType {
                case 0: writer.varint(1)
                case 1: writer.bytes += [0, 0, 0, 0, 0, 0, 0, 0]
                case 2: writer.varint(1); writer.bytes.append(0x41)
                default: writer.bytes += [0, 0, 0, 0]
                }
                #expect(Self.agree(writer.bytes, "field \(field) as wire type \(wireType)") == Self.malformed(writer.bytes.count))
            }
        }
    }

    @Test("maximal and over-long varints, tags and length prefixes")
    func varintLimits() {
        // UInt64.max in 10 bytes.
        var writer = WireWriter()
        writer.field(1, varint: UInt64.max)
        writer.field(2, varint: 1)
        #expect(writer.bytes.count == 1 + 10 + 2)
        #expect(Self.agree(writer.bytes, "UInt64.max") == .value(Envelope(streamID: .max, kind: .handshake)))

        // A 10th byte with more than the 64th bit: the extra bits are dropped.
        let tenth: [UInt8] = [0x08, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7F, 0x10, 0x01]
        #expect(Self.agree(tenth, "10th byte") == .value(Envelope(streamID: 1 | 1 << 63, kind: .handshake)))

        // 11 bytes: malformed, even for an unknown field.
        for tag: UInt8 in [0x08, 0x48] {
            let eleven: [UInt8] = [0x10, 0x01, tag] + [UInt8](repeating: 0x80, count: 10) + [0x01]
            #expect(Self.agree(eleven, "11-byte varint") == Self.malformed(eleven.count))
        }

        // Non-canonical padding up to 10 bytes is accepted.
        writer = WireWriter()
        writer.tag(1, 0); writer.paddedVarint(5, length: 10)
        writer.tag(2, 0); writer.paddedVarint(3, length: 3)
        #expect(Self.agree(writer.bytes, "padded varints") == .value(Envelope(streamID: 5, kind: .request)))

        // uint32 and enum fields keep the low 32 bits.
        writer = WireWriter()
        writer.field(2, varint: 1 << 32 | 4)
        writer.field(7, varint: 1 << 40 | 77)
        writer.field(8, varint: UInt64.max)
        #expect(Self.agree(writer.bytes, "truncated 32-bit fields")
            == .value(Envelope(kind: .response, deadlineMilliseconds: 77, flags: .max)))

        // Negative enum numbers, sign-extended to 10 bytes.
        writer = WireWriter()
        writer.field(2, varint: 1)
        writer.field(4, varint: UInt64(bitPattern: -1))
        #expect(Self.agree(writer.bytes, "negative status") == .failure(ProtoDecodingError(
            messageName: "skiff.wire.Envelope", fieldName: "status_code", reason: .unknownEnumNumber(-1))))

        // Tags: a known field written in 5 bytes is accepted, 6 bytes is malformed.
        writer = WireWriter()
        writer.paddedVarint(2 << 3, length: 5); writer.varint(6)
        #expect(Self.agree(writer.bytes, "5-byte tag") == .value(Envelope(kind: .streamEnd)))
        writer = WireWriter()
        writer.paddedVarint(2 << 3, length: 6); writer.varint(6)
        #expect(Self.agree(writer.bytes, "6-byte tag") == Self.malformed(writer.bytes.count))

        // Length prefixes: 5 bytes accepted, 6 malformed (protoc-c's limit).
        for prefix in 1...6 {
            writer = WireWriter()
            writer.field(2, varint: 3)
            writer.tag(3, 2); writer.paddedVarint(4, length: prefix); writer.bytes += Array("ping".utf8)
            let outcome = Self.agree(writer.bytes, "\(prefix)-byte length prefix")
            #expect(outcome == (prefix <= 5 ? Outcome.value(Envelope(kind: .request, method: "ping")) : Self.malformed(writer.bytes.count)))
        }
        // Lengths past the end, huge lengths, truncated fixed-width fields, a truncated tag.
        let truncated: [[UInt8]] = [
            [0x10, 0x03, 0x32, 0x05, 1, 2, 3, 4],
            [0x10, 0x03, 0x32, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 1],
            [0x10, 0x03, 0x32, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],
            [0x10, 0x03, 0x49, 1, 2, 3, 4, 5, 6, 7],
            [0x10, 0x03, 0x4D, 1, 2, 3],
            [0x10, 0x03, 0x08],
            [0x10, 0x03, 0x08, 0x80],
            [0x10, 0x03, 0x88],
            [0x10, 0x03, 0x32],
            [0x10, 0x03, 0x32, 0x80],
        ]
        for bytes in truncated {
            #expect(Self.agree(bytes, "truncated \(bytes)") == Self.malformed(bytes.count))
        }
    }

    @Test("strings: invalid UTF-8 is refused as the generated decoder refuses it; a NUL ends a string")
    func strings() {
        for (field, name) in [(UInt64(3), "method"), (5, "status_message")] {
            for bad: [UInt8] in [[0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] {
                var writer = WireWriter()
                writer.field(2, varint: 8)
                writer.field(field, bytes: Array("ok".utf8) + bad)
                #expect(Self.agree(writer.bytes, "\(name) \(bad)") == .failure(ProtoDecodingError(
                    messageName: "skiff.wire.Envelope", fieldName: name, reason: .invalidUTF8)))
            }
        }
        // Both strings bad: method is checked first, as the generated code does.
        var writer = WireWriter()
        writer.field(2, varint: 8)
        writer.field(5, bytes: [0xFF])
        writer.field(3, bytes: [0xFF])
        #expect(Self.agree(writer.bytes, "both bad") == .failure(ProtoDecodingError(
            messageName: "skiff.wire.Envelope", fieldName: "method", reason: .invalidUTF8)))
        // An unknown kind comes before bad UTF-8; malformed bytes come before both.
        writer.field(2, varint: 42)
        #expect(Self.agree(writer.bytes, "kind before UTF-8") == .failure(ProtoDecodingError(
            messageName: "skiff.wire.Envelope", fieldName: "kind", reason: .unknownEnumNumber(42))))
        writer.bytes += [0x32, 0x09]
        #expect(Self.agree(writer.bytes, "malformed first") == Self.malformed(writer.bytes.count))

        // Text after a NUL is dropped, unchecked, as protoc-c's NUL-terminated strings are.
        writer = WireWriter()
        writer.field(2, varint: 3)
        writer.field(3, bytes: Array("wire.Echo".utf8) + [0, 0xFF])
        writer.field(5, bytes: [0, 0x80])
        #expect(Self.agree(writer.bytes, "NUL") == .value(Envelope(kind: .request, method: "wire.Echo")))
        // Valid multi-byte text, and the largest code point.
        writer = WireWriter()
        writer.field(2, varint: 3)
        writer.field(3, bytes: Array("日本語 🛶 \u{10FFFF}".utf8))
        #expect(Self.agree(writer.bytes, "Unicode") == .value(Envelope(kind: .request, method: "日本語 🛶 \u{10FFFF}")))
    }

    @Test("empty input, empty fields, and payloads from empty to 4 MiB")
    func payloadSizes() {
        #expect(Self.agree([], "empty input") == .value(Envelope()))
        var writer = WireWriter()
        writer.field(3, bytes: [])
        writer.field(5, bytes: [])
        writer.field(6, bytes: [])
        #expect(Self.agree(writer.bytes, "empty fields") == .value(Envelope()))
        var random = TestRandom(seed: 4)
        for size in [1, 127, 128, 16_383, 16_384, 70_000, 4 << 20] {
            let payload = (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let envelope = Envelope(streamID: 3, kind: .response, payload: payload)
            let body = Array(Frame.encode(envelope).dropFirst(Frame.headerBytes))
            #expect(Self.agree(body, "payload of \(size) bytes") == .value(envelope))
            // One byte short: the length reaches past the end.
            let short = Array(body.dropLast())
            #expect(Self.agree(short, "payload of \(size) bytes, truncated") == Self.malformed(short.count))
        }
    }

    @Test("FrameDecoder reports the generated decoder's errors unchanged")
    func frameErrors() {
        var writer = WireWriter()
        writer.field(2, varint: 77)
        #expect(Self.frameDecoded(writer.bytes) == .failure(.malformed(
            length: 2, reason: "cannot decode skiff.wire.Envelope.kind: 77 is not a known enum value"
                + " (the sender may use a newer schema)")))
        writer = WireWriter()
        writer.field(1, varint: 5)
        #expect(Self.frameDecoded(writer.bytes) == .failure(.malformed(length: 2, reason: "envelope has no frame kind")))
    }
}

/// Writes protobuf wire format, including encodings no encoder produces.
struct WireWriter {
    var bytes: [UInt8] = []

    mutating func take() -> [UInt8] {
        defer { bytes = [] }
        return bytes
    }

    mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// `value` in exactly `length` bytes (at least its canonical length), padded with
    /// continuation bytes that add zero bits.
    mutating func paddedVarint(_ value: UInt64, length: Int) {
        var rest = value
        var written = 0
        while rest >= 0x80 || written < length - 1 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
            written += 1
        }
        bytes.append(UInt8(rest))
    }

    mutating func tag(_ field: UInt64, _ wireType: UInt8) {
        varint(field << 3 | UInt64(wireType))
    }

    mutating func field(_ field: UInt64, varint value: UInt64) {
        tag(field, 0)
        varint(value)
    }

    mutating func field(_ field: UInt64, bytes contents: [UInt8]) {
        tag(field, 2)
        varint(UInt64(contents.count))
        bytes += contents
    }
}
