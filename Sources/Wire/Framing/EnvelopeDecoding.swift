#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// EnvelopeDecoding parses an encoded `Envelope` straight from the frame's bytes, without
/// protoc-c: the decode side of `Frame.appendCallFrame`. The payload is copied once, into its
/// `[UInt8]`; the strings are built from their known lengths.
///
/// The result is exactly that of the generated `Envelope(protobuf:)` (protoc-c 1.4's
/// `__unpack` followed by the generated conversion), for every input, which
/// EnvelopeFastDecodeTests checks on the corpus and on random and mutated envelopes:
///
/// - Any input protoc-c refuses throws `.malformed(byteCount:)`: a tag of field number 0 in
///   its first byte or longer than 5 bytes, a varint not ended within 10 bytes, a length prefix
///   not ended within 5 bytes or reaching past the end, a fixed32/fixed64 past the end, wire
///   types 3, 4 (groups), 6 and 7, and a known field with a wire type other than its own.
/// - Unknown fields (numbers other than 1...8, up to protoc-c's 32-bit tags) are skipped.
/// - A field given more than once keeps its last value, strings and bytes included.
/// - uint32 and enum fields keep the low 32 bits of their varint, as protoc-c does.
/// - Only when the whole message parses are the values checked, in field order: `kind`,
///   `method` (UTF-8), `status_code`, `status_message` (UTF-8), with the same errors as the
///   generated code.
/// - protoc-c hands strings to Swift NUL-terminated and the generated code reads them with
///   strlen, so a string ends at its first NUL byte, and only the bytes before it are
///   validated; `Frame.appendCallFrame` cuts strings at the first NUL for the same reason.
enum EnvelopeDecoding {
    static let messageName = "skiff.wire.Envelope"

