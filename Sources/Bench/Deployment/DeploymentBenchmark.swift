import Agents
import Api
import Foundation
import Synchronization
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// deployment: how long one Deployment of `replicas` pods takes to be fully Running on hollow
/// nodes — the whole control plane at once: the deployment and replica set controllers create
/// the pods, the scheduler binds them, the hollow nodes report them Running. The benchmark starts
/// a store, an API server, a scheduler, a controller manager and hollow nodes (or uses a running
/// cluster that has them), watches the pods of a fresh namespace, creates the Deployment, and
/// times from the create's start until the watch has shown every replica created, bound
/// (spec.nodeName set, so the binding is persisted) and Running (status.phase from the node).
public enum DeploymentBenchmark {
    public struct Options: Sendable {
        public var replicas = 10_000
        /// Hollow nodes to start; nil: enough for the replicas at 100 pods a node (110 fit).
        public var nodes: Int?
        /// Requests of each pod: small enough that 110 pods fit on a hollow node (4 CPU, 16Gi).
        public var podCPU = "10m"
        public var podMemory = "32Mi"
        public var timeoutSeconds = 300.0
        /// A running cluster (with a scheduler, a controller manager and nodes); nil starts one.
        public var apiAddress: SocketAddress?
        public var token = ""
        /// API servers to start (sharing the store): the controller manager uses the first,
        /// the scheduler the second and the hollow nodes the third (round robin).
        public var apiServers = 1
        /// Extra arguments for the components this benchmark starts.
        public var controllerManagerArguments: [String] = []
        public var schedulerArguments: [String] = []
        public var hollowNodeArguments: [String] = []
        public init() {}

        public var nodeCount: Int { nodes ?? max(1, (replicas + 99) / 100) }
    }

