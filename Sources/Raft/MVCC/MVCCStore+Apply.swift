/// WriteContext is one write transaction in progress: every change it makes gets `revision`
/// and the next sub-revision. The store's `revision` becomes `revision` when the transaction
/// ends with at least one change.
struct WriteContext {
    let revision: Int64
    var changes: Int32 = 0

    /// readRevision is what reads inside the transaction see: its own earlier writes included.
    var readRevision: Int64 { changes > 0 ? revision : revision - 1 }
}

extension MVCCStore {
    /// apply executes one committed command at Raft index `index` and returns its response, or
    /// throws when the request is invalid (then nothing but `consistentIndex` changes). Indexes
    /// must grow: the driver applies each committed entry once, in log order.
    public func apply(_ command: Command, index: UInt64) throws(StoreError) -> CommandResponse {
        precondition(index > consistentIndex, "MVCCStore: index \(index) applied after \(consistentIndex)")
        consistentIndex = index
        var response = CommandResponse(requestID: command.requestID)
        let operations = (command.put != nil ? 1 : 0) + (command.deleteRange != nil ? 1 : 0)
            + (command.txn != nil ? 1 : 0) + (command.compaction != nil ? 1 : 0)
            + (command.leaseGrant != nil ? 1 : 0) + (command.leaseRevoke != nil ? 1 : 0)
        if operations != 1 {
            throw .malformedCommand(reason: "a command carries exactly one operation, this one has \(operations)")
        }
        if let put = command.put {
            response.put = try applyPut(put)
        } else if let deleteRange = command.deleteRange {
            response.deleteRange = try applyDeleteRange(deleteRange)
        } else if let txn = command.txn {
            response.txn = try applyTxn(txn)
        } else if let compaction = command.compaction {
            response.compaction = try applyCompaction(compaction)
        } else if let grant = command.leaseGrant {
            response.leaseGrant = try applyLeaseGrant(grant, index: index)
        } else if let revoke = command.leaseRevoke {
            response.leaseRevoke = try applyLeaseRevoke(revoke)
        }
        return response
    }

    // MARK: Put and delete

    func applyPut(_ request: PutRequest) throws(StoreError) -> PutResponse {
        try validatePut(request)
        try reserveRecords(1)
        var context = WriteContext(revision: revision + 1)
        var response = executePut(request, context: &context)
        finish(context)
        response.header = ResponseHeader(revision: revision)
        return response
    }

    func applyDeleteRange(_ request: DeleteRangeRequest) throws(StoreError) -> DeleteRangeResponse {
        if request.key.isEmpty { throw .emptyKey(operation: "delete range") }
        try reserveRecords(liveKeyCount)
        var context = WriteContext(revision: revision + 1)
        var response = executeDeleteRange(request, context: &context)
        finish(context)
        response.header = ResponseHeader(revision: revision)
        return response
    }

    func reserveRecords(_ additional: Int) throws(StoreError) {
        if records.count + additional > MVCCLimits.maximumRecords {
            throw .storeFull(records: records.count, limit: MVCCLimits.maximumRecords)
        }
    }

    /// finish ends a write transaction: the revision moves only when something changed.
    func finish(_ context: WriteContext) {
        if context.changes > 0 {
            precondition(context.revision == revision + 1, "MVCCStore: write transactions overlap")
            revision = context.revision
        }
    }

    func validatePut(_ request: PutRequest) throws(StoreError) {
        if request.key.isEmpty { throw .emptyKey(operation: "put") }
        if request.value.count > MVCCLimits.maximumValueBytes {
            throw .valueTooLarge(key: request.key, sizeBytes: request.value.count, limitBytes: MVCCLimits.maximumValueBytes)
        }
        if request.ignoreValue && !request.value.isEmpty { throw .valueProvidedWithIgnoreValue(key: request.key) }
        if request.ignoreLease && request.lease != 0 { throw .leaseProvidedWithIgnoreLease(key: request.key) }
        if request.lease != 0 && leases[request.lease] == nil { throw .leaseNotFound(leaseID: request.lease) }
        if request.ignoreValue || request.ignoreLease, liveRecord(of: request.key) == nil {
            throw .keyNotFound(key: request.key, option: request.ignoreValue ? "ignore_value" : "ignore_lease")
        }
    }

