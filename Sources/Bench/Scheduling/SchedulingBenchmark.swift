import Agents
import Api
import Foundation
import Synchronization
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// scheduling: how fast pods created through the API get bound to nodes. The benchmark starts a
/// store, an API server, a scheduler and hollow nodes (or uses a running cluster that has a
/// scheduler and nodes), creates `pods` pods in a fresh namespace with `concurrency` creates in
/// flight, and watches the namespace's bound pods (`spec.nodeName!=`): a pod counts as bound when
/// the watch first shows it, that is once the binding is persisted. Latency runs from the start
/// of a pod's create to that event, all in this process on one clock; throughput is pods over the
/// time from the first create to the last binding.
public enum SchedulingBenchmark {
    public struct Options: Sendable {
        public var nodes = 5000
        public var pods = 30_000
        /// Creates in flight at once.
        public var concurrency = 512
        public var podCPU = "100m"
        public var podMemory = "128Mi"
        public var timeoutSeconds = 600.0
        /// A running cluster (with a scheduler and nodes); nil starts everything.
        public var apiAddress: SocketAddress?
        public var token = ""
        /// Extra arguments for the scheduler this benchmark starts.
        public var schedulerArguments: [String] = []
        /// API servers to start (sharing the store): pod creates go to the first, the scheduler
        /// to the second and the hollow nodes to the third (round robin over those started).
        public var apiServers = 1
        /// Time the in-process scheduling loop (`--algorithm-only`, one thread) before the
        /// cluster starts, as a measure of this machine's speed at the moment of the run.
        public var calibrate = true
        public init() {}
    }

