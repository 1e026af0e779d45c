import CProtobufC
import CSkiffProto

#if canImport(Glibc)
import Glibc
#endif

/// Frames on the socket: a 4-byte big-endian length, then that many bytes of an encoded
/// `Envelope` (proto/wire/wire.proto).
public enum Frame {
    /// Bytes of the length prefix.
    public static let headerBytes = 4
    /// Default bound on one frame's envelope; a 4 MiB payload fits with room to spare, and the
    /// store's largest value (1.5 MiB) fits several times.
    public static let defaultMaximumBytes = 16 << 20
    /// The wire protocol version sent in the handshake.
    public static let protocolVersion: UInt32 = 1
    /// Request flag: open a server stream instead of a unary call.
    public static let flagServerStream: UInt32 = 1

    /// Appends `envelope` as one frame to `buffer`.
    public static func append(_ envelope: Envelope, to buffer: inout [UInt8]) {
        let start = buffer.count
        buffer.append(contentsOf: [0, 0, 0, 0] as [UInt8])
        envelope.appendProtobuf(to: &buffer)
        let length = UInt32(buffer.count - start - headerBytes)
        buffer[start] = UInt8(truncatingIfNeeded: length >> 24)
        buffer[start + 1] = UInt8(truncatingIfNeeded: length >> 16)
        buffer[start + 2] = UInt8(truncatingIfNeeded: length >> 8)
        buffer[start + 3] = UInt8(truncatingIfNeeded: length)
    }

    /// Appends a STREAM_ITEM frame whose payload is `payloadPrefix` followed by `payloadShared`,
    /// without building an Envelope: the fan-out path, where one encoded body goes to many
    /// streams. The bytes are exactly the protobuf encoding of
    /// `Envelope(streamID:, kind: .streamItem, payload: prefix + shared)` (fields 1, 2 and 6 in
    /// field order, as protoc-c writes them), which a test checks against protoc-c.
    public static func appendStreamItem(
        streamID: UInt64, payloadPrefix: UnsafeRawBufferPointer, payloadShared: UnsafeRawBufferPointer,
        to buffer: inout [UInt8]
    ) {
        let total = callFrameByteCount(
            streamID: streamID, kind: .streamItem, methodByteCount: 0,
            payloadByteCount: payloadPrefix.count + payloadShared.count, deadlineMilliseconds: 0, flags: 0)
        appendZeroed(total, to: &buffer) { target in
            writeCallFrame(
                streamID: streamID, kind: .streamItem, method: UnsafeRawBufferPointer(start: nil, count: 0),
                payload: payloadPrefix, payloadTail: payloadShared, deadlineMilliseconds: 0, flags: 0, to: target)
        }
    }

    /// Appends one frame of the shape calls use on the hot path, without building an Envelope
    /// and without protoc-c: the encoding of `Envelope(streamID:, kind:, method:, payload:,
    /// deadlineMilliseconds:, flags:)` with status OK and no status message (fields 1, 2, 3, 6,
    /// 7 and 8 in field order, zero values omitted, the method cut at its first NUL as protoc-c's
    /// strlen does). Requests, responses and stream items have this shape; a test checks the
    /// bytes against protoc-c for every kind.
    public static func appendCallFrame(
        streamID: UInt64, kind: FrameKind, method: String = "", payload: UnsafeRawBufferPointer,
        deadlineMilliseconds: UInt32 = 0, flags: UInt32 = 0, to buffer: inout [UInt8]
    ) {
        var method = method
        method.withUTF8 { utf8 in
            let methodBytes = cStringPrefix(UnsafeRawBufferPointer(utf8))
            let total = callFrameByteCount(
                streamID: streamID, kind: kind, methodByteCount: methodBytes.count,
                payloadByteCount: payload.count, deadlineMilliseconds: deadlineMilliseconds, flags: flags)
            appendZeroed(total, to: &buffer) { target in
                writeCallFrame(
                    streamID: streamID, kind: kind, method: methodBytes, payload: payload,
                    payloadTail: UnsafeRawBufferPointer(start: nil, count: 0),
                    deadlineMilliseconds: deadlineMilliseconds, flags: flags, to: target)
            }
        }
    }