    /// Decodes one Envelope from `bytes` (a frame's body, without the length header).
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) -> Envelope {
        try parse(bytes).envelope()
    }

    /// Parses and checks one Envelope from `bytes` without building it: the strings and the
    /// payload stay where they are. Every check `decode` makes is made here, in the same order,
    /// so a view exists exactly when `decode` would succeed and gives the same Envelope.
    @inline(__always)
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) -> FrameView {
        if let frame = parseCallFrame(bytes) { return frame }
        return try parseAny(bytes)
    }

    /// The frames calls are made of, as `Frame.appendCallFrame` writes them: stream id, kind,
    /// then optionally a method and a payload, each field once, in field order, with one-byte
    /// kind, method length and (if present) tag values, and nothing after the payload. nil for
    /// anything else, which `parseAny` then reads. Everything accepted here is well-formed, so
    /// the view is the one `parseAny` would give, checks included (a test compares the two).
    @inline(__always)
    static func parseCallFrame(_ bytes: UnsafeRawBufferPointer) -> FrameView? {
        guard let base = bytes.baseAddress, bytes.count >= 4, base.load(as: UInt8.self) == 0x08 else { return nil }
        let count = bytes.count
        // Stream id: a varint of at most 10 bytes, within the frame.
        var offset = 1
        var streamID: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < count, shift < 64 else { return nil }
            let byte = base.load(fromByteOffset: offset, as: UInt8.self)
            offset += 1
            streamID |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        // Kind: tag 0x10 and a one-byte value naming a FrameKind.
        guard count - offset >= 2, base.load(fromByteOffset: offset, as: UInt8.self) == 0x10,
            let kind = callFrameKind(base.load(fromByteOffset: offset + 1, as: UInt8.self)),
            kind != .unspecified
        else { return nil }
        offset += 2
        var method = UnsafeRawBufferPointer(start: nil, count: 0)
        if offset < count && base.load(fromByteOffset: offset, as: UInt8.self) == 0x1A {
            // Method: tag 0x1A, a one-byte length, ASCII text without NUL.
            guard count - offset >= 2 else { return nil }
            let length = Int(base.load(fromByteOffset: offset + 1, as: UInt8.self))
            guard length < 0x80, count - offset - 2 >= length else { return nil }
            let start = base + offset + 2
            guard length > 0, isPlainText(start, count: length) else { return nil }
            method = UnsafeRawBufferPointer(start: start, count: length)
            offset += 2 + length
        }
        var payload = UnsafeRawBufferPointer(start: nil, count: 0)
        if offset < count {
            // Payload: tag 0x32 and a length of at most 5 bytes reaching exactly to the end.
            guard base.load(fromByteOffset: offset, as: UInt8.self) == 0x32 else { return nil }
            offset += 1
            var length = 0
            var lengthShift = 0
            while true {
                guard offset < count, lengthShift < 35 else { return nil }
                let byte = base.load(fromByteOffset: offset, as: UInt8.self)
                offset += 1
                length |= Int(byte & 0x7F) << lengthShift
                if byte & 0x80 == 0 { break }
                lengthShift += 7
            }
            guard length == count - offset, length <= Int(Int32.max) else { return nil }
            payload = UnsafeRawBufferPointer(start: base + offset, count: length)
        }
        return FrameView(
            streamID: streamID, kind: kind, methodUTF8: method, statusCode: .ok,
            statusMessageUTF8: UnsafeRawBufferPointer(start: nil, count: 0), payload: payload,
            deadlineMilliseconds: 0, flags: 0)
    }

    /// The kind a one-byte kind value names: the kinds of calls inline, the rest through the
    /// generated initializer (a call per frame otherwise).
    @inline(__always)
    static func callFrameKind(_ value: UInt8) -> FrameKind? {
        switch value {
        case 3: return .request
        case 4: return .response
        case 5: return .streamItem
        default: return FrameKind(rawValue: Int32(value))
        }
    }

    /// Any encoding protoc-c accepts (see the type's comment).
    static func parseAny(_ bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError) -> FrameView {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return FrameView() }
        var reader = Reader(base: base, count: bytes.count)
        var streamID: UInt64 = 0
        var kindNumber: UInt64 = 0
        var statusNumber: UInt64 = 0
        var deadline: UInt64 = 0
        var flags: UInt64 = 0
        var method = Slice.empty
        var statusMessage = Slice.empty
        var payload = Slice.empty

        while reader.offset < reader.count {
            guard let (field, wireType) = reader.tag() else { throw malformed(bytes.count) }
            switch wireType {
            case 0:
                guard let value = reader.varint() else { throw malformed(bytes.count) }
                switch field {
                case 1: streamID = value
                case 2: kindNumber = value
                case 4: statusNumber = value
                case 7: deadline = value
                case 8: flags = value
                case 3, 5, 6: throw malformed(bytes.count)
                default: break
                }
            case 2:
                guard let slice = reader.lengthDelimited() else { throw malformed(bytes.count) }
                switch field {
                case 3: method = slice
                case 5: statusMessage = slice
                case 6: payload = slice
                case 1, 2, 4, 7, 8: throw malformed(bytes.count)
                default: break
                }
            case 1, 5:
                let width = wireType == 1 ? 8 : 4
                guard reader.count - reader.offset >= width else { throw malformed(bytes.count) }
                reader.offset += width
                if (1...8).contains(field) { throw malformed(bytes.count) }
            default:
                // 3 and 4 start and end groups, which protoc-c does not support; 6 and 7 are unused.
                throw malformed(bytes.count)
            }
        }
        precondition(reader.offset == reader.count, "envelope reader ran past its buffer")

        // Checked in the generated code's order.
        let kindRaw = Int32(truncatingIfNeeded: kindNumber)
        guard let kind = FrameKind(rawValue: kindRaw) else { throw unknownEnum(kindRaw, field: "kind") }
        let methodText = try text(method, in: base, field: "method")
        let statusRaw = Int32(truncatingIfNeeded: statusNumber)
        guard let statusCode = StatusCode(rawValue: statusRaw) else {
            throw unknownEnum(statusRaw, field: "status_code")
        }
        let statusMessageText = try text(statusMessage, in: base, field: "status_message")
        return FrameView(
            streamID: streamID, kind: kind, methodUTF8: methodText, statusCode: statusCode,
            statusMessageUTF8: statusMessageText,
            payload: UnsafeRawBufferPointer(start: base + payload.start, count: payload.count),
            deadlineMilliseconds: UInt32(truncatingIfNeeded: deadline), flags: UInt32(truncatingIfNeeded: flags))
    }

    /// A range of the input: where a string or bytes field's contents start, and how many bytes.
    struct Slice {
        var start: Int
        var count: Int
        static let empty = Slice(start: 0, count: 0)
    }

    /// Reads protobuf wire format from `base[offset..<count]`, never past `count`. Each read
    /// returns nil, having moved `offset` by an unspecified amount within bounds, when the
    /// bytes are not what protoc-c accepts.
    struct Reader {
        let base: UnsafeRawPointer
        let count: Int
        var offset = 0

        init(base: UnsafeRawPointer, count: Int) {
            self.base = base
            self.count = count
        }

        @inline(__always)
        func byte(_ index: Int) -> UInt8 {
            precondition(index >= 0 && index < count, "envelope read out of bounds")
            return base.load(fromByteOffset: index, as: UInt8.self)
        }

        /// A field tag as protoc-c reads it: at most 5 bytes holding a 32-bit field number, the
        /// first byte's field bits not all zero.
        @inline(__always)
        mutating func tag() -> (field: UInt32, wireType: UInt8)? {
            let first = byte(offset)
            offset += 1
            guard first & 0xF8 != 0 else { return nil }
            var field = UInt32(first & 0x7F) >> 3
            if first & 0x80 != 0 {
                var shift: UInt32 = 4
                var used = 1
                while true {
                    guard used < 5, offset < count else { return nil }
                    let next = byte(offset)
                    offset += 1
                    used += 1
                    field |= UInt32(next & 0x7F) << shift
                    if next & 0x80 == 0 { break }
                    shift += 7
                }
            }
            return (field, first & 7)
        }

        /// A varint of at most 10 bytes; bits past 64 are dropped.
        @inline(__always)
        mutating func varint() -> UInt64? {
            guard offset < count else { return nil }
            let first = byte(offset)
            offset += 1
            if first & 0x80 == 0 { return UInt64(first) }
            var value = UInt64(first & 0x7F)
            var shift: UInt64 = 7
            var used = 1
            while true {
                guard used < 10, offset < count else { return nil }
                let next = byte(offset)
                offset += 1
                used += 1
                value |= UInt64(next & 0x7F) << shift
                if next & 0x80 == 0 { return value }
                shift += 7
            }
        }

        /// A length-delimited field's contents: a length of at most 5 bytes, at most
        /// Int32.max, and no longer than what is left.
        @inline(__always)
        mutating func lengthDelimited() -> Slice? {
            var length = 0
            var shift = 0
            var used = 0
            while true {
                guard used < 5, offset < count else { return nil }
                let next = byte(offset)
                offset += 1
                used += 1
                length |= Int(next & 0x7F) << shift
                if next & 0x80 == 0 { break }
                shift += 7
            }
            guard length <= Int(Int32.max), length <= count - offset else { return nil }
            let slice = Slice(start: offset, count: length)
            offset += length
            return slice
        }
    }

    /// A proto3 string field's text: the bytes before the first NUL (see the type's comment),
    /// which must be valid UTF-8.
    @inline(__always)
    private static func text(
        _ slice: Slice, in base: UnsafeRawPointer, field: String
    ) throws(ProtoDecodingError) -> UnsafeRawBufferPointer {
        guard slice.count > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let start = base + slice.start
        let length = memchr(start, 0, slice.count).map { UnsafeRawPointer($0) - start } ?? slice.count
        guard length > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        // ASCII is valid UTF-8; other text is rare on the wire.
        if !isASCII(start, count: length) && !isValidUTF8(start, count: length) {
            throw ProtoDecodingError(messageName: messageName, fieldName: field, reason: .invalidUTF8)
        }
        return UnsafeRawBufferPointer(start: start, count: length)
    }

    /// The very validation the generated code uses, on a NUL-terminated copy.
    private static func isValidUTF8(_ start: UnsafeRawPointer, count: Int) -> Bool {
        withUnsafeTemporaryAllocation(byteCount: count + 1, alignment: 1) { buffer in
            let target = buffer.baseAddress!
            target.copyMemory(from: start, byteCount: count)
            target.storeBytes(of: 0, toByteOffset: count, as: UInt8.self)
            return String(validatingCString: target.assumingMemoryBound(to: CChar.self)) != nil
        }
    }

    /// A String of text `text` found valid (ASCII or UTF-8): this initializer only copies it.
    static func string(_ text: UnsafeRawBufferPointer) -> String {
        guard !text.isEmpty else { return "" }
        return String(decoding: text.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
    }

    /// Whether the `count` bytes at `start` are ASCII without NUL (what a method name on the
    /// fast path must be): one pass of word compares for names of eight bytes or more, instead
    /// of a call to memchr and one to `isASCII`.
    @inline(__always)
    static func isPlainText(_ start: UnsafeRawPointer, count: Int) -> Bool {
        guard count >= 8 else {
            for index in 0..<count {
                let byte = start.load(fromByteOffset: index, as: UInt8.self)
                if byte == 0 || byte >= 0x80 { return false }
            }
            return true
        }
        var index = 0
        while true {
            // The last word overlaps what was checked before it.
            let offset = min(index, count - 8)
            let word = start.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            // A byte with the top bit set, or a zero byte (the classic has-zero-byte test,
            // exact once no byte has its top bit set).
            if word & 0x8080_8080_8080_8080 != 0 { return false }
            if (word &- 0x0101_0101_0101_0101) & 0x8080_8080_8080_8080 != 0 { return false }
            index += 8
            if index >= count { return true }
        }
    }

    /// Whether the `count` bytes at `start` are all below 0x80, eight at a time.
    static func isASCII(_ start: UnsafeRawPointer, count: Int) -> Bool {
        var index = 0
        while count - index >= 8 {
            if start.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            index += 8
        }
        while index < count {
            if start.load(fromByteOffset: index, as: UInt8.self) & 0x80 != 0 { return false }
            index += 1
        }
        return true
    }

    private static func malformed(_ byteCount: Int) -> ProtoDecodingError {
        ProtoDecodingError(messageName: messageName, reason: .malformed(byteCount: byteCount))
    }

    private static func unknownEnum(_ number: Int32, field: String) -> ProtoDecodingError {
        ProtoDecodingError(messageName: messageName, fieldName: field, reason: .unknownEnumNumber(number))
    }
}

