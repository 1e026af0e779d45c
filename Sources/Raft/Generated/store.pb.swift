// Stand-in for the output of skiff-protogen on proto/store/store.proto (see
// docs/generated-swift.md). `scripts/generate` overwrites this file; until then it has the same
// type shapes without the ProtoMessage conformance.

public struct KeyValue: Sendable, Hashable {
    public var key: [UInt8]
    public var createRevision: Int64
    public var modRevision: Int64
    public var version: Int64
    public var value: [UInt8]
    public var lease: Int64

    public init() {
        self.init(key: [], createRevision: 0, modRevision: 0, version: 0, value: [], lease: 0)
    }

    public init(key: [UInt8] = [], createRevision: Int64 = 0, modRevision: Int64 = 0, version: Int64 = 0, value: [UInt8] = [], lease: Int64 = 0) {
        self.key = key
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.value = value
        self.lease = lease
    }
}

public struct ResponseHeader: Sendable, Hashable {
    public var clusterID: UInt64
    public var memberID: UInt64
    public var revision: Int64
    public var raftTerm: UInt64

    public init() {
        self.init(clusterID: 0, memberID: 0, revision: 0, raftTerm: 0)
    }

    public init(clusterID: UInt64 = 0, memberID: UInt64 = 0, revision: Int64 = 0, raftTerm: UInt64 = 0) {
        self.clusterID = clusterID
        self.memberID = memberID
        self.revision = revision
        self.raftTerm = raftTerm
    }
}

public enum SortOrder: Int32, Sendable, Hashable, CaseIterable {
    case unsorted = 0
    case ascend = 1
    case descend = 2
}

public enum SortTarget: Int32, Sendable, Hashable, CaseIterable {
    case key = 0
    case version = 1
    case create = 2
    case mod = 3
    case value = 4
}

public struct RangeRequest: Sendable, Hashable {
    public var key: [UInt8]
    public var rangeEnd: [UInt8]
    public var limit: Int64
    public var revision: Int64
    public var sortOrder: SortOrder
    public var sortTarget: SortTarget
    public var serializable: Bool
    public var keysOnly: Bool
    public var countOnly: Bool
    public var minModRevision: Int64
    public var maxModRevision: Int64
    public var minCreateRevision: Int64
    public var maxCreateRevision: Int64

    public init() {
        self.init(key: [], rangeEnd: [], limit: 0, revision: 0, sortOrder: .unsorted, sortTarget: .key, serializable: false, keysOnly: false, countOnly: false, minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0)
    }

    public init(key: [UInt8] = [], rangeEnd: [UInt8] = [], limit: Int64 = 0, revision: Int64 = 0, sortOrder: SortOrder = .unsorted, sortTarget: SortTarget = .key, serializable: Bool = false, keysOnly: Bool = false, countOnly: Bool = false, minModRevision: Int64 = 0, maxModRevision: Int64 = 0, minCreateRevision: Int64 = 0, maxCreateRevision: Int64 = 0) {
        self.key = key
        self.rangeEnd = rangeEnd
        self.limit = limit
        self.revision = revision
        self.sortOrder = sortOrder
        self.sortTarget = sortTarget
        self.serializable = serializable
        self.keysOnly = keysOnly
        self.countOnly = countOnly
        self.minModRevision = minModRevision
        self.maxModRevision = maxModRevision
        self.minCreateRevision = minCreateRevision
        self.maxCreateRevision = maxCreateRevision
    }
}

public struct RangeResponse: Sendable, Hashable {
    public var header: ResponseHeader?
    public var kvs: [KeyValue]
    public var more: Bool
    public var count: Int64

    public init() {
        self.init(header: nil, kvs: [], more: false, count: 0)
    }

    public init(header: ResponseHeader? = nil, kvs: [KeyValue] = [], more: Bool = false, count: Int64 = 0) {
        self.header = header
        self.kvs = kvs
        self.more = more
        self.count = count
    }
}

public struct PutRequest: Sendable, Hashable {
    public var key: [UInt8]
    public var value: [UInt8]
    public var lease: Int64
    public var prevKv: Bool
    public var ignoreValue: Bool
    public var ignoreLease: Bool

