import Api
import Foundation
import Testing

@testable import Agents

@Suite struct HollowNodeTemplateTests {
    @Test func nodesCarryCapacityReadinessAddressesAndZones() throws {
        var template = HollowNodeTemplate(count: 600)
        template.namePrefix = "hn-"
        template.cpu = Quantity("8")
        template.memory = Quantity("32Gi")
        template.pods = Quantity("50")
        template.labels = ["pool": "hollow"]
        template.zones = 3
        let node = template.node(257)
        #expect(node.metadata?.name == "hn-257")
        let labels = try #require(node.metadata?.labels)
        #expect(labels["kubernetes.io/hostname"] == "hn-257")
        #expect(labels["topology.kubernetes.io/zone"] == "zone-2")
        #expect(labels["pool"] == "hollow")
        let status = try #require(node.status)
        #expect(status.allocatable["cpu"]?.string == "8")
        #expect(status.allocatable["memory"]?.string == "32Gi")
        #expect(status.allocatable["pods"]?.string == "50")
        #expect(status.conditions.first { $0.type == "Ready" }?.status == "True")
        #expect(status.addresses.first { $0.type == "InternalIP" }?.address == "127.95.1.2")
        #expect(node.spec?.podCIDR == "127.96.1.0/24")
        // The scheduler reads it as a node with that room.
        let info = NodeInfo(node: node)
        #expect(info.allocatable.milliCPU == 8000)
        #expect(info.allowedPodCount == 50)
    }

    @Test func leasesAreOwnedByTheirNode() {
        let lease = HollowNodeTemplate.lease(nodeName: "hn-1", nodeUID: "uid-1", durationSeconds: 40)
        #expect(lease.metadata?.namespace == "kube-node-lease")
        #expect(lease.spec?.holderIdentity == "hn-1")
        #expect(lease.spec?.leaseDurationSeconds == 40)
        #expect(lease.metadata?.ownerReferences.first?.uid == "uid-1")
        #expect(lease.metadata?.ownerReferences.first?.kind == "Node")
    }
}

@Suite struct HollowPodLifecycleTests {
    static let live: @Sendable (String) -> Bool = { $0 == "hn-1" }

    @Test func aPodBoundToALiveNodeIsReportedRunningOnce() {
        let pending = SchedulerFixtures.pod("p")
        #expect(HollowPodLifecycle.action(for: pending, isLiveNode: Self.live) == .none)
        let elsewhere = SchedulerFixtures.pod("p", nodeName: "other")
        #expect(HollowPodLifecycle.action(for: elsewhere, isLiveNode: Self.live) == .none)
        var bound = SchedulerFixtures.pod("p", nodeName: "hn-1")
        #expect(HollowPodLifecycle.action(for: bound, isLiveNode: Self.live) == .reportRunning)
        bound.status = HollowPodLifecycle.runningStatus(of: bound, hostIP: "127.95.0.2", podIP: "127.96.1.7")
        #expect(HollowPodLifecycle.action(for: bound, isLiveNode: Self.live) == .none)
        bound.metadata?.deletionTimestamp = Time(seconds: 1)
        #expect(HollowPodLifecycle.action(for: bound, isLiveNode: Self.live) == .finalize)
        #expect(HollowPodLifecycle.action(for: bound, isLiveNode: { _ in false }) == .none)
    }

    @Test func theRunningStatusIsWhatAKubeletReports() throws {
        var sidecar = Container()
        sidecar.name = "proxy"
        sidecar.restartPolicy = "Always"
        var setup = Container()
        setup.name = "setup"
        var pod = SchedulerFixtures.pod("p", nodeName: "hn-1", initContainers: [setup, sidecar])
        pod.status = PodStatus(conditions: [PodCondition(type: "example.com/gate", status: "True")])
        let status = HollowPodLifecycle.runningStatus(of: pod, hostIP: "127.95.0.2", podIP: "127.96.1.7", now: Date(timeIntervalSince1970: 1000))
        #expect(status.phase == "Running")
        #expect(status.podIP == "127.96.1.7")
        #expect(status.podIPs.map(\.ip) == ["127.96.1.7"])
        #expect(status.hostIP == "127.95.0.2")
        #expect(status.startTime?.seconds == 1000)
        let types = status.conditions.filter { $0.status == "True" }.compactMap(\.type)
        #expect(Set(types) == ["example.com/gate", "PodScheduled", "Initialized", "ContainersReady", "Ready"])
        let app = try #require(status.containerStatuses.first)
        #expect(app.name == "app")
        #expect(app.ready == true)
        #expect(app.state?.running?.startedAt?.seconds == 1000)
        #expect(status.initContainerStatuses.map { $0.state?.terminated?.reason } == ["Completed", nil])
        #expect(status.initContainerStatuses.last?.state?.running != nil)
    }
}

@Suite struct PodAddressPoolTests {
    @Test func addressesAreUniqueUntilReleasedAndThePoolWrapsWhenFull() {
        var pool = PodAddressPool(block: 7)
        let first = pool.allocate()
        #expect(first == "127.96.7.1")
        var all: Set<String> = [first]
        for _ in 1..<254 { all.insert(pool.allocate()) }
        #expect(all.count == 254)
        #expect(pool.inUse == 254)
        pool.release("127.96.7.100")
        #expect(pool.allocate() == "127.96.7.100")
        _ = pool.allocate()
        #expect(pool.exhausted == 1)
    }
}
