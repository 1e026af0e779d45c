import Foundation

/// ServiceTables are how traffic reaches pods: services, endpoints, endpoint slices and
/// ingresses.
enum ServiceTables {
    static let service = TableDefinition(
        Service.self,
        columns: [
            .name,
            TableColumn("Type", description: "How the service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName."),
            TableColumn("Cluster-IP", description: "The service's virtual address inside the cluster."),
            TableColumn("External-IP", description: "Addresses the service is reachable at from outside the cluster."),
            TableColumn("Port(s)", description: "The ports the service exposes."),
            .age,
            TableColumn("Selector", priority: 1, description: "Labels of the pods traffic is routed to."),
        ]
    ) { service, now in
        let spec = service.spec ?? ServiceSpec()
        // Kubernetes fills clusterIPs from clusterIP; a service with only the latter still has one.
        let clusterIP = spec.clusterIPs.first ?? spec.clusterIP
        return [
            TableCells.name(service), .string(type(spec)), .string(TableCells.orPlaceholder(clusterIP)),
            .string(externalIP(service)), .string(TableCells.orPlaceholder(ports(spec.ports))), TableCells.age(service, now),
            .string(TableCells.labels(spec.selector)),
        ]
    }

    /// The service type; ClusterIP when unset, the default Kubernetes stores.
    static func type(_ spec: ServiceSpec) -> String { spec.type ?? "ClusterIP" }

    /// External IPs for ClusterIP and NodePort services, the load balancer's addresses (or
    /// "<pending>") for LoadBalancer ones, the DNS name for ExternalName ones.
    static func externalIP(_ service: Service) -> String {
        let spec = service.spec ?? ServiceSpec()
        switch type(spec) {
        case "ClusterIP", "NodePort":
            return spec.externalIPs.isEmpty ? "<none>" : spec.externalIPs.joined(separator: ",")
        case "LoadBalancer":
            let balancers = loadBalancerAddresses(service.status?.loadBalancer?.ingress.map { ($0.ip, $0.hostname) } ?? [])
            let all = balancers + spec.externalIPs
            return all.isEmpty ? "<pending>" : all.joined(separator: ",")
        case "ExternalName":
            return spec.externalName ?? ""
        default:
            return "<unknown>"
        }
    }

    /// Each ingress point's IP, or its host name when it has no IP; sorted and distinct.
    static func loadBalancerAddresses(_ points: [(ip: String?, hostname: String?)]) -> [String] {
        let addresses = points.compactMap { point -> String? in
            if let ip = point.ip, !ip.isEmpty { return ip }
            if let hostname = point.hostname, !hostname.isEmpty { return hostname }
            return nil
        }
        return Set(addresses).sorted()
    }

    /// "80/TCP,443:30443/TCP": each port with its node port when it has one.
    static func ports(_ ports: [ServicePort]) -> String {
        ports.map { port in
            let number = port.port ?? 0
            let transport = port.protocol ?? "TCP"
            if let nodePort = port.nodePort, nodePort > 0 { return "\(number):\(nodePort)/\(transport)" }
            return "\(number)/\(transport)"
        }.joined(separator: ",")
    }

    static let endpoints = TableDefinition(
        Endpoints.self,
        columns: [.name, TableColumn("Endpoints", description: "The addresses and ports of the service's ready pods."), .age]
    ) { endpoints, now in
        [TableCells.name(endpoints), .string(endpointAddresses(endpoints)), TableCells.age(endpoints, now)]
    }

    /// Up to three "address:port" pairs (bare addresses for subsets without ports), then
    /// " + N more..."; "<none>" when there are no subsets.
    static func endpointAddresses(_ endpoints: Endpoints) -> String {
        guard !endpoints.subsets.isEmpty else { return "<none>" }
        var pairs: [String] = []
        for subset in endpoints.subsets {
            let addresses = subset.addresses.map { $0.ip ?? "" }
            if subset.ports.isEmpty {
                pairs += addresses
            } else {
                for port in subset.ports { pairs += addresses.map { TableCells.hostPort($0, port.port ?? 0) } }
            }
        }
        guard pairs.count > 3 else { return pairs.joined(separator: ",") }
        return pairs.prefix(3).joined(separator: ",") + " + \(pairs.count - 3) more..."
    }

    static let endpointSlice = TableDefinition(
        EndpointSlice.self,
        columns: [
            .name,
            TableColumn("AddressType", description: "The type of the addresses: IPv4, IPv6 or FQDN."),
            TableColumn("Ports", description: "The ports of the endpoints."),
            TableColumn("Endpoints", description: "The addresses of the endpoints."),
            .age,
        ]
    ) { slice, now in
        // A port without a number applies to every port; it shows its name, or "*".
        let ports = slice.ports.map { port in port.port.map(String.init) ?? port.name ?? "*" }
        let addresses = slice.endpoints.flatMap(\.addresses)
        return [
            TableCells.name(slice), .string(slice.addressType ?? ""), .string(TableCells.listWithMore(ports)),
            .string(TableCells.listWithMore(addresses)), TableCells.age(slice, now),
        ]
    }

    static let ingress = TableDefinition(
        Ingress.self,
        columns: [
            .name,
            TableColumn("Class", description: "The name of the IngressClass resource that should be used for additional configuration"),
            TableColumn("Hosts", description: "Hosts that incoming requests are matched against before the ingress rule"),
            TableColumn("Address", description: "Address is a list containing ingress points for the load-balancer"),
            TableColumn("Ports", description: "Ports of TLS configurations that open"),
            .age,
        ]
    ) { ingress, now in
        let spec = ingress.spec ?? IngressSpec()
        let points = ingress.status?.loadBalancer?.ingress.map { ($0.ip, $0.hostname) } ?? []
        return [
            TableCells.name(ingress), .string(spec.ingressClassName ?? "<none>"), .string(hosts(spec.rules)),
            .string(loadBalancerAddresses(points).joined(separator: ",")), .string(spec.tls.isEmpty ? "80" : "80, 443"),
            TableCells.age(ingress, now),
        ]
    }

    /// The rules' hosts, at most three, then " + N more..." counting the remaining rules; "*"
    /// when no rule names a host.
    static func hosts(_ rules: [IngressRule]) -> String {
        var hosts: [String] = []
        var more = false
        for rule in rules {
            if hosts.count == 3 { more = true }
            if !more, let host = rule.host, !host.isEmpty { hosts.append(host) }
        }
        guard !hosts.isEmpty else { return "*" }
        return more ? hosts.joined(separator: ",") + " + \(rules.count - 3) more..." : hosts.joined(separator: ",")
    }
}
