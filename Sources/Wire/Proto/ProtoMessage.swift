import CProtobufC

/// ProtoMessage is a Swift value type generated from a protobuf message (see
/// docs/generated-swift.md). The encoded bytes are ordinary protobuf, so any implementation
/// reads them; the work is done by protoc-c's C code in module CSkiffProto.
public protocol ProtoMessage: Sendable, Hashable {
    init()
    /// Decodes one message from all of `bytes`; malformed input throws, never traps.
    init(protobuf bytes: UnsafeRawBufferPointer) throws(ProtoDecodingError)
    /// The exact number of bytes `appendProtobuf(to:)` appends.
    var protobufSize: Int { get }
    /// Appends the encoding of this message (no length prefix) to `buffer`.
    func appendProtobuf(to buffer: inout [UInt8])
}

extension ProtoMessage {
    /// Decodes one message from all of `bytes`.
    @inlinable
    public init(protobuf bytes: [UInt8]) throws(ProtoDecodingError) {
        // Array.withUnsafeBytes only rethrows untyped errors; the closure throws nothing else.
        do {
            self = try bytes.withUnsafeBytes { raw in try Self(protobuf: raw) }
        } catch let error as ProtoDecodingError {
            throw error
        } catch {
            preconditionFailure("init(protobuf:) threw \(error), which is not a ProtoDecodingError")
        }
    }

    /// The encoding of this message in a new array of exactly `protobufSize` bytes.
    @inlinable
    public func protobufBytes() -> [UInt8] {
        var bytes: [UInt8] = []
        appendProtobuf(to: &bytes)
        return bytes
    }
}

/// ProtobufCRepresentable links a generated Swift message to its protoc-c struct. It is public
/// only because generated code in other modules (Raft, Api) embeds messages from this one;
/// application code uses `ProtoMessage`.
public protocol ProtobufCRepresentable {
    associatedtype ProtobufCStruct
    /// Initializes `target` (uninitialized memory) with protoc-c's `__init` and copies this
    /// value into it. Strings, bytes, arrays and sub-messages are allocated in `arena`, so
    /// `target` is valid only until the arena's scope ends.
    func fillProtobufC(_ target: UnsafeMutablePointer<ProtobufCStruct>, arena: ProtoScratchArena)
    /// Copies a struct produced by protoc-c's unpack into a Swift value.
    init(protobufC source: UnsafePointer<ProtobufCStruct>) throws(ProtoDecodingError)
}
