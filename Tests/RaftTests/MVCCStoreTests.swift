import Testing
@testable import Raft

/// etcd v3 semantics of the MVCC store: revisions, versions, ranges, transactions, leases, limits.
@Suite("MVCC store semantics")
struct MVCCStoreTests {
    @Test("an empty store is at revision 1 and each write moves the revision by one")
    func revisions() throws {
        let store = MVCCStore()
        #expect(store.revision == 1)
        #expect(try store.put("a", "1").header?.revision == 2)
        try store.put("a", "2")
        try store.put("b", "1")
        #expect(store.revision == 4)
        let a = try store.get("a").kvs[0]
        #expect(a.createRevision == 2 && a.modRevision == 3 && a.version == 2 && text(a.value) == "2")
        // Reads and deletes of nothing do not move the revision.
        _ = try store.get("a")
        #expect(try store.delete("missing").deleted == 0)
        #expect(store.revision == 4)
    }

    @Test("delete resets the version; a re-created key gets a new create revision")
    func recreate() throws {
        let store = MVCCStore()
        try store.put("k", "1")  // 2
        try store.put("k", "2")  // 3
        #expect(try store.delete("k", prevKV: true).prevKvs.map { text($0.value) } == ["2"])  // 4
        #expect(try store.get("k").count == 0)
        try store.put("k", "3")  // 5
        let kv = try store.get("k").kvs[0]
        #expect(kv.createRevision == 5 && kv.version == 1 && kv.modRevision == 5)
        #expect(try store.get("k", revision: 3).kvs[0].version == 2)
        #expect(try store.get("k", revision: 4).kvs.isEmpty)
        #expect(try store.get("k", revision: 1).kvs.isEmpty)
    }

    @Test("put returns the previous version when asked")
    func putPrevious() throws {
        let store = MVCCStore()
        #expect(try store.put("k", "1", prevKV: true).prevKv == nil)
        let previous = try store.put("k", "2", prevKV: true).prevKv
        #expect(previous.map { text($0.value) } == "1")
        #expect(previous?.modRevision == 2)
    }

    @Test("reads before the compacted revision or after the current one fail with clear errors")
    func compactedAndFuture() throws {
        let store = MVCCStore()
        for value in 1...5 { try store.put("k", "\(value)") }  // revisions 2...6
        try store.compact(4)
        #expect(throws: StoreError.compacted(requestedRevision: 3, compactedRevision: 4)) { try store.get("k", revision: 3) }
        #expect(throws: StoreError.futureRevision(requestedRevision: 7, currentRevision: 6)) { try store.get("k", revision: 7) }
        #expect(text(try store.get("k", revision: 4).kvs[0].value) == "3")
        #expect(text(try store.get("k", revision: 5).kvs[0].value) == "4")
        let message = StoreError.compacted(requestedRevision: 3, compactedRevision: 4).description
        #expect(message.contains("mvcc: required revision has been compacted") && message.contains("3") && message.contains("4"))
        #expect(StoreError.futureRevision(requestedRevision: 7, currentRevision: 6).description.contains("future revision"))
        // Compacting again at or below the compacted revision, or in the future, is refused.
        #expect(throws: StoreError.compacted(requestedRevision: 4, compactedRevision: 4)) { try store.compact(4) }
        #expect(throws: StoreError.futureRevision(requestedRevision: 9, currentRevision: 6)) { try store.compact(9) }
    }

    @Test("compaction drops old versions and deleted keys but keeps the newest version of each key")
    func compaction() throws {
        let store = MVCCStore()
        try store.put("a", "1")  // 2
        try store.put("a", "2")  // 3
        try store.put("b", "1")  // 4
        try store.delete("b")  // 5
        try store.put("c", "1")  // 6
        try store.delete("c")  // 7
        #expect(store.recordCount == 6)
        try store.compact(6)
        // a@3 stays, a@2 goes; b's tombstone at 5 < 6 goes with its history; c@6 stays, c's tombstone at 7 stays.
        #expect(store.recordCount == 3)
        #expect(try store.everything(at: 6).map { text($0.key) } == ["a", "c"])
        #expect(try store.everything(at: 7).map { text($0.key) } == ["a"])
        try store.put("b", "2")
        #expect(try store.get("b").kvs[0].createRevision == 8)
    }

