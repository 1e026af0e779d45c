import Api
import Testing

@testable import Agents

@Suite struct DaemonSetDecisionsTests {
    let now = Fixtures.now

    func daemonSet(nodeSelector: [String: String] = [:], maxUnavailable: IntOrString? = nil, maxSurge: IntOrString? = nil) -> DaemonSet {
        var meta = ObjectMeta(name: "agent", namespace: "ns")
        meta.uid = "ds-uid"
        meta.generation = 1
        var spec = DaemonSetSpec()
        spec.selector = LabelSelector(matchLabels: ["app": "agent"])
        spec.template = Fixtures.template(["app": "agent"])
        spec.template?.spec?.nodeSelector = nodeSelector
        spec.updateStrategy = DaemonSetUpdateStrategy(
            type: "RollingUpdate", rollingUpdate: RollingUpdateDaemonSet(maxUnavailable: maxUnavailable, maxSurge: maxSurge))
        return DaemonSet(metadata: meta, spec: spec)
    }

    func pod(_ name: String, on node: String, hash: String, ready: Bool = true, created: Double? = nil, phase: String = "Running") -> Pod {
        Fixtures.pod(
            name, labels: ["app": "agent", DaemonSetDecisions.revisionHashLabel: hash], phase: phase, ready: ready, node: node,
            created: created ?? now - 100, owner: ControllerRef.to(daemonSet()))
    }

