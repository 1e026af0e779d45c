import Api
import Testing

@testable import Agents

@Suite struct StatefulSetDecisionsTests {
    let now = Fixtures.now

    func set(replicas: Int32 = 3, parallel: Bool = false, partition: Int32? = nil, image: String = "db:1") -> StatefulSet {
        var meta = ObjectMeta(name: "db", namespace: "ns")
        meta.uid = "set-uid"
        meta.generation = 1
        var spec = StatefulSetSpec()
        spec.replicas = replicas
        spec.serviceName = "db"
        spec.selector = LabelSelector(matchLabels: ["app": "db"])
        spec.template = Fixtures.template(["app": "db"], image: image)
        spec.podManagementPolicy = parallel ? "Parallel" : nil
        if let partition {
            spec.updateStrategy = StatefulSetUpdateStrategy(type: "RollingUpdate", rollingUpdate: RollingUpdateStatefulSetStrategy(partition: partition))
        }
        var claim = PersistentVolumeClaim(metadata: ObjectMeta(name: "data", labels: ["kind": "data"]))
        claim.spec = PersistentVolumeClaimSpec(accessModes: ["ReadWriteOnce"])
        spec.volumeClaimTemplates = [claim]
        return StatefulSet(metadata: meta, spec: spec)
    }

    func pod(_ ordinal: Int, of set: StatefulSet, ready: Bool = true, revision: String? = nil, terminating: Bool = false, phase: String = "Running") -> Pod {
        var pod = Fixtures.pod(
            "db-\(ordinal)", labels: ["app": "db"], phase: phase, ready: ready, owner: ControllerRef.to(set), terminating: terminating)
        pod.metadata?.labels[StatefulSetDecisions.revisionLabel] = revision ?? StatefulSetDecisions.updateRevision(set)
        return pod
    }

    func names(_ steps: [StatefulSetDecisions.Step]) -> [String] {
        steps.map { step in
            switch step {
            case .create(let pod, let claims): "create \(pod.metadata?.name ?? "") +\(claims.compactMap { $0.metadata?.name })"
            case .createClaims(let claims): "claims \(claims.compactMap { $0.metadata?.name })"
            case .delete(let pod): "delete \(pod.metadata?.name ?? "")"
            }
        }
    }

