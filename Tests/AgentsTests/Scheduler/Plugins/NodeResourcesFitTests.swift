import Api
import Testing

@testable import Agents

@Suite struct NodeResourcesFitTests {
    let plugin = NodeResourcesFit()

    @Test func fitsWhenRequestsLeaveRoomAndRejectsWithEveryShortResource() {
        let busy = SchedulerFixtures.pod("busy", cpu: "3", memory: "15Gi", nodeName: "n1")
        let cache = SchedulerFixtures.cache(nodes: [SchedulerFixtures.node("n1", cpu: "4", memory: "16Gi")], pods: [busy])
        #expect(SchedulerFixtures.filter(plugin, SchedulerFixtures.pod("small", cpu: "1", memory: "1Gi"), cache, node: "n1").isSuccess)
        let status = SchedulerFixtures.filter(plugin, SchedulerFixtures.pod("big", cpu: "1500m", memory: "2Gi"), cache, node: "n1")
        #expect(status.code == .unschedulable)
        #expect(status.reasons == ["Insufficient cpu", "Insufficient memory"])
    }

    @Test func countsPodsAgainstAllocatablePods() {
        let cache = SchedulerFixtures.cache(
            nodes: [SchedulerFixtures.node("n1", pods: "2")],
            pods: [SchedulerFixtures.pod("a", nodeName: "n1"), SchedulerFixtures.pod("b", nodeName: "n1")])
        #expect(SchedulerFixtures.filter(plugin, SchedulerFixtures.pod("c"), cache, node: "n1").reasons == ["Too many pods"])
    }

    @Test func extendedResourcesAreChecked() {
        var pod = SchedulerFixtures.pod("gpu")
        pod.spec!.containers[0].resources = ResourceRequirements(requests: ["example.com/gpu": Quantity("1")])
        let cache = SchedulerFixtures.cache(nodes: [SchedulerFixtures.node("n1")])
        #expect(SchedulerFixtures.filter(plugin, pod, cache, node: "n1").reasons == ["Insufficient example.com/gpu"])
    }

    @Test func leastAllocatedPrefersTheEmptierNode() throws {
        let cache = SchedulerFixtures.cache(
            nodes: [SchedulerFixtures.node("empty"), SchedulerFixtures.node("half")],
            pods: [SchedulerFixtures.pod("load", cpu: "2", memory: "8Gi", nodeName: "half")])
        let scores = try #require(SchedulerFixtures.scores(plugin, SchedulerFixtures.pod("new", cpu: "1", memory: "4Gi"), cache))
        // empty: (4-1)/4 and (16-4)/16 → 75; half: (4-3)/4 and (16-12)/16 → 25.
        #expect(scores == ["empty": 75, "half": 25])
    }

    @Test func podsWithoutRequestsCountAsDefaultRequestsWhenScoring() throws {
        let cache = SchedulerFixtures.cache(nodes: [SchedulerFixtures.node("n1", cpu: "1", memory: "1Gi")])
        let scores = try #require(SchedulerFixtures.scores(plugin, SchedulerFixtures.pod("bare"), cache))
        // 100m of 1000m free → 90; 200Mi of 1Gi → (1024-200)/1024 → 80; average 85.
        #expect(scores == ["n1": 85])
    }
}

@Suite struct PodRequestsTests {
    @Test func initContainersCountByTheirMaximumAndSidecarsAddUp() throws {
        var pod = SchedulerFixtures.pod("p", cpu: "500m", memory: "100Mi")
        var initBig = Container()
        initBig.name = "migrate"
        initBig.resources = ResourceRequirements(requests: ["cpu": Quantity("2"), "memory": Quantity("50Mi")])
        var sidecar = Container()
        sidecar.name = "proxy"
        sidecar.restartPolicy = "Always"
        sidecar.resources = ResourceRequirements(requests: ["cpu": Quantity("100m"), "memory": Quantity("10Mi")])
        pod.spec!.initContainers = [sidecar, initBig]
        pod.spec!.overhead = ["cpu": Quantity("10m")]
        let result = try PodRequests.of(pod.spec!)
        // CPU: max(500m + 100m sidecar, 100m sidecar + 2 init) + 10m overhead.
        #expect(result.requests.milliCPU == 2110)
        // Memory: max(100Mi + 10Mi, 10Mi + 50Mi).
        #expect(result.requests.memory == 110 * 1024 * 1024)
    }

    @Test func limitsStandInForMissingRequests() throws {
        var pod = SchedulerFixtures.pod("p")
        pod.spec!.containers[0].resources = ResourceRequirements(limits: ["cpu": Quantity("1"), "memory": Quantity("1Gi")])
        let result = try PodRequests.of(pod.spec!)
        #expect(result.requests.milliCPU == 1000)
        #expect(result.requests.memory == 1 << 30)
    }

    @Test func aQuantityThatDoesNotParseNamesItsField() {
        var pod = SchedulerFixtures.pod("p")
        pod.spec!.containers[0].resources = ResourceRequirements(requests: ["cpu": Quantity("lots")])
        #expect(PodInfo(pod).problem?.contains("spec.containers[0].resources.requests[cpu]") == true)
    }
}