    /// Appends a call frame (see `appendCallFrame`) to an outbound buffer.
    static func appendCallFrame(
        streamID: UInt64, kind: FrameKind, method: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer,
        payloadTail: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        deadlineMilliseconds: UInt32 = 0, flags: UInt32 = 0, to buffer: inout FrameBuffer
    ) {
        let methodBytes = cStringPrefix(method)
        let total = callFrameByteCount(
            streamID: streamID, kind: kind, methodByteCount: methodBytes.count,
            payloadByteCount: payload.count + payloadTail.count, deadlineMilliseconds: deadlineMilliseconds,
            flags: flags)
        let target = buffer.reserve(total)
        writeCallFrame(
            streamID: streamID, kind: kind, method: methodBytes, payload: payload, payloadTail: payloadTail,
            deadlineMilliseconds: deadlineMilliseconds, flags: flags, to: target)
        buffer.commit(total)
    }

    /// The method field of a request (tag, length, and the method's UTF-8 up to its first NUL,
    /// as protoc-c's strlen sees it), or no bytes for an empty method: what a client encodes
    /// once per method and copies into every request (`appendRequest`).
    static func requestMethodField(_ method: String) -> [UInt8] {
        var method = method
        return method.withUTF8 { utf8 in
            let bytes = cStringPrefix(UnsafeRawBufferPointer(utf8))
            guard !bytes.isEmpty else { return [] }
            var field: [UInt8] = [0x1A]  // field 3, length-delimited
            appendVarint(UInt64(bytes.count), to: &field)
            field.append(contentsOf: bytes)
            return field
        }
    }

