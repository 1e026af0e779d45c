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
        let payloadCount = payloadPrefix.count + payloadShared.count
        let start = buffer.count
        buffer.append(contentsOf: [0, 0, 0, 0] as [UInt8])
        if streamID != 0 {
            buffer.append(0x08)  // field 1, varint
            appendVarint(streamID, to: &buffer)
        }
        buffer.append(0x10)  // field 2, varint
        buffer.append(UInt8(FrameKind.streamItem.rawValue))
        if payloadCount > 0 {
            buffer.append(0x32)  // field 6, length-delimited
            appendVarint(UInt64(payloadCount), to: &buffer)
            buffer.append(contentsOf: payloadPrefix)
            buffer.append(contentsOf: payloadShared)
        }
        let length = UInt32(buffer.count - start - headerBytes)
        buffer[start] = UInt8(truncatingIfNeeded: length >> 24)
        buffer[start + 1] = UInt8(truncatingIfNeeded: length >> 16)
        buffer[start + 2] = UInt8(truncatingIfNeeded: length >> 8)
        buffer[start + 3] = UInt8(truncatingIfNeeded: length)
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

/// FrameDecoder turns a stream of bytes, cut at arbitrary places, into envelopes.
///
/// Whole frames are decoded straight from the caller's buffer; only a frame split across reads
/// is copied, into `partial`, which never holds more than one frame.
public struct FrameDecoder {
    public let maximumFrameBytes: Int
    private var partial: [UInt8] = []

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
        var input = bytes
        if !partial.isEmpty || input.count < Frame.headerBytes {
            guard let consumed = try completePartial(input, onFrame) else { return }
            input = UnsafeRawBufferPointer(rebasing: input[consumed...])
        }
        while !input.isEmpty {
            if input.count < Frame.headerBytes {
                partial.append(contentsOf: input)
                return
            }
            let length = try checkedLength(input)
            let total = Frame.headerBytes + length
            if input.count < total {
                partial.reserveCapacity(total)
                partial.append(contentsOf: input)
                return
            }
            let body = UnsafeRawBufferPointer(rebasing: input[Frame.headerBytes..<total])
            onFrame(try Self.decodeEnvelope(body))
            input = UnsafeRawBufferPointer(rebasing: input[total...])
        }
    }

    /// Moves bytes from `input` into `partial` until it holds a whole frame, decodes that frame,
    /// and returns how many input bytes it took; nil when `input` ran out first.
    private mutating func completePartial(
        _ input: UnsafeRawBufferPointer, _ onFrame: (Envelope) -> Void
    ) throws(FrameError) -> Int? {
        var consumed = 0
        if partial.count < Frame.headerBytes {
            let take = min(Frame.headerBytes - partial.count, input.count)
            partial.append(contentsOf: input[0..<take])
            consumed = take
            if partial.count < Frame.headerBytes { return nil }
        }
        let length = try checkedLength(partial[0], partial[1], partial[2], partial[3])
        let total = Frame.headerBytes + length
        let take = min(total - partial.count, input.count - consumed)
        partial.append(contentsOf: input[consumed..<(consumed + take)])
        consumed += take
        if partial.count < total { return nil }
        let decoded = partial.withUnsafeBytes { frame in
            Result { () throws(FrameError) in
                try Self.decodeEnvelope(UnsafeRawBufferPointer(rebasing: frame[Frame.headerBytes...]))
            }
        }
        let envelope = try decoded.get()
        // Keep a modest buffer for the next split frame; give back a big one.
        partial.removeAll(keepingCapacity: partial.capacity <= 256 << 10)
        onFrame(envelope)
        return consumed
    }

    private func checkedLength(_ header: UnsafeRawBufferPointer) throws(FrameError) -> Int {
        try checkedLength(header[0], header[1], header[2], header[3])
    }

    private func checkedLength(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8) throws(FrameError) -> Int {
        let length = Int(b0) << 24 | Int(b1) << 16 | Int(b2) << 8 | Int(b3)
        if length > maximumFrameBytes {
            throw .tooLarge(length: length, limit: maximumFrameBytes)
        }
        return length
    }

    private static func decodeEnvelope(_ body: UnsafeRawBufferPointer) throws(FrameError) -> Envelope {
        let envelope: Envelope
        do {
            envelope = try Envelope(protobuf: body)
        } catch {
            throw .malformed(length: body.count, reason: "\(error)")
        }
        if envelope.kind == .unspecified {
            throw .malformed(length: body.count, reason: "envelope has no frame kind")
        }
        return envelope
    }
}
