import Api

/// ServiceBackends is what the Endpoints and EndpointSlice controllers share: which pods back a
/// service, whether each is ready, and which pod port each service port reaches.
enum ServiceBackends {
    /// Whether the service's endpoints are computed from pods: it has a selector, and it is not
    /// an ExternalName alias. A service without a selector has hand-managed endpoints.
    static func managesEndpoints(_ service: Service) -> Bool {
        guard let spec = service.spec, !spec.selector.isEmpty else { return false }
        return spec.type != "ExternalName"
    }

    /// The pods among `pods` (the service's namespace) that back `service`: matching its
    /// selector, with an address, and not finished (a pod that succeeded or failed serves no
    /// more, whatever its restart policy says).
    static func backingPods(of service: Service, among pods: [Pod]) -> [Pod] {
        guard let selector = service.spec?.selector, !selector.isEmpty else { return [] }
        return pods.filter { pod in
            guard let labels = pod.metadata?.labels, selector.allSatisfy({ labels[$0.key] == $0.value }) else { return false }
            guard let ip = pod.status?.podIP, !ip.isEmpty else { return false }
            let phase = pod.status?.phase
            return phase != "Succeeded" && phase != "Failed"
        }
    }

    /// A pod's Ready condition is True.
    static func isReady(_ pod: Pod) -> Bool {
        pod.status?.conditions.contains { $0.type == "Ready" && $0.status == "True" } ?? false
    }

    static func isTerminating(_ pod: Pod) -> Bool {
        pod.metadata?.deletionTimestamp != nil
    }

    /// The pod port a service port reaches: `targetPort` as a number, as the name of a container
    /// port of the same protocol, or, when unset, the service port itself. Nil when the pod has
    /// no container port of that name: the pod does not serve this service port.
    static func targetPort(of servicePort: ServicePort, in pod: Pod) -> Int32? {
        let protocolName = servicePort.protocol ?? "TCP"
        guard let target = servicePort.targetPort else { return servicePort.port }
        if target.type == 1 || (target.intVal == nil && target.strVal != nil) {
            let name = target.strVal ?? ""
            if let number = Int32(name) { return number }
            for container in pod.spec?.containers ?? [] {
                for port in container.ports where port.name == name && (port.protocol ?? "TCP") == protocolName {
                    return port.containerPort
                }
            }
            return nil
        }
        if let number = target.intVal, number != 0 { return number }
        return servicePort.port
    }

    /// The hostname an endpoint publishes for DNS: the pod's `spec.hostname` when its
    /// `spec.subdomain` names the service (a StatefulSet's pods under a headless service).
    static func hostname(of pod: Pod, service: Service) -> String? {
        guard let hostname = pod.spec?.hostname, !hostname.isEmpty,
            pod.spec?.subdomain == service.metadata?.name
        else { return nil }
        return hostname
    }

    static func podReference(_ pod: Pod) -> ObjectReference {
        var reference = ObjectReference()
        reference.kind = "Pod"
        reference.namespace = pod.metadata?.namespace
        reference.name = pod.metadata?.name
        reference.uid = pod.metadata?.uid
        return reference
    }

    static func isHeadless(_ service: Service) -> Bool {
        service.spec?.clusterIP == "None"
    }
}
