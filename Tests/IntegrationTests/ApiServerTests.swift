import Api
import Bench
import Foundation
import Testing
import Wire

/// The API server as a real process in front of a real store member, driven by the client
/// library over the binary protocol.
@Suite("API server over loopback (real processes)", .serialized)
struct ApiServerTests {
    static func pod(_ name: String, image: String = "nginx:1.27", labels: [String: String] = [:]) -> Pod {
        var pod = Pod()
        var meta = ObjectMeta()
        meta.name = name
        meta.namespace = "default"
        meta.labels = labels
        pod.metadata = meta
        var container = Container()
        container.name = "web"
        container.image = image
        pod.spec = PodSpec(containers: [container])
        return pod
    }

    @Test("create, get, list with a label selector, update, stale update 409, delete, 404")
    func crud() async throws {
        let cluster = try ApiCluster(agentctl: BuildProducts.directory.appendingPathComponent("agentctl").path)
        defer { cluster.stop() }
        try cluster.start()
        try await cluster.waitUntilServing()
        let client = ApiClient(address: cluster.apiAddresses[0], token: cluster.adminToken, component: "test", identity: "crud")
        defer { Task { await client.close() } }

        let created = try await client.create(Self.pod("web-1", labels: ["app": "web"]))
        #expect(created.metadata?.uid?.isEmpty == false)
        #expect(created.metadata?.resourceVersion?.isEmpty == false)
        #expect(created.metadata?.generation == 1)
        _ = try await client.create(Self.pod("db-1", labels: ["app": "db"]))
        await #expect(throws: ApiError.self) { _ = try await client.create(Self.pod("web-1")) }

        let fetched = try await client.get(Pod.self, namespace: "default", name: "web-1")
        #expect(fetched.spec?.containers.first?.image == "nginx:1.27")
        let web = try await client.list(Pod.self, namespace: "default", labelSelector: "app=web")
        #expect(web.items.map { $0.metadata?.name } == ["web-1"])
        let all = try await client.list(Pod.self, namespace: "default")
        #expect(all.items.count == 2)
        // Namespaces whose keys sort right before and after "default"'s: each namespace's list
        // holds its own pods only, and a cluster-wide list all of them.
        for namespace in ["defaul", "default-b", "defaultz"] {
            _ = try await client.create(Namespace(metadata: ObjectMeta(name: namespace)))
            _ = try await client.create(ServiceAccount(metadata: ObjectMeta(name: "default", namespace: namespace)), namespace: namespace)
            var pod = Self.pod("web-1")
            pod.metadata?.namespace = namespace
            _ = try await client.create(pod)
        }
        #expect(try await client.list(Pod.self, namespace: "default").items.map { $0.metadata?.name } == ["db-1", "web-1"])
        #expect(try await client.list(Pod.self, namespace: "defaul").items.map { $0.metadata?.namespace } == ["defaul"])
        #expect(try await client.list(Pod.self, namespace: "defaultz").items.map { $0.metadata?.namespace } == ["defaultz"])
        #expect(try await client.list(Pod.self).items.count == 5)

        var changed = fetched
        changed.spec?.containers[0].image = "nginx:1.28"
        let updated = try await client.update(changed)
        #expect(updated.metadata?.generation == 2, "a spec change bumps generation")
        // The first read is stale now: 409, and a retry with the fresh version succeeds.
        var stale = fetched
        stale.spec?.containers[0].image = "nginx:1.29"
        do {
            _ = try await client.update(stale)
            Issue.record("a stale update succeeded")
        } catch {
            #expect(error.reason == "Conflict")
            #expect(error.message.contains("web-1"))
        }
        var fresh = try await client.get(Pod.self, namespace: "default", name: "web-1")
        fresh.spec?.containers[0].image = "nginx:1.29"
        #expect(try await client.update(fresh).spec?.containers[0].image == "nginx:1.29")

        // Status writes touch only status.
        var withStatus = try await client.get(Pod.self, namespace: "default", name: "web-1")
        withStatus.status?.phase = "Running"
        withStatus.spec?.containers[0].image = "ignored"
        let statusWritten = try await client.updateStatus(withStatus)
        #expect(statusWritten.status?.phase == "Running")
        #expect(statusWritten.spec?.containers[0].image == "nginx:1.29")
        // A status write may carry only the object's identity and status (as kubelets send):
        // the stored spec and labels stay.
        var statusOnly = Pod()
        statusOnly.metadata = ObjectMeta()
        statusOnly.metadata?.name = "web-1"
        statusOnly.metadata?.namespace = "default"
        statusOnly.metadata?.resourceVersion = statusWritten.metadata?.resourceVersion
        statusOnly.status = statusWritten.status
        statusOnly.status?.phase = "Succeeded"
        let bare = try await client.updateStatus(statusOnly)
        #expect(bare.status?.phase == "Succeeded")
        #expect(bare.spec == statusWritten.spec)
        #expect(bare.metadata?.labels == statusWritten.metadata?.labels)
        #expect(bare.metadata?.uid == statusWritten.metadata?.uid)
        do {
            _ = try await client.updateStatus(statusOnly)  // its resourceVersion is stale now
            Issue.record("a stale status write succeeded")
        } catch {
            #expect(error.reason == "Conflict")
        }
        // A status Kubernetes would refuse is refused (422, with the field and the rule), and
        // the stored pod stays as it was.
        var bad = bare
        bad.status?.qosClass = "Guaranteed"
        bad.status?.podIP = "127.96.0.300"
        bad.status?.conditions.append(PodCondition(type: "bad type!", status: "True"))
        do {
            _ = try await client.updateStatus(bad)
            Issue.record("an invalid status write succeeded")
        } catch {
            #expect(error.code == 422)
            #expect(error.reason == "Invalid")
            #expect(error.message.contains("Pod \"web-1\" is invalid"), "\(error.message)")
            #expect(error.message.contains("status.qosClass: Invalid value: \"Guaranteed\": field is immutable"), "\(error.message)")
            #expect(error.message.contains("status.podIP: Invalid value: \"127.96.0.300\": must be a valid IP address"), "\(error.message)")
            #expect(error.message.contains(".type: Invalid value: \"bad type!\""), "\(error.message)")
        }
        let kept = try await client.get(Pod.self, namespace: "default", name: "web-1")
        #expect(kept.metadata?.resourceVersion == bare.metadata?.resourceVersion)
        #expect(kept.status == bare.status)

        try await client.delete(Pod.self, namespace: "default", name: "db-1")
        do {
            _ = try await client.get(Pod.self, namespace: "default", name: "db-1")
            Issue.record("a deleted pod is still there")
        } catch {
            #expect(error.reason == "NotFound")
            #expect(error.message == "pods \"db-1\" not found")
        }
    }

