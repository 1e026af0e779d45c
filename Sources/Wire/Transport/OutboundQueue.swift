import CLibUV

/// OutboundQueue is what one connection has to send, in order: bytes it owns (whole frames, and
/// the headers of frames whose payload is shared) interleaved with references to shared,
/// immutable payloads (`SharedBytes`). A fan-out frame costs its header plus one reference here,
/// not a copy of its payload: 250 watchers of one 1 KB event on a connection queue about 6 KB,
/// where copies would queue 250 KB, and a backlog of such frames grows with the number of
/// frames, not with their bytes.
///
/// The queue is a byte stream read from the front by a cursor (`gather` then `consume`) and
/// written at the back. Memory stays put while it is read: the owned bytes and the shared
/// payloads are not moved or freed until `reset`, so the buffers `gather` hands to `uv_write`
/// stay valid until its callback as long as nothing is appended meanwhile (the connection
/// appends to a second queue while one is being written; see TCPConnection).
struct OutboundQueue: ~Copyable {
    /// One shared payload, which follows the owned bytes before `ownedEnd` and precedes those
    /// after it.
    struct Reference {
        var ownedEnd: Int
        var payload: SharedBytes
    }

    /// Owned bytes; frames are encoded straight into it.
    var owned = FrameBuffer()
    private var references: [Reference] = []
    /// Payload bytes of every reference appended since the last reset.
    private var sharedBytesQueued = 0

    // The read cursor: owned bytes consumed, references passed, and bytes consumed of the
    // reference at `referenceRead` (only while `ownedRead` has reached its `ownedEnd`).
    private var ownedRead = 0
    private var referenceRead = 0
    private var sharedRead = 0
    private var sharedBytesConsumed = 0

    init() {}

    /// Bytes not yet consumed: what the peer has still to receive from this queue.
    var unsentBytes: Int { (owned.count - ownedRead) + (sharedBytesQueued - sharedBytesConsumed) }

    var isEmpty: Bool { unsentBytes == 0 }

    /// True when no shared payload is queued: the unsent bytes are one contiguous run.
    var isContiguous: Bool { references.isEmpty }

    /// Memory the queue holds of its own: the owned buffer's capacity and the references (the
    /// shared payloads themselves belong to whoever shares them).
    var heldBytes: Int {
        owned.capacity + references.capacity * MemoryLayout<Reference>.stride
    }

    /// Appends a reference to `payload` after the owned bytes queued so far.
    mutating func append(shared payload: SharedBytes) {
        guard payload.count > 0 else { return }
        references.append(Reference(ownedEnd: owned.count, payload: payload))
        sharedBytesQueued += payload.count
    }

    /// Fills `buffers` from the cursor on with the next unsent pieces, as many as fit; returns
    /// how many it filled and their bytes. Does not move the cursor.
    func gather(into buffers: UnsafeMutableBufferPointer<uv_buf_t>) -> (count: Int, bytes: Int) {
        var filled = 0
        var bytes = 0
        var ownedAt = ownedRead
        var reference = referenceRead
        var sharedAt = sharedRead
        while filled < buffers.count {
            let ownedEnd = reference < references.count ? references[reference].ownedEnd : owned.count
            if ownedAt < ownedEnd {
                buffers[filled] = Self.buffer(owned.bytes.baseAddress! + ownedAt, ownedEnd - ownedAt)
                bytes += ownedEnd - ownedAt
                filled += 1
                ownedAt = ownedEnd
                continue
            }
            guard reference < references.count else { break }
            let payload = references[reference].payload.bytes
            buffers[filled] = Self.buffer(payload.baseAddress! + sharedAt, payload.count - sharedAt)
            bytes += payload.count - sharedAt
            filled += 1
            reference += 1
            sharedAt = 0
        }
        return (filled, bytes)
    }

    /// Moves the cursor past `byteCount` bytes the socket took.
    mutating func consume(_ byteCount: Int) {
        precondition(byteCount >= 0 && byteCount <= unsentBytes, "consuming \(byteCount) of \(unsentBytes) unsent bytes")
        var left = byteCount
        while left > 0 {
            let ownedEnd = referenceRead < references.count ? references[referenceRead].ownedEnd : owned.count
            if ownedRead < ownedEnd {
                let taken = min(left, ownedEnd - ownedRead)
                ownedRead += taken
                left -= taken
                continue
            }
            let payloadCount = references[referenceRead].payload.count
            let taken = min(left, payloadCount - sharedRead)
            sharedRead += taken
            sharedBytesConsumed += taken
            left -= taken
            if sharedRead == payloadCount {
                referenceRead += 1
                sharedRead = 0
            }
        }
    }

    /// Empties the queue and lets the shared payloads go; owned memory above
    /// `maximumKeptCapacity` bytes is given back.
    mutating func reset(keepingCapacityUpTo maximumKeptCapacity: Int) {
        owned.removeAll(keepingCapacityUpTo: maximumKeptCapacity)
        let keepReferences = references.capacity * MemoryLayout<Reference>.stride <= maximumKeptCapacity
        references.removeAll(keepingCapacity: keepReferences)
        sharedBytesQueued = 0
        ownedRead = 0
        referenceRead = 0
        sharedRead = 0
        sharedBytesConsumed = 0
    }

    private static func buffer(_ base: UnsafeRawPointer, _ count: Int) -> uv_buf_t {
        uv_buf_init(UnsafeMutableRawPointer(mutating: base).assumingMemoryBound(to: CChar.self), UInt32(count))
    }
}