    @Test("range: prefix, interval, all keys, limit with more, count only, keys only, sort")
    func rangeShapes() throws {
        let store = MVCCStore()
        for key in ["/a/1", "/a/2", "/a/3", "/b/1", "/c"] { try store.put(key, "value of \(key)") }
        #expect(try store.getPrefix("/a/").kvs.map { text($0.key) } == ["/a/1", "/a/2", "/a/3"])
        #expect(try store.get("/a/2", end: "/b/2").kvs.map { text($0.key) } == ["/a/2", "/a/3", "/b/1"])
        #expect(try store.get("/b", end: "\0").kvs.map { text($0.key) } == ["/b/1", "/c"])
        #expect(try store.everything(at: 0).count == 5)

        let limited = try store.range(RangeRequest(key: bytes("/"), rangeEnd: bytes("0"), limit: 2))
        #expect(limited.kvs.map { text($0.key) } == ["/a/1", "/a/2"] && limited.more && limited.count == 5)
        let exact = try store.range(RangeRequest(key: bytes("/"), rangeEnd: bytes("0"), limit: 5))
        #expect(!exact.more && exact.kvs.count == 5)

        let counted = try store.range(RangeRequest(key: bytes("/a/"), rangeEnd: bytes("/a0"), countOnly: true))
        #expect(counted.count == 3 && counted.kvs.isEmpty)
        let keysOnly = try store.range(RangeRequest(key: bytes("/a/1"), keysOnly: true))
        #expect(keysOnly.kvs[0].value.isEmpty && keysOnly.kvs[0].version == 1)

        let descending = try store.range(
            RangeRequest(key: bytes("/"), rangeEnd: bytes("0"), limit: 2, sortOrder: .descend, sortTarget: .key))
        #expect(descending.kvs.map { text($0.key) } == ["/c", "/b/1"] && descending.more)
        try store.put("/a/1", "again")
        let byModification = try store.range(
            RangeRequest(key: bytes("/a/"), rangeEnd: bytes("/a0"), sortOrder: .descend, sortTarget: .mod))
        #expect(byModification.kvs.map { text($0.key) } == ["/a/1", "/a/3", "/a/2"])
        let created = try store.range(RangeRequest(key: bytes("/"), rangeEnd: bytes("0"), minModRevision: 6))
        #expect(created.kvs.map { text($0.key) } == ["/a/1", "/c"])
    }

    @Test("txn compares each target and runs then or else at one revision")
    func transactionCompares() throws {
        let store = MVCCStore()
        let lease = try store.grant(id: 7).id
        try store.put("k", "v1")  // 2
        try store.put("k", "v2", lease: lease)  // 3: version 2, create 2, mod 3
        func holds(_ compare: Compare) throws -> Bool {
            try store.txn(TxnRequest(compare: [compare], success: [rangeOp("k")], failure: [])).succeeded
        }
        let key = bytes("k")
        #expect(try holds(Compare(result: .equal, target: .version, key: key, version: 2)))
        #expect(try holds(Compare(result: .greater, target: .version, key: key, version: 1)))
        #expect(try !holds(Compare(result: .less, target: .version, key: key, version: 2)))
        #expect(try holds(Compare(result: .equal, target: .create, key: key, createRevision: 2)))
        #expect(try holds(Compare(result: .equal, target: .mod, key: key, modRevision: 3)))
        #expect(try holds(Compare(result: .notEqual, target: .mod, key: key, modRevision: 2)))
        #expect(try holds(Compare(result: .equal, target: .value, key: key, value: bytes("v2"))))
        #expect(try holds(Compare(result: .greater, target: .value, key: key, value: bytes("v1"))))
        #expect(try holds(Compare(result: .equal, target: .lease, key: key, lease: 7)))
        // A missing key has version 0 ... but never equals a value.
        #expect(try holds(Compare(result: .equal, target: .version, key: bytes("none"), version: 0)))
        #expect(try !holds(Compare(result: .equal, target: .value, key: bytes("none"), value: [])))
        // With an interval every key must hold.
        try store.put("l", "v1")
        #expect(try holds(Compare(result: .greater, target: .create, key: key, createRevision: 1, rangeEnd: bytes("m"))))
        #expect(try !holds(Compare(result: .equal, target: .version, key: key, version: 2, rangeEnd: bytes("m"))))
        #expect(store.revision == 4)

        let response = try store.txn(
            TxnRequest(
                compare: [Compare(result: .equal, target: .value, key: key, value: bytes("wrong"))],
                success: [putOp("then", "1")],
                failure: [putOp("else1", "1"), putOp("else2", "1"), rangeOp("else1"), deleteOp("l")]))
        #expect(!response.succeeded)
        #expect(response.header?.revision == 5 && store.revision == 5)
        #expect(response.responses.count == 4)
        // Reads inside the transaction see its earlier writes.
        #expect(response.responses[2].responseRange?.kvs.map { text($0.value) } == ["1"])
        #expect(response.responses[3].responseDeleteRange?.deleted == 1)
        #expect(try store.get("then").count == 0)
        #expect(try store.get("else2").kvs[0].modRevision == 5)
    }

