import Testing
@testable import Raft

/// The watch hub: synced delivery per apply batch, catch-up from history, filters, progress,
/// compaction and slow sinks.
@Suite("MVCC watch hub")
struct MVCCWatchTests {
    @Test("a synced watcher gets one response per published batch with every event of it")
    func batches() throws {
        let store = MVCCStore()
        let hub = WatchHub(store: store)
        let sink = RecordingSink()
        let created = try hub.create(WatchCreateRequest(key: bytes("k")), sink: sink)
        #expect(created.created && created.watchID == 1 && created.header?.revision == 1)
        try store.put("k", "1")
        try store.put("other", "1")
        try store.put("k", "2")
        hub.publish()
        #expect(sink.responses.count == 1)
        #expect(sink.summary == ["PUT k=1@2", "PUT k=2@4"])
        #expect(sink.responses[0].header?.revision == 4)
        try store.delete("k")
        hub.publish()
        hub.publish()  // nothing new: no empty response
        #expect(sink.responses.count == 2 && sink.summary.last == "DELETE k@5")
    }

    @Test("a watcher from a past revision catches up from history, then follows new events")
    func fromPastRevision() throws {
        let store = MVCCStore()
        try store.put("a", "1")  // 2
        try store.put("a", "2")  // 3
        try store.delete("a")  // 4
        try store.put("a", "3")  // 5
        let hub = WatchHub(store: store)
        let sink = RecordingSink()
        _ = try hub.create(WatchCreateRequest(key: bytes("a"), startRevision: 3, prevKv: true), sink: sink)
        #expect(hub.unsyncedCount == 1)
        hub.publish()
        #expect(hub.unsyncedCount == 0)
        #expect(sink.summary == ["PUT a=2@3 prev=1", "DELETE a@4 prev=2", "PUT a=3@5"])
        try store.put("a", "4")
        hub.publish()
        #expect(sink.summary.last == "PUT a=4@6 prev=3")
        #expect(sink.events.count == 4)
    }

    @Test("prefix and interval watchers see only their keys; start revision 0 means from now")
    func prefix() throws {
        let store = MVCCStore()
        try store.put("/pods/a", "old")
        let hub = WatchHub(store: store)
        let pods = RecordingSink()
        let everything = RecordingSink()
        _ = try hub.create(WatchCreateRequest(key: bytes("/pods/"), rangeEnd: KeyInterval.prefixEnd(bytes("/pods/"))), sink: pods)
        _ = try hub.create(WatchCreateRequest(key: [0], rangeEnd: [0]), sink: everything)
        try store.txn(TxnRequest(success: [putOp("/pods/b", "1"), putOp("/nodes/n", "1"), putOp("/pods/c", "1")]))
        hub.publish()
        #expect(pods.summary == ["PUT /pods/b=1@3", "PUT /pods/c=1@3"])
        #expect(everything.summary == ["PUT /pods/b=1@3", "PUT /nodes/n=1@3", "PUT /pods/c=1@3"])
    }

    @Test("filters drop puts or deletes")
    func filters() throws {
        let store = MVCCStore()
        let hub = WatchHub(store: store)
        let noPut = RecordingSink()
        let noDelete = RecordingSink()
        _ = try hub.create(WatchCreateRequest(key: bytes("k"), filters: [.noPut]), sink: noPut)
        _ = try hub.create(WatchCreateRequest(key: bytes("k"), filters: [.noDelete]), sink: noDelete)
        try store.put("k", "1")
        try store.delete("k")
        hub.publish()
        #expect(noPut.summary == ["DELETE k@3"])
        #expect(noDelete.summary == ["PUT k=1@2"])
        // The same filters apply to catch-up from history.
        let pastNoPut = RecordingSink()
        _ = try hub.create(WatchCreateRequest(key: bytes("k"), startRevision: 1, filters: [.noPut]), sink: pastNoPut)
        hub.synchronize()
        #expect(pastNoPut.summary == ["DELETE k@3"])
    }

    @Test("a start revision older than the compacted revision cancels with the compact revision")
    func compactedStart() throws {
        let store = MVCCStore()
        for value in 1...5 { try store.put("k", "\(value)") }
        try store.compact(4)
        let hub = WatchHub(store: store)
        let sink = RecordingSink()
        let created = try hub.create(WatchCreateRequest(key: bytes("k"), startRevision: 2), sink: sink)
        #expect(created.created)
        hub.publish()
        #expect(sink.responses.count == 1)
        let canceled = sink.responses[0]
        #expect(canceled.canceled && canceled.compactRevision == 4 && canceled.watchID == created.watchID)
        #expect(canceled.cancelReason.contains("compacted") && canceled.cancelReason.contains("2"))
        #expect(hub.watcherCount == 0)
        // From the compacted revision itself is still complete.
        let atCompacted = RecordingSink()
        _ = try hub.create(WatchCreateRequest(key: bytes("k"), startRevision: 4), sink: atCompacted)
        hub.publish()
        #expect(atCompacted.summary == ["PUT k=3@4", "PUT k=4@5", "PUT k=5@6"])
        // A delete exactly at the compacted revision is kept for watchers that resume there.
        try store.delete("k")  // 7
        try store.compact(7)
        let atDelete = RecordingSink()
        _ = try hub.create(WatchCreateRequest(key: bytes("k"), startRevision: 7), sink: atDelete)
        hub.publish()
        #expect(atDelete.summary == ["DELETE k@7"])
    }