    public static func run(_ options: Options) async throws -> JSON {
        var cluster: ApiCluster?
        var children: [ChildProcess] = []
        defer {
            for child in children.reversed() { child.stop() }
            cluster?.stop()
        }
        let address: SocketAddress
        let token: String
        var scheduler: ChildProcess?
        var hollowNodes: ChildProcess?
        // Machines of one kind differ in speed by up to two times from day to day (shared hosts);
        // the same sitting's single-threaded scheduling loop makes rates comparable across them.
        let calibration = options.calibrate ? measureAlgorithm(options, parallelism: 1) : nil
        if let given = options.apiAddress {
            address = given
            token = options.token
        } else {
            let started = try ApiCluster(apiServers: options.apiServers)
            cluster = started
            try started.start()
            try await started.waitUntilServing()
            address = started.apiAddresses[0]
            let schedulerAddress = started.apiAddresses[1 % options.apiServers]
            let nodesAddress = started.apiAddresses[2 % options.apiServers]
            token = started.adminToken
            let tokenFile = started.store.workDirectory + "/admin-token"
            try token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
            let agentctl = started.store.agentctl
            let parent = String(getpid())
            progress("starting \(options.nodes) hollow nodes")
            let nodes = try ChildProcess(
                name: "hollow-nodes", executable: agentctl,
                arguments: [
                    "run", "hollow-nodes", "--api", nodesAddress.description, "--token-file", tokenFile, "--count", String(options.nodes),
                    "--log-level", "warning", "--exit-with-parent", parent,
                ])
            children.append(nodes)
            hollowNodes = nodes
            _ = try nodes.waitForLine(prefix: "hollow nodes ready: ", timeoutSeconds: 600)
            progress("starting the scheduler")
            let started_scheduler = try ChildProcess(
                name: "scheduler", executable: agentctl,
                arguments: [
                    "run", "scheduler", "--api", schedulerAddress.description, "--token-file", tokenFile, "--leader-elect",
                    "--name", "bench-scheduler", "--exit-with-parent", parent,
                ] + options.schedulerArguments)
            children.append(started_scheduler)
            scheduler = started_scheduler
            _ = try started_scheduler.waitForLine(prefix: "scheduler is leading: ", timeoutSeconds: 120)
        }
        let loop = EventLoop(name: "bench-driver")
        defer { loop.shutdown() }
        let writer = ApiClient(address: address, token: token, component: "bench", identity: "creator", loop: loop)
        let watcher = ApiClient(address: address, token: token, component: "bench", identity: "watcher", loop: loop)
        defer {
            Task {
                await writer.close()
                await watcher.close()
            }
        }
        let namespace = "bench-sched-\(UInt32.random(in: 0...UInt32.max))"
        _ = try await writer.create(Namespace(metadata: ObjectMeta(name: namespace)))
        _ = try await writer.create(ServiceAccount(metadata: ObjectMeta(name: "default", namespace: namespace)), namespace: namespace)
        let nodeCount = try await writer.list(Node.self, limit: 1).items.count
        guard nodeCount > 0 else { throw BenchmarkError("the cluster at \(address) has no nodes") }
        let listed = try await writer.list(Pod.self, namespace: namespace)

        let state = BindingWatch(pods: options.pods)
        // Only bound pods matter here (a kubelet's filter): the unbound creations are not sent.
        watcher.watchRaw(
            Pod.self, namespace: namespace, resourceVersion: listed.resourceVersion, fieldSelector: "spec.nodeName!=", bookmarks: false
        ) { kind, bytes, _ in
            guard kind == .added || kind == .modified, let pod = try? Pod(protobuf: bytes) else { return }
            state.observe(pod)
        }
        _ = try await watcher.list(Namespace.self, limit: 1)
        progress("creating \(options.pods) pods in \(namespace), \(options.concurrency) at a time")
        let processes: [(String, Int32?)] = [
            ("scheduler", scheduler?.pid), ("apiserver", cluster?.apiServerPIDs().first),
            ("store", cluster.flatMap { cluster in cluster.store.members.first.flatMap { cluster.store.pid($0.name) } }),
            ("hollow_nodes", hollowNodes?.pid), ("bench", getpid()),
        ]
        let cpuBefore = processes.map { $0.1.flatMap { ProcessStatus.cpuSeconds(pid: $0) } }
        let begin = monotonicNanoseconds()
        let createErrors = await createPods(options, namespace: namespace, client: writer, loop: loop, state: state, begin: begin)
        let createdSeconds = Double(monotonicNanoseconds() - begin) / 1e9
        progress("created in \(String(format: "%.1f", createdSeconds)) s; waiting for bindings")
        let deadline = Date().addingTimeInterval(options.timeoutSeconds)
        var lastReport = Date()
        while state.boundCount < options.pods - createErrors && Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
            if Date().timeIntervalSince(lastReport) > 5 {
                progress("\(state.boundCount) bound, \(state.runningCount) running")
                lastReport = Date()
            }
        }
        let result = state.summary(begin: begin)
        if result.bound < options.pods - createErrors {
            progress("timed out with \(result.bound) of \(options.pods) pods bound")
        }
        // Give the hollow nodes a moment to report the last pods Running.
        let runningDeadline = Date().addingTimeInterval(30)
        while state.runningCount < result.bound && Date() < runningDeadline { try await Task.sleep(for: .milliseconds(50)) }
        let running = state.summary(begin: begin)
        func kilobytes(_ value: Int?) -> JSON { value.map { .integer($0) } ?? .null }
        func seconds(_ value: Double?) -> JSON { value.map { .rounded($0) } ?? .null }
        let rate = result.lastBoundSeconds > 0 ? Double(result.bound) / result.lastBoundSeconds : 0
        var fields: [(String, JSON)] = [
            ("benchmark", "scheduling"),
            ("nodes", .integer(options.apiAddress == nil ? options.nodes : nodeCount)),
            ("api_servers", options.apiAddress == nil ? .integer(options.apiServers) : .null),
            ("pods", .integer(options.pods)),
            ("create_concurrency", .integer(options.concurrency)),
            ("create_errors", .integer(createErrors)),
            ("created_seconds", .rounded(createdSeconds, 3)),
            ("bound", .integer(result.bound)),
            ("bound_seconds", .rounded(result.lastBoundSeconds, 3)),
            ("pods_per_second_bound", .rounded(rate, 1)),
            ("create_to_bound_p50_ms", .rounded(result.latencyMilliseconds(0.50), 1)),
            ("create_to_bound_p99_ms", .rounded(result.latencyMilliseconds(0.99), 1)),
            ("create_to_bound_max_ms", .rounded(result.latencyMilliseconds(1.0), 1)),
            ("running", .integer(running.running)),
            ("all_running_seconds", running.running == result.bound ? .rounded(running.lastRunningSeconds, 3) : .null),
        ]
        fields.append(("scheduler_vmhwm_kb", kilobytes(scheduler.flatMap(\.peakResidentKilobytes))))
        fields.append(("apiserver_vmhwm_kb", kilobytes(cluster?.apiServerPeakResidentKilobytes().max())))
        fields.append(("store_vmhwm_kb", kilobytes(cluster?.store.peakResidentKilobytes().values.max())))
        fields.append(("hollow_nodes_vmhwm_kb", kilobytes(hollowNodes.flatMap(\.peakResidentKilobytes))))
        // CPU each process used from the first create until now (all pods bound and Running),
        // and all of it per pod: what the machine's cores must supply for each pod.
        var total = 0.0
        for (index, (name, pid)) in processes.enumerated() {
            let used = pid.flatMap { ProcessStatus.cpuSeconds(pid: $0) }.flatMap { after in cpuBefore[index].map { after - $0 } }
            total += used ?? 0
            fields.append(("\(name)_cpu_s", seconds(used)))
        }
        if options.apiAddress == nil && options.apiServers == 1 {
            fields.append(("cpu_per_pod_us", .rounded(total / Double(options.pods) * 1e6, 0)))
        }
        if let calibration {
            fields.append(("calibration_algorithm_decisions_per_s", .rounded(calibration.decisionsPerSecond, 0)))
            fields.append(("bound_rate_over_algorithm_rate", .rounded(rate / calibration.decisionsPerSecond, 4)))
        }
        return .object(fields)
    }

    /// Creates the pods with `concurrency` creates in flight; returns how many failed.
    private static func createPods(
        _ options: Options, namespace: String, client: ApiClient, loop: EventLoop, state: BindingWatch, begin: UInt64
    ) async -> Int {
        var container = Container()
        container.name = "app"
        container.image = "registry.local/app:1"
        container.resources = ResourceRequirements(
            requests: [ResourceNames.cpu: Quantity(options.podCPU), ResourceNames.memory: Quantity(options.podMemory)])
        let template = PodSpec(containers: [container])
        return await withUnsafeContinuation { continuation in
            loop.execute {
                var issued = 0
                var finished = 0
                var inFlight = 0
                var errors = 0
                var firstError: String?
                func issue() {
                    while issued < options.pods && inFlight < options.concurrency {
                        let index = issued
                        issued += 1
                        inFlight += 1
                        var pod = Pod()
                        pod.metadata = ObjectMeta(name: "pod-\(index)", namespace: namespace)
                        pod.spec = template
                        var request = ApiClient.request(Pod.self, namespace: namespace)
                        request.object = pod.protobufBytes()
                        state.created(index: index, at: monotonicNanoseconds())
                        client.start("api.Create", request) { result in
                            inFlight -= 1
                            finished += 1
                            if case .failure(let error) = result {
                                errors += 1
                                if firstError == nil { firstError = error.message }
                            }
                            if finished == options.pods {
                                if let firstError { progress("\(errors) creates failed; the first: \(firstError)") }
                                continuation.resume(returning: errors)
                            } else {
                                issue()
                            }
                        }
                    }
                }
                issue()
            }
        }
    }

    static func progress(_ message: String) {
        FileHandle.standardError.write(Data("bench scheduling: \(message)\n".utf8))
    }
}

