import Api

/// EndpointSliceSync plans the EndpointSlices of a service from its pods, as Kubernetes'
/// endpointslice controller does: endpoints grouped by the ports they serve, at most
/// `maximumEndpointsPerSlice` per slice, conditions ready/serving/terminating, slices labelled
/// with the service name and this controller as manager and owned by the service. To keep
/// watchers' work small, an endpoint stays in the slice that holds it, new endpoints fill
/// slices with room before new slices are made, and a service without endpoints keeps one
/// empty placeholder slice.
enum EndpointSliceSync {
    static let maximumEndpointsPerSlice = 100
    static let serviceNameLabel = "kubernetes.io/service-name"
    static let managedByLabel = "endpointslice.kubernetes.io/managed-by"
    static let managedByValue = "endpointslice-controller.k8s.io"

    /// The writes that take a service's slices from what exists to what should.
    struct Plan: Equatable {
        var create: [EndpointSlice] = []
        var update: [EndpointSlice] = []
        var delete: [EndpointSlice] = []

        var isEmpty: Bool { create.isEmpty && update.isEmpty && delete.isEmpty }
    }

    /// Slices of `service` that this controller manages, among `slices` of its namespace.
    static func managedSlices(of service: Service, among slices: [EndpointSlice]) -> [EndpointSlice] {
        slices.filter { slice in
            let labels = slice.metadata?.labels ?? [:]
            return labels[serviceNameLabel] == service.metadata?.name && labels[managedByLabel] == managedByValue
        }
    }

    /// The endpoint of each backing pod, with the ports it serves.
    static func endpoints(service: Service, pods: [Pod]) -> [(ports: [EndpointSlicePort], endpoint: Endpoint)] {
        let publishNotReady = service.spec?.publishNotReadyAddresses ?? false
        let servicePorts = service.spec?.ports ?? []
        if servicePorts.isEmpty && !ServiceBackends.isHeadless(service) { return [] }
        var result: [(ports: [EndpointSlicePort], endpoint: Endpoint)] = []
        for pod in ServiceBackends.backingPods(of: service, among: pods) {
            var ports: [EndpointSlicePort] = []
            for servicePort in servicePorts {
                guard let number = ServiceBackends.targetPort(of: servicePort, in: pod) else { continue }
                var port = EndpointSlicePort()
                port.name = servicePort.name ?? ""
                port.port = number
                port.protocol = servicePort.protocol ?? "TCP"
                port.appProtocol = servicePort.appProtocol
                ports.append(port)
            }
            if !servicePorts.isEmpty && ports.isEmpty { continue }
            ports.sort { ($0.name ?? "", $0.port ?? 0) < ($1.name ?? "", $1.port ?? 0) }
            let terminating = ServiceBackends.isTerminating(pod)
            let serving = publishNotReady || ServiceBackends.isReady(pod)
            var endpoint = Endpoint()
            endpoint.addresses = [pod.status?.podIP ?? ""]
            endpoint.conditions = EndpointConditions(ready: serving && !terminating, serving: serving, terminating: terminating)
            endpoint.hostname = ServiceBackends.hostname(of: pod, service: service)
            endpoint.nodeName = pod.spec?.nodeName.flatMap { $0.isEmpty ? nil : $0 }
            endpoint.targetRef = ServiceBackends.podReference(pod)
            result.append((ports, endpoint))
        }
        return result
    }

