import Raft
import Testing

@Suite struct ReplicationTests {
    @Test func section5_3_proposalsReplicateAndApplyInOrderEverywhere() throws {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        try cluster[1].propose([[UInt8](text: "a"), [UInt8](text: "b")])
        try cluster[1].propose([UInt8](text: "c"))
        cluster.stabilize()
        cluster.tickAll(times: 2)
        for id: UInt64 in [1, 2, 3] {
            #expect(cluster.appliedCommands(id) == ["a", "b", "c"])
        }
    }

    @Test func section5_3_aFollowerRefusesToAcknowledgeBeforePersisting() throws {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        try cluster[1].propose([UInt8](text: "a"))
        let leaderReady = cluster[1].ready()
        #expect(leaderReady.messages.contains { $0.type == .append && $0.entries.count == 1 },
                "the leader replicates before its own write (thesis §10.2.1)")
        #expect(!leaderReady.entries.isEmpty)
        for message in leaderReady.messages where message.to == 2 {
            cluster[2].step(message)
        }
        let followerReady = cluster[2].ready()
        #expect(followerReady.messages.isEmpty)
        #expect(followerReady.messagesAfterPersist.contains { $0.type == .appendResponse && !$0.reject })
        #expect(!followerReady.entries.isEmpty)
    }

    @Test func section5_3_logMatchingOverwritesAConflictingUncommittedSuffix() throws {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        cluster.isolate(1)
        // Entries only the old leader holds.
        try cluster[1].propose([UInt8](text: "lost-1"))
        try cluster[1].propose([UInt8](text: "lost-2"))
        cluster.stabilize()
        let elected = cluster.electAmong([2, 3])
        let newLeader = try #require(elected)
        try cluster[newLeader].propose([UInt8](text: "kept"))
        cluster.stabilize()
        cluster.heal()
        cluster.tickAll(times: 3)
        #expect(cluster.leaders == [newLeader])
        for id: UInt64 in [1, 2, 3] {
            #expect(cluster.appliedCommands(id) == ["kept"])
            #expect(cluster[id].log.lastIndex == cluster[newLeader].log.lastIndex)
            #expect(cluster[id].log.lastTerm == cluster[newLeader].term)
        }
    }

    /// The Figure 8 scenario of §5.4.2: an entry from an earlier term stored on a majority is not
    /// committed by counting replicas; it commits only under an entry of the current term.
    @Test func section5_4_2_figure8_entriesOfEarlierTermsAreNotCommittedByCounting() {
        let conf = ConfState(voters: [1, 2, 3, 4, 5])
        let snapshot = Snapshot(metadata: SnapshotMetadata(confState: conf, index: 1, term: 1), data: [])
        func member(_ id: UInt64, term: UInt64, vote: UInt64, entries: [Entry]) -> RaftNode {
            var configuration = TestCluster.configuration(id)
            configuration.preVote = false
            let state = RestoredState(hardState: HardState(term: term, vote: vote, commit: 1),
                                      snapshot: snapshot, entries: entries)
            return try! RaftNode(configuration: configuration, storage: state)
        }
        let term2Entry = Entry(term: 2, index: 2, type: .normal, data: [UInt8](text: "s1-term2"))
        var cluster = TestCluster(voters: [])
        cluster.nodes = [
            1: member(1, term: 2, vote: 1, entries: [term2Entry]),
            2: member(2, term: 2, vote: 1, entries: [term2Entry]),
            3: member(3, term: 3, vote: 5, entries: []),
            4: member(4, term: 3, vote: 5, entries: []),
            5: member(5, term: 3, vote: 5, entries: [Entry(term: 3, index: 2, data: [UInt8](text: "s5"))]),
        ]
        for id in cluster.nodes.keys { cluster.durable[id] = RestoredState() }
        cluster.isolate(5)
        // Votes flow, appends do not: acknowledgements are scripted below.
        cluster.dropFilter = { $0.type == .append || $0.type == .heartbeat }
        // S1 wins term 4 with S2, S3 (S3, S4 have shorter logs).
        cluster.nodes[1]!.campaign()
        cluster.nodes[1]!.campaign()
        cluster.stabilize()
        #expect(cluster[1].role == .leader && cluster[1].term == 4)
        // S1 has persisted its log; S3 now also acknowledges index 2 (term 2): a majority
        // (S1, S2, S3) holds it, but it is from term 2 and must not commit by counting.
        var leader = cluster[1]
        leader.step(Message(type: .appendResponse, from: 2, to: 1, term: 4, index: 2))
        leader.step(Message(type: .appendResponse, from: 3, to: 1, term: 4, index: 2))
        #expect(leader.log.committed == 1, "§5.4.2: never commit an earlier term's entry by counting")
        // Once the term-4 entry at index 3 is on a majority, both commit.
        leader.step(Message(type: .appendResponse, from: 2, to: 1, term: 4, index: 3))
        leader.step(Message(type: .appendResponse, from: 3, to: 1, term: 4, index: 3))
        #expect(leader.log.committed == 3)
    }

    /// Thesis §10.2.1: the leader writes in parallel with replicating, but counts itself only
    /// once its own write is durable.
    @Test func thesis10_2_1_theLeaderCountsItselfOnlyAfterItsOwnFsync() throws {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        var leader = cluster[1]
        let proposed = try leader.propose([UInt8](text: "a"))
        let ready = leader.ready()
        #expect(ready.entries.map(\.index) == [proposed.indexes.lowerBound])
        let before = leader.log.committed
        leader.step(Message(type: .appendResponse, from: 2, to: 1, term: leader.term, index: proposed.indexes.upperBound))
        #expect(leader.log.committed == before, "one follower plus an unsynced leader is not a quorum of 3")
        leader.advance(ready)
        #expect(leader.log.committed == proposed.indexes.upperBound)
    }

    @Test func thesis10_2_1_followersAloneCanCommitWhileTheLeaderSyncs() throws {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        var leader = cluster[1]
        let proposed = try leader.propose([UInt8](text: "a"))
        _ = leader.ready()
        for follower: UInt64 in [2, 3] {
            leader.step(Message(type: .appendResponse, from: follower, to: 1, term: leader.term,
                                index: proposed.indexes.upperBound))
        }
        #expect(leader.log.committed == proposed.indexes.upperBound)
        #expect(leader.ready().committedEntries.isEmpty, "nothing is applied before it is durable locally")
    }

    @Test func inflightWindowBoundsUnacknowledgedAppendsByCountAndBytes() throws {
        var cluster = TestCluster(voters: [1, 2]) {
            $0.maximumInflightAppends = 3
            $0.maximumInflightBytes = 1000
            $0.maximumAppendBytes = 100
        }
        cluster.campaign(1)
        cluster.tickAll(times: 2)
        // 2 stops answering: count appends sent to it.
        cluster.dropFilter = { $0.from == 2 }
        cluster.delivered = []
        for number in 0..<20 {
            try cluster[1].propose([UInt8](repeating: UInt8(number), count: 10))
            cluster.stabilize()
        }
        var appends = cluster.delivered.filter { $0.type == .append && $0.to == 2 && !$0.entries.isEmpty }
        #expect(appends.count == 3, "at most maximumInflightAppends unacknowledged appends")
        // Bytes: large entries fill the byte budget before the count budget.
        var big = TestCluster(voters: [1, 2]) {
            $0.maximumInflightAppends = 100
            $0.maximumInflightBytes = 250
            $0.maximumAppendBytes = 100
        }
        big.campaign(1)
        big.tickAll(times: 2)
        big.dropFilter = { $0.from == 2 }
        big.delivered = []
        for number in 0..<20 {
            try big[1].propose([UInt8](repeating: UInt8(number), count: 100))
            big.stabilize()
        }
        appends = big.delivered.filter { $0.type == .append && $0.to == 2 && !$0.entries.isEmpty }
        let bytes = appends.reduce(0) { $0 + $1.entries.reduce(0) { $0 + $1.data.count } }
        #expect(appends.count == 3 && bytes == 300, "the window opens until 250 bytes are in flight")
        #expect(big[1].tracker.progress[2]!.inflights.isFull)
    }

    @Test func restoreRefusesACorruptImage() {
        let configuration = TestCluster.configuration(1)
        #expect(throws: RestoreError.commitBeyondLog(commit: 5, lastIndex: 1)) {
            _ = try RaftNode(configuration: configuration, storage: RestoredState(
                hardState: HardState(term: 1, vote: 0, commit: 5), entries: [Entry(term: 1, index: 1)]))
        }
        #expect(throws: RestoreError.entriesNotContiguous(expectedIndex: 2, foundIndex: 3)) {
            _ = try RaftNode(configuration: configuration, storage: RestoredState(
                hardState: HardState(term: 1), entries: [Entry(term: 1, index: 1), Entry(term: 1, index: 3)]))
        }
    }

    @Test func restartFromTheDurableImageKeepsTheLogAndApplied() throws {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        try cluster[1].propose([UInt8](text: "a"))
        cluster.stabilize()
        cluster.tickAll(times: 2)
        let image = cluster.durable[2]!
        var restarted = try RaftNode(configuration: TestCluster.configuration(2), storage: image)
        #expect(restarted.log.lastIndex == cluster[2].log.lastIndex)
        let ready = restarted.ready()
        #expect(ready.committedEntries.map(\.data).contains([UInt8](text: "a")))
        #expect(ready.confState?.voters == [1, 2, 3])
    }
}
