import Foundation
import Testing

@testable import Api

/// Nodes, namespaces, events, component statuses, configuration, policy, storage and RBAC.
@Suite struct TablesClusterTests {
    typealias F = TableFixture

    static func node(ready: String?) -> Node {
        var node = Node(metadata: F.meta("node-1", namespace: nil, age: 3 * 86400 + 7200))
        node.status = NodeStatus(
            conditions: ready.map { [NodeCondition(type: "MemoryPressure", status: "False"), NodeCondition(type: "Ready", status: $0)] } ?? [],
            addresses: [NodeAddress(type: "Hostname", address: "node-1"), NodeAddress(type: "InternalIP", address: "127.0.0.11")],
            nodeInfo: NodeSystemInfo(kernelVersion: "6.1.0", osImage: "Debian GNU/Linux 12", containerRuntimeVersion: "skiff://0.1", kubeletVersion: "v1.32.0"))
        return node
    }

    @Test func nodeShowsReadinessRolesAndVersion() {
        #expect(F.headers(Node.resourceType) == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"])
        #expect(
            F.headers(Node.resourceType, wide: true)
                == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"])
        var node = Self.node(ready: "True")
        #expect(F.row(node) == ["node-1", "Ready", "<none>", "3d2h", "v1.32.0", "127.0.0.11", "<none>", "Debian GNU/Linux 12", "6.1.0", "skiff://0.1"])
        node.metadata?.labels = ["node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/": "x", "kubernetes.io/role": "worker"]
        node.spec = NodeSpec(unschedulable: true)
        #expect(F.row(node)[1...2] == ["Ready,SchedulingDisabled", "control-plane,worker"])
        #expect(F.row(Self.node(ready: "False"))[1] == "NotReady")
        #expect(F.row(Self.node(ready: "Unknown"))[1] == "NotReady")
        #expect(F.row(Self.node(ready: nil))[1] == "Unknown")
        var bare = Node(metadata: F.meta("bare", namespace: nil))
        bare.spec = NodeSpec(unschedulable: true)
        #expect(F.row(bare) == ["bare", "Unknown,SchedulingDisabled", "<none>", "5m", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"])
    }

    @Test func namespaceShowsItsPhase() {
        var namespace = Namespace(metadata: F.meta("team-a", namespace: nil, age: 45))
        #expect(F.headers(Namespace.resourceType) == ["NAME", "STATUS", "AGE"])
        #expect(F.row(namespace) == ["team-a", "Active", "45s"])
        namespace.status = NamespaceStatus(phase: "Terminating")
        #expect(F.row(namespace)[1] == "Terminating")
    }