    public init() {
        self.init(key: [], value: [], lease: 0, prevKv: false, ignoreValue: false, ignoreLease: false)
    }

    public init(key: [UInt8] = [], value: [UInt8] = [], lease: Int64 = 0, prevKv: Bool = false, ignoreValue: Bool = false, ignoreLease: Bool = false) {
        self.key = key
        self.value = value
        self.lease = lease
        self.prevKv = prevKv
        self.ignoreValue = ignoreValue
        self.ignoreLease = ignoreLease
    }
}

public struct PutResponse: Sendable, Hashable {
    public var header: ResponseHeader?
    public var prevKv: KeyValue?

    public init() {
        self.init(header: nil, prevKv: nil)
    }

    public init(header: ResponseHeader? = nil, prevKv: KeyValue? = nil) {
        self.header = header
        self.prevKv = prevKv
    }
}

public struct DeleteRangeRequest: Sendable, Hashable {
    public var key: [UInt8]
    public var rangeEnd: [UInt8]
    public var prevKv: Bool

    public init() {
        self.init(key: [], rangeEnd: [], prevKv: false)
    }

    public init(key: [UInt8] = [], rangeEnd: [UInt8] = [], prevKv: Bool = false) {
        self.key = key
        self.rangeEnd = rangeEnd
        self.prevKv = prevKv
    }
}

public struct DeleteRangeResponse: Sendable, Hashable {
    public var header: ResponseHeader?
    public var deleted: Int64
    public var prevKvs: [KeyValue]

    public init() {
        self.init(header: nil, deleted: 0, prevKvs: [])
    }

    public init(header: ResponseHeader? = nil, deleted: Int64 = 0, prevKvs: [KeyValue] = []) {
        self.header = header
        self.deleted = deleted
        self.prevKvs = prevKvs
    }
}

public enum CompareResult: Int32, Sendable, Hashable, CaseIterable {
    case equal = 0
    case greater = 1
    case less = 2
    case notEqual = 3
}

public enum CompareTarget: Int32, Sendable, Hashable, CaseIterable {
    case version = 0
    case create = 1
    case mod = 2
    case value = 3
    case lease = 4
}

public struct Compare: Sendable, Hashable {
    public var result: CompareResult
    public var target: CompareTarget
    public var key: [UInt8]
    public var version: Int64
    public var createRevision: Int64
    public var modRevision: Int64
    public var value: [UInt8]
    public var lease: Int64
    public var rangeEnd: [UInt8]

    public init() {
        self.init(result: .equal, target: .version, key: [], version: 0, createRevision: 0, modRevision: 0, value: [], lease: 0, rangeEnd: [])
    }

    public init(result: CompareResult = .equal, target: CompareTarget = .version, key: [UInt8] = [], version: Int64 = 0, createRevision: Int64 = 0, modRevision: Int64 = 0, value: [UInt8] = [], lease: Int64 = 0, rangeEnd: [UInt8] = []) {
        self.result = result
        self.target = target
        self.key = key
        self.version = version
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.value = value
        self.lease = lease
        self.rangeEnd = rangeEnd
    }
}

public struct RequestOp: Sendable, Hashable {
    public var requestRange: RangeRequest?
    public var requestPut: PutRequest?
    public var requestDeleteRange: DeleteRangeRequest?
    public var requestTxn: TxnRequest?

    public init() {
        self.init(requestRange: nil, requestPut: nil, requestDeleteRange: nil, requestTxn: nil)
    }

    public init(requestRange: RangeRequest? = nil, requestPut: PutRequest? = nil, requestDeleteRange: DeleteRangeRequest? = nil, requestTxn: TxnRequest? = nil) {
        self.requestRange = requestRange
        self.requestPut = requestPut
        self.requestDeleteRange = requestDeleteRange
        self.requestTxn = requestTxn
    }
}

public struct ResponseOp: Sendable, Hashable {
    public var responseRange: RangeResponse?
    public var responsePut: PutResponse?
    public var responseDeleteRange: DeleteRangeResponse?
    public var responseTxn: TxnResponse?

    public init() {
        self.init(responseRange: nil, responsePut: nil, responseDeleteRange: nil, responseTxn: nil)
    }

