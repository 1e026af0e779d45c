import Raft
import Testing

@Suite struct MembershipAndSnapshotTests {
    @Test func thesis4_1_addAVoterOneAtATimeAndRefuseASecondPendingChange() throws {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        cluster.addEmptyMember(4)
        cluster.addEmptyMember(5)
        try cluster[1].proposeConfChange(ConfChange(type: .addNode, nodeID: 4))
        #expect(throws: ProposalError.configurationChangePending) {
            try cluster.nodes[1]!.proposeConfChange(ConfChange(type: .addNode, nodeID: 5))
        }
        cluster.stabilize()
        cluster.tickAll(times: 2)
        #expect(cluster[1].tracker.membership.voters == [1, 2, 3, 4])
        #expect(cluster[4].tracker.membership.voters == [1, 2, 3, 4])
        try cluster[1].proposeConfChange(ConfChange(type: .addNode, nodeID: 5))
        cluster.stabilize()
        cluster.tickAll(times: 2)
        #expect(cluster[5].tracker.membership.voters == [1, 2, 3, 4, 5])
        try cluster[1].propose([UInt8](text: "after"))
        cluster.stabilize()
        cluster.tickAll(times: 2)
        #expect(cluster.appliedCommands(5) == ["after"])
    }

    @Test func thesis4_1_aNewLeaderMakesNoChangeBeforeCommittingInItsTerm() throws {
        // Build a leader whose empty entry is not yet applied: stop acknowledgements.
        var stalled = TestCluster(voters: [1, 2, 3])
        stalled.dropFilter = { $0.type == .appendResponse }
        stalled.campaign(1)
        #expect(stalled[1].role == .leader)
        #expect(throws: ProposalError.configurationChangePending) {
            try stalled.nodes[1]!.proposeConfChange(ConfChange(type: .removeNode, nodeID: 3))
        }
    }

    @Test func thesis4_1_removeAVoterAndPromoteALearner() throws {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        try cluster[1].proposeConfChange(ConfChange(type: .removeNode, nodeID: 3))
        cluster.stabilize()
        cluster.tickAll(times: 2)
        #expect(cluster[1].tracker.membership.voters == [1, 2])
        cluster.addEmptyMember(4)
        try cluster[1].proposeConfChange(ConfChange(type: .addLearner, nodeID: 4))
        cluster.stabilize()
        cluster.tickAll(times: 2)
        #expect(cluster[1].tracker.membership.learners == [4])
        #expect(throws: ProposalError.invalidConfigurationChange(.notLearner(2))) {
            try cluster.nodes[1]!.proposeConfChange(ConfChange(type: .promote, nodeID: 2))
        }
        try cluster[1].proposeConfChange(ConfChange(type: .promote, nodeID: 4))
        cluster.stabilize()
        cluster.tickAll(times: 2)
        #expect(cluster[4].tracker.membership.voters == [1, 2, 4])
        #expect(cluster[4].tracker.membership.learners.isEmpty)
    }

    @Test func thesis4_2_3_aRemovedLeaderStepsDown() throws {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        try cluster[1].proposeConfChange(ConfChange(type: .removeNode, nodeID: 1))
        cluster.stabilize()
        cluster.tickAll(times: 2)
        #expect(cluster[1].role == .follower)
        cluster.tickAll(times: 40)
        #expect(cluster.leaders.count == 1 && cluster.leaders[0] != 1)
    }

    @Test func section7_compactionAndChunkedSnapshotCatchUpANewMember() throws {
        var cluster = TestCluster(voters: [1, 2, 3]) { $0.snapshotChunkBytes = 4 }
        cluster.campaign(1)
        for number in 0..<10 {
            try cluster[1].propose([UInt8](text: "v\(number)"))
        }
        cluster.stabilize()
        cluster.tickAll(times: 2)
        let applied = cluster[1].log.applied
        let image = [UInt8](text: "state-machine-image-at-\(applied)")
        for id: UInt64 in [1, 2, 3] {
            cluster[id].compact(upTo: applied, snapshotData: image)
            #expect(cluster[id].log.firstIndex == applied + 1, "log compaction drops the prefix")
        }
        cluster.addEmptyMember(4) { $0.snapshotChunkBytes = 4 }
        try cluster[1].proposeConfChange(ConfChange(type: .addNode, nodeID: 4))
        cluster.delivered = []
        cluster.stabilize()
        cluster.tickAll(times: 3)
        let chunks = cluster.delivered.filter { $0.type == .snapshotChunk && $0.to == 4 }
        #expect(chunks.count >= (image.count + 3) / 4, "sent in chunks of at most 4 bytes")
        #expect(chunks.allSatisfy { ($0.snapshotChunk?.data.count ?? 99) <= 4 })
        #expect(cluster.installedSnapshots[4]?.last?.data == image)
        #expect(cluster.installedSnapshots[4]?.last?.metadata?.confState?.voters == [1, 2, 3])
        #expect(cluster[4].log.lastIndex == cluster[1].log.lastIndex)
        #expect(cluster[4].tracker.membership.voters == [1, 2, 3, 4])
        try cluster[1].propose([UInt8](text: "later"))
        cluster.stabilize()
        cluster.tickAll(times: 2)
        #expect(cluster.appliedCommands(4) == ["later"])
    }

    @Test func section7_aSnapshotWhoseLastEntryIsPresentAcknowledgesOnlyThatPrefix() {
        // The follower holds entries 1-3 of term 1 and a stale entry 4 of term 2; the leader's
        // snapshot ends at 3/t1. Only index 3 may be acknowledged, never the stale entry 4.
        let conf = ConfState(voters: [1, 2, 3])
        let snapshot = Snapshot(metadata: SnapshotMetadata(confState: conf, index: 1, term: 1), data: [])
        let entries = [Entry(term: 1, index: 2), Entry(term: 1, index: 3), Entry(term: 2, index: 4)]
        var follower = try! RaftNode(configuration: TestCluster.configuration(2), storage: RestoredState(
            hardState: HardState(term: 2, vote: 0, commit: 1), snapshot: snapshot, entries: entries))
        let metadata = SnapshotMetadata(confState: conf, index: 3, term: 1)
        follower.step(Message(type: .snapshotChunk, from: 1, to: 2, term: 3,
                              snapshotChunk: SnapshotChunk(metadata: metadata, offset: 0, totalBytes: 2, data: [1, 2])))
        let ready = follower.ready()
        let answer = ready.messagesAfterPersist.first { $0.type == .appendResponse }
        #expect(answer?.index == 3)
        #expect(answer?.reject == false)
        #expect(follower.log.committed == 3)
    }

    @Test func section7_aLostChunkIsResentFromTheAcknowledgedOffset() throws {
        var cluster = TestCluster(voters: [1, 2]) { $0.snapshotChunkBytes = 3 }
        cluster.campaign(1)
        try cluster[1].propose([UInt8](text: "x"))
        cluster.stabilize()
        cluster.tickAll(times: 2)
        let applied = cluster[1].log.applied
        let image = [UInt8](text: "0123456789abcdef")
        cluster[1].compact(upTo: applied, snapshotData: image)
        cluster.addEmptyMember(3)
        var dropped = 0
        cluster.dropFilter = { message in
            // Drop the second chunk once.
            message.type == .snapshotChunk && message.snapshotChunk?.offset == 3 && dropped == 0
        }
        try cluster[1].proposeConfChange(ConfChange(type: .addLearner, nodeID: 3))
        cluster.stabilize()
        dropped = 1
        cluster.dropFilter = nil
        cluster.tickAll(times: 5)
        #expect(cluster.installedSnapshots[3]?.last?.data == image)
    }
}

