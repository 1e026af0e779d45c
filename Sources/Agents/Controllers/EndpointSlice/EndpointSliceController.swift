import Api
import Foundation
import Synchronization

/// EndpointSliceController keeps the EndpointSlices of every Service with a selector
/// (decisions in `EndpointSliceSync`), labelled `kubernetes.io/service-name` and managed by
/// `endpointslice-controller.k8s.io`. Slices of other managers are never touched.
///
/// The informer cache lags the controller's own writes; a sync that ran on a cache without a
/// slice it just created would create a second one. So the controller remembers, per service,
/// the slices it created or deleted until the cache shows them, and waits for that first (as
/// Kubernetes' endpoint slice tracker does); the wait is bounded (`staleCacheTimeout`).
public final class EndpointSliceController: Controller {
    public static let name = "endpointslice"
    static let staleCacheTimeout: TimeInterval = 10

    let context: ControllerContext
    let loop: ReconcileLoop
    let services: Informer<Service>
    let pods: Informer<Pod>
    let slices: Informer<EndpointSlice>

    struct Pending {
        var created: Set<String> = []
        var deleted: Set<String> = []
        var since: Date
    }

    private let pending = Mutex<[String: Pending]>([:])

    public init(context: ControllerContext) {
        self.context = context
        loop = ReconcileLoop(name: Self.name, workers: context.workers, logger: context.logger)
        services = context.informers.informer(Service.self)
        pods = context.informers.informer(Pod.self)
        slices = context.informers.informer(EndpointSlice.self)
        services.addEventHandler(loop.objectHandler(Service.self))
        pods.addEventHandler(ServicePods.handler(services: services, loop: loop))
        let enqueueService: @Sendable (EndpointSlice) -> Void = { [loop] slice in
            let labels = slice.metadata?.labels ?? [:]
            guard labels[EndpointSliceSync.managedByLabel] == EndpointSliceSync.managedByValue,
                let service = labels[EndpointSliceSync.serviceNameLabel]
            else { return }
            loop.enqueue(ObjectKey.make(namespace: slice.metadata?.namespace, name: service))
        }
        slices.addEventHandler(
            Informer<EndpointSlice>.EventHandler(onAdd: enqueueService, onUpdate: { _, new in enqueueService(new) }, onDelete: enqueueService))
    }

    public func run() async {
        await loop.run { key in try await self.sync(key) }
    }

    func sync(_ key: String) async throws(ApiError) {
        let (namespace, name) = ObjectKey.split(key)
        let inCache = slices.indexer.byIndex(InformerIndexes.namespace, namespace)
        guard cacheCaughtUp(key, names: Set(inCache.compactMap(\.metadata?.name))) else {
            loop.enqueue(key, afterSeconds: 0.05)
            return
        }
        guard let service = services.lister.get(namespace: namespace, name: name) else {
            // Owner references let the garbage collector do this too; doing it here keeps
            // stale addresses from lingering when the collector is off.
            var probe = Service()
            probe.metadata = ObjectMeta(name: name, namespace: namespace)
            for slice in EndpointSliceSync.managedSlices(of: probe, among: inCache) {
                try await context.client.delete(
                    EndpointSlice.resourceType, namespace: namespace, name: slice.metadata?.name ?? "", uid: slice.metadata?.uid,
                    propagationPolicy: nil)
            }
            return
        }
        guard ServiceBackends.managesEndpoints(service) else { return }
        let existing = EndpointSliceSync.managedSlices(of: service, among: inCache)
        let plan = EndpointSliceSync.plan(
            service: service, pods: pods.indexer.byIndex(InformerIndexes.namespace, namespace), existing: existing)
        guard !plan.isEmpty else { return }
        var written = Pending(since: Date())
        defer { remember(key, written) }
        for slice in plan.update {
            _ = try await context.client.update(slice)
        }
        for slice in plan.create {
            let created = try await context.client.create(slice)
            written.created.insert(created.metadata?.name ?? "")
        }
        for slice in plan.delete {
            try await context.client.delete(
                EndpointSlice.resourceType, namespace: namespace, name: slice.metadata?.name ?? "", uid: slice.metadata?.uid,
                propagationPolicy: nil)
            written.deleted.insert(slice.metadata?.name ?? "")
        }
    }

    private func remember(_ key: String, _ written: Pending) {
        guard !written.created.isEmpty || !written.deleted.isEmpty else { return }
        pending.withLock { $0[key] = written }
    }

    /// Whether the cache shows every slice this controller created for `key` and none it
    /// deleted; forgets what it waited for once seen or timed out.
    private func cacheCaughtUp(_ key: String, names: Set<String>) -> Bool {
        pending.withLock { pending in
            guard let waiting = pending[key] else { return true }
            if waiting.created.isSubset(of: names) && waiting.deleted.isDisjoint(with: names)
                || Date().timeIntervalSince(waiting.since) > Self.staleCacheTimeout
            {
                pending[key] = nil
                return true
            }
            return false
        }
    }
}