    @Test("txn refuses a key written twice and validates every operation before writing")
    func transactionValidation() throws {
        let store = MVCCStore()
        #expect(throws: StoreError.duplicateKeyInTransaction(key: bytes("a"))) {
            try store.txn(TxnRequest(success: [putOp("a", "1"), putOp("a", "2")]))
        }
        #expect(throws: StoreError.duplicateKeyInTransaction(key: bytes("b"))) {
            try store.txn(TxnRequest(success: [deleteOp("a", end: "c"), putOp("b", "2")]))
        }
        #expect(throws: StoreError.leaseNotFound(leaseID: 99)) {
            try store.txn(TxnRequest(success: [putOp("a", "1"), putOp("b", "1", lease: 99)]))
        }
        #expect(store.revision == 1 && store.liveKeyCount == 0)
        let nested = try store.txn(
            TxnRequest(success: [putOp("x", "1"), RequestOp(requestTxn: TxnRequest(success: [putOp("y", "1")]))]))
        #expect(nested.responses[1].responseTxn?.succeeded == true)
        #expect(try store.get("y").kvs[0].modRevision == 2 && store.revision == 2)
    }

    @Test("a lease revoke deletes its keys at one revision; puts move keys between leases")
    func leases() throws {
        let store = MVCCStore(configuration: MVCCConfiguration(minimumLeaseTTLSeconds: 5))
        let granted = try store.grant(id: 0, ttl: 2)
        #expect(granted.ttl == 5 && granted.id != 0)
        let other = try store.grant(id: 42).id
        #expect(throws: StoreError.leaseExists(leaseID: 42)) { try store.grant(id: 42) }
        try store.put("a", "1", lease: granted.id)
        try store.put("b", "1", lease: granted.id)
        try store.put("c", "1", lease: granted.id)
        try store.put("c", "2", lease: other)  // moves c to the other lease
        try store.put("d", "1")
        #expect(store.lease(granted.id)?.keys.map(text) == ["a", "b"])
        let before = store.revision
        try store.revoke(id: granted.id)
        #expect(store.revision == before + 1)
        #expect(try store.everything(at: 0).map { text($0.key) } == ["c", "d"])
        #expect(store.lease(granted.id) == nil)
        #expect(throws: StoreError.leaseNotFound(leaseID: granted.id)) { try store.revoke(id: granted.id) }
        #expect(throws: StoreError.leaseNotFound(leaseID: granted.id)) { try store.put("e", "1", lease: granted.id) }
        #expect(StoreError.leaseNotFound(leaseID: 5).description.contains("lease 5"))
        // A revoke of a lease without keys does not move the revision.
        let empty = try store.grant(id: 43).id
        try store.revoke(id: empty)
        #expect(store.revision == before + 1)
    }

    @Test("ignore_value and ignore_lease keep the current value or lease of an existing key")
    func ignoreValueAndLease() throws {
        let store = MVCCStore()
        let lease = try store.grant(id: 3).id
        try store.put("k", "v", lease: lease)
        _ = try store.apply(Command(put: PutRequest(key: bytes("k"), value: bytes("w"), ignoreLease: true)), index: store.nextIndex)
        #expect(try store.get("k").kvs[0].lease == lease)
        _ = try store.apply(Command(put: PutRequest(key: bytes("k"), ignoreValue: true)), index: store.nextIndex)
        #expect(text(try store.get("k").kvs[0].value) == "w")
        #expect(throws: StoreError.keyNotFound(key: bytes("none"), option: "ignore_value")) {
            _ = try store.apply(Command(put: PutRequest(key: bytes("none"), ignoreValue: true)), index: store.nextIndex)
        }
        #expect(throws: StoreError.valueProvidedWithIgnoreValue(key: bytes("k"))) {
            _ = try store.apply(Command(put: PutRequest(key: bytes("k"), value: [1], ignoreValue: true)), index: store.nextIndex)
        }
    }

    @Test("a value above 1.5 MiB is refused with the key, its size and the limit")
    func valueLimit() throws {
        let store = MVCCStore()
        let limit = MVCCLimits.maximumValueBytes
        #expect(limit == 1_572_864)
        _ = try store.apply(Command(put: PutRequest(key: bytes("big"), value: [UInt8](repeating: 1, count: limit))), index: store.nextIndex)
        let tooBig = [UInt8](repeating: 1, count: limit + 1)
        do {
            _ = try store.apply(Command(put: PutRequest(key: bytes("bigger"), value: tooBig)), index: store.nextIndex)
            Issue.record("a value above the limit was accepted")
        } catch {
            #expect(error == .valueTooLarge(key: bytes("bigger"), sizeBytes: limit + 1, limitBytes: limit))
            #expect(error.description.contains("\"bigger\"") && error.description.contains("1572865")
                && error.description.contains("1572864"))
        }
        #expect(store.revision == 2)
    }

    @Test("malformed commands and empty keys are refused, and still consume the index")
    func malformed() throws {
        let store = MVCCStore()
        #expect(throws: StoreError.malformedCommand(reason: "a command carries exactly one operation, this one has 0")) {
            _ = try store.apply(Command(requestID: 1), index: 1)
        }
        #expect(store.consistentIndex == 1)
        #expect(throws: StoreError.emptyKey(operation: "put")) { try store.put("", "x") }
        #expect(throws: StoreError.emptyKey(operation: "range")) { try store.get("") }
        let response = try store.apply(Command(requestID: 77, put: PutRequest(key: bytes("k"))), index: 10)
        #expect(response.requestID == 77 && store.consistentIndex == 10)
        store.markApplied(index: 11)
        #expect(store.consistentIndex == 11)
    }

    @Test("the key index keeps order across many chunk splits")
    func manyKeys() throws {
        let store = MVCCStore()
        var generator = SplitMix64(seed: 5)
        var expected = Set<String>()
        for _ in 0..<5000 {
            let key = "key-\(generator.next() % 20000)"
            expected.insert(key)
            try store.put(key, "v")
        }
        let keys = try store.everything(at: 0).map { text($0.key) }
        #expect(keys == expected.sorted { bytes($0).lexicographicallyPrecedes(bytes($1)) })
        #expect(try store.getPrefix("key-1").count == Int64(expected.filter { $0.hasPrefix("key-1") }.count))
    }
}

