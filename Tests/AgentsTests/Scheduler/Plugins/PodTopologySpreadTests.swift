import Api
import Testing

@testable import Agents

@Suite struct PodTopologySpreadTests {
    let plugin = PodTopologySpread()
    static let zone = "topology.kubernetes.io/zone"

    static func constraint(maxSkew: Int32, key: String = zone, hard: Bool = true) -> TopologySpreadConstraint {
        TopologySpreadConstraint(
            maxSkew: maxSkew, topologyKey: key, whenUnsatisfiable: hard ? "DoNotSchedule" : "ScheduleAnyway",
            labelSelector: LabelSelector(matchLabels: ["app": "web"]))
    }

    /// Zone a has 2 web pods, zone b 0; node-c has no zone label.
    func cluster() -> SchedulerCache {
        SchedulerFixtures.cache(
            nodes: [
                SchedulerFixtures.node("a1", labels: [Self.zone: "a"]), SchedulerFixtures.node("a2", labels: [Self.zone: "a"]),
                SchedulerFixtures.node("b1", labels: [Self.zone: "b"]), SchedulerFixtures.node("node-c"),
            ],
            pods: [
                SchedulerFixtures.pod("w1", labels: ["app": "web"], nodeName: "a1"), SchedulerFixtures.pod("w2", labels: ["app": "web"], nodeName: "a2"),
                SchedulerFixtures.pod("other-namespace", namespace: "shop", labels: ["app": "web"], nodeName: "b1"),
                SchedulerFixtures.pod("db", labels: ["app": "db"], nodeName: "b1"),
            ])
    }

    @Test func hardConstraintKeepsTheSkewWithinMaxSkew() {
        let cache = cluster()
        let pod = SchedulerFixtures.pod("w3", labels: ["app": "web"], spread: [Self.constraint(maxSkew: 1)])
        // Zone a would hold 3 against zone b's 0.
        let status = SchedulerFixtures.filter(plugin, pod, cache, node: "a1")
        #expect(status.code == .unschedulable)
        #expect(status.reasons == ["node(s) didn't match pod topology spread constraints"])
        #expect(SchedulerFixtures.filter(plugin, pod, cache, node: "b1").isSuccess)
        let missing = SchedulerFixtures.filter(plugin, pod, cache, node: "node-c")
        #expect(missing.code == .unschedulableAndUnresolvable)
        #expect(missing.reasons == ["node(s) didn't match pod topology spread constraints (missing required label)"])
        // maxSkew 3 tolerates it.
        let loose = SchedulerFixtures.pod("w3", labels: ["app": "web"], spread: [Self.constraint(maxSkew: 3)])
        #expect(SchedulerFixtures.filter(plugin, loose, cache, node: "a1").isSuccess)
    }

    @Test func nodeAffinityDecidesWhichDomainsCount() {
        let cache = cluster()
        // With only zone a eligible, its minimum is 2 and placing there is fine.
        let pod = SchedulerFixtures.pod("w3", labels: ["app": "web"], nodeSelector: [Self.zone: "a"], spread: [Self.constraint(maxSkew: 1)])
        #expect(SchedulerFixtures.filter(plugin, pod, cache, node: "a1").isSuccess)
    }

    @Test func softConstraintScoresEmptierDomainsHigher() throws {
        let cache = cluster()
        let pod = SchedulerFixtures.pod("w3", labels: ["app": "web"], spread: [Self.constraint(maxSkew: 1, hard: false)])
        #expect(SchedulerFixtures.filter(plugin, pod, cache, node: "a1").isSuccess)
        let scores = try #require(SchedulerFixtures.scores(plugin, pod, cache))
        #expect(scores["b1"]! > scores["a1"]!)
        #expect(scores["a1"] == scores["a2"])
        #expect(scores["node-c"] == 0)
    }
}

@Suite struct InterPodAffinityTests {
    let plugin = InterPodAffinity()
    static let zone = "topology.kubernetes.io/zone"

