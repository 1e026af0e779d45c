import Testing
@testable import Raft

/// A randomized comparison of the store against a reference model that keeps a full copy of
/// the key space at every revision (simple enough to be obviously right). One fixed seed per
/// run; a failure names the seed and the step.
@Suite("MVCC store against a reference model")
struct MVCCModelTests {
    struct ModelValue: Equatable {
        var value: String
        var createRevision: Int64
        var modRevision: Int64
        var version: Int64
        var lease: Int64
    }

    struct ModelEvent: Equatable {
        var text: String
    }

    /// Model is etcd's semantics written the direct way: `states[r]` is the whole key space at
    /// revision r.
    struct Model {
        var states: [Int64: [String: ModelValue]] = [1: [:]]
        var revision: Int64 = 1
        var compactedRevision: Int64 = 0
        var leases: Set<Int64> = []
        var events: [String] = []

        var current: [String: ModelValue] { states[revision]! }

        /// commit stores the key space a write produced; a write that changed nothing keeps the revision.
        mutating func commit(_ next: [String: ModelValue], changed: Bool) {
            guard changed else { return }
            revision += 1
            states[revision] = next
        }

        func put(_ key: String, _ value: String, lease: Int64, in space: inout [String: ModelValue], at revision: Int64) {
            if let existing = space[key] {
                space[key] = ModelValue(value: value, createRevision: existing.createRevision, modRevision: revision,
                    version: existing.version + 1, lease: lease)
            } else {
                space[key] = ModelValue(value: value, createRevision: revision, modRevision: revision, version: 1, lease: lease)
            }
        }

        func range(_ start: String, _ end: String?, at revision: Int64) -> [(String, ModelValue)] {
            states[revision]!.filter { key, _ in
                guard let end else { return key == start }
                return bytes(key).lexicographicallyPrecedes(bytes(start)) == false
                    && bytes(key).lexicographicallyPrecedes(bytes(end))
            }.sorted { bytes($0.key).lexicographicallyPrecedes(bytes($1.key)) }
        }
    }

    static let keys = ["a", "a/1", "a/2", "a/3", "b", "b/1", "b/2", "c", "c/x", "d"]

