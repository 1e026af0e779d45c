/// InflightWindow bounds the appends a leader has sent to one follower in replicate state but
/// not yet seen acknowledged: at most `maximumCount` messages and at most `maximumBytes`
/// payload bytes (a single message larger than `maximumBytes` is still allowed when the window
/// is empty, so a large entry cannot stall replication forever).
///
/// Invariant: `lastIndexes` is strictly increasing; `bytesInFlight` is the sum of `byteCounts`.
public struct InflightWindow: Sendable, Hashable {
    public let maximumCount: Int
    public let maximumBytes: UInt64
    /// lastIndexes[i] is the last entry index carried by the i-th oldest unacknowledged append.
    private(set) var lastIndexes: [UInt64] = []
    private(set) var byteCounts: [UInt64] = []
    /// head is the position of the oldest live element; elements before it are released.
    private var head = 0
    public private(set) var bytesInFlight: UInt64 = 0

    public init(maximumCount: Int, maximumBytes: UInt64) {
        precondition(maximumCount > 0, "an in-flight window must allow one message")
        precondition(maximumBytes > 0, "an in-flight window must allow some bytes")
        self.maximumCount = maximumCount
        self.maximumBytes = maximumBytes
    }

    public var count: Int {
        lastIndexes.count - head
    }

    /// isFull tells whether another append must wait for an acknowledgement.
    public var isFull: Bool {
        count >= maximumCount || (count > 0 && bytesInFlight >= maximumBytes)
    }

    /// add records an append whose last entry is `lastIndex` carrying `bytes` payload bytes.
    public mutating func add(lastIndex: UInt64, bytes: UInt64) {
        precondition(!isFull, "append sent through a full in-flight window")
        if let newest = lastIndexes.last, count > 0 {
            precondition(lastIndex > newest, "in-flight appends must have increasing indexes")
        }
        lastIndexes.append(lastIndex)
        byteCounts.append(bytes)
        bytesInFlight += bytes
    }

    /// release frees every append whose last index is at or below `index` (acknowledged).
    public mutating func release(upTo index: UInt64) {
        while head < lastIndexes.count, lastIndexes[head] <= index {
            bytesInFlight -= byteCounts[head]
            head += 1
        }
        compactStorage()
    }

    /// releaseOldest frees one slot; used when a heartbeat response shows the follower is
    /// alive but the acknowledgements of the window were lost.
    public mutating func releaseOldest() {
        guard count > 0 else { return }
        bytesInFlight -= byteCounts[head]
        head += 1
        compactStorage()
    }

    public mutating func reset() {
        lastIndexes.removeAll(keepingCapacity: true)
        byteCounts.removeAll(keepingCapacity: true)
        head = 0
        bytesInFlight = 0
    }

    private mutating func compactStorage() {
        if head == lastIndexes.count {
            reset()
        } else if head >= 64, head * 2 >= lastIndexes.count {
            lastIndexes.removeFirst(head)
            byteCounts.removeFirst(head)
            head = 0
        }
    }
}