    /// executePut writes a validated put.
    func executePut(_ request: PutRequest, context: inout WriteContext) -> PutResponse {
        let found = keyIndex.find(request.key)
        var previousLive: VersionRecord?
        if let newest = found.record, !records[Int(newest)].isTombstone {
            previousLive = records[Int(newest)]
        }
        var record = VersionRecord(
            key: request.key, value: request.value, revision: context.revision,
            createRevision: context.revision, version: 1, lease: request.lease,
            previous: found.record ?? -1, subRevision: context.changes)
        if let newest = found.record {
            record.key = records[Int(newest)].key  // one key buffer shared by all versions
        }
        if let previousLive {
            record.createRevision = previousLive.createRevision
            record.version = previousLive.version + 1
            if request.ignoreValue { record.value = previousLive.value }
            if request.ignoreLease { record.lease = previousLive.lease }
        } else {
            liveKeyCount += 1
        }
        let index = Int32(records.count)
        records.append(record)
        context.changes += 1
        if found.record != nil {
            keyIndex.setRecord(index, at: found.position)
        } else {
            keyIndex.insert(record.key, record: index, at: found.position)
        }
        let previousLease = previousLive?.lease ?? 0
        if previousLease != record.lease {
            if previousLease != 0 { leases[previousLease]?.keys.remove(record.key) }
            if record.lease != 0 {
                precondition(leases[record.lease] != nil, "MVCCStore: put attached to a lease that validation did not find")
                leases[record.lease]!.keys.insert(record.key)
            }
        }
        if recordsEvents {
            pendingEvents.append(Event(type: .put, kv: record.keyValue(), prevKv: previousLive?.keyValue()))
        }
        var response = PutResponse()
        if request.prevKv, let previousLive { response.prevKv = previousLive.keyValue() }
        return response
    }

    /// executeDeleteRange deletes every live key of the interval with one tombstone each.
    func executeDeleteRange(_ request: DeleteRangeRequest, context: inout WriteContext) -> DeleteRangeResponse {
        let interval = KeyInterval(key: request.key, rangeEnd: request.rangeEnd)
        var doomed: [(position: SortedKeyIndex.Position, record: Int32)] = []
        keyIndex.forEach(in: interval) { position, _, newest in
            if !records[Int(newest)].isTombstone { doomed.append((position, newest)) }
            return true
        }
        var response = DeleteRangeResponse(deleted: Int64(doomed.count))
        for (position, newest) in doomed {
            let previous = records[Int(newest)]
            deleteLive(previous, newest: newest, at: position, context: &context)
            if request.prevKv { response.prevKvs.append(previous.keyValue()) }
        }
        return response
    }

    /// deleteLive writes the tombstone of one live key.
    func deleteLive(_ previous: VersionRecord, newest: Int32, at position: SortedKeyIndex.Position, context: inout WriteContext) {
        precondition(!previous.isTombstone, "MVCCStore: deleting a key that is already deleted")
        let tombstone = VersionRecord(
            key: previous.key, value: [], revision: context.revision, createRevision: 0, version: 0,
            lease: 0, previous: newest, subRevision: context.changes)
        let index = Int32(records.count)
        records.append(tombstone)
        context.changes += 1
        keyIndex.setRecord(index, at: position)
        liveKeyCount -= 1
        if previous.lease != 0 { leases[previous.lease]?.keys.remove(previous.key) }
        if recordsEvents {
            pendingEvents.append(
                Event(type: .delete, kv: KeyValue(key: previous.key, modRevision: context.revision), prevKv: previous.keyValue()))
        }
    }

    // MARK: Leases

    func applyLeaseGrant(_ request: LeaseGrantRequest, index: UInt64) throws(StoreError) -> LeaseGrantResponse {
        if request.ttl > MVCCLimits.maximumLeaseTTLSeconds {
            throw .leaseTTLTooLarge(ttlSeconds: request.ttl, limitSeconds: MVCCLimits.maximumLeaseTTLSeconds)
        }
        var id = request.id
        if id == 0 {
            // Deterministic choice from the Raft index, so every member picks the same id.
            id = max(1, Int64(truncatingIfNeeded: index & UInt64(Int64.max)))
            while leases[id] != nil { id = id == Int64.max ? 1 : id + 1 }
        } else if leases[id] != nil {
            throw .leaseExists(leaseID: id)
        }
        let ttl = max(request.ttl, configuration.minimumLeaseTTLSeconds)
        leases[id] = LeaseRecord(ttlSeconds: ttl, keys: [])
        return LeaseGrantResponse(header: ResponseHeader(revision: revision), id: id, ttl: ttl)
    }

    /// applyLeaseRevoke ends a lease and deletes its keys in key order at one revision.
    func applyLeaseRevoke(_ request: LeaseRevokeRequest) throws(StoreError) -> LeaseRevokeResponse {
        guard let lease = leases[request.id] else { throw .leaseNotFound(leaseID: request.id) }
        try reserveRecords(lease.keys.count)
        var context = WriteContext(revision: revision + 1)
        for key in lease.keys.sorted(by: { compareBytes($0, $1) < 0 }) {
            let found = keyIndex.find(key)
            guard let newest = found.record else {
                preconditionFailure("MVCCStore: lease \(request.id) holds key \(printableKey(key)) missing from the index")
            }
            deleteLive(records[Int(newest)], newest: newest, at: found.position, context: &context)
        }
        leases[request.id] = nil
        finish(context)
        return LeaseRevokeResponse(header: ResponseHeader(revision: revision))
    }

    /// lease describes one lease: its granted TTL and attached keys in key order; nil when absent.
    public func lease(_ id: Int64) -> (ttlSeconds: Int64, keys: [[UInt8]])? {
        guard let lease = leases[id] else { return nil }
        return (lease.ttlSeconds, lease.keys.sorted { compareBytes($0, $1) < 0 })
    }
}