    @Test("two writers racing on one object: exactly one wins")
    func racingWriters() async throws {
        let cluster = try ApiCluster(agentctl: BuildProducts.directory.appendingPathComponent("agentctl").path)
        defer { cluster.stop() }
        try cluster.start()
        try await cluster.waitUntilServing()
        let client = ApiClient(address: cluster.apiAddresses[0], token: cluster.adminToken, component: "test", identity: "race")
        defer { Task { await client.close() } }
        let base = try await client.create(Self.pod("contended"))
        var outcomes: [Bool] = []
        await withTaskGroup(of: Bool.self) { group in
            for index in 0..<8 {
                group.addTask {
                    var mine = base
                    mine.metadata?.labels = ["writer": "\(index)"]
                    return (try? await client.update(mine)) != nil
                }
            }
            for await outcome in group { outcomes.append(outcome) }
        }
        #expect(outcomes.filter { $0 }.count == 1)
    }

    @Test("a watch sees creates, updates and deletes; a watch from a resourceVersion resumes; bindings assign nodes")
    func watchAndBind() async throws {
        let cluster = try ApiCluster(agentctl: BuildProducts.directory.appendingPathComponent("agentctl").path)
        defer { cluster.stop() }
        try cluster.start()
        try await cluster.waitUntilServing()
        let client = ApiClient(address: cluster.apiAddresses[0], token: cluster.adminToken, component: "test", identity: "watch")
        defer { Task { await client.close() } }
        let events = EventLog()
        let listed = try await client.list(Pod.self, namespace: "default")
        client.watchRaw(Pod.self, namespace: "default", resourceVersion: listed.resourceVersion) { kind, bytes, _ in
            guard let kind, kind != .bookmark, let pod = try? Pod(protobuf: bytes) else { return }
            events.append("\(kind.rawValue) \(pod.metadata?.name ?? "") \(pod.spec?.nodeName ?? "-")")
        }
        try await Task.sleep(for: .milliseconds(200))
        _ = try await client.create(Self.pod("w1"))
        try await client.bind(podNamespace: "default", podName: "w1", node: "node-a")
        do {
            try await client.bind(podNamespace: "default", podName: "w1", node: "node-b")
            Issue.record("a bound pod was bound again")
        } catch {
            #expect(error.reason == "Conflict")
        }
        try await client.delete(Pod.self, namespace: "default", name: "w1", gracePeriodSeconds: 0)
        try await events.waitFor(3)
        #expect(events.lines == ["ADDED w1 -", "MODIFIED w1 node-a", "DELETED w1 node-a"])
    }

