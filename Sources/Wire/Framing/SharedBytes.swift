/// SharedBytes is an immutable run of bytes that many outbound frames reference instead of
/// copying: one watch event, encoded once, is the payload of a frame for every watcher of it.
/// A connection's outbound queue holds a reference per frame (see `OutboundQueue`), so a burst
/// of N frames of one event costs N small headers plus one copy of the event, and the bytes stay
/// alive until the last connection has written them.
///
/// The storage is its own allocation (not an array's buffer), so its address is stable for as
/// long as any reference lives: `uv_write` may read it after the call that queued it returned.
public final class SharedBytes: @unchecked Sendable {
    // Safety of @unchecked Sendable: the bytes are written once in `init` and never again.

    /// The bytes; valid while this object lives.
    public let bytes: UnsafeRawBufferPointer

    /// Copies `bytes` once into storage of its own.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes.withUnsafeBytes { Self.copy($0) }
    }

    /// Copies `bytes` once into storage of its own.
    public init(copying bytes: UnsafeRawBufferPointer) {
        self.bytes = Self.copy(bytes)
    }

    private static func copy(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        if let source = bytes.baseAddress, !bytes.isEmpty {
            storage.baseAddress!.copyMemory(from: source, byteCount: bytes.count)
        }
        return UnsafeRawBufferPointer(storage)
    }

    deinit {
        bytes.deallocate()
    }

    public var count: Int { bytes.count }

    /// The bytes as an array (a copy), for callers that want a value.
    public var array: [UInt8] { [UInt8](bytes) }
}
