import Agents
import Api
import Bench
import Foundation
import Testing
import Wire

/// The workload controllers in a real controller-manager process, against a real store and API
/// server; the test plays scheduler and node agents (NodeSimulator) and watches pods the way a
/// user would.
@Suite("Workload controllers over loopback (real processes)", .serialized)
struct WorkloadControllerTests {
    static let namespace = "shop"

    /// Pods of the namespace that are not being deleted, with the label app=`app`.
    static func live(_ pods: [Pod], app: String) -> [Pod] {
        pods.filter { $0.metadata?.labels["app"] == app && $0.metadata?.deletionTimestamp == nil }
    }

    /// Reads, changes and writes a deployment, reading again when the controller wrote its
    /// status in between (409), as kubectl edit would have the user do.
    static func updateDeployment(_ cluster: WorkloadCluster, _ name: String, _ change: (inout Deployment) -> Void) async throws {
        for attempt in 1...10 {
            var deployment = try await cluster.client.get(Deployment.self, namespace: namespace, name: name)
            change(&deployment)
            do throws(ApiError) {
                _ = try await cluster.client.update(deployment)
                return
            } catch {
                guard error.code == 409, attempt < 10 else { throw error }
            }
        }
    }

    static func replicaSets(_ cluster: WorkloadCluster, of deployment: Deployment) async throws -> [ReplicaSet] {
        try await cluster.client.list(ReplicaSet.self, namespace: namespace).items.filter {
            ControllerRef.of($0)?.uid == deployment.metadata?.uid
        }
    }

    // MARK: Deployment

    @Test("a Deployment creates a ReplicaSet named after its template hash and Ready pods; it scales up and down")
    func deploymentCreatesReplicaSetAndScales() async throws {
        let cluster = try WorkloadCluster()
        defer { cluster.stop() }
        try await cluster.start()
        try await cluster.makeNamespace(Self.namespace)
        try cluster.startControllerManager()
        let nodes = NodeSimulator(client: cluster.client, namespace: Self.namespace, nodes: ["node-a", "node-b"]) { _ in .ready(afterSeconds: 0.1) }
        await nodes.start()
        defer { Task { await nodes.stop() } }

        let created = try await cluster.client.create(Workloads.deployment("web", namespace: Self.namespace, replicas: 3))
        let ready = try await eventually {
            let deployment = try await cluster.client.get(Deployment.self, namespace: Self.namespace, name: "web")
            return deployment.status?.availableReplicas == 3 && deployment.status?.updatedReplicas == 3
                && DeploymentDecisions.condition(deployment.status, "Progressing")?.reason == "NewReplicaSetAvailable"
        }
        #expect(ready, "the deployment never had 3 available pods:\n\(cluster.logTail())")
        let deployment = try await cluster.client.get(Deployment.self, namespace: Self.namespace, name: "web")
        #expect(deployment.metadata?.annotations[DeploymentDecisions.revisionAnnotation] == "1")
        #expect(DeploymentDecisions.condition(deployment.status, "Available")?.status == "True")
        #expect(deployment.status?.observedGeneration == deployment.metadata?.generation)

        let replicaSets = try await Self.replicaSets(cluster, of: created)
        #expect(replicaSets.count == 1)
        let replicaSet = try #require(replicaSets.first)
        let hash = try #require(replicaSet.spec?.template?.metadata?.labels[DeploymentDecisions.podTemplateHashLabel])
        #expect(replicaSet.metadata?.name == "web-\(hash)")
        #expect(replicaSet.spec?.selector?.matchLabels == ["app": "web", "pod-template-hash": hash])
        #expect(replicaSet.metadata?.annotations[DeploymentDecisions.revisionAnnotation] == "1")
        #expect(replicaSet.status?.readyReplicas == 3 && replicaSet.status?.availableReplicas == 3)
        let pods = Self.live(try await cluster.pods(Self.namespace), app: "web")
        #expect(pods.count == 3)
        for pod in pods {
            #expect(ControllerRef.of(pod)?.uid == replicaSet.metadata?.uid)
            #expect(pod.metadata?.labels[DeploymentDecisions.podTemplateHashLabel] == hash)
            #expect(pod.metadata?.name?.hasPrefix("web-\(hash)-") == true)
            #expect(PodState.isRunningAndReady(pod))
        }

        for replicas: Int32 in [5, 2] {
            try await Self.updateDeployment(cluster, "web") { $0.spec?.replicas = replicas }
            let settled = try await eventually {
                let pods = Self.live(try await cluster.pods(Self.namespace), app: "web")
                let status = try await cluster.client.get(Deployment.self, namespace: Self.namespace, name: "web").status
                return pods.count == Int(replicas) && pods.allSatisfy(PodState.isReady) && status?.availableReplicas == replicas
                    && status?.replicas == replicas
            }
            #expect(settled, "scaling to \(replicas) did not settle:\n\(cluster.logTail())")
            let sets = try await Self.replicaSets(cluster, of: created)
            #expect(sets.count == 1, "scaling must not start a rollout")
            #expect(sets.first?.spec?.replicas == replicas)
        }
    }