    @Test("OrderedReady: create the first missing ordinal with its claims, then wait until it is Running and Ready")
    func orderedCreation() {
        let set = set()
        #expect(names(StatefulSetDecisions.plan(set, pods: [], existingClaims: [], now: now)) == ["create db-0 +[\"data-db-0\"]"])
        let starting = [pod(0, of: set, ready: false)]
        #expect(names(StatefulSetDecisions.plan(set, pods: starting, existingClaims: ["data-db-0"], now: now)).isEmpty)
        let first = [pod(0, of: set)]
        #expect(names(StatefulSetDecisions.plan(set, pods: first, existingClaims: ["data-db-0", "data-db-1"], now: now)) == ["create db-1 +[]"])
        // A claim deleted under a running pod is made again.
        #expect(names(StatefulSetDecisions.plan(set, pods: first, existingClaims: [], now: now)) == [
            "claims [\"data-db-0\"]", "create db-1 +[\"data-db-1\"]",
        ])
    }

    @Test("Parallel: every missing pod at once; finished pods are deleted to be made again")
    func parallel() {
        let set = set(parallel: true)
        #expect(names(StatefulSetDecisions.plan(set, pods: [], existingClaims: ["data-db-0", "data-db-1", "data-db-2"], now: now)) == [
            "create db-0 +[]", "create db-1 +[]", "create db-2 +[]",
        ])
        let failed = [pod(0, of: set), pod(1, of: set, phase: "Failed"), pod(2, of: set)]
        #expect(names(StatefulSetDecisions.plan(set, pods: failed, existingClaims: ["data-db-0", "data-db-1", "data-db-2"], now: now)) == ["delete db-1"])
    }

    @Test("scale-down removes the highest ordinal first, one at a time, waiting for it to be gone")
    func scaleDown() {
        let set = set(replicas: 2)
        let claims: Set<String> = ["data-db-0", "data-db-1"]
        let four = (0..<4).map { pod($0, of: set) }
        #expect(names(StatefulSetDecisions.plan(set, pods: four, existingClaims: claims, now: now)) == ["delete db-3"])
        let going = Array(four.prefix(3)) + [pod(3, of: set, terminating: true)]
        #expect(names(StatefulSetDecisions.plan(set, pods: going, existingClaims: claims, now: now)).isEmpty)
        // A not-ready pod below blocks scale-down in OrderedReady mode.
        let blocked = [pod(0, of: set), pod(1, of: set, ready: false), pod(2, of: set)]
        #expect(names(StatefulSetDecisions.plan(set, pods: blocked, existingClaims: claims, now: now)).isEmpty)
    }

    @Test("rolling update deletes the highest out-of-date pod, waits for it to come back healthy, and stops at the partition")
    func rollingUpdate() {
        let set = set(image: "db:2")
        let claims: Set<String> = ["data-db-0", "data-db-1", "data-db-2"]
        let old = (0..<3).map { pod($0, of: set, revision: "db-old") }
        #expect(names(StatefulSetDecisions.plan(set, pods: old, existingClaims: claims, now: now)) == ["delete db-2"])
        let halfway = [pod(0, of: set, revision: "db-old"), pod(1, of: set, revision: "db-old"), pod(2, of: set)]
        #expect(names(StatefulSetDecisions.plan(set, pods: halfway, existingClaims: claims, now: now)) == ["delete db-1"])
        let restarting = [pod(0, of: set, revision: "db-old"), pod(1, of: set, revision: "db-old"), pod(2, of: set, ready: false)]
        #expect(names(StatefulSetDecisions.plan(set, pods: restarting, existingClaims: claims, now: now)).isEmpty)
        let staged = self.set(partition: 2, image: "db:2")
        let stagedPods = [pod(0, of: staged, revision: "db-old"), pod(1, of: staged, revision: "db-old"), pod(2, of: staged)]
        #expect(names(StatefulSetDecisions.plan(staged, pods: stagedPods, existingClaims: claims, now: now)).isEmpty)
    }

    @Test("pods get stable names, host names, subdomain, identity labels and a volume per claim template; claims carry the selector labels")
    func identity() {
        var set = set()
        let pod = StatefulSetDecisions.pod(set, ordinal: 1, revision: "db-abc")
        #expect(pod.metadata?.name == "db-1" && pod.metadata?.generateName == nil)
        #expect(pod.spec?.hostname == "db-1" && pod.spec?.subdomain == "db")
        #expect(pod.metadata?.labels[StatefulSetDecisions.podNameLabel] == "db-1")
        #expect(pod.metadata?.labels[StatefulSetDecisions.podIndexLabel] == "1")
        #expect(pod.metadata?.labels[StatefulSetDecisions.revisionLabel] == "db-abc")
        #expect(pod.spec?.volumes.first { $0.name == "data" }?.volumeSource?.persistentVolumeClaim?.claimName == "data-db-1")
        let claim = StatefulSetDecisions.claims(set, ordinal: 1).first
        #expect(claim?.metadata?.name == "data-db-1" && claim?.metadata?.namespace == "ns")
        #expect(claim?.metadata?.labels == ["kind": "data", "app": "db"])
        #expect(claim?.metadata?.ownerReferences.isEmpty == true, "claims are retained by default")
        set.spec?.persistentVolumeClaimRetentionPolicy = StatefulSetPersistentVolumeClaimRetentionPolicy(whenDeleted: "Delete")
        let owned = StatefulSetDecisions.claims(set, ordinal: 1).first
        #expect(owned?.metadata?.ownerReferences.first?.uid == "set-uid" && owned?.metadata?.ownerReferences.first?.controller == false)
        #expect(StatefulSetDecisions.parentAndOrdinal("web-db-12")! == ("web-db", 12))
        #expect(StatefulSetDecisions.parentAndOrdinal("db-x") == nil)
    }

    @Test("status: replicas, ready, current and updated; the update revision becomes current once every pod is updated and ready")
    func status() {
        var set = set(image: "db:2")
        set.status = StatefulSetStatus(currentRevision: "db-old")
        let mixed = [pod(0, of: set, revision: "db-old"), pod(1, of: set), pod(2, of: set, ready: false)]
        let status = StatefulSetDecisions.status(set, pods: mixed, now: now)
        #expect(status.replicas == 3 && status.readyReplicas == 2 && status.currentReplicas == 1 && status.updatedReplicas == 2)
        #expect(status.currentRevision == "db-old" && status.updateRevision == StatefulSetDecisions.updateRevision(set))
        let done = StatefulSetDecisions.status(set, pods: (0..<3).map { pod($0, of: set) }, now: now)
        #expect(done.currentRevision == done.updateRevision && done.currentReplicas == 3)
    }
}