@Suite struct PrimitiveTests {
    @Test func quorumArithmetic() {
        let quorum = MajorityQuorum(voters: [1, 2, 3, 4, 5])
        let acknowledged: [UInt64: UInt64] = [1: 9, 2: 7, 3: 7, 4: 2, 5: 1]
        #expect(quorum.committedIndex { acknowledged[$0] ?? 0 } == 7)
        #expect(quorum.voteResult(votes: [1: true, 2: false, 3: false, 4: false]) == .lost)
        #expect(quorum.voteResult(votes: [1: true, 2: true]) == .pending)
        #expect(MajorityQuorum(voters: []).committedIndex { _ in 5 } == 0)
    }

    @Test func inflightWindowReleasesInOrder() {
        var window = InflightWindow(maximumCount: 3, maximumBytes: 100)
        window.add(lastIndex: 5, bytes: 10)
        window.add(lastIndex: 7, bytes: 10)
        window.add(lastIndex: 9, bytes: 10)
        #expect(window.isFull)
        window.release(upTo: 7)
        #expect(window.count == 1 && window.bytesInFlight == 10)
    }

    @Test func confChangeEncodingIsProtobuf() {
        let change = ConfChange(type: .promote, nodeID: 300, context: [1, 2])
        let bytes = ConfChangeCodec.encode(change)
        #expect(bytes == [0x08, 0x03, 0x10, 0xac, 0x02, 0x1a, 0x02, 0x01, 0x02])
        #expect(ConfChangeCodec.decode(bytes) == change)
        #expect(ConfChangeCodec.decode([0xff]) == nil)
    }
}
