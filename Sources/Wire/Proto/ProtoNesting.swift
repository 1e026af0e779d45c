import CProtobufC

/// ProtoNesting bounds how deeply messages nest before protoc-c sees the bytes.
///
/// protoc-c's `__unpack` recurses once per nested message with no limit, so for a schema that
/// contains itself through a repeated or map field (store.proto's TxnRequest -> RequestOp ->
/// TxnRequest, as in etcd) a few tens of kilobytes of nested transactions overflow the stack and
/// crash the process. Generated code calls `check(_:messageName:initialize:)` before unpacking
/// such messages (only those from which a cycle in the schema is reachable, so Envelope pays
/// nothing). The walk follows protoc-c's own descriptors, so it descends only into fields that
/// are messages, and it recurses at most `depthLimit` levels itself.
public enum ProtoNesting {
    /// The deepest nesting accepted, counting the outermost message as level 1; the default
    /// recursion limit of protobuf's C++ and Go implementations.
    public static let depthLimit = 100

    /// check throws `nestingTooDeep` when `bytes`, read as the message whose protoc-c `__init` is
    /// `initialize`, nests deeper than `depthLimit`. Malformed bytes pass: protoc-c rejects them.
    @inlinable
    public static func check<CStruct>(
        _ bytes: UnsafeRawBufferPointer, messageName: StaticString,
        initialize: (UnsafeMutablePointer<CStruct>) -> Void
    ) throws(ProtoDecodingError) {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let descriptor = ProtoDecoding.descriptor(initialize: initialize)
        guard isWithinLimit(base, base + bytes.count, descriptor: descriptor, level: 1) else {
            throw ProtoDecodingError(messageName: "\(messageName)", reason: .nestingTooDeep(limit: depthLimit))
        }
    }

    /// isWithinLimit walks the fields in `start..<end`; `level` is the nesting level of the
    /// message they belong to.
    @usableFromInline
    static func isWithinLimit(
        _ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>,
        descriptor: UnsafePointer<ProtobufCMessageDescriptor>, level: Int
    ) -> Bool {
        if level > depthLimit { return false }
        var cursor = start
        while cursor < end {
            guard let tag = readVarint(&cursor, end) else { return true }
            switch tag & 7 {
            case 0:
                guard readVarint(&cursor, end) != nil else { return true }
            case 1:
                guard end - cursor >= 8 else { return true }
                cursor += 8
            case 5:
                guard end - cursor >= 4 else { return true }
                cursor += 4
            case 2:
                guard let length = readVarint(&cursor, end), length <= UInt64(end - cursor) else { return true }
                let fieldEnd = cursor + Int(length)
                let number = tag >> 3
                if number <= UInt64(UInt32.max),
                    let field = protobuf_c_message_descriptor_get_field(descriptor, UInt32(number)),
                    field.pointee.type == PROTOBUF_C_TYPE_MESSAGE,
                    let child = field.pointee.descriptor
                {
                    let childDescriptor = child.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
                    guard isWithinLimit(cursor, fieldEnd, descriptor: childDescriptor, level: level + 1) else {
                        return false
                    }
                }
                cursor = fieldEnd
            default:
                // Groups and invalid wire types: protoc-c rejects the message.
                return true
            }
        }
        return true
    }

    /// readVarint reads a base-128 varint of at most 10 bytes; nil when it is truncated or too long.
    @usableFromInline
    static func readVarint(_ cursor: inout UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while cursor < end && shift < 70 {
            let byte = cursor.pointee
            cursor += 1
            value |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        return nil
    }
}