    public static func run(_ options: Options) async throws -> JSON {
        precondition(options.replicas > 0 && options.apiServers > 0)
        var plane: ControlPlane?
        defer { plane?.stop() }
        let address: SocketAddress
        let token: String
        if let given = options.apiAddress {
            address = given
            token = options.token
        } else {
            let started = try ControlPlane(apiServers: options.apiServers)
            plane = started
            progress("starting the store and \(options.apiServers) API server(s)")
            try await started.start()
            address = started.apiAddress(0)
            token = started.adminToken
            progress("starting \(options.nodeCount) hollow nodes")
            try started.startHollowNodes(
                apiServer: 2,
                arguments: ["--count", String(options.nodeCount), "--log-level", "warning"] + options.hollowNodeArguments)
            progress("starting the scheduler")
            try started.startScheduler(
                apiServer: 1, arguments: ["--leader-elect", "--log-level", "warning"] + options.schedulerArguments)
            progress("starting the controller manager")
            try started.startControllerManager(
                apiServer: 0, arguments: ["--leader-elect", "--log-level", "warning"] + options.controllerManagerArguments)
        }
        let loop = EventLoop(name: "bench-driver")
        defer { loop.shutdown() }
        let writer = ApiClient(address: address, token: token, component: "bench", identity: "creator", loop: loop)
        let watcher = ApiClient(address: address, token: token, component: "bench", identity: "watcher", loop: loop)
        var tokens: [CallToken] = []
        defer {
            for token in tokens { watcher.cancel(token) }
            Task {
                await writer.close()
                await watcher.close()
            }
        }

        let namespace = "bench-deploy-\(UInt32.random(in: 0...UInt32.max))"
        _ = try await writer.create(Namespace(metadata: ObjectMeta(name: namespace)))
        // The service account controller makes it too; whoever is second gets 409.
        do throws(ApiError) {
            _ = try await writer.create(ServiceAccount(metadata: ObjectMeta(name: "default", namespace: namespace)), namespace: namespace)
        } catch {
            if error.code != 409 { throw error }
        }
        let nodeCount = try await writer.list(Node.self).items.count
        guard nodeCount > 0 else { throw BenchmarkError("the cluster at \(address) has no nodes") }

        let state = PodProgress(target: options.replicas)
        let podList = try await watcher.list(Pod.self, namespace: namespace)
        tokens.append(watcher.watchRaw(Pod.self, namespace: namespace, resourceVersion: podList.resourceVersion, bookmarks: false) {
            kind, bytes, error in
            state.podEvent(kind, bytes, error)
        })
        let deploymentList = try await watcher.list(Deployment.self, namespace: namespace)
        tokens.append(
            watcher.watchRaw(Deployment.self, namespace: namespace, resourceVersion: deploymentList.resourceVersion, bookmarks: false) {
                kind, bytes, error in
                state.deploymentEvent(kind, bytes, error)
            })
        // The watches are open once the connection has answered a call sent after them.
        _ = try await watcher.list(Namespace.self, limit: 1)

        // The first API server is "apiserver", the others "apiserver_2"…
        let apiServers: [(String, Int32?)] = (plane?.cluster.apiServerPIDs() ?? [0]).enumerated().map { index, pid in
            (index == 0 ? "apiserver" : "apiserver_\(index + 1)", plane == nil ? nil : pid)
        }
        let processes: [(String, Int32?)] =
            [("store", plane.flatMap { plane in plane.cluster.store.members.first.flatMap { plane.cluster.store.pid($0.name) } })]
            + apiServers + [
                ("controller_manager", plane?.component("controller-manager")?.pid),
                ("scheduler", plane?.component("scheduler")?.pid),
                ("hollow_nodes", plane?.component("hollow-nodes")?.pid),
            ]
        let cpuBefore = processes.map { $0.1.flatMap { ProcessStatus.cpuSeconds(pid: $0) } }
        let benchCPUBefore = ProcessStatus.cpuSeconds(pid: getpid())

        progress("creating a Deployment of \(options.replicas) replicas in \(namespace) over \(nodeCount) nodes")
        state.begin()
        _ = try await writer.create(deployment(options, namespace: namespace))
        let reporter = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { break }
                progress(state.line())
            }
        }
        let finished = await state.waitUntilRunning(timeoutSeconds: options.timeoutSeconds)
        let available = finished ? await state.waitUntilAvailable(timeoutSeconds: 30) : false
        reporter.cancel()
        if let error = state.watchError { throw BenchmarkError("the watch ended before the benchmark did: \(error.message)") }
        if !finished { progress("timed out after \(options.timeoutSeconds) s: \(state.line())") }

        let figures = state.figures()
        func seconds(_ value: Double?) -> JSON { value.map { .rounded($0, 3) } ?? .null }
        func kilobytes(_ pid: Int32?) -> JSON { pid.flatMap { ProcessStatus.peakResidentKilobytes(pid: $0) }.map { .integer($0) } ?? .null }
        var fields: [(String, JSON)] = [
            ("benchmark", "deployment"),
            ("replicas", .integer(options.replicas)),
            ("nodes", .integer(nodeCount)),
            ("api_servers", options.apiAddress == nil ? .integer(options.apiServers) : .null),
            ("created", .integer(figures.created)),
            ("bound", .integer(figures.bound)),
            ("running", .integer(figures.running)),
            ("all_created_seconds", seconds(figures.allCreated)),
            ("all_bound_seconds", seconds(figures.allBound)),
            ("all_running_seconds", seconds(figures.allRunning)),
            ("deployment_available_seconds", available ? seconds(figures.available) : .null),
            ("pods_per_second_running", figures.allRunning.map { .rounded(Double(options.replicas) / $0, 1) } ?? .null),
        ]
        for (name, pid) in processes { fields.append(("\(name)_vmhwm_kb", kilobytes(pid))) }
        for (index, (name, pid)) in processes.enumerated() {
            let used = pid.flatMap { ProcessStatus.cpuSeconds(pid: $0) }.flatMap { after in cpuBefore[index].map { after - $0 } }
            fields.append(("\(name)_cpu_s", seconds(used)))
        }
        fields.append(("bench_cpu_s", seconds(ProcessStatus.cpuSeconds(pid: getpid()).flatMap { after in benchCPUBefore.map { after - $0 } })))
        return .object(fields)
    }

    /// The Deployment: `replicas` pods of one container with small requests.
    static func deployment(_ options: Options, namespace: String) -> Deployment {
        let labels = ["app": "bench"]
        var container = Container()
        container.name = "app"
        container.image = "registry.local/app:1"
        container.resources = ResourceRequirements(
            requests: [ResourceNames.cpu: Quantity(options.podCPU), ResourceNames.memory: Quantity(options.podMemory)])
        var spec = DeploymentSpec()
        spec.replicas = Int32(options.replicas)
        spec.selector = LabelSelector(matchLabels: labels)
        spec.template = PodTemplateSpec(metadata: ObjectMeta(labels: labels), spec: PodSpec(containers: [container]))
        return Deployment(metadata: ObjectMeta(name: "bench", namespace: namespace), spec: spec)
    }

    static func progress(_ message: String) {
        FileHandle.standardError.write(Data("bench deployment: \(message)\n".utf8))
    }
}

