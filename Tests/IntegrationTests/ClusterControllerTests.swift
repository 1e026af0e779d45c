import Api
import Bench
import Foundation
import Testing
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// ClusterControlPlane runs a store, an API server and a controller manager as real processes
/// on loopback. The controller manager authenticates as `system:kube-controller-manager`, so
/// the default RBAC role is what lets it act. Everything stops by PID in `stop()` (and with the
/// test process, through --exit-with-parent).
final class ClusterControlPlane: @unchecked Sendable {
    // Safety of @unchecked Sendable: driven by one test at a time.
    let cluster: ApiCluster
    private(set) var admin: ApiClient
    let controllerManagerToken = "cm-\(UInt64.random(in: 1...UInt64.max))"
    let signingKeyPath: String
    let volumeDirectory: String
    private var controllerManager: Process?

    var directory: String { cluster.store.workDirectory }

    init(controllerManagerArguments: [String] = [], apiServerArguments: [String] = []) async throws {
        let agentctl = BuildProducts.directory.appendingPathComponent("agentctl").path
        cluster = try ApiCluster(agentctl: agentctl)
        let directory = cluster.store.workDirectory
        signingKeyPath = directory + "/sa.key"
        volumeDirectory = directory + "/volumes"
        try Data((0..<32).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: signingKeyPath))
        let tokens = try String(contentsOfFile: directory + "/tokens.csv", encoding: .utf8)
        try (tokens + "\(controllerManagerToken),system:kube-controller-manager,cm-uid\n").write(
            toFile: directory + "/tokens.csv", atomically: true, encoding: .utf8)
        try controllerManagerToken.write(toFile: directory + "/cm-token", atomically: true, encoding: .utf8)
        cluster.apiServerArguments = ["--service-account-key-file", signingKeyPath] + apiServerArguments
        let firstAddress = cluster.apiAddresses[0]
        admin = ApiClient(address: firstAddress, token: cluster.adminToken, component: "test", identity: "admin")
        do {
            try cluster.start()
            try await cluster.waitUntilServing()
            if cluster.apiAddresses[0] != firstAddress {
                // The API server lost its port and was started again on another.
                let stale = admin
                Task { await stale.close() }
                admin = ApiClient(address: cluster.apiAddresses[0], token: cluster.adminToken, component: "test", identity: "admin")
            }
            try startControllerManager(controllerManagerArguments)
        } catch {
            stop()
            throw error
        }
    }

    private func startControllerManager(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: cluster.store.agentctl)
        process.arguments = [
            "run", "controller-manager", "--api", cluster.apiAddresses[0].description, "--token-file", directory + "/cm-token",
            "--name", "cm-test", "--leader-elect-lease-duration", "4s", "--leader-elect-renew-deadline", "3s",
            "--leader-elect-retry-period", "500ms", "--service-account-private-key-file", signingKeyPath,
            "--hostpath-provisioner-directory", volumeDirectory, "--exit-with-parent", String(getpid()),
        ] + arguments
        let logPath = directory + "/controller-manager.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        controllerManager = process
    }

    /// The controller manager's log, for failure messages.
    var controllerManagerLog: String {
        (try? String(contentsOfFile: directory + "/controller-manager.log", encoding: .utf8)).map { String($0.suffix(4000)) } ?? ""
    }

    func stop() {
        if let process = controllerManager, process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        controllerManager = nil
        cluster.stop()
    }

    // MARK: Helpers

    func createNamespace(_ name: String) async throws {
        var namespace = Namespace()
        namespace.metadata = ObjectMeta(name: name)
        _ = try await admin.create(namespace)
        // Pods need the namespace's default service account, which the controller makes.
        let ready = await clientEventually(seconds: 30) {
            (try? await self.admin.get(ServiceAccount.self, namespace: name, name: "default")) != nil
        }
        #expect(ready, "no default service account in \(name): \(controllerManagerLog)")
    }

    static func configMap(_ name: String, namespace: String = "default", owners: [OwnerReference] = [], finalizers: [String] = []) -> ConfigMap {
        var map = ConfigMap()
        map.metadata = ObjectMeta(name: name, namespace: namespace)
        map.metadata?.ownerReferences = owners
        map.metadata?.finalizers = finalizers
        map.data = ["key": "value"]
        return map
    }

    static func owner(_ object: ConfigMap, block: Bool = false) -> OwnerReference {
        var reference = OwnerReference()
        reference.apiVersion = "v1"
        reference.kind = "ConfigMap"
        reference.name = object.metadata?.name
        reference.uid = object.metadata?.uid
        reference.blockOwnerDeletion = block
        return reference
    }

    static func pod(_ name: String, namespace: String = "default", labels: [String: String] = [:], node: String? = nil) -> Pod {
        var pod = Pod()
        pod.metadata = ObjectMeta(name: name, namespace: namespace)
        pod.metadata?.labels = labels
        var container = Container()
        container.name = "main"
        container.image = "nginx:1.27"
        container.ports = [ContainerPort(name: "http", containerPort: 8080)]
        var spec = PodSpec()
        spec.containers = [container]
        spec.nodeName = node
        pod.spec = spec
        return pod
    }

    /// Writes a pod's status as its node agent would: running, with an address, ready or not.
    func report(_ name: String, namespace: String = "default", ip: String, ready: Bool) async throws {
        var pod = try await admin.get(Pod.self, namespace: namespace, name: name)
        var status = pod.status ?? PodStatus()
        status.phase = "Running"
        status.podIP = ip
        status.podIPs = [PodIP(ip: ip)]
        var condition = PodCondition()
        condition.type = "Ready"
        condition.status = ready ? "True" : "False"
        status.conditions = [condition]
        pod.status = status
        _ = try await admin.updateStatus(pod)
    }

    func exists<Object: KubernetesObject>(_ type: Object.Type, namespace: String? = "default", _ name: String) async -> Bool {
        (try? await admin.get(type, namespace: namespace, name: name)) != nil
    }
}

