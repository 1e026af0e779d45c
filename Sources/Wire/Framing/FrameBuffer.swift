/// FrameBuffer is a growable run of bytes that frames are encoded into in place: a connection's
/// outbound queue. Unlike `[UInt8]` it hands out uninitialized room (`reserve`, then `commit`),
/// so a frame is written once, straight where the socket write will read it.
///
/// Not copyable: exactly one owner frees the memory.
struct FrameBuffer: ~Copyable {
    private(set) var base: UnsafeMutableRawPointer?
    private(set) var count = 0
    private(set) var capacity = 0

    init() {}

    deinit {
        base?.deallocate()
    }

    var isEmpty: Bool { count == 0 }

    /// The queued bytes; valid until the next mutation.
    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: count)
    }

    /// Makes room for `byteCount` more bytes and returns where they go. They become part of the
    /// buffer only through `commit`.
    mutating func reserve(_ byteCount: Int) -> UnsafeMutableRawPointer {
        if capacity - count < byteCount { grow(toHold: byteCount) }
        return base.unsafelyUnwrapped + count
    }

    /// Adds `byteCount` bytes written at the pointer `reserve` returned.
    mutating func commit(_ byteCount: Int) {
        precondition(byteCount >= 0 && count + byteCount <= capacity, "commit beyond the reserved room")
        count += byteCount
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    /// Empties the buffer; memory above `maximumKeptCapacity` bytes is given back.
    mutating func removeAll(keepingCapacityUpTo maximumKeptCapacity: Int) {
        count = 0
        if capacity > maximumKeptCapacity {
            base?.deallocate()
            base = nil
            capacity = 0
        }
    }

    private mutating func grow(toHold byteCount: Int) {
        precondition(byteCount >= 0 && count <= Int.max - byteCount, "frame buffer size overflows")
        var newCapacity = max(capacity, 4096)
        while newCapacity - count < byteCount { newCapacity *= 2 }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        if let base {
            newBase.copyMemory(from: base, byteCount: count)
            base.deallocate()
        }
        base = newBase
        capacity = newCapacity
    }
}
