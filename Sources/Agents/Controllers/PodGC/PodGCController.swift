import Api
import Foundation
import Logging
import Synchronization

/// PodGCController force-deletes pods that nothing will ever finish (decisions in
/// `PodGarbageCollection`): pods bound to deleted nodes, pods evicted from dead nodes once their
/// grace period is over, terminating pods that were never scheduled, and finished pods above
/// `--terminated-pod-gc-threshold`. One pass over the pod cache per sync of its single key, run
/// every `--pod-gc-period`-like period (20 s, as Kubernetes), and sooner when a node turns
/// unready or disappears, or a pod on an unready node reaches its deletion deadline.
public final class PodGCController: Controller {
    public static let name = "podgc"
    static let key = "podgc"
    /// Deletions in flight at once.
    static let concurrency = 16

    let context: ControllerContext
    let loop: ReconcileLoop
    let pods: Informer<Pod>
    let nodes: Informer<Node>
    let period: TimeInterval
    let quarantine: TimeInterval
    let threshold: Int
    private let quarantined = Mutex(NodeQuarantine())

    public init(context: ControllerContext) {
        self.context = context
        loop = ReconcileLoop(name: Self.name, workers: 1, logger: context.logger)
        pods = context.informers.informer(Pod.self)
        nodes = context.informers.informer(Node.self)
        period = TimeInterval(context.cluster.podGCPeriodMilliseconds) / 1000
        quarantine = TimeInterval(context.cluster.podGCOrphanQuarantineMilliseconds) / 1000
        threshold = context.cluster.terminatedPodGCThreshold
        let (loop, quarantine) = (loop, quarantine)
        nodes.addEventHandler(
            Informer<Node>.EventHandler(
                onUpdate: { old, new in
                    if Self.readyStatus(old) != Self.readyStatus(new) && Self.readyStatus(new) != "True" { loop.enqueue(Self.key) }
                },
                onDelete: { _ in loop.enqueue(Self.key, afterSeconds: quarantine + 0.1) }))
        // A pod evicted from an unready node: look again when its grace period is over.
        let nodes = nodes
        let evicted: @Sendable (Pod) -> Void = { pod in
            guard let deletion = ClusterTime.date(pod.metadata?.deletionTimestamp), let node = pod.spec?.nodeName, !node.isEmpty,
                let ready = nodes.lister.get(name: node).map(Self.readyStatus), ready != "True"
            else { return }
            loop.enqueue(Self.key, afterSeconds: max(0, deletion.timeIntervalSinceNow) + 0.1)
        }
        pods.addEventHandler(
            Informer<Pod>.EventHandler(
                onUpdate: { old, new in
                    if old.metadata?.deletionTimestamp == nil { evicted(new) }
                }))
    }

    static func readyStatus(_ node: Node) -> String? {
        node.status?.conditions.first { $0.type == "Ready" }?.status
    }

    public func run() async {
        loop.enqueue(Self.key)
        await loop.run { key in try await self.sync(key) }
    }

    func sync(_ key: String) async throws(ApiError) {
        let now = Date()
        defer { loop.enqueue(Self.key, afterSeconds: period) }
        let cachedNodes = nodes.indexer.all()
        let existing = Set(cachedNodes.compactMap { $0.metadata?.name })
        let missing = PodGarbageCollection.missingNodes(boundTo: pods.indexer.indexValues(InformerIndexes.nodeName), existing: existing)
        let released = quarantined.withLock { $0.update(missing: missing, now: now, quarantine: quarantine) }
        var gone: Set<String> = []
        for name in released {
            do {
                _ = try await context.client.get(Node.self, name: name)
                quarantined.withLock { $0.clear(name) }
            } catch where error.code == 404 {
                gone.insert(name)
            }
        }
        if let release = quarantined.withLock({ $0.nextRelease(quarantine: quarantine) }), release > now {
            loop.enqueue(Self.key, afterSeconds: release.timeIntervalSince(now) + 0.1)
        }
        let plan = PodGarbageCollection.plan(
            pods: pods.indexer.all(), nodes: PodGarbageCollection.Nodes(cachedNodes, confirmedGone: gone), now: now,
            terminatedThreshold: threshold)
        if let next = plan.nextDeadline { loop.enqueue(Self.key, afterSeconds: next.timeIntervalSince(now) + 0.1) }
        guard !plan.deletions.isEmpty else { return }
        if let error = await delete(plan.deletions) { throw error }
    }

    /// Force-deletes (grace period 0, uid precondition) `deletions`, a few at a time; returns the
    /// first error other than 404.
    private func delete(_ deletions: [PodGarbageCollection.Deletion]) async -> ApiError? {
        let client = context.client
        let logger = context.logger
        return await withTaskGroup(of: ApiError?.self) { group in
            var next = 0
            var first: ApiError?
            func add() {
                guard next < deletions.count else { return }
                let deletion = deletions[next]
                next += 1
                group.addTask {
                    var request = ApiClient.request(Pod.self, namespace: deletion.namespace, name: deletion.name)
                    request.gracePeriodSeconds = 0
                    request.preconditionUid = deletion.uid
                    do throws(ApiError) {
                        _ = try await client.call("api.Delete", request)
                    } catch where error.code == 404 || error.code == 409 {
                        // Gone already, or a new pod of the same name: nothing to collect.
                        return nil
                    } catch {
                        return error
                    }
                    logger.info("podgc: force-deleted pod \(deletion.namespace)/\(deletion.name): \(Self.describe(deletion.reason))")
                    return nil
                }
            }
            for _ in 0..<Self.concurrency { add() }
            for await error in group {
                if first == nil { first = error }
                add()
            }
            return first
        }
    }

    static func describe(_ reason: PodGarbageCollection.Reason) -> String {
        switch reason {
        case .orphaned(let node): return "its node \(node) no longer exists"
        case .terminatingOnUnreadyNode(let node): return "its grace period ran out on the unready node \(node)"
        case .unscheduledTerminating: return "it is being deleted and was never scheduled"
        case .terminatedOverThreshold: return "it finished and terminated pods exceed --terminated-pod-gc-threshold"
        }
    }
}