    @Test("a watch event carries exactly the object the write returned, and get returns the same")
    func watchEventsEqualWrittenObjects() async throws {
        let cluster = try ApiCluster(agentctl: BuildProducts.directory.appendingPathComponent("agentctl").path)
        defer { cluster.stop() }
        try cluster.start()
        try await cluster.waitUntilServing()
        let client = ApiClient(address: cluster.apiAddresses[0], token: cluster.adminToken, component: "test", identity: "echo")
        defer { Task { await client.close() } }
        let watched = PodLog()
        let listed = try await client.list(Pod.self, namespace: "default")
        client.watchRaw(Pod.self, namespace: "default", resourceVersion: listed.resourceVersion) { kind, bytes, _ in
            guard let kind, kind != .bookmark, let pod = try? Pod(protobuf: bytes) else { return }
            watched.append(pod)
        }
        try await Task.sleep(for: .milliseconds(200))
        var written: [Pod] = []
        // Several writes of each kind back to back, so that some answers and events cross.
        for index in 0..<5 {
            written.append(try await client.create(Self.pod("echo-\(index)", labels: ["round": "1"])))
        }
        for index in 0..<5 {
            var pod = written[index]
            pod.metadata?.labels["round"] = "2"
            written.append(try await client.update(pod))
        }
        var status = written[5]
        status.status?.phase = "Running"
        written.append(try await client.updateStatus(status))
        let got = try await client.get(Pod.self, namespace: "default", name: "echo-0")
        try await watched.waitFor(written.count)
        #expect(watched.lines == written)
        // Every answer carries its name and a resourceVersion that grows with each write.
        let versions = written.map { Int64($0.metadata?.resourceVersion ?? "") ?? 0 }
        #expect(written.allSatisfy { $0.metadata?.name?.hasPrefix("echo-") == true && $0.metadata?.uid?.isEmpty == false })
        #expect(versions.allSatisfy { $0 > 0 } && versions == versions.sorted() && Set(versions).count == versions.count)
        #expect(got == written.last)
        #expect(written.last?.status?.phase == "Running" && written.last?.metadata?.labels["round"] == "2")
    }

