import CProtobufC

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Copies of Swift values into an arena in the layout protoc-c structs expect. Used by
/// generated `fillProtobufC` implementations.
extension ProtoScratchArena {
    /// cString copies `string` as NUL-terminated UTF-8. protoc-c measures strings with
    /// strlen, so a string containing U+0000 is encoded up to that character.
    @inlinable
    public func cString(_ string: String) -> UnsafeMutablePointer<CChar> {
        let utf8 = string.utf8
        let count = utf8.count
        let target = allocate(CChar.self, count: count + 1)
        let copied: Void? = utf8.withContiguousStorageIfAvailable { source in
            if count > 0 {
                UnsafeMutableRawPointer(target).copyMemory(from: source.baseAddress.unsafelyUnwrapped, byteCount: count)
            }
        }
        if copied == nil {
            var index = 0
            for byte in utf8 {
                target[index] = CChar(bitPattern: byte)
                index += 1
            }
        }
        target[count] = 0
        return target
    }

    /// binaryData copies `bytes`; an empty array becomes `{0, NULL}` like protoc-c's default.
    @inlinable
    public func binaryData(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        let count = bytes.count
        guard count > 0 else { return ProtobufCBinaryData(len: 0, data: nil) }
        let target = allocate(UInt8.self, count: count)
        bytes.withUnsafeBufferPointer { source in
            target.initialize(from: source.baseAddress.unsafelyUnwrapped, count: count)
        }
        return ProtobufCBinaryData(len: count, data: target)
    }

    /// copy copies numbers whose Swift and C representations are the same.
    @inlinable
    public func copy<Element: BitwiseCopyable>(_ values: [Element]) -> UnsafeMutablePointer<Element> {
        let target = allocate(Element.self, count: values.count)
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { target.initialize(from: base, count: source.count) }
        }
        return target
    }

    @inlinable
    public func booleans(_ values: [Bool]) -> UnsafeMutablePointer<protobuf_c_boolean> {
        let target = allocate(protobuf_c_boolean.self, count: values.count)
        for (index, value) in values.enumerated() { target[index] = value ? 1 : 0 }
        return target
    }

    @inlinable
    public func cStrings(_ values: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let target = allocate(UnsafeMutablePointer<CChar>?.self, count: values.count)
        for (index, value) in values.enumerated() { target[index] = cString(value) }
        return target
    }

    @inlinable
    public func binaryDataArray(_ values: [[UInt8]]) -> UnsafeMutablePointer<ProtobufCBinaryData> {
        let target = allocate(ProtobufCBinaryData.self, count: values.count)
        for (index, value) in values.enumerated() { target[index] = binaryData(value) }
        return target
    }

    /// enumeration converts a generated Swift enum case to protoc-c's imported C enum type.
    @inlinable
    public func enumeration<SwiftEnum: RawRepresentable<Int32>, CEnum: RawRepresentable>(
        _ value: SwiftEnum, as type: CEnum.Type
    ) -> CEnum where CEnum.RawValue: FixedWidthInteger {
        CEnum(rawValue: CEnum.RawValue(truncatingIfNeeded: value.rawValue)).unsafelyUnwrapped
    }

    @inlinable
    public func enumerations<SwiftEnum: RawRepresentable<Int32>, CEnum: RawRepresentable>(
        _ values: [SwiftEnum], as type: CEnum.Type
    ) -> UnsafeMutablePointer<CEnum> where CEnum.RawValue: FixedWidthInteger {
        let target = allocate(CEnum.self, count: values.count)
        for (index, value) in values.enumerated() { target[index] = enumeration(value, as: type) }
        return target
    }

    /// mapEntries builds protoc-c's representation of a map field: an array of pointers to
    /// entry structs, each set up by `initialize` (the entry's `__init`) and `fill`. Entries are
    /// sorted with `areInIncreasingOrder` so that equal maps encode to equal bytes; sorting the
    /// C pointers in place avoids copying the dictionary into a sorted Swift array.
    @inlinable
    public func mapEntries<Key, Value, Entry>(
        _ map: [Key: Value], initialize: (UnsafeMutablePointer<Entry>) -> Void,
        fill: (UnsafeMutablePointer<Entry>, Key, Value) -> Void,
        areInIncreasingOrder: (UnsafeMutablePointer<Entry>, UnsafeMutablePointer<Entry>) -> Bool
    ) -> UnsafeMutablePointer<UnsafeMutablePointer<Entry>?> {
        let count = map.count
        let entries = allocate(Entry.self, count: count)
        let pointers = allocate(UnsafeMutablePointer<Entry>?.self, count: count)
        var index = 0
        for (key, value) in map {
            let entry = entries + index
            initialize(entry)
            fill(entry, key, value)
            pointers[index] = entry
            index += 1
        }
        var sorted = UnsafeMutableBufferPointer(start: pointers, count: count)
        sorted.sort { left, right in
            areInIncreasingOrder(left.unsafelyUnwrapped, right.unsafelyUnwrapped)
        }
        return pointers
    }

    /// message allocates and fills the C struct of a sub-message.
    @inlinable
    public func message<Message: ProtobufCRepresentable>(_ value: Message) -> UnsafeMutablePointer<Message.ProtobufCStruct> {
        let target = allocate(Message.ProtobufCStruct.self)
        value.fillProtobufC(target, arena: self)
        return target
    }

    /// messages allocates the structs contiguously and returns the array of pointers to them
    /// that protoc-c expects for a repeated message field.
    @inlinable
    public func messages<Message: ProtobufCRepresentable>(
        _ values: [Message]
    ) -> UnsafeMutablePointer<UnsafeMutablePointer<Message.ProtobufCStruct>?> {
        let structs = allocate(Message.ProtobufCStruct.self, count: values.count)
        let pointers = allocate(UnsafeMutablePointer<Message.ProtobufCStruct>?.self, count: values.count)
        for (index, value) in values.enumerated() {
            value.fillProtobufC(structs + index, arena: self)
            pointers[index] = structs + index
        }
        return pointers
    }
}

