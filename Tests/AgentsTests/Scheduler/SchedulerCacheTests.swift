import Api
import Testing

@testable import Agents

@Suite struct SchedulerCacheTests {
    @Test func anAssumedPodCountsAtOnceAndTheInformerConfirmsIt() throws {
        var cache = SchedulerFixtures.cache(nodes: [SchedulerFixtures.node("n1")])
        let pending = SchedulerFixtures.pod("p", cpu: "1", memory: "1Gi")
        cache.assume(PodInfo(pending), on: "n1")
        #expect(cache.isAssumed(uid: "default-p-uid"))
        #expect(cache.nodeInfo(named: "n1")?.requested.milliCPU == 1000)
        #expect(cache.nodeInfo(named: "n1")?.podCount == 1)
        var bound = pending
        bound.spec?.nodeName = "n1"
        let change = cache.addPod(PodInfo(bound))
        #expect(change == .assignedPodAdd)
        #expect(!cache.isAssumed(uid: "default-p-uid"))
        #expect(cache.nodeInfo(named: "n1")?.podCount == 1)
        #expect(cache.assumedCount == 0)
    }

    @Test func aFailedBindingIsForgotten() {
        var cache = SchedulerFixtures.cache(nodes: [SchedulerFixtures.node("n1")])
        cache.assume(PodInfo(SchedulerFixtures.pod("p", cpu: "2")), on: "n1")
        let forgotten = cache.forget(uid: "default-p-uid")
        #expect(forgotten)
        #expect(cache.nodeInfo(named: "n1")?.requested.milliCPU == 0)
        #expect(cache.nodeInfo(named: "n1")?.podCount == 0)
        let forgottenAgain = cache.forget(uid: "default-p-uid")
        #expect(!forgottenAgain)
    }

    @Test func aPodBoundElsewhereThanAssumedMoves() {
        var cache = SchedulerFixtures.cache(nodes: [SchedulerFixtures.node("n1"), SchedulerFixtures.node("n2")])
        cache.assume(PodInfo(SchedulerFixtures.pod("p", cpu: "1")), on: "n1")
        cache.addPod(PodInfo(SchedulerFixtures.pod("p", cpu: "1", nodeName: "n2")))
        #expect(cache.nodeInfo(named: "n1")?.podCount == 0)
        #expect(cache.nodeInfo(named: "n2")?.requested.milliCPU == 1000)
    }

    @Test func podsOfADeletedNodeAreKeptUntilTheyGoAndComeBackWithIt() {
        var cache = SchedulerFixtures.cache(nodes: [SchedulerFixtures.node("n1")], pods: [SchedulerFixtures.pod("p", cpu: "1", nodeName: "n1")])
        cache.removeNode(named: "n1")
        #expect(cache.nodeCount == 0)
        #expect(cache.nodeInfo(named: "n1")?.hasNode == false)
        let readded = cache.setNode(SchedulerFixtures.node("n1"))
        #expect(readded == .nodeAdd)
        #expect(cache.nodeInfo(named: "n1")?.requested.milliCPU == 1000)
        cache.removeNode(named: "n1")
        cache.removePod(uid: "default-p-uid")
        #expect(cache.nodes.isEmpty)
    }

    @Test func nodeUpdatesSayWhatChanged() {
        var cache = SchedulerFixtures.cache(nodes: [SchedulerFixtures.node("n1")])
        let unchanged = cache.setNode(SchedulerFixtures.node("n1"))
        #expect(unchanged == [])
        let resized = cache.setNode(SchedulerFixtures.node("n1", cpu: "8"))
        #expect(resized == .nodeAllocatableChange)
        let relabelled = cache.setNode(SchedulerFixtures.node("n1", cpu: "8", labels: ["disk": "ssd"]))
        #expect(relabelled == .nodeLabelChange)
        let tainted = SchedulerFixtures.node("n1", cpu: "8", labels: ["disk": "ssd"], taints: [SchedulerFixtures.taint("k")])
        let retainted = cache.setNode(tainted)
        #expect(retainted == .nodeTaintChange)
        #expect(cache.counts.nodesWithFilterTaints == 1)
    }
}