    @Test("two API servers on one store see each other's writes")
    func twoApiServers() async throws {
        let cluster = try ApiCluster(apiServers: 2, agentctl: BuildProducts.directory.appendingPathComponent("agentctl").path)
        defer { cluster.stop() }
        try cluster.start()
        try await cluster.waitUntilServing()
        let first = ApiClient(address: cluster.apiAddresses[0], token: cluster.adminToken, component: "test", identity: "a")
        let second = ApiClient(address: cluster.apiAddresses[1], token: cluster.adminToken, component: "test", identity: "b")
        defer { Task { await first.close(); await second.close() } }
        let created = try await first.create(Self.pod("shared"))
        // A list at the created version waits until that server's cache has it.
        let seen = try await second.list(Pod.self, namespace: "default", resourceVersion: created.metadata?.resourceVersion)
        #expect(seen.items.contains { $0.metadata?.name == "shared" })
    }

    @Test("RBAC: a user without rights is Forbidden until a RoleBinding grants view; admission and validation refuse bad writes")
    func pipeline() async throws {
        let cluster = try ApiCluster(agentctl: BuildProducts.directory.appendingPathComponent("agentctl").path)
        defer { cluster.stop() }
        try cluster.start()
        try await cluster.waitUntilServing()
        let admin = ApiClient(address: cluster.apiAddresses[0], token: cluster.adminToken, component: "test", identity: "admin")
        let jane = ApiClient(address: cluster.apiAddresses[0], token: cluster.userToken, component: "test", identity: "jane")
        defer { Task { await admin.close(); await jane.close() } }
        do {
            _ = try await jane.list(Pod.self, namespace: "default")
            Issue.record("a user without rights listed pods")
        } catch {
            #expect(error.reason == "Forbidden")
            #expect(error.message.contains("User \"jane\" cannot list resource \"pods\""))
        }
        var binding = RoleBinding()
        binding.metadata = ObjectMeta(name: "jane-view", namespace: "default")
        var subject = Subject()
        subject.kind = "User"
        subject.name = "jane"
        subject.apiGroup = "rbac.authorization.k8s.io"
        binding.subjects = [subject]
        var roleReference = RoleRef()
        roleReference.apiGroup = "rbac.authorization.k8s.io"
        roleReference.kind = "ClusterRole"
        roleReference.name = "view"
        binding.roleRef = roleReference
        _ = try await admin.create(binding, namespace: "default")
        try await Task.sleep(for: .milliseconds(300))
        _ = try await jane.list(Pod.self, namespace: "default")
        do {
            _ = try await jane.create(Self.pod("not-allowed"))
            Issue.record("a viewer created a pod")
        } catch {
            #expect(error.reason == "Forbidden")
        }
        // NamespaceLifecycle: no pods in a namespace that does not exist.
        var stray = Self.pod("stray")
        stray.metadata?.namespace = "nowhere"
        do {
            _ = try await admin.create(stray, namespace: "nowhere")
            Issue.record("a pod was created in a missing namespace")
        } catch {
            #expect(error.message.contains("nowhere"))
        }
        // Validation: a container without an image is Invalid, with the field path.
        var broken = Self.pod("broken")
        broken.spec?.containers[0].image = nil
        do {
            _ = try await admin.create(broken)
            Issue.record("a pod without an image was accepted")
        } catch {
            #expect(error.reason == "Invalid")
            #expect(error.message.contains("spec.containers[0].image"))
        }
        // ServiceAccount admission fills in the default account.
        let admitted = try await admin.create(Self.pod("with-account"))
        #expect(admitted.spec?.serviceAccountName == "default")
    }

