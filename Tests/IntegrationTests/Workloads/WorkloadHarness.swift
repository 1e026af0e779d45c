import Agents
import Api
import Bench
import Foundation
import Logging
import Synchronization
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// WorkloadCluster is a store, an API server and controller-manager processes on loopback, for
/// the workload controller tests. There is no scheduler or node agent: the test plays both with
/// a `NodeSimulator`, which also lets it decide when each pod becomes ready, succeeds or fails.
final class WorkloadCluster: @unchecked Sendable {
    // Safety of @unchecked Sendable: driven by one test task at a time; `managers` is touched
    // only from that task.
    let api: ApiCluster
    let client: ApiClient
    private(set) var managers: [String: Process] = [:]
    var workDirectory: String { api.store.workDirectory }
    var tokenFile: String { workDirectory + "/admin-token" }

    init() throws {
        api = try ApiCluster(agentctl: BuildProducts.directory.appendingPathComponent("agentctl").path)
        client = ApiClient(address: api.apiAddresses[0], token: api.adminToken, component: "test", identity: "workload-test")
    }

    func start() async throws {
        try api.start()
        try await api.waitUntilServing()
        try api.adminToken.write(toFile: tokenFile, atomically: true, encoding: .utf8)
    }

    /// Starts `agentctl run controller-manager --name NAME`, logging to NAME.log.
    @discardableResult
    func startControllerManager(
        name: String = "cm-1", leaderElect: Bool = true, leaseSeconds: Double = 4, extraArguments: [String] = []
    ) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: api.store.agentctl)
        var arguments = [
            "run", "controller-manager", "--api", api.apiAddresses[0].description, "--token-file", tokenFile,
            "--name", name, "--leader-elect=\(leaderElect)", "--concurrent-syncs", "3",
            "--exit-with-parent", String(getpid()),
        ]
        if leaderElect {
            let lease = Int(leaseSeconds * 1000)
            arguments += [
                "--leader-elect-lease-duration", "\(lease)ms", "--leader-elect-renew-deadline", "\(lease * 2 / 3)ms",
                "--leader-elect-retry-period", "\(max(100, lease / 8))ms",
            ]
        }
        process.arguments = arguments + extraArguments
        let logPath = workDirectory + "/\(name).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        managers[name] = process
        return process
    }

    func kill9(_ name: String) {
        guard let process = managers[name] else { return }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    func signal(_ name: String, _ number: Int32) {
        guard let process = managers[name], process.isRunning else { return }
        kill(process.processIdentifier, number)
    }

    /// The last lines of a controller manager's log, for failure messages.
    func logTail(_ name: String = "cm-1", lines: Int = 30) -> String {
        let text = (try? String(contentsOfFile: workDirectory + "/\(name).log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    func stop() {
        for process in managers.values where process.isRunning {
            kill(process.processIdentifier, SIGCONT)
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        managers.removeAll()
        api.stop()
    }

    /// A namespace with its default service account (the service account admission plugin
    /// needs it for pods; the service account controller is not running in these tests).
    func makeNamespace(_ name: String) async throws {
        _ = try await client.create(Namespace(metadata: ObjectMeta(name: name)))
        _ = try await client.create(ServiceAccount(metadata: ObjectMeta(name: "default", namespace: name)))
    }

    func makeNode(_ name: String, labels: [String: String] = [:], taints: [Taint] = []) async throws {
        var node = Node(metadata: ObjectMeta(name: name, labels: labels))
        node.spec = NodeSpec(taints: taints)
        _ = try await client.create(node)
    }

    func pods(_ namespace: String, selector: String? = nil) async throws -> [Pod] {
        try await client.list(Pod.self, namespace: namespace, labelSelector: selector).items
    }
}

/// Builders for the objects the tests create.
enum Workloads {
    static func template(_ labels: [String: String], image: String = "registry.local/web:1", restartPolicy: String? = nil) -> PodTemplateSpec {
        var container = Container()
        container.name = "main"
        container.image = image
        var spec = PodSpec()
        spec.containers = [container]
        spec.restartPolicy = restartPolicy
        return PodTemplateSpec(metadata: ObjectMeta(labels: labels), spec: spec)
    }

    static func deployment(
        _ name: String, namespace: String, replicas: Int32, image: String = "registry.local/web:1",
        strategy: DeploymentStrategy? = nil
    ) -> Deployment {
        let labels = ["app": name]
        var spec = DeploymentSpec()
        spec.replicas = replicas
        spec.selector = LabelSelector(matchLabels: labels)
        spec.template = template(labels, image: image)
        spec.strategy = strategy
        return Deployment(metadata: ObjectMeta(name: name, namespace: namespace), spec: spec)
    }

    static func rolling(maxSurge: IntOrString, maxUnavailable: IntOrString) -> DeploymentStrategy {
        DeploymentStrategy(type: "RollingUpdate", rollingUpdate: RollingUpdateDeployment(maxUnavailable: maxUnavailable, maxSurge: maxSurge))
    }
}

/// PodFate is what the simulated node does with a pod once it is bound.
enum PodFate: Sendable, Equatable {
    /// Running, and Ready after this many seconds.
    case ready(afterSeconds: Double)
    /// Running, never ready.
    case running
    /// Running, then Succeeded (exit 0) after this many seconds.
    case succeed(afterSeconds: Double)
    /// Running, then Failed (exit 1) after this many seconds.
    case fail(afterSeconds: Double)
}

/// NodeSimulator plays the scheduler and the node agents from the test process: it binds every
/// unscheduled pod (to the node its required node affinity names, else round-robin over
/// `nodes`), reports bound pods Running and then Ready, Succeeded or Failed as `fate` says, and
/// finishes graceful deletions at once (as a node agent does when the containers have stopped).
final class NodeSimulator: Sendable {
    let client: ApiClient
    let informer: Informer<Pod>
    let loop: ReconcileLoop
    let nodes: Mutex<[String]>
    let fate: @Sendable (Pod) -> PodFate
    private let roundRobin = Atomic<Int>(0)
    /// When each pod was reported Running, by uid.
    private let startedAt = Mutex<[String: Double]>([:])
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(client: ApiClient, namespace: String, nodes: [String], fate: @escaping @Sendable (Pod) -> PodFate) {
        self.client = client
        self.nodes = Mutex(nodes)
        self.fate = fate
        informer = Informer<Pod>(client: client, configuration: .init(namespace: namespace))
        loop = ReconcileLoop(name: "node-simulator", workers: 4, logger: Logger(label: "node-simulator"))
        informer.addEventHandler(loop.objectHandler(Pod.self))
    }

    func start() async {
        informer.start()
        _ = await informer.waitUntilSynced()
        task.withLock { task in
            task = Task { [self] in await loop.run { key in try await self.sync(key) } }
        }
    }

    func stop() async {
        let running = task.withLock { $0 }
        running?.cancel()
        await running?.value
        await informer.stop()
    }

    func setNodes(_ names: [String]) {
        nodes.withLock { $0 = names }
    }

    private func sync(_ key: String) async throws {
        guard let pod = informer.indexer.get(key: key) else { return }
        let (namespace, name) = ObjectKey.split(key)
        if pod.metadata?.deletionTimestamp != nil {
            try await ignoringNotFound { () async throws(ApiError) in
                try await client.delete(Pod.self, namespace: namespace, name: name, gracePeriodSeconds: 0)
            }
            return
        }
        guard let node = pod.spec?.nodeName, !node.isEmpty else {
            guard let target = DaemonSetDecisions.targetNode(pod) ?? pickNode() else { return }
            try await ignoringNotFound { () async throws(ApiError) in
                try await client.bind(podNamespace: namespace, podName: name, node: target)
            }
            return
        }
        let uid = pod.metadata?.uid ?? ""
        let now = WallClock.now()
        let phase = pod.status?.phase ?? ""
        if phase == "" || phase == "Pending" {
            startedAt.withLock { $0[uid] = now }
            try await report(pod, phase: "Running", ready: false, now: now)
            loop.enqueue(key, afterSeconds: delay(of: fate(pod)))
            return
        }
        guard phase == "Running" else { return }
        let started = startedAt.withLock { $0[uid] } ?? now
        let fate = fate(pod)
        let wait = started + delay(of: fate) - now
        if wait > 0.001 {
            loop.enqueue(key, afterSeconds: wait)
            return
        }
        switch fate {
        case .ready:
            if !PodState.isReady(pod) { try await report(pod, phase: "Running", ready: true, now: now) }
        case .running:
            break
        case .succeed:
            try await report(pod, phase: "Succeeded", ready: false, now: now, exitCode: 0)
        case .fail:
            try await report(pod, phase: "Failed", ready: false, now: now, exitCode: 1)
        }
    }

    private func delay(of fate: PodFate) -> Double {
        switch fate {
        case .ready(let seconds), .succeed(let seconds), .fail(let seconds): return seconds
        case .running: return 0
        }
    }

    private func pickNode() -> String? {
        let names = nodes.withLock { $0 }
        guard !names.isEmpty else { return nil }
        return names[roundRobin.add(1, ordering: .relaxed).newValue % names.count]
    }

    private func report(_ pod: Pod, phase: String, ready: Bool, now: Double, exitCode: Int32? = nil) async throws {
        var updated = pod
        var status = pod.status ?? PodStatus()
        status.phase = phase
        let time = WallClock.time(now)
        if status.startTime == nil { status.startTime = time }
        var condition = PodCondition()
        condition.type = "Ready"
        condition.status = ready ? "True" : "False"
        let previous = status.conditions.first { $0.type == "Ready" }
        condition.lastTransitionTime = previous?.status == condition.status ? previous?.lastTransitionTime : time
        status.conditions.removeAll { $0.type == "Ready" }
        status.conditions.append(condition)
        var container = ContainerStatus()
        container.name = "main"
        container.ready = ready
        container.restartCount = 0
        if let exitCode {
            var terminated = ContainerStateTerminated()
            terminated.exitCode = exitCode
            terminated.reason = exitCode == 0 ? "Completed" : "Error"
            terminated.finishedAt = time
            container.state = ContainerState(terminated: terminated)
        } else {
            container.state = ContainerState(running: ContainerStateRunning(startedAt: status.startTime))
        }
        status.containerStatuses = [container]
        updated.status = status
        try await ignoringNotFound { () async throws(ApiError) in
            _ = try await client.updateStatus(updated)
        }
    }
}

/// Runs `body`; an object that is gone (404) is not an error.
func ignoringNotFound(_ body: () async throws(ApiError) -> Void) async throws(ApiError) {
    do {
        try await body()
    } catch {
        if error.code != 404 { throw error }
    }
}

/// Waits for `condition` with a generous deadline (the machine is shared and noisy).
func eventually(seconds: Double = 60, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

/// PodObserver checks an invariant after every pod event of a namespace, in event order, and
/// keeps the violations: what a user watching `kubectl get pods -w` would have seen.
final class PodObserver: Sendable {
    final class State: Sendable {
        let violations = Mutex<[String]>([])
        let checking = Atomic<Bool>(false)
        let events = Mutex<[(kind: String, pod: Pod)]>([])
    }

    let informer: Informer<Pod>
    private let state = State()

    /// `check` gets every pod in the cache after each event and returns a violation or nil.
    init(client: ApiClient, namespace: String, check: @escaping @Sendable (_ pods: [Pod]) -> String? = { _ in nil }) {
        informer = Informer<Pod>(client: client, configuration: .init(namespace: namespace))
        let state = state
        let indexer = informer.indexer
        let record: @Sendable (String, Pod) -> Void = { kind, pod in
            state.events.withLock { $0.append((kind, pod)) }
            guard state.checking.load(ordering: .relaxed), let problem = check(indexer.all()) else { return }
            state.violations.withLock { if $0.count < 20 { $0.append(problem) } }
        }
        informer.addEventHandler(Informer<Pod>.EventHandler(
            onAdd: { record("ADDED", $0) },
            onUpdate: { record("MODIFIED", $1) },
            onDelete: { record("DELETED", $0) }))
    }

    func start() async {
        informer.start()
        _ = await informer.waitUntilSynced()
    }

    func stop() async { await informer.stop() }

    /// Checks the invariant from now on.
    func startChecking() { state.checking.store(true, ordering: .relaxed) }
    func stopChecking() { state.checking.store(false, ordering: .relaxed) }

    var violations: [String] { state.violations.withLock { $0 } }
    var events: [(kind: String, pod: Pod)] { state.events.withLock { $0 } }
}
