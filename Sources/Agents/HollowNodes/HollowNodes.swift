import Api
import Foundation
import Logging
import Synchronization
import Wire

/// HollowNodes simulates many nodes in one process, so that the control plane can be tested and
/// benchmarked at scale without containers (Kubernetes' kubemark and kwok):
///
/// - registers N Node objects (`HollowNodeTemplate`) and keeps one heartbeat Lease per node in
///   kube-node-lease, renewed every `heartbeatIntervalMilliseconds` (10 s, as the kubelet does),
///   spread over the interval so renewals do not come in bursts;
/// - watches pods with one informer for all its nodes and reports every pod bound to one of them
///   Running (`HollowPodLifecycle`), and finalizes pods being deleted (delete with grace period
///   0, what a kubelet does once the containers stopped). Status writes and deletions are sent
///   without waiting, up to `maximumWritesInFlight` at once, so thousands of pods per second
///   get reported;
/// - repairs the Ready condition of a live node that someone else changed (the node lifecycle
///   controller marks silent nodes Unknown; a kubelet that is back reports Ready again).
///
/// Heartbeats can be stopped per node to simulate a dead node: list node names, one a line, in
/// the file given as `stopHeartbeatFile` (read every second). A listed node stops renewing its
/// lease, reporting pod status and finalizing deletions; removing it from the file brings it
/// back.
///
/// Threading: the pod and node pipeline is confined to the client's loop (informer handlers and
/// write completions run there); lease renewal runs in a task with its state under a mutex.
public final class HollowNodes: @unchecked Sendable {
    // Safety of @unchecked Sendable: the `var`s below are touched on `loop` only (informer
    // handlers, completions and timers run there; other entry points hop with loop.execute).

    public struct Configuration: Sendable {
        public var template: HollowNodeTemplate
        public var heartbeatIntervalMilliseconds: UInt64 = 10_000
        public var leaseDurationSeconds: Int32 = 40
        public var stopHeartbeatFile: String?
        public var maximumWritesInFlight = 256
        public var registrationConcurrency = 64
        /// How long registration keeps retrying transient errors before giving up.
        public var registrationPatienceSeconds = 60.0

        public init(template: HollowNodeTemplate) {
            self.template = template
        }
    }

    public let client: ApiClient
    public let configuration: Configuration
    public let informers: SharedInformers
    private let loop: EventLoop
    private let logger: Logger
    private let nodeIndexByName: [String: Int]
    private let nodeUIDs: Mutex<[String?]>
    private let leases: Mutex<[Lease?]>
    /// Node indexes whose heartbeats are stopped; read by the lease task, written on the loop.
    private let stoppedNodes = Mutex<Set<Int>>([])
    private let heartbeatTask = Mutex<Task<Void, Never>?>(nil)
    private let reported = Atomic<Int>(0)
    private let finalized = Atomic<Int>(0)

    // Loop-confined.
    private var pending: [String: Pod] = [:]
    private var order: [String] = []
    private var orderStart = 0
    private var queued: Set<String> = []
    private var inFlight: Set<String> = []
    private var retries: [(deadline: UInt64, key: String)] = []
    private var addressByUID: [String: String] = [:]
    private var pools: [Int: PodAddressPool] = [:]
    private var timer: LoopTimer?
    private var stoppedView: Set<Int> = []

    public init(client: ApiClient, configuration: Configuration, logger: Logger) {
        precondition(configuration.template.count > 0 && configuration.maximumWritesInFlight > 0)
        self.client = client
        self.configuration = configuration
        self.logger = logger
        loop = client.loop
        informers = SharedInformers(client: client, standardIndexes: false)
        let template = configuration.template
        var names: [String: Int] = [:]
        for index in 0..<template.count { names[template.name(index)] = index }
        nodeIndexByName = names
        nodeUIDs = Mutex([String?](repeating: nil, count: template.count))
        leases = Mutex([Lease?](repeating: nil, count: template.count))
    }

    /// Pods reported Running and pods finalized so far.
    public var reportedCount: Int { reported.load(ordering: .relaxed) }
    public var finalizedCount: Int { finalized.load(ordering: .relaxed) }

    // MARK: Registration

