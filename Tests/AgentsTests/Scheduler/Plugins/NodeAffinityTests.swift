import Api
import Testing

@testable import Agents

@Suite struct NodeAffinityTests {
    let plugin = NodeAffinityPlugin()
    let cache = SchedulerFixtures.cache(nodes: [
        SchedulerFixtures.node("ssd-1", labels: ["disk": "ssd", "generation": "5"]),
        SchedulerFixtures.node("hdd-1", labels: ["disk": "hdd", "generation": "3"]),
    ])

    @Test func nodeSelectorMustMatchEveryLabel() {
        let pod = SchedulerFixtures.pod("p", nodeSelector: ["disk": "ssd"])
        #expect(SchedulerFixtures.filter(plugin, pod, cache, node: "ssd-1").isSuccess)
        let status = SchedulerFixtures.filter(plugin, pod, cache, node: "hdd-1")
        #expect(status.code == .unschedulableAndUnresolvable)
        #expect(status.reasons == ["node(s) didn't match Pod's node affinity/selector"])
    }

    @Test func requiredTermsAreOredAndExpressionsAnded() {
        let newSSD = NodeSelectorTerm(matchExpressions: [
            SchedulerFixtures.requirement("disk", "In", ["ssd"]), SchedulerFixtures.requirement("generation", "Gt", ["4"]),
        ])
        let named = NodeSelectorTerm(matchFields: [SchedulerFixtures.requirement("metadata.name", "In", ["hdd-1"])])
        func pod(_ terms: [NodeSelectorTerm]) -> Pod {
            SchedulerFixtures.pod("p", affinity: Affinity(nodeAffinity: .init(requiredDuringSchedulingIgnoredDuringExecution: NodeSelector(nodeSelectorTerms: terms))))
        }
        #expect(SchedulerFixtures.filter(plugin, pod([newSSD]), cache, node: "ssd-1").isSuccess)
        #expect(!SchedulerFixtures.filter(plugin, pod([newSSD]), cache, node: "hdd-1").isSuccess)
        #expect(SchedulerFixtures.filter(plugin, pod([newSSD, named]), cache, node: "hdd-1").isSuccess)
        let absent = NodeSelectorTerm(matchExpressions: [SchedulerFixtures.requirement("gpu", "DoesNotExist")])
        #expect(SchedulerFixtures.filter(plugin, pod([absent]), cache, node: "hdd-1").isSuccess)
        // No terms at all: no node matches, as in Kubernetes.
        #expect(!SchedulerFixtures.filter(plugin, pod([]), cache, node: "ssd-1").isSuccess)
    }

    @Test func anUnknownOperatorIsReportedAsThePodsProblem() {
        let bad = NodeSelectorTerm(matchExpressions: [SchedulerFixtures.requirement("disk", "Near", ["ssd"])])
        let pod = SchedulerFixtures.pod(
            "p", affinity: Affinity(nodeAffinity: .init(requiredDuringSchedulingIgnoredDuringExecution: NodeSelector(nodeSelectorTerms: [bad]))))
        let problem = PodInfo(pod).problem ?? ""
        #expect(problem.contains("matchExpressions[0].operator"))
        #expect(problem.contains("\"Near\" is not a valid operator"))
    }

    @Test func preferredTermsScoreByWeight() throws {
        let preferSSD = PreferredSchedulingTerm(weight: 80, preference: NodeSelectorTerm(matchExpressions: [SchedulerFixtures.requirement("disk", "In", ["ssd"])]))
        let preferOld = PreferredSchedulingTerm(weight: 20, preference: NodeSelectorTerm(matchExpressions: [SchedulerFixtures.requirement("generation", "Lt", ["4"])]))
        let pod = SchedulerFixtures.pod("p", affinity: Affinity(nodeAffinity: .init(preferredDuringSchedulingIgnoredDuringExecution: [preferSSD, preferOld])))
        #expect(try #require(SchedulerFixtures.scores(plugin, pod, cache)) == ["ssd-1": 100, "hdd-1": 25])
        #expect(SchedulerFixtures.scores(plugin, SchedulerFixtures.pod("plain"), cache) == nil)
    }
}

@Suite struct NodePortsTests {
    @Test func aTakenHostPortRejectsTheNode() {
        let cache = SchedulerFixtures.cache(nodes: [SchedulerFixtures.node("n1"), SchedulerFixtures.node("n2")], pods: [SchedulerFixtures.pod("web", nodeName: "n1", hostPorts: [8080])])
        let pod = SchedulerFixtures.pod("other", hostPorts: [8080])
        let status = SchedulerFixtures.filter(NodePorts(), pod, cache, node: "n1")
        #expect(status.code == .unschedulable)
        #expect(status.reasons == ["node(s) didn't have free ports for the requested pod ports"])
        #expect(SchedulerFixtures.filter(NodePorts(), pod, cache, node: "n2").isSuccess)
        #expect(SchedulerFixtures.filter(NodePorts(), SchedulerFixtures.pod("free", hostPorts: [9090]), cache, node: "n1").isSuccess)
    }

    @Test func specificAddressesConflictOnlyWithThemselvesAndTheWildcard() {
        var node = NodeInfo(node: SchedulerFixtures.node("n1"))
        var pod = SchedulerFixtures.pod("a")
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
        let cache = SchedulerFixtures.cache(
            nodes: [SchedulerFixtures.node("cpu-heavy"), SchedulerFixtures.node("balanced")],
            pods: [SchedulerFixtures.pod("load", cpu: "2", memory: "1Gi", nodeName: "cpu-heavy")])
        let scores = try #require(SchedulerFixtures.scores(NodeResourcesBalancedAllocation(), SchedulerFixtures.pod("p", cpu: "1", memory: "4Gi"), cache))
        // cpu-heavy: cpu 3/4, memory 5/16 → deviation 0.21875 → 78; balanced: 1/4 and 4/16 → 100.
        #expect(scores == ["cpu-heavy": 78, "balanced": 100])
        #expect(SchedulerFixtures.scores(NodeResourcesBalancedAllocation(), SchedulerFixtures.pod("bare"), cache) == nil)
    }
}