    public init(responseRange: RangeResponse? = nil, responsePut: PutResponse? = nil, responseDeleteRange: DeleteRangeResponse? = nil, responseTxn: TxnResponse? = nil) {
        self.responseRange = responseRange
        self.responsePut = responsePut
        self.responseDeleteRange = responseDeleteRange
        self.responseTxn = responseTxn
    }
}

public struct TxnRequest: Sendable, Hashable {
    public var compare: [Compare]
    public var success: [RequestOp]
    public var failure: [RequestOp]

    public init() {
        self.init(compare: [], success: [], failure: [])
    }

    public init(compare: [Compare] = [], success: [RequestOp] = [], failure: [RequestOp] = []) {
        self.compare = compare
        self.success = success
        self.failure = failure
    }
}

public struct TxnResponse: Sendable, Hashable {
    public var header: ResponseHeader?
    public var succeeded: Bool
    public var responses: [ResponseOp]

    public init() {
        self.init(header: nil, succeeded: false, responses: [])
    }

    public init(header: ResponseHeader? = nil, succeeded: Bool = false, responses: [ResponseOp] = []) {
        self.header = header
        self.succeeded = succeeded
        self.responses = responses
    }
}

public struct CompactionRequest: Sendable, Hashable {
    public var revision: Int64
    public var physical: Bool

    public init() {
        self.init(revision: 0, physical: false)
    }

    public init(revision: Int64 = 0, physical: Bool = false) {
        self.revision = revision
        self.physical = physical
    }
}

public struct CompactionResponse: Sendable, Hashable {
    public var header: ResponseHeader?

    public init() {
        self.init(header: nil)
    }

    public init(header: ResponseHeader? = nil) {
        self.header = header
    }
}

public enum EventType: Int32, Sendable, Hashable, CaseIterable {
    case put = 0
    case delete = 1
}

public struct Event: Sendable, Hashable {
    public var type: EventType
    public var kv: KeyValue?
    public var prevKv: KeyValue?

    public init() {
        self.init(type: .put, kv: nil, prevKv: nil)
    }

    public init(type: EventType = .put, kv: KeyValue? = nil, prevKv: KeyValue? = nil) {
        self.type = type
        self.kv = kv
        self.prevKv = prevKv
    }
}

public enum WatchFilterType: Int32, Sendable, Hashable, CaseIterable {
    case noPut = 0
    case noDelete = 1
}

public struct WatchCreateRequest: Sendable, Hashable {
    public var key: [UInt8]
    public var rangeEnd: [UInt8]
    public var startRevision: Int64
    public var progressNotify: Bool
    public var filters: [WatchFilterType]
    public var prevKv: Bool
    public var watchID: Int64
    public var fragment: Bool

    public init() {
        self.init(key: [], rangeEnd: [], startRevision: 0, progressNotify: false, filters: [], prevKv: false, watchID: 0, fragment: false)
    }

    public init(key: [UInt8] = [], rangeEnd: [UInt8] = [], startRevision: Int64 = 0, progressNotify: Bool = false, filters: [WatchFilterType] = [], prevKv: Bool = false, watchID: Int64 = 0, fragment: Bool = false) {
        self.key = key
        self.rangeEnd = rangeEnd
        self.startRevision = startRevision
        self.progressNotify = progressNotify
        self.filters = filters
        self.prevKv = prevKv
        self.watchID = watchID
        self.fragment = fragment
    }
}

public struct WatchCancelRequest: Sendable, Hashable {
    public var watchID: Int64

    public init() {
        self.init(watchID: 0)
    }

    public init(watchID: Int64 = 0) {
        self.watchID = watchID
    }
}

public struct WatchProgressRequest: Sendable, Hashable {
    public init() {
    }
}

public struct WatchRequest: Sendable, Hashable {
    public var createRequest: WatchCreateRequest?
    public var cancelRequest: WatchCancelRequest?
    public var progressRequest: WatchProgressRequest?

    public init() {
        self.init(createRequest: nil, cancelRequest: nil, progressRequest: nil)
    }

