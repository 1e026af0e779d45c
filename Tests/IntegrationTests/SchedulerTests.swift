import Api
import Bench
import Foundation
import Testing
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// A store, an API server, hollow nodes and schedulers as real processes on loopback.
final class SchedulerHarness: @unchecked Sendable {
    // Safety of @unchecked Sendable: driven by one test task at a time.
    let cluster: ApiCluster
    let client: ApiClient
    let tokenFile: String
    let agentctl = BuildProducts.directory.appendingPathComponent("agentctl").path
    private(set) var children: [ChildProcess] = []

    init() async throws {
        cluster = try ApiCluster(agentctl: agentctl)
        try cluster.start()
        try await cluster.waitUntilServing()
        tokenFile = cluster.store.workDirectory + "/admin-token"
        try cluster.adminToken.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        client = ApiClient(address: cluster.apiAddresses[0], token: cluster.adminToken, component: "test", identity: "scheduler-test")
    }

    var api: String { cluster.apiAddresses[0].description }

    /// Starts `agentctl run hollow-nodes` and waits until its nodes are registered.
    @discardableResult
    func startHollowNodes(_ arguments: [String]) throws -> ChildProcess {
        let process = try ChildProcess(
            name: "hollow-nodes", executable: agentctl,
            arguments: ["run", "hollow-nodes", "--api", api, "--token-file", tokenFile, "--log-level", "warning",
                        "--exit-with-parent", String(getpid())] + arguments)
        children.append(process)
        _ = try process.waitForLine(prefix: "hollow nodes ready: ", timeoutSeconds: 120)
        return process
    }

    /// Starts `agentctl run scheduler`; waits until it leads unless told not to.
    @discardableResult
    func startScheduler(_ arguments: [String], waitForLeading: Bool = true) throws -> ChildProcess {
        let process = try ChildProcess(
            name: "scheduler", executable: agentctl,
            arguments: ["run", "scheduler", "--api", api, "--token-file", tokenFile, "--exit-with-parent", String(getpid())] + arguments)
        children.append(process)
        if waitForLeading { _ = try process.waitForLine(prefix: "scheduler is leading: ", timeoutSeconds: 120) }
        return process
    }

    /// A namespace with its default service account, as the namespace controller would make it.
    func namespace(_ name: String) async throws {
        _ = try await client.create(Namespace(metadata: ObjectMeta(name: name)))
        _ = try await client.create(ServiceAccount(metadata: ObjectMeta(name: "default", namespace: name)), namespace: name)
    }

    func createPod(_ name: String, namespace: String, cpu: String = "100m") async throws {
        var container = Container()
        container.name = "app"
        container.image = "registry.local/app:1"
        container.resources = ResourceRequirements(requests: ["cpu": Quantity(cpu), "memory": Quantity("64Mi")])
        _ = try await client.create(Pod(metadata: ObjectMeta(name: name, namespace: namespace), spec: PodSpec(containers: [container])))
    }

    func pod(_ name: String, namespace: String) async -> Pod? {
        try? await client.get(Pod.self, namespace: namespace, name: name)
    }

    func events(namespace: String, reason: String, about name: String) async -> [Event] {
        let all = (try? await client.list(Event.self, namespace: namespace).items) ?? []
        return all.filter { $0.reason == reason && $0.involvedObject?.name == name }
    }

    func stop() {
        for child in children.reversed() { child.stop() }
        Task { [client] in await client.close() }
        cluster.stop()
    }
}

@Suite("Scheduler and hollow nodes over loopback (real processes)", .serialized)
struct SchedulerTests {
    static func isRunning(_ pod: Pod?) -> Bool {
        guard let pod, pod.status?.phase == "Running", !(pod.status?.podIP ?? "").isEmpty else { return false }
        return pod.status?.conditions.contains { $0.type == "Ready" && $0.status == "True" } ?? false
    }

