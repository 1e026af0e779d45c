import Api
import Testing

@testable import Agents

@Suite struct TaintTolerationTests {
    let plugin = TaintToleration()

    @Test func untoleratedNoScheduleTaintRejectsWithKubernetesWording() {
        let cache = SchedulerFixtures.cache(nodes: [SchedulerFixtures.node("gpu", taints: [SchedulerFixtures.taint("dedicated", "gpu")])])
        let status = SchedulerFixtures.filter(plugin, SchedulerFixtures.pod("web"), cache, node: "gpu")
        #expect(status.code == .unschedulableAndUnresolvable)
        #expect(status.reasons == ["node(s) had untolerated taint {dedicated: gpu}"])
    }

    @Test func matchingTolerationsPass() {
        let cache = SchedulerFixtures.cache(nodes: [SchedulerFixtures.node("gpu", taints: [SchedulerFixtures.taint("dedicated", "gpu", .noExecute)])])
        let equal = Toleration(key: "dedicated", operator: "Equal", value: "gpu", effect: "NoExecute")
        let exists = Toleration(key: "dedicated", operator: "Exists")
        let everything = Toleration(operator: "Exists")
        let wrongValue = Toleration(key: "dedicated", value: "tpu")
        let wrongEffect = Toleration(key: "dedicated", operator: "Exists", effect: "NoSchedule")
        for toleration in [equal, exists, everything] {
            #expect(SchedulerFixtures.filter(plugin, SchedulerFixtures.pod("p", tolerations: [toleration]), cache, node: "gpu").isSuccess)
        }
        for toleration in [wrongValue, wrongEffect] {
            #expect(!SchedulerFixtures.filter(plugin, SchedulerFixtures.pod("p", tolerations: [toleration]), cache, node: "gpu").isSuccess)
        }
    }

    @Test func preferNoScheduleTaintsOnlyLowerTheScore() throws {
        let cache = SchedulerFixtures.cache(nodes: [
            SchedulerFixtures.node("clean"), SchedulerFixtures.node("one", taints: [SchedulerFixtures.taint("a", "", .preferNoSchedule)]),
            SchedulerFixtures.node("two", taints: [SchedulerFixtures.taint("a", "", .preferNoSchedule), SchedulerFixtures.taint("b", "", .preferNoSchedule)]),
        ])
        #expect(SchedulerFixtures.filter(plugin, SchedulerFixtures.pod("p"), cache, node: "two").isSuccess)
        let scores = try #require(SchedulerFixtures.scores(plugin, SchedulerFixtures.pod("p"), cache))
        #expect(scores == ["clean": 100, "one": 50, "two": 0])
        let tolerant = SchedulerFixtures.pod("p", tolerations: [Toleration(key: "a", operator: "Exists")])
        #expect(try #require(SchedulerFixtures.scores(plugin, tolerant, cache)) == ["clean": 100, "one": 100, "two": 0])
    }
}

@Suite struct NodeUnschedulableAndNodeNameTests {
    @Test func cordonedNodesRejectPodsThatDoNotTolerateIt() {
        let cache = SchedulerFixtures.cache(nodes: [SchedulerFixtures.node("cordoned", unschedulable: true), SchedulerFixtures.node("open")])
        let status = SchedulerFixtures.filter(NodeUnschedulable(), SchedulerFixtures.pod("p"), cache, node: "cordoned")
        #expect(status.reasons == ["node(s) were unschedulable"])
        #expect(SchedulerFixtures.filter(NodeUnschedulable(), SchedulerFixtures.pod("p"), cache, node: "open").isSuccess)
        let daemon = SchedulerFixtures.pod("d", tolerations: [Toleration(key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule")])
        #expect(SchedulerFixtures.filter(NodeUnschedulable(), daemon, cache, node: "cordoned").isSuccess)
    }

    @Test func aRequestedNodeNameKeepsThePodThere() {
        let cache = SchedulerFixtures.cache(nodes: [SchedulerFixtures.node("a"), SchedulerFixtures.node("b")])
        var pod = SchedulerFixtures.pod("p")
        pod.spec!.nodeName = "a"
        #expect(SchedulerFixtures.filter(NodeName(), pod, cache, node: "a").isSuccess)
        #expect(SchedulerFixtures.filter(NodeName(), pod, cache, node: "b").reasons == ["node(s) didn't match the requested node name"])
    }
}