    static func plan(service: Service, pods: [Pod], existing: [EndpointSlice]) -> Plan {
        var byPorts: [[EndpointSlicePort]: [String: Endpoint]] = [:]
        for (ports, endpoint) in endpoints(service: service, pods: pods) {
            byPorts[ports, default: [:]][identity(endpoint)] = endpoint
        }
        var plan = Plan()
        var kept: [EndpointSlice] = []
        let existingByPorts = Dictionary(grouping: existing.sorted { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }) { $0.ports }
        for (ports, slices) in existingByPorts.sorted(by: { portsKey($0.key) < portsKey($1.key) }) {
            guard var wanted = byPorts.removeValue(forKey: ports) else {
                plan.delete += slices
                continue
            }
            // Each endpoint stays where it is; the slices are then topped up with new ones.
            var refreshed: [EndpointSlice] = []
            for slice in slices {
                var updated = slice
                updated.endpoints = slice.endpoints.compactMap { wanted.removeValue(forKey: identity($0)) }
                refreshed.append(updated)
            }
            var newcomers = wanted.values.sorted(by: endpointOrder)[...]
            for index in refreshed.indices where !newcomers.isEmpty {
                let room = maximumEndpointsPerSlice - refreshed[index].endpoints.count
                guard room > 0 else { continue }
                refreshed[index].endpoints += newcomers.prefix(room)
                newcomers = newcomers.dropFirst(room)
            }
            for slice in refreshed {
                if slice.endpoints.isEmpty { plan.delete.append(slice) } else { kept.append(slice) }
            }
            byPorts[ports] = newcomers.isEmpty ? nil : Dictionary(uniqueKeysWithValues: newcomers.map { (identity($0), $0) })
        }
        for (ports, wanted) in byPorts.sorted(by: { portsKey($0.key) < portsKey($1.key) }) {
            let sorted = wanted.values.sorted(by: endpointOrder)
            for start in stride(from: 0, to: sorted.count, by: maximumEndpointsPerSlice) {
                var slice = EndpointSlice()
                slice.ports = ports
                slice.endpoints = Array(sorted[start..<min(sorted.count, start + maximumEndpointsPerSlice)])
                plan.create.append(slice)
            }
        }
        // A service without endpoints keeps one empty placeholder slice, so that readers can
        // tell "no endpoints" from "not processed yet".
        if kept.isEmpty && plan.create.isEmpty {
            if let placeholder = plan.delete.first(where: { $0.ports.isEmpty && $0.endpoints.isEmpty }) ?? plan.delete.first {
                plan.delete.removeAll { $0.metadata?.name == placeholder.metadata?.name }
                var emptied = placeholder
                emptied.endpoints = []
                emptied.ports = []
                kept.append(emptied)
            } else {
                plan.create.append(EndpointSlice())
            }
        }
        for slice in kept {
            let desired = finish(slice, service: service)
            let original = existing.first { $0.metadata?.name == slice.metadata?.name }
            if let original, !differs(original, desired) { continue }
            plan.update.append(desired)
        }
        plan.create = plan.create.map { finish($0, service: service) }
        for index in plan.update.indices { plan.update[index].endpoints.sort(by: endpointOrder) }
        return plan
    }

    /// A slice with the service's labels, ownership and address type.
    static func finish(_ slice: EndpointSlice, service: Service) -> EndpointSlice {
        var result = slice
        var meta = slice.metadata ?? ObjectMeta()
        let serviceName = service.metadata?.name ?? ""
        if meta.name == nil { meta.generateName = serviceName + "-" }
        meta.namespace = service.metadata?.namespace
        var labels = service.metadata?.labels ?? [:]
        labels[serviceNameLabel] = serviceName
        labels[managedByLabel] = managedByValue
        if ServiceBackends.isHeadless(service) { labels[EndpointsSync.headlessLabel] = "" }
        meta.labels = labels
        var owner = OwnerReference()
        owner.apiVersion = "v1"
        owner.kind = "Service"
        owner.name = serviceName
        owner.uid = service.metadata?.uid
        owner.controller = true
        owner.blockOwnerDeletion = true
        meta.ownerReferences = [owner]
        result.metadata = meta
        result.addressType = "IPv4"
        return result
    }

    static func differs(_ existing: EndpointSlice, _ desired: EndpointSlice) -> Bool {
        Set(existing.endpoints) != Set(desired.endpoints) || existing.ports != desired.ports
            || existing.addressType != desired.addressType || existing.metadata?.labels != desired.metadata?.labels
            || existing.metadata?.ownerReferences != desired.metadata?.ownerReferences
    }

    /// What names an endpoint across syncs: the pod behind it, else its address.
    private static func identity(_ endpoint: Endpoint) -> String {
        if let reference = endpoint.targetRef, let name = reference.name {
            return "\(reference.namespace ?? "")/\(name)"
        }
        return endpoint.addresses.first ?? ""
    }

    private static func endpointOrder(_ left: Endpoint, _ right: Endpoint) -> Bool {
        let leftKey = EndpointsSync.ipSortKey(left.addresses.first ?? ""), rightKey = EndpointsSync.ipSortKey(right.addresses.first ?? "")
        if leftKey != rightKey { return leftKey.lexicographicallyPrecedes(rightKey) }
        return identity(left) < identity(right)
    }

    private static func portsKey(_ ports: [EndpointSlicePort]) -> String {
        ports.map { "\($0.name ?? "")/\($0.port ?? 0)/\($0.protocol ?? "")" }.joined(separator: ",")
    }
}