    @Test("pods are bound to hollow nodes, reported Running with Scheduled events, and finalized when deleted")
    func podsAreBoundAndRun() async throws {
        let harness = try await SchedulerHarness()
        defer { harness.stop() }
        try harness.startHollowNodes(["--count", "3", "--heartbeat-interval-seconds", "1"])
        try harness.startScheduler(["--leader-elect=false"])
        try await harness.namespace("shop")
        let names = (0..<12).map { "web-\($0)" }
        for name in names { try await harness.createPod(name, namespace: "shop") }

        let allRunning = await clientEventually(seconds: 60) {
            for name in names where !Self.isRunning(await harness.pod(name, namespace: "shop")) { return false }
            return true
        }
        #expect(allRunning)
        var used: Set<String> = []
        for name in names {
            let pod = try #require(await harness.pod(name, namespace: "shop"))
            let node = try #require(pod.spec?.nodeName)
            #expect(node.hasPrefix("hollow-node-"))
            used.insert(node)
            #expect(pod.status?.podIP?.hasPrefix("127.96.") == true)
            #expect(pod.status?.hostIP?.hasPrefix("127.95.") == true)
            #expect(pod.status?.containerStatuses.first?.ready == true)
            let scheduled = await clientEventually { !(await harness.events(namespace: "shop", reason: "Scheduled", about: name)).isEmpty }
            #expect(scheduled, "no Scheduled event for \(name)")
            let event = await harness.events(namespace: "shop", reason: "Scheduled", about: name).first
            #expect(event?.message == "Successfully assigned shop/\(name) to \(node)")
        }
        // Twelve equal pods on three empty nodes: the scores spread them.
        #expect(used.count == 3)

        // Nodes are Ready and heartbeat through their leases.
        let nodes = try await harness.client.list(Node.self).items
        #expect(nodes.count == 3)
        for node in nodes {
            #expect(node.status?.conditions.first { $0.type == "Ready" }?.status == "True")
        }
        let before = try await harness.client.get(Lease.self, namespace: "kube-node-lease", name: "hollow-node-0")
        let renewed = await clientEventually {
            let now = try? await harness.client.get(Lease.self, namespace: "kube-node-lease", name: "hollow-node-0")
            return now?.spec?.renewTime != before.spec?.renewTime
        }
        #expect(renewed, "the node lease was not renewed")

        // A deleted pod is finalized by its node and disappears.
        _ = try await harness.client.delete(Pod.self, namespace: "shop", name: "web-0")
        let gone = await clientEventually { await harness.pod("web-0", namespace: "shop") == nil }
        #expect(gone)
    }

    @Test("a pod that fits nowhere stays Pending with FailedScheduling and PodScheduled=False, and is scheduled when a fitting node appears")
    func unschedulableUntilANodeFits() async throws {
        let harness = try await SchedulerHarness()
        defer { harness.stop() }
        try harness.startHollowNodes(["--count", "3", "--cpu", "1"])
        try harness.startScheduler(["--no-leader-elect"])
        try await harness.namespace("batch")
        try await harness.createPod("big", namespace: "batch", cpu: "2")

        let expected = "0/3 nodes are available: 3 Insufficient cpu."
        let reported = await clientEventually(seconds: 30) {
            await harness.events(namespace: "batch", reason: "FailedScheduling", about: "big").contains { $0.message == expected }
        }
        #expect(reported)
        let conditioned = await clientEventually(seconds: 30) {
            let condition = await harness.pod("big", namespace: "batch")?.status?.conditions.first { $0.type == "PodScheduled" }
            return condition?.status == "False" && condition?.reason == "Unschedulable" && condition?.message == expected
        }
        #expect(conditioned)
        let pending = await harness.pod("big", namespace: "batch")
        let assignedNode = pending?.spec?.nodeName ?? ""
        #expect(assignedNode.isEmpty)
        #expect(pending?.status?.phase == "Pending")
        let warning = await harness.events(namespace: "batch", reason: "FailedScheduling", about: "big").first
        #expect(warning?.type == "Warning")

        try harness.startHollowNodes(["--count", "1", "--name-prefix", "big-node-", "--cpu", "4", "--start-index", "100"])
        let placed = await clientEventually(seconds: 60) { Self.isRunning(await harness.pod("big", namespace: "batch")) }
        #expect(placed)
        #expect(await harness.pod("big", namespace: "batch")?.spec?.nodeName == "big-node-0")
    }

