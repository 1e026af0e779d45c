import Foundation
import Raft
import Wire

/// Live component health (seed item 5: `kubectl get componentstatuses`) and the API server's
/// own health and readiness.
extension ApiServer {
    /// One ComponentStatus per store member (asked for its status now), plus the scheduler and
    /// the controller manager, judged by their leader-election Leases in kube-system: healthy
    /// when the holder renewed within the lease duration.
    func componentStatuses() async -> [ComponentStatus] {
        var statuses: [ComponentStatus] = []
        for endpoint in configuration.storeEndpoints {
            var healthy = false
            var message = ""
            do {
                let status = try await store.status(endpoint)
                healthy = status.leader != 0 && status.errors.isEmpty
                message = healthy
                    ? "{\"health\":\"true\",\"member\":\"\(status.name)\",\"revision\":\(status.header?.revision ?? 0)}"
                    : "member \(status.name): \(status.errors.joined(separator: "; "))"
            } catch {
                message = "no answer from store member \(endpoint): \(error.message)"
            }
            statuses.append(Self.componentStatus(name: "store-\(endpoint)", healthy: healthy, message: message))
        }
        let now = Date().timeIntervalSince1970
        for (component, leaseName) in [("scheduler", "kube-scheduler"), ("controller-manager", "kube-controller-manager")] {
            let lease = await loop.submit {
                self.registry.cache(Lease.resourceType).get(namespace: "kube-system", name: leaseName)?.object as? Lease
            }
            guard let spec = lease?.spec, let holder = spec.holderIdentity, !holder.isEmpty,
                let renewed = spec.renewTime?.seconds
            else {
                statuses.append(Self.componentStatus(
                    name: component, healthy: false,
                    message: "no \(component) holds the kube-system/\(leaseName) lease: start one with agentctl run \(component)"))
                continue
            }
            let age = now - Double(renewed)
            let limit = Double(spec.leaseDurationSeconds ?? 15)
            statuses.append(age <= limit
                ? Self.componentStatus(name: component, healthy: true, message: "ok (leader \(holder))")
                : Self.componentStatus(
                    name: component, healthy: false,
                    message: "leader \(holder) last renewed its lease \(Int(age)) s ago (lease \(Int(limit)) s)"))
        }
        return statuses
    }

    static func componentStatus(name: String, healthy: Bool, message: String) -> ComponentStatus {
        var condition = ComponentCondition()
        condition.type = "Healthy"
        condition.status = healthy ? "True" : "False"
        if healthy { condition.message = message } else { condition.error = message }
        var status = ComponentStatus()
        status.metadata = ObjectMeta(name: name)
        status.conditions = [condition]
        return status
    }

    /// Ready when every watch cache has loaded and a store member answers.
    func readiness() async -> (ready: Bool, reasons: [String]) {
        var reasons: [String] = []
        let unloaded = await loop.submit {
            self.registry.caches.values.filter { !$0.isReady }.map(\.type.qualifiedName).sorted()
        }
        if !unloaded.isEmpty { reasons.append("watch caches not loaded yet: \(unloaded.joined(separator: ", "))") }
        do {
            _ = try await store.range(RangeRequest(key: Array("/registry/".utf8), limit: 1, countOnly: true))
        } catch {
            reasons.append("store: \(error.message)")
        }
        return (reasons.isEmpty, reasons)
    }
}
