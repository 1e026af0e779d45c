import Foundation
import Testing

@testable import Api

/// Services, endpoints, endpoint slices and ingresses.
@Suite struct TablesServiceTests {
    typealias F = TableFixture

    static func service(_ type: String?, ports: [ServicePort] = [ServicePort(protocol: "TCP", port: 80)]) -> Service {
        var service = Service(metadata: F.meta("web"))
        service.spec = ServiceSpec(ports: ports, selector: ["app": "web"], clusterIP: "127.97.0.10", type: type, clusterIPs: ["127.97.0.10"])
        return service
    }

    @Test func clusterIPServiceShowsAddressAndPorts() {
        #expect(F.headers(Service.resourceType) == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"])
        #expect(F.headers(Service.resourceType, wide: true).last == "SELECTOR")
        let service = Self.service("ClusterIP", ports: [ServicePort(protocol: "TCP", port: 80), ServicePort(protocol: "UDP", port: 53)])
        #expect(F.row(service) == ["web", "ClusterIP", "127.97.0.10", "<none>", "80/TCP,53/UDP", "5m", "app=web"])
    }

    @Test func unsetTypeAndProtocolReadAsKubernetesDefaults() {
        var service = Self.service(nil, ports: [ServicePort(port: 8080)])
        service.spec?.clusterIPs = []
        service.spec?.selector = [:]
        #expect(F.row(service) == ["web", "ClusterIP", "127.97.0.10", "<none>", "8080/TCP", "5m", "<none>"])
        service.spec?.ports = []
        service.spec?.clusterIP = "None"
        #expect(F.row(service)[2...4] == ["None", "<none>", "<none>"])
    }

    @Test func nodePortShowsBothPorts() {
        var service = Self.service("NodePort", ports: [ServicePort(protocol: "TCP", port: 80, nodePort: 30080)])
        service.spec?.externalIPs = ["127.0.0.5"]
        #expect(F.row(service)[1...4] == ["NodePort", "127.97.0.10", "127.0.0.5", "80:30080/TCP"])
    }

    @Test func loadBalancerIsPendingUntilItHasAnAddress() {
        var service = Self.service("LoadBalancer")
        #expect(F.row(service)[3] == "<pending>")
        service.status = ServiceStatus(loadBalancer: LoadBalancerStatus(ingress: [
            LoadBalancerIngress(hostname: "lb.example.com"), LoadBalancerIngress(ip: "127.0.0.9"), LoadBalancerIngress(ip: "127.0.0.9"),
        ]))
        #expect(F.row(service)[3] == "127.0.0.9,lb.example.com")
        service.spec?.externalIPs = ["127.0.0.20"]
        #expect(F.row(service)[3] == "127.0.0.9,lb.example.com,127.0.0.20")
    }

    @Test func externalNameShowsTheName() {
        var service = Self.service("ExternalName", ports: [])
        service.spec?.externalName = "db.example.com"
        service.spec?.clusterIPs = []
        service.spec?.clusterIP = nil
        #expect(F.row(service)[1...4] == ["ExternalName", "<none>", "db.example.com", "<none>"])
    }

    @Test func endpointsListThreeAddressesThenHowManyMore() {
        var endpoints = Endpoints(metadata: F.meta("web"))
        #expect(F.headers(Endpoints.resourceType) == ["NAME", "ENDPOINTS", "AGE"])
        #expect(F.row(endpoints) == ["web", "<none>", "5m"])
        endpoints.subsets = [
            EndpointSubset(
                addresses: [EndpointAddress(ip: "127.96.0.1"), EndpointAddress(ip: "127.96.0.2")],
                ports: [EndpointPort(name: "http", port: 80), EndpointPort(name: "metrics", port: 9090)]),
        ]
        #expect(F.row(endpoints)[1] == "127.96.0.1:80,127.96.0.2:80,127.96.0.1:9090 + 1 more...")
        endpoints.subsets = [EndpointSubset(addresses: [EndpointAddress(ip: "fd00::1")], ports: [EndpointPort(port: 80)])]
        #expect(F.row(endpoints)[1] == "[fd00::1]:80")
        // A headless service without ports lists bare addresses.
        endpoints.subsets = [EndpointSubset(addresses: [EndpointAddress(ip: "127.96.0.1")])]
        #expect(F.row(endpoints)[1] == "127.96.0.1")
    }

    @Test func endpointSliceShowsPortsAndAddresses() {
        var slice = EndpointSlice(metadata: F.meta("web-abc12"), addressType: "IPv4")
        #expect(F.headers(EndpointSlice.resourceType) == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"])
        #expect(F.row(slice) == ["web-abc12", "IPv4", "<unset>", "<unset>", "5m"])
        slice.ports = [EndpointSlicePort(name: "http", port: 80), EndpointSlicePort(name: "any"), EndpointSlicePort()]
        slice.endpoints = (1...5).map { Endpoint(addresses: ["127.96.0.\($0)"]) }
        #expect(F.row(slice)[2...3] == ["80,any,*", "127.96.0.1,127.96.0.2,127.96.0.3 + 2 more..."])
    }

    @Test func ingressShowsClassHostsAddressAndPorts() {
        var ingress = Ingress(metadata: F.meta("web"))
        #expect(F.headers(Ingress.resourceType) == ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"])
        #expect(F.row(ingress) == ["web", "<none>", "*", "", "80", "5m"])
        ingress.spec = IngressSpec(
            tls: [IngressTLS(hosts: ["a.example.com"])],
            rules: ["a", "b", "c", "d", "e"].map { IngressRule(host: "\($0).example.com") }, ingressClassName: "nginx")
        ingress.status = IngressStatus(loadBalancer: IngressLoadBalancerStatus(ingress: [IngressLoadBalancerIngress(ip: "127.0.0.9")]))
        #expect(F.row(ingress) == ["web", "nginx", "a.example.com,b.example.com,c.example.com + 2 more...", "127.0.0.9", "80, 443", "5m"])
    }
}
