import Wire

/// DirectEncoding writes the two messages the API server sends most — the ApiWatchEvent of every
/// change and the ApiResponse of every get and write — straight from the object's encoded bytes:
/// a tag, a length and the bytes, into one buffer reserved once. Going through protobuf-c
/// filled a C struct, copied the object into the scratch arena and packed it into a second
/// buffer, for messages that are one or two length-delimited fields. The bytes are the same as
/// protobuf-c's (fields in number order; tests compare them).
enum DirectEncoding {
    /// `ApiWatchEvent { type: type, object: object }`.
    static func watchEvent(type: String, object: [UInt8]) -> [UInt8] {
        var type = type
        return type.withUTF8 { typeBytes in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(fieldSize(typeBytes.count) + fieldSize(object.count))
            appendField(1, typeBytes, to: &buffer)
            object.withUnsafeBufferPointer { appendField(2, $0, to: &buffer) }
            return buffer
        }
    }

    /// `ApiResponse { object: object }`.
    static func objectResponse(_ object: [UInt8]) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(fieldSize(object.count))
        object.withUnsafeBufferPointer { appendField(2, $0, to: &buffer) }
        return buffer
    }

    /// At most the bytes of a length-delimited field of `count` bytes: a one-byte tag, a varint
    /// length of at most 10 bytes, the bytes.
    private static func fieldSize(_ count: Int) -> Int {
        11 + count
    }

    private static func appendField(_ number: UInt8, _ bytes: UnsafeBufferPointer<UInt8>, to buffer: inout [UInt8]) {
        precondition(number < 16, "a one-byte tag holds field numbers below 16")
        buffer.append(number << 3 | 2)
        Frame.appendVarint(UInt64(bytes.count), to: &buffer)
        buffer.append(contentsOf: bytes)
    }
}