    @Test("a rolling update keeps pods within replicas+maxSurge and ready pods above replicas-maxUnavailable at every event; rollback brings back the old ReplicaSet as a new revision")
    func rollingUpdateAndRollback() async throws {
        let cluster = try WorkloadCluster()
        defer { cluster.stop() }
        try await cluster.start()
        try await cluster.makeNamespace(Self.namespace)
        try cluster.startControllerManager()
        let nodes = NodeSimulator(client: cluster.client, namespace: Self.namespace, nodes: ["node-a", "node-b", "node-c"]) { _ in
            .ready(afterSeconds: 0.3)
        }
        await nodes.start()
        let replicas = 4, maxSurge = 1, maxUnavailable = 1
        let observer = PodObserver(client: cluster.client, namespace: Self.namespace) { pods in
            let live = Self.live(pods, app: "web")
            let ready = live.filter(PodState.isReady).count
            if live.count > replicas + maxSurge { return "\(live.count) pods exist, more than \(replicas) + maxSurge \(maxSurge)" }
            if ready < replicas - maxUnavailable { return "only \(ready) pods are ready, fewer than \(replicas) - maxUnavailable \(maxUnavailable)" }
            return nil
        }
        await observer.start()
        defer { Task { await nodes.stop(); await observer.stop() } }

        let strategy = Workloads.rolling(maxSurge: IntOrPercent.count(maxSurge), maxUnavailable: IntOrPercent.count(maxUnavailable))
        let created = try await cluster.client.create(
            Workloads.deployment("web", namespace: Self.namespace, replicas: Int32(replicas), image: "registry.local/web:1", strategy: strategy))

        /// Waits until every live pod runs `image`, is ready, and the deployment says it is done.
        func rolledOut(to image: String) async throws -> Bool {
            try await eventually(seconds: 90) {
                let pods = Self.live(try await cluster.pods(Self.namespace), app: "web")
                let deployment = try await cluster.client.get(Deployment.self, namespace: Self.namespace, name: "web")
                return pods.count == replicas && pods.allSatisfy { $0.spec?.containers.first?.image == image && PodState.isReady($0) }
                    && deployment.status?.updatedReplicas == Int32(replicas) && deployment.status?.availableReplicas == Int32(replicas)
                    && deployment.status?.replicas == Int32(replicas)
                    && deployment.status?.observedGeneration == deployment.metadata?.generation
            }
        }

        #expect(try await rolledOut(to: "registry.local/web:1"), "the first rollout did not finish:\n\(cluster.logTail())")
        let first = try #require(try await Self.replicaSets(cluster, of: created).first)

        // Update the image: a second replica set takes over step by step.
        observer.startChecking()
        try await Self.updateDeployment(cluster, "web") { $0.spec?.template?.spec?.containers[0].image = "registry.local/web:2" }
        #expect(try await rolledOut(to: "registry.local/web:2"), "the update did not finish:\n\(cluster.logTail())")
        #expect(observer.violations.isEmpty, "\(observer.violations)")
        var sets = try await Self.replicaSets(cluster, of: created)
        #expect(sets.count == 2)
        let second = try #require(sets.first { $0.metadata?.uid != first.metadata?.uid })
        #expect(second.metadata?.annotations[DeploymentDecisions.revisionAnnotation] == "2")
        #expect(sets.first { $0.metadata?.uid == first.metadata?.uid }?.spec?.replicas == 0)
        #expect(try await cluster.client.get(Deployment.self, namespace: Self.namespace, name: "web")
            .metadata?.annotations[DeploymentDecisions.revisionAnnotation] == "2")

