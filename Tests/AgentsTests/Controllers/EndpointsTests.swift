import Foundation
import Testing

@testable import Agents
@testable import Api

@Suite struct EndpointsTests {
    @Test func readyAndNotReadyPodsGoToTheirListsWithResolvedPorts() throws {
        let service = Fixture.service(ports: [
            Fixture.servicePort(80, target: .name("http"), name: "http"), Fixture.servicePort(9090, target: .number(9090), name: "metrics"),
        ])
        let pods = [
            Fixture.pod("web-2", ip: "127.96.0.12", ready: false, node: "n1", ports: [("http", 8080)]),
            Fixture.pod("web-1", ip: "127.96.0.9", ready: true, node: "n1", ports: [("http", 8080)]),
            Fixture.pod("other", labels: ["app": "db"], ip: "127.96.0.30", ports: [("http", 8080)]),
            Fixture.pod("no-ip", ip: nil, ports: [("http", 8080)]),
            Fixture.pod("finished", ip: "127.96.0.31", ports: [("http", 8080)], phase: "Succeeded"),
        ]
        let endpoints = EndpointsSync.desired(service: service, pods: pods, existing: nil)
        #expect(endpoints.metadata?.name == "web")
        #expect(endpoints.metadata?.labels == ["team": "shop"])
        let subset = try #require(endpoints.subsets.first)
        #expect(endpoints.subsets.count == 1)
        #expect(subset.addresses.map(\.ip) == ["127.96.0.9"])
        #expect(subset.addresses.first?.targetRef?.name == "web-1")
        #expect(subset.addresses.first?.nodeName == "n1")
        #expect(subset.notReadyAddresses.map(\.ip) == ["127.96.0.12"])
        #expect(subset.ports.map { "\($0.name ?? "")=\($0.port ?? 0)" } == ["http=8080", "metrics=9090"])
    }

    @Test func podsServingDifferentPortsGoToDifferentSubsetsAndUnresolvablePodsAreLeftOut() {
        let service = Fixture.service(ports: [Fixture.servicePort(80, target: .name("http"))])
        let pods = [
            Fixture.pod("old", ip: "127.96.0.1", ports: [("http", 8080)]),
            Fixture.pod("new", ip: "127.96.0.2", ports: [("http", 9000)]),
            Fixture.pod("unnamed", ip: "127.96.0.3", ports: [("web", 8080)]),
        ]
        let (subsets, truncated) = EndpointsSync.subsets(service: service, pods: pods)
        #expect(!truncated)
        #expect(subsets.map { $0.ports.map(\.port) } == [[8080], [9000]])
        #expect(subsets.map { $0.addresses.map(\.ip) } == [["127.96.0.1"], ["127.96.0.2"]])
    }

    @Test func terminatingPodsAreLeftOutUnlessNotReadyAddressesArePublished() {
        var service = Fixture.service()
        var leaving = Fixture.pod("web-1", ip: "127.96.0.1")
        leaving.metadata?.deletionTimestamp = ClusterTime.time(Fixture.epoch)
        let notReady = Fixture.pod("web-2", ip: "127.96.0.2", ready: false)
        #expect(EndpointsSync.subsets(service: service, pods: [leaving, notReady]).subsets.first?.addresses.isEmpty == true)
        service.spec?.publishNotReadyAddresses = true
        let published = EndpointsSync.subsets(service: service, pods: [leaving, notReady]).subsets
        #expect(published.first?.addresses.map(\.ip) == ["127.96.0.1", "127.96.0.2"])
    }

