/// VersionRecord is one version of one key in the store's history: a put, or a tombstone (a
/// delete, `version == 0`). Records live in `MVCCStore.records` in (revision, subRevision)
/// order; `previous` links each record to the one before it for the same key (-1 = none), so a
/// key's history is a chain that starts at the key index and runs back in time.
struct VersionRecord: Sendable {
    var key: [UInt8]
    var value: [UInt8]
    var revision: Int64
    var createRevision: Int64
    /// 0 marks a tombstone.
    var version: Int64
    var lease: Int64
    var previous: Int32
    var subRevision: Int32

    @inline(__always) var isTombstone: Bool { version == 0 }

    func keyValue(keysOnly: Bool = false) -> KeyValue {
        KeyValue(
            key: key, createRevision: createRevision, modRevision: revision, version: version,
            value: keysOnly ? [] : value, lease: lease)
    }
}

/// LeaseRecord is the replicated part of a lease: its granted TTL and the keys attached to it.
/// Expiry timing is not replicated; see `LeaseExpiryTracker`.
struct LeaseRecord {
    var ttlSeconds: Int64
    var keys: Set<[UInt8]>
}

/// MVCCConfiguration holds settings that must be identical on every member (they change what
/// apply does).
public struct MVCCConfiguration: Sendable, Hashable {
    /// A lease is granted for at least this long (etcd: 3 × election timeout, in seconds).
    public var minimumLeaseTTLSeconds: Int64

    public init(minimumLeaseTTLSeconds: Int64 = 1) {
        self.minimumLeaseTTLSeconds = minimumLeaseTTLSeconds
    }
}

/// MVCCStore is the replicated state machine of the store: an in-memory multi-version key-value
/// store with etcd v3's semantics. Writes arrive as Raft-committed `Command`s through `apply`;
/// reads (`range`) are served from the same state. It does no I/O, reads no clock and uses no
/// randomness: the same commands at the same indexes give the same state on every member.
///
/// Invariants:
/// - `revision` starts at 1 and grows by one for every write that changes at least one key;
///   every record has `revision <= self.revision`.
/// - `records` is sorted by (revision, subRevision), and a record's `previous` is an earlier
///   record of the same key.
/// - Every key in `keyIndex` points at its newest record; every key with a record is in it.
/// - For every revision r >= `compactedRevision` the store answers reads at r exactly as it did
///   when r was current.
/// - A lease's `keys` are exactly the live keys whose newest record carries that lease.
///
/// Not thread-safe: one owner (the member's apply loop) calls every method.
public final class MVCCStore {
    public let configuration: MVCCConfiguration
    /// The revision of the last write (1 in an empty store, like etcd).
    public internal(set) var revision: Int64 = 1
    /// Reads at revisions before this fail with `StoreError.compacted`; 0 = never compacted.
    public internal(set) var compactedRevision: Int64 = 0
    /// The Raft index of the last applied entry (etcd's consistent index).
    public internal(set) var consistentIndex: UInt64 = 0
    /// The number of keys that exist at the current revision.
    public internal(set) var liveKeyCount = 0

    var records: [VersionRecord] = []
    var keyIndex = SortedKeyIndex()
    var leases: [Int64: LeaseRecord] = [:]

    /// Events produced by applies since the watch hub last took them, in revision order. Only
    /// recorded while `recordsEvents` (a hub is attached).
    var pendingEvents: [Event] = []
    var recordsEvents = false

    public init(configuration: MVCCConfiguration = MVCCConfiguration()) {
        self.configuration = configuration
    }

    /// The total number of stored versions (live, overwritten and tombstones) since the last compaction.
    public var recordCount: Int { records.count }

    /// The leases that exist, with their granted TTL in seconds, in id order.
    public var leaseTTLs: [(id: Int64, ttlSeconds: Int64)] {
        leases.map { (id: $0.key, ttlSeconds: $0.value.ttlSeconds) }.sorted { $0.id < $1.id }
    }

    /// markApplied records a Raft entry that carries no store command (an empty entry or a
    /// membership change) so that `consistentIndex` follows the applied index.
    public func markApplied(index: UInt64) {
        precondition(index > consistentIndex, "MVCCStore: index \(index) applied after \(consistentIndex)")
        consistentIndex = index
    }

    // MARK: Reading the history

    /// visibleRecord is the index of the record of the key that was current at `readRevision`,
    /// starting from its newest record; nil when the key did not exist then.
    @inline(__always)
    func visibleRecord(from newest: Int32, at readRevision: Int64) -> Int32? {
        var index = newest
        while index >= 0 {
            let record = records[Int(index)]
            if record.revision <= readRevision {
                return record.isTombstone ? nil : index
            }
            index = record.previous
        }
        return nil
    }

