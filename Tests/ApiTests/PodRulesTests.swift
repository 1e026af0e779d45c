import Testing

@testable import Api

@Suite struct PodRulesTests {
    static func pod(_ resources: [(requests: [String: String], limits: [String: String])]) -> Pod {
        var spec = PodSpec()
        spec.containers = resources.enumerated().map { index, resource in
            var container = Container()
            container.name = "c\(index)"
            container.image = "busybox"
            var requirements = ResourceRequirements()
            requirements.requests = resource.requests.mapValues { Quantity(string: $0) }
            requirements.limits = resource.limits.mapValues { Quantity(string: $0) }
            container.resources = requirements
            return container
        }
        var pod = Pod()
        pod.spec = spec
        return pod
    }

    @Test func newPodsArePendingWithTheirQualityOfServiceClass() {
        var object: any KubernetesObject = Self.pod([(requests: [:], limits: [:])])
        PodRules.prepareForCreate(&object)
        #expect((object as? Pod)?.status?.phase == "Pending")
        #expect((object as? Pod)?.status?.qosClass == "BestEffort")
    }

    @Test func qualityOfServiceFollowsKubernetesRules() {
        // Limits alone: requests default to them.
        #expect(PodRules.qosClass(of: Self.pod([(requests: [:], limits: ["cpu": "500m", "memory": "1Gi"])]).spec!) == "Guaranteed")
        // Equal quantities written differently are equal.
        #expect(PodRules.qosClass(of: Self.pod([(requests: ["cpu": "0.5", "memory": "1024Mi"], limits: ["cpu": "500m", "memory": "1Gi"])]).spec!) == "Guaranteed")
        #expect(PodRules.qosClass(of: Self.pod([(requests: ["cpu": "100m"], limits: ["cpu": "500m", "memory": "1Gi"])]).spec!) == "Burstable")
        #expect(PodRules.qosClass(of: Self.pod([(requests: ["memory": "1Gi"], limits: [:])]).spec!) == "Burstable")
        // One container without limits makes the pod Burstable.
        #expect(PodRules.qosClass(of: Self.pod([
            (requests: [:], limits: ["cpu": "1", "memory": "1Gi"]), (requests: ["cpu": "1"], limits: [:]),
        ]).spec!) == "Burstable")
    }

    @Test func aStatusPhaseSentWithTheCreateIsKept() {
        var pod = Self.pod([(requests: [:], limits: [:])])
        pod.status = PodStatus(phase: "Running")
        var object: any KubernetesObject = pod
        PodRules.prepareForCreate(&object)
        #expect((object as? Pod)?.status?.phase == "Running")
    }
}
