import Wire

/// The typed methods: one per method of proto/store/cluster.proto, plus the prefix helpers.
extension StoreClient {
    // MARK: Key-value

    /// range reads keys as the request says (linearizable unless `serializable`).
    public func range(_ request: RangeRequest) async throws(StoreClientError) -> RangeResponse {
        try await unary("store.Range", request, policy: .idempotent)
    }

    /// get reads one key; nil when it does not exist (at `revision`, 0 = now).
    nonisolated(nonsending) public func get(_ key: [UInt8], revision: Int64 = 0) async throws(StoreClientError) -> KeyValue? {
        try Self.requireKey(key)
        return try await range(RangeRequest(key: key, revision: revision)).kvs.first
    }

    /// getPrefix reads every key starting with `prefix` (every key when it is empty).
    public func getPrefix(
        _ prefix: [UInt8], revision: Int64 = 0, limit: Int64 = 0, keysOnly: Bool = false, countOnly: Bool = false
    ) async throws(StoreClientError) -> RangeResponse {
        let interval = StoreKeys.prefixInterval(prefix)
        return try await range(RangeRequest(
            key: interval.key, rangeEnd: interval.rangeEnd, limit: limit, revision: revision,
            keysOnly: keysOnly, countOnly: countOnly))
    }

    public func put(_ request: PutRequest) async throws(StoreClientError) -> PutResponse {
        try Self.requireKey(request.key)
        return try await unary("store.Put", request, policy: .write)
    }

    public func put(_ key: [UInt8], _ value: [UInt8], lease: Int64 = 0, previousKeyValue: Bool = false) async throws(StoreClientError) -> PutResponse {
        try await put(PutRequest(key: key, value: value, lease: lease, prevKv: previousKeyValue))
    }

    public func delete(_ request: DeleteRangeRequest) async throws(StoreClientError) -> DeleteRangeResponse {
        try Self.requireKey(request.key)
        return try await unary("store.DeleteRange", request, policy: .write)
    }

    /// delete removes one key.
    public func delete(_ key: [UInt8], previousKeyValue: Bool = false) async throws(StoreClientError) -> DeleteRangeResponse {
        try await delete(DeleteRangeRequest(key: key, prevKv: previousKeyValue))
    }

    /// deletePrefix removes every key starting with `prefix`. An empty prefix is refused: it
    /// would delete the whole store, which nobody means by accident-prone default arguments.
    public func deletePrefix(_ prefix: [UInt8], previousKeyValues: Bool = false) async throws(StoreClientError) -> DeleteRangeResponse {
        guard !prefix.isEmpty else {
            throw .invalidArgument("deletePrefix: the prefix is empty, which would delete every key; pass a non-empty prefix")
        }
        let interval = StoreKeys.prefixInterval(prefix)
        return try await delete(DeleteRangeRequest(key: interval.key, rangeEnd: interval.rangeEnd, prevKv: previousKeyValues))
    }

    nonisolated(nonsending) public func txn(_ request: TxnRequest) async throws(StoreClientError) -> TxnResponse {
        try await unary("store.Txn", request, policy: Self.isReadOnly(request) ? .idempotent : .write)
    }

    /// Puts one key if `write`'s guard holds (GuardedPut: the API server's create and update),
    /// sent as bytes encoded directly.
    nonisolated(nonsending) public func txn(_ write: GuardedPut) async throws(StoreClientError) -> TxnResponse {
        try Self.requireKey(write.key)
        return try await unary("store.Txn", encoded: write.encoded(), policy: .write)
    }

    public func compact(_ revision: Int64, physical: Bool = false) async throws(StoreClientError) -> CompactionResponse {
        guard revision > 0 else {
            throw .invalidArgument("compact: revision \(revision) must be positive (see the revision in `agentctl store status`)")
        }
        return try await unary("store.Compact", CompactionRequest(revision: revision, physical: physical), policy: .write)
    }

    // MARK: Leases

    public func leaseGrant(ttlSeconds: Int64, id: Int64 = 0) async throws(StoreClientError) -> LeaseGrantResponse {
        guard ttlSeconds > 0 else {
            throw .invalidArgument("lease grant: TTL \(ttlSeconds) must be a positive number of seconds")
        }
        return try await unary("store.LeaseGrant", LeaseGrantRequest(ttl: ttlSeconds, id: id), policy: .write)
    }

    public func leaseRevoke(_ id: Int64) async throws(StoreClientError) -> LeaseRevokeResponse {
        try await unary("store.LeaseRevoke", LeaseRevokeRequest(id: id), policy: .write)
    }

    /// leaseKeepAlive renews a lease once; renewing twice is harmless, so it is retried freely.
    public func leaseKeepAlive(_ id: Int64) async throws(StoreClientError) -> LeaseKeepAliveResponse {
        try await unary("store.LeaseKeepAlive", LeaseKeepAliveRequest(id: id), policy: .idempotent)
    }

    public func leaseTimeToLive(_ id: Int64, keys: Bool = false) async throws(StoreClientError) -> LeaseTimeToLiveResponse {
        try await unary("store.LeaseTimeToLive", LeaseTimeToLiveRequest(id: id, keys: keys), policy: .idempotent)
    }

    public func leases() async throws(StoreClientError) -> LeaseLeasesResponse {
        try await unary("store.LeaseLeases", LeaseLeasesRequest(), policy: .idempotent)
    }

    // MARK: Cluster

    public func memberList() async throws(StoreClientError) -> MemberListResponse {
        try await unary("store.MemberList", MemberListRequest(), policy: .idempotent)
    }

    public func memberAdd(name: String, peerAddress: String, isLearner: Bool = false) async throws(StoreClientError) -> MemberAddResponse {
        try await unary(
            "store.MemberAdd", MemberAddRequest(name: name, peerAddress: peerAddress, isLearner: isLearner), policy: .write)
    }

    public func memberRemove(_ id: UInt64) async throws(StoreClientError) -> MemberRemoveResponse {
        try await unary("store.MemberRemove", MemberRemoveRequest(id: id), policy: .write)
    }

    public func memberPromote(_ id: UInt64) async throws(StoreClientError) -> MemberPromoteResponse {
        try await unary("store.MemberPromote", MemberPromoteRequest(id: id), policy: .write)
    }

    /// status asks one member about itself: no failover, the answer is about that member. The
    /// endpoint need not be in `endpoints`; use `StoreClient(endpoints: [address], ...)` for one
    /// that is not.
    public func status(_ endpoint: SocketAddress) async throws(StoreClientError) -> StatusResponse {
        guard let index = endpoints.firstIndex(of: endpoint) else {
            throw .invalidArgument("status: \(endpoint) is not one of this client's endpoints (\(endpoints.map(\.description).joined(separator: ", ")))")
        }
        return try await unary("store.Status", StatusRequest(), policy: .idempotent, endpoint: index)
    }

    // MARK: Helpers

    static func requireKey(_ key: [UInt8]) throws(StoreClientError) {
        if key.isEmpty { throw .invalidArgument("the key is empty; give a non-empty key") }
    }

    /// isReadOnly is true for a transaction whose branches only read: repeating it is harmless.
    static func isReadOnly(_ request: TxnRequest) -> Bool {
        func readOnly(_ operations: [RequestOp]) -> Bool {
            operations.allSatisfy { operation in
                if operation.requestRange != nil { return true }
                if let nested = operation.requestTxn { return isReadOnly(nested) }
                return false
            }
        }
        return readOnly(request.success) && readOnly(request.failure)
    }
}