/// PodProgress follows the pods of the benchmark's namespace from its watch: which exist, which
/// are bound and which Running, and the moment each count first reached the target. Keyed by
/// name, so a pod that is deleted stops counting.
final class PodProgress: Sendable {
    struct Figures {
        var created = 0
        var bound = 0
        var running = 0
        var allCreated: Double?
        var allBound: Double?
        var allRunning: Double?
        var available: Double?
    }

    private struct State {
        var begin: UInt64 = 0
        var exists: Set<String> = []
        var bound: Set<String> = []
        var running: Set<String> = []
        var figures = Figures()
        var watchError: ApiError?
        var runningWaiter: CheckedContinuation<Bool, Never>?
        var availableWaiter: CheckedContinuation<Bool, Never>?
    }

    let target: Int
    private let state = Mutex(State())

    init(target: Int) {
        self.target = target
    }

    func begin() {
        state.withLock { $0.begin = monotonicNanoseconds() }
    }

    var watchError: ApiError? { state.withLock { $0.watchError } }

    func podEvent(_ kind: ApiClient.WatchEventKind?, _ bytes: [UInt8], _ error: ApiError?) {
        guard let kind, kind != .error else { return ended(error ?? .unavailable("the pod watch ended")) }
        if kind == .bookmark { return }
        guard let pod = PodWatchFields(bytes), let name = pod.name else { return }
        let now = monotonicNanoseconds()
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            let elapsed = Double(now &- state.begin) / 1e9
            if kind == .deleted {
                state.exists.remove(name)
                state.bound.remove(name)
                state.running.remove(name)
            } else {
                state.exists.insert(name)
                if pod.bound { state.bound.insert(name) }
                if pod.running { state.running.insert(name) }
            }
            state.figures.created = state.exists.count
            state.figures.bound = state.bound.count
            state.figures.running = state.running.count
            if state.figures.allCreated == nil && state.exists.count >= target { state.figures.allCreated = elapsed }
            if state.figures.allBound == nil && state.bound.count >= target { state.figures.allBound = elapsed }
            if state.figures.allRunning == nil && state.running.count >= target {
                state.figures.allRunning = elapsed
                defer { state.runningWaiter = nil }
                return state.runningWaiter
            }
            return nil
        }
        waiter?.resume(returning: true)
    }

    func deploymentEvent(_ kind: ApiClient.WatchEventKind?, _ bytes: [UInt8], _ error: ApiError?) {
        guard let kind, kind != .error else { return ended(error ?? .unavailable("the deployment watch ended")) }
        guard kind != .deleted, kind != .bookmark, let deployment = try? Deployment(protobuf: bytes) else { return }
        let status = deployment.status
        guard Int(status?.availableReplicas ?? 0) >= target, Int(status?.updatedReplicas ?? 0) >= target,
            (status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 1)
        else { return }
        let now = monotonicNanoseconds()
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard state.figures.available == nil else { return nil }
            state.figures.available = Double(now &- state.begin) / 1e9
            defer { state.availableWaiter = nil }
            return state.availableWaiter
        }
        waiter?.resume(returning: true)
    }

    private func ended(_ error: ApiError) {
        let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            if state.watchError == nil { state.watchError = error }
            defer {
                state.runningWaiter = nil
                state.availableWaiter = nil
            }
            return [state.runningWaiter, state.availableWaiter].compactMap { $0 }
        }
        for waiter in waiters { waiter.resume(returning: false) }
    }

    /// Waits (without polling) until every replica is Running; false on timeout or a broken watch.
    func waitUntilRunning(timeoutSeconds: Double) async -> Bool {
        await wait(.running, timeoutSeconds: timeoutSeconds)
    }

    /// Waits until the Deployment's status reports every replica available.
    func waitUntilAvailable(timeoutSeconds: Double) async -> Bool {
        await wait(.available, timeoutSeconds: timeoutSeconds)
    }

    private enum Milestone { case running, available }

    private func wait(_ milestone: Milestone, timeoutSeconds: Double) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let resumeNow = state.withLock { state -> Bool? in
                switch milestone {
                case .running:
                    if state.figures.allRunning != nil { return true }
                    if state.watchError != nil { return false }
                    state.runningWaiter = continuation
                case .available:
                    if state.figures.available != nil { return true }
                    if state.watchError != nil { return false }
                    state.availableWaiter = continuation
                }
                return nil
            }
            if let resumeNow { return continuation.resume(returning: resumeNow) }
            Task {
                try? await Task.sleep(for: .seconds(timeoutSeconds))
                self.expire(milestone)
            }
        }
    }

    private func expire(_ milestone: Milestone) {
        let expired = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            switch milestone {
            case .running:
                defer { state.runningWaiter = nil }
                return state.runningWaiter
            case .available:
                defer { state.availableWaiter = nil }
                return state.availableWaiter
            }
        }
        expired?.resume(returning: false)
    }

    func figures() -> Figures { state.withLock { $0.figures } }

    func line() -> String {
        state.withLock { state in
            let elapsed = Double(monotonicNanoseconds() &- state.begin) / 1e9
            return String(format: "%.1f s: %d created, %d bound, %d running", elapsed, state.exists.count, state.bound.count, state.running.count)
        }
    }
}

