import Api
import Foundation
import Synchronization

/// ResourceQuotaController keeps every ResourceQuota's `status.hard` and `status.used` current
/// (decisions in `QuotaUsage`): on every change of the quota or of what it counts in its
/// namespace, and every `--resource-quota-sync-period`. The ResourceQuota admission plugin
/// refuses creates that a quota limits until this controller has counted it, so quotas work
/// only with it. Kinds counted only through `count/<resource>` are watched from the first
/// quota that names them. One key per quota.
///
/// The API server raises a quota's usage in the transaction of every create it admits; this
/// controller lowers it (after deletions) only from caches that have seen that quota's
/// version, since a cache that missed a just-admitted object would count one unit too few and
/// let it be handed out twice.
public final class ResourceQuotaController: Controller {
    public static let name = "resourcequota"

    let context: ControllerContext
    let loop: ReconcileLoop
    let quotas: Informer<ResourceQuota>
    let pods: Informer<Pod>
    let services: Informer<Service>
    let claims: Informer<PersistentVolumeClaim>
    /// Informers of the other counted kinds, by kind; grows as quotas name new kinds.
    private let counted = Mutex<[ResourceType: MetadataInformer]>([:])

    public init(context: ControllerContext) {
        self.context = context
        loop = ReconcileLoop(name: Self.name, workers: context.workers, logger: context.logger)
        quotas = context.informers.informer(ResourceQuota.self)
        pods = context.informers.informer(Pod.self)
        services = context.informers.informer(Service.self)
        claims = context.informers.informer(PersistentVolumeClaim.self)
        quotas.addEventHandler(loop.objectHandler(ResourceQuota.self))
        pods.addEventHandler(namespaceHandler(Pod.self))
        services.addEventHandler(namespaceHandler(Service.self))
        claims.addEventHandler(namespaceHandler(PersistentVolumeClaim.self))
        for type in [ConfigMap.resourceType, Secret.resourceType, ReplicationController.resourceType, ResourceQuota.resourceType] {
            _ = informer(of: type)
        }
    }

    /// Enqueues the quotas of the namespace of whatever changed.
    private func namespaceHandler<Object: KubernetesObject>(_ type: Object.Type) -> Informer<Object>.EventHandler {
        let enqueue: @Sendable (Object) -> Void = { [loop, quotas] object in
            Self.enqueueQuotas(in: object.metadata?.namespace ?? "", quotas: quotas, loop: loop)
        }
        return Informer<Object>.EventHandler(onAdd: enqueue, onUpdate: { _, new in enqueue(new) }, onDelete: enqueue)
    }

    static func enqueueQuotas(in namespace: String, quotas: Informer<ResourceQuota>, loop: ReconcileLoop) {
        for quota in quotas.indexer.byIndex(InformerIndexes.namespace, namespace) { loop.enqueue(quota) }
    }

    /// The newest store revision the cache counting `type` has seen.
    private func revision(of type: ResourceType, _ informers: [ResourceType: MetadataInformer]) -> Int64 {
        switch type {
        case Pod.resourceType: return Int64(pods.lastSyncResourceVersion) ?? 0
        case Service.resourceType: return Int64(services.lastSyncResourceVersion) ?? 0
        case PersistentVolumeClaim.resourceType: return Int64(claims.lastSyncResourceVersion) ?? 0
        default: return informers[type]?.revision() ?? 0
        }
    }

    /// The metadata informer counting `type`, made (and started) on first use.
    private func informer(of type: ResourceType) -> MetadataInformer {
        if let existing = counted.withLock({ $0[type] }) { return existing }
        let informer = AnyKind.of(type).informer(context.informers)
        let inserted = counted.withLock { counted -> Bool in
            guard counted[type] == nil else { return false }
            counted[type] = informer
            return true
        }
        if inserted {
            let enqueue: @Sendable (ObjectMeta) -> Void = { [loop, quotas] meta in
                Self.enqueueQuotas(in: meta.namespace ?? "", quotas: quotas, loop: loop)
            }
            informer.addHandler({ _, meta in enqueue(meta) }, enqueue)
        }
        return counted.withLock { $0[type]! }
    }

    public func run() async {
        let period = Double(context.cluster.resourceQuotaSyncPeriodMilliseconds) / 1000
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.loop.run { key in try await self.sync(key) } }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(period))
                    for quota in self.quotas.indexer.all() { self.loop.enqueue(quota) }
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    func sync(_ key: String) async throws(ApiError) {
        let (namespace, name) = ObjectKey.split(key)
        guard var quota = quotas.lister.get(namespace: namespace, name: name) else { return }
        let hard = quota.spec?.hard ?? [:]
        // Counting a kind whose informer has not listed yet would publish a wrong number.
        var informers: [ResourceType: MetadataInformer] = [:]
        for resource in hard.keys {
            guard let type = QuotaUsage.countedKind(resource), type != Pod.resourceType, type != Service.resourceType,
                type != PersistentVolumeClaim.resourceType
            else { continue }
            let informer = informer(of: type)
            guard informer.hasSynced() else {
                loop.enqueue(key, afterSeconds: 0.2)
                return
            }
            informers[type] = informer
        }
        // Each cache's revision is read before its objects: an informer files an event's object
        // before it moves its revision on, so the objects read next include every change up to
        // that revision. Read after them, a revision could count an object the read missed (a
        // pod admitted meanwhile), and the lowered usage would hand its unit out again.
        var seen: [ResourceType: Int64] = [:]
        for type in [Pod.resourceType, Service.resourceType, PersistentVolumeClaim.resourceType] + Array(informers.keys) {
            seen[type] = revision(of: type, informers)
        }
        let now = Date()
        let namespacePods = pods.indexer.byIndex(InformerIndexes.namespace, namespace)
        var objects = QuotaUsage.Objects(
            pods: namespacePods, services: services.indexer.byIndex(InformerIndexes.namespace, namespace),
            claims: claims.indexer.byIndex(InformerIndexes.namespace, namespace))
        objects.count = { type in informers[type]?.byIndex(InformerIndexes.namespace, namespace).count ?? 0 }
        let used = QuotaUsage.used(hard: hard, scopes: quota.spec?.scopes ?? [], objects: objects, now: now)
        // A pod leaves the count when its deletion grace period ends, which no event announces.
        if let next = namespacePods.compactMap({ ClusterTime.date($0.metadata?.deletionTimestamp) }).filter({ $0 > now }).min() {
            loop.enqueue(key, afterSeconds: next.timeIntervalSince(now) + 0.05)
        }
        let quotaRevision = Int64(quota.metadata?.resourceVersion ?? "") ?? 0
        for resource in QuotaUsage.lowered(used, than: quota.status?.used ?? [:]) {
            guard let type = QuotaUsage.countedKind(ofResource: resource), (seen[type] ?? 0) < quotaRevision else { continue }
            loop.enqueue(key, afterSeconds: 0.1)
            return
        }
        guard let status = QuotaUsage.desiredStatus(of: quota, used: used) else { return }
        quota.status = status
        do {
            _ = try await context.client.updateStatus(quota)
        } catch where error.code == 404 {
            return
        }
    }
}