/// FrameView is one decoded frame whose strings and payload still lie in the bytes it was read
/// from: what a connection hands its delegate, so that a call copies only what it keeps (the
/// payload into its `[UInt8]`, a method name it has not seen before into a String).
///
/// The pointers are valid only during the delegate call that received the view. `method` and
/// `statusMessage` are valid UTF-8 (they passed the generated code's checks) and end before the
/// first NUL, as protoc-c's strings do.
public struct FrameView {
    public var streamID: UInt64 = 0
    public var kind: FrameKind = .unspecified
    /// The method's UTF-8 bytes.
    public var methodUTF8 = UnsafeRawBufferPointer(start: nil, count: 0)
    public var statusCode: StatusCode = .ok
    /// The status message's UTF-8 bytes.
    public var statusMessageUTF8 = UnsafeRawBufferPointer(start: nil, count: 0)
    public var payload = UnsafeRawBufferPointer(start: nil, count: 0)
    public var deadlineMilliseconds: UInt32 = 0
    public var flags: UInt32 = 0

    public init() {}

    init(
        streamID: UInt64, kind: FrameKind, methodUTF8: UnsafeRawBufferPointer, statusCode: StatusCode,
        statusMessageUTF8: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, deadlineMilliseconds: UInt32,
        flags: UInt32
    ) {
        self.streamID = streamID
        self.kind = kind
        self.methodUTF8 = methodUTF8
        self.statusCode = statusCode
        self.statusMessageUTF8 = statusMessageUTF8
        self.payload = payload
        self.deadlineMilliseconds = deadlineMilliseconds
        self.flags = flags
    }

    public var method: String { EnvelopeDecoding.string(methodUTF8) }
    public var statusMessage: String { EnvelopeDecoding.string(statusMessageUTF8) }

    /// A copy of the payload.
    public var payloadBytes: [UInt8] {
        guard payload.count > 0 else { return [] }
        // The specialized copy: `init(unsafeUninitializedCapacity:)` looked up Array's generic
        // metadata on every call.
        return [UInt8](payload.assumingMemoryBound(to: UInt8.self))
    }

    /// The Envelope this frame encodes, copied out of the read buffer.
    public func envelope() -> Envelope {
        Envelope(
            streamID: streamID, kind: kind, method: method, statusCode: statusCode, statusMessage: statusMessage,
            payload: payloadBytes, deadlineMilliseconds: deadlineMilliseconds, flags: flags)
    }
}