    @Test("componentstatuses are computed live: the store member is healthy, the absent scheduler is not")
    func componentStatuses() async throws {
        let cluster = try ApiCluster(agentctl: BuildProducts.directory.appendingPathComponent("agentctl").path)
        defer { cluster.stop() }
        try cluster.start()
        try await cluster.waitUntilServing()
        let client = ApiClient(address: cluster.apiAddresses[0], token: cluster.adminToken, component: "test", identity: "cs")
        defer { Task { await client.close() } }
        let statuses = try await client.list(ComponentStatus.self).items
        let byName = Dictionary(uniqueKeysWithValues: statuses.map { ($0.metadata?.name ?? "", $0) })
        let store = try #require(byName["store-\(cluster.store.endpoints[0])"])
        #expect(store.conditions.first?.status == "True")
        let scheduler = try #require(byName["scheduler"])
        #expect(scheduler.conditions.first?.status == "False")
        #expect(scheduler.conditions.first?.error?.contains("kube-scheduler") == true)
        // A fresh leader lease makes the scheduler healthy.
        var lease = Lease()
        lease.metadata = ObjectMeta(name: "kube-scheduler", namespace: "kube-system")
        var spec = LeaseSpec()
        spec.holderIdentity = "scheduler-1"
        spec.leaseDurationSeconds = 15
        spec.renewTime = MicroTime(seconds: Int64(Date().timeIntervalSince1970), nanos: 0)
        lease.spec = spec
        _ = try await client.create(lease, namespace: "kube-system")
        try await Task.sleep(for: .milliseconds(300))
        let again = try await client.get(ComponentStatus.self, name: "scheduler")
        #expect(again.conditions.first?.status == "True")
        let ready = try await client.call("api.Readyz", ApiRequest())
        #expect(ready.status?.status == "Success")
    }

    @Test("a watcher that stops reading is cut off with 410 while 100 others receive every event")
    func slowWatcherCutOff() async throws {
        let cluster = try ApiCluster(agentctl: BuildProducts.directory.appendingPathComponent("agentctl").path)
        cluster.apiServerArguments = ["--connection-buffer-bytes", "262144", "--slow-watcher-grace-milliseconds", "300"]
        defer { cluster.stop() }
        try cluster.start()
        try await cluster.waitUntilServing()
        let address = cluster.apiAddresses[0]
        let writer = ApiClient(address: address, token: cluster.adminToken, component: "test", identity: "writer")
        let healthyLoop = EventLoop(name: "healthy")
        let healthy = (0..<4).map {
            ApiClient(address: address, token: cluster.adminToken, component: "test", identity: "healthy\($0)", loop: healthyLoop)
        }
        let slow = ApiClient(address: address, token: cluster.adminToken, component: "test", identity: "slow")
        defer {
            Task {
                for client in healthy + [writer, slow] { await client.close() }
                healthyLoop.shutdown()
            }
        }
        let listed = try await writer.list(Pod.self, namespace: "default")
        let counts = WatchCounts(watchers: 100)
        for watcher in 0..<100 {
            healthy[watcher % 4].watchRaw(Pod.self, namespace: "default", resourceVersion: listed.resourceVersion, bookmarks: false) {
                kind, _, _ in
                if kind == .added { counts.add(watcher) }
            }
        }
        let slowEnd = EventLog()
        slow.watchRaw(Pod.self, namespace: "default", resourceVersion: listed.resourceVersion, bookmarks: false) { kind, _, error in
            if kind == .error { slowEnd.append("ERROR \(error?.code ?? 0)") }
            if kind == nil, let error { slowEnd.append("ENDED \(error.message)") }
        }
        for client in healthy + [slow] { _ = try await client.list(Namespace.self, limit: 1) }
        // The slow client's loop stops reading its socket until every write is done.
        let resume = DispatchSemaphore(value: 0)
        slow.loop.execute { resume.wait() }
        let padding = String(repeating: "x", count: 8192)
        let total = 1200
        for index in 0..<total {
            var pod = Self.pod("load-\(index)")
            pod.metadata?.annotations = ["padding": padding]
            _ = try await writer.create(pod)
        }
        try await counts.waitForAll(total, seconds: 60)
        // Keep the slow reader stuck past the grace period. The rule is checked as events pass a
        // watcher that is behind, so one more write comes after the grace period: the last of
        // the 1,200 may pass it sooner than that after it fell behind (the kernel's socket
        // buffers take the first megabytes), and a watcher nothing passes is never cut off.
        try await Task.sleep(for: .milliseconds(1500))
        _ = try await writer.create(Self.pod("after-grace"))
        try await counts.waitForAll(total + 1, seconds: 60)
        resume.signal()
        // Once it reads again, the slow watcher finds it was cut off with 410 Expired.
        try await slowEnd.waitFor(1, seconds: 20)
        #expect(slowEnd.lines == ["ERROR 410"])
    }