    @Test("eligibility: selector and affinity must match; untolerated NoSchedule keeps new pods off, NoExecute evicts; not-ready and unreachable are tolerated")
    func shouldRun() {
        let set = daemonSet(nodeSelector: ["role": "worker"])
        let template = DaemonSetDecisions.podTemplate(set, hash: "h")
        func check(_ node: Node) -> (Bool, Bool) {
            let answer = DaemonSetDecisions.shouldRun(set, on: node, template: template)
            return (answer.run, answer.keepRunning)
        }
        #expect(check(Fixtures.node("a", labels: ["role": "worker"])) == (true, true))
        #expect(check(Fixtures.node("b", labels: ["role": "edge"])) == (false, false))
        #expect(check(Fixtures.node("c", labels: ["role": "worker"], taints: [Taint(key: "db", effect: "NoSchedule")])) == (false, true))
        #expect(check(Fixtures.node("d", labels: ["role": "worker"], taints: [Taint(key: "db", effect: "NoExecute")])) == (false, false))
        #expect(check(Fixtures.node("e", labels: ["role": "worker"], taints: [
            Taint(key: "node.kubernetes.io/not-ready", effect: "NoExecute"), Taint(key: "node.kubernetes.io/unschedulable", effect: "NoSchedule"),
        ])) == (true, true))
    }

    @Test("daemon pods carry the revision label, the default tolerations, and required affinity to exactly their node")
    func podForNode() {
        var set = daemonSet()
        set.spec?.template?.spec?.affinity = Affinity(nodeAffinity: NodeAffinity(requiredDuringSchedulingIgnoredDuringExecution: NodeSelector(
            nodeSelectorTerms: [NodeSelectorTerm(matchExpressions: [NodeSelectorRequirement(key: "zone", operator: "In", values: ["a"])])])))
        let template = DaemonSetDecisions.podTemplate(set, hash: "h1")
        let pod = DaemonSetDecisions.pod(set, template: template, node: "node-7")
        #expect(pod.metadata?.labels[DaemonSetDecisions.revisionHashLabel] == "h1")
        #expect(pod.metadata?.generateName == "agent-")
        let terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []
        #expect(terms == [NodeSelectorTerm(matchFields: [NodeSelectorRequirement(key: "metadata.name", operator: "In", values: ["node-7"])])])
        #expect(DaemonSetDecisions.targetNode(pod) == "node-7")
        let keys = Set(pod.spec?.tolerations.compactMap(\.key) ?? [])
        #expect(keys.isSuperset(of: ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable", "node.kubernetes.io/unschedulable"]))
        #expect(!keys.contains("node.kubernetes.io/network-unavailable"), "only for host-network pods")
        var bound = pod
        bound.spec?.nodeName = "node-8"
        #expect(DaemonSetDecisions.targetNode(bound) == "node-8")
    }

    @Test("manage: create where missing, keep the oldest of duplicates, delete finished pods, evicted pods and pods of vanished nodes")
    func manage() {
        let set = daemonSet()
        let hash = "h"
        let nodes = [
            Fixtures.node("a"), Fixtures.node("b"), Fixtures.node("c"),
            Fixtures.node("d", taints: [Taint(key: "db", effect: "NoExecute")]),
            Fixtures.node("e", taints: [Taint(key: "db", effect: "NoSchedule")]),
            Fixtures.node("f"),
        ]
        let older = pod("b-old", on: "b", hash: hash, created: now - 500)
        let newer = pod("b-new", on: "b", hash: hash, created: now - 50)
        let evicted = pod("d-1", on: "d", hash: hash)
        let kept = pod("e-1", on: "e", hash: hash)
        let vanished = pod("z-1", on: "z", hash: hash)
        let failed = pod("f-1", on: "f", hash: hash, phase: "Failed")
        let podsByNode = DaemonSetDecisions.podsByNode([pod("a-1", on: "a", hash: hash), older, newer, evicted, kept, vanished, failed])
        let plan = DaemonSetDecisions.manage(set, nodes: nodes, podsByNode: podsByNode, hash: hash, surge: 0, now: now)
        #expect(plan.createOn == ["c"])
        #expect(Set(plan.delete.compactMap { $0.metadata?.name }) == ["b-new", "d-1", "z-1", "f-1"])
    }

    @Test("rolling update without surge: old pods go while at most maxUnavailable nodes lack an available pod; unavailable old pods go at once")
    func rollingUpdate() throws {
        let set = daemonSet(maxUnavailable: IntOrPercent.count(1))
        let nodes = ["a", "b", "c"].map { Fixtures.node($0) }
        let allOld = DaemonSetDecisions.podsByNode(["a", "b", "c"].map { pod("\($0)-old", on: $0, hash: "old") })
        let first = try DaemonSetDecisions.rollingUpdate(set, nodes: nodes, podsByNode: allOld, hash: "new", now: now)
        #expect(first.delete.map { $0.metadata?.name } == ["a-old"] && first.createOn.isEmpty)

        // a has its new pod but it is not ready yet: the budget is spent.
        var waiting = allOld
        waiting["a"] = [pod("a-new", on: "a", hash: "new", ready: false)]
        #expect(try DaemonSetDecisions.rollingUpdate(set, nodes: nodes, podsByNode: waiting, hash: "new", now: now).delete.isEmpty)

        // An old pod that is not available anyway is replaced regardless of the budget.
        waiting["c"] = [pod("c-old", on: "c", hash: "old", ready: false)]
        #expect(try DaemonSetDecisions.rollingUpdate(set, nodes: nodes, podsByNode: waiting, hash: "new", now: now).delete.map { $0.metadata?.name } == ["c-old"])

        // 50% of 3 rounds up to 2 for daemon sets.
        let wide = daemonSet(maxUnavailable: IntOrPercent.percent("50%"))
        #expect(try DaemonSetDecisions.rollingUpdate(wide, nodes: nodes, podsByNode: allOld, hash: "new", now: now).delete.count == 2)
    }

    @Test("rolling update with surge: a new pod starts beside the old one on maxSurge nodes; the old one goes when the new one is available")
    func rollingUpdateWithSurge() throws {
        let set = daemonSet(maxUnavailable: IntOrPercent.count(0), maxSurge: IntOrPercent.count(1))
        let nodes = ["a", "b"].map { Fixtures.node($0) }
        var podsByNode = DaemonSetDecisions.podsByNode(["a", "b"].map { pod("\($0)-old", on: $0, hash: "old") })
        let start = try DaemonSetDecisions.rollingUpdate(set, nodes: nodes, podsByNode: podsByNode, hash: "new", now: now)
        #expect(start.createOn == ["a"] && start.delete.isEmpty)
        podsByNode["a"]?.append(pod("a-new", on: "a", hash: "new", ready: false, created: now - 1))
        #expect(try DaemonSetDecisions.rollingUpdate(set, nodes: nodes, podsByNode: podsByNode, hash: "new", now: now).isEmpty, "surge spent")
        podsByNode["a"] = [pod("a-old", on: "a", hash: "old"), pod("a-new", on: "a", hash: "new", ready: true, created: now - 1)]
        let next = try DaemonSetDecisions.rollingUpdate(set, nodes: nodes, podsByNode: podsByNode, hash: "new", now: now)
        #expect(next.delete.map { $0.metadata?.name } == ["a-old"] && next.createOn == ["b"])
        // manage keeps both pods of a surging node while the new one is not available.
        podsByNode["a"] = [pod("a-old", on: "a", hash: "old"), pod("a-new", on: "a", hash: "new", ready: false, created: now - 1)]
        #expect(DaemonSetDecisions.manage(set, nodes: nodes, podsByNode: podsByNode, hash: "new", surge: 1, now: now).isEmpty)
    }

    @Test("status counts desired, current, misscheduled, ready, available and updated nodes")
    func status() {
        let set = daemonSet(nodeSelector: ["role": "worker"])
        let nodes = [
            Fixtures.node("a", labels: ["role": "worker"]), Fixtures.node("b", labels: ["role": "worker"]),
            Fixtures.node("c", labels: ["role": "worker"]), Fixtures.node("d"),
        ]
        let podsByNode = DaemonSetDecisions.podsByNode([
            pod("a-1", on: "a", hash: "new"), pod("b-1", on: "b", hash: "old", ready: false), pod("d-1", on: "d", hash: "new"),
        ])
        let status = DaemonSetDecisions.status(set, nodes: nodes, podsByNode: podsByNode, hash: "new", now: now)
        #expect(status.desiredNumberScheduled == 3 && status.currentNumberScheduled == 2 && status.numberMisscheduled == 1)
        #expect(status.numberReady == 1 && status.numberAvailable == 1 && status.numberUnavailable == 2)
        #expect(status.updatedNumberScheduled == 1 && status.observedGeneration == 1)
    }
}