    /// Appends a request frame whose method field is `methodField` (`requestMethodField`) to
    /// `buffer` in one pass: the fields are written into room reserved for the longest
    /// encoding, and the length prefix once their size is known. The bytes are those of
    /// `appendCallFrame` for `kind: .request` (a test checks them against protoc-c).
    @inline(__always)
    static func appendRequest(
        streamID: UInt64, methodField: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer,
        deadlineMilliseconds: UInt32, flags: UInt32, to buffer: inout FrameBuffer
    ) {
        precondition(streamID != 0, "a request opens a stream, never stream 0")
        // Header, stream id (tag + 10), kind (2), payload tag and length (1 + 5), deadline and
        // flags (1 + 5 each), plus the method field and the payload.
        let target = buffer.reserve(headerBytes + 11 + 2 + 6 + 12 + methodField.count + payload.count)
        var at = target + headerBytes
        at.storeBytes(of: 0x08, as: UInt8.self)  // field 1, varint
        at = writeVarint(streamID, to: at + 1)
        at.storeBytes(of: 0x10, as: UInt8.self)  // field 2, varint
        at.storeBytes(of: UInt8(FrameKind.request.rawValue), toByteOffset: 1, as: UInt8.self)
        at += 2
        if let base = methodField.baseAddress, methodField.count > 0 {
            let count = methodField.count
            if count >= 8 && count <= 16 {
                // Two overlapping words: a method field is short, and a call to memmove for
                // it cost more than the copy.
                at.storeBytes(of: base.loadUnaligned(as: UInt64.self), as: UInt64.self)
                (at + count - 8).storeBytes(of: base.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self), as: UInt64.self)
            } else {
                at.copyMemory(from: base, byteCount: count)
            }
            at += count
        }
        if let base = payload.baseAddress, payload.count > 0 {
            at.storeBytes(of: 0x32, as: UInt8.self)  // field 6, length-delimited
            at = writeVarint(UInt64(payload.count), to: at + 1)
            at.copyMemory(from: base, byteCount: payload.count)
            at += payload.count
        }
        at = writeDeadlineAndFlags(deadlineMilliseconds: deadlineMilliseconds, flags: flags, to: at)
        let total = at - target
        writeHeader(UInt32(truncatingIfNeeded: total &- headerBytes), to: target)
        buffer.commit(total)
    }

    /// Writes a call frame's last two fields, the deadline (7) and flags (8), each only when
    /// non-zero; returns the address after them.
    @inline(__always)
    static func writeDeadlineAndFlags(
        deadlineMilliseconds: UInt32, flags: UInt32, to start: UnsafeMutableRawPointer
    ) -> UnsafeMutableRawPointer {
        var at = start
        if deadlineMilliseconds != 0 {
            at.storeBytes(of: 0x38, as: UInt8.self)  // field 7, varint
            at = writeVarint(UInt64(deadlineMilliseconds), to: at + 1)
        }
        if flags != 0 {
            at.storeBytes(of: 0x40, as: UInt8.self)  // field 8, varint
            at = writeVarint(UInt64(flags), to: at + 1)
        }
        return at
    }

    /// At most the bytes of a response frame before its payload: header, stream id field (tag
    /// and a varint of up to 10 bytes), kind field, payload tag and a length of up to 5 bytes.
    static let responseHeadMaximumBytes = headerBytes + 11 + 2 + 6

    /// Appends a response frame whose `payloadByteCount` payload bytes `writePayload` writes
    /// at the address it is given, to `buffer`, in one pass: the fields are written into room
    /// reserved for the longest head, and the length prefix once their size is known. The
    /// bytes are those of `appendCallFrame` for `kind: .response` (a test checks them against
    /// protoc-c).
    @inline(__always)
    static func appendResponse(
        streamID: UInt64, payloadByteCount: Int, to buffer: inout FrameBuffer,
        _ writePayload: (UnsafeMutableRawPointer) -> Void
    ) {
        precondition(streamID != 0, "a response answers a stream, never stream 0")
        let target = buffer.reserve(responseHeadMaximumBytes + payloadByteCount)
        var at = target + headerBytes
        at.storeBytes(of: 0x08, as: UInt8.self)  // field 1, varint
        at = writeVarint(streamID, to: at + 1)
        at.storeBytes(of: 0x10, as: UInt8.self)  // field 2, varint
        at.storeBytes(of: UInt8(FrameKind.response.rawValue), toByteOffset: 1, as: UInt8.self)
        at += 2
        if payloadByteCount > 0 {
            at.storeBytes(of: 0x32, as: UInt8.self)  // field 6, length-delimited
            at = writeVarint(UInt64(payloadByteCount), to: at + 1)
            writePayload(at)
            at += payloadByteCount
        }
        let total = at - target
        writeHeader(UInt32(truncatingIfNeeded: total &- headerBytes), to: target)
        buffer.commit(total)
    }

    /// Appends the first part of a STREAM_ITEM frame whose payload is `payloadPrefix` followed by
    /// `sharedByteCount` bytes the caller queues after it by reference (OutboundQueue): the
    /// header, fields 1 and 2, the payload's tag and length, and the prefix. Payload is the
    /// frame's last field, so the frame is complete once the shared bytes follow; together they
    /// are exactly the bytes `appendStreamItem` writes.
    static func appendStreamItemHead(
        streamID: UInt64, payloadPrefix: UnsafeRawBufferPointer, sharedByteCount: Int, to buffer: inout FrameBuffer
    ) {
        let total = callFrameByteCount(
            streamID: streamID, kind: .streamItem, methodByteCount: 0,
            payloadByteCount: payloadPrefix.count + sharedByteCount, deadlineMilliseconds: 0, flags: 0)
        let headBytes = total - sharedByteCount
        let target = buffer.reserve(headBytes)
        writeCallFrame(
            streamID: streamID, kind: .streamItem, method: UnsafeRawBufferPointer(start: nil, count: 0),
            payload: payloadPrefix, payloadTail: UnsafeRawBufferPointer(start: nil, count: 0),
            externalTailByteCount: sharedByteCount, deadlineMilliseconds: 0, flags: 0, to: target)
        buffer.commit(headBytes)
    }

    /// Appends `envelope` as one frame to an outbound buffer, packed by protoc-c straight into
    /// the buffer.
    static func append(_ envelope: Envelope, to buffer: inout FrameBuffer) {
        ProtoScratchArena.with { arena in
            let message = arena.message(envelope)
            let byteCount = skiff__wire__envelope__get_packed_size(message)
            let target = buffer.reserve(headerBytes + byteCount)
            writeHeader(UInt32(byteCount), to: target)
            let written = skiff__wire__envelope__pack(message, target.assumingMemoryBound(to: UInt8.self) + headerBytes)
            precondition(written == byteCount, "protoc-c packed \(written) bytes, expected \(byteCount)")
            buffer.commit(headerBytes + byteCount)
        }
    }

    /// The bytes of `bytes` before its first NUL: what protoc-c's strlen sees of a string.
    private static func cStringPrefix(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        guard let nul = memchr(base, 0, bytes.count) else { return bytes }
        return UnsafeRawBufferPointer(start: base, count: UnsafeRawPointer(nul) - base)
    }

    /// Frame bytes (header included) of a call frame.
    static func callFrameByteCount(
        streamID: UInt64, kind: FrameKind, methodByteCount: Int, payloadByteCount: Int,
        deadlineMilliseconds: UInt32, flags: UInt32
    ) -> Int {
        var count = headerBytes
        if streamID != 0 { count += 1 + varintByteCount(streamID) }
        if kind != .unspecified { count += 1 + varintByteCount(UInt64(UInt32(bitPattern: kind.rawValue))) }
        if methodByteCount > 0 { count += 1 + varintByteCount(UInt64(methodByteCount)) + methodByteCount }
        if payloadByteCount > 0 { count += 1 + varintByteCount(UInt64(payloadByteCount)) + payloadByteCount }
        if deadlineMilliseconds != 0 { count += 1 + varintByteCount(UInt64(deadlineMilliseconds)) }
        if flags != 0 { count += 1 + varintByteCount(UInt64(flags)) }
        return count
    }

    /// Writes a call frame of exactly `callFrameByteCount(...)` bytes at `target`, less
    /// `externalTailByteCount`: payload bytes counted in the lengths but written by the caller
    /// after the frame's other bytes (only when the payload is the last field).
    private static func writeCallFrame(
        streamID: UInt64, kind: FrameKind, method: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer,
        payloadTail: UnsafeRawBufferPointer, externalTailByteCount: Int = 0, deadlineMilliseconds: UInt32, flags: UInt32,
        to target: UnsafeMutableRawPointer
    ) {
        precondition(
            externalTailByteCount == 0 || (deadlineMilliseconds == 0 && flags == 0),
            "an external payload tail must end the frame")
        let payloadCount = payload.count + payloadTail.count + externalTailByteCount
        var at = target + headerBytes
        if streamID != 0 {
            at.storeBytes(of: 0x08, as: UInt8.self)  // field 1, varint
            at = writeVarint(streamID, to: at + 1)
        }
        if kind != .unspecified {
            at.storeBytes(of: 0x10, as: UInt8.self)  // field 2, varint
            // protoc-c writes enums as int32 varints; every FrameKind is small and positive.
            at = writeVarint(UInt64(UInt32(bitPattern: kind.rawValue)), to: at + 1)
        }
        if !method.isEmpty {
            at.storeBytes(of: 0x1A, as: UInt8.self)  // field 3, length-delimited
            at = writeVarint(UInt64(method.count), to: at + 1)
            at.copyMemory(from: method.baseAddress!, byteCount: method.count)
            at += method.count
        }
        if payloadCount > 0 {
            at.storeBytes(of: 0x32, as: UInt8.self)  // field 6, length-delimited
            at = writeVarint(UInt64(payloadCount), to: at + 1)
            if let base = payload.baseAddress, payload.count > 0 {
                at.copyMemory(from: base, byteCount: payload.count)
                at += payload.count
            }
            if let base = payloadTail.baseAddress, payloadTail.count > 0 {
                at.copyMemory(from: base, byteCount: payloadTail.count)
                at += payloadTail.count
            }
        }
        at = writeDeadlineAndFlags(deadlineMilliseconds: deadlineMilliseconds, flags: flags, to: at)
        let length = at - target - headerBytes + externalTailByteCount
        precondition(length >= 0 && length <= Int(UInt32.max), "call frame of \(length) bytes")
        writeHeader(UInt32(length), to: target)
    }

    private static func writeHeader(_ length: UInt32, to target: UnsafeMutableRawPointer) {
        target.storeBytes(of: length.bigEndian, as: UInt32.self)
    }

    private static func varintByteCount(_ value: UInt64) -> Int {
        // 1 byte per started group of 7 bits; zero takes one byte.
        (64 - (value | 1).leadingZeroBitCount + 6) / 7
    }

    private static func writeVarint(_ value: UInt64, to target: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        var rest = value
        var at = target
        while rest >= 0x80 {
            at.storeBytes(of: UInt8(truncatingIfNeeded: rest) | 0x80, as: UInt8.self)
            at += 1
            rest >>= 7
        }
        at.storeBytes(of: UInt8(rest), as: UInt8.self)
        return at + 1
    }

    /// Grows `buffer` by `count` zero bytes and lets `write` fill them.
    private static func appendZeroed(
        _ count: Int, to buffer: inout [UInt8], _ write: (UnsafeMutableRawPointer) -> Void
    ) {
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: count))
        buffer.withUnsafeMutableBytes { bytes in write(bytes.baseAddress! + start) }
    }

    /// Appends `value` as a protobuf base-128 varint.
    public static func appendVarint(_ value: UInt64, to buffer: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        buffer.append(UInt8(rest))
    }

    /// One frame's bytes, for tests and tools.
    public static func encode(_ envelope: Envelope) -> [UInt8] {
        var buffer: [UInt8] = []
        append(envelope, to: &buffer)
        return buffer
    }
}

