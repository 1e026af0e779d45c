import Api
import Foundation

/// ServiceLoadBalancing is what the service controller decides without a cloud provider:
/// Skiff has no load-balancer implementation, so a LoadBalancer service gets no external
/// address. Rather than leave users waiting on `<pending>` with no word, the service carries a
/// condition saying so (and the controller records a Warning event once). Services that name a
/// `loadBalancerClass` belong to another implementation and are left alone, as Kubernetes does.
enum ServiceLoadBalancing {
    static let conditionType = "LoadBalancerProvisioned"
    static let reason = "NoLoadBalancerProvider"
    static let message =
        "no load-balancer provider is configured in this cluster, so the service gets no external address; "
        + "reach it through its cluster IP or, from outside the cluster, its node ports"

    static func wantsProviderLoadBalancer(_ service: Service) -> Bool {
        guard service.spec?.type == "LoadBalancer" else { return false }
        return (service.spec?.loadBalancerClass ?? "").isEmpty
    }

    /// The service's new status, or nil when it is already right. A LoadBalancer service gets
    /// the condition (and no ingress addresses: nothing is faked); any other service loses it.
    static func desiredStatus(of service: Service, now: Date) -> ServiceStatus? {
        var status = service.status ?? ServiceStatus()
        let index = status.conditions.firstIndex { $0.type == conditionType }
        if wantsProviderLoadBalancer(service) {
            if let index, status.conditions[index].status == "False", status.conditions[index].reason == reason {
                return nil
            }
            var condition = Condition()
            condition.type = conditionType
            condition.status = "False"
            condition.reason = reason
            condition.message = message
            condition.observedGeneration = service.metadata?.generation
            condition.lastTransitionTime = ClusterTime.time(now)
            if let index { status.conditions[index] = condition } else { status.conditions.append(condition) }
            return status
        }
        guard let index, status.conditions[index].reason == reason else { return nil }
        status.conditions.remove(at: index)
        return status
    }
}