    @Test("progress: synced watchers learn the current revision; unsynced ones are skipped")
    func progress() throws {
        let store = MVCCStore()
        let hub = WatchHub(store: store)
        let synced = RecordingSink()
        let behind = RecordingSink()
        let idle = RecordingSink()
        _ = try hub.create(WatchCreateRequest(key: bytes("a")), sink: synced)
        _ = try hub.create(WatchCreateRequest(key: bytes("z"), progressNotify: true), sink: idle)
        try store.put("b", "1")
        try store.put("a", "1")
        behind.full = true
        _ = try hub.create(WatchCreateRequest(key: bytes("a"), startRevision: 2), sink: behind)
        #expect(hub.requestProgress() == 2)
        #expect(synced.responses.last?.header?.revision == 3 && synced.responses.last?.events.isEmpty == true)
        #expect(idle.responses.count == 1 && behind.responses.isEmpty)
        #expect(hub.requestProgress(watchID: 1) == 1)
        // Periodic notifications go only to watchers that asked and were idle.
        #expect(hub.notifyIdleWatchers() == 1)
        #expect(idle.responses.count == 2)
    }

    @Test("a full sink falls behind and catches up from history without loss; others are not delayed")
    func slowSink() throws {
        let store = MVCCStore()
        let hub = WatchHub(store: store, maximumEventsPerResponse: 3)
        let slow = RecordingSink()
        let fast = RecordingSink()
        _ = try hub.create(WatchCreateRequest(key: [0], rangeEnd: [0], prevKv: true), sink: slow)
        _ = try hub.create(WatchCreateRequest(key: [0], rangeEnd: [0], prevKv: true), sink: fast)
        try store.put("a", "1")
        hub.publish()
        slow.full = true
        for round in 0..<5 {
            try store.put("a", "\(round + 2)")
            try store.put("b\(round)", "x")
            hub.publish()
        }
        #expect(hub.unsyncedCount == 1)
        #expect(fast.events.count == 11 && slow.events.count == 1)
        slow.full = false
        try store.txn(TxnRequest(success: [putOp("c", "1"), putOp("d", "1"), putOp("e", "1"), putOp("f", "1")]))
        hub.publish()
        var rounds = 0
        while hub.unsyncedCount > 0 && rounds < 100 {
            hub.synchronize()
            rounds += 1
        }
        #expect(hub.unsyncedCount == 0)
        #expect(slow.summary == fast.summary)
        #expect(slow.events.count == 15)
        // Catch-up responses are bounded: a response closes at the first revision boundary once it
        // holds 3 events, and a revision is never split, so at most 2 + the 4-put transaction.
        #expect(slow.responses.map(\.events.count) == [1, 3, 3, 3, 5])
        try store.put("g", "1")
        hub.publish()
        #expect(slow.summary == fast.summary)
    }

    @Test("a watcher from a future revision waits for it")
    func futureStart() throws {
        let store = MVCCStore()
        let hub = WatchHub(store: store)
        let sink = RecordingSink()
        _ = try hub.create(WatchCreateRequest(key: bytes("k"), startRevision: 4), sink: sink)
        for value in 1...4 { try store.put("k", "\(value)") }
        hub.publish()
        #expect(sink.summary == ["PUT k=3@4", "PUT k=4@5"])
    }

    @Test("watch ids are unique; cancel stops delivery")
    func cancel() throws {
        let store = MVCCStore()
        let hub = WatchHub(store: store)
        let sink = RecordingSink()
        _ = try hub.create(WatchCreateRequest(key: bytes("k"), watchID: 1), sink: sink)
        #expect(throws: StoreError.watchIDInUse(watchID: 1)) { try hub.create(WatchCreateRequest(key: bytes("k"), watchID: 1), sink: sink) }
        #expect(try hub.create(WatchCreateRequest(key: bytes("k")), sink: sink).watchID == 2)
        #expect(hub.cancel(watchID: 1) && !hub.cancel(watchID: 1))
        try store.put("k", "1")
        hub.publish()
        #expect(sink.responses.map(\.watchID) == [2])
    }

    @Test("a lease revoke shows as deletes of its keys at one revision")
    func leaseRevokeEvents() throws {
        let store = MVCCStore()
        let hub = WatchHub(store: store)
        let sink = RecordingSink()
        _ = try hub.create(WatchCreateRequest(key: [0], rangeEnd: [0]), sink: sink)
        let lease = try store.grant(id: 9).id
        try store.put("b", "1", lease: lease)
        try store.put("a", "1", lease: lease)
        try store.revoke(id: lease)
        hub.publish()
        #expect(sink.summary == ["PUT b=1@2", "PUT a=1@3", "DELETE a@4", "DELETE b@4"])
    }
}