    @Test("random puts, deletes, txns, leases, compactions and reads match the model", arguments: [UInt64(42), 7, 2026])
    func randomOperations(seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        let store = MVCCStore()
        let hub = WatchHub(store: store, maximumEventsPerResponse: 5)
        let sink = RecordingSink()
        _ = try hub.create(WatchCreateRequest(key: [0], rangeEnd: [0], prevKv: true), sink: sink)
        var model = Model()
        var modelEvents: [String] = []

        func pick(_ count: Int) -> Int { Int(generator.next() % UInt64(count)) }
        func randomKey() -> String { Self.keys[pick(Self.keys.count)] }

        for step in 0..<4000 {
            let context = "seed \(seed) step \(step)"
            let choice = pick(100)
            if choice < 35 {
                let key = randomKey()
                let value = "v\(step)"
                let lease: Int64 = pick(4) == 0 && !model.leases.isEmpty ? model.leases.sorted()[pick(model.leases.count)] : 0
                let previous = model.current[key]
                let response = try store.put(key, value, lease: lease, prevKV: true)
                var next = model.current
                model.put(key, value, lease: lease, in: &next, at: model.revision + 1)
                model.commit(next, changed: true)
                modelEvents.append("PUT \(key)=\(value)@\(model.revision)" + (previous.map { " prev=\($0.value)" } ?? ""))
                #expect(response.prevKv.map { text($0.value) } == previous?.value, "\(context)")
            } else if choice < 45 {
                let start = randomKey()
                let end: String? = pick(2) == 0 ? nil : text(KeyInterval.prefixEnd(bytes(start)))
                let doomed = model.range(start, end, at: model.revision)
                let response = try store.delete(start, end: end ?? "")
                #expect(response.deleted == Int64(doomed.count), "\(context)")
                var next = model.current
                for (key, _) in doomed { next[key] = nil }
                model.commit(next, changed: !doomed.isEmpty)
                for (key, old) in doomed { modelEvents.append("DELETE \(key)@\(model.revision) prev=\(old.value)") }
            } else if choice < 60 {
                try transaction(step: step, context: context, store: store, model: &model, events: &modelEvents, pick: pick)
            } else if choice < 64 {
                let id = Int64(1 + pick(3))
                if model.leases.contains(id) {
                    #expect(throws: StoreError.leaseExists(leaseID: id)) { try store.grant(id: id) }
                } else {
                    _ = try store.grant(id: id)
                    model.leases.insert(id)
                }
            } else if choice < 67 {
                let id = Int64(1 + pick(3))
                if !model.leases.contains(id) {
                    #expect(throws: StoreError.leaseNotFound(leaseID: id)) { try store.revoke(id: id) }
                } else {
                    try store.revoke(id: id)
                    model.leases.remove(id)
                    let doomed = model.current.filter { $0.value.lease == id }
                        .sorted { bytes($0.key).lexicographicallyPrecedes(bytes($1.key)) }
                    var next = model.current
                    for (key, _) in doomed { next[key] = nil }
                    model.commit(next, changed: !doomed.isEmpty)
                    for (key, old) in doomed { modelEvents.append("DELETE \(key)@\(model.revision) prev=\(old.value)") }
                }
            } else if choice < 69 {
                // Compact no further than the watcher has received, so it is never canceled.
                let received = sink.events.last?.kv?.modRevision ?? 1
                let target = model.compactedRevision + 1 + Int64(pick(Int(max(1, received - model.compactedRevision))))
                if target <= min(received, model.revision) {
                    try store.compact(target)
                    model.compactedRevision = target
                    for revision in model.states.keys where revision < target { model.states[revision] = nil }
                }
            } else {
                try read(context: context, store: store, model: model, pick: pick)
            }
            if pick(3) == 0 { sink.full.toggle() }
            if pick(4) == 0 { hub.publish() }
        }
        sink.full = false
        var rounds = 0
        repeat {
            hub.publish()
            rounds += 1
        } while hub.unsyncedCount > 0 && rounds < 10_000
        #expect(sink.summary == modelEvents, "seed \(seed): watch stream differs from the model")
        #expect(sink.responses.allSatisfy { !$0.canceled }, "seed \(seed)")
        #expect(store.liveKeyCount == model.current.count)
        // The run exercised what it is meant to: compactions, a watcher falling behind, events.
        #expect(model.compactedRevision > 100 && sink.refused > 100 && modelEvents.count > 1000, "seed \(seed)")
        let restored = try MVCCStore(restoring: store.snapshot())
        for revision in max(1, model.compactedRevision)...model.revision {
            #expect(try restored.everything(at: revision) == store.everything(at: revision), "seed \(seed) revision \(revision)")
        }
    }