    func cluster(_ pods: [Pod]) -> SchedulerCache {
        SchedulerFixtures.cache(
            nodes: [SchedulerFixtures.node("a1", labels: [Self.zone: "a"]), SchedulerFixtures.node("b1", labels: [Self.zone: "b"])], pods: pods)
    }

    @Test func requiredAffinityNeedsAMatchingPodInTheDomain() {
        let cache = cluster([SchedulerFixtures.pod("cache", labels: ["app": "cache"], nodeName: "a1")])
        let pod = SchedulerFixtures.pod("web", affinity: Affinity(podAffinity: PodAffinity(
            requiredDuringSchedulingIgnoredDuringExecution: [SchedulerFixtures.term(["app": "cache"], topologyKey: Self.zone)])))
        #expect(SchedulerFixtures.filter(plugin, pod, cache, node: "a1").isSuccess)
        let status = SchedulerFixtures.filter(plugin, pod, cache, node: "b1")
        #expect(status.reasons == ["node(s) didn't match pod affinity rules"])
    }

    @Test func theFirstPodOfASelfAffineGroupMayGoAnywhere() {
        let cache = cluster([])
        let pod = SchedulerFixtures.pod("web", labels: ["app": "web"], affinity: Affinity(podAffinity: PodAffinity(
            requiredDuringSchedulingIgnoredDuringExecution: [SchedulerFixtures.term(["app": "web"], topologyKey: Self.zone)])))
        #expect(SchedulerFixtures.filter(plugin, pod, cache, node: "b1").isSuccess)
    }

    @Test func requiredAntiAffinityKeepsAwayFromMatchingPods() {
        let cache = cluster([SchedulerFixtures.pod("web-1", labels: ["app": "web"], nodeName: "a1")])
        let pod = SchedulerFixtures.pod("web-2", labels: ["app": "web"], affinity: Affinity(podAntiAffinity: PodAntiAffinity(
            requiredDuringSchedulingIgnoredDuringExecution: [SchedulerFixtures.term(["app": "web"], topologyKey: Self.zone)])))
        #expect(SchedulerFixtures.filter(plugin, pod, cache, node: "a1").reasons == ["node(s) didn't match pod anti-affinity rules"])
        #expect(SchedulerFixtures.filter(plugin, pod, cache, node: "b1").isSuccess)
    }

    @Test func existingPodsAntiAffinityIsRespected() {
        let loner = SchedulerFixtures.pod("loner", labels: ["app": "loner"], nodeName: "a1", affinity: Affinity(podAntiAffinity: PodAntiAffinity(
            requiredDuringSchedulingIgnoredDuringExecution: [SchedulerFixtures.term(["app": "noisy"], topologyKey: Self.zone)])))
        let cache = cluster([loner])
        let noisy = SchedulerFixtures.pod("noisy", labels: ["app": "noisy"])
        #expect(SchedulerFixtures.filter(plugin, noisy, cache, node: "a1").reasons == ["node(s) didn't satisfy existing pods anti-affinity rules"])
        #expect(SchedulerFixtures.filter(plugin, noisy, cache, node: "b1").isSuccess)
        // A pod the term does not select is not affected.
        #expect(SchedulerFixtures.filter(plugin, SchedulerFixtures.pod("quiet"), cache, node: "a1").isSuccess)
    }

    @Test func preferredTermsScoreTheirDomains() throws {
        let cache = cluster([SchedulerFixtures.pod("cache", labels: ["app": "cache"], nodeName: "b1")])
        let pod = SchedulerFixtures.pod("web", affinity: Affinity(podAffinity: PodAffinity(preferredDuringSchedulingIgnoredDuringExecution: [
            WeightedPodAffinityTerm(weight: 50, podAffinityTerm: SchedulerFixtures.term(["app": "cache"], topologyKey: Self.zone))
        ])))
        #expect(try #require(SchedulerFixtures.scores(plugin, pod, cache)) == ["a1": 0, "b1": 100])
    }
}
