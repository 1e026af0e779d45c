/// DirectEncoding writes the two messages the API server sends most — the ApiWatchEvent of every
/// change and the ApiResponse of every get and write — straight from the object's encoded bytes:
/// a tag, a length and the bytes, into one buffer of the final size. Going through protobuf-c
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

    /// The bytes of a length-delimited field of `count` bytes with a one-byte tag.
    private static func fieldSize(_ count: Int) -> Int {
        1 + varintSize(UInt64(count)) + count
    }

    private static func varintSize(_ value: UInt64) -> Int {
        var value = value
        var size = 1
        while value >= 0x80 {
            value >>= 7
            size += 1
        }
        return size
    }

    private static func appendField(_ number: UInt8, _ bytes: UnsafeBufferPointer<UInt8>, to buffer: inout [UInt8]) {
        precondition(number < 16, "a one-byte tag holds field numbers below 16")
        buffer.append(number << 3 | 2)
        var length = UInt64(bytes.count)
        while length >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: length) | 0x80)
            length >>= 7
        }
        buffer.append(UInt8(length))
        buffer.append(contentsOf: bytes)
    }
}