/// BindingWatch records, per pod, when its create started and when the watch first showed it
/// bound and Running. Pods are named pod-<index>.
final class BindingWatch: Sendable {
    struct State {
        var createdAt: [UInt64]
        var boundAt: [UInt64]
        var runningAt: [UInt64]
        var bound = 0
        var running = 0
    }

    private let state: Mutex<State>

    init(pods: Int) {
        state = Mutex(State(
            createdAt: [UInt64](repeating: 0, count: pods), boundAt: [UInt64](repeating: 0, count: pods),
            runningAt: [UInt64](repeating: 0, count: pods)))
    }

    var boundCount: Int { state.withLock { $0.bound } }
    var runningCount: Int { state.withLock { $0.running } }

    func created(index: Int, at time: UInt64) {
        state.withLock { $0.createdAt[index] = time }
    }

    func observe(_ pod: Pod) {
        guard let name = pod.metadata?.name, name.hasPrefix("pod-"), let index = Int(name.dropFirst(4)) else { return }
        let bound = !(pod.spec?.nodeName ?? "").isEmpty
        let running = pod.status?.phase == "Running"
        guard bound || running else { return }
        let now = monotonicNanoseconds()
        state.withLock { state in
            guard index < state.boundAt.count else { return }
            if bound && state.boundAt[index] == 0 {
                state.boundAt[index] = now
                state.bound += 1
            }
            if running && state.runningAt[index] == 0 {
                state.runningAt[index] = now
                state.running += 1
            }
        }
    }