    /// Creates (or takes over) every Node and its Lease. Throws the first error that is not
    /// "already exists".
    public func register() async throws(ApiError) {
        let count = configuration.template.count
        let progress = RegistrationProgress()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<min(configuration.registrationConcurrency, count) {
                group.addTask { [self] in
                    while progress.failure.withLock({ $0 == nil }) {
                        let index = progress.next.add(1, ordering: .relaxed).oldValue
                        guard index < count else { return }
                        do throws(ApiError) {
                            try await registerNodeRetrying(index)
                        } catch {
                            progress.failure.withLock { if $0 == nil { $0 = error } }
                        }
                    }
                }
            }
        }
        if let error = progress.failure.withLock({ $0 }) { throw error }
    }

    private final class RegistrationProgress: Sendable {
        let next = Atomic<Int>(0)
        let failure = Mutex<ApiError?>(nil)
    }

    /// Like a kubelet, keeps trying while the API server is starting (unavailable, or its
    /// bootstrap roles not written yet): up to `registrationPatienceSeconds`, backing off.
    private func registerNodeRetrying(_ index: Int) async throws(ApiError) {
        let deadline = monotonicNanoseconds() + UInt64(configuration.registrationPatienceSeconds * 1e9)
        var delayMilliseconds: UInt64 = 100
        while true {
            do {
                return try await registerNode(index)
            } catch where Self.isTransient(error) && monotonicNanoseconds() < deadline {
                if delayMilliseconds >= 1600 {
                    logger.info("registering \(configuration.template.name(index)) failed, retrying: \(error.message)")
                }
                try? await Task.sleep(nanoseconds: delayMilliseconds * 1_000_000)
                delayMilliseconds = min(delayMilliseconds * 2, 5_000)
            }
        }
    }

    /// Errors a starting or busy API server gives: worth another try.
    static func isTransient(_ error: ApiError) -> Bool {
        [403, 429, 500, 503, 504].contains(error.code)
    }

    private func registerNode(_ index: Int) async throws(ApiError) {
        let template = configuration.template
        let node: Node
        do {
            node = try await client.create(template.node(index))
        } catch where error.code == 409 {
            // A node of that name exists (this process restarted): report it healthy again.
            var existing = try await client.get(Node.self, name: template.name(index))
            existing.status = template.status(index)
            node = try await client.updateStatus(existing)
        }
        nodeUIDs.withLock { $0[index] = node.metadata?.uid }
        let lease = HollowNodeTemplate.lease(
            nodeName: template.name(index), nodeUID: node.metadata?.uid, durationSeconds: configuration.leaseDurationSeconds)
        let written: Lease
        do {
            written = try await client.create(lease)
        } catch where error.code == 409 {
            var existing = try await client.get(Lease.self, namespace: NodeAuthorizer.nodeLeaseNamespace, name: template.name(index))
            existing.spec = lease.spec
            written = try await client.update(existing)
        }
        leases.withLock { $0[index] = written }
    }

    // MARK: Running

    /// Starts the pod and node informers, the lease renewals and the heartbeat-file check;
    /// returns once the informers listed (false if they stopped first).
    public func start() async -> Bool {
        // Like a kubelet's `spec.nodeName=<node>`, but for all the nodes of this process: pods
        // waiting for the scheduler are none of their business (a third of all pod events).
        // Only the nodeName index: resumed nodes look up their pods by it (everySecond).
        let pods = informers.informer(
            Pod.self, indexes: [InformerIndexes.nodeName: InformerIndexes.podNodeName], fieldSelector: "spec.nodeName!=")
        pods.addEventHandler(.init(
            onAdd: { [weak self] pod in self?.consider(pod) },
            onUpdate: { [weak self] _, pod in self?.consider(pod) },
            onDelete: { [weak self] pod in self?.forget(pod) }))
        informers.informer(Node.self).addEventHandler(.init(
            onAdd: { [weak self] node in self?.checkReady(node) },
            onUpdate: { [weak self] _, node in self?.checkReady(node) }))
        informers.start()
        let synced = await informers.waitForSync()
        await loop.submit { [self] in
            let timer = LoopTimer(loop: loop)
            timer.arm(milliseconds: 1000, repeatMilliseconds: 1000, owner: self) { nodes in nodes.everySecond() }
            self.timer = timer
            everySecond()
        }
        heartbeatTask.withLock { task in
            task = Task { [self] in await renewLeases() }
        }
        return synced
    }

    public func stop() async {
        let task = heartbeatTask.withLock { $0 }
        task?.cancel()
        await task?.value
        await loop.submit { [self] in
            timer?.cancel()
            timer = nil
        }
        await informers.stop()
    }

    // MARK: Pods

    private func isLive(_ nodeName: String) -> Bool {
        guard let index = nodeIndexByName[nodeName] else { return false }
        return !stoppedView.contains(index)
    }

    private func consider(_ pod: Pod) {
        loop.preconditionInLoop()
        let key = ObjectKey.of(pod)
        guard HollowPodLifecycle.action(for: pod, isLiveNode: isLive) != .none else {
            pending[key] = nil
            return
        }
        pending[key] = pod
        if !queued.contains(key) {
            queued.insert(key)
            order.append(key)
        }
        pump()
    }

    private func forget(_ pod: Pod) {
        loop.preconditionInLoop()
        let key = ObjectKey.of(pod)
        pending[key] = nil
        if let address = addressByUID.removeValue(forKey: pod.metadata?.uid ?? ""), let node = pod.spec?.nodeName,
            let index = nodeIndexByName[node]
        {
            pools[configuration.template.podBlock(index)]?.release(address)
        }
    }

    /// Starts writes for pending pods while fewer than the maximum are in flight.
    private func pump() {
        while inFlight.count < configuration.maximumWritesInFlight, orderStart < order.count {
            let key = order[orderStart]
            orderStart += 1
            queued.remove(key)
            // A write for this pod is in flight: its completion queues the pod again.
            if inFlight.contains(key) { continue }
            guard let pod = pending.removeValue(forKey: key) else { continue }
            switch HollowPodLifecycle.action(for: pod, isLiveNode: isLive) {
            case .none: continue
            case .reportRunning: reportRunning(pod, key: key)
            case .finalize: finalize(pod, key: key)
            }
        }
        if orderStart > 4096 && orderStart * 2 > order.count {
            order.removeFirst(orderStart)
            orderStart = 0
        }
    }

    private func reportRunning(_ pod: Pod, key: String) {
        let template = configuration.template
        let nodeName = pod.spec?.nodeName ?? ""
        guard let index = nodeIndexByName[nodeName] else { return }
        let uid = pod.metadata?.uid ?? ""
        let address: String
        if let known = addressByUID[uid] {
            address = known
        } else {
            let block = template.podBlock(index)
            var pool = pools[block] ?? PodAddressPool(block: block)
            address = pool.allocate()
            pools[block] = pool
            addressByUID[uid] = address
        }
        // Like a kubelet's status patch, the write carries the pod's identity, its version and
        // the new status, not the spec: the status subresource keeps the stored spec.
        var updated = Pod()
        updated.metadata = ObjectMeta(
            name: pod.metadata?.name, namespace: pod.metadata?.namespace, uid: pod.metadata?.uid,
            resourceVersion: pod.metadata?.resourceVersion)
        updated.status = HollowPodLifecycle.runningStatus(of: pod, hostIP: template.address(index), podIP: address)
        var request = ApiClient.request(Pod.self, namespace: pod.metadata?.namespace, name: pod.metadata?.name)
        request.subresource = "status"
        request.object = updated.protobufBytes()
        send("api.UpdateStatus", request, key: key) { [weak self] in self?.reported.add(1, ordering: .relaxed) }
    }

    private func finalize(_ pod: Pod, key: String) {
        var request = ApiClient.request(Pod.self, namespace: pod.metadata?.namespace, name: pod.metadata?.name)
        request.gracePeriodSeconds = 0
        send("api.Delete", request, key: key) { [weak self] in self?.finalized.add(1, ordering: .relaxed) }
    }

    private func send(_ method: String, _ request: ApiRequest, key: String, onSuccess: @escaping @Sendable () -> Void) {
        inFlight.insert(key)
        client.start(method, request) { [weak self] result in
            guard let self else { return }
            self.loop.preconditionInLoop()
            self.inFlight.remove(key)
            switch result {
            case .success:
                onSuccess()
            case .failure(let error) where error.code == 404 || error.code == 409:
                // Gone, or changed meanwhile: the informer delivers the newer version (maybe it
                // already has, into `pending`), and that version is looked at again.
                break
            case .failure(let error):
                self.logger.debug("\(method) of pod \(key) failed, retrying in 1 s: \(error.message)")
                self.retries.append((monotonicNanoseconds() + 1_000_000_000, key))
            }
            if self.pending[key] != nil && !self.queued.contains(key) {
                self.queued.insert(key)
                self.order.append(key)
            }
            self.pump()
        }
    }

    private func reconsider(_ key: String) {
        let (namespace, name) = ObjectKey.split(key)
        guard pending[key] == nil, let pod = informers.informer(Pod.self).lister.get(namespace: namespace, name: name) else { return }
        consider(pod)
    }

    // MARK: Nodes

    private func checkReady(_ node: Node) {
        loop.preconditionInLoop()
        let name = node.metadata?.name ?? ""
        guard let index = nodeIndexByName[name], !stoppedView.contains(index) else { return }
        let ready = node.status?.conditions.first { $0.type == "Ready" }
        guard ready?.status != "True" else { return }
        var repaired = node
        repaired.status = configuration.template.status(index)
        Task { [client, logger] in
            do throws(ApiError) {
                _ = try await client.updateStatus(repaired)
                logger.info("node \(name) reported Ready again")
            } catch {
                logger.debug("node \(name) status not repaired: \(error.message)")
            }
        }
    }

    /// Reads the heartbeat file, brings resumed nodes' pods up to date, retries failed writes.
    private func everySecond() {
        loop.preconditionInLoop()
        let stopped = readStoppedNodes()
        if stopped != stoppedView {
            let resumed = stoppedView.subtracting(stopped)
            let newlyStopped = stopped.subtracting(stoppedView)
            stoppedView = stopped
            stoppedNodes.withLock { $0 = stopped }
            let template = configuration.template
            if !newlyStopped.isEmpty {
                logger.info("heartbeats stopped for \(newlyStopped.sorted().map(template.name).joined(separator: ", "))")
            }
            if !resumed.isEmpty {
                logger.info("heartbeats resumed for \(resumed.sorted().map(template.name).joined(separator: ", "))")
                let pods = informers.informer(Pod.self)
                let nodes = informers.informer(Node.self)
                for index in resumed {
                    for pod in pods.indexer.byIndex(InformerIndexes.nodeName, template.name(index)) { consider(pod) }
                    if let node = nodes.lister.get(name: template.name(index)) { checkReady(node) }
                }
            }
        }
        let now = monotonicNanoseconds()
        if !retries.isEmpty {
            let due = retries.filter { $0.deadline <= now }
            retries.removeAll { $0.deadline <= now }
            for retry in due { reconsider(retry.key) }
        }
    }

    private func readStoppedNodes() -> Set<Int> {
        guard let path = configuration.stopHeartbeatFile, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        var stopped: Set<Int> = []
        for line in text.split(whereSeparator: \.isNewline) {
            let name = line.trimmingCharacters(in: .whitespaces)
            if let index = nodeIndexByName[name] { stopped.insert(index) }
        }
        return stopped
    }

    // MARK: Leases

    /// Renews each live node's lease once per heartbeat interval, node i at offset
    /// i × interval / count within it.
    private func renewLeases() async {
        let count = configuration.template.count
        let interval = configuration.heartbeatIntervalMilliseconds * 1_000_000
        let start = monotonicNanoseconds()
        var due = (0..<count).map { start + interval * UInt64($0) / UInt64(count) + interval }
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: 100_000_000)
            let now = monotonicNanoseconds()
            let stopped = stoppedNodes.withLock { $0 }
            var batch: [Int] = []
            for index in 0..<count where due[index] <= now {
                due[index] = now + interval
                if !stopped.contains(index) { batch.append(index) }
            }
            guard !batch.isEmpty else { continue }
            await withTaskGroup(of: Void.self) { group in
                for index in batch { group.addTask { [self] in await renew(index) } }
            }
        }
    }

    private func renew(_ index: Int) async {
        let name = configuration.template.name(index)
        var lease = leases.withLock { $0[index] }
        if lease == nil {
            lease = try? await client.get(Lease.self, namespace: NodeAuthorizer.nodeLeaseNamespace, name: name)
        }
        do {
            let written: Lease
            let now = Date()
            if var current = lease {
                current.spec?.renewTime = HollowNodeTemplate.microTime(now)
                current.spec?.holderIdentity = name
                current.spec?.leaseDurationSeconds = configuration.leaseDurationSeconds
                written = try await client.update(current)
            } else {
                let uid = nodeUIDs.withLock { $0[index] }
                written = try await client.create(
                    HollowNodeTemplate.lease(nodeName: name, nodeUID: uid, durationSeconds: configuration.leaseDurationSeconds, now: now))
            }
            leases.withLock { $0[index] = written }
        } catch {
            // Stale or gone: read it again next time.
            leases.withLock { $0[index] = nil }
            logger.debug("lease of \(name) not renewed: \(error.message)")
        }
    }
}