    public init(createRequest: WatchCreateRequest? = nil, cancelRequest: WatchCancelRequest? = nil, progressRequest: WatchProgressRequest? = nil) {
        self.createRequest = createRequest
        self.cancelRequest = cancelRequest
        self.progressRequest = progressRequest
    }
}

public struct WatchResponse: Sendable, Hashable {
    public var header: ResponseHeader?
    public var watchID: Int64
    public var created: Bool
    public var canceled: Bool
    public var compactRevision: Int64
    public var cancelReason: String
    public var fragment: Bool
    public var events: [Event]

    public init() {
        self.init(header: nil, watchID: 0, created: false, canceled: false, compactRevision: 0, cancelReason: "", fragment: false, events: [])
    }

    public init(header: ResponseHeader? = nil, watchID: Int64 = 0, created: Bool = false, canceled: Bool = false, compactRevision: Int64 = 0, cancelReason: String = "", fragment: Bool = false, events: [Event] = []) {
        self.header = header
        self.watchID = watchID
        self.created = created
        self.canceled = canceled
        self.compactRevision = compactRevision
        self.cancelReason = cancelReason
        self.fragment = fragment
        self.events = events
    }
}

public struct LeaseGrantRequest: Sendable, Hashable {
    public var ttl: Int64
    public var id: Int64

    public init() {
        self.init(ttl: 0, id: 0)
    }

    public init(ttl: Int64 = 0, id: Int64 = 0) {
        self.ttl = ttl
        self.id = id
    }
}

public struct LeaseGrantResponse: Sendable, Hashable {
    public var header: ResponseHeader?
    public var id: Int64
    public var ttl: Int64
    public var error: String

    public init() {
        self.init(header: nil, id: 0, ttl: 0, error: "")
    }

    public init(header: ResponseHeader? = nil, id: Int64 = 0, ttl: Int64 = 0, error: String = "") {
        self.header = header
        self.id = id
        self.ttl = ttl
        self.error = error
    }
}

public struct LeaseRevokeRequest: Sendable, Hashable {
    public var id: Int64

    public init() {
        self.init(id: 0)
    }

    public init(id: Int64 = 0) {
        self.id = id
    }
}

public struct LeaseRevokeResponse: Sendable, Hashable {
    public var header: ResponseHeader?

    public init() {
        self.init(header: nil)
    }

    public init(header: ResponseHeader? = nil) {
        self.header = header
    }
}

public struct LeaseKeepAliveRequest: Sendable, Hashable {
    public var id: Int64

    public init() {
        self.init(id: 0)
    }

    public init(id: Int64 = 0) {
        self.id = id
    }
}

public struct LeaseKeepAliveResponse: Sendable, Hashable {
    public var header: ResponseHeader?
    public var id: Int64
    public var ttl: Int64

    public init() {
        self.init(header: nil, id: 0, ttl: 0)
    }

    public init(header: ResponseHeader? = nil, id: Int64 = 0, ttl: Int64 = 0) {
        self.header = header
        self.id = id
        self.ttl = ttl
    }
}

public struct LeaseTimeToLiveRequest: Sendable, Hashable {
    public var id: Int64
    public var keys: Bool

    public init() {
        self.init(id: 0, keys: false)
    }

    public init(id: Int64 = 0, keys: Bool = false) {
        self.id = id
        self.keys = keys
    }
}

public struct LeaseTimeToLiveResponse: Sendable, Hashable {
    public var header: ResponseHeader?
    public var id: Int64
    public var ttl: Int64
    public var grantedTtl: Int64
    public var keys: [[UInt8]]

    public init() {
        self.init(header: nil, id: 0, ttl: 0, grantedTtl: 0, keys: [])
    }

    public init(header: ResponseHeader? = nil, id: Int64 = 0, ttl: Int64 = 0, grantedTtl: Int64 = 0, keys: [[UInt8]] = []) {
        self.header = header
        self.id = id
        self.ttl = ttl
        self.grantedTtl = grantedTtl
        self.keys = keys
    }
}

public struct LeaseLeasesRequest: Sendable, Hashable {
    public init() {
    }
}

public struct LeaseStatus: Sendable, Hashable {
    public var id: Int64

    public init() {
        self.init(id: 0)
    }

