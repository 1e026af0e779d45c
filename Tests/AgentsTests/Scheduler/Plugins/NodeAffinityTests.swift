import Api
import Testing

@testable import Agents

@Suite struct NodeAffinityTests {
    let plugin = Agents.NodeAffinity()
    let cache = Fixtures.cache(nodes: [
        Fixtures.node("ssd-1", labels: ["disk": "ssd", "generation": "5"]),
        Fixtures.node("hdd-1", labels: ["disk": "hdd", "generation": "3"]),
    ])

    @Test func nodeSelectorMustMatchEveryLabel() {
        let pod = Fixtures.pod("p", nodeSelector: ["disk": "ssd"])
        #expect(Fixtures.filter(plugin, pod, cache, node: "ssd-1").isSuccess)
        let status = Fixtures.filter(plugin, pod, cache, node: "hdd-1")
        #expect(status.code == .unschedulableAndUnresolvable)
        #expect(status.reasons == ["node(s) didn't match Pod's node affinity/selector"])
    }

    @Test func requiredTermsAreOredAndExpressionsAnded() {
        let newSSD = NodeSelectorTerm(matchExpressions: [
            Fixtures.requirement("disk", "In", ["ssd"]), Fixtures.requirement("generation", "Gt", ["4"]),
        ])
        let named = NodeSelectorTerm(matchFields: [Fixtures.requirement("metadata.name", "In", ["hdd-1"])])
        func pod(_ terms: [NodeSelectorTerm]) -> Pod {
            Fixtures.pod("p", affinity: Affinity(nodeAffinity: .init(requiredDuringSchedulingIgnoredDuringExecution: NodeSelector(nodeSelectorTerms: terms))))
        }
        #expect(Fixtures.filter(plugin, pod([newSSD]), cache, node: "ssd-1").isSuccess)
        #expect(!Fixtures.filter(plugin, pod([newSSD]), cache, node: "hdd-1").isSuccess)
        #expect(Fixtures.filter(plugin, pod([newSSD, named]), cache, node: "hdd-1").isSuccess)
        let absent = NodeSelectorTerm(matchExpressions: [Fixtures.requirement("gpu", "DoesNotExist")])
        #expect(Fixtures.filter(plugin, pod([absent]), cache, node: "hdd-1").isSuccess)
        // No terms at all: no node matches, as in Kubernetes.
        #expect(!Fixtures.filter(plugin, pod([]), cache, node: "ssd-1").isSuccess)
    }

    @Test func anUnknownOperatorIsReportedAsThePodsProblem() {
        let bad = NodeSelectorTerm(matchExpressions: [Fixtures.requirement("disk", "Near", ["ssd"])])
        let pod = Fixtures.pod(
            "p", affinity: Affinity(nodeAffinity: .init(requiredDuringSchedulingIgnoredDuringExecution: NodeSelector(nodeSelectorTerms: [bad]))))
        let problem = PodInfo(pod).problem ?? ""
        #expect(problem.contains("matchExpressions[0].operator"))
        #expect(problem.contains("\"Near\" is not a valid operator"))
    }

    @Test func preferredTermsScoreByWeight() throws {
        let preferSSD = PreferredSchedulingTerm(weight: 80, preference: NodeSelectorTerm(matchExpressions: [Fixtures.requirement("disk", "In", ["ssd"])]))
        let preferOld = PreferredSchedulingTerm(weight: 20, preference: NodeSelectorTerm(matchExpressions: [Fixtures.requirement("generation", "Lt", ["4"])]))
        let pod = Fixtures.pod("p", affinity: Affinity(nodeAffinity: .init(preferredDuringSchedulingIgnoredDuringExecution: [preferSSD, preferOld])))
        #expect(try #require(Fixtures.scores(plugin, pod, cache)) == ["ssd-1": 100, "hdd-1": 25])
        #expect(Fixtures.scores(plugin, Fixtures.pod("plain"), cache) == nil)
    }
}

@Suite struct NodePortsTests {
    @Test func aTakenHostPortRejectsTheNode() {
        let cache = Fixtures.cache(nodes: [Fixtures.node("n1"), Fixtures.node("n2")], pods: [Fixtures.pod("web", nodeName: "n1", hostPorts: [8080])])
        let pod = Fixtures.pod("other", hostPorts: [8080])
        let status = Fixtures.filter(NodePorts(), pod, cache, node: "n1")
        #expect(status.code == .unschedulable)
        #expect(status.reasons == ["node(s) didn't have free ports for the requested pod ports"])
        #expect(Fixtures.filter(NodePorts(), pod, cache, node: "n2").isSuccess)
        #expect(Fixtures.filter(NodePorts(), Fixtures.pod("free", hostPorts: [9090]), cache, node: "n1").isSuccess)
    }

    @Test func specificAddressesConflictOnlyWithThemselvesAndTheWildcard() {
        var node = NodeInfo(node: Fixtures.node("n1"))
        var pod = Fixtures.pod("a")
        pod.spec!.containers[0].ports = [ContainerPort(hostPort: 53, containerPort: 53, protocol: "UDP", hostIP: "127.95.0.1")]
        node.add(PodInfo(pod))
        #expect(!node.isFree(HostPort(protocol: "UDP", ip: "127.95.0.1", port: 53)))
        #expect(node.isFree(HostPort(protocol: "UDP", ip: "127.95.0.2", port: 53)))
        #expect(node.isFree(HostPort(protocol: "TCP", ip: "127.95.0.1", port: 53)))
        #expect(!node.isFree(HostPort(protocol: "UDP", ip: "0.0.0.0", port: 53)))
    }
}

@Suite struct BalancedAllocationTests {
    @Test func prefersTheNodeWhereCPUAndMemoryStayInProportion() throws {
        let cache = Fixtures.cache(
            nodes: [Fixtures.node("cpu-heavy"), Fixtures.node("balanced")],
            pods: [Fixtures.pod("load", cpu: "2", memory: "1Gi", nodeName: "cpu-heavy")])
        let scores = try #require(Fixtures.scores(NodeResourcesBalancedAllocation(), Fixtures.pod("p", cpu: "1", memory: "4Gi"), cache))
        // cpu-heavy: cpu 3/4, memory 5/16 → deviation 0.21875 → 78; balanced: 1/4 and 4/16 → 100.
        #expect(scores == ["cpu-heavy": 78, "balanced": 100])
        #expect(Fixtures.scores(NodeResourcesBalancedAllocation(), Fixtures.pod("bare"), cache) == nil)
    }
}