    @Test("two schedulers: the leader schedules; after kill -9 the other takes over within the lease duration and schedules; losing the API server ends it with status 1")
    func failover() async throws {
        let harness = try await SchedulerHarness()
        defer { harness.stop() }
        try harness.startHollowNodes(["--count", "2"])
        let election = [
            "--leader-elect", "--leader-elect-lease-duration", "4s", "--leader-elect-renew-deadline", "3s",
            "--leader-elect-retry-period", "500ms",
        ]
        let first = try harness.startScheduler(election + ["--name", "scheduler-a"], waitForLeading: false)
        let second = try harness.startScheduler(election + ["--name", "scheduler-b"], waitForLeading: false)
        try await harness.namespace("jobs")

        func holder() async -> String {
            (try? await harness.client.get(Lease.self, namespace: "kube-system", name: "kube-scheduler"))?.spec?.holderIdentity ?? ""
        }
        #expect(await clientEventually(seconds: 60) { !(await holder()).isEmpty })
        let leaderName = await holder()
        let (leader, follower) = leaderName == "scheduler-a" ? (first, second) : (second, first)
        try await harness.createPod("before", namespace: "jobs")
        #expect(await clientEventually(seconds: 30) { !((await harness.pod("before", namespace: "jobs"))?.spec?.nodeName ?? "").isEmpty })

        let killedAt = Date()
        kill(leader.pid, SIGKILL)
        leader.process.waitUntilExit()
        try await harness.createPod("after", namespace: "jobs")
        let tookOver = await clientEventually(seconds: 60) {
            let now = await holder()
            return !now.isEmpty && now != leaderName
        }
        #expect(tookOver)
        let takeover = Date().timeIntervalSince(killedAt)
        // The killed leader did not release the lease: the other waits for it to expire (4 s,
        // less at most one renewal period already elapsed), and then takes it.
        #expect(takeover >= 2, "took over after \(takeover) s, before the lease could expire")
        #expect(takeover < 4 + 20, "took over after \(takeover) s")
        #expect(await clientEventually(seconds: 30) { !((await harness.pod("after", namespace: "jobs"))?.spec?.nodeName ?? "").isEmpty })
        #expect(follower.process.isRunning)

        // Without the API server the leader cannot renew: it stops leading and exits with 1.
        harness.cluster.killApiServer(0)
        let exited = await clientEventually(seconds: 60) { !follower.process.isRunning }
        #expect(exited)
        if exited { #expect(follower.process.terminationStatus == 1) }
    }

    @Test("a hollow node listed in the stop-heartbeat file stops renewing its lease; removing it resumes")
    func stoppedHeartbeats() async throws {
        let harness = try await SchedulerHarness()
        defer { harness.stop() }
        let file = harness.cluster.store.workDirectory + "/stopped-nodes"
        try "".write(toFile: file, atomically: true, encoding: .utf8)
        try harness.startHollowNodes(["--count", "2", "--heartbeat-interval-seconds", "0.5", "--stop-heartbeat-file", file])
        func renewTime(_ node: String) async -> MicroTime? {
            (try? await harness.client.get(Lease.self, namespace: "kube-node-lease", name: node))?.spec?.renewTime
        }
        try "hollow-node-0\n".write(toFile: file, atomically: true, encoding: .utf8)
        // Let the file be read, then watch both leases for a few renewal periods.
        try await Task.sleep(for: .seconds(2))
        let stoppedBefore = await renewTime("hollow-node-0")
        let liveBefore = await renewTime("hollow-node-1")
        #expect(await clientEventually(seconds: 20) { await renewTime("hollow-node-1") != liveBefore })
        try await Task.sleep(for: .seconds(2))
        #expect(await renewTime("hollow-node-0") == stoppedBefore)

        try "".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(await clientEventually(seconds: 20) { await renewTime("hollow-node-0") != stoppedBefore })
    }
}