/// PodWatchFields reads the three fields the benchmark follows — metadata.name, whether
/// spec.nodeName is set, whether status.phase is Running — straight from a Pod's protobuf bytes
/// (Kubernetes' field numbers), without decoding the rest: 30,000 full decodes would take CPU
/// from the cluster being measured on a 2-core machine.
struct PodWatchFields {
    var name: String?
    var bound = false
    var running = false

    init?(_ bytes: [UInt8]) {
        let parsed: Bool = bytes.withUnsafeBufferPointer { buffer in
            var reader = ProtoFieldReader(buffer[...])
            while let field = reader.next() {
                guard case .bytes(let body) = field.value else { continue }
                switch field.number {
                // A message field may come more than once (the API server appends the
                // resourceVersion as a second metadata): later ones merge into earlier ones.
                case 1: name = ProtoFieldReader.string(1, in: body) ?? name
                case 2: bound = bound || !(ProtoFieldReader.string(10, in: body) ?? "").isEmpty
                case 3: running = ProtoFieldReader.string(1, in: body).map { $0 == "Running" } ?? running
                default: break
                }
            }
            return reader.valid
        }
        guard parsed else { return nil }
    }
}

/// ProtoFieldReader walks the top-level fields of protobuf bytes.
struct ProtoFieldReader {
    enum Value {
        case scalar
        case bytes(Slice<UnsafeBufferPointer<UInt8>>)
    }

    private var rest: Slice<UnsafeBufferPointer<UInt8>>
    private(set) var valid = true

    init(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) {
        rest = bytes
    }

    /// The first length-delimited field `number` in `bytes`, as UTF-8.
    static func string(_ number: UInt64, in bytes: Slice<UnsafeBufferPointer<UInt8>>) -> String? {
        var reader = ProtoFieldReader(bytes)
        while let field = reader.next() {
            if field.number == number, case .bytes(let body) = field.value { return String(decoding: body, as: UTF8.self) }
        }
        return nil
    }

    mutating func next() -> (number: UInt64, value: Value)? {
        guard valid, !rest.isEmpty, let key = varint() else { return nil }
        let number = key >> 3
        switch key & 7 {
        case 0:
            guard varint() != nil else { return invalid() }
            return (number, .scalar)
        case 1, 5:
            let width = key & 7 == 1 ? 8 : 4
            guard rest.count >= width else { return invalid() }
            rest = rest.dropFirst(width)
            return (number, .scalar)
        case 2:
            guard let length = varint(), length <= UInt64(rest.count) else { return invalid() }
            let body = rest.prefix(Int(length))
            rest = rest.dropFirst(Int(length))
            return (number, .bytes(body))
        default:
            return invalid()
        }
    }

    private mutating func invalid() -> (number: UInt64, value: Value)? {
        valid = false
        return nil
    }

    private mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = rest.first, shift < 64 {
            rest = rest.dropFirst()
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }
}