/// FrameError is why a byte stream stopped making sense. Each one ends the connection: after a
/// bad length or a bad envelope the reader can no longer tell where the next frame starts.
public enum FrameError: Error, Equatable, CustomStringConvertible {
    case tooLarge(length: Int, limit: Int)
    case malformed(length: Int, reason: String)

    public var description: String {
        switch self {
        case .tooLarge(let length, let limit):
            return "frame of \(length) bytes exceeds the limit of \(limit) bytes; "
                + "send smaller payloads or raise the peer's maximum frame size"
        case .malformed(let length, let reason):
            return "malformed frame of \(length) bytes: \(reason)"
        }
    }
}

/// FrameDecoder turns a stream of bytes, cut at arbitrary places, into frames.
///
/// Whole frames are parsed straight from the caller's buffer into views (`FrameView`); only a
/// frame split across reads is copied, into `partial`, which never holds more than one frame.
public struct FrameDecoder {
    public let maximumFrameBytes: Int
    private var partial = SplitFrame()
    /// The views of the batch being decoded (kept to reuse its storage).
    private var views: [FrameView] = []

    public init(maximumFrameBytes: Int = Frame.defaultMaximumBytes) {
        precondition(maximumFrameBytes > 0)
        self.maximumFrameBytes = maximumFrameBytes
    }

