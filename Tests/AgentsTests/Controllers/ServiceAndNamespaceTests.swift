import Foundation
import Testing

@testable import Agents
@testable import Api

@Suite struct ServiceLoadBalancingTests {
    @Test func aLoadBalancerServiceIsToldThatNoProviderExistsAndGetsNoAddress() throws {
        let service = Fixture.service(type: "LoadBalancer")
        let status = try #require(ServiceLoadBalancing.desiredStatus(of: service, now: Fixture.epoch))
        let condition = try #require(status.conditions.first)
        #expect(condition.type == "LoadBalancerProvisioned")
        #expect(condition.status == "False")
        #expect(condition.reason == "NoLoadBalancerProvider")
        #expect(condition.message?.contains("no load-balancer provider") == true)
        #expect(status.loadBalancer?.ingress.isEmpty ?? true, "no address is made up")
        var marked = service
        marked.status = status
        #expect(ServiceLoadBalancing.desiredStatus(of: marked, now: Fixture.epoch) == nil, "written once")
        // Changed to ClusterIP: the condition goes.
        marked.spec?.type = "ClusterIP"
        #expect(ServiceLoadBalancing.desiredStatus(of: marked, now: Fixture.epoch)?.conditions == [])
    }

    @Test func servicesOfAnotherLoadBalancerClassAndPlainServicesAreLeftAlone() {
        var classed = Fixture.service(type: "LoadBalancer")
        classed.spec?.loadBalancerClass = "example.com/metal"
        #expect(ServiceLoadBalancing.desiredStatus(of: classed, now: Fixture.epoch) == nil)
        #expect(ServiceLoadBalancing.desiredStatus(of: Fixture.service(), now: Fixture.epoch) == nil)
    }
}

@Suite struct NamespaceTerminationTests {
    static func terminating() -> Namespace {
        var namespace = Namespace()
        namespace.metadata = Fixture.meta("shop", namespace: nil)
        namespace.metadata?.deletionTimestamp = ClusterTime.time(Fixture.epoch)
        namespace.spec = NamespaceSpec(finalizers: ["kubernetes"])
        namespace.status = NamespaceStatus(phase: "Terminating")
        return namespace
    }

    @Test func everyNamespacedKindIsClearedWorkloadsFirstEventsLast() {
        let kinds = NamespaceTermination.namespacedKinds
        #expect(Set(kinds) == Set(ResourceCatalog.all.filter(\.namespaced)))
        #expect(!kinds.contains(Namespace.resourceType) && !kinds.contains(Node.resourceType))
        let names = kinds.map(\.qualifiedName)
        #expect(names.firstIndex(of: "deployments.apps")! < names.firstIndex(of: "pods")!)
        #expect(names.firstIndex(of: "pods")! < names.firstIndex(of: "configmaps")!)
        #expect(names.last == "events")
    }

    @Test func conditionsReportRemainingContentAndFinalizers() throws {
        var report = NamespaceTermination.Report()
        report.remaining = ["pods": 2, "configmaps": 0, "deployments.apps": 1]
        report.finalizers = ["foregroundDeletion": 1]
        let status = try #require(NamespaceTermination.status(of: Self.terminating(), report: report, now: Fixture.epoch))
        let byType = Dictionary(uniqueKeysWithValues: status.conditions.map { ($0.type ?? "", $0) })
        #expect(status.phase == "Terminating")
        #expect(byType["NamespaceContentRemaining"]?.status == "True")
        #expect(byType["NamespaceContentRemaining"]?.message == "Some resources are remaining: deployments.apps has 1 resource instances, pods has 2 resource instances")
        #expect(byType["NamespaceFinalizersRemaining"]?.message == "Some content in the namespace has finalizers remaining: foregroundDeletion in 1 resource instances")
        #expect(byType["NamespaceDeletionContentFailure"]?.status == "False")
        // The same report again changes nothing.
        var namespace = Self.terminating()
        namespace.status = status
        #expect(NamespaceTermination.status(of: namespace, report: report, now: Fixture.epoch.addingTimeInterval(5)) == nil)
        // Emptied: the conditions flip, with new transition times.
        let done = try #require(NamespaceTermination.status(of: namespace, report: .init(), now: Fixture.epoch.addingTimeInterval(9)))
        let remaining = try #require(done.conditions.first { $0.type == "NamespaceContentRemaining" })
        #expect(remaining.status == "False" && remaining.reason == "ContentRemoved")
        #expect(remaining.lastTransitionTime == ClusterTime.time(Fixture.epoch.addingTimeInterval(9)))
    }

    @Test func failuresAreReported() throws {
        var report = NamespaceTermination.Report()
        report.failures = ["pods \"web\": (Forbidden) no"]
        let status = try #require(NamespaceTermination.status(of: Self.terminating(), report: report, now: Fixture.epoch))
        let failure = try #require(status.conditions.first { $0.type == "NamespaceDeletionContentFailure" })
        #expect(failure.status == "True")
        #expect(failure.message?.contains("pods \"web\"") == true)
    }

    @Test func finalizingRemovesOnlyTheKubernetesFinalizer() {
        var namespace = Self.terminating()
        namespace.spec?.finalizers.append("example.com/keep")
        #expect(NamespaceTermination.finalized(namespace).spec?.finalizers == ["example.com/keep"])
        #expect(NamespaceTermination.hasKubernetesFinalizer(namespace))
    }
}
