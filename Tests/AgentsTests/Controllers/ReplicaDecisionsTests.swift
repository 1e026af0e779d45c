import Api
import Testing

@testable import Agents

@Suite struct ReplicaDecisionsTests {
    let now = Fixtures.now

    @Test("too few pods: create the difference, at most burstReplicas per sync; too many: delete the most expendable")
    func manage() {
        let running = (1...3).map { Fixtures.pod("p\($0)", created: now - Double(100 * $0)) }
        #expect(ReplicaDecisions.manage(desired: 5, active: running, now: now) == .create(count: 2))
        #expect(ReplicaDecisions.manage(desired: 3, active: running, now: now) == .none)
        #expect(ReplicaDecisions.manage(desired: 10_000, active: [], now: now) == .create(count: ReplicaDecisions.burstReplicas))
        let unready = Fixtures.pod("unready", ready: false, created: now - 1000)
        guard case .delete(let victims) = ReplicaDecisions.manage(desired: 2, active: running + [unready], now: now) else {
            Issue.record("expected deletions")
            return
        }
        // The not-ready pod first, then the newest of the ready ones.
        #expect(victims.map { $0.metadata?.name ?? "" } == ["unready", "p1"])
    }

    @Test("pod changes: finishing or deletion syncs now, readiness waits for a batch, a binding or address alone needs nothing")
    func urgency() {
        let pending = Fixtures.pod("p", phase: "Pending", ready: false, node: nil)
        var bound = pending
        bound.spec?.nodeName = "node-1"
        #expect(ReplicaDecisions.urgency(old: pending, new: bound) == .none)
        var addressed = bound
        addressed.status?.podIP = "127.96.0.1"
        #expect(ReplicaDecisions.urgency(old: bound, new: addressed) == .none)
        let ready = Fixtures.pod("p", readySince: now)
        #expect(ReplicaDecisions.urgency(old: addressed, new: ready) == .batched)
        let readyAgain = Fixtures.pod("p", readySince: now + 5)
        #expect(ReplicaDecisions.urgency(old: ready, new: readyAgain) == .batched, "a new transition time moves availability")
        #expect(ReplicaDecisions.urgency(old: ready, new: Fixtures.pod("p", phase: "Failed", readySince: now)) == .now)
        #expect(ReplicaDecisions.urgency(old: ready, new: Fixtures.pod("p", readySince: now, terminating: true)) == .now)
    }

    @Test("slow start resumes where the last fully successful round ended, up to the burst; any failure starts over at 1")
    func slowStartMemory() {
        let memory = SlowStartMemory(maximum: 500)
        #expect(memory.initialBatch("ns/web") == 1)
        memory.record("ns/web", attempted: 3, succeeded: 3)
        #expect(memory.initialBatch("ns/web") == 3)
        memory.record("ns/web", attempted: 500, succeeded: 500)
        #expect(memory.initialBatch("ns/web") == 500)
        memory.record("ns/web", attempted: 2, succeeded: 2)
        #expect(memory.initialBatch("ns/web") == 500, "a small round does not shrink what was learnt")
        #expect(memory.initialBatch("ns/other") == 1)
        memory.record("ns/web", attempted: 500, succeeded: 499)
        #expect(memory.initialBatch("ns/web") == 1)
        memory.record("ns/web", attempted: 900, succeeded: 900)
        #expect(memory.initialBatch("ns/web") == 500)
        memory.forget("ns/web")
        #expect(memory.initialBatch("ns/web") == 1)
        #expect(SlowStart.batches(count: 1000, initial: 500) == [500, 500])
    }

    @Test("status counts: replicas, fully labeled, ready, and available only after minReadySeconds")
    func counts() {
        let template = Fixtures.template(["app": "web", "tier": "front"])
        let pods = [
            Fixtures.pod("a", labels: ["app": "web", "tier": "front"], readySince: now - 100),
            Fixtures.pod("b", labels: ["app": "web", "tier": "front"], readySince: now - 10),
            Fixtures.pod("c", labels: ["app": "web"], ready: false),
        ]
        let counts = ReplicaDecisions.counts(active: pods, terminating: 1, template: template, minReadySeconds: 30, now: now)
        #expect(counts == ReplicaCounts(replicas: 3, fullyLabeled: 2, ready: 2, available: 1, terminating: 1))
        #expect(ReplicaDecisions.nextAvailabilityCheck(active: pods, minReadySeconds: 30, now: now) == 20)
        #expect(ReplicaDecisions.counts(active: pods, template: template, minReadySeconds: 0, now: now).available == 2)
    }

    @Test("ReplicaFailure is set when creating fails, kept while it keeps failing, and cleared by a clean sync")
    func failureCondition() {
        let error = ApiError.forbidden("rs", verb: "create", type: Pod.resourceType, resourceName: "", namespace: "ns", why: "quota")
        let failed = ReplicaDecisions.status(counts: ReplicaCounts(), generation: 2, previous: ReplicaStatusView(), manageError: error, wantedMore: true)
        #expect(failed.failure?.reason == "FailedCreate" && failed.observedGeneration == 2)
        let again = ReplicaDecisions.status(
            counts: ReplicaCounts(), generation: 2, previous: failed,
            manageError: .internalError("other"), wantedMore: true)
        #expect(again.failure == failed.failure, "the first failure stays until a clean sync")
        #expect(ReplicaDecisions.status(counts: ReplicaCounts(), generation: 2, previous: again, manageError: nil, wantedMore: true).failure == nil)
        let deleteFailed = ReplicaDecisions.status(counts: ReplicaCounts(), generation: 2, previous: ReplicaStatusView(), manageError: error, wantedMore: false)
        #expect(deleteFailed.failure?.reason == "FailedDelete")
    }

    @Test("ReplicaSet and ReplicationController status round-trip; the condition keeps its transition time while it holds")
    func statusRoundTrip() throws {
        var replicaSet = ReplicaSet(metadata: ObjectMeta(name: "web", namespace: "ns"))
        let view = ReplicaStatusView(
            counts: ReplicaCounts(replicas: 3, fullyLabeled: 3, ready: 2, available: 1, terminating: 1), observedGeneration: 4,
            failure: ReplicaFailure(reason: "FailedCreate", message: "quota"))
        replicaSet = replicaSet.withReplicaStatus(view, now: now)
        #expect(replicaSet.replicaStatus == view)
        let first = replicaSet.status?.conditions.first?.lastTransitionTime
        #expect(replicaSet.withReplicaStatus(view, now: now + 50).status?.conditions.first?.lastTransitionTime == first)
        #expect(replicaSet.desiredReplicas == 1, "spec.replicas defaults to 1")

        var controller = ReplicationController(metadata: ObjectMeta(name: "legacy", namespace: "ns"))
        controller.spec = ReplicationControllerSpec(replicas: 2, template: Fixtures.template(["app": "legacy"]))
        #expect(try controller.podSelector().matches(["app": "legacy"]), "the selector defaults to the template's labels")
        controller.spec?.template = nil
        #expect(throws: SpecError.self) { try controller.podSelector() }
        var counts = view
        counts.counts.terminating = 0
        #expect(controller.withReplicaStatus(counts, now: now).replicaStatus == counts)
    }
}