    /// liveRecord is the index of the current version of `key`, nil when it does not exist.
    func liveRecord(of key: [UInt8]) -> Int32? {
        guard let newest = keyIndex.record(for: key) else { return nil }
        return records[Int(newest)].isTombstone ? nil : newest
    }

    /// firstRecord(atOrAfter:) is the index of the first record with revision >= `revision`.
    func firstRecord(atOrAfter revision: Int64) -> Int {
        var low = 0
        var high = records.count
        while low < high {
            let middle = (low + high) / 2
            if records[middle].revision < revision {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }

    func checkReadable(_ readRevision: Int64) throws(StoreError) {
        if readRevision > revision {
            throw .futureRevision(requestedRevision: readRevision, currentRevision: revision)
        }
        if readRevision < compactedRevision {
            throw .compacted(requestedRevision: readRevision, compactedRevision: compactedRevision)
        }
    }

    // MARK: Range

    /// range reads keys as of a revision (0 = current), with etcd's Range semantics: `count` is
    /// the number of keys in the interval, `more` whether `limit` left some out, and the keys come
    /// in key order unless a sort is asked for.
    public func range(_ request: RangeRequest) throws(StoreError) -> RangeResponse {
        let readRevision = request.revision > 0 ? request.revision : revision
        try checkReadable(readRevision)
        if request.key.isEmpty { throw .emptyKey(operation: "range") }
        var response = rangeUnchecked(request, at: readRevision)
        response.header = ResponseHeader(revision: revision)
        return response
    }

    /// rangeUnchecked reads at a revision already checked against the history.
    func rangeUnchecked(_ request: RangeRequest, at readRevision: Int64) -> RangeResponse {
        let interval = KeyInterval(key: request.key, rangeEnd: request.rangeEnd)
        let sorts = request.sortOrder != .unsorted && !(request.sortTarget == .key && request.sortOrder == .ascend)
        let filters = request.minModRevision > 0 || request.maxModRevision > 0
            || request.minCreateRevision > 0 || request.maxCreateRevision > 0
        let limit = request.limit > 0 ? Int(request.limit) : Int.max
        let collectsAll = sorts || filters
        var count = 0
        var keyValues: [KeyValue] = []
        let current = readRevision == revision
        keyIndex.forEach(in: interval) { _, _, newest in
            let visible: Int32?
            if current {
                visible = records[Int(newest)].isTombstone ? nil : newest
            } else {
                visible = visibleRecord(from: newest, at: readRevision)
            }
            guard let visible else { return true }
            count += 1
            if request.countOnly { return true }
            if collectsAll || keyValues.count < limit {
                let record = records[Int(visible)]
                if filters && !Self.passes(record, request) { return true }
                keyValues.append(record.keyValue(keysOnly: request.keysOnly))
            }
            return true
        }
        var response = RangeResponse(count: Int64(count))
        if request.countOnly { return response }
        if sorts { Self.sort(&keyValues, request) }
        if collectsAll {
            response.more = keyValues.count > limit
            if keyValues.count > limit { keyValues.removeSubrange(limit...) }
        } else {
            response.more = count > keyValues.count
        }
        response.kvs = keyValues
        return response
    }

    private static func passes(_ record: VersionRecord, _ request: RangeRequest) -> Bool {
        if request.minModRevision > 0 && record.revision < request.minModRevision { return false }
        if request.maxModRevision > 0 && record.revision > request.maxModRevision { return false }
        if request.minCreateRevision > 0 && record.createRevision < request.minCreateRevision { return false }
        if request.maxCreateRevision > 0 && record.createRevision > request.maxCreateRevision { return false }
        return true
    }

    private static func sort(_ keyValues: inout [KeyValue], _ request: RangeRequest) {
        let ascending: (KeyValue, KeyValue) -> Bool
        switch request.sortTarget {
        case .key: ascending = { compareBytes($0.key, $1.key) < 0 }
        case .version: ascending = { $0.version < $1.version }
        case .create: ascending = { $0.createRevision < $1.createRevision }
        case .mod: ascending = { $0.modRevision < $1.modRevision }
        case .value: ascending = { compareBytes($0.value, $1.value) < 0 }
        }
        // Stable: keys with equal targets stay in key order, in either direction, so every
        // member returns the same order.
        let indexed = keyValues.enumerated().map { ($0.offset, $0.element) }
        let descending = request.sortOrder == .descend
        keyValues = indexed.sorted { left, right in
            if ascending(left.1, right.1) { return !descending }
            if ascending(right.1, left.1) { return descending }
            return left.0 < right.0
        }.map { $0.1 }
    }
}
