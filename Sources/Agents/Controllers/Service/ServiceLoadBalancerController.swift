import Api
import Foundation

/// ServiceLoadBalancerController is the service controller without a cloud provider: it tells
/// LoadBalancer services, in their status and with one Warning event, that no load-balancer
/// provider exists (decisions in `ServiceLoadBalancing`). It fakes no address.
public final class ServiceLoadBalancerController: Controller {
    public static let name = "service-lb"

    let context: ControllerContext
    let loop: ReconcileLoop
    let services: Informer<Service>
    let events: EventRecorder

    public init(context: ControllerContext) {
        self.context = context
        loop = ReconcileLoop(name: Self.name, workers: context.workers, logger: context.logger)
        services = context.informers.informer(Service.self)
        events = context.events("service-controller")
        services.addEventHandler(
            Informer<Service>.EventHandler(
                onAdd: { [loop] in loop.enqueue($0) },
                onUpdate: { [loop] old, new in
                    if old.spec?.type != new.spec?.type || old.spec?.loadBalancerClass != new.spec?.loadBalancerClass
                        || old.status != new.status || old.metadata?.resourceVersion == new.metadata?.resourceVersion
                    {
                        loop.enqueue(new)
                    }
                }))
    }

    public func run() async {
        await loop.run { key in try await self.sync(key) }
    }

    func sync(_ key: String) async throws(ApiError) {
        let (namespace, name) = ObjectKey.split(key)
        guard var service = services.lister.get(namespace: namespace, name: name),
            let status = ServiceLoadBalancing.desiredStatus(of: service, now: Date())
        else { return }
        let adding = ServiceLoadBalancing.wantsProviderLoadBalancer(service)
        service.status = status
        do {
            service = try await context.client.updateStatus(service)
        } catch where error.code == 404 {
            return
        }
        if adding {
            events.record(service, .warning, reason: ServiceLoadBalancing.reason, message: ServiceLoadBalancing.message)
        }
    }
}
