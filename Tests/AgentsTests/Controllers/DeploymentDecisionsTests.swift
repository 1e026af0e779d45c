import Api
import Testing

@testable import Agents

@Suite struct DeploymentDecisionsTests {
    let now = Fixtures.now

    @Test("maxSurge rounds up, maxUnavailable rounds down, both 0 becomes 1 unavailable; Recreate has neither")
    func fenceposts() throws {
        #expect(try DeploymentDecisions.fenceposts(Fixtures.deployment(replicas: 10)) == (3, 2))
        #expect(try DeploymentDecisions.fenceposts(Fixtures.deployment(replicas: 1)) == (1, 0))
        let zero = Fixtures.deployment(replicas: 3, maxSurge: IntOrPercent.count(0), maxUnavailable: IntOrPercent.percent("0%"))
        #expect(try DeploymentDecisions.fenceposts(zero) == (0, 1))
        let all = Fixtures.deployment(replicas: 2, maxSurge: IntOrPercent.count(0), maxUnavailable: IntOrPercent.count(5))
        #expect(try DeploymentDecisions.maxUnavailable(all) == 2, "never more than replicas")
        let recreate = Fixtures.deployment(replicas: 4, recreate: true)
        #expect(try DeploymentDecisions.maxSurge(recreate) == 0 && DeploymentDecisions.maxUnavailable(recreate) == 0)
        #expect(throws: SpecError.self) {
            try DeploymentDecisions.fenceposts(Fixtures.deployment(replicas: 3, maxSurge: IntOrPercent.percent("x%")))
        }
    }

    @Test("the new replica set grows to replicas+maxSurge pods in all, counting pods an old replica set has not deleted yet")
    func newReplicaSetGrowth() throws {
        let deployment = Fixtures.deployment(replicas: 4, maxSurge: IntOrPercent.count(1), maxUnavailable: IntOrPercent.count(1))
        let old = Fixtures.replicaSet("old", of: deployment, spec: 4, available: 4)
        #expect(try DeploymentDecisions.newReplicaSetReplicas(deployment, all: [old], new: nil) == 1)
        let new = Fixtures.replicaSet("new", of: deployment, image: "web:2", spec: 1, available: 0)
        #expect(try DeploymentDecisions.newReplicaSetReplicas(deployment, all: [old, new], new: new) == 1, "at replicas+maxSurge already")
        let shrunk = Fixtures.replicaSet("old", of: deployment, spec: 3, available: 4, statusReplicas: 4)
        #expect(try DeploymentDecisions.newReplicaSetReplicas(deployment, all: [shrunk, new], new: new) == 1, "the 4th old pod still exists")
        let gone = Fixtures.replicaSet("old", of: deployment, spec: 3, available: 3)
        #expect(try DeploymentDecisions.newReplicaSetReplicas(deployment, all: [gone, new], new: new) == 2)
        let recreate = Fixtures.deployment(replicas: 4, recreate: true)
        #expect(try DeploymentDecisions.newReplicaSetReplicas(recreate, all: [], new: nil) == 4)
    }

    @Test("old replica sets shrink by what availability allows: unhealthy pods first, then down to replicas-maxUnavailable")
    func scaleDownOld() throws {
        let deployment = Fixtures.deployment(replicas: 4, maxSurge: IntOrPercent.count(1), maxUnavailable: IntOrPercent.count(1))
        let old = Fixtures.replicaSet("old", of: deployment, spec: 4, available: 4)
        let newUnready = Fixtures.replicaSet("new", of: deployment, image: "web:2", spec: 1, available: 0)
        #expect(try DeploymentDecisions.scaleDownOld(deployment, old: [old], new: newUnready) == [.init(name: "old", replicas: 3)])
        let newReady = Fixtures.replicaSet("new", of: deployment, image: "web:2", spec: 1, available: 1)
        #expect(try DeploymentDecisions.scaleDownOld(deployment, old: [old], new: newReady) == [.init(name: "old", replicas: 2)])
        // Two unhealthy old pods: one goes (as many as maxScaledDown allows), no available one.
        let sick = Fixtures.replicaSet("old", of: deployment, spec: 4, available: 2)
        #expect(try DeploymentDecisions.scaleDownOld(deployment, old: [sick], new: newUnready) == [.init(name: "old", replicas: 3)])
        // Stale status after a scale-down (spec 3, status still 4 available): only one more goes,
        // so 3 stay available (counting the status as is would take two and leave 2).
        let stale = Fixtures.replicaSet("old", of: deployment, spec: 3, available: 4, statusReplicas: 4)
        let newTwo = Fixtures.replicaSet("new", of: deployment, image: "web:2", spec: 2, available: 1)
        #expect(try DeploymentDecisions.scaleDownOld(deployment, old: [stale], new: newTwo) == [.init(name: "old", replicas: 2)])
        // 3 old + 1 new available: one old may go; with no new pod available, none.
        let tight = Fixtures.replicaSet("old", of: deployment, spec: 3, available: 3)
        #expect(try DeploymentDecisions.scaleDownOld(deployment, old: [tight], new: newTwo) == [.init(name: "old", replicas: 2)])
        let newTwoUnready = Fixtures.replicaSet("new", of: deployment, image: "web:2", spec: 2, available: 0)
        #expect(try DeploymentDecisions.scaleDownOld(deployment, old: [tight], new: newTwoUnready).isEmpty)
        // Oldest replica set first.
        let older = Fixtures.replicaSet("older", of: deployment, image: "web:0", spec: 2, available: 2, created: now - 5000)
        let newer = Fixtures.replicaSet("newer", of: deployment, spec: 2, available: 2, created: now - 2000)
        #expect(try DeploymentDecisions.scaleDownOld(deployment, old: [newer, older], new: newReady) == [.init(name: "older", replicas: 0)])
    }

    @Test("rollback: the replica set with the deployment's template is the new one and gets the next revision")
    func rollbackRevision() {
        let deployment = Fixtures.deployment(replicas: 2, image: "web:1")
        let first = Fixtures.replicaSet("web-1", of: deployment, image: "web:1", spec: 0, available: 0, revision: 1, created: now - 900)
        let second = Fixtures.replicaSet("web-2", of: deployment, image: "web:2", spec: 2, available: 2, revision: 2, created: now - 100)
        let (new, old) = DeploymentDecisions.split(deployment, [second, first])
        #expect(new?.metadata?.name == "web-1" && old.map { $0.metadata?.name } == ["web-2"])
        let revision = DeploymentDecisions.nextRevision(old: old)
        #expect(revision == 3)
        var restored = first
        #expect(DeploymentDecisions.applyAnnotations(deployment, to: &restored, revision: revision, isNew: false))
        #expect(DeploymentDecisions.revision(restored) == 3)
        #expect(!DeploymentDecisions.applyAnnotations(deployment, to: &restored, revision: revision, isNew: false), "idempotent")
    }

    @Test("a new replica set is named <deployment>-<hash> and selects its pods by pod-template-hash")
    func newReplicaSet() throws {
        var deployment = Fixtures.deployment(replicas: 3)
        deployment.metadata?.annotations = ["team": "shop", "kubectl.kubernetes.io/last-applied-configuration": "{}"]
        let replicaSet = try DeploymentDecisions.newReplicaSet(deployment, revision: 1, replicas: 1)
        let hash = TemplateHash.of(deployment.spec!.template!)
        #expect(replicaSet.metadata?.name == "web-\(hash)")
        #expect(replicaSet.spec?.template?.metadata?.labels == ["app": "web", "pod-template-hash": hash])
        #expect(replicaSet.spec?.selector?.matchLabels == ["app": "web", "pod-template-hash": hash])
        #expect(replicaSet.metadata?.labels["pod-template-hash"] == hash)
        #expect(replicaSet.spec?.replicas == 1)
        #expect(ControllerRef.of(replicaSet)?.uid == "deployment-uid" && ControllerRef.of(replicaSet)?.kind == "Deployment")
        let annotations = replicaSet.metadata?.annotations ?? [:]
        #expect(annotations["deployment.kubernetes.io/revision"] == "1" && annotations["team"] == "shop")
        #expect(annotations["deployment.kubernetes.io/desired-replicas"] == "3" && annotations["deployment.kubernetes.io/max-replicas"] == "4")
        #expect(annotations["kubectl.kubernetes.io/last-applied-configuration"] == nil)
        #expect(DeploymentDecisions.templatesEqualIgnoringHash(replicaSet.spec?.template, deployment.spec?.template))
        deployment.status = DeploymentStatus(collisionCount: 1)
        #expect(try DeploymentDecisions.newReplicaSet(deployment, revision: 1, replicas: 1).metadata?.name != replicaSet.metadata?.name)
    }

    @Test("scaling mid-rollout spreads the change over active replica sets in proportion (the Kubernetes documentation's example)")
    func proportionalScaling() throws {
        // 10 replicas, maxSurge 3: an old replica set of 8 and a new one of 5, both sized for 13.
        var deployment = Fixtures.deployment(replicas: 15, maxSurge: IntOrPercent.count(3), maxUnavailable: IntOrPercent.count(2))
        let old = Fixtures.replicaSet("old", of: deployment, image: "web:0", spec: 8, available: 8, created: now - 900, maxReplicas: 13)
        let new = Fixtures.replicaSet("new", of: deployment, spec: 5, available: 0, created: now - 100, maxReplicas: 13)
        let targets = try DeploymentDecisions.scale(deployment, new: new, old: [old])
        #expect(Set(targets) == [.init(name: "old", replicas: 11), .init(name: "new", replicas: 7)])
        // Only one active replica set: it takes the new size.
        let alone = Fixtures.replicaSet("new", of: deployment, spec: 10, available: 10)
        #expect(try DeploymentDecisions.scale(deployment, new: alone, old: [Fixtures.replicaSet("old", of: deployment, image: "web:0", spec: 0, available: 0)])
            == [.init(name: "new", replicas: 15)])
        deployment.spec?.replicas = 10
        var sized = alone
        sized.metadata?.annotations[DeploymentDecisions.desiredReplicasAnnotation] = "15"
        #expect(DeploymentDecisions.isScalingEvent(deployment, [sized]))
        sized.metadata?.annotations[DeploymentDecisions.desiredReplicasAnnotation] = "10"
        #expect(!DeploymentDecisions.isScalingEvent(deployment, [sized]))
    }

    @Test("history beyond revisionHistoryLimit is deleted lowest revision first, never a replica set that still has pods")
    func history() {
        var deployment = Fixtures.deployment(replicas: 2)
        deployment.spec?.revisionHistoryLimit = 1
        let first = Fixtures.replicaSet("r1", of: deployment, spec: 0, available: 0, revision: 1)
        var second = Fixtures.replicaSet("r2", of: deployment, spec: 0, available: 0, revision: 2)
        let third = Fixtures.replicaSet("r3", of: deployment, spec: 0, available: 0, revision: 3)
        #expect(DeploymentDecisions.historyToDelete(deployment, old: [third, second, first]).map { $0.metadata?.name } == ["r1", "r2"])
        second.status?.replicas = 1
        #expect(DeploymentDecisions.historyToDelete(deployment, old: [third, second, first]).map { $0.metadata?.name } == ["r1"])
        deployment.spec?.revisionHistoryLimit = nil
        #expect(DeploymentDecisions.historyToDelete(deployment, old: [third, second, first]).isEmpty, "default limit 10")
    }

    @Test("status: Available by minimum availability; Progressing NewReplicaSetAvailable when complete, ReplicaSetUpdated on progress, ProgressDeadlineExceeded when stalled")
    func rolloutStatus() throws {
        var deployment = Fixtures.deployment(replicas: 2)
        let done = Fixtures.replicaSet("new", of: deployment, spec: 2, available: 2)
        let (complete, recheck) = try DeploymentDecisions.rolloutStatus(deployment, all: [done], new: done, now: now)
        #expect(complete.updatedReplicas == 2 && complete.availableReplicas == 2 && complete.unavailableReplicas == 0)
        #expect(DeploymentDecisions.condition(complete, "Progressing")?.reason == "NewReplicaSetAvailable")
        #expect(DeploymentDecisions.condition(complete, "Available")?.status == "True")
        #expect(recheck == nil)

        let halfway = Fixtures.replicaSet("new", of: deployment, spec: 2, available: 0, statusReplicas: 1)
        let (progressing, progressRecheck) = try DeploymentDecisions.rolloutStatus(deployment, all: [halfway], new: halfway, now: now)
        let condition = DeploymentDecisions.condition(progressing, "Progressing")
        #expect(condition?.reason == "ReplicaSetUpdated" && condition?.status == "True")
        #expect(condition?.lastUpdateTime == WallClock.time(now))
        #expect(progressRecheck == 601)
        #expect(DeploymentDecisions.condition(progressing, "Available")?.reason == "MinimumReplicasUnavailable")

        // No progress since an update 700 s ago, with the default 600 s deadline.
        var earlier = progressing
        earlier.conditions = progressing.conditions.map { condition in
            var old = condition
            old.lastUpdateTime = WallClock.time(now - 700)
            return old
        }
        deployment.status = earlier
        let (stalled, stalledRecheck) = try DeploymentDecisions.rolloutStatus(deployment, all: [halfway], new: halfway, now: now)
        let timedOut = DeploymentDecisions.condition(stalled, "Progressing")
        #expect(timedOut?.status == "False" && timedOut?.reason == "ProgressDeadlineExceeded")
        #expect(timedOut?.message == "ReplicaSet \"new\" has timed out progressing.")
        #expect(stalledRecheck == nil)
    }

    @Test("pausing shows Progressing Unknown DeploymentPaused, resuming DeploymentResumed; a timed-out rollout keeps its condition")
    func pausedConditions() {
        var deployment = Fixtures.deployment(replicas: 1)
        deployment.spec?.paused = true
        let paused = DeploymentDecisions.pausedConditionStatus(deployment, now: now)
        #expect(DeploymentDecisions.condition(paused, "Progressing")?.reason == "DeploymentPaused")
        #expect(DeploymentDecisions.condition(paused, "Progressing")?.status == "Unknown")
        deployment.status = paused
        #expect(DeploymentDecisions.pausedConditionStatus(deployment, now: now) == nil, "already shown")
        deployment.spec?.paused = false
        #expect(DeploymentDecisions.condition(DeploymentDecisions.pausedConditionStatus(deployment, now: now), "Progressing")?.reason == "DeploymentResumed")
        deployment.status = DeploymentStatus(conditions: [DeploymentCondition(type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded")])
        deployment.spec?.paused = true
        #expect(DeploymentDecisions.pausedConditionStatus(deployment, now: now) == nil)
    }
}
