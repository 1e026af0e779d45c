/// PodResources parses the resource requests and limits of a pod's containers, reporting
/// malformed quantities as field errors (admission runs before validation, so it must not
/// trust the text).
struct PodResources {
    struct ContainerResources {
        var name: String
        var path: String
        var requests: [String: QuantityValue]
        var limits: [String: QuantityValue]
    }

    var containers: [ContainerResources] = []
    var initContainers: [ContainerResources] = []
    var overhead: [String: QuantityValue] = [:]

    static func parse(_ map: [String: Quantity], path: String, into causes: inout [StatusCause]) -> [String: QuantityValue] {
        var values: [String: QuantityValue] = [:]
        for (resource, quantity) in map {
            do {
                values[resource] = try quantity.value()
            } catch {
                causes.append(.field("\(path)[\(resource)]", "FieldValueInvalid", "Invalid value: \"\(quantity.string ?? "")\": \(error)"))
            }
        }
        return values
    }

    init(_ spec: PodSpec, throwingFor request: AdmissionRequest) throws(ApiError) {
        var causes: [StatusCause] = []
        func read(_ container: Container, path: String) -> ContainerResources {
            ContainerResources(
                name: container.name ?? "", path: path,
                requests: Self.parse(container.resources?.requests ?? [:], path: path + ".resources.requests", into: &causes),
                limits: Self.parse(container.resources?.limits ?? [:], path: path + ".resources.limits", into: &causes))
        }
        containers = spec.containers.enumerated().map { read($0.element, path: "spec.containers[\($0.offset)]") }
        initContainers = spec.initContainers.enumerated().map { read($0.element, path: "spec.initContainers[\($0.offset)]") }
        overhead = Self.parse(spec.overhead, path: "spec.overhead", into: &causes)
        guard causes.isEmpty else {
            throw ApiError.invalid(Pod.resourceType, request.objectName, causes)
        }
    }

    /// The pod's effective amount of one resource, as Kubernetes computes it for quota and
    /// scheduling: the larger of the sum over containers and the largest init container, plus
    /// overhead. Nil when no container states it.
    func effective(_ resource: String, limits: Bool) -> QuantityValue? {
        let pick: (ContainerResources) -> QuantityValue? = { limits ? $0.limits[resource] : $0.requests[resource] }
        let stated = containers.compactMap(pick)
        let statedInit = initContainers.compactMap(pick)
        guard !stated.isEmpty || !statedInit.isEmpty else { return nil }
        let sum = stated.reduce(QuantityValue.zero, +)
        let largestInit = statedInit.max() ?? .zero
        return max(sum, largestInit) + (overhead[resource] ?? .zero)
    }

    /// Containers (main and init) that do not state `resource` among requests or limits.
    func containersLacking(_ resource: String, limits: Bool) -> [String] {
        (containers + initContainers).filter { (limits ? $0.limits[resource] : $0.requests[resource]) == nil }.map(\.name)
    }
}
