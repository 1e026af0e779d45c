import Agents
import Api
import Bench
import Foundation
import Testing
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// The whole chain as real processes on loopback: store, API server, controller manager,
/// scheduler and hollow nodes (`ControlPlane`). Nothing plays a component: the controllers
/// create pods, the scheduler binds them, the hollow nodes report them Running.
final class ChainHarness: @unchecked Sendable {
    // Safety of @unchecked Sendable: driven by one test task at a time.
    let plane: ControlPlane
    let client: ApiClient
    static let namespace = "chain"

    init() async throws {
        plane = try ControlPlane(agentctl: BuildProducts.directory.appendingPathComponent("agentctl").path, logsToFiles: true)
        client = plane.client(identity: "chain-test")
        do {
            try await plane.start()
        } catch {
            stop()
            throw error
        }
    }

    /// Hollow nodes, then a scheduler and a controller manager without leader election (other
    /// tests cover failover), with `controllerManagerArguments` added.
    func startComponents(hollowNodes: [String], controllerManagerArguments: [String] = []) async throws {
        try plane.startHollowNodes(arguments: ["--log-level", "warning"] + hollowNodes)
        try plane.startScheduler(arguments: ["--leader-elect=false", "--log-level", "warning"])
        try plane.startControllerManager(arguments: ["--leader-elect=false", "--concurrent-syncs", "3"] + controllerManagerArguments)
        _ = try await client.create(Namespace(metadata: ObjectMeta(name: Self.namespace)))
        // The service account controller makes the default account too; whoever is second gets 409.
        do throws(ApiError) {
            _ = try await client.create(ServiceAccount(metadata: ObjectMeta(name: "default", namespace: Self.namespace)))
        } catch {
            if error.code != 409 { throw error }
        }
    }

    /// The component logs, for failure messages.
    var logs: String {
        ["controller-manager", "scheduler", "hollow-nodes"].map { "--- \($0):\n" + plane.logTail($0, lines: 15) }.joined(separator: "\n")
    }

    func pods() async throws -> [Pod] {
        try await client.list(Pod.self, namespace: Self.namespace).items
    }

    static func isRunning(_ pod: Pod) -> Bool {
        pod.metadata?.deletionTimestamp == nil && pod.status?.phase == "Running" && !(pod.spec?.nodeName ?? "").isEmpty
            && PodState.isReady(pod)
    }

    func stop() {
        Task { [client] in await client.close() }
        plane.stop()
    }

    static func deployment(_ name: String, replicas: Int32, tolerations: [Toleration] = [], gracePeriod: Int64? = nil) -> Deployment {
        var container = Container()
        container.name = "app"
        container.image = "registry.local/app:1"
        container.resources = ResourceRequirements(requests: ["cpu": Quantity("100m"), "memory": Quantity("64Mi")])
        var pod = PodSpec(containers: [container])
        pod.tolerations = tolerations
        pod.terminationGracePeriodSeconds = gracePeriod
        var spec = DeploymentSpec()
        spec.replicas = replicas
        spec.selector = LabelSelector(matchLabels: ["app": name])
        spec.template = PodTemplateSpec(metadata: ObjectMeta(labels: ["app": name]), spec: pod)
        return Deployment(metadata: ObjectMeta(name: name, namespace: namespace), spec: spec)
    }
}

@Suite("The control plane end to end over loopback (real processes)", .serialized)
struct ControlPlaneTests {
    static let namespace = ChainHarness.namespace

