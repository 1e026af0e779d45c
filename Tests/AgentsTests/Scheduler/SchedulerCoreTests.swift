import Api
import Testing

@testable import Agents

@Suite struct SchedulerCoreTests {
    static let second: UInt64 = 1_000_000_000

    func decide(_ core: SchedulerCore, at now: UInt64 = 0) -> SchedulerCore.Decision? {
        core.scheduleNext(now: now)
    }

    @Test func insufficientCPUEverywhereSaysSoLikeKubeScheduler() throws {
        let core = SchedulerFixtures.core(nodes: (1...3).map { SchedulerFixtures.node("n\($0)", cpu: "1") })
        core.podChanged(old: nil, SchedulerFixtures.pod("big", cpu: "2"), now: 0)
        guard case .unschedulable(let pod, let message) = try #require(decide(core)) else {
            Issue.record("the pod was placed")
            return
        }
        #expect(pod.info.name == "big")
        #expect(message == "0/3 nodes are available: 3 Insufficient cpu.")
        #expect(core.queue.location(ofPod: pod.uid) == .unschedulable)
    }

    @Test func reasonsAreCountedPerNodeAndSorted() throws {
        let tainted = (1...3).map { SchedulerFixtures.node("gpu\($0)", labels: ["pool": "gpu"], taints: [SchedulerFixtures.taint("key", "value")]) }
        let plain = (1...2).map { SchedulerFixtures.node("cpu\($0)", labels: ["pool": "cpu"]) }
        let core = SchedulerFixtures.core(nodes: plain + tainted)
        core.podChanged(old: nil, SchedulerFixtures.pod("p", nodeSelector: ["pool": "gpu"]), now: 0)
        guard case .unschedulable(_, let message) = try #require(decide(core)) else {
            Issue.record("the pod was placed")
            return
        }
        #expect(message == "0/5 nodes are available: 2 node(s) didn't match Pod's node affinity/selector, 3 node(s) had untolerated taint {key: value}.")
    }

    @Test func withoutNodesThePodWaitsForOne() throws {
        let core = SchedulerFixtures.core()
        core.podChanged(old: nil, SchedulerFixtures.pod("p"), now: 0)
        guard case .unschedulable(let pod, let message) = try #require(decide(core)) else {
            Issue.record("the pod was placed")
            return
        }
        #expect(message == "no nodes available to schedule pods")
        core.nodeChanged(SchedulerFixtures.node("n1"), now: 5 * Self.second)
        guard case .bind(let placed, let node) = try #require(decide(core, at: 5 * Self.second)) else {
            Issue.record("the pod was not placed once a node appeared")
            return
        }
        #expect(placed.uid == pod.uid)
        #expect(node == "n1")
    }

    @Test func anUnschedulablePodIsScheduledWhenAFittingNodeAppears() throws {
        let core = SchedulerFixtures.core(nodes: [SchedulerFixtures.node("small", cpu: "1")])
        core.podChanged(old: nil, SchedulerFixtures.pod("big", cpu: "3"), now: 0)
        guard case .unschedulable = try #require(decide(core)) else {
            Issue.record("the pod was placed")
            return
        }
        // A node the pod fits on appears after its back-off: it is tried again at once.
        core.nodeChanged(SchedulerFixtures.node("large", cpu: "8"), now: 2 * Self.second)
        guard case .bind(_, let node) = try #require(decide(core, at: 2 * Self.second)) else {
            Issue.record("the pod was not placed on the large node")
            return
        }
        #expect(node == "large")
    }

    @Test func theNextPodSeesTheAssumedOne() throws {
        let core = SchedulerFixtures.core(nodes: [SchedulerFixtures.node("a", cpu: "4"), SchedulerFixtures.node("b", cpu: "4")])
        core.podChanged(old: nil, SchedulerFixtures.pod("first", cpu: "3"), now: 0)
        core.podChanged(old: nil, SchedulerFixtures.pod("second", cpu: "3"), now: 1)
        core.podChanged(old: nil, SchedulerFixtures.pod("third", cpu: "3"), now: 2)
        var nodes: [String] = []
        for _ in 0..<2 {
            guard case .bind(_, let node) = try #require(decide(core)) else {
                Issue.record("a pod was not placed")
                return
            }
            nodes.append(node)
        }
        #expect(Set(nodes) == ["a", "b"])
        #expect(core.bindingsInFlight == 2)
        guard case .unschedulable(_, let message) = try #require(decide(core)) else {
            Issue.record("the third pod was placed on a full node")
            return
        }
        #expect(message == "0/2 nodes are available: 2 Insufficient cpu.")
    }

    @Test func aFailedBindingIsUndoneAndRetriedAfterBackoff() throws {
        let core = SchedulerFixtures.core(nodes: [SchedulerFixtures.node("a", cpu: "4")])
        core.podChanged(old: nil, SchedulerFixtures.pod("p", cpu: "3"), now: 0)
        guard case .bind(let pod, _) = try #require(decide(core)) else {
            Issue.record("not placed")
            return
        }
        #expect(core.cache.nodeInfo(named: "a")?.requested.milliCPU == 3000)
        #expect(core.bindingFailed(uid: pod.uid, retry: true, now: Self.second) != nil)
        #expect(core.cache.nodeInfo(named: "a")?.requested.milliCPU == 0)
        #expect(core.queue.location(ofPod: pod.uid) == .backoff)
        #expect(decide(core, at: Self.second + 1) == nil)
        guard case .bind = try #require(decide(core, at: 2 * Self.second)) else {
            Issue.record("not retried")
            return
        }
    }

    @Test func theInformerConfirmsABindingAndAConflictIsNotRetried() throws {
        let core = SchedulerFixtures.core(nodes: [SchedulerFixtures.node("a")])
        let pending = SchedulerFixtures.pod("p", cpu: "1")
        core.podChanged(old: nil, pending, now: 0)
        guard case .bind(let pod, _) = try #require(decide(core)) else {
            Issue.record("not placed")
            return
        }
        var bound = pending
        bound.spec?.nodeName = "a"
        core.podChanged(old: pending, bound, now: 1)
        #expect(!core.cache.isAssumed(uid: pod.uid))
        // The answer to the binding comes after the informer's event: nothing to undo.
        #expect(core.bindingFailed(uid: pod.uid, retry: false, now: 2) == nil)
        #expect(core.cache.nodeInfo(named: "a")?.podCount == 1)
        #expect(core.queue.count == 0)
    }

    @Test func onlyPendingPodsOfThisSchedulerAreQueued() {
        let core = SchedulerFixtures.core(nodes: [SchedulerFixtures.node("a")])
        var other = SchedulerFixtures.pod("other")
        other.spec?.schedulerName = "my-scheduler"
        var gated = SchedulerFixtures.pod("gated")
        gated.spec?.schedulingGates = [PodSchedulingGate(name: "wait")]
        var deleting = SchedulerFixtures.pod("deleting")
        deleting.metadata?.deletionTimestamp = Time(seconds: 1)
        for pod in [other, gated, deleting] { core.podChanged(old: nil, pod, now: 0) }
        #expect(core.queue.count == 0)
        core.podChanged(old: nil, SchedulerFixtures.pod("mine"), now: 0)
        #expect(core.queue.count == 1)
    }

    @Test func aMalformedPodIsReportedNotGuessedAt() throws {
        let core = SchedulerFixtures.core(nodes: [SchedulerFixtures.node("a")])
        var pod = SchedulerFixtures.pod("p")
        pod.spec?.containers[0].resources = ResourceRequirements(requests: ["memory": Quantity("a lot")])
        core.podChanged(old: nil, pod, now: 0)
        guard case .unschedulable(_, let message) = try #require(decide(core)) else {
            Issue.record("placed")
            return
        }
        #expect(message.hasPrefix("0/1 nodes are available: the pod cannot be scheduled: spec.containers[0].resources.requests[memory]"))
    }

    @Test func feasibleNodesToFindFollowsKubeScheduler() {
        let find = ScheduleAlgorithm.feasibleNodesToFind
        #expect(find(50, 0) == 50)
        #expect(find(5000, 0) == 500)
        #expect(find(1000, 0) == 420)
        #expect(find(20000, 0) == 1000)
        #expect(find(500, 10) == 100)
        #expect(find(5000, 100) == 5000)
    }

    @Test func filteringStopsAtTheTargetAndStartsWhereTheLastPodStopped() throws {
        let core = SchedulerFixtures.core(nodes: (0..<400).map { SchedulerFixtures.node("n\($0)") }, percentage: 10)
        core.podChanged(old: nil, SchedulerFixtures.pod("a"), now: 0)
        guard case .bind = try #require(decide(core)) else {
            Issue.record("not placed")
            return
        }
        // 10% of 400 is below kube's minimum of 100 feasible nodes.
        #expect(core.algorithm.nextStartNodeIndex == 100)
        core.podChanged(old: nil, SchedulerFixtures.pod("b"), now: 0)
        _ = decide(core)
        #expect(core.algorithm.nextStartNodeIndex == 200)
    }

    @Test func parallelFilteringFindsTheOnlyFittingNode() throws {
        var nodes = (0..<2000).map { SchedulerFixtures.node("small-\($0)", cpu: "1") }
        // Past the first stretch filtered inline: found by the parallel workers.
        nodes.insert(SchedulerFixtures.node("large", cpu: "16"), at: 1950)
        let core = SchedulerFixtures.core(nodes: nodes, percentage: 0, parallelism: 4)
        core.podChanged(old: nil, SchedulerFixtures.pod("p", cpu: "8"), now: 0)
        guard case .bind(_, let node) = try #require(decide(core)) else {
            Issue.record("not placed")
            return
        }
        #expect(node == "large")
        core.podChanged(old: nil, SchedulerFixtures.pod("q", cpu: "9"), now: 0)
        guard case .unschedulable(_, let message) = try #require(decide(core)) else {
            Issue.record("placed")
            return
        }
        #expect(message == "0/2001 nodes are available: 2001 Insufficient cpu.")
    }
}

