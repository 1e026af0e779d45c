import Api
import Testing

@testable import Agents

@Suite struct TaintTolerationTests {
    let plugin = TaintToleration()

    @Test func untoleratedNoScheduleTaintRejectsWithKubernetesWording() {
        let cache = Fixtures.cache(nodes: [Fixtures.node("gpu", taints: [Fixtures.taint("dedicated", "gpu")])])
        let status = Fixtures.filter(plugin, Fixtures.pod("web"), cache, node: "gpu")
        #expect(status.code == .unschedulableAndUnresolvable)
        #expect(status.reasons == ["node(s) had untolerated taint {dedicated: gpu}"])
    }

    @Test func matchingTolerationsPass() {
        let cache = Fixtures.cache(nodes: [Fixtures.node("gpu", taints: [Fixtures.taint("dedicated", "gpu", .noExecute)])])
        let equal = Toleration(key: "dedicated", operator: "Equal", value: "gpu", effect: "NoExecute")
        let exists = Toleration(key: "dedicated", operator: "Exists")
        let everything = Toleration(operator: "Exists")
        let wrongValue = Toleration(key: "dedicated", value: "tpu")
        let wrongEffect = Toleration(key: "dedicated", operator: "Exists", effect: "NoSchedule")
        for toleration in [equal, exists, everything] {
            #expect(Fixtures.filter(plugin, Fixtures.pod("p", tolerations: [toleration]), cache, node: "gpu").isSuccess)
        }
        for toleration in [wrongValue, wrongEffect] {
            #expect(!Fixtures.filter(plugin, Fixtures.pod("p", tolerations: [toleration]), cache, node: "gpu").isSuccess)
        }
    }

    @Test func preferNoScheduleTaintsOnlyLowerTheScore() throws {
        let cache = Fixtures.cache(nodes: [
            Fixtures.node("clean"), Fixtures.node("one", taints: [Fixtures.taint("a", "", .preferNoSchedule)]),
            Fixtures.node("two", taints: [Fixtures.taint("a", "", .preferNoSchedule), Fixtures.taint("b", "", .preferNoSchedule)]),
        ])
        #expect(Fixtures.filter(plugin, Fixtures.pod("p"), cache, node: "two").isSuccess)
        let scores = try #require(Fixtures.scores(plugin, Fixtures.pod("p"), cache))
        #expect(scores == ["clean": 100, "one": 50, "two": 0])
        let tolerant = Fixtures.pod("p", tolerations: [Toleration(key: "a", operator: "Exists")])
        #expect(try #require(Fixtures.scores(plugin, tolerant, cache)) == ["clean": 100, "one": 100, "two": 0])
    }
}

@Suite struct NodeUnschedulableAndNodeNameTests {
    @Test func cordonedNodesRejectPodsThatDoNotTolerateIt() {
        let cache = Fixtures.cache(nodes: [Fixtures.node("cordoned", unschedulable: true), Fixtures.node("open")])
        let status = Fixtures.filter(NodeUnschedulable(), Fixtures.pod("p"), cache, node: "cordoned")
        #expect(status.reasons == ["node(s) were unschedulable"])
        #expect(Fixtures.filter(NodeUnschedulable(), Fixtures.pod("p"), cache, node: "open").isSuccess)
        let daemon = Fixtures.pod("d", tolerations: [Toleration(key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule")])
        #expect(Fixtures.filter(NodeUnschedulable(), daemon, cache, node: "cordoned").isSuccess)
    }

    @Test func aRequestedNodeNameKeepsThePodThere() {
        let cache = Fixtures.cache(nodes: [Fixtures.node("a"), Fixtures.node("b")])
        var pod = Fixtures.pod("p")
        pod.spec!.nodeName = "a"
        #expect(Fixtures.filter(NodeName(), pod, cache, node: "a").isSuccess)
        #expect(Fixtures.filter(NodeName(), pod, cache, node: "b").reasons == ["node(s) didn't match the requested node name"])
    }
}