    @Test("a Deployment's ReplicaSet creates pods that the scheduler binds to hollow nodes and the nodes report Running; scaling up and down follows")
    func deploymentRunsOnHollowNodes() async throws {
        let harness = try await ChainHarness()
        defer { harness.stop() }
        try await harness.startComponents(hollowNodes: ["--count", "3", "--heartbeat-interval-seconds", "1"])
        let created = try await harness.client.create(ChainHarness.deployment("web", replicas: 6))

        /// Exactly `count` pods exist, all Running on hollow nodes and owned by the deployment's
        /// one replica set, and the deployment reports them available.
        func settled(_ count: Int) async throws -> Bool {
            let pods = try await harness.pods()
            let sets = try await harness.client.list(ReplicaSet.self, namespace: Self.namespace).items
            guard sets.count == 1, let set = sets.first, ControllerRef.of(set)?.uid == created.metadata?.uid else { return false }
            let deployment = try await harness.client.get(Deployment.self, namespace: Self.namespace, name: "web")
            return pods.count == count && pods.allSatisfy(ChainHarness.isRunning)
                && pods.allSatisfy { ControllerRef.of($0)?.uid == set.metadata?.uid && $0.spec?.nodeName?.hasPrefix("hollow-node-") == true }
                && set.spec?.replicas == Int32(count) && set.status?.readyReplicas == Int32(count)
                && deployment.status?.availableReplicas == Int32(count) && deployment.status?.replicas == Int32(count)
        }
        #expect(try await eventually(seconds: 90) { try await settled(6) }, "\(harness.logs)")
        let pod = try #require(try await harness.pods().first)
        #expect(pod.status?.podIP?.hasPrefix("127.96.") == true)
        #expect(pod.metadata?.name?.hasPrefix("web-") == true)
        // DefaultTolerationSeconds gave every pod the two 300 s NoExecute tolerations.
        let tolerated = Set((pod.spec?.tolerations ?? []).filter { $0.effect == "NoExecute" && $0.tolerationSeconds == 300 }.compactMap(\.key))
        #expect(tolerated == ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"])

        _ = try await harness.client.setScale(Deployment.self, namespace: Self.namespace, name: "web", replicas: 12)
        #expect(try await eventually(seconds: 90) { try await settled(12) }, "\(harness.logs)")
        // Twelve equal pods on three empty nodes: the scheduler spreads them.
        let nodes = Set(try await harness.pods().compactMap { $0.spec?.nodeName })
        #expect(nodes.count == 3)

        // Scaling down deletes pods; the hollow nodes finalize them, so they disappear.
        _ = try await harness.client.setScale(Deployment.self, namespace: Self.namespace, name: "web", replicas: 2)
        #expect(try await eventually(seconds: 90) { try await settled(2) }, "\(harness.logs)")
    }

