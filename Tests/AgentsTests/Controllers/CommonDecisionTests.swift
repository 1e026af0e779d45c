import Api
import Testing

@testable import Agents

@Suite struct CommonDecisionTests {
    @Test("percentages scale like Kubernetes: up or down as asked; bad strings are a SpecError naming the field")
    func intOrPercent() throws {
        #expect(try IntOrPercent.scaled(IntOrPercent.percent("25%"), default: IntOrPercent.count(0), total: 10, roundUp: true, field: "f") == 3)
        #expect(try IntOrPercent.scaled(IntOrPercent.percent("25%"), default: IntOrPercent.count(0), total: 10, roundUp: false, field: "f") == 2)
        #expect(try IntOrPercent.scaled(nil, default: IntOrPercent.percent("100%"), total: 7, roundUp: false, field: "f") == 7)
        #expect(try IntOrPercent.scaled(IntOrPercent.count(4), default: IntOrPercent.count(0), total: 1, roundUp: false, field: "f") == 4)
        #expect(throws: SpecError.self) {
            try IntOrPercent.scaled(IntOrPercent.percent("a lot"), default: IntOrPercent.count(0), total: 1, roundUp: false, field: "spec.x")
        }
        do {
            _ = try IntOrPercent.scaled(IntOrPercent.percent("-5%"), default: IntOrPercent.count(0), total: 1, roundUp: false, field: "spec.x")
        } catch {
            #expect(error.field == "spec.x" && error.message.contains("\"-5%\""))
        }
    }

    @Test("template hashes are stable, use the name alphabet, and change with the template or the collision count")
    func templateHash() {
        let template = Fixtures.template(["app": "web"])
        let hash = TemplateHash.of(template)
        #expect(hash == TemplateHash.of(Fixtures.template(["app": "web"])))
        #expect(hash.allSatisfy { "bcdfghjklmnpqrstvwxz2456789".contains($0) })
        #expect(hash != TemplateHash.of(Fixtures.template(["app": "web"], image: "web:2")))
        #expect(hash != TemplateHash.of(template, collisionCount: 1))
        // FNV-1a 32 of "a" is 0xe40c292c.
        #expect(TemplateHash.fnv1a32(Array("a".utf8)) == 0xE40C_292C)
        // Digits map to "4"…"9", "b"…"f", as in Kubernetes hashes such as "5d4f8b9c7".
        #expect(TemplateHash.safeEncode("0123456789") == "456789bcdf")
    }

    @Test("slow start batches double from 1 and add up to the count")
    func slowStartBatches() async {
        #expect(SlowStart.batches(count: 0) == [])
        #expect(SlowStart.batches(count: 1) == [1])
        #expect(SlowStart.batches(count: 10) == [1, 2, 4, 3])
        #expect(SlowStart.batches(count: 500).reduce(0, +) == 500)
        // A failure in a batch stops the later batches.
        let result = await SlowStart.run(count: 10) { index throws(ApiError) in
            if index == 2 { throw ApiError.forbidden("u", verb: "create", type: Pod.resourceType, resourceName: "", namespace: "ns") }
        }
        #expect(result.succeeded == 2 && result.error?.code == 403, "batches [1], [2 with one failure]: later batches not tried")
    }

    @Test("pods to delete: unscheduled, then pending, then not ready, then crowded nodes, then recently ready, restarts, newest")
    func deletionRanking() {
        let now = Fixtures.now
        let unscheduled = Fixtures.pod("unscheduled", phase: "Pending", ready: false, node: "")
        let pending = Fixtures.pod("pending", phase: "Pending", ready: false)
        let notReady = Fixtures.pod("not-ready", ready: false)
        let crowdedA = Fixtures.pod("crowded-a", node: "busy", created: now - 500)
        let crowdedB = Fixtures.pod("crowded-b", node: "busy", created: now - 600)
        let recent = Fixtures.pod("recent", readySince: now - 10, node: "n-2")
        let restarted = Fixtures.pod("restarted", node: "n-3", restarts: 4)
        let old = Fixtures.pod("old", node: "n-4", created: now - 9000)
        let order = PodRanking.ordered(
            [old, restarted, recent, crowdedB, crowdedA, notReady, pending, unscheduled],
            related: [old, restarted, recent, crowdedB, crowdedA, notReady, pending, unscheduled], now: now)
        #expect(order.map { $0.metadata?.name ?? "" } == [
            "unscheduled", "pending", "not-ready", "crowded-a", "crowded-b", "recent", "restarted", "old",
        ])
    }

    @Test("claims: own matching, adopt matching orphans, release non-matching, ignore others' and terminating orphans")
    func claims() throws {
        let selector = try ParsedLabelSelector(parsing: "app=web")
        let mine = Fixtures.ownerReference(kind: "ReplicaSet", name: "web", uid: "me")
        let theirs = Fixtures.ownerReference(kind: "ReplicaSet", name: "other", uid: "them")
        func decide(_ pod: Pod, deleting: Bool = false) -> Claims.Decision {
            Claims.decide(pod, ownerUID: "me", selector: selector, ownerDeleting: deleting)
        }
        #expect(decide(Fixtures.pod("a", labels: ["app": "web"], owner: mine)) == .own)
        #expect(decide(Fixtures.pod("b", labels: ["app": "db"], owner: mine)) == .release)
        #expect(decide(Fixtures.pod("b", labels: ["app": "db"], owner: mine), deleting: true) == .ignore)
        #expect(decide(Fixtures.pod("c", labels: ["app": "web"])) == .adopt)
        #expect(decide(Fixtures.pod("c", labels: ["app": "web"]), deleting: true) == .ignore)
        #expect(decide(Fixtures.pod("d", labels: ["app": "web"], terminating: true)) == .ignore)
        #expect(decide(Fixtures.pod("e", labels: ["app": "web"], owner: theirs)) == .ignore)
        #expect(decide(Fixtures.pod("f", labels: ["app": "db"])) == .ignore)
        var owner = ReplicaSet(metadata: ObjectMeta(name: "web", namespace: "ns"))
        owner.metadata?.uid = "me"
        let adopted = Claims.adopted(Fixtures.pod("c", labels: ["app": "web"]), by: owner)
        #expect(ControllerRef.of(adopted)?.uid == "me" && ControllerRef.of(adopted)?.kind == "ReplicaSet")
        #expect(ControllerRef.of(adopted)?.apiVersion == "apps/v1" && ControllerRef.of(adopted)?.blockOwnerDeletion == true)
        #expect(Claims.released(adopted, ownerUID: "me").metadata?.ownerReferences.isEmpty == true)
    }

    @Test("node selector, required affinity (In, NotIn, Exists, DoesNotExist, Gt, Lt, matchFields) and tolerations")
    func nodeEligibility() {
        let node = Fixtures.node("n-1", labels: ["zone": "a", "cores": "8", "ssd": "true"])
        func spec(_ selector: [String: String] = [:], _ expressions: [NodeSelectorRequirement] = [], fields: [NodeSelectorRequirement] = []) -> PodSpec {
            var spec = PodSpec()
            spec.nodeSelector = selector
            if !expressions.isEmpty || !fields.isEmpty {
                spec.affinity = Affinity(nodeAffinity: NodeAffinity(requiredDuringSchedulingIgnoredDuringExecution: NodeSelector(
                    nodeSelectorTerms: [NodeSelectorTerm(matchExpressions: expressions, matchFields: fields)])))
            }
            return spec
        }
        #expect(NodeEligibility.matchesNodeSelectorAndAffinity(spec(["zone": "a"]), node: node))
        #expect(!NodeEligibility.matchesNodeSelectorAndAffinity(spec(["zone": "b"]), node: node))
        #expect(NodeEligibility.matchesNodeSelectorAndAffinity(spec([:], [NodeSelectorRequirement(key: "zone", operator: "In", values: ["a", "c"])]), node: node))
        #expect(!NodeEligibility.matchesNodeSelectorAndAffinity(spec([:], [NodeSelectorRequirement(key: "zone", operator: "NotIn", values: ["a"])]), node: node))
        #expect(NodeEligibility.matchesNodeSelectorAndAffinity(spec([:], [NodeSelectorRequirement(key: "gpu", operator: "DoesNotExist")]), node: node))
        #expect(NodeEligibility.matchesNodeSelectorAndAffinity(spec([:], [NodeSelectorRequirement(key: "cores", operator: "Gt", values: ["4"])]), node: node))
        #expect(!NodeEligibility.matchesNodeSelectorAndAffinity(spec([:], [NodeSelectorRequirement(key: "cores", operator: "Lt", values: ["4"])]), node: node))
        #expect(NodeEligibility.matchesNodeSelectorAndAffinity(
            spec(fields: [NodeSelectorRequirement(key: "metadata.name", operator: "In", values: ["n-1"])]), node: node))
        #expect(!NodeEligibility.matchesNodeSelectorAndAffinity(
            spec(fields: [NodeSelectorRequirement(key: "metadata.name", operator: "In", values: ["n-2"])]), node: node))

        let taint = Taint(key: "dedicated", value: "db", effect: "NoSchedule")
        #expect(NodeEligibility.tolerates(Toleration(key: "dedicated", operator: "Equal", value: "db", effect: "NoSchedule"), taint))
        #expect(!NodeEligibility.tolerates(Toleration(key: "dedicated", operator: "Equal", value: "web"), taint))
        #expect(NodeEligibility.tolerates(Toleration(key: "dedicated", operator: "Exists"), taint))
        #expect(NodeEligibility.tolerates(Toleration(operator: "Exists"), taint), "an empty key with Exists tolerates everything")
        #expect(!NodeEligibility.tolerates(Toleration(key: "dedicated", operator: "Exists", effect: "NoExecute"), taint))
        #expect(NodeEligibility.untoleratedTaint([taint], tolerations: [], effects: ["NoExecute"]) == nil)
        #expect(NodeEligibility.untoleratedTaint([taint], tolerations: [], effects: ["NoSchedule"]) == taint)
    }
}