        // Roll back the way `kubectl rollout undo` does: put revision 1's template back.
        try await Self.updateDeployment(cluster, "web") { $0.spec?.template = DeploymentDecisions.withoutHash(first.spec?.template) }
        #expect(try await rolledOut(to: "registry.local/web:1"), "the rollback did not finish:\n\(cluster.logTail())")
        #expect(observer.violations.isEmpty, "\(observer.violations)")
        observer.stopChecking()
        sets = try await Self.replicaSets(cluster, of: created)
        #expect(sets.count == 2, "the rollback reuses the first replica set")
        let restored = try #require(sets.first { $0.metadata?.uid == first.metadata?.uid })
        #expect(restored.spec?.replicas == Int32(replicas))
        #expect(restored.metadata?.annotations[DeploymentDecisions.revisionAnnotation] == "3")
        #expect(try await cluster.client.get(Deployment.self, namespace: Self.namespace, name: "web")
            .metadata?.annotations[DeploymentDecisions.revisionAnnotation] == "3")

        // revisionHistoryLimit 0: the old replica set goes.
        try await Self.updateDeployment(cluster, "web") { $0.spec?.revisionHistoryLimit = 0 }
        #expect(try await eventually { try await Self.replicaSets(cluster, of: created).count == 1 }, "\(cluster.logTail())")
    }

    @Test("Recreate removes every old pod before the first new one is created")
    func recreate() async throws {
        let cluster = try WorkloadCluster()
        defer { cluster.stop() }
        try await cluster.start()
        try await cluster.makeNamespace(Self.namespace)
        try cluster.startControllerManager()
        let nodes = NodeSimulator(client: cluster.client, namespace: Self.namespace, nodes: ["node-a"]) { _ in .ready(afterSeconds: 0.2) }
        await nodes.start()
        let observer = PodObserver(client: cluster.client, namespace: Self.namespace) { pods in
            // Any pod that still exists counts, terminating or not: Recreate waits until they are gone.
            let hashes = Set(pods.filter { $0.metadata?.labels["app"] == "web" }.compactMap {
                $0.metadata?.labels[DeploymentDecisions.podTemplateHashLabel]
            })
            return hashes.count > 1 ? "pods of two revisions at once: \(hashes.sorted())" : nil
        }
        await observer.start()
        defer { Task { await nodes.stop(); await observer.stop() } }

        _ = try await cluster.client.create(Workloads.deployment(
            "web", namespace: Self.namespace, replicas: 3, strategy: DeploymentStrategy(type: "Recreate")))
        #expect(try await eventually {
            Self.live(try await cluster.pods(Self.namespace), app: "web").filter(PodState.isReady).count == 3
        }, "\(cluster.logTail())")
        observer.startChecking()
        try await Self.updateDeployment(cluster, "web") { $0.spec?.template?.spec?.containers[0].image = "registry.local/web:2" }
        let done = try await eventually {
            let pods = Self.live(try await cluster.pods(Self.namespace), app: "web")
            let status = try await cluster.client.get(Deployment.self, namespace: Self.namespace, name: "web").status
            return pods.count == 3 && pods.allSatisfy { $0.spec?.containers.first?.image == "registry.local/web:2" && PodState.isReady($0) }
                && status?.updatedReplicas == 3 && status?.availableReplicas == 3
        }
        #expect(done, "\(cluster.logTail())")
        #expect(observer.violations.isEmpty, "\(observer.violations)")
    }

    @Test("a paused Deployment does not roll out until resumed; a rollout that stalls reports ProgressDeadlineExceeded")
    func pauseResumeAndProgressDeadline() async throws {
        let cluster = try WorkloadCluster()
        defer { cluster.stop() }
        try await cluster.start()
        try await cluster.makeNamespace(Self.namespace)
        try cluster.startControllerManager()
        // Pods of image :stuck run but never become ready.
        let nodes = NodeSimulator(client: cluster.client, namespace: Self.namespace, nodes: ["node-a"]) { pod in
            pod.spec?.containers.first?.image == "registry.local/web:stuck" ? .running : .ready(afterSeconds: 0.1)
        }
        await nodes.start()
        defer { Task { await nodes.stop() } }

        var deployment = Workloads.deployment("web", namespace: Self.namespace, replicas: 2)
        deployment.spec?.progressDeadlineSeconds = 3
        let created = try await cluster.client.create(deployment)
        #expect(try await eventually {
            try await cluster.client.get(Deployment.self, namespace: Self.namespace, name: "web").status?.availableReplicas == 2
        }, "\(cluster.logTail())")

        try await Self.updateDeployment(cluster, "web") { paused in
            paused.spec?.paused = true
            paused.spec?.template?.spec?.containers[0].image = "registry.local/web:2"
        }
        #expect(try await eventually {
            let status = try await cluster.client.get(Deployment.self, namespace: Self.namespace, name: "web").status
            return DeploymentDecisions.condition(status, "Progressing")?.reason == "DeploymentPaused"
        }, "\(cluster.logTail())")
        try await Task.sleep(for: .seconds(2))
        #expect(try await Self.replicaSets(cluster, of: created).count == 1, "a paused deployment must not create a replica set")

        try await Self.updateDeployment(cluster, "web") { $0.spec?.paused = false }
        #expect(try await eventually {
            let pods = Self.live(try await cluster.pods(Self.namespace), app: "web")
            return pods.count == 2 && pods.allSatisfy { $0.spec?.containers.first?.image == "registry.local/web:2" && PodState.isReady($0) }
        }, "\(cluster.logTail())")

        // A template whose pods never become ready: the rollout stalls and says so.
        try await Self.updateDeployment(cluster, "web") { $0.spec?.template?.spec?.containers[0].image = "registry.local/web:stuck" }
        let timedOut = try await eventually(seconds: 60) {
            let status = try await cluster.client.get(Deployment.self, namespace: Self.namespace, name: "web").status
            let condition = DeploymentDecisions.condition(status, "Progressing")
            return condition?.status == "False" && condition?.reason == "ProgressDeadlineExceeded"
        }
        #expect(timedOut, "\(cluster.logTail())")
        // maxUnavailable 25% of 2 rounds down to 0: the old pods stay available meanwhile.
        let status = try await cluster.client.get(Deployment.self, namespace: Self.namespace, name: "web").status
        #expect(status?.availableReplicas == 2)
        #expect(DeploymentDecisions.condition(status, "Available")?.status == "True")
    }

    // MARK: ReplicaSet and ReplicationController

    @Test("a ReplicaSet adopts a matching orphan pod, releases a pod whose labels stop matching, and replaces it; a ReplicationController keeps its count")
    func replicaSetAdoptionAndReplicationController() async throws {
        let cluster = try WorkloadCluster()
        defer { cluster.stop() }
        try await cluster.start()
        try await cluster.makeNamespace(Self.namespace)
        // The orphan exists before the controller manager starts.
        var orphan = Pod(metadata: ObjectMeta(name: "stray", namespace: Self.namespace, labels: ["app": "cache"]))
        orphan.spec = Workloads.template(["app": "cache"]).spec
        _ = try await cluster.client.create(orphan)
        try cluster.startControllerManager()
        let nodes = NodeSimulator(client: cluster.client, namespace: Self.namespace, nodes: ["node-a"]) { _ in .ready(afterSeconds: 0.1) }
        await nodes.start()
        defer { Task { await nodes.stop() } }

        var spec = ReplicaSetSpec()
        spec.replicas = 2
        spec.selector = LabelSelector(matchLabels: ["app": "cache"])
        spec.template = Workloads.template(["app": "cache"])
        let replicaSet = try await cluster.client.create(ReplicaSet(metadata: ObjectMeta(name: "cache", namespace: Self.namespace), spec: spec))
        #expect(try await eventually {
            let pods = Self.live(try await cluster.pods(Self.namespace), app: "cache")
            let status = try await cluster.client.get(ReplicaSet.self, namespace: Self.namespace, name: "cache").status
            return pods.count == 2 && pods.allSatisfy { ControllerRef.of($0)?.uid == replicaSet.metadata?.uid }
                && status?.readyReplicas == 2 && status?.fullyLabeledReplicas == 2
        }, "\(cluster.logTail())")
        let adopted = try await cluster.client.get(Pod.self, namespace: Self.namespace, name: "stray")
        #expect(ControllerRef.of(adopted)?.uid == replicaSet.metadata?.uid, "the orphan is adopted, and only one pod is created")

        // Relabel the adopted pod: it is released and replaced.
        var relabelled = adopted
        relabelled.metadata?.labels["app"] = "debug"
        _ = try await cluster.client.update(relabelled)
        #expect(try await eventually {
            let released = try await cluster.client.get(Pod.self, namespace: Self.namespace, name: "stray")
            let pods = Self.live(try await cluster.pods(Self.namespace), app: "cache")
            return ControllerRef.of(released) == nil && pods.count == 2 && !pods.contains { $0.metadata?.name == "stray" }
        }, "\(cluster.logTail())")

        var controllerSpec = ReplicationControllerSpec()
        controllerSpec.replicas = 3
        controllerSpec.template = Workloads.template(["app": "legacy"])
        let controller = try await cluster.client.create(
            ReplicationController(metadata: ObjectMeta(name: "legacy", namespace: Self.namespace), spec: controllerSpec))
        #expect(try await eventually {
            let pods = Self.live(try await cluster.pods(Self.namespace), app: "legacy")
            let status = try await cluster.client.get(ReplicationController.self, namespace: Self.namespace, name: "legacy").status
            return pods.count == 3 && pods.allSatisfy { ControllerRef.of($0)?.uid == controller.metadata?.uid }
                && status?.readyReplicas == 3 && status?.availableReplicas == 3 && status?.observedGeneration == 1
        }, "\(cluster.logTail())")
        // A deleted pod is replaced.
        let victim = try #require(Self.live(try await cluster.pods(Self.namespace), app: "legacy").first)
        try await cluster.client.delete(Pod.self, namespace: Self.namespace, name: victim.metadata?.name ?? "")
        #expect(try await eventually {
            let pods = Self.live(try await cluster.pods(Self.namespace), app: "legacy")
            return pods.count == 3 && !pods.contains { $0.metadata?.uid == victim.metadata?.uid } && pods.allSatisfy(PodState.isReady)
        }, "\(cluster.logTail())")
    }

    // MARK: DaemonSet

    @Test("a DaemonSet runs one pod per eligible node (selector, taints), bound by node affinity; it follows node additions and removals and rolls out updates")
    func daemonSetCoversEveryNode() async throws {
        let cluster = try WorkloadCluster()
        defer { cluster.stop() }
        try await cluster.start()
        try await cluster.makeNamespace(Self.namespace)
        try await cluster.makeNode("node-a", labels: ["role": "worker"])
        try await cluster.makeNode("node-b", labels: ["role": "worker"], taints: [
            Taint(key: "node.kubernetes.io/not-ready", effect: "NoExecute"),
        ])
        try await cluster.makeNode("node-c", labels: ["role": "worker"], taints: [Taint(key: "dedicated", value: "db", effect: "NoSchedule")])
        try await cluster.makeNode("node-d", labels: ["role": "edge"])
        try cluster.startControllerManager()
        let nodes = NodeSimulator(client: cluster.client, namespace: Self.namespace, nodes: []) { _ in .ready(afterSeconds: 0.1) }
        await nodes.start()
        defer { Task { await nodes.stop() } }

        var spec = DaemonSetSpec()
        spec.selector = LabelSelector(matchLabels: ["app": "agent"])
        spec.template = Workloads.template(["app": "agent"])
        spec.template?.spec?.nodeSelector = ["role": "worker"]
        _ = try await cluster.client.create(DaemonSet(metadata: ObjectMeta(name: "agent", namespace: Self.namespace), spec: spec))

        /// The nodes the live daemon pods are bound to, once every one of them is ready.
        func covered(_ expected: Set<String>) async throws -> Bool {
            let pods = Self.live(try await cluster.pods(Self.namespace), app: "agent")
            let boundTo = pods.compactMap { $0.spec?.nodeName }
            let status = try await cluster.client.get(DaemonSet.self, namespace: Self.namespace, name: "agent").status
            return pods.count == expected.count && Set(boundTo) == expected && boundTo.count == pods.count
                && pods.allSatisfy(PodState.isReady) && status?.desiredNumberScheduled == Int32(expected.count)
                && status?.currentNumberScheduled == Int32(expected.count) && status?.numberReady == Int32(expected.count)
                && status?.numberMisscheduled == 0
        }
        // node-b's not-ready taint is tolerated by every daemon pod; node-c's is not; node-d does not match.
        #expect(try await eventually { try await covered(["node-a", "node-b"]) }, "\(cluster.logTail())")
        let pod = try #require(Self.live(try await cluster.pods(Self.namespace), app: "agent").first)
        let terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []
        #expect(terms.count == 1 && terms[0].matchFields.first?.key == "metadata.name" && terms[0].matchFields.first?.values == [pod.spec?.nodeName ?? ""])
        #expect(pod.spec?.tolerations.contains { $0.key == "node.kubernetes.io/unreachable" && $0.effect == "NoExecute" } == true)

        try await cluster.makeNode("node-e", labels: ["role": "worker"])
        #expect(try await eventually { try await covered(["node-a", "node-b", "node-e"]) }, "\(cluster.logTail())")
        try await cluster.client.delete(Node.self, name: "node-a")
        #expect(try await eventually { try await covered(["node-b", "node-e"]) }, "\(cluster.logTail())")

        // A rolling update replaces the pods one node at a time (maxUnavailable 1 by default).
        var updated = try await cluster.client.get(DaemonSet.self, namespace: Self.namespace, name: "agent")
        updated.spec?.template?.spec?.containers[0].image = "registry.local/web:2"
        _ = try await cluster.client.update(updated)
        #expect(try await eventually {
            let pods = Self.live(try await cluster.pods(Self.namespace), app: "agent")
            let status = try await cluster.client.get(DaemonSet.self, namespace: Self.namespace, name: "agent").status
            return try await covered(["node-b", "node-e"]) && pods.allSatisfy { $0.spec?.containers.first?.image == "registry.local/web:2" }
                && status?.updatedNumberScheduled == 2 && status?.numberAvailable == 2
        }, "\(cluster.logTail())")
    }

    // MARK: Job

    @Test("a Job runs at most parallelism pods until completions succeed, then is Complete")
    func jobRunsToCompletion() async throws {
        let cluster = try WorkloadCluster()
        defer { cluster.stop() }
        try await cluster.start()
        try await cluster.makeNamespace(Self.namespace)
        try cluster.startControllerManager()
        let nodes = NodeSimulator(client: cluster.client, namespace: Self.namespace, nodes: ["node-a"]) { _ in .succeed(afterSeconds: 0.3) }
        await nodes.start()
        let observer = PodObserver(client: cluster.client, namespace: Self.namespace) { pods in
            let running = Self.live(pods, app: "batch").filter { !PodState.isTerminal($0) }.count
            return running > 2 ? "\(running) pods running at once, parallelism is 2" : nil
        }
        await observer.start()
        observer.startChecking()
        defer { Task { await nodes.stop(); await observer.stop() } }

        var spec = JobSpec()
        spec.parallelism = 2
        spec.completions = 5
        spec.template = Workloads.template(["app": "batch"], restartPolicy: "Never")
        let job = try await cluster.client.create(Job(metadata: ObjectMeta(name: "report", namespace: Self.namespace), spec: spec))
        let complete = try await eventually {
            let status = try await cluster.client.get(Job.self, namespace: Self.namespace, name: "report").status
            return status?.conditions.contains { $0.type == "Complete" && $0.status == "True" } == true
        }
        #expect(complete, "\(cluster.logTail())")
        let status = try await cluster.client.get(Job.self, namespace: Self.namespace, name: "report").status
        #expect(status?.succeeded == 5 && status?.active == 0 && (status?.failed ?? 0) == 0)
        #expect(status?.startTime != nil && status?.completionTime != nil)
        let pods = try await cluster.pods(Self.namespace, selector: "job-name=report")
        #expect(pods.count == 5, "exactly completions pods, all succeeded")
        #expect(pods.allSatisfy { $0.status?.phase == "Succeeded" && ControllerRef.of($0)?.uid == job.metadata?.uid })
        #expect(pods.allSatisfy { $0.spec?.restartPolicy == "Never" })
        #expect(observer.violations.isEmpty, "\(observer.violations)")
        #expect(observer.events.contains { $0.kind == "ADDED" }, "the observer saw the pods")
    }

    @Test("a Job whose pods fail stops after backoffLimit with BackoffLimitExceeded; one past activeDeadlineSeconds fails with DeadlineExceeded")
    func jobFailures() async throws {
        let cluster = try WorkloadCluster()
        defer { cluster.stop() }
        try await cluster.start()
        try await cluster.makeNamespace(Self.namespace)
        try cluster.startControllerManager()
        let nodes = NodeSimulator(client: cluster.client, namespace: Self.namespace, nodes: ["node-a"]) { pod in
            pod.metadata?.labels["app"] == "flaky" ? .fail(afterSeconds: 0.2) : .running
        }
        await nodes.start()
        defer { Task { await nodes.stop() } }

        var flaky = JobSpec()
        flaky.backoffLimit = 1
        flaky.template = Workloads.template(["app": "flaky"], restartPolicy: "Never")
        _ = try await cluster.client.create(Job(metadata: ObjectMeta(name: "flaky", namespace: Self.namespace), spec: flaky))
        var slow = JobSpec()
        slow.activeDeadlineSeconds = 3
        slow.parallelism = 2
        slow.template = Workloads.template(["app": "slow"], restartPolicy: "OnFailure")
        _ = try await cluster.client.create(Job(metadata: ObjectMeta(name: "slow", namespace: Self.namespace), spec: slow))

        func failedCondition(_ name: String) async throws -> JobCondition? {
            try await cluster.client.get(Job.self, namespace: Self.namespace, name: name).status?.conditions.first {
                $0.type == "Failed" && $0.status == "True"
            }
        }
        // The second failure comes after the 10 s back-off that follows the first.
        #expect(try await eventually(seconds: 90) { try await failedCondition("flaky") != nil }, "\(cluster.logTail())")
        #expect(try await failedCondition("flaky")?.reason == "BackoffLimitExceeded")
        let flakyStatus = try await cluster.client.get(Job.self, namespace: Self.namespace, name: "flaky").status
        #expect(flakyStatus?.failed == 2 && flakyStatus?.active == 0 && (flakyStatus?.succeeded ?? 0) == 0)
        try await Task.sleep(for: .seconds(1))
        #expect(try await cluster.pods(Self.namespace, selector: "job-name=flaky").count == 2, "no pod after the limit")

        #expect(try await eventually { try await failedCondition("slow") != nil }, "\(cluster.logTail())")
        #expect(try await failedCondition("slow")?.reason == "DeadlineExceeded")
        #expect(try await eventually { Self.live(try await cluster.pods(Self.namespace), app: "slow").isEmpty }, "running pods are deleted")
    }

    // MARK: StatefulSet

    @Test("a StatefulSet creates <set>-0..N-1 in order, each after its predecessor is Ready, with claims made first and stable host names; it scales down from the highest ordinal")
    func statefulSetOrderedWithClaims() async throws {
        let cluster = try WorkloadCluster()
        defer { cluster.stop() }
        try await cluster.start()
        try await cluster.makeNamespace(Self.namespace)
        // The volume binder updates claims (and so their resourceVersion, which this test reads as
        // the claims' creation order); this test is about the StatefulSet controller alone.
        try cluster.startControllerManager(extraArguments: ["--controllers", "*,-persistentvolume-binder"])
        let nodes = NodeSimulator(client: cluster.client, namespace: Self.namespace, nodes: ["node-a", "node-b"]) { _ in .ready(afterSeconds: 0.4) }
        await nodes.start()
        let observer = PodObserver(client: cluster.client, namespace: Self.namespace)
        await observer.start()
        defer { Task { await nodes.stop(); await observer.stop() } }

        var spec = StatefulSetSpec()
        spec.replicas = 3
        spec.serviceName = "db"
        spec.selector = LabelSelector(matchLabels: ["app": "db"])
        spec.template = Workloads.template(["app": "db"])
        var claim = PersistentVolumeClaim(metadata: ObjectMeta(name: "data"))
        claim.spec = PersistentVolumeClaimSpec(
            accessModes: ["ReadWriteOnce"], resources: VolumeResourceRequirements(requests: ["storage": Quantity(string: "1Gi")]))
        spec.volumeClaimTemplates = [claim]
        _ = try await cluster.client.create(StatefulSet(metadata: ObjectMeta(name: "db", namespace: Self.namespace), spec: spec))

        let ready = try await eventually {
            let status = try await cluster.client.get(StatefulSet.self, namespace: Self.namespace, name: "db").status
            return status?.readyReplicas == 3 && status?.replicas == 3
        }
        #expect(ready, "\(cluster.logTail())")
        let pods = Self.live(try await cluster.pods(Self.namespace), app: "db").sorted { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }
        #expect(pods.map { $0.metadata?.name ?? "" } == ["db-0", "db-1", "db-2"])
        let claims = try await cluster.client.list(PersistentVolumeClaim.self, namespace: Self.namespace).items
        #expect(Set(claims.compactMap { $0.metadata?.name }) == ["data-db-0", "data-db-1", "data-db-2"])
        for (ordinal, pod) in pods.enumerated() {
            #expect(pod.spec?.hostname == "db-\(ordinal)" && pod.spec?.subdomain == "db")
            #expect(pod.metadata?.labels[StatefulSetDecisions.podNameLabel] == "db-\(ordinal)")
            #expect(pod.spec?.volumes.first { $0.name == "data" }?.volumeSource?.persistentVolumeClaim?.claimName == "data-db-\(ordinal)")
        }
        let status = try await cluster.client.get(StatefulSet.self, namespace: Self.namespace, name: "db").status
        #expect(status?.updateRevision?.hasPrefix("db-") == true && status?.currentRevision == status?.updateRevision)
        #expect(status?.currentReplicas == 3 && status?.updatedReplicas == 3)

        // Order, as the watch saw it: when db-i appeared, db-(i-1) was Ready and db-i's claim existed.
        var readyNames: Set<String> = []
        var addedOrder: [String] = []
        for event in observer.events {
            let name = event.pod.metadata?.name ?? ""
            if event.kind == "ADDED" {
                addedOrder.append(name)
                if let ordinal = StatefulSetDecisions.parentAndOrdinal(name)?.ordinal, ordinal > 0 {
                    #expect(readyNames.contains("db-\(ordinal - 1)"), "\(name) was created before db-\(ordinal - 1) was ready")
                }
                let claimVersion = Int(claims.first { $0.metadata?.name == "data-\(name)" }?.metadata?.resourceVersion ?? "") ?? Int.max
                #expect(claimVersion < Int(event.pod.metadata?.resourceVersion ?? "") ?? 0, "the claim of \(name) was created after it")
            }
            if PodState.isReady(event.pod) { readyNames.insert(name) }
        }
        #expect(addedOrder == ["db-0", "db-1", "db-2"])

        // Scale down to 1: db-2 goes before db-1; the claims stay.
        var scaled = try await cluster.client.get(StatefulSet.self, namespace: Self.namespace, name: "db")
        scaled.spec?.replicas = 1
        _ = try await cluster.client.update(scaled)
        #expect(try await eventually {
            let names = Self.live(try await cluster.pods(Self.namespace), app: "db").compactMap { $0.metadata?.name }
            let status = try await cluster.client.get(StatefulSet.self, namespace: Self.namespace, name: "db").status
            return names == ["db-0"] && status?.replicas == 1
        }, "\(cluster.logTail())")
        let deletions = observer.events.filter { $0.kind == "DELETED" }.map { $0.pod.metadata?.name ?? "" }
        #expect(deletions == ["db-2", "db-1"])
        #expect(try await cluster.client.list(PersistentVolumeClaim.self, namespace: Self.namespace).items.count == 3)
    }

    // MARK: Failover

    @Test("two controller managers with --leader-elect: one acts; kill -9 of the leader hands over within the lease; a paused leader that lost its lease exits with status 1")
    func controllerManagerFailover() async throws {
        let cluster = try WorkloadCluster()
        defer { cluster.stop() }
        try await cluster.start()
        try await cluster.makeNamespace(Self.namespace)
        let leaseSeconds = 4.0
        try cluster.startControllerManager(name: "cm-a", leaseSeconds: leaseSeconds)
        try cluster.startControllerManager(name: "cm-b", leaseSeconds: leaseSeconds)
        let nodes = NodeSimulator(client: cluster.client, namespace: Self.namespace, nodes: ["node-a"]) { _ in .ready(afterSeconds: 0.1) }
        await nodes.start()
        defer { Task { await nodes.stop() } }

        func holder() async -> String {
            (try? await cluster.client.get(Lease.self, namespace: "kube-system", name: "kube-controller-manager"))?.spec?.holderIdentity ?? ""
        }
        #expect(await eventually { ["cm-a", "cm-b"].contains(await holder()) }, "\(cluster.logTail("cm-a"))")
        let leader = await holder()
        let follower = leader == "cm-a" ? "cm-b" : "cm-a"
        _ = try await cluster.client.create(Workloads.deployment("web", namespace: Self.namespace, replicas: 2))
        #expect(try await eventually { Self.live(try await cluster.pods(Self.namespace), app: "web").filter(PodState.isReady).count == 2 })
        // Events about the deployment come from the leader only.
        let events = try await cluster.client.list(Event.self, namespace: Self.namespace).items
        #expect(!events.isEmpty && events.allSatisfy { $0.reportingInstance == leader }, "\(events.map { $0.reportingInstance ?? "" })")

        let killedAt = Date()
        cluster.kill9(leader)
        #expect(await eventually(seconds: 30) { await holder() == follower }, "\(cluster.logTail(follower))")
        let takeover = Date().timeIntervalSince(killedAt)
        #expect(takeover <= leaseSeconds + 4, "took over after \(takeover) s")
        // The new leader acts: a scale-up is carried out.
        try await Self.updateDeployment(cluster, "web") { $0.spec?.replicas = 4 }
        #expect(try await eventually { Self.live(try await cluster.pods(Self.namespace), app: "web").filter(PodState.isReady).count == 4 },
                "\(cluster.logTail(follower))")
        #expect(Self.live(try await cluster.pods(Self.namespace), app: "web").count == 4, "no duplicate pods after the hand-over")

        // A third replica; the leader is frozen (SIGSTOP) past its lease: cm-c takes over, and
        // the old leader, thawed, finds it lost the lease and exits with status 1.
        let third = try cluster.startControllerManager(name: "cm-c", leaseSeconds: leaseSeconds)
        _ = third
        try await Task.sleep(for: .seconds(1))
        cluster.signal(follower, SIGSTOP)
        #expect(await eventually(seconds: 30) { await holder() == "cm-c" }, "\(cluster.logTail("cm-c"))")
        cluster.signal(follower, SIGCONT)
        let frozen = try #require(cluster.managers[follower])
        #expect(await eventually(seconds: 30) { !frozen.isRunning }, "\(cluster.logTail(follower))")
        #expect(frozen.terminationStatus == 1)
        #expect(cluster.logTail(follower).contains("leaderelection lost"))
        #expect(await holder() == "cm-c")
    }
}