    @Test func headlessServicesWithoutPortsListAddressesAndHostnames() {
        let service = Fixture.service("db", ports: [], clusterIP: "None")
        var pod = Fixture.pod("db-0", ip: "127.96.0.5")
        pod.spec?.hostname = "db-0"
        pod.spec?.subdomain = "db"
        let endpoints = EndpointsSync.desired(service: service, pods: [pod], existing: nil)
        #expect(endpoints.subsets.count == 1)
        #expect(endpoints.subsets.first?.ports == [])
        #expect(endpoints.subsets.first?.addresses.first?.hostname == "db-0")
        #expect(endpoints.metadata?.labels["service.kubernetes.io/headless"] == "")
        // A service with a cluster IP and no ports has no endpoints.
        #expect(EndpointsSync.subsets(service: Fixture.service(ports: []), pods: [pod]).subsets.isEmpty)
    }

    @Test func anUnsetTargetPortMeansTheServicePort() {
        let service = Fixture.service(ports: [Fixture.servicePort(6379)])
        let subsets = EndpointsSync.subsets(service: service, pods: [Fixture.pod("r", ip: "127.96.0.1")]).subsets
        #expect(subsets.first?.ports.first?.port == 6379)
    }

    @Test func moreThanAThousandAddressesAreTruncatedAndMarked() {
        let service = Fixture.service()
        let pods = (0..<1005).map { Fixture.pod("web-\($0)", ip: "127.96.\($0 / 250).\($0 % 250 + 1)") }
        let endpoints = EndpointsSync.desired(service: service, pods: pods, existing: nil)
        #expect(endpoints.subsets.reduce(0) { $0 + $1.addresses.count } == 1000)
        #expect(endpoints.metadata?.annotations["endpoints.kubernetes.io/over-capacity"] == "truncated")
    }

    @Test func anUpToDateObjectIsNotRewritten() {
        let service = Fixture.service()
        let pods = [Fixture.pod("web-1", ip: "127.96.0.1")]
        var existing = EndpointsSync.desired(service: service, pods: pods, existing: nil)
        existing.metadata?.resourceVersion = "7"
        let desired = EndpointsSync.desired(service: service, pods: pods, existing: existing)
        #expect(!EndpointsSync.differs(existing, desired))
        #expect(desired.metadata?.resourceVersion == "7")
        let changed = EndpointsSync.desired(service: service, pods: pods + [Fixture.pod("web-2", ip: "127.96.0.2")], existing: existing)
        #expect(EndpointsSync.differs(existing, changed))
    }
}

@Suite struct EndpointSliceTests {
    static func slice(_ name: String, _ plan: EndpointSlice) -> EndpointSlice {
        var slice = plan
        slice.metadata?.name = name
        slice.metadata?.generateName = nil
        return slice
    }

    @Test func slicesCarryConditionsLabelsAndOwner() throws {
        let service = Fixture.service()
        var leaving = Fixture.pod("web-3", ip: "127.96.0.3", ready: true)
        leaving.metadata?.deletionTimestamp = ClusterTime.time(Fixture.epoch)
        let pods = [Fixture.pod("web-1", ip: "127.96.0.1"), Fixture.pod("web-2", ip: "127.96.0.2", ready: false), leaving]
        let plan = EndpointSliceSync.plan(service: service, pods: pods, existing: [])
        #expect(plan.update.isEmpty && plan.delete.isEmpty)
        let slice = try #require(plan.create.first)
        #expect(plan.create.count == 1)
        #expect(slice.metadata?.generateName == "web-")
        #expect(slice.metadata?.labels["kubernetes.io/service-name"] == "web")
        #expect(slice.metadata?.labels["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io")
        #expect(slice.metadata?.ownerReferences.first?.uid == "uid-web")
        #expect(slice.metadata?.ownerReferences.first?.controller == true)
        #expect(slice.addressType == "IPv4")
        #expect(slice.ports.map(\.port) == [8080])
        let conditions = Dictionary(uniqueKeysWithValues: slice.endpoints.map { ($0.targetRef?.name ?? "", $0.conditions!) })
        #expect(conditions["web-1"] == EndpointConditions(ready: true, serving: true, terminating: false))
        #expect(conditions["web-2"] == EndpointConditions(ready: false, serving: false, terminating: false))
        #expect(conditions["web-3"] == EndpointConditions(ready: false, serving: true, terminating: true))
    }