    /// Bytes of an incomplete frame held back for the next read.
    public var bufferedBytes: Int { partial.count }

    /// Decodes every complete frame in `bytes`, calling `onFrame` for each in order. On an error,
    /// frames before the bad one have been delivered and the decoder must not be fed again.
    public mutating func feed(
        _ bytes: UnsafeRawBufferPointer, _ onFrame: (Envelope) -> Void
    ) throws(FrameError) {
        try feedBatch(bytes) { frames in
            for frame in frames { onFrame(frame.envelope()) }
        }
    }

    /// Decodes every complete frame in `bytes` and hands their views to `deliver` in one call
    /// (none when no frame completed). The views point into `bytes` or into the decoder's
    /// split-frame buffer and are valid only during `deliver`. On an error, the frames before
    /// the bad one have been delivered and the decoder must not be fed again.
    public mutating func feedBatch(
        _ bytes: UnsafeRawBufferPointer, deliver: ([FrameView]) -> Void
    ) throws(FrameError) {
        var batch: [FrameView] = []
        swap(&batch, &views)
        defer {
            batch.removeAll(keepingCapacity: batch.capacity <= 4096)
            swap(&batch, &views)
        }
        var input = bytes
        // A frame completed from the split-frame buffer comes first; the buffer is emptied only
        // after delivery, since the view points into it.
        var usedPartial = false
        if partial.count > 0 || input.count < Frame.headerBytes {
            guard let consumed = try completePartial(input) else { return }
            input = UnsafeRawBufferPointer(rebasing: input[consumed...])
            batch.append(try Self.parseFrame(UnsafeRawBufferPointer(rebasing: partial.bytes[Frame.headerBytes...])))
            usedPartial = true
        }
        var failure: FrameError? = nil
        while input.count >= Frame.headerBytes {
            let length: Int
            do throws(FrameError) {
                length = try checkedLength(input[0], input[1], input[2], input[3])
            } catch {
                failure = error
                break
            }
            let total = Frame.headerBytes + length
            if input.count < total { break }
            do throws(FrameError) {
                batch.append(try Self.parseFrame(UnsafeRawBufferPointer(rebasing: input[Frame.headerBytes..<total])))
            } catch {
                failure = error
                break
            }
            input = UnsafeRawBufferPointer(rebasing: input[total...])
        }
        if !batch.isEmpty { deliver(batch) }
        if usedPartial { partial.removeAll() }
        if let failure { throw failure }
        // What is left is the start of a frame: keep it for the next read.
        if !input.isEmpty {
            if input.count >= Frame.headerBytes {
                partial.reserve(Frame.headerBytes + (try checkedLength(input[0], input[1], input[2], input[3])))
            }
            partial.append(input)
        }
    }

