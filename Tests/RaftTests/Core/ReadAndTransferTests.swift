import Raft
import Testing

@Suite struct ReadAndTransferTests {
    @Test func thesis6_4_readIndexOnTheLeaderWaitsForAHeartbeatQuorum() throws {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        try cluster[1].propose([UInt8](text: "a"))
        cluster.stabilize()
        cluster.delivered = []
        try cluster[1].readIndex(context: [7])
        let ready = cluster[1].ready()
        #expect(ready.readStates.isEmpty, "not before a quorum confirms leadership")
        #expect(ready.messages.filter { $0.type == .heartbeat && $0.readRound > 0 }.count == 2)
        cluster.pending.append(contentsOf: ready.messages)
        cluster[1].advance(ready)
        cluster.stabilize()
        #expect(cluster.readStates[1] == [ReadState(index: cluster[1].log.committed, context: [7])])
    }

    @Test func thesis6_4_aCutOffLeaderCannotServeReads() throws {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        cluster.isolate(1)
        try cluster[1].readIndex(context: [1])
        cluster.stabilize()
        #expect(cluster.readStates[1, default: []].isEmpty)
    }

    @Test func thesis6_4_aFollowerForwardsReadIndexToTheLeader() throws {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        try cluster[3].readIndex(context: [9])
        cluster.stabilize()
        #expect(cluster.readStates[3] == [ReadState(index: cluster[1].log.committed, context: [9])])
    }

    @Test func thesis6_4_aNewLeaderAnswersReadsOnlyAfterCommittingInItsTerm() throws {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        cluster.isolate(1)
        cluster.dropFilter = { $0.type == .appendResponse }
        let elected = cluster.electAmong([2, 3])
        let leader = try #require(elected)
        try cluster[leader].readIndex(context: [5])
        cluster.stabilize()
        #expect(cluster.readStates[leader, default: []].isEmpty, "no entry of its term is committed yet")
        cluster.dropFilter = nil
        cluster.tick(leader, times: 1)
        cluster.stabilize()
        cluster.tick(leader, times: 1)
        cluster.stabilize()
        #expect(cluster.readStates[leader]?.first?.context == [5])
        #expect(cluster[leader].log.term(at: cluster.readStates[leader]!.first!.index) == cluster[leader].term)
    }

    @Test func thesis3_10_leadershipTransferHandsOverToAnUpToDateVoter() throws {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        let term = cluster[1].term
        try cluster[1].transferLeadership(to: 3)
        cluster.stabilize()
        #expect(cluster.leaders == [3])
        #expect(cluster[3].term == term + 1)
    }

    @Test func thesis3_10_aLaggingTargetIsCaughtUpFirstAndProposalsWait() throws {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        cluster.isolate(3)
        try cluster[1].propose([UInt8](text: "a"))
        cluster.stabilize()
        cluster.heal()
        try cluster[1].transferLeadership(to: 3)
        #expect(throws: ProposalError.leadershipTransferInProgress) {
            try cluster.nodes[1]!.propose([UInt8](text: "b"))
        }
        cluster.stabilize()
        #expect(cluster.leaders == [3])
        cluster.tickAll(times: 2)
        #expect(cluster.appliedCommands(3) == ["a"])
    }

    @Test func thesis3_10_aTransferToAnUnreachableMemberIsAbandoned() throws {
        var cluster = TestCluster(voters: [1, 2, 3])
        cluster.campaign(1)
        cluster.isolate(3)
        try cluster[1].transferLeadership(to: 3)
        cluster.tickAll(times: 11)
        #expect(cluster[1].transferTarget == nil)
        #expect(throws: Never.self) { try cluster.nodes[1]!.propose([UInt8](text: "b")) }
    }
}