/// ProtoEncoding holds the last step of generated `appendProtobuf(to:)` implementations.
public enum ProtoEncoding {
    /// cStringPrecedes orders map keys by their UTF-8 bytes (code point order), as Go's
    /// deterministic protobuf marshalling does; cheaper than Unicode-aware String comparison.
    @inlinable
    public static func cStringPrecedes(_ left: UnsafePointer<CChar>?, _ right: UnsafePointer<CChar>?) -> Bool {
        guard let left, let right else { return left == nil && right != nil }
        return strcmp(left, right) < 0
    }

    /// Messages up to this size are packed into the arena and copied into the buffer with one
    /// memcpy, which measured faster than zero-filling the buffer's new tail and packing into
    /// it; larger ones are packed in place to avoid holding a second copy.
    public static let packInArenaMaximumByteCount = 4096

    /// append grows `buffer` by `byteCount` bytes and lets `pack` (protoc-c's `__pack`) write
    /// them. `pack` must write exactly `byteCount` bytes: the size came from `__get_packed_size`
    /// of the same struct.
    @inlinable
    public static func append(
        byteCount: Int, to buffer: inout [UInt8], arena: ProtoScratchArena,
        pack: (UnsafeMutablePointer<UInt8>) -> Int
    ) {
        guard byteCount > 0 else { return }
        if buffer.isEmpty && buffer.capacity < byteCount {
            buffer = [UInt8](unsafeUninitializedCapacity: byteCount) { storage, initializedCount in
                let written = pack(storage.baseAddress.unsafelyUnwrapped)
                precondition(written == byteCount, "protoc-c packed \(written) bytes, expected \(byteCount)")
                initializedCount = byteCount
            }
        } else if byteCount <= packInArenaMaximumByteCount {
            let packed = arena.allocate(UInt8.self, count: byteCount)
            let written = pack(packed)
            precondition(written == byteCount, "protoc-c packed \(written) bytes, expected \(byteCount)")
            buffer.append(contentsOf: UnsafeBufferPointer(start: packed, count: byteCount))
        } else {
            let oldCount = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: byteCount))
            buffer.withUnsafeMutableBufferPointer { storage in
                let written = pack(storage.baseAddress.unsafelyUnwrapped + oldCount)
                precondition(written == byteCount, "protoc-c packed \(written) bytes, expected \(byteCount)")
            }
        }
    }

    /// packedSize is `__get_packed_size` for nested messages, for which protoc-c generates
    /// none: every protoc-c struct starts with its ProtobufCMessage header.
    @inlinable
    public static func packedSize<CStruct>(_ message: UnsafeMutablePointer<CStruct>) -> Int {
        protobuf_c_message_get_packed_size(UnsafeRawPointer(message).assumingMemoryBound(to: ProtobufCMessage.self))
    }

    /// pack is `__pack` for nested messages; see `packedSize(_:)`.
    @inlinable
    public static func pack<CStruct>(_ message: UnsafeMutablePointer<CStruct>, into target: UnsafeMutablePointer<UInt8>) -> Int {
        protobuf_c_message_pack(UnsafeRawPointer(message).assumingMemoryBound(to: ProtobufCMessage.self), target)
    }
}
