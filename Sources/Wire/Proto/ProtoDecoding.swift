import CProtobufC

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// ProtoDecoding copies the pieces of a struct produced by protoc-c's `__unpack` into Swift
/// values. Used by generated `init(protobufC:)` implementations; `message` and `field` are the
/// protobuf names that go into errors.
public enum ProtoDecoding {
    /// string copies a NUL-terminated string; NULL (an absent proto2 field) becomes "".
    /// protoc-c hands strings over NUL-terminated, so text after an embedded U+0000 is lost.
    /// With `validatingUTF8` (proto3) invalid UTF-8 throws; otherwise it is repaired with
    /// U+FFFD, as proto2 does not require valid UTF-8.
    @inlinable
    public static func string(
        _ pointer: UnsafePointer<CChar>?, validatingUTF8: Bool, message: StaticString, field: StaticString
    ) throws(ProtoDecodingError) -> String {
        guard let pointer, pointer.pointee != 0 else { return "" }
        // The C-string initializers are not generic over the encoding, which keeps generic
        // metadata lookups out of the per-field cost.
        guard validatingUTF8 else {
            let bytes = UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self)
            return String(decoding: UnsafeBufferPointer(start: bytes, count: strlen(pointer)), as: UTF8.self)
        }
        guard let string = String(validatingCString: pointer) else {
            throw ProtoDecodingError(messageName: "\(message)", fieldName: "\(field)", reason: .invalidUTF8)
        }
        return string
    }

    /// optionalString decodes a proto2 optional string: NULL, or protoc-c's default-value
    /// pointer `absentPointer` (set by `__init` for fields with a `default` option), is absent.
    @inlinable
    public static func optionalString(
        _ pointer: UnsafePointer<CChar>?, absentPointer: UnsafePointer<CChar>?, message: StaticString,
        field: StaticString
    ) throws(ProtoDecodingError) -> String? {
        guard let pointer, pointer != absentPointer else { return nil }
        return try string(pointer, validatingUTF8: false, message: message, field: field)
    }

    @inlinable
    public static func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard data.len > 0, let base = data.data else { return [] }
        return [UInt8](UnsafeBufferPointer(start: base, count: data.len))
    }

    /// enumeration converts the raw number in a C enum field to a generated Swift enum,
    /// throwing for numbers the Swift enum does not know.
    @inlinable
    public static func enumeration<SwiftEnum: RawRepresentable<Int32>>(
        _ rawValue: some FixedWidthInteger, as type: SwiftEnum.Type, message: StaticString, field: StaticString
    ) throws(ProtoDecodingError) -> SwiftEnum {
        let number = Int32(truncatingIfNeeded: rawValue)
        guard let value = SwiftEnum(rawValue: number) else {
            throw ProtoDecodingError(messageName: "\(message)", fieldName: "\(field)", reason: .unknownEnumNumber(number))
        }
        return value
    }

    @inlinable
    public static func array<Element: BitwiseCopyable>(_ pointer: UnsafePointer<Element>?, count: Int) -> [Element] {
        guard count > 0, let pointer else { return [] }
        return [Element](UnsafeBufferPointer(start: pointer, count: count))
    }

    @inlinable
    public static func booleans(_ pointer: UnsafePointer<protobuf_c_boolean>?, count: Int) -> [Bool] {
        guard count > 0, let pointer else { return [] }
        return (0..<count).map { pointer[$0] != 0 }
    }

    @inlinable
    public static func strings(
        _ pointer: UnsafePointer<UnsafeMutablePointer<CChar>?>?, count: Int, validatingUTF8: Bool,
        message: StaticString, field: StaticString
    ) throws(ProtoDecodingError) -> [String] {
        guard count > 0, let pointer else { return [] }
        var values: [String] = []
        values.reserveCapacity(count)
        for index in 0..<count {
            values.append(try string(pointer[index], validatingUTF8: validatingUTF8, message: message, field: field))
        }
        return values
    }

    @inlinable
    public static func binaryDataArray(_ pointer: UnsafePointer<ProtobufCBinaryData>?, count: Int) -> [[UInt8]] {
        guard count > 0, let pointer else { return [] }
        return (0..<count).map { bytes(pointer[$0]) }
    }

    @inlinable
    public static func enumerations<SwiftEnum: RawRepresentable<Int32>, CEnum: RawRepresentable>(
        _ pointer: UnsafePointer<CEnum>?, count: Int, as type: SwiftEnum.Type, message: StaticString,
        field: StaticString
    ) throws(ProtoDecodingError) -> [SwiftEnum] where CEnum.RawValue: FixedWidthInteger {
        guard count > 0, let pointer else { return [] }
        var values: [SwiftEnum] = []
        values.reserveCapacity(count)
        for index in 0..<count {
            values.append(try enumeration(pointer[index].rawValue, as: type, message: message, field: field))
        }
        return values
    }

    /// message decodes an optional sub-message; NULL is absent.
    @inlinable
    public static func message<Message: ProtobufCRepresentable>(
        _ pointer: UnsafePointer<Message.ProtobufCStruct>?, as type: Message.Type
    ) throws(ProtoDecodingError) -> Message? {
        guard let pointer else { return nil }
        return try Message(protobufC: pointer)
    }

    @inlinable
    public static func messages<Message: ProtobufCRepresentable>(
        _ pointer: UnsafePointer<UnsafeMutablePointer<Message.ProtobufCStruct>?>?, count: Int, as type: Message.Type
    ) throws(ProtoDecodingError) -> [Message] {
        guard count > 0, let pointer else { return [] }
        var values: [Message] = []
        values.reserveCapacity(count)
        for index in 0..<count {
            guard let element = pointer[index] else {
                preconditionFailure("protoc-c unpacked a NULL element of a repeated message field")
            }
            values.append(try Message(protobufC: element))
        }
        return values
    }

    /// map decodes a map field: protoc-c's array of pointers to entry structs, each converted by
    /// `convert`. A key that repeats keeps its last value, as protobuf specifies.
    @inlinable
    public static func map<Entry, Key: Hashable, Value>(
        _ pointer: UnsafePointer<UnsafeMutablePointer<Entry>?>?, count: Int,
        convert: (UnsafeMutablePointer<Entry>) throws(ProtoDecodingError) -> (Key, Value)
    ) throws(ProtoDecodingError) -> [Key: Value] {
        guard count > 0, let pointer else { return [:] }
        var values: [Key: Value] = [:]
        values.reserveCapacity(count)
        for index in 0..<count {
            guard let entry = pointer[index] else {
                preconditionFailure("protoc-c unpacked a NULL map entry")
            }
            let (key, value) = try convert(entry)
            values[key] = value
        }
        return values
    }

    /// unpack runs protoc-c's `__unpack` (passed as `unpack`) with an arena allocator and
    /// converts the result while the arena is alive. A NULL result means protoc-c rejected the
    /// bytes.
    @inlinable
    public static func unpack<CStruct, Message>(
        _ bytes: UnsafeRawBufferPointer, messageName: StaticString,
        unpack: (UnsafeMutablePointer<ProtobufCAllocator>, Int, UnsafePointer<UInt8>?) -> UnsafeMutablePointer<CStruct>?,
        convert: (UnsafePointer<CStruct>) throws(ProtoDecodingError) -> Message
    ) throws(ProtoDecodingError) -> Message {
        try ProtoScratchArena.with { (arena) throws(ProtoDecodingError) -> Message in
            var allocator = arena.protobufCAllocator
            let data = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
            guard let unpacked = unpack(&allocator, bytes.count, data) else {
                throw ProtoDecodingError(messageName: "\(messageName)", reason: .malformed(byteCount: bytes.count))
            }
            return try convert(unpacked)
        }
    }

    /// unpackNested unpacks a nested message, for which protoc-c generates no `__unpack`: it
    /// calls the generic `protobuf_c_message_unpack` with the descriptor that `initialize`
    /// (the message's `__init`) stores in the struct.
    @inlinable
    public static func unpackNested<CStruct>(
        _ allocator: UnsafeMutablePointer<ProtobufCAllocator>, _ count: Int, _ data: UnsafePointer<UInt8>?,
        initialize: (UnsafeMutablePointer<CStruct>) -> Void
    ) -> UnsafeMutablePointer<CStruct>? {
        let descriptor = descriptor(initialize: initialize)
        guard let unpacked = protobuf_c_message_unpack(descriptor, allocator, count, data) else { return nil }
        return UnsafeMutableRawPointer(unpacked).assumingMemoryBound(to: CStruct.self)
    }

    /// descriptor is the message descriptor protoc-c's `__init` (passed as `initialize`) stores
    /// in the struct's header. Swift imports the `const` descriptor globals as values, not
    /// addresses, so this is how generic code finds the real descriptor.
    @inlinable
    public static func descriptor<CStruct>(
        initialize: (UnsafeMutablePointer<CStruct>) -> Void
    ) -> UnsafePointer<ProtobufCMessageDescriptor> {
        withUnsafeTemporaryAllocation(of: CStruct.self, capacity: 1) { buffer in
            let empty = buffer.baseAddress.unsafelyUnwrapped
            initialize(empty)
            return UnsafeMutableRawPointer(empty).load(as: ProtobufCMessage.self).descriptor
        }
    }

    /// defaultPointer is the address protoc-c's `__init` stores in a proto2 string field with a
    /// `default` option; an unpacked struct still holding it did not contain the field.
    @inlinable
    public static func defaultPointer<CStruct>(
        of field: KeyPath<CStruct, UnsafeMutablePointer<CChar>?>, initialize: (UnsafeMutablePointer<CStruct>) -> Void
    ) -> UnsafePointer<CChar>? {
        withUnsafeTemporaryAllocation(of: CStruct.self, capacity: 1) { buffer in
            let empty = buffer.baseAddress.unsafelyUnwrapped
            initialize(empty)
            return UnsafePointer(empty.pointee[keyPath: field])
        }
    }
}