    struct Summary {
        var bound: Int
        var running: Int
        var lastBoundSeconds: Double
        var lastRunningSeconds: Double
        /// Create-to-bound latencies in nanoseconds, sorted.
        var latencies: [UInt64]

        func latencyMilliseconds(_ quantile: Double) -> Double {
            guard !latencies.isEmpty else { return .nan }
            let position = min(latencies.count - 1, Int((Double(latencies.count) * quantile).rounded(.up)) - 1)
            return Double(latencies[max(0, position)]) / 1e6
        }
    }

    func summary(begin: UInt64) -> Summary {
        state.withLock { state in
            var latencies: [UInt64] = []
            var lastBound: UInt64 = begin
            var lastRunning: UInt64 = begin
            for index in state.boundAt.indices where state.boundAt[index] != 0 {
                latencies.append(state.boundAt[index] &- state.createdAt[index])
                lastBound = max(lastBound, state.boundAt[index])
            }
            for time in state.runningAt where time != 0 { lastRunning = max(lastRunning, time) }
            latencies.sort()
            return Summary(
                bound: state.bound, running: state.running, lastBoundSeconds: Double(lastBound - begin) / 1e9,
                lastRunningSeconds: Double(lastRunning - begin) / 1e9, latencies: latencies)
        }
    }
}

extension SchedulingBenchmark {
    /// The scheduling loop alone, in this process: `pods` pending pods decided onto `nodes`
    /// nodes by a `SchedulerCore` with the default profile, no API server, no I/O. What the
    /// scheduler's own code can do per core, apart from the cluster around it.
    public static func runAlgorithmOnly(_ options: Options, parallelism: Int) -> JSON {
        let run = measureAlgorithm(options, parallelism: parallelism)
        return .object([
            ("benchmark", "scheduling-algorithm"),
            ("nodes", .integer(options.nodes)),
            ("pods", .integer(options.pods)),
            ("parallelism", .integer(parallelism)),
            ("bound", .integer(run.bound)),
            ("unschedulable_attempts", .integer(run.unschedulable)),
            ("enqueue_seconds", .rounded(run.enqueueSeconds, 3)),
            ("decide_seconds", .rounded(run.decideSeconds, 3)),
            ("decisions_per_second", .rounded(run.decisionsPerSecond, 0)),
            ("evaluated_nodes_per_pod", .integer(ScheduleAlgorithm.feasibleNodesToFind(nodeCount: options.nodes, percentage: 0))),
        ])
    }

    /// One pass of the scheduling loop in this process over `options.pods` pods and
    /// `options.nodes` hollow-node templates: no API server, no I/O.
    struct AlgorithmRun {
        var bound: Int
        var unschedulable: Int
        var enqueueSeconds: Double
        var decideSeconds: Double
        var decisionsPerSecond: Double { decideSeconds > 0 ? Double(bound) / decideSeconds : 0 }
    }

    static func measureAlgorithm(_ options: Options, parallelism: Int) -> AlgorithmRun {
        var configuration = ScheduleAlgorithm.Configuration()
        configuration.parallelism = parallelism
        let core = SchedulerCore(profile: PluginRegistry.defaultProfile(), algorithm: configuration)
        var template = HollowNodeTemplate(count: options.nodes)
        template.zones = 3
        for index in 0..<options.nodes { core.nodeChanged(template.node(index), now: 0) }
        var container = Container()
        container.name = "app"
        container.image = "registry.local/app:1"
        container.resources = ResourceRequirements(
            requests: [ResourceNames.cpu: Quantity(options.podCPU), ResourceNames.memory: Quantity(options.podMemory)])
        let pods = (0..<options.pods).map { index in
            Pod(
                metadata: ObjectMeta(name: "pod-\(index)", namespace: "bench", uid: "uid-\(index)"),
                spec: PodSpec(containers: [container]))
        }
        let begin = monotonicNanoseconds()
        for pod in pods { core.podChanged(old: nil, pod, now: begin) }
        let queued = monotonicNanoseconds()
        var bound = 0
        var unschedulable = 0
        while let decision = core.scheduleNext(now: monotonicNanoseconds()) {
            switch decision {
            case .bind(let pod, _):
                bound += 1
                core.bindingSucceeded(uid: pod.uid)
            case .unschedulable:
                unschedulable += 1
            }
        }
        let end = monotonicNanoseconds()
        return AlgorithmRun(
            bound: bound, unschedulable: unschedulable, enqueueSeconds: Double(queued - begin) / 1e9,
            decideSeconds: Double(end - queued) / 1e9)
    }
}
