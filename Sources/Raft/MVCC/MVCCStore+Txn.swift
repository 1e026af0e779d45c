/// TxnPlan is a transaction with its branch chosen. Like etcd, the compares of the transaction
/// and of every nested transaction on the chosen path are evaluated against the state before
/// the transaction writes anything.
struct TxnPlan {
    var succeeded: Bool
    var operations: [RequestOp]
    /// The plans of the nested transactions among `operations`, in order.
    var nested: [TxnPlan]
}

extension MVCCStore {
    func applyTxn(_ request: TxnRequest) throws(StoreError) -> TxnResponse {
        let plan = try makePlan(request)
        var putKeys = Set<[UInt8]>()
        var deletes: [KeyInterval] = []
        var writes = 0
        try validate(plan, putKeys: &putKeys, deletes: &deletes, writes: &writes)
        for key in putKeys where deletes.contains(where: { $0.contains(key) }) {
            throw .duplicateKeyInTransaction(key: key)
        }
        try reserveRecords(writes)
        var context = WriteContext(revision: revision + 1)
        var response = execute(plan, context: &context)
        finish(context)
        Self.stamp(&response, revision: revision)
        return response
    }

    func makePlan(_ request: TxnRequest) throws(StoreError) -> TxnPlan {
        var succeeded = true
        for compare in request.compare where !evaluate(compare) {
            succeeded = false
            break
        }
        let operations = succeeded ? request.success : request.failure
        if operations.count > MVCCLimits.maximumTransactionOperations {
            throw .tooManyTransactionOperations(count: operations.count, limit: MVCCLimits.maximumTransactionOperations)
        }
        var nested: [TxnPlan] = []
        for operation in operations {
            let set = (operation.requestRange != nil ? 1 : 0) + (operation.requestPut != nil ? 1 : 0)
                + (operation.requestDeleteRange != nil ? 1 : 0) + (operation.requestTxn != nil ? 1 : 0)
            if set != 1 {
                throw .malformedCommand(reason: "a transaction operation carries exactly one request, this one has \(set)")
            }
            if let inner = operation.requestTxn { nested.append(try makePlan(inner)) }
        }
        return TxnPlan(succeeded: succeeded, operations: operations, nested: nested)
    }

    /// validate checks every operation of the chosen path before anything is written, so a
    /// transaction applies whole or not at all.
    func validate(_ plan: TxnPlan, putKeys: inout Set<[UInt8]>, deletes: inout [KeyInterval], writes: inout Int) throws(StoreError) {
        var nestedIndex = 0
        for operation in plan.operations {
            if let range = operation.requestRange {
                if range.key.isEmpty { throw .emptyKey(operation: "range in a transaction") }
                if range.revision > 0 { try checkReadable(range.revision) }
            } else if let put = operation.requestPut {
                try validatePut(put)
                if !putKeys.insert(put.key).inserted { throw .duplicateKeyInTransaction(key: put.key) }
                writes += 1
            } else if let delete = operation.requestDeleteRange {
                if delete.key.isEmpty { throw .emptyKey(operation: "delete range in a transaction") }
                deletes.append(KeyInterval(key: delete.key, rangeEnd: delete.rangeEnd))
                writes += liveKeyCount
            } else {
                try validate(plan.nested[nestedIndex], putKeys: &putKeys, deletes: &deletes, writes: &writes)
                nestedIndex += 1
            }
        }
    }

    func execute(_ plan: TxnPlan, context: inout WriteContext) -> TxnResponse {
        var response = TxnResponse(succeeded: plan.succeeded)
        response.responses.reserveCapacity(plan.operations.count)
        var nestedIndex = 0
        for operation in plan.operations {
            if let range = operation.requestRange {
                let readRevision = range.revision > 0 ? range.revision : context.readRevision
                response.responses.append(ResponseOp(responseRange: rangeUnchecked(range, at: readRevision)))
            } else if let put = operation.requestPut {
                response.responses.append(ResponseOp(responsePut: executePut(put, context: &context)))
            } else if let delete = operation.requestDeleteRange {
                response.responses.append(ResponseOp(responseDeleteRange: executeDeleteRange(delete, context: &context)))
            } else {
                response.responses.append(ResponseOp(responseTxn: execute(plan.nested[nestedIndex], context: &context)))
                nestedIndex += 1
            }
        }
        return response
    }

    /// stamp sets the header revision of a transaction response and of every response in it.
    static func stamp(_ response: inout TxnResponse, revision: Int64) {
        response.header = ResponseHeader(revision: revision)
        for index in response.responses.indices {
            if response.responses[index].responseRange != nil {
                response.responses[index].responseRange!.header = ResponseHeader(revision: revision)
            } else if response.responses[index].responsePut != nil {
                response.responses[index].responsePut!.header = ResponseHeader(revision: revision)
            } else if response.responses[index].responseDeleteRange != nil {
                response.responses[index].responseDeleteRange!.header = ResponseHeader(revision: revision)
            } else if response.responses[index].responseTxn != nil {
                stamp(&response.responses[index].responseTxn!, revision: revision)
            }
        }
    }

    /// evaluate checks one compare against the current state. A missing key compares as zeros,
    /// except that a value compare on a missing key is false (an empty value and no key differ).
    /// With an interval, every existing key of it must satisfy the compare.
    func evaluate(_ compare: Compare) -> Bool {
        let interval = KeyInterval(key: compare.key, rangeEnd: compare.rangeEnd)
        var anyKey = false
        var holds = true
        keyIndex.forEach(in: interval) { _, _, newest in
            let record = records[Int(newest)]
            if record.isTombstone { return true }
            anyKey = true
            holds = Self.compare(record, compare)
            return holds
        }
        if anyKey { return holds }
        if compare.target == .value { return false }
        let missing = VersionRecord(
            key: compare.key, value: [], revision: 0, createRevision: 0, version: 0, lease: 0, previous: -1,
            subRevision: 0)
        return Self.compare(missing, compare)
    }

    static func compare(_ record: VersionRecord, _ compare: Compare) -> Bool {
        let order: Int
        switch compare.target {
        case .version: order = Self.order(record.version, compare.version)
        case .create: order = Self.order(record.createRevision, compare.createRevision)
        case .mod: order = Self.order(record.revision, compare.modRevision)
        case .lease: order = Self.order(record.lease, compare.lease)
        case .value: order = compareBytes(record.value, compare.value)
        }
        switch compare.result {
        case .equal: return order == 0
        case .notEqual: return order != 0
        case .greater: return order > 0
        case .less: return order < 0
        }
    }

    @inline(__always)
    static func order(_ left: Int64, _ right: Int64) -> Int {
        left < right ? -1 : (left == right ? 0 : 1)
    }
}