@Suite("Lease expiry tracker")
struct LeaseExpiryTrackerTests {
    let second: UInt64 = 1_000_000_000

    @Test("leases expire after their TTL; keep-alives push the deadline; promote restarts every deadline")
    func expiry() {
        var tracker = LeaseExpiryTracker(retryIntervalNanoseconds: 2 * second)
        tracker.promote(leases: [], nowNanoseconds: 0)
        tracker.grant(id: 1, ttlSeconds: 5, nowNanoseconds: 0)
        tracker.grant(id: 2, ttlSeconds: 10, nowNanoseconds: 0)
        #expect(tracker.expiredLeases(nowNanoseconds: 4 * second).isEmpty)
        #expect(tracker.renew(id: 1, nowNanoseconds: 4 * second) == 5)
        #expect(tracker.remainingSeconds(id: 1, nowNanoseconds: 4 * second) == 5)
        #expect(tracker.expiredLeases(nowNanoseconds: 8 * second).isEmpty)
        #expect(tracker.expiredLeases(nowNanoseconds: 9 * second) == [1])
        // Not revoked yet: reported again after the retry interval, not before.
        #expect(tracker.expiredLeases(nowNanoseconds: 10 * second) == [2])
        #expect(tracker.expiredLeases(nowNanoseconds: 11 * second) == [1])
        tracker.revoke(id: 1)
        tracker.revoke(id: 2)
        #expect(tracker.expiredLeases(nowNanoseconds: 100 * second).isEmpty && tracker.count == 0)
        #expect(tracker.renew(id: 1, nowNanoseconds: 0) == nil)
    }

    @Test("a new leader restarts deadlines at now plus TTL; a follower reports nothing")
    func leaderChange() {
        var tracker = LeaseExpiryTracker()
        tracker.grant(id: 1, ttlSeconds: 5, nowNanoseconds: 0)
        #expect(tracker.expiredLeases(nowNanoseconds: 60 * second).isEmpty)
        #expect(tracker.renew(id: 1, nowNanoseconds: 0) == nil)
        tracker.promote(leases: [(id: 1, ttlSeconds: 5), (id: 2, ttlSeconds: 1)], nowNanoseconds: 60 * second)
        #expect(tracker.expiredLeases(nowNanoseconds: 61 * second) == [2])
        tracker.revoke(id: 2)
        #expect(tracker.expiredLeases(nowNanoseconds: 64 * second).isEmpty)
        #expect(tracker.expiredLeases(nowNanoseconds: 65 * second) == [1])
        tracker.demote()
        #expect(tracker.expiredLeases(nowNanoseconds: 1000 * second).isEmpty)
    }

    @Test("frequent keep-alives do not grow the heap without bound")
    func boundedHeap() {
        var tracker = LeaseExpiryTracker()
        tracker.promote(leases: [(id: 1, ttlSeconds: 5)], nowNanoseconds: 0)
        for step in 0..<100_000 { _ = tracker.renew(id: 1, nowNanoseconds: UInt64(step)) }
        #expect(tracker.expiredLeases(nowNanoseconds: 5 * second + 100_000) == [1])
    }
}