    @Test func eventShowsLastSeenTypeReasonObjectMessage() {
        var event = Event(metadata: F.meta("web.17f1"))
        event.involvedObject = ObjectReference(kind: "Pod", namespace: "default", name: "web", fieldPath: "spec.containers{web}")
        event.reason = "Pulled"
        event.message = "  Container image \"nginx:1.27\" already present on machine\n"
        event.type = "Normal"
        event.source = EventSource(component: "kubelet", host: "node-1")
        event.firstTimestamp = F.ago(3600)
        event.lastTimestamp = F.ago(90)
        event.count = 4
        #expect(F.headers(Event.resourceType) == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"])
        #expect(
            F.headers(Event.resourceType, wide: true)
                == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "SOURCE", "MESSAGE", "FIRST SEEN", "COUNT", "NAME"])
        #expect(
            F.row(event) == [
                "90s", "Normal", "Pulled", "pod/web", "spec.containers{web}", "kubelet, node-1",
                "Container image \"nginx:1.27\" already present on machine", "60m", "4", "web.17f1",
            ])
    }

    @Test func eventsOfTheEventsAPIUseEventTimeAndSeries() {
        var event = Event(metadata: F.meta("lease.1"))
        event.involvedObject = ObjectReference(kind: "Node")
        event.eventTime = MicroTime(seconds: F.nowSeconds - 30)
        event.reportingComponent = "skiff-controller-manager"
        #expect(F.row(event)[0...5] == ["30s", "", "", "node", "", "skiff-controller-manager"])
        #expect(F.row(event)[7...8] == ["30s", "1"])
        event.series = EventSeries(count: 7, lastObservedTime: MicroTime(seconds: F.nowSeconds - 5))
        #expect(F.row(event)[0] == "5s")
        #expect(F.row(event)[8] == "7")
    }

    @Test func componentStatusesHaveNoAge() {
        var status = ComponentStatus(metadata: F.meta("scheduler", namespace: nil))
        #expect(F.headers(ComponentStatus.resourceType) == ["NAME", "STATUS", "MESSAGE", "ERROR"])
        #expect(F.row(status) == ["scheduler", "Unknown", "", ""])
        status.conditions = [ComponentCondition(type: "Healthy", status: "True", message: "ok")]
        #expect(F.row(status) == ["scheduler", "Healthy", "ok", ""])
        status.conditions = [ComponentCondition(type: "Healthy", status: "False", error: "connection refused")]
        #expect(F.row(status) == ["scheduler", "Unhealthy", "", "connection refused"])
    }

    @Test func configMapsSecretsAndServiceAccountsCountTheirEntries() {
        let configMap = ConfigMap(metadata: F.meta("settings"), data: ["a": "1", "b": "2"], binaryData: ["c": [0]])
        #expect(F.headers(ConfigMap.resourceType) == ["NAME", "DATA", "AGE"])
        #expect(F.row(configMap) == ["settings", "3", "5m"])
        let secret = Secret(metadata: F.meta("token"), data: ["a": [1], "b": [2]], type: "kubernetes.io/basic-auth", stringData: ["b": "x", "c": "y"])
        #expect(F.headers(Secret.resourceType) == ["NAME", "TYPE", "DATA", "AGE"])
        #expect(F.row(secret) == ["token", "kubernetes.io/basic-auth", "3", "5m"])
        #expect(F.row(Secret(metadata: F.meta("plain")))[1...2] == ["Opaque", "0"])
        let account = ServiceAccount(metadata: F.meta("default"), secrets: [ObjectReference(name: "default-token")])
        #expect(F.headers(ServiceAccount.resourceType) == ["NAME", "SECRETS", "AGE"])
        #expect(F.row(account) == ["default", "1", "5m"])
    }

    @Test func leaseShowsItsHolder() {
        let lease = Lease(metadata: F.meta("skiff-scheduler"), spec: LeaseSpec(holderIdentity: "scheduler-1"))
        #expect(F.headers(Lease.resourceType) == ["NAME", "HOLDER", "AGE"])
        #expect(F.row(lease) == ["skiff-scheduler", "scheduler-1", "5m"])
        #expect(F.row(Lease(metadata: F.meta("free")))[1] == "")
    }

    @Test func resourceQuotaSplitsRequestsAndLimits() {
        var quota = ResourceQuota(metadata: F.meta("compute"))
        quota.status = ResourceQuotaStatus(
            hard: ["requests.cpu": Quantity(string: "2"), "limits.memory": Quantity(string: "2048Mi"), "pods": Quantity(string: "10"), "limits.cpu": Quantity(string: "4")],
            used: ["requests.cpu": Quantity(string: "500m"), "pods": Quantity(string: "3"), "limits.memory": Quantity(string: "1Gi")])
        #expect(F.headers(ResourceQuota.resourceType) == ["NAME", "REQUEST", "LIMIT", "AGE"])
        #expect(F.row(quota) == ["compute", "pods: 3/10, requests.cpu: 500m/2", "limits.cpu: 0/4, limits.memory: 1Gi/2Gi", "5m"])
    }

    @Test func kindsWithoutAPrinterShowCreatedAt() {
        let created = Time(seconds: 1_700_000_000)
        var limits = LimitRange(metadata: F.meta("defaults"))
        limits.metadata?.creationTimestamp = created
        var role = Role(metadata: F.meta("reader"))
        role.metadata?.creationTimestamp = created
        var clusterRole = ClusterRole(metadata: F.meta("admin", namespace: nil))
        clusterRole.metadata?.creationTimestamp = created
        for object in [limits, role, clusterRole] as [any KubernetesObject] {
            #expect(F.headers(object.resourceType) == ["NAME", "CREATED AT"])
            #expect(F.row(object) == [object.metadata?.name ?? "", "2023-11-14T22:13:20Z"])
        }
        #expect(TableDefinitions.definition(for: Role.resourceType).columns[1].type == "date")
    }

    @Test func bindingsShowTheRoleAndSubjects() {
        let subjects = [
            Subject(kind: "User", name: "jane"), Subject(kind: "Group", name: "devs"), Subject(kind: "User", name: "joe"),
            Subject(kind: "ServiceAccount", name: "builder", namespace: "ci"),
        ]
        let binding = RoleBinding(metadata: F.meta("read"), subjects: subjects, roleRef: RoleRef(kind: "Role", name: "reader"))
        #expect(F.headers(RoleBinding.resourceType) == ["NAME", "ROLE", "AGE"])
        #expect(F.headers(ClusterRoleBinding.resourceType, wide: true) == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"])
        #expect(F.row(binding) == ["read", "Role/reader", "5m", "jane, joe", "devs", "ci/builder"])
        let clusterBinding = ClusterRoleBinding(metadata: F.meta("admins", namespace: nil), roleRef: RoleRef(kind: "ClusterRole", name: "cluster-admin"))
        #expect(F.row(clusterBinding) == ["admins", "ClusterRole/cluster-admin", "5m", "", "", ""])
    }

    @Test func persistentVolumesAndClaims() {
        var volume = PersistentVolume(metadata: F.meta("pv-1", namespace: nil))
        volume.spec = PersistentVolumeSpec(
            capacity: ["storage": Quantity(string: "10240Mi")], accessModes: ["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"],
            claimRef: ObjectReference(namespace: "default", name: "data"), persistentVolumeReclaimPolicy: "Delete", storageClassName: "fast")
        volume.status = PersistentVolumeStatus(phase: "Bound")
        #expect(
            F.headers(PersistentVolume.resourceType)
                == ["NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "REASON", "AGE"])
        #expect(F.row(volume) == ["pv-1", "10Gi", "RWO,RWX", "Delete", "Bound", "default/data", "fast", "<unset>", "", "5m", "Filesystem"])
        volume.metadata?.deletionTimestamp = F.ago(1)
        #expect(F.row(volume)[4] == "Terminating")

        var claim = PersistentVolumeClaim(metadata: F.meta("data"))
        claim.spec = PersistentVolumeClaimSpec(accessModes: ["ReadWriteOnce"])
        claim.metadata?.annotations = ["volume.beta.kubernetes.io/storage-class": "legacy"]
        #expect(
            F.headers(PersistentVolumeClaim.resourceType)
                == ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE"])
        #expect(F.row(claim) == ["data", "Pending", "", "", "", "legacy", "<unset>", "5m", "Filesystem"])
        claim.spec?.volumeName = "pv-1"
        claim.spec?.volumeMode = "Block"
        claim.status = PersistentVolumeClaimStatus(phase: "Bound", accessModes: ["ReadWriteOnce"], capacity: ["storage": Quantity(string: "10Gi")])
        #expect(F.row(claim) == ["data", "Bound", "pv-1", "10Gi", "RWO", "legacy", "<unset>", "5m", "Block"])
    }
}
