import Api

/// EndpointsController keeps one Endpoints object per Service with a selector, named like it,
/// listing the addresses of the pods the selector matches (decisions in `EndpointsSync`).
/// Services without a selector keep hand-written Endpoints untouched. One key per service.
public final class EndpointsController: Controller {
    public static let name = "endpoints"

    let context: ControllerContext
    let loop: ReconcileLoop
    let services: Informer<Service>
    let pods: Informer<Pod>
    let endpoints: Informer<Endpoints>

    public init(context: ControllerContext) {
        self.context = context
        loop = ReconcileLoop(name: Self.name, workers: context.workers, logger: context.logger)
        services = context.informers.informer(Service.self)
        pods = context.informers.informer(Pod.self)
        endpoints = context.informers.informer(Endpoints.self)
        services.addEventHandler(loop.objectHandler(Service.self))
        // Endpoints changed or deleted by someone else are put back.
        endpoints.addEventHandler(
            Informer<Endpoints>.EventHandler(onUpdate: { [loop] _, new in loop.enqueue(new) }, onDelete: { [loop] in loop.enqueue($0) }))
        pods.addEventHandler(ServicePods.handler(services: services, loop: loop))
    }

    public func run() async {
        await loop.run { key in try await self.sync(key) }
    }

    func sync(_ key: String) async throws(ApiError) {
        let (namespace, name) = ObjectKey.split(key)
        let existing = endpoints.lister.get(namespace: namespace, name: name)
        guard let service = services.lister.get(namespace: namespace, name: name) else {
            if existing != nil {
                try await context.client.delete(Endpoints.resourceType, namespace: namespace, name: name, uid: existing?.metadata?.uid, propagationPolicy: nil)
            }
            return
        }
        guard ServiceBackends.managesEndpoints(service) else { return }
        let namespacePods = pods.indexer.byIndex(InformerIndexes.namespace, namespace)
        let desired = EndpointsSync.desired(service: service, pods: namespacePods, existing: existing)
        if let existing {
            guard EndpointsSync.differs(existing, desired) else { return }
            _ = try await context.client.update(desired)
        } else {
            do {
                _ = try await context.client.create(desired)
            } catch where error.code == 409 {
                // Created meanwhile (our cache lags): the informer's event brings it back here.
                loop.enqueue(key, afterSeconds: 0.1)
            }
        }
    }
}

/// ServicePods maps pod changes to the services whose selectors match the pod (before or
/// after the change), for the Endpoints and EndpointSlice controllers.
enum ServicePods {
    static func handler(services: Informer<Service>, loop: ReconcileLoop) -> Informer<Pod>.EventHandler {
        let enqueue: @Sendable (Pod) -> Void = { pod in
            let labels = pod.metadata?.labels ?? [:]
            for service in services.indexer.byIndex(InformerIndexes.namespace, pod.metadata?.namespace ?? "") {
                guard let selector = service.spec?.selector, !selector.isEmpty,
                    selector.allSatisfy({ labels[$0.key] == $0.value })
                else { continue }
                loop.enqueue(service)
            }
        }
        return Informer<Pod>.EventHandler(
            onAdd: enqueue,
            onUpdate: { old, new in
                // Relabelled: the services that selected it before must drop it.
                if old.metadata?.labels != new.metadata?.labels { enqueue(old) }
                enqueue(new)
            },
            onDelete: enqueue)
    }
}
