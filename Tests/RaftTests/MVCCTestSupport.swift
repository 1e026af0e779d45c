@testable import Raft

/// Helpers shared by the MVCC tests: string keys, one-line writes at the next Raft index, a
/// recording watch sink and a seeded generator.

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

extension MVCCStore {
    var nextIndex: UInt64 { consistentIndex + 1 }

    @discardableResult
    func put(_ key: String, _ value: String, lease: Int64 = 0, prevKV: Bool = false) throws(StoreError) -> PutResponse {
        try apply(Command(put: PutRequest(key: bytes(key), value: bytes(value), lease: lease, prevKv: prevKV)), index: nextIndex).put!
    }

    @discardableResult
    func delete(_ key: String, end: String = "", prevKV: Bool = false) throws(StoreError) -> DeleteRangeResponse {
        try apply(
            Command(deleteRange: DeleteRangeRequest(key: bytes(key), rangeEnd: bytes(end), prevKv: prevKV)),
            index: nextIndex
        ).deleteRange!
    }

    @discardableResult
    func txn(_ request: TxnRequest) throws(StoreError) -> TxnResponse {
        try apply(Command(txn: request), index: nextIndex).txn!
    }

    func compact(_ revision: Int64) throws(StoreError) {
        _ = try apply(Command(compaction: CompactionRequest(revision: revision)), index: nextIndex)
    }

    func grant(id: Int64, ttl: Int64 = 10) throws(StoreError) -> LeaseGrantResponse {
        try apply(Command(leaseGrant: LeaseGrantRequest(ttl: ttl, id: id)), index: nextIndex).leaseGrant!
    }

    func revoke(id: Int64) throws(StoreError) {
        _ = try apply(Command(leaseRevoke: LeaseRevokeRequest(id: id)), index: nextIndex)
    }

    func get(_ key: String, end: String = "", revision: Int64 = 0) throws(StoreError) -> RangeResponse {
        try range(RangeRequest(key: bytes(key), rangeEnd: bytes(end), revision: revision))
    }

    func getPrefix(_ prefix: String, revision: Int64 = 0) throws(StoreError) -> RangeResponse {
        try range(RangeRequest(key: bytes(prefix), rangeEnd: KeyInterval.prefixEnd(bytes(prefix)), revision: revision))
    }

    /// everything reads every key at `revision`.
    func everything(at revision: Int64) throws(StoreError) -> [KeyValue] {
        try range(RangeRequest(key: [0], rangeEnd: [0], revision: revision)).kvs
    }
}

func putOp(_ key: String, _ value: String, lease: Int64 = 0) -> RequestOp {
    RequestOp(requestPut: PutRequest(key: bytes(key), value: bytes(value), lease: lease))
}

func rangeOp(_ key: String) -> RequestOp {
    RequestOp(requestRange: RangeRequest(key: bytes(key)))
}

func deleteOp(_ key: String, end: String = "") -> RequestOp {
    RequestOp(requestDeleteRange: DeleteRangeRequest(key: bytes(key), rangeEnd: bytes(end)))
}

/// RecordingSink keeps every response; while `full` it refuses them like a congested stream.
final class RecordingSink: WatchSink {
    var responses: [WatchResponse] = []
    var full = false
    var refused = 0

    func deliver(_ response: WatchResponse) -> WatchDelivery {
        if full {
            refused += 1
            return .full
        }
        responses.append(response)
        return .accepted
    }

    var events: [Event] { responses.flatMap(\.events) }

    /// summary renders events as "PUT key=value@rev" / "DELETE key@rev" for readable expectations.
    var summary: [String] { events.map(describe) }
}

func describe(_ event: Event) -> String {
    let kv = event.kv!
    let previous = event.prevKv.map { " prev=\(text($0.value))" } ?? ""
    switch event.type {
    case .put: return "PUT \(text(kv.key))=\(text(kv.value))@\(kv.modRevision)\(previous)"
    case .delete: return "DELETE \(text(kv.key))@\(kv.modRevision)\(previous)"
    }
}

/// SplitMix64 is a small seeded generator so randomized tests replay exactly from their seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