    /// transaction runs a compare-and-swap shaped txn and mirrors it in the model.
    func transaction(
        step: Int, context: String, store: MVCCStore, model: inout Model, events: inout [String], pick: (Int) -> Int
    ) throws {
        let key = Self.keys[pick(Self.keys.count)]
        let existing = model.current[key]
        let target: CompareTarget = [.version, .create, .mod, .value][pick(4)]
        let result: CompareResult = [.equal, .notEqual, .greater, .less][pick(4)]
        var compare = Compare(result: result, target: target, key: bytes(key))
        let actual: Int64
        switch target {
        case .version: actual = existing?.version ?? 0
        case .create: actual = existing?.createRevision ?? 0
        case .mod: actual = existing?.modRevision ?? 0
        default: actual = 0
        }
        let probe = pick(2) == 0 ? actual : actual + Int64(pick(3)) - 1
        compare.version = probe
        compare.createRevision = probe
        compare.modRevision = probe
        let probeValue = pick(2) == 0 ? (existing?.value ?? "") : "v\(pick(step + 1))"
        compare.value = bytes(probeValue)
        let holds: Bool
        if target == .value {
            if let existing {
                let order = existing.value == probeValue ? 0 : (bytes(existing.value).lexicographicallyPrecedes(bytes(probeValue)) ? -1 : 1)
                holds = Self.satisfies(order, result)
            } else {
                holds = false
            }
        } else {
            holds = Self.satisfies(actual == probe ? 0 : (actual < probe ? -1 : 1), result)
        }
        let other = Self.keys[pick(Self.keys.count)]
        let value = "t\(step)"
        let response = try store.txn(TxnRequest(
            compare: [compare], success: [putOp(key, value), rangeOp(key)], failure: [deleteOp(other), rangeOp(other)]))
        #expect(response.succeeded == holds, "\(context): \(target) \(result) on \(key)")
        var next = model.current
        if holds {
            let previous = next[key]
            model.put(key, value, lease: 0, in: &next, at: model.revision + 1)
            model.commit(next, changed: true)
            events.append("PUT \(key)=\(value)@\(model.revision)" + (previous.map { " prev=\($0.value)" } ?? ""))
            #expect(response.responses[1].responseRange?.kvs.first.map { text($0.value) } == value, "\(context)")
        } else {
            let previous = next[other]
            next[other] = nil
            model.commit(next, changed: previous != nil)
            if let previous { events.append("DELETE \(other)@\(model.revision) prev=\(previous.value)") }
            #expect(response.responses[1].responseRange?.count == 0, "\(context)")
        }
        #expect(store.revision == model.revision, "\(context)")
    }

    static func satisfies(_ order: Int, _ result: CompareResult) -> Bool {
        switch result {
        case .equal: return order == 0
        case .notEqual: return order != 0
        case .greater: return order > 0
        case .less: return order < 0
        }
    }

    /// read checks a range at a random revision (sometimes compacted or in the future) with a
    /// random shape against the model.
    func read(context: String, store: MVCCStore, model: Model, pick: (Int) -> Int) throws {
        let start = Self.keys[pick(Self.keys.count)]
        let end: String? = [nil, text(KeyInterval.prefixEnd(bytes(start))), "\0", "c"][pick(4)]
        let revision = Int64(pick(Int(model.revision) + 3))
        let limit = Int64(pick(4))
        let request = RangeRequest(
            key: bytes(start), rangeEnd: end.map(bytes) ?? [], limit: limit, revision: revision, keysOnly: pick(5) == 0,
            countOnly: pick(8) == 0)
        let readRevision = revision == 0 ? model.revision : revision
        if readRevision > model.revision {
            #expect(throws: StoreError.futureRevision(requestedRevision: readRevision, currentRevision: model.revision)) {
                try store.range(request)
            }
            return
        }
        if readRevision < model.compactedRevision {
            #expect(throws: StoreError.compacted(requestedRevision: readRevision, compactedRevision: model.compactedRevision)) {
                try store.range(request)
            }
            return
        }
        let expected = model.range(start, end == "\0" ? "\u{7f}\u{7f}" : end, at: readRevision)
        let response = try store.range(request)
        #expect(response.count == Int64(expected.count), "\(context)")
        if request.countOnly {
            #expect(response.kvs.isEmpty, "\(context)")
            return
        }
        let shown = limit > 0 ? Array(expected.prefix(Int(limit))) : expected
        #expect(response.more == (shown.count < expected.count), "\(context)")
        #expect(response.kvs.map { text($0.key) } == shown.map(\.0), "\(context)")
        for (kv, (_, value)) in zip(response.kvs, shown) {
            #expect(text(kv.value) == (request.keysOnly ? "" : value.value), "\(context)")
            #expect(kv.createRevision == value.createRevision && kv.modRevision == value.modRevision, "\(context)")
            #expect(kv.version == value.version && kv.lease == value.lease, "\(context)")
        }
    }
}
