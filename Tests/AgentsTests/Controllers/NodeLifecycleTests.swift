import Foundation
import Testing

@testable import Agents
@testable import Api

@Suite struct NodeLifecycleTests {
    let grace: TimeInterval = 40
    let start = Fixture.epoch

    @Test func aNodeWithinItsGracePeriodIsLeftAloneAndRecheckedWhenItRunsOut() {
        let node = Fixture.node("n1")
        let assessment = NodeLifecycle.assess(node: node, lastHeartbeat: start, now: start.addingTimeInterval(10), gracePeriod: grace)
        #expect(assessment.conditions == nil)
        #expect(assessment.taints == nil)
        #expect(assessment.readyStatus == "True")
        #expect(assessment.recheckAt == start.addingTimeInterval(40))
    }

    @Test func aSilentNodeBecomesUnknownAndGetsBothUnreachableTaints() {
        var node = Fixture.node("n1", taints: [Fixture.taint("dedicated", "NoSchedule")])
        var pressure = NodeCondition()
        pressure.type = "MemoryPressure"
        pressure.status = "False"
        node.status?.conditions.append(pressure)
        let now = start.addingTimeInterval(41)
        let assessment = NodeLifecycle.assess(node: node, lastHeartbeat: start, now: now, gracePeriod: grace)
        let ready = assessment.conditions?.first { $0.type == "Ready" }
        #expect(ready?.status == "Unknown")
        #expect(ready?.reason == "NodeStatusUnknown")
        #expect(ready?.message == "Kubelet stopped posting node status.")
        #expect(ready?.lastHeartbeatTime == ClusterTime.time(start), "the last heartbeat stays what the agent wrote")
        #expect(assessment.conditions?.first { $0.type == "MemoryPressure" }?.status == "Unknown")
        #expect(assessment.readyStatus == "Unknown")
        #expect(assessment.recheckAt == nil)
        let taints = assessment.taints ?? []
        #expect(NodeLifecycle.taintSet(taints) == [
            "dedicated=:NoSchedule", "node.kubernetes.io/unreachable=:NoSchedule", "node.kubernetes.io/unreachable=:NoExecute",
        ])
        #expect(taints.first { $0.effect == "NoExecute" }?.timeAdded == ClusterTime.time(now))
    }

    @Test func aNodeThatNeverPostedStatusGetsReadyUnknownNeverUpdated() {
        let node = Fixture.node("n1", ready: nil)
        let assessment = NodeLifecycle.assess(node: node, lastHeartbeat: start, now: start.addingTimeInterval(50), gracePeriod: grace)
        let ready = assessment.conditions?.first { $0.type == "Ready" }
        #expect(ready?.status == "Unknown")
        #expect(ready?.reason == "NodeStatusNeverUpdated")
        #expect(ready?.message == "Kubelet never posted node status.")
    }

    @Test func readyFalseGivesNotReadyTaintsAndReadyTrueRemovesThem() {
        let notReady = NodeLifecycle.assess(
            node: Fixture.node("n1", ready: "False"), lastHeartbeat: start, now: start.addingTimeInterval(1), gracePeriod: grace)
        #expect(NodeLifecycle.taintSet(notReady.taints ?? []) == [
            "node.kubernetes.io/not-ready=:NoSchedule", "node.kubernetes.io/not-ready=:NoExecute",
        ])
        let recovered = Fixture.node("n1", ready: "True", taints: [
            Fixture.taint("node.kubernetes.io/unreachable", "NoSchedule"), Fixture.taint("node.kubernetes.io/unreachable", "NoExecute"),
            Fixture.taint("dedicated", "NoSchedule"),
        ])
        let assessment = NodeLifecycle.assess(node: recovered, lastHeartbeat: start, now: start.addingTimeInterval(1), gracePeriod: grace)
        #expect(NodeLifecycle.taintSet(assessment.taints ?? []) == ["dedicated=:NoSchedule"])
    }

    @Test func existingTaintsKeepTheirTimeAdded() {
        let added = start.addingTimeInterval(-100)
        let node = Fixture.node("n1", ready: "Unknown", taints: [
            Fixture.taint("node.kubernetes.io/unreachable", "NoSchedule", added: added),
            Fixture.taint("node.kubernetes.io/unreachable", "NoExecute", added: added),
        ])
        let assessment = NodeLifecycle.assess(node: node, lastHeartbeat: start, now: start.addingTimeInterval(60), gracePeriod: grace)
        #expect(assessment.taints == nil, "nothing changes for a node already Unknown and tainted")
        #expect(assessment.conditions == nil)
    }

    @Test func heartbeatsAreJudgedByTheControllersClock() {
        var heartbeats = NodeHeartbeats()
        let node = Fixture.node("n1")
        #expect(heartbeats.observe(node: node, lease: Fixture.lease("n1", renewed: start), now: start) == start)
        // The same lease seen later is no heartbeat.
        #expect(heartbeats.observe(node: node, lease: Fixture.lease("n1", renewed: start), now: start.addingTimeInterval(30)) == start)
        // A renewal is one, whatever the renew time says (a node clock an hour behind).
        let renewed = Fixture.lease("n1", renewed: start.addingTimeInterval(-3600))
        #expect(heartbeats.observe(node: node, lease: renewed, now: start.addingTimeInterval(35)) == start.addingTimeInterval(35))
        // So is a new Ready heartbeat without a lease.
        let posted = Fixture.node("n1", heartbeat: start.addingTimeInterval(36))
        #expect(heartbeats.observe(node: posted, lease: renewed, now: start.addingTimeInterval(37)) == start.addingTimeInterval(37))
    }

    @Test func podsOnAnUnhealthyNodeAreMarkedNotReadyOnce() throws {
        let pod = Fixture.pod("web-1", ip: "127.96.0.1", ready: true, node: "n1")
        let status = try #require(NodeLifecycle.notReadyStatus(of: pod, now: start))
        #expect(status.conditions.first { $0.type == "Ready" }?.status == "False")
        var marked = pod
        marked.status = status
        #expect(NodeLifecycle.notReadyStatus(of: marked, now: start) == nil)
        #expect(NodeLifecycle.notReadyStatus(of: Fixture.pod("done", ready: true, phase: "Succeeded"), now: start) == nil)
    }

    @Test func podsWithoutAMatchingTolerationAreEvictedAtOnce() {
        let taints = [
            Fixture.taint("node.kubernetes.io/unreachable", "NoSchedule", added: start),
            Fixture.taint("node.kubernetes.io/unreachable", "NoExecute", added: start),
        ]
        let plain = Fixture.pod("web-1", node: "n1")
        #expect(NodeLifecycle.eviction(of: plain, taints: taints, now: start) == .now)
        var otherKey = plain
        otherKey.spec?.tolerations = [Fixture.toleration("node.kubernetes.io/not-ready", seconds: 300)]
        #expect(NodeLifecycle.eviction(of: otherKey, taints: taints, now: start) == .now)
        // NoSchedule taints alone never evict.
        #expect(NodeLifecycle.eviction(of: plain, taints: [taints[0]], now: start) == .keep)
    }

    @Test func tolerationSecondsCountFromTheTaintsTimeAdded() {
        let added = start
        let taints = [Fixture.taint("node.kubernetes.io/unreachable", "NoExecute", added: added)]
        var pod = Fixture.pod("web-1", node: "n1")
        pod.spec?.tolerations = [Fixture.toleration("node.kubernetes.io/unreachable", seconds: 300)]
        #expect(NodeLifecycle.eviction(of: pod, taints: taints, now: start.addingTimeInterval(10)) == .at(added.addingTimeInterval(300)))
        #expect(NodeLifecycle.eviction(of: pod, taints: taints, now: start.addingTimeInterval(300)) == .now)
        // Two matching tolerations: the shortest wins.
        pod.spec?.tolerations.append(Fixture.toleration(nil, effect: nil, seconds: 5))
        #expect(NodeLifecycle.eviction(of: pod, taints: taints, now: start) == .at(added.addingTimeInterval(5)))
        // A toleration without seconds keeps the pod forever.
        var forever = Fixture.pod("db-1", node: "n1")
        forever.spec?.tolerations = [Fixture.toleration("node.kubernetes.io/unreachable")]
        #expect(NodeLifecycle.eviction(of: forever, taints: taints, now: start.addingTimeInterval(1e6)) == .keep)
        // A pod already being deleted is left to finish.
        var leaving = Fixture.pod("web-2", node: "n1")
        leaving.metadata?.deletionTimestamp = ClusterTime.time(start)
        #expect(NodeLifecycle.eviction(of: leaving, taints: taints, now: start) == .keep)
    }

    @Test func tolerationMatchingFollowsKubernetes() {
        let taint = { () -> Taint in
            var taint = Fixture.taint("dedicated", "NoExecute")
            taint.value = "gpu"
            return taint
        }()
        #expect(NodeLifecycle.tolerates(Fixture.toleration("dedicated"), taint))
        #expect(NodeLifecycle.tolerates(Fixture.toleration(nil, effect: nil), taint), "an empty key with Exists tolerates everything")
        #expect(!NodeLifecycle.tolerates(Fixture.toleration("dedicated", effect: "NoSchedule"), taint))
        var equal = Fixture.toleration("dedicated", operator: "Equal")
        equal.value = "gpu"
        #expect(NodeLifecycle.tolerates(equal, taint))
        equal.value = "cpu"
        #expect(!NodeLifecycle.tolerates(equal, taint))
    }
}
