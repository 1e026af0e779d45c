import Api

/// EndpointsSync computes the Endpoints object of a service from its pods, as Kubernetes'
/// endpoints controller does: one address per backing pod with an IP (ready ones under
/// `addresses`, the others under `notReadyAddresses`, unless the service publishes not-ready
/// addresses), target ports resolved per pod, and pods serving the same ports packed into one
/// subset. Terminating pods are left out unless the service publishes not-ready addresses.
enum EndpointsSync {
    /// Kubernetes caps an Endpoints object at this many addresses and marks it truncated; the
    /// EndpointSlices carry the rest.
    static let maximumAddresses = 1000
    static let overCapacityAnnotation = "endpoints.kubernetes.io/over-capacity"
    static let headlessLabel = "service.kubernetes.io/headless"

    static func subsets(service: Service, pods: [Pod]) -> (subsets: [EndpointSubset], truncated: Bool) {
        let publishNotReady = service.spec?.publishNotReadyAddresses ?? false
        let servicePorts = service.spec?.ports ?? []
        // Pods with no service ports only back a headless service that declares none.
        if servicePorts.isEmpty && !ServiceBackends.isHeadless(service) { return ([], false) }
        var groups: [[EndpointPort]: (ready: [EndpointAddress], notReady: [EndpointAddress])] = [:]
        var order: [[EndpointPort]] = []
        for pod in ServiceBackends.backingPods(of: service, among: pods) {
            if ServiceBackends.isTerminating(pod) && !publishNotReady { continue }
            var ports: [EndpointPort] = []
            for servicePort in servicePorts {
                guard let number = ServiceBackends.targetPort(of: servicePort, in: pod) else { continue }
                var port = EndpointPort()
                port.name = servicePort.name.flatMap { $0.isEmpty ? nil : $0 }
                port.port = number
                port.protocol = servicePort.protocol ?? "TCP"
                port.appProtocol = servicePort.appProtocol
                ports.append(port)
            }
            if !servicePorts.isEmpty && ports.isEmpty { continue }
            ports.sort { ($0.name ?? "", $0.port ?? 0) < ($1.name ?? "", $1.port ?? 0) }
            var address = EndpointAddress()
            address.ip = pod.status?.podIP
            address.nodeName = pod.spec?.nodeName.flatMap { $0.isEmpty ? nil : $0 }
            address.hostname = ServiceBackends.hostname(of: pod, service: service)
            address.targetRef = ServiceBackends.podReference(pod)
            if groups[ports] == nil { order.append(ports) }
            if publishNotReady || ServiceBackends.isReady(pod) {
                groups[ports, default: ([], [])].ready.append(address)
            } else {
                groups[ports, default: ([], [])].notReady.append(address)
            }
        }
        var remaining = maximumAddresses
        var truncated = false
        var result: [EndpointSubset] = []
        for ports in order.sorted(by: { key($0) < key($1) }) {
            let group = groups[ports]!
            var subset = EndpointSubset()
            subset.ports = ports
            subset.addresses = Array(group.ready.sorted(by: addressOrder).prefix(remaining))
            remaining -= subset.addresses.count
            subset.notReadyAddresses = Array(group.notReady.sorted(by: addressOrder).prefix(remaining))
            remaining -= subset.notReadyAddresses.count
            if subset.addresses.count + subset.notReadyAddresses.count < group.ready.count + group.notReady.count { truncated = true }
            if !subset.addresses.isEmpty || !subset.notReadyAddresses.isEmpty { result.append(subset) }
        }
        return (result, truncated)
    }

    /// The Endpoints object `service` should have, built on `existing` when there is one (so
    /// that its resourceVersion and other fields carry over).
    static func desired(service: Service, pods: [Pod], existing: Endpoints?) -> Endpoints {
        var endpoints = existing ?? Endpoints()
        var meta = existing?.metadata ?? ObjectMeta()
        meta.name = service.metadata?.name
        meta.namespace = service.metadata?.namespace
        var labels = service.metadata?.labels ?? [:]
        if ServiceBackends.isHeadless(service) { labels[headlessLabel] = "" }
        meta.labels = labels
        let (subsets, truncated) = subsets(service: service, pods: pods)
        if truncated {
            meta.annotations[overCapacityAnnotation] = "truncated"
        } else {
            meta.annotations[overCapacityAnnotation] = nil
        }
        endpoints.metadata = meta
        endpoints.subsets = subsets
        return endpoints
    }

    /// Whether writing `desired` over `existing` changes anything a reader sees.
    static func differs(_ existing: Endpoints, _ desired: Endpoints) -> Bool {
        existing.subsets != desired.subsets || existing.metadata?.labels != desired.metadata?.labels
            || existing.metadata?.annotations != desired.metadata?.annotations
    }

    private static func key(_ ports: [EndpointPort]) -> String {
        ports.map { "\($0.name ?? "")/\($0.port ?? 0)/\($0.protocol ?? "")" }.joined(separator: ",")
    }

    private static func addressOrder(_ left: EndpointAddress, _ right: EndpointAddress) -> Bool {
        let leftIP = ipSortKey(left.ip ?? ""), rightIP = ipSortKey(right.ip ?? "")
        if leftIP != rightIP { return leftIP.lexicographicallyPrecedes(rightIP) }
        return (left.targetRef?.name ?? "") < (right.targetRef?.name ?? "")
    }

    /// IPv4 addresses in numeric order; anything else after them, as text.
    static func ipSortKey(_ ip: String) -> [UInt32] {
        let parts = ip.split(separator: ".").compactMap { UInt32($0) }
        return parts.count == 4 ? parts : [UInt32.max] + ip.unicodeScalars.map(\.value)
    }
}