    @Test func atMostAHundredEndpointsPerSlice() {
        let pods = (0..<250).map { Fixture.pod("web-\($0)", ip: "127.96.\($0 / 200).\($0 % 200 + 1)") }
        let plan = EndpointSliceSync.plan(service: Fixture.service(), pods: pods, existing: [])
        #expect(plan.create.map(\.endpoints.count) == [100, 100, 50])
        #expect(Set(plan.create.flatMap { $0.endpoints.map { $0.targetRef?.name ?? "" } }).count == 250)
    }

    @Test func endpointsStayInTheirSliceAndNewOnesFillRoom() throws {
        let service = Fixture.service()
        let pods = (0..<150).map { Fixture.pod("web-\($0)", ip: "127.96.1.\($0 + 1)") }
        let first = EndpointSliceSync.plan(service: service, pods: pods, existing: [])
        let existing = [Self.slice("web-a", first.create[0]), Self.slice("web-b", first.create[1])]
        // One pod goes from the first slice, two come.
        let gone = existing[0].endpoints[10].targetRef?.name ?? ""
        let next = pods.filter { $0.metadata?.name != gone } + [
            Fixture.pod("web-new-1", ip: "127.96.2.1"), Fixture.pod("web-new-2", ip: "127.96.2.2"),
        ]
        let plan = EndpointSliceSync.plan(service: service, pods: next, existing: existing)
        #expect(plan.create.isEmpty && plan.delete.isEmpty)
        let updatedA = try #require(plan.update.first { $0.metadata?.name == "web-a" })
        #expect(updatedA.endpoints.count == 100)
        #expect(!updatedA.endpoints.contains { $0.targetRef?.name == gone })
        // The first slice had room for one newcomer; the second takes the other and keeps its own.
        let updatedB = try #require(plan.update.first { $0.metadata?.name == "web-b" })
        #expect(updatedB.endpoints.count == 51)
        #expect(Set(existing[1].endpoints.compactMap(\.targetRef?.name)).isSubset(of: Set(updatedB.endpoints.compactMap(\.targetRef?.name))))
        #expect(Set(existing[0].endpoints.compactMap(\.targetRef?.name)).subtracting([gone]).isSubset(of: Set(updatedA.endpoints.compactMap(\.targetRef?.name))))
        // Nothing changed: nothing to write.
        let settled = EndpointSliceSync.plan(service: service, pods: pods, existing: existing)
        #expect(settled.isEmpty)
    }

    @Test func aServiceWithoutEndpointsKeepsOnePlaceholder() throws {
        let service = Fixture.service()
        let plan = EndpointSliceSync.plan(service: service, pods: [], existing: [])
        let placeholder = try #require(plan.create.first)
        #expect(plan.create.count == 1)
        #expect(placeholder.endpoints.isEmpty && placeholder.ports.isEmpty)
        let existing = [Self.slice("web-p", placeholder)]
        #expect(EndpointSliceSync.plan(service: service, pods: [], existing: existing).isEmpty)
        // Once endpoints come, the placeholder goes.
        let filled = EndpointSliceSync.plan(service: service, pods: [Fixture.pod("web-1", ip: "127.96.0.1")], existing: existing)
        #expect(filled.create.count == 1)
        #expect(filled.delete.map { $0.metadata?.name } == ["web-p"])
    }

    @Test func slicesOfOtherManagersAreNotTouched() {
        var foreign = EndpointSlice()
        foreign.metadata = ObjectMeta(name: "web-manual", namespace: "default")
        foreign.metadata?.labels = ["kubernetes.io/service-name": "web", "endpointslice.kubernetes.io/managed-by": "someone-else"]
        #expect(EndpointSliceSync.managedSlices(of: Fixture.service(), among: [foreign]).isEmpty)
    }
}
