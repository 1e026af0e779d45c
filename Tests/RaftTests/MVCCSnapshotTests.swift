import Testing
@testable import Raft

/// Snapshot round trips and determinism: the replicated state is a function of the commands.
@Suite("MVCC snapshot and determinism")
struct MVCCSnapshotTests {
    /// commands is a fixed mixed workload: puts, overwrites, deletes, txns, leases, a compaction.
    static func commands(seed: UInt64, count: Int) -> [Command] {
        var generator = SplitMix64(seed: seed)
        var commands: [Command] = [
            Command(requestID: 0, leaseGrant: LeaseGrantRequest(ttl: 30, id: 100)),
            Command(requestID: 1, leaseGrant: LeaseGrantRequest(ttl: 30, id: 200)),
        ]
        for number in 0..<count {
            let key = bytes("/registry/pods/ns\(generator.next() % 3)/p\(generator.next() % 40)")
            let value = bytes("value-\(number)")
            var command = Command(requestID: UInt64(number + 2))
            switch generator.next() % 10 {
            case 0: command.deleteRange = DeleteRangeRequest(key: key)
            case 1: command.put = PutRequest(key: key, value: value, lease: 100)
            case 2:
                command.txn = TxnRequest(
                    compare: [Compare(result: .greater, target: .version, key: key, version: 1)],
                    success: [RequestOp(requestPut: PutRequest(key: key, value: value))],
                    failure: [RequestOp(requestDeleteRange: DeleteRangeRequest(key: bytes("/registry/pods/ns1/"), rangeEnd: bytes("/registry/pods/ns10")))])
            default: command.put = PutRequest(key: key, value: value)
            }
            commands.append(command)
            if number == count / 2 { commands.append(Command(compaction: CompactionRequest(revision: Int64(count / 4)))) }
            if number == count * 3 / 4 { commands.append(Command(leaseRevoke: LeaseRevokeRequest(id: 100))) }
        }
        return commands
    }

    static func run(_ commands: [Command], on store: MVCCStore) -> [String] {
        var results: [String] = []
        for command in commands {
            do {
                results.append(String(describing: try store.apply(command, index: store.nextIndex)))
            } catch {
                results.append(error.description)
            }
        }
        return results
    }

    /// expectSameReads compares two stores at every retained revision, key by key.
    static func expectSameReads(_ left: MVCCStore, _ right: MVCCStore) throws {
        #expect(left.revision == right.revision)
        #expect(left.compactedRevision == right.compactedRevision)
        #expect(left.consistentIndex == right.consistentIndex)
        #expect(left.leaseTTLs.map(\.id) == right.leaseTTLs.map(\.id))
        for revision in max(1, left.compactedRevision)...left.revision {
            #expect(try left.everything(at: revision) == right.everything(at: revision), "revision \(revision)")
        }
        for lease in left.leaseTTLs {
            #expect(left.lease(lease.id)?.keys == right.lease(lease.id)?.keys)
        }
    }

    @Test("a restored store reads the same at every retained revision and keeps applying the same")
    func roundTrip() throws {
        let commands = Self.commands(seed: 1, count: 600)
        let original = MVCCStore()
        _ = Self.run(Array(commands[..<500]), on: original)
        #expect(original.compactedRevision > 0)
        let snapshot = original.snapshot()
        let restored = try MVCCStore(snapshotBytes: original.snapshotBytes())
        try Self.expectSameReads(original, restored)
        #expect(restored.snapshot() == snapshot)
        #expect(restored.liveKeyCount == original.liveKeyCount)
        let tail = Array(commands[500...])
        #expect(Self.run(tail, on: original) == Self.run(tail, on: restored))
        try Self.expectSameReads(original, restored)
    }

    @Test("a snapshot that breaks the store's invariants is refused")
    func corruptSnapshot() throws {
        #expect(throws: StoreError.self) { try MVCCStore(snapshotBytes: [0xff, 0xff, 0xff]) }
        let original = MVCCStore()
        _ = Self.run(Self.commands(seed: 2, count: 50), on: original)
        var reordered = original.snapshot()
        reordered.records.swapAt(0, 1)
        #expect(throws: StoreError.self) { try MVCCStore(restoring: reordered) }
        _ = try original.grant(id: 300)
        try original.put("/leased", "1", lease: 300)
        var missingLease = original.snapshot()
        missingLease.leases.removeAll()
        #expect(throws: StoreError.self) { try MVCCStore(restoring: missingLease) }
        var wrongVersion = original.snapshot()
        wrongVersion.formatVersion = 99
        #expect(throws: StoreError.corruptSnapshot(reason: "format version 99, expected 1")) { try MVCCStore(restoring: wrongVersion) }
    }

    @Test("two stores fed the same commands give the same results and the same state")
    func determinism() throws {
        let commands = Self.commands(seed: 3, count: 2000)
        let first = MVCCStore()
        let second = MVCCStore()
        #expect(Self.run(commands, on: first) == Self.run(commands, on: second))
        #expect(first.snapshot() == second.snapshot())
        try Self.expectSameReads(first, second)
    }
}