@Suite struct PodConditionTests {
    @Test func theUnschedulableConditionIsWrittenOnlyWhenItChanges() throws {
        let pod = SchedulerFixtures.pod("p")
        let updated = try #require(PodConditionWriter.withUnschedulableCondition(pod, message: "0/1 nodes are available: 1 Insufficient cpu."))
        let condition = try #require(updated.status?.conditions.first)
        #expect(condition.type == "PodScheduled")
        #expect(condition.status == "False")
        #expect(condition.reason == "Unschedulable")
        #expect(condition.message == "0/1 nodes are available: 1 Insufficient cpu.")
        #expect(updated.status?.phase == "Pending")
        #expect(PodConditionWriter.withUnschedulableCondition(updated, message: "0/1 nodes are available: 1 Insufficient cpu.") == nil)
        let changed = try #require(PodConditionWriter.withUnschedulableCondition(updated, message: "0/2 nodes are available: 2 Insufficient cpu."))
        #expect(changed.status?.conditions.count == 1)
        #expect(changed.status?.conditions.first?.lastTransitionTime == condition.lastTransitionTime)
    }
}

@Suite struct SchedulerInformerTrimTests {
    @Test func boundPodsKeepOnlyTheirPhaseAndPendingPodsStayWhole() {
        var pending = SchedulerFixtures.pod("p", cpu: "1")
        pending.status = PodStatus(phase: "Pending", conditions: [PodCondition(type: "PodScheduled", status: "False")])
        #expect(Scheduler.trimmed(pending) == pending)
        var bound = SchedulerFixtures.pod("b", cpu: "1", labels: ["app": "web"], nodeName: "n1")
        bound.status = HollowPodLifecycle.runningStatus(of: bound, hostIP: "127.95.0.1", podIP: "127.96.0.1")
        let trimmed = Scheduler.trimmed(bound)
        #expect(trimmed.status == PodStatus(phase: "Running"))
        #expect(trimmed.spec == bound.spec)
        #expect(trimmed.metadata?.labels == ["app": "web"])
        // What the cache takes from it is unchanged.
        #expect(PodInfo(trimmed).requests == PodInfo(bound).requests)
    }
}

@Suite struct FailureEventsTests {
    @Test func anUnchangedReasonIsRecordedAgainOnlyAfterAMinute() {
        var failures = Scheduler.FailureEvents()
        let second: UInt64 = 1_000_000_000
        let three = "0/3 nodes are available: 3 Insufficient cpu."
        let four = "0/4 nodes are available: 4 Insufficient cpu."
        func record(_ uid: String, _ message: String, at seconds: UInt64) -> Bool {
            failures.shouldRecord(uid: uid, message: message, now: seconds * second)
        }
        #expect(record("a", three, at: 0) == true)
        #expect(record("a", three, at: 10) == false)
        #expect(record("a", four, at: 11) == true)
        #expect(record("b", four, at: 11) == true)
        #expect(record("a", four, at: 71) == true)
        failures.forget("b")
        #expect(record("b", four, at: 72) == true)
    }
}
