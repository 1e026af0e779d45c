/// LimitRangerAdmission applies the namespace's LimitRanges to pods and claims being created:
/// - `Container` items: containers without a limit get the item's `default`, without a request
///   its `defaultRequest`; then each container's request and limit must lie within `min` and
///   `max`, and limit / request must not exceed `maxLimitRequestRatio`;
/// - `Pod` items: the same bounds on the sum over the pod's containers;
/// - `PersistentVolumeClaim` items: the claim's storage request within `min` and `max`.
/// A container without a request counts its limit as the request, as Kubernetes' defaulting
/// does before admission. Refusals use Kubernetes' messages, for example
/// `minimum cpu usage per Container is 100m, but request is 50m`.
public struct LimitRangerAdmission: AdmissionPlugin {
    public static let pluginName = "LimitRanger"
    public var name: String { Self.pluginName }

    public init() {}

    public func admit(_ request: inout AdmissionRequest) throws(ApiError) {
        guard request.operation == .create, request.attributes.subresource.isEmpty else { return }
        let ranges = request.lookups.limitRanges(inNamespace: request.attributes.namespace)
        guard !ranges.isEmpty else { return }
        var items: [(range: String, item: LimitRangeItem)] = []
        for range in ranges {
            for item in range.spec?.limits ?? [] { items.append((range.metadata?.name ?? "", item)) }
        }
        if var pod = request.pod {
            try admitPod(&pod, items: items, request: request)
            request.object = pod
        } else if request.attributes.resource == "persistentvolumeclaims", let claim = request.object as? PersistentVolumeClaim {
            try admitClaim(claim, items: items, request: request)
        }
    }

    private func values(_ map: [String: Quantity], range: String, field: String, request: AdmissionRequest) throws(ApiError) -> [String: QuantityValue] {
        var values: [String: QuantityValue] = [:]
        for (resource, quantity) in map {
            do {
                values[resource] = try quantity.value()
            } catch {
                throw ApiError.internalError("LimitRange \"\(range)\" in namespace \(request.attributes.namespace) has a malformed \(field)[\(resource)]: \(error); fix the LimitRange")
            }
        }
        return values
    }

    private func admitPod(_ pod: inout Pod, items: [(range: String, item: LimitRangeItem)], request: AdmissionRequest) throws(ApiError) {
        guard var spec = pod.spec else { return }
        // Defaults first, from every Container item.
        for (_, item) in items where item.type == "Container" {
            func applyDefaults(_ container: inout Container) {
                var resources = container.resources ?? ResourceRequirements()
                for (resource, quantity) in item.default where resources.limits[resource] == nil {
                    resources.limits[resource] = quantity
                }
                for (resource, quantity) in item.defaultRequest where resources.requests[resource] == nil {
                    resources.requests[resource] = quantity
                }
                if !resources.limits.isEmpty || !resources.requests.isEmpty { container.resources = resources }
            }
            for index in spec.containers.indices { applyDefaults(&spec.containers[index]) }
            for index in spec.initContainers.indices { applyDefaults(&spec.initContainers[index]) }
        }
        pod.spec = spec
        let resources = try PodResources(spec, throwingFor: request)
        var problems: [String] = []
        for (range, item) in items {
            let bounds = try Bounds(item, range: range, request: request, plugin: self)
            switch item.type {
            case "Container":
                for container in resources.containers + resources.initContainers {
                    var requests = container.requests
                    for (resource, limit) in container.limits where requests[resource] == nil { requests[resource] = limit }
                    problems += bounds.check(kind: "Container", requests: requests, limits: container.limits)
                }
            case "Pod":
                var requests: [String: QuantityValue] = [:]
                var limits: [String: QuantityValue] = [:]
                let names = Set(bounds.resourceNames)
                for resource in names {
                    limits[resource] = resources.effective(resource, limits: true)
                    requests[resource] = resources.effective(resource, limits: false) ?? limits[resource]
                }
                problems += bounds.check(kind: "Pod", requests: requests.compactMapValues { $0 }, limits: limits.compactMapValues { $0 })
            default:
                continue
            }
        }
        if !problems.isEmpty { throw request.forbidden(Self.aggregate(problems)) }
    }

