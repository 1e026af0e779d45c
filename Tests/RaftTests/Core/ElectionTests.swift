import Raft
import Testing

@Suite struct ElectionTests {
    @Test func section5_2_aCampaignWithAMajorityElectsOneLeader() {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        #expect(cluster.leaders == [1])
        #expect(cluster[2].leaderID == 1 && cluster[3].leaderID == 1)
        // Bootstrap is term 1; pre-vote does not raise it; the real election does.
        #expect(cluster[1].term == 2)
    }

    @Test func section5_2_electionTimeoutsElectExactlyOneLeader() {
        var cluster = TestCluster(voters: [1, 2, 3, 4, 5])
        cluster.tickAll(times: 40)
        #expect(cluster.leaders.count == 1)
        let leader = cluster.leaders[0]
        let term = cluster[leader].term
        for id in cluster.nodes.keys {
            #expect(cluster[id].term == term)
            #expect(cluster[id].leaderID == leader)
        }
    }

    @Test func section5_4_1_aCandidateWithAStaleLogIsRefused() {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        cluster.isolate(3)
        _ = try? cluster[1].propose([UInt8](text: "x"))
        cluster.stabilize()
        cluster.heal()
        // 3 lacks the entry, so 1 and 2 refuse it; with pre-vote nobody even raises the term.
        let termBefore = cluster[1].term
        cluster.campaign(3)
        #expect(cluster.leaders == [1])
        #expect(cluster[1].term == termBefore)
    }

    @Test func thesis9_6_preVoteKeepsAPartitionedMemberFromRaisingTerms() {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        let term = cluster[1].term
        cluster.isolate(3)
        for _ in 0..<10 {
            cluster.tick(3, times: 25)
            cluster.stabilize()
        }
        #expect(cluster[3].term == term, "pre-vote must not raise the term of a cut-off member")
        cluster.heal()
        cluster.tickAll(times: 5)
        #expect(cluster.leaders == [1])
        #expect(cluster[1].term == term)
    }

    @Test func thesis9_6_withoutPreVoteARejoiningMemberDisruptsTheLeader() {
        var cluster = TestCluster(voters: [1, 2, 3]) { $0.preVote = false; $0.checkQuorum = false }
        cluster.campaign(1)
        let term = cluster[1].term
        cluster.isolate(3)
        cluster.tick(3, times: 25)
        cluster.stabilize()
        #expect(cluster[3].term > term)
        cluster.heal()
        cluster.tickAll(times: 25)
        #expect(cluster[1].term > term, "the contrast case: the higher term deposes the leader")
    }

    @Test func thesis6_2_checkQuorumDeposesAnIsolatedLeader() {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        cluster.isolate(1)
        cluster.tick(1, times: 21)
        cluster.stabilize()
        #expect(cluster[1].role == .follower)
    }

    @Test func thesis6_2_followersInLeaseIgnoreVoteRequests() {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        let term = cluster[1].term
        // 3 campaigns although it heard from the leader recently: nobody grants.
        cluster.campaign(3)
        #expect(cluster.leaders == [1])
        #expect(cluster[1].term == term)
    }

    @Test func thesis4_2_1_aLearnerNeverCampaignsAndItsVoteDoesNotCount() throws {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        cluster.addEmptyMember(4)
        try cluster[1].proposeConfChange(ConfChange(type: .addLearner, nodeID: 4))
        cluster.stabilize()
        #expect(cluster[4].log.lastIndex == cluster[1].log.lastIndex, "a learner receives the log")
        cluster.isolate(1)
        cluster.tick(4, times: 100)
        cluster.stabilize()
        #expect(cluster[4].role == .follower)
        let quorum = MajorityQuorum(voters: [1, 2, 3])
        #expect(quorum.voteResult(votes: [1: true, 4: true]) == .pending)
        #expect(quorum.voteResult(votes: [1: true, 2: true]) == .won)
    }

    @Test func electionTimeoutsAreRandomizedFromTheSeed() {
        func firstCampaignTick(seed: UInt64) -> Int {
            var configuration = RaftConfiguration(id: 1, randomSeed: seed)
            configuration.electionTimeoutTicks = 10
            var node = try! RaftNode(configuration: configuration, storage: RestoredState())
            node.bootstrap(voters: [1, 2, 3])
            let ready = node.ready()
            node.advance(ready)
            _ = node.ready()
            for tick in 1...40 {
                node.tick()
                if node.role != .follower {
                    return tick
                }
            }
            return -1
        }
        let ticks = (0..<20).map { firstCampaignTick(seed: $0) }
        #expect(ticks.allSatisfy { $0 >= 10 && $0 < 20 })
        #expect(Set(ticks).count > 1)
        #expect(ticks == (0..<20).map { firstCampaignTick(seed: $0) }, "same seed, same timeouts")
    }
}
