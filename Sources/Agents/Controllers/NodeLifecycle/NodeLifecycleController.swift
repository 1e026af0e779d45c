import Api
import Logging
import Foundation
import Synchronization

/// NodeLifecycleController watches Nodes and their Leases in kube-node-lease: a node silent
/// for the grace period gets Unknown conditions, the unreachable taints and its pods marked not
/// ready; a node that reports again loses the taints; pods on a node with NoExecute taints are
/// deleted once their tolerations run out (decisions in `NodeLifecycle`). One key per node.
public final class NodeLifecycleController: Controller {
    public static let name = "node-lifecycle"

    let context: ControllerContext
    let loop: ReconcileLoop
    let nodes: Informer<Node>
    let leases: Informer<Lease>
    let pods: Informer<Pod>
    let events: EventRecorder
    let gracePeriod: TimeInterval
    private let heartbeats = Mutex(NodeHeartbeats())

    public init(context: ControllerContext) {
        self.context = context
        loop = ReconcileLoop(name: Self.name, workers: context.workers, logger: context.logger)
        nodes = context.informers.informer(Node.self)
        leases = context.informers.informer(Lease.self)
        pods = context.informers.informer(Pod.self)
        events = context.events("node-controller")
        gracePeriod = TimeInterval(context.cluster.nodeMonitorGracePeriodMilliseconds) / 1000
        nodes.addEventHandler(loop.objectHandler(Node.self))
        leases.addEventHandler(
            Informer<Lease>.EventHandler(
                onAdd: { [loop] lease in Self.enqueueNode(of: lease, loop) },
                onUpdate: { [loop] _, lease in Self.enqueueNode(of: lease, loop) },
                onDelete: { [loop] lease in Self.enqueueNode(of: lease, loop) }))
        // A pod placed on a node that carries NoExecute taints must be judged too.
        let enqueueTaintedNode: @Sendable (Pod) -> Void = { [loop, nodes] pod in
            guard let nodeName = pod.spec?.nodeName, !nodeName.isEmpty, pod.metadata?.deletionTimestamp == nil,
                let node = nodes.lister.get(name: nodeName),
                node.spec?.taints.contains(where: { $0.effect == NodeLifecycle.noExecute }) == true
                    || node.status?.conditions.contains(where: { $0.type == "Ready" && $0.status != "True" }) == true
            else { return }
            loop.enqueue(nodeName)
        }
        pods.addEventHandler(
            Informer<Pod>.EventHandler(onAdd: enqueueTaintedNode, onUpdate: { _, pod in enqueueTaintedNode(pod) }))
    }

    static func enqueueNode(of lease: Lease, _ loop: ReconcileLoop) {
        guard lease.metadata?.namespace == NodeLifecycle.leaseNamespace, let name = lease.metadata?.name else { return }
        loop.enqueue(name)
    }

    public func run() async {
        await loop.run { key in try await self.sync(key) }
    }

    func sync(_ name: String) async throws(ApiError) {
        guard var node = nodes.lister.get(name: name) else {
            heartbeats.withLock { $0.forget(name) }
            return
        }
        let lease = leases.lister.get(namespace: NodeLifecycle.leaseNamespace, name: name)
        let now = Date()
        let lastHeartbeat = heartbeats.withLock { $0.observe(node: node, lease: lease, now: now) }
        let assessment = NodeLifecycle.assess(node: node, lastHeartbeat: lastHeartbeat, now: now, gracePeriod: gracePeriod)
        if let conditions = assessment.conditions {
            var status = node.status ?? NodeStatus()
            status.conditions = conditions
            node.status = status
            node = try await context.client.updateStatus(node)
            context.logger.info("node \(name): no heartbeat for \(Int(gracePeriod)) s; Ready is now \(assessment.readyStatus ?? "")")
            events.record(node, .normal, reason: "NodeNotReady", message: "Node \(name) status is now: NodeNotReady")
        }
        if let taints = assessment.taints {
            var spec = node.spec ?? NodeSpec()
            spec.taints = taints
            node.spec = spec
            node = try await context.client.update(node)
        }
        if let recheck = assessment.recheckAt {
            loop.enqueue(name, afterSeconds: recheck.timeIntervalSince(now) + 0.05)
        }
        let onNode = pods.indexer.byIndex(InformerIndexes.nodeName, name)
        if let ready = assessment.readyStatus, ready != "True" {
            try await markNotReady(onNode, now: now)
        }
        try await evict(onNode, taints: node.spec?.taints ?? [], nodeName: name, now: now)
    }

    private func markNotReady(_ pods: [Pod], now: Date) async throws(ApiError) {
        for var pod in pods {
            guard let status = NodeLifecycle.notReadyStatus(of: pod, now: now) else { continue }
            pod.status = status
            do {
                _ = try await context.client.updateStatus(pod)
            } catch where error.code == 404 {
                continue
            }
            events.record(pod, .warning, reason: "NodeNotReady", message: "Node is not ready")
        }
    }

    private func evict(_ pods: [Pod], taints: [Taint], nodeName: String, now: Date) async throws(ApiError) {
        guard taints.contains(where: { $0.effect == NodeLifecycle.noExecute }) else { return }
        for pod in pods {
            switch NodeLifecycle.eviction(of: pod, taints: taints, now: now) {
            case .keep:
                continue
            case .at(let deadline):
                loop.enqueue(nodeName, afterSeconds: deadline.timeIntervalSince(now) + 0.05)
            case .now:
                let namespace = pod.metadata?.namespace ?? ""
                let podName = pod.metadata?.name ?? ""
                try await context.client.delete(
                    Pod.resourceType, namespace: namespace, name: podName, uid: pod.metadata?.uid, propagationPolicy: nil)
                let tolerated = taints.contains { taint in (pod.spec?.tolerations ?? []).contains { NodeLifecycle.tolerates($0, taint) } }
                let why = tolerated ? "its toleration of the NoExecute taints ran out" : "it does not tolerate the NoExecute taints"
                context.logger.info("node \(nodeName): evicted pod \(namespace)/\(podName): \(why)")
                events.record(pod, .normal, reason: "TaintManagerEviction", message: "Marking for deletion Pod \(namespace)/\(podName)")
            }
        }
    }
}