    private func admitClaim(_ claim: PersistentVolumeClaim, items: [(range: String, item: LimitRangeItem)], request: AdmissionRequest) throws(ApiError) {
        var problems: [String] = []
        var causes: [StatusCause] = []
        let requests = PodResources.parse(claim.spec?.resources?.requests ?? [:], path: "spec.resources.requests", into: &causes)
        let limits = PodResources.parse(claim.spec?.resources?.limits ?? [:], path: "spec.resources.limits", into: &causes)
        guard causes.isEmpty else { throw ApiError.invalid(PersistentVolumeClaim.resourceType, request.objectName, causes) }
        for (range, item) in items where item.type == "PersistentVolumeClaim" {
            let bounds = try Bounds(item, range: range, request: request, plugin: self)
            problems += bounds.check(kind: "PersistentVolumeClaim", requests: requests, limits: limits, requireLimit: false)
        }
        if !problems.isEmpty { throw request.forbidden(Self.aggregate(problems)) }
    }

    /// Kubernetes' aggregate error text: one message alone, several in brackets.
    static func aggregate(_ problems: [String]) -> String {
        problems.count == 1 ? problems[0] : "[" + problems.joined(separator: ", ") + "]"
    }

    struct Bounds {
        var minimum: [String: QuantityValue]
        var maximum: [String: QuantityValue]
        var ratio: [String: QuantityValue]

        init(_ item: LimitRangeItem, range: String, request: AdmissionRequest, plugin: LimitRangerAdmission) throws(ApiError) {
            minimum = try plugin.values(item.min, range: range, field: "min", request: request)
            maximum = try plugin.values(item.max, range: range, field: "max", request: request)
            ratio = try plugin.values(item.maxLimitRequestRatio, range: range, field: "maxLimitRequestRatio", request: request)
        }

        var resourceNames: [String] { Array(minimum.keys) + Array(maximum.keys) + Array(ratio.keys) }

        func check(kind: String, requests: [String: QuantityValue], limits: [String: QuantityValue], requireLimit: Bool = true) -> [String] {
            var problems: [String] = []
            // One problem per bound, the first that applies, in Kubernetes' order.
            for (resource, bound) in minimum.sorted(by: { $0.key < $1.key }) {
                if let request = requests[resource] {
                    if request < bound {
                        problems.append("minimum \(resource) usage per \(kind) is \(bound), but request is \(request)")
                    } else if let limit = limits[resource], limit < bound {
                        problems.append("minimum \(resource) usage per \(kind) is \(bound), but limit is \(limit)")
                    }
                } else {
                    problems.append("minimum \(resource) usage per \(kind) is \(bound).  No request is specified")
                }
            }
            for (resource, bound) in maximum.sorted(by: { $0.key < $1.key }) {
                if let limit = limits[resource] {
                    if limit > bound {
                        problems.append("maximum \(resource) usage per \(kind) is \(bound), but limit is \(limit)")
                    } else if let request = requests[resource], request > bound {
                        problems.append("maximum \(resource) usage per \(kind) is \(bound), but request is \(request)")
                    }
                } else if requireLimit {
                    problems.append("maximum \(resource) usage per \(kind) is \(bound).  No limit is specified")
                } else if let request = requests[resource], request > bound {
                    problems.append("maximum \(resource) usage per \(kind) is \(bound), but request is \(request)")
                }
            }
            for (resource, bound) in ratio.sorted(by: { $0.key < $1.key }) {
                guard let request = requests[resource], request.milliUnits != 0 else {
                    problems.append("\(resource) max limit to request ratio per \(kind) is \(bound), but no request is specified or request is 0")
                    continue
                }
                guard let limit = limits[resource], limit.milliUnits != 0 else {
                    problems.append("\(resource) max limit to request ratio per \(kind) is \(bound), but no limit is specified or limit is 0")
                    continue
                }
                // limit / request > bound, compared exactly: limit * 1000 > bound * request (milli).
                if limit.milliUnits * 1000 > bound.milliUnits * request.milliUnits {
                    let provided = limit.ratio(to: request)
                    problems.append("\(resource) max limit to request ratio per \(kind) is \(bound), but provided ratio is \(Self.sixDecimals(provided))")
                }
            }
            return problems
        }

        /// "%f" formatting without Foundation: six decimals, rounded.
        static func sixDecimals(_ value: Double) -> String {
            let scaled = Int64((value * 1_000_000).rounded())
            let whole = scaled / 1_000_000
            let fraction = String(scaled % 1_000_000)
            return "\(whole)." + String(repeating: "0", count: 6 - fraction.count) + fraction
        }
    }
}