@Suite("Cluster controllers over loopback (real processes)", .serialized)
struct ClusterControllerTests {
    // MARK: Node lifecycle

    static func node(_ name: String, heartbeat: Date) -> Node {
        var node = Node()
        node.metadata = ObjectMeta(name: name)
        var status = NodeStatus()
        var ready = NodeCondition()
        ready.type = "Ready"
        ready.status = "True"
        ready.reason = "KubeletReady"
        ready.lastHeartbeatTime = Time(seconds: Int64(heartbeat.timeIntervalSince1970))
        status.conditions = [ready]
        node.status = status
        return node
    }

    static func renewTime(_ date: Date) -> MicroTime {
        MicroTime(seconds: Int64(date.timeIntervalSince1970), nanos: Int32(date.timeIntervalSince1970.truncatingRemainder(dividingBy: 1) * 1e6) * 1000)
    }

    /// The test plays the node agent: it creates the Node and its Lease, renews the Lease, and
    /// then stops.
    @Test("a node whose heartbeats stop turns Unknown, is tainted unreachable, its pods are marked not ready and evicted by their tolerations; heartbeats bring it back")
    func nodeHeartbeatsStop() async throws {
        // DefaultTolerationSeconds gives "plain" a 0 s toleration of unreachable: evicted at once.
        let plane = try await ClusterControlPlane(
            controllerManagerArguments: ["--node-monitor-grace-period", "3s"],
            apiServerArguments: ["--default-unreachable-toleration-seconds", "0"])
        defer { plane.stop() }
        let admin = plane.admin
        _ = try await admin.create(Self.node("worker-1", heartbeat: Date()))
        var lease = Lease()
        lease.metadata = ObjectMeta(name: "worker-1", namespace: "kube-node-lease")
        lease.spec = LeaseSpec(holderIdentity: "worker-1", leaseDurationSeconds: 3, renewTime: Self.renewTime(Date()))
        lease = try await admin.create(lease)

        var plain = ClusterControlPlane.pod("plain", node: "worker-1")
        plain.spec?.terminationGracePeriodSeconds = 30
        plain = try await admin.create(plain)
        #expect(plain.spec?.tolerations.first { $0.key == "node.kubernetes.io/unreachable" }?.tolerationSeconds == 0)
        var tolerant = ClusterControlPlane.pod("tolerant", node: "worker-1")
        tolerant.spec?.tolerations = [Toleration(key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 4)]
        _ = try await admin.create(tolerant)
        var forever = ClusterControlPlane.pod("forever", node: "worker-1")
        forever.spec?.tolerations = [Toleration(key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute")]
        _ = try await admin.create(forever)
        for (index, name) in ["plain", "tolerant", "forever"].enumerated() {
            try await plane.report(name, ip: "127.100.0.\(index + 1)", ready: true)
        }

        // Renewing every 500 ms for twice the grace period keeps the node Ready and untainted.
        for _ in 0..<12 {
            try await Task.sleep(for: .milliseconds(500))
            lease.spec?.renewTime = Self.renewTime(Date())
            lease = try await admin.update(lease)
        }
        let healthy = try await admin.get(Node.self, name: "worker-1")
        #expect(healthy.status?.conditions.first?.status == "True")
        #expect(healthy.spec?.taints ?? [] == [])

        // Silence.
        let silentSince = Date()
        let unknown = await clientEventually(seconds: 30) {
            guard let node = try? await admin.get(Node.self, name: "worker-1") else { return false }
            let keys = Set((node.spec?.taints ?? []).map { "\($0.key ?? ""):\($0.effect ?? "")" })
            return node.status?.conditions.first { $0.type == "Ready" }?.status == "Unknown"
                && keys == ["node.kubernetes.io/unreachable:NoSchedule", "node.kubernetes.io/unreachable:NoExecute"]
        }
        #expect(unknown, "node not marked Unknown and tainted: \(plane.controllerManagerLog)")
        #expect(Date().timeIntervalSince(silentSince) >= 2.5, "marked before the grace period ran out")
        let node = try await admin.get(Node.self, name: "worker-1")
        let ready = node.status?.conditions.first { $0.type == "Ready" }
        #expect(ready?.reason == "NodeStatusUnknown")
        #expect(ready?.message == "Kubelet stopped posting node status.")

        // The pod without a toleration is evicted at once; the one tolerating 4 s after that;
        // the one tolerating forever stays, marked not ready.
        #expect(await clientEventually(seconds: 20) {
            (try? await admin.get(Pod.self, namespace: "default", name: "plain"))?.metadata?.deletionTimestamp != nil
        })
        #expect(await clientEventually(seconds: 20) {
            (try? await admin.get(Pod.self, namespace: "default", name: "forever"))?.status?.conditions.first { $0.type == "Ready" }?.status == "False"
        })
        let taintedAt = Date()
        #expect(await clientEventually(seconds: 30) {
            (try? await admin.get(Pod.self, namespace: "default", name: "tolerant"))?.metadata?.deletionTimestamp != nil
        })
        #expect(Date().timeIntervalSince(taintedAt) >= 2, "the tolerating pod went before its tolerationSeconds")
        let kept = try await admin.get(Pod.self, namespace: "default", name: "forever")
        #expect(kept.metadata?.deletionTimestamp == nil)

        // Heartbeats return (the agent renews its Lease and posts Ready): the taints go.
        lease = try await admin.get(Lease.self, namespace: "kube-node-lease", name: "worker-1")
        lease.spec?.renewTime = Self.renewTime(Date())
        _ = try await admin.update(lease)
        var back = try await admin.get(Node.self, name: "worker-1")
        back.status = Self.node("worker-1", heartbeat: Date()).status
        _ = try await admin.updateStatus(back)
        #expect(await clientEventually(seconds: 20) {
            (try? await admin.get(Node.self, name: "worker-1"))?.spec?.taints.isEmpty == true
        })
    }

    // MARK: Namespaces and service accounts

    @Test("deleting a namespace marks it Terminating, refuses new content, deletes everything in it, then the namespace")
    func namespaceDeletion() async throws {
        let plane = try await ClusterControlPlane()
        defer { plane.stop() }
        let admin = plane.admin
        try await plane.createNamespace("shop")
        let created = try await admin.get(Namespace.self, name: "shop")
        #expect(created.spec?.finalizers == ["kubernetes"])
        #expect(created.status?.phase == "Active")
        _ = try await admin.create(ClusterControlPlane.configMap("settings", namespace: "shop"))
        var secret = Secret()
        secret.metadata = ObjectMeta(name: "password", namespace: "shop")
        secret.data = ["password": Array("hunter2".utf8)]
        _ = try await admin.create(secret)
        var service = Service()
        service.metadata = ObjectMeta(name: "web", namespace: "shop")
        var servicePort = ServicePort()
        servicePort.port = 80
        service.spec = ServiceSpec(ports: [servicePort], selector: ["app": "web"])
        _ = try await admin.create(service)
        _ = try await admin.create(ClusterControlPlane.pod("web-1", namespace: "shop", labels: ["app": "web"]))
        var role = Role()
        role.metadata = ObjectMeta(name: "reader", namespace: "shop")
        _ = try await admin.create(role)

        // The default account is put back when deleted.
        let original = try await admin.get(ServiceAccount.self, namespace: "shop", name: "default")
        try await admin.delete(ServiceAccount.self, namespace: "shop", name: "default")
        #expect(await clientEventually(seconds: 20) {
            let account = try? await admin.get(ServiceAccount.self, namespace: "shop", name: "default")
            return account != nil && account?.metadata?.uid != original.metadata?.uid
        })

        let terminating = try await admin.delete(Namespace.self, name: "shop")
        #expect(terminating.metadata?.deletionTimestamp != nil)
        #expect(terminating.status?.phase == "Terminating")
        do {
            _ = try await admin.create(ClusterControlPlane.configMap("late", namespace: "shop"))
            Issue.record("a configmap was created in a terminating namespace")
        } catch {
            #expect(error.code == 403)
        }
        let gone = await clientEventually(seconds: 30) { !(await plane.exists(Namespace.self, namespace: nil, "shop")) }
        #expect(gone, "namespace not removed: \(plane.controllerManagerLog)")
        for count in [
            try await admin.list(ConfigMap.self, namespace: "shop").items.count, try await admin.list(Secret.self, namespace: "shop").items.count,
            try await admin.list(Service.self, namespace: "shop").items.count, try await admin.list(Pod.self, namespace: "shop").items.count,
            try await admin.list(Role.self, namespace: "shop").items.count, try await admin.list(Endpoints.self, namespace: "shop").items.count,
            try await admin.list(ServiceAccount.self, namespace: "shop").items.count,
        ] {
            #expect(count == 0)
        }
    }

    // MARK: Garbage collection

    @Test("garbage collection: Background deletes dependents, Orphan keeps them without the reference, Foreground waits for blocking dependents")
    func garbageCollection() async throws {
        let plane = try await ClusterControlPlane()
        defer { plane.stop() }
        let admin = plane.admin
        typealias CP = ClusterControlPlane

        // Background.
        let owner = try await admin.create(CP.configMap("owner-background"))
        for index in 0..<3 { _ = try await admin.create(CP.configMap("bg-\(index)", owners: [CP.owner(owner)])) }
        // A dependent of an owner that never existed is collected too.
        var ghost = CP.owner(owner)
        ghost.uid = "no-such-uid"
        _ = try await admin.create(CP.configMap("dangling", owners: [ghost]))
        try await admin.delete(ConfigMap.self, namespace: "default", name: "owner-background", propagationPolicy: "Background")
        let collected = await clientEventually(seconds: 30) {
            for name in ["bg-0", "bg-1", "bg-2", "dangling"] where await plane.exists(ConfigMap.self, name) { return false }
            return true
        }
        #expect(collected, "dependents not collected: \(plane.controllerManagerLog)")

        // A dependent with a second, live owner only loses the dead reference.
        let first = try await admin.create(CP.configMap("first-owner"))
        let second = try await admin.create(CP.configMap("second-owner"))
        _ = try await admin.create(CP.configMap("shared", owners: [CP.owner(first), CP.owner(second)]))
        try await admin.delete(ConfigMap.self, namespace: "default", name: "first-owner")
        #expect(await clientEventually(seconds: 30) {
            (try? await admin.get(ConfigMap.self, namespace: "default", name: "shared"))?.metadata?.ownerReferences.map(\.name) == ["second-owner"]
        })

        // Orphan.
        let orphaning = try await admin.create(CP.configMap("owner-orphan"))
        for index in 0..<2 { _ = try await admin.create(CP.configMap("orphan-\(index)", owners: [CP.owner(orphaning, block: true)])) }
        try await admin.delete(ConfigMap.self, namespace: "default", name: "owner-orphan", propagationPolicy: "Orphan")
        #expect(await clientEventually(seconds: 30) { !(await plane.exists(ConfigMap.self, "owner-orphan")) })
        for index in 0..<2 {
            let orphan = try await admin.get(ConfigMap.self, namespace: "default", name: "orphan-\(index)")
            #expect(orphan.metadata?.ownerReferences == [])
        }

        // Foreground: the owner stays, with its finalizer, while a blocking dependent remains.
        let foreground = try await admin.create(CP.configMap("owner-foreground"))
        _ = try await admin.create(CP.configMap("fg-free", owners: [CP.owner(foreground)]))
        _ = try await admin.create(CP.configMap("fg-held", owners: [CP.owner(foreground, block: true)], finalizers: ["example.com/hold"]))
        try await admin.delete(ConfigMap.self, namespace: "default", name: "owner-foreground", propagationPolicy: "Foreground")
        #expect(await clientEventually(seconds: 30) {
            let held = try? await admin.get(ConfigMap.self, namespace: "default", name: "fg-held")
            let freeGone = !(await plane.exists(ConfigMap.self, "fg-free"))
            return held?.metadata?.deletionTimestamp != nil && freeGone
        })
        try await Task.sleep(for: .seconds(2))
        let waiting = try await admin.get(ConfigMap.self, namespace: "default", name: "owner-foreground")
        #expect(waiting.metadata?.finalizers == ["foregroundDeletion"])
        #expect(waiting.metadata?.deletionTimestamp != nil)
        var held = try await admin.get(ConfigMap.self, namespace: "default", name: "fg-held")
        held.metadata?.finalizers = []
        _ = try await admin.update(held)
        #expect(await clientEventually(seconds: 30) { !(await plane.exists(ConfigMap.self, "owner-foreground")) })
    }

    // MARK: Endpoints and services

    @Test("Endpoints and EndpointSlices follow the pods a service selects; a LoadBalancer service is told no provider exists")
    func endpointsFollowPods() async throws {
        let plane = try await ClusterControlPlane()
        defer { plane.stop() }
        let admin = plane.admin
        var service = Service()
        service.metadata = ObjectMeta(name: "web", namespace: "default")
        var servicePort = ServicePort()
        servicePort.name = "http"
        servicePort.port = 80
        servicePort.protocol = "TCP"
        servicePort.targetPort = IntOrString(type: 1, strVal: "http")
        service.spec = ServiceSpec(ports: [servicePort], selector: ["app": "web"])
        _ = try await admin.create(service)
        for index in 1...3 {
            _ = try await admin.create(ClusterControlPlane.pod("web-\(index)", labels: ["app": "web"]))
            try await plane.report("web-\(index)", ip: "127.100.1.\(index)", ready: index != 3)
        }
        _ = try await admin.create(ClusterControlPlane.pod("db-1", labels: ["app": "db"]))
        try await plane.report("db-1", ip: "127.100.1.9", ready: true)

        func addresses() async -> (ready: [String], notReady: [String], ports: [Int32]) {
            guard let endpoints = try? await admin.get(Endpoints.self, namespace: "default", name: "web") else { return ([], [], []) }
            return (
                endpoints.subsets.flatMap { $0.addresses.compactMap(\.ip) }.sorted(),
                endpoints.subsets.flatMap { $0.notReadyAddresses.compactMap(\.ip) }.sorted(),
                endpoints.subsets.flatMap { $0.ports.compactMap(\.port) })
        }
        let listed = await clientEventually(seconds: 30) {
            let current = await addresses()
            return current.ready == ["127.100.1.1", "127.100.1.2"] && current.notReady == ["127.100.1.3"] && current.ports == [8080]
        }
        let seen = await addresses()
        #expect(listed, "endpoints: \(seen) \(plane.controllerManagerLog)")
        func sliceEndpoints() async -> [String: Bool] {
            let slices = (try? await admin.list(EndpointSlice.self, namespace: "default", labelSelector: "kubernetes.io/service-name=web").items) ?? []
            var result: [String: Bool] = [:]
            for slice in slices where slice.metadata?.labels["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io" {
                for endpoint in slice.endpoints { result[endpoint.addresses.first ?? ""] = endpoint.conditions?.ready }
            }
            return result
        }
        #expect(await clientEventually(seconds: 30) {
            await sliceEndpoints() == ["127.100.1.1": true, "127.100.1.2": true, "127.100.1.3": false]
        })

        // Readiness changes and deletions follow.
        try await plane.report("web-3", ip: "127.100.1.3", ready: true)
        try await plane.report("web-1", ip: "127.100.1.1", ready: false)
        try await admin.delete(Pod.self, namespace: "default", name: "web-2")
        #expect(await clientEventually(seconds: 30) {
            let current = await addresses()
            return current.ready == ["127.100.1.3"] && current.notReady == ["127.100.1.1"]
        })
        #expect(await clientEventually(seconds: 30) { await sliceEndpoints() == ["127.100.1.1": false, "127.100.1.3": true] })

        // The service goes: so do its endpoints.
        try await admin.delete(Service.self, namespace: "default", name: "web")
        let cleared = await clientEventually(seconds: 30) {
            let endpointsGone = !(await plane.exists(Endpoints.self, "web"))
            let slices = (try? await admin.list(EndpointSlice.self, namespace: "default").items) ?? [EndpointSlice()]
            return endpointsGone && slices.isEmpty
        }
        #expect(cleared)

        // LoadBalancer: a condition and a Warning event, no address.
        var balanced = Service()
        balanced.metadata = ObjectMeta(name: "public", namespace: "default")
        balanced.spec = ServiceSpec(ports: [servicePort], selector: ["app": "web"], type: "LoadBalancer")
        _ = try await admin.create(balanced)
        let told = await clientEventually(seconds: 30) {
            let condition = (try? await admin.get(Service.self, namespace: "default", name: "public"))?.status?.conditions.first
            return condition?.reason == "NoLoadBalancerProvider" && condition?.status == "False"
        }
        #expect(told)
        let current = try await admin.get(Service.self, namespace: "default", name: "public")
        #expect(current.status?.loadBalancer?.ingress.isEmpty ?? true)
        #expect(await clientEventually(seconds: 30) {
            let events = (try? await admin.list(Event.self, namespace: "default").items) ?? []
            return events.contains { $0.involvedObject?.name == "public" && $0.reason == "NoLoadBalancerProvider" && $0.type == "Warning" }
        })
    }

    // MARK: Persistent volumes

    @Test("claims bind the smallest fitting volume both ways; claims of the standard class get a hostPath volume, deleted with the claim")
    func volumeBinding() async throws {
        let plane = try await ClusterControlPlane()
        defer { plane.stop() }
        let admin = plane.admin
        func volume(_ name: String, size: String) -> PersistentVolume {
            var volume = PersistentVolume()
            volume.metadata = ObjectMeta(name: name)
            var spec = PersistentVolumeSpec()
            spec.capacity = ["storage": Quantity(size)]
            spec.accessModes = ["ReadWriteOnce"]
            spec.storageClassName = "manual"
            spec.persistentVolumeReclaimPolicy = "Retain"
            spec.persistentVolumeSource = PersistentVolumeSource(hostPath: HostPathVolumeSource(path: "/srv/\(name)"))
            volume.spec = spec
            return volume
        }
        func claim(_ name: String, size: String, storageClass: String) -> PersistentVolumeClaim {
            var claim = PersistentVolumeClaim()
            claim.metadata = ObjectMeta(name: name, namespace: "default")
            var spec = PersistentVolumeClaimSpec()
            spec.accessModes = ["ReadWriteOnce"]
            spec.resources = VolumeResourceRequirements(requests: ["storage": Quantity(size)])
            spec.storageClassName = storageClass
            claim.spec = spec
            return claim
        }
        _ = try await admin.create(volume("pv-big", size: "5Gi"))
        _ = try await admin.create(volume("pv-small", size: "1Gi"))
        _ = try await admin.create(claim("data", size: "500Mi", storageClass: "manual"))
        let bound = await clientEventually(seconds: 30) {
            let claim = try? await admin.get(PersistentVolumeClaim.self, namespace: "default", name: "data")
            let volume = try? await admin.get(PersistentVolume.self, name: "pv-small")
            return claim?.spec?.volumeName == "pv-small" && claim?.status?.phase == "Bound"
                && claim?.status?.capacity["storage"]?.string == "1Gi" && volume?.spec?.claimRef?.uid == claim?.metadata?.uid
                && volume?.status?.phase == "Bound"
        }
        #expect(bound, "claim not bound: \(plane.controllerManagerLog)")
        #expect(await clientEventually(seconds: 10) { (try? await admin.get(PersistentVolume.self, name: "pv-big"))?.status?.phase == "Available" })

        // The claim goes: its Retain volume is Released, not offered again.
        try await admin.delete(PersistentVolumeClaim.self, namespace: "default", name: "data")
        #expect(await clientEventually(seconds: 30) { (try? await admin.get(PersistentVolume.self, name: "pv-small"))?.status?.phase == "Released" })

        // Provisioning.
        let provisioned = try await admin.create(claim("scratch", size: "2Gi", storageClass: "standard"))
        let volumeName = "pvc-" + (provisioned.metadata?.uid ?? "")
        let made = await clientEventually(seconds: 30) {
            let claim = try? await admin.get(PersistentVolumeClaim.self, namespace: "default", name: "scratch")
            return claim?.spec?.volumeName == volumeName && claim?.status?.phase == "Bound"
        }
        #expect(made, "no volume provisioned: \(plane.controllerManagerLog)")
        let volumeObject = try await admin.get(PersistentVolume.self, name: volumeName)
        let path = plane.volumeDirectory + "/" + volumeName
        #expect(volumeObject.spec?.persistentVolumeSource?.hostPath?.path == path)
        #expect(volumeObject.spec?.capacity["storage"]?.string == "2Gi")
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue)
        try await admin.delete(PersistentVolumeClaim.self, namespace: "default", name: "scratch")
        #expect(await clientEventually(seconds: 30) { !(await plane.exists(PersistentVolume.self, namespace: nil, volumeName)) })
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    // MARK: Quota

    @Test("a quota of two pods: status.used follows the namespace, the third pod is refused until one goes")
    func quotaLimitsPods() async throws {
        let plane = try await ClusterControlPlane()
        defer { plane.stop() }
        let admin = plane.admin
        try await plane.createNamespace("limited")
        var quota = ResourceQuota()
        quota.metadata = ObjectMeta(name: "pods", namespace: "limited")
        quota.spec = ResourceQuotaSpec(hard: ["pods": Quantity("2"), "count/configmaps": Quantity("10")])
        _ = try await admin.create(quota)
        func used() async -> String? {
            (try? await admin.get(ResourceQuota.self, namespace: "limited", name: "pods"))?.status?.used["pods"]?.string
        }
        #expect(await clientEventually(seconds: 30) { await used() == "0" }, "quota never counted: \(plane.controllerManagerLog)")
        let counted = try await admin.get(ResourceQuota.self, namespace: "limited", name: "pods")
        #expect(counted.status?.hard["pods"]?.string == "2")
        #expect(counted.status?.used["count/configmaps"]?.string == "0")
        _ = try await admin.create(ClusterControlPlane.pod("one", namespace: "limited"))
        #expect(await clientEventually(seconds: 30) { await used() == "1" })
        _ = try await admin.create(ClusterControlPlane.pod("two", namespace: "limited"))
        #expect(await clientEventually(seconds: 30) { await used() == "2" })
        do {
            _ = try await admin.create(ClusterControlPlane.pod("three", namespace: "limited"))
            Issue.record("a third pod was admitted past the quota")
        } catch {
            #expect(error.code == 403)
            #expect(error.message.contains("exceeded quota: pods"))
        }
        try await admin.delete(Pod.self, namespace: "limited", name: "one")
        #expect(await clientEventually(seconds: 30) { await used() == "1" })
        _ = try await admin.create(ClusterControlPlane.pod("three", namespace: "limited"))
        #expect(await clientEventually(seconds: 30) { await used() == "2" })

        // A burst: the API server charges the quota in each create's transaction, so no two
        // creates take the same unit, whatever the controller has counted so far.
        try await plane.createNamespace("burst")
        var burstQuota = ResourceQuota()
        burstQuota.metadata = ObjectMeta(name: "pods", namespace: "burst")
        burstQuota.spec = ResourceQuotaSpec(hard: ["pods": Quantity("3")])
        _ = try await admin.create(burstQuota)
        #expect(await clientEventually(seconds: 30) {
            (try? await admin.get(ResourceQuota.self, namespace: "burst", name: "pods"))?.status?.used["pods"]?.string == "0"
        })
        let outcomes = await withTaskGroup(of: Int32.self) { group in
            for index in 0..<8 {
                group.addTask {
                    do {
                        _ = try await admin.create(ClusterControlPlane.pod("burst-\(index)", namespace: "burst"))
                        return 201
                    } catch {
                        return ApiError.from(error).code
                    }
                }
            }
            return await group.reduce(into: [Int32]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == 201 }.count == 3, "outcomes: \(outcomes.sorted())")
        #expect(outcomes.filter { $0 == 403 }.count == 5, "outcomes: \(outcomes.sorted())")
        #expect(try await admin.list(Pod.self, namespace: "burst").items.count == 3)
    }

    // MARK: Service account tokens

    @Test("a service-account token secret is filled with a token the API server accepts; deleting the account deletes the secret")
    func serviceAccountTokens() async throws {
        let plane = try await ClusterControlPlane()
        defer { plane.stop() }
        let admin = plane.admin
        var account = ServiceAccount()
        account.metadata = ObjectMeta(name: "builder", namespace: "default")
        _ = try await admin.create(account)
        var secret = Secret()
        secret.metadata = ObjectMeta(name: "builder-token", namespace: "default")
        secret.metadata?.annotations = ["kubernetes.io/service-account.name": "builder"]
        secret.type = "kubernetes.io/service-account-token"
        _ = try await admin.create(secret)
        var token = ""
        let filled = await clientEventually(seconds: 30) {
            guard let current = try? await admin.get(Secret.self, namespace: "default", name: "builder-token"),
                let bytes = current.data["token"]
            else { return false }
            token = String(decoding: bytes, as: UTF8.self)
            return current.data["namespace"] == Array("default".utf8)
        }
        #expect(filled, "secret not filled: \(plane.controllerManagerLog)")
        // The token authenticates as the account: RBAC, not authentication, refuses it.
        let asAccount = ApiClient(address: plane.cluster.apiAddresses[0], token: token, component: "test", identity: "builder")
        defer { Task { await asAccount.close() } }
        do {
            _ = try await asAccount.list(Secret.self, namespace: "default")
            Issue.record("the service account read secrets without a role")
        } catch {
            #expect(error.code == 403)
            #expect(error.message.contains("system:serviceaccount:default:builder"))
        }
        try await admin.delete(ServiceAccount.self, namespace: "default", name: "builder")
        #expect(await clientEventually(seconds: 30) { !(await plane.exists(Secret.self, "builder-token")) })
        let refused = ApiClient(address: plane.cluster.apiAddresses[0], token: token, component: "test", identity: "builder-again")
        defer { Task { await refused.close() } }
        do {
            _ = try await refused.list(ConfigMap.self, namespace: "default")
            Issue.record("the token of a deleted account still works")
        } catch {
            #expect(error.code == 401)
        }
    }
}