    /// Moves bytes from `input` into `partial` until it holds a whole frame and returns how many
    /// input bytes it took; nil when `input` ran out first.
    private mutating func completePartial(_ input: UnsafeRawBufferPointer) throws(FrameError) -> Int? {
        var consumed = 0
        if partial.count < Frame.headerBytes {
            let take = min(Frame.headerBytes - partial.count, input.count)
            partial.append(UnsafeRawBufferPointer(rebasing: input[0..<take]))
            consumed = take
            if partial.count < Frame.headerBytes { return nil }
        }
        let header = partial.bytes
        let total = Frame.headerBytes + (try checkedLength(header[0], header[1], header[2], header[3]))
        partial.reserve(total)
        let take = min(total - partial.count, input.count - consumed)
        partial.append(UnsafeRawBufferPointer(rebasing: input[consumed..<(consumed + take)]))
        consumed += take
        if partial.count < total { return nil }
        return consumed
    }

    private func checkedLength(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8) throws(FrameError) -> Int {
        let length = Int(b0) << 24 | Int(b1) << 16 | Int(b2) << 8 | Int(b3)
        if length > maximumFrameBytes {
            throw .tooLarge(length: length, limit: maximumFrameBytes)
        }
        return length
    }

    @inline(__always)
    private static func parseFrame(_ body: UnsafeRawBufferPointer) throws(FrameError) -> FrameView {
        let frame: FrameView
        do {
            // Exactly what `Envelope(protobuf:)` accepts (EnvelopeFastDecodeTests).
            frame = try EnvelopeDecoding.parse(body)
        } catch {
            throw .malformed(length: body.count, reason: "\(error)")
        }
        if frame.kind == .unspecified {
            throw .malformed(length: body.count, reason: "envelope has no frame kind")
        }
        return frame
    }
}

/// SplitFrame holds the bytes of one frame that arrived across reads. Its memory is managed by
/// hand so that views of the completed frame can point into it while they are delivered; a copy
/// of the decoder that owns it gets its own bytes when it next writes (copy on write).
struct SplitFrame {
    private final class Storage {
        var base: UnsafeMutableRawPointer?
        var count = 0
        var capacity = 0

        init() {}

        func copy() -> Storage {
            let other = Storage()
            if let base, capacity > 0 {
                other.base = .allocate(byteCount: capacity, alignment: 16)
                other.base!.copyMemory(from: base, byteCount: count)
                other.count = count
                other.capacity = capacity
            }
            return other
        }

        deinit { base?.deallocate() }
    }

    private var storage = Storage()

    var count: Int { storage.count }

    /// The bytes held; valid until the next mutation.
    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage.base, count: storage.count)
    }

    private mutating func unique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// Makes room for `total` bytes in all.
    mutating func reserve(_ total: Int) {
        unique()
        guard total > storage.capacity else { return }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: 16)
        if let base = storage.base {
            newBase.copyMemory(from: base, byteCount: storage.count)
            base.deallocate()
        }
        storage.base = newBase
        storage.capacity = total
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        if storage.count + bytes.count > storage.capacity {
            reserve(max(storage.count + bytes.count, 2 * storage.capacity, 64))
        } else {
            unique()
        }
        (storage.base! + storage.count).copyMemory(from: source, byteCount: bytes.count)
        storage.count += bytes.count
    }

    /// Empties the buffer; keeps a modest one for the next split frame, gives back a big one.
    mutating func removeAll() {
        unique()
        storage.count = 0
        if storage.capacity > 256 << 10 {
            storage.base?.deallocate()
            storage.base = nil
            storage.capacity = 0
        }
    }
}