    @Test("--default-watch-cache-size bounds how far back a watch may resume: older versions get 410, recent ones replay")
    func watchCacheSize() async throws {
        let cluster = try ApiCluster(agentctl: BuildProducts.directory.appendingPathComponent("agentctl").path)
        cluster.apiServerArguments = ["--default-watch-cache-size", "5"]
        defer { cluster.stop() }
        try cluster.start()
        try await cluster.waitUntilServing()
        let client = ApiClient(address: cluster.apiAddresses[0], token: cluster.adminToken, component: "test", identity: "history")
        defer { Task { await client.close() } }
        let before = try await client.list(Pod.self, namespace: "default").resourceVersion
        var versions: [String] = []
        for index in 0..<10 {
            versions.append(try await client.create(Self.pod("history-\(index)")).metadata?.resourceVersion ?? "")
        }
        // Too old: ten changes since, five kept.
        let expired = EventLog()
        let old = client.watchRaw(Pod.self, namespace: "default", resourceVersion: before, bookmarks: false) { kind, _, error in
            if kind == .error || error != nil { expired.append("ERROR \(error?.code ?? 0)") }
        }
        try await expired.waitFor(1, seconds: 60)
        #expect(expired.lines.first == "ERROR 410")
        client.cancel(old)
        // Recent enough: from the seventh create, the last three are replayed.
        let replayed = EventLog()
        let recent = client.watchRaw(Pod.self, namespace: "default", resourceVersion: versions[6], bookmarks: false) { kind, bytes, _ in
            if kind == .added, let pod = try? Pod(protobuf: bytes) { replayed.append(pod.metadata?.name ?? "") }
        }
        try await replayed.waitFor(3, seconds: 60)
        #expect(replayed.lines == ["history-7", "history-8", "history-9"])
        client.cancel(recent)
    }

    @Test("an unknown token is refused before any call")
    func unknownToken() async throws {
        let cluster = try ApiCluster(agentctl: BuildProducts.directory.appendingPathComponent("agentctl").path)
        defer { cluster.stop() }
        try cluster.start()
        try await cluster.waitUntilServing()
        let intruder = ApiClient(address: cluster.apiAddresses[0], token: "nope", component: "test", identity: "intruder")
        defer { Task { await intruder.close() } }
        do {
            _ = try await intruder.list(Pod.self)
            Issue.record("an unknown token was served")
        } catch {
            #expect(error.code == 401)
        }
    }
}

/// RecordedLog collects what watch handlers see, from any thread, for a test to wait on.
final class RecordedLog<Element: Sendable>: @unchecked Sendable {
    // Safety of @unchecked Sendable: `stored` is read and written under `lock` only.
    private let lock = NSLock()
    private var stored: [Element] = []
    func append(_ element: Element) { lock.withLock { stored.append(element) } }
    var lines: [Element] { lock.withLock { stored } }
    func waitFor(_ count: Int, seconds: Double = 10) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while lines.count < count {
            if Date() > deadline { throw TestError("only \(lines.count) of \(count) events: \(lines)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

typealias EventLog = RecordedLog<String>
typealias PodLog = RecordedLog<Pod>

final class WatchCounts: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [Int]
    init(watchers: Int) { counts = [Int](repeating: 0, count: watchers) }
    func add(_ watcher: Int) { lock.withLock { counts[watcher] += 1 } }
    var minimum: Int { lock.withLock { counts.min() ?? 0 } }
    func waitForAll(_ total: Int, seconds: Double) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while minimum < total {
            if Date() > deadline { throw TestError("a healthy watcher got only \(minimum) of \(total) events") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

