/// LeaseExpiryTracker is the leader's clock for leases. It is not replicated: expiry is decided
/// here, on the leader only, and enacted by proposing a `LeaseRevokeRequest`, which every member
/// applies at the same log position. Time is an input (monotonic nanoseconds), so the tracker is
/// deterministic under test.
///
/// Use: after applying a grant, `grant`; after applying a revoke, `revoke`; on a keep-alive,
/// `renew`; on becoming leader, `promote` with the store's leases (every deadline restarts at
/// now + TTL, like etcd's lessor promote); on losing leadership, `demote`; on every tick,
/// `expiredLeases` and propose a revoke for each.
///
/// Invariants: every lease in `deadlines` has exactly one heap entry with its current deadline
/// (older entries are stale and skipped); the heap is a binary min-heap on deadline then id.
public struct LeaseExpiryTracker: Sendable {
    struct Deadline: Sendable {
        var deadlineNanoseconds: UInt64
        var ttlSeconds: Int64
    }

    struct HeapEntry: Sendable {
        var deadlineNanoseconds: UInt64
        var id: Int64

        func precedes(_ other: HeapEntry) -> Bool {
            (deadlineNanoseconds, id) < (other.deadlineNanoseconds, other.id)
        }
    }

    /// A lease reported expired is reported again after this long if it is still not revoked
    /// (the revoke proposal may have been lost with a leader change).
    public let retryIntervalNanoseconds: UInt64
    private var deadlines: [Int64: Deadline] = [:]
    private var heap: [HeapEntry] = []
    public private(set) var isLeader = false

    public init(retryIntervalNanoseconds: UInt64 = 3_000_000_000) {
        self.retryIntervalNanoseconds = retryIntervalNanoseconds
    }

    public var count: Int { deadlines.count }

    /// grant starts tracking a lease applied by a LeaseGrant.
    public mutating func grant(id: Int64, ttlSeconds: Int64, nowNanoseconds: UInt64) {
        set(id: id, ttlSeconds: ttlSeconds, deadline: Self.deadline(nowNanoseconds, ttlSeconds))
    }

    /// revoke stops tracking a lease applied by a LeaseRevoke.
    public mutating func revoke(id: Int64) {
        deadlines[id] = nil
        compactHeapIfStale()
    }

    /// renew is a keep-alive: the lease's deadline restarts at now + TTL. Returns the TTL, or nil
    /// for an unknown lease or when this member is not the leader (only the leader renews).
    public mutating func renew(id: Int64, nowNanoseconds: UInt64) -> Int64? {
        guard isLeader, let current = deadlines[id] else { return nil }
        set(id: id, ttlSeconds: current.ttlSeconds, deadline: Self.deadline(nowNanoseconds, current.ttlSeconds))
        return current.ttlSeconds
    }

    /// remainingSeconds is the time left before the lease expires, rounded up; nil when unknown.
    public func remainingSeconds(id: Int64, nowNanoseconds: UInt64) -> Int64? {
        guard let current = deadlines[id] else { return nil }
        if current.deadlineNanoseconds <= nowNanoseconds { return 0 }
        return Int64((current.deadlineNanoseconds - nowNanoseconds + 999_999_999) / 1_000_000_000)
    }

    /// promote makes this member the one that decides expiry: every lease's deadline restarts
    /// at now + TTL, so leases do not expire because of time the previous leader spent renewing.
    public mutating func promote(leases: [(id: Int64, ttlSeconds: Int64)], nowNanoseconds: UInt64) {
        isLeader = true
        deadlines.removeAll(keepingCapacity: true)
        heap.removeAll(keepingCapacity: true)
        for lease in leases {
            set(id: lease.id, ttlSeconds: lease.ttlSeconds, deadline: Self.deadline(nowNanoseconds, lease.ttlSeconds))
        }
    }

    /// demote stops expiry decisions; deadlines are kept only to answer time-to-live queries.
    public mutating func demote() {
        isLeader = false
    }

    /// expiredLeases returns up to `limit` leases whose deadline has passed, earliest first, and
    /// moves each deadline `retryIntervalNanoseconds` on so it is reported again only if the
    /// revoke does not arrive. Empty when this member is not the leader.
    public mutating func expiredLeases(nowNanoseconds: UInt64, limit: Int = 1000) -> [Int64] {
        guard isLeader else { return [] }
        var expired: [Int64] = []
        while expired.count < limit, let top = heap.first, top.deadlineNanoseconds <= nowNanoseconds {
            popHeap()
            guard let current = deadlines[top.id], current.deadlineNanoseconds == top.deadlineNanoseconds else {
                continue  // stale entry of a renewed or revoked lease
            }
            expired.append(top.id)
            set(id: top.id, ttlSeconds: current.ttlSeconds, deadline: nowNanoseconds &+ retryIntervalNanoseconds)
        }
        return expired
    }

    private static func deadline(_ now: UInt64, _ ttlSeconds: Int64) -> UInt64 {
        let (product, overflow) = UInt64(max(ttlSeconds, 0)).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return UInt64.max }
        let (sum, sumOverflow) = now.addingReportingOverflow(product)
        return sumOverflow ? UInt64.max : sum
    }

    private mutating func set(id: Int64, ttlSeconds: Int64, deadline: UInt64) {
        deadlines[id] = Deadline(deadlineNanoseconds: deadline, ttlSeconds: ttlSeconds)
        pushHeap(HeapEntry(deadlineNanoseconds: deadline, id: id))
        compactHeapIfStale()
    }

    /// compactHeapIfStale bounds the heap at twice the live leases (plus slack) by dropping
    /// stale entries, so frequent keep-alives do not grow it without limit.
    private mutating func compactHeapIfStale() {
        guard heap.count > 2 * deadlines.count + 64 else { return }
        heap = deadlines.map { HeapEntry(deadlineNanoseconds: $0.value.deadlineNanoseconds, id: $0.key) }
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private mutating func pushHeap(_ entry: HeapEntry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func popHeap() {
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            if left >= heap.count { return }
            var smallest = left
            if left + 1 < heap.count && heap[left + 1].precedes(heap[left]) { smallest = left + 1 }
            guard heap[smallest].precedes(heap[parent]) else { return }
            heap.swapAt(smallest, parent)
            parent = smallest
        }
    }
}