    public init(id: Int64 = 0) {
        self.id = id
    }
}

public struct LeaseLeasesResponse: Sendable, Hashable {
    public var header: ResponseHeader?
    public var leases: [LeaseStatus]

    public init() {
        self.init(header: nil, leases: [])
    }

    public init(header: ResponseHeader? = nil, leases: [LeaseStatus] = []) {
        self.header = header
        self.leases = leases
    }
}

public struct Command: Sendable, Hashable {
    public var requestID: UInt64
    public var put: PutRequest?
    public var deleteRange: DeleteRangeRequest?
    public var txn: TxnRequest?
    public var compaction: CompactionRequest?
    public var leaseGrant: LeaseGrantRequest?
    public var leaseRevoke: LeaseRevokeRequest?

    public init() {
        self.init(requestID: 0, put: nil, deleteRange: nil, txn: nil, compaction: nil, leaseGrant: nil, leaseRevoke: nil)
    }

    public init(requestID: UInt64 = 0, put: PutRequest? = nil, deleteRange: DeleteRangeRequest? = nil, txn: TxnRequest? = nil, compaction: CompactionRequest? = nil, leaseGrant: LeaseGrantRequest? = nil, leaseRevoke: LeaseRevokeRequest? = nil) {
        self.requestID = requestID
        self.put = put
        self.deleteRange = deleteRange
        self.txn = txn
        self.compaction = compaction
        self.leaseGrant = leaseGrant
        self.leaseRevoke = leaseRevoke
    }
}

public struct CommandResponse: Sendable, Hashable {
    public var requestID: UInt64
    public var put: PutResponse?
    public var deleteRange: DeleteRangeResponse?
    public var txn: TxnResponse?
    public var compaction: CompactionResponse?
    public var leaseGrant: LeaseGrantResponse?
    public var leaseRevoke: LeaseRevokeResponse?

    public init() {
        self.init(requestID: 0, put: nil, deleteRange: nil, txn: nil, compaction: nil, leaseGrant: nil, leaseRevoke: nil)
    }

    public init(requestID: UInt64 = 0, put: PutResponse? = nil, deleteRange: DeleteRangeResponse? = nil, txn: TxnResponse? = nil, compaction: CompactionResponse? = nil, leaseGrant: LeaseGrantResponse? = nil, leaseRevoke: LeaseRevokeResponse? = nil) {
        self.requestID = requestID
        self.put = put
        self.deleteRange = deleteRange
        self.txn = txn
        self.compaction = compaction
        self.leaseGrant = leaseGrant
        self.leaseRevoke = leaseRevoke
    }
}

public struct StoreSnapshotRecord: Sendable, Hashable {
    public var kv: KeyValue?
    public var subRevision: Int64

    public init() {
        self.init(kv: nil, subRevision: 0)
    }

    public init(kv: KeyValue? = nil, subRevision: Int64 = 0) {
        self.kv = kv
        self.subRevision = subRevision
    }
}

public struct StoreSnapshotLease: Sendable, Hashable {
    public var id: Int64
    public var ttl: Int64

    public init() {
        self.init(id: 0, ttl: 0)
    }

    public init(id: Int64 = 0, ttl: Int64 = 0) {
        self.id = id
        self.ttl = ttl
    }
}

public struct StoreSnapshot: Sendable, Hashable {
    public var formatVersion: UInt32
    public var revision: Int64
    public var compactedRevision: Int64
    public var consistentIndex: UInt64
    public var records: [StoreSnapshotRecord]
    public var leases: [StoreSnapshotLease]

    public init() {
        self.init(formatVersion: 0, revision: 0, compactedRevision: 0, consistentIndex: 0, records: [], leases: [])
    }

    public init(formatVersion: UInt32 = 0, revision: Int64 = 0, compactedRevision: Int64 = 0, consistentIndex: UInt64 = 0, records: [StoreSnapshotRecord] = [], leases: [StoreSnapshotLease] = []) {
        self.formatVersion = formatVersion
        self.revision = revision
        self.compactedRevision = compactedRevision
        self.consistentIndex = consistentIndex
        self.records = records
        self.leases = leases
    }
}
