import Foundation
import Testing

@testable import Agents
@testable import Api

@Suite struct PodGCTests {
    let now = Fixture.epoch

    func pod(
        _ name: String, node: String? = "node-1", phase: String = "Running", deletedAt: Date? = nil, created: Date? = nil,
        finalizers: [String] = []
    ) -> Pod {
        var pod = Fixture.pod(name, node: node, phase: phase)
        pod.metadata?.deletionTimestamp = deletedAt.map(ClusterTime.time)
        pod.metadata?.creationTimestamp = ClusterTime.time(created ?? now.addingTimeInterval(-3600))
        pod.metadata?.finalizers = finalizers
        return pod
    }

    func node(_ name: String, ready: String?) -> Node {
        var node = Fixture.node(name)
        if let ready {
            var condition = NodeCondition()
            condition.type = "Ready"
            condition.status = ready
            node.status = NodeStatus(conditions: [condition])
        }
        return node
    }

    func plan(_ pods: [Pod], _ nodes: [Node], gone: Set<String> = [], threshold: Int = 12_500) -> PodGarbageCollection.Plan {
        PodGarbageCollection.plan(
            pods: pods, nodes: PodGarbageCollection.Nodes(nodes, confirmedGone: gone), now: now, terminatedThreshold: threshold)
    }

    func reasons(_ plan: PodGarbageCollection.Plan) -> [String: PodGarbageCollection.Reason] {
        Dictionary(uniqueKeysWithValues: plan.deletions.map { ($0.name, $0.reason) })
    }

    @Test("pods on a node confirmed gone are deleted; a node missing only from the cache deletes nothing")
    func orphans() {
        let pods = [pod("a", node: "dead"), pod("b", node: "lagging"), pod("c", node: "node-1"), pod("d", node: nil, phase: "Pending")]
        let result = plan(pods, [node("node-1", ready: "True")], gone: ["dead"])
        #expect(reasons(result) == ["a": .orphaned(node: "dead")])
        let deletion = result.deletions.first
        #expect(deletion?.namespace == "default")
        #expect(deletion?.uid == "uid-a", "the deletion carries the uid as a precondition")
        // A node that is in the cache is never orphaning its pods, even if the API said otherwise.
        #expect(plan([pod("e", node: "node-1")], [node("node-1", ready: "True")], gone: ["node-1"]).deletions.isEmpty)
    }

    @Test("a terminating pod on an Unknown or NotReady node goes once its deletion deadline passed, not before; on a Ready node never")
    func terminatingOnUnreadyNodes() {
        let nodes = [node("lost", ready: "Unknown"), node("sick", ready: "False"), node("fine", ready: "True"), node("new", ready: nil)]
        let pods = [
            pod("due", node: "lost", deletedAt: now.addingTimeInterval(-1)),
            pod("due-sick", node: "sick", deletedAt: now),
            pod("waiting", node: "lost", deletedAt: now.addingTimeInterval(20)),
            pod("later", node: "sick", deletedAt: now.addingTimeInterval(45)),
            pod("healthy-node", node: "fine", deletedAt: now.addingTimeInterval(-100)),
            pod("no-condition-yet", node: "new", deletedAt: now.addingTimeInterval(-100)),
            pod("alive", node: "lost"),
            pod("finalized", node: "lost", deletedAt: now.addingTimeInterval(-100), finalizers: ["example.com/keep"]),
        ]
        let result = plan(pods, nodes)
        #expect(reasons(result) == [
            "due": .terminatingOnUnreadyNode(node: "lost"), "due-sick": .terminatingOnUnreadyNode(node: "sick"),
        ])
        #expect(result.nextDeadline == now.addingTimeInterval(20), "look again when the next pod's grace period ends")
    }

    @Test("a terminating pod that was never scheduled is force-deleted unless a finalizer holds it")
    func unscheduledTerminating() {
        let pods = [
            pod("stuck", node: nil, phase: "Pending", deletedAt: now.addingTimeInterval(30)),
            pod("held", node: nil, phase: "Pending", deletedAt: now, finalizers: ["example.com/keep"]),
            pod("pending", node: nil, phase: "Pending"),
        ]
        #expect(reasons(plan(pods, [])) == ["stuck": .unscheduledTerminating])
    }

    @Test("finished pods above the threshold are deleted oldest first; running ones never count; 0 keeps them all")
    func terminatedAboveThreshold() {
        let pods = [
            pod("done-3", phase: "Succeeded", created: now.addingTimeInterval(-10)),
            pod("failed-1", phase: "Failed", created: now.addingTimeInterval(-30)),
            pod("running", phase: "Running", created: now.addingTimeInterval(-100)),
            pod("done-2", phase: "Succeeded", created: now.addingTimeInterval(-20)),
            pod("done-4", phase: "Succeeded", created: now.addingTimeInterval(-5)),
        ]
        let nodes = [node("node-1", ready: "True")]
        let result = plan(pods, nodes, threshold: 2)
        #expect(result.deletions.map(\.name) == ["failed-1", "done-2"])
        #expect(result.deletions.allSatisfy { $0.reason == .terminatedOverThreshold })
        #expect(plan(pods, nodes, threshold: 4).deletions.isEmpty)
        #expect(plan(pods, nodes, threshold: 0).deletions.isEmpty)
    }

    @Test("a pod is deleted once even when several reasons apply")
    func onceEach() {
        let finishedOrphan = pod("gone", node: "dead", phase: "Succeeded")
        let result = plan([finishedOrphan, pod("done", phase: "Failed")], [node("node-1", ready: "True")], gone: ["dead"], threshold: 0)
        #expect(result.deletions.map(\.name) == ["gone"])
        #expect(result.deletions.first?.reason == .orphaned(node: "dead"))
    }

    @Test("missing nodes are those bound pods name that the cache lacks")
    func missingNodes() {
        let missing = PodGarbageCollection.missingNodes(boundTo: ["", "node-1", "node-9", "node-9"], existing: ["node-1"])
        #expect(missing == ["node-9"])
    }

    @Test("a missing node leaves quarantine after the period; one that comes back starts over")
    func quarantine() {
        var quarantine = NodeQuarantine()
        #expect(quarantine.update(missing: ["n9"], now: now, quarantine: 40).isEmpty)
        #expect(quarantine.nextRelease(quarantine: 40) == now.addingTimeInterval(40))
        #expect(quarantine.update(missing: ["n9", "n8"], now: now.addingTimeInterval(39), quarantine: 40).isEmpty)
        #expect(quarantine.update(missing: ["n9", "n8"], now: now.addingTimeInterval(40), quarantine: 40) == ["n9"])
        quarantine.clear("n9")
        #expect(quarantine.update(missing: ["n9", "n8"], now: now.addingTimeInterval(41), quarantine: 40).isEmpty)
        // n8 is back in the cache: forgotten.
        #expect(quarantine.update(missing: ["n9"], now: now.addingTimeInterval(79), quarantine: 40).isEmpty)
        #expect(quarantine.update(missing: ["n9", "n8"], now: now.addingTimeInterval(100), quarantine: 40) == ["n9"])
    }

    @Test("the pod garbage collector is one of the cluster controllers, named podgc")
    func registered() {
        #expect(ClusterControllers.all.map { $0.name }.contains("podgc"))
        #expect(PodGCController.name == "podgc")
        #expect(ClusterControllerOptions().terminatedPodGCThreshold == 12_500)
    }
}