    @Test("a hollow node whose heartbeats stop turns Unknown and is tainted; its pods are evicted when their toleration runs out, recreated on the other nodes, and the evicted ones are garbage-collected")
    func deadNodeEvictsAndReplacesPods() async throws {
        let harness = try await ChainHarness()
        defer { harness.stop() }
        let stopFile = harness.plane.workDirectory + "/stopped-nodes"
        try "".write(toFile: stopFile, atomically: true, encoding: .utf8)
        try await harness.startComponents(
            hollowNodes: [
                "--count", "3", "--heartbeat-interval-seconds", "0.5", "--lease-duration-seconds", "2", "--stop-heartbeat-file", stopFile,
            ],
            controllerManagerArguments: ["--node-monitor-grace-period", "3s"])
        // Pods leave an unreachable node after 2 s (instead of the default 300) and have 1 s to stop.
        let quick = Toleration(key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 2)
        _ = try await harness.client.create(ChainHarness.deployment("api", replicas: 6, tolerations: [quick], gracePeriod: 1))
        #expect(try await eventually(seconds: 90) {
            let pods = try await harness.pods()
            return pods.count == 6 && pods.allSatisfy(ChainHarness.isRunning)
        }, "\(harness.logs)")
        let before = try await harness.pods()
        let pod = try #require(before.first)
        // The pod's own unreachable toleration stays; admission added only the not-ready one.
        #expect(pod.spec?.tolerations.filter { $0.key == "node.kubernetes.io/unreachable" } == [quick])
        #expect(pod.spec?.tolerations.contains { $0.key == "node.kubernetes.io/not-ready" && $0.tolerationSeconds == 300 } == true)
        let dead = try #require(pod.spec?.nodeName)
        let onDead = Set(before.filter { $0.spec?.nodeName == dead }.compactMap { $0.metadata?.uid })

        try "\(dead)\n".write(toFile: stopFile, atomically: true, encoding: .utf8)
        #expect(try await eventually(seconds: 60) {
            let node = try await harness.client.get(Node.self, name: dead)
            let ready = node.status?.conditions.first { $0.type == "Ready" }?.status
            return ready == "Unknown"
                && node.spec?.taints.contains { $0.key == "node.kubernetes.io/unreachable" && $0.effect == "NoExecute" } == true
        }, "\(harness.logs)")
        // Six Running pods again, none on the dead node, none of the evicted ones left (the pod
        // garbage collector force-deletes what the dead node can no longer finalize).
        #expect(try await eventually(seconds: 90) {
            let pods = try await harness.pods()
            return pods.count == 6 && pods.allSatisfy(ChainHarness.isRunning)
                && pods.allSatisfy { $0.spec?.nodeName != dead && !onDead.contains($0.metadata?.uid ?? "") }
        }, "\(harness.logs)")
        let events = try await harness.client.list(Event.self, namespace: Self.namespace).items
        #expect(events.contains { $0.reason == "TaintManagerEviction" && onDead.contains($0.involvedObject?.uid ?? "") })
    }

    @Test("a DaemonSet puts one pod on every hollow node, bound by the scheduler and Running, and follows nodes that join and leave")
    func daemonSetCoversHollowNodes() async throws {
        let harness = try await ChainHarness()
        defer { harness.stop() }
        try await harness.startComponents(hollowNodes: ["--count", "3", "--heartbeat-interval-seconds", "1"])
        var container = Container()
        container.name = "agent"
        container.image = "registry.local/agent:1"
        var pod = PodSpec(containers: [container])
        pod.terminationGracePeriodSeconds = 0
        var spec = DaemonSetSpec()
        spec.selector = LabelSelector(matchLabels: ["app": "agent"])
        spec.template = PodTemplateSpec(metadata: ObjectMeta(labels: ["app": "agent"]), spec: pod)
        _ = try await harness.client.create(DaemonSet(metadata: ObjectMeta(name: "agent", namespace: Self.namespace), spec: spec))

        func covered(_ nodes: Set<String>) async throws -> Bool {
            let pods = try await harness.pods().filter { $0.metadata?.deletionTimestamp == nil }
            let status = try await harness.client.get(DaemonSet.self, namespace: Self.namespace, name: "agent").status
            return pods.count == nodes.count && Set(pods.compactMap { $0.spec?.nodeName }) == nodes
                && pods.allSatisfy(ChainHarness.isRunning) && status?.desiredNumberScheduled == Int32(nodes.count)
                && status?.numberReady == Int32(nodes.count)
        }
        let first: Set = ["hollow-node-0", "hollow-node-1", "hollow-node-2"]
        #expect(try await eventually(seconds: 90) { try await covered(first) }, "\(harness.logs)")

        let extra = try harness.plane.startHollowNodes(
            name: "extra-nodes", arguments: ["--count", "1", "--name-prefix", "extra-node-", "--start-index", "100", "--log-level", "warning"])
        #expect(try await eventually(seconds: 90) { try await covered(first.union(["extra-node-0"])) }, "\(harness.logs)")

        // The node leaves: its agent stops and the Node object is deleted.
        extra.stop()
        try await harness.client.delete(Node.self, name: "extra-node-0")
        #expect(try await eventually(seconds: 90) { try await covered(first) }, "\(harness.logs)")
    }

    @Test("SIGTERM of the leading controller manager or scheduler releases its Lease: the standby takes over long before the 15 s lease could expire, and the stopped one exits 0")
    func gracefulShutdownReleasesLeases() async throws {
        let harness = try await ChainHarness()
        defer { harness.stop() }
        let election = [
            "--leader-elect", "--leader-elect-lease-duration", "15s", "--leader-elect-renew-deadline", "10s",
            "--leader-elect-retry-period", "500ms", "--log-level", "warning",
        ]
        for (component, lock) in [("controller-manager", "kube-controller-manager"), ("scheduler", "kube-scheduler")] {
            let first = try harness.plane.launch(component, name: "\(component)-a", arguments: election + ["--name", "\(component)-a"])
            let second = try harness.plane.launch(component, name: "\(component)-b", arguments: election + ["--name", "\(component)-b"])
            func holder() async -> String {
                (try? await harness.client.get(Lease.self, namespace: "kube-system", name: lock))?.spec?.holderIdentity ?? ""
            }
            #expect(await clientEventually(seconds: 60) { !(await holder()).isEmpty }, "\(component): nobody leads")
            let leaderName = await holder()
            let (leader, standby) = leaderName == first.name ? (first, second) : (second, first)
            // Let the standby see the lease held, so that only a release can hand it over early.
            try await Task.sleep(for: .seconds(1))

            let stoppedAt = Date()
            kill(leader.pid, SIGTERM)
            leader.process.waitUntilExit()
            #expect(leader.process.terminationStatus == 0, "\(component) exited with \(leader.process.terminationStatus)")
            #expect(await clientEventually(seconds: 30) { await holder() == standby.name }, "\(component): the standby never took over")
            let takeover = Date().timeIntervalSince(stoppedAt)
            #expect(takeover < 12, "\(component): took over after \(takeover) s, as if the lease had not been released")
            #expect(standby.process.isRunning)
            standby.stop()
        }
    }
}
