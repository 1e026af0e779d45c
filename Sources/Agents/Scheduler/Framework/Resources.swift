import Api

/// ResourceAmounts is an amount of every compute resource the scheduler accounts for: CPU in
/// milli-cores, memory and ephemeral storage in bytes, and any other resource (extended
/// resources such as `example.com/gpu`, hugepages) in whole units, as kube-scheduler's
/// `framework.Resource` keeps them. The pod count is kept apart (`NodeInfo.podCount`).
public struct ResourceAmounts: Equatable, Sendable {
    public var milliCPU: Int64 = 0
    public var memory: Int64 = 0
    public var ephemeralStorage: Int64 = 0
    /// Other resources by name; empty for most pods and nodes, so the hot path skips it.
    public var scalar: [String: Int64] = [:]

    public init(milliCPU: Int64 = 0, memory: Int64 = 0, ephemeralStorage: Int64 = 0, scalar: [String: Int64] = [:]) {
        self.milliCPU = milliCPU
        self.memory = memory
        self.ephemeralStorage = ephemeralStorage
        self.scalar = scalar
    }

    public static let zero = ResourceAmounts()

    public var isZero: Bool { milliCPU == 0 && memory == 0 && ephemeralStorage == 0 && scalar.allSatisfy { $0.value == 0 } }

    public mutating func add(_ other: ResourceAmounts) {
        milliCPU += other.milliCPU
        memory += other.memory
        ephemeralStorage += other.ephemeralStorage
        for (name, amount) in other.scalar { scalar[name, default: 0] += amount }
    }

    public mutating func subtract(_ other: ResourceAmounts) {
        milliCPU -= other.milliCPU
        memory -= other.memory
        ephemeralStorage -= other.ephemeralStorage
        for (name, amount) in other.scalar {
            let left = scalar[name, default: 0] - amount
            scalar[name] = left == 0 ? nil : left
        }
    }

    /// Each resource the larger of the two (the init-container rule).
    public mutating func formMaximum(_ other: ResourceAmounts) {
        milliCPU = max(milliCPU, other.milliCPU)
        memory = max(memory, other.memory)
        ephemeralStorage = max(ephemeralStorage, other.ephemeralStorage)
        for (name, amount) in other.scalar { scalar[name] = max(scalar[name, default: 0], amount) }
    }

    /// The resources of a `requests`, `limits`, `capacity` or `allocatable` map. `pods` is not a
    /// resource here; `field` names the map in errors ("spec.containers[0].resources.requests").
    public init(_ list: [String: Quantity], field: String) throws(ResourceError) {
        self.init()
        for (name, quantity) in list where name != ResourceNames.pods {
            let value: QuantityValue
            do {
                value = try quantity.value()
            } catch {
                throw ResourceError(field: "\(field)[\(name)]", message: error.description)
            }
            switch name {
            case ResourceNames.cpu: milliCPU = Self.clamp(value.milliUnits)
            case ResourceNames.memory: memory = Self.clamp(value.unitsRoundedUp)
            case ResourceNames.ephemeralStorage: ephemeralStorage = Self.clamp(value.unitsRoundedUp)
            default:
                let units = Self.clamp(value.unitsRoundedUp)
                if units != 0 { scalar[name] = units }
            }
        }
    }

    static func clamp(_ value: Int128) -> Int64 {
        value > Int128(Int64.max) ? Int64.max : value < 0 ? 0 : Int64(value)
    }
}

/// ResourceError is a pod or node whose resource map cannot be read.
public struct ResourceError: Error, Sendable, CustomStringConvertible {
    public var field: String
    public var message: String
    public var description: String { "\(field): \(message)" }
}

/// PodRequests computes what a pod asks for, the way kube-scheduler's `PodRequests` does:
/// - the regular containers' requests are summed;
/// - init containers run one at a time before them, so the pod needs at least the largest init
///   container (plus the sidecars started before it); sidecars (init containers with
///   restartPolicy Always) keep running and are added to the sum as well;
/// - the pod overhead is added; pod-level `spec.resources.requests` replace the containers' sum
///   for the resources they name.
public enum PodRequests {
    /// kube-scheduler's defaults for containers without a request, used only for scoring so that
    /// pods without requests still spread (`schedutil.DefaultMilliCPURequest`, `DefaultMemoryRequest`).
    public static let defaultMilliCPU: Int64 = 100
    public static let defaultMemory: Int64 = 200 * 1024 * 1024

    public struct Result: Equatable, Sendable {
        /// What the resource-fit filter checks.
        public var requests: ResourceAmounts
        /// CPU and memory with the defaults for containers that request none, for scoring.
        public var nonZeroMilliCPU: Int64
        public var nonZeroMemory: Int64
    }

    public static func of(_ spec: PodSpec) throws(ResourceError) -> Result {
        var sum = ResourceAmounts()
        var nonZeroSum = (cpu: Int64(0), memory: Int64(0))
        for (index, container) in spec.containers.enumerated() {
            let requests = try containerRequests(container, field: "spec.containers[\(index)].resources.requests")
            sum.add(requests.amounts)
            nonZeroSum.cpu += requests.nonZeroCPU
            nonZeroSum.memory += requests.nonZeroMemory
        }
        var initMaximum = ResourceAmounts()
        var initNonZeroMaximum = (cpu: Int64(0), memory: Int64(0))
        var sidecars = ResourceAmounts()
        var sidecarsNonZero = (cpu: Int64(0), memory: Int64(0))
        for (index, container) in spec.initContainers.enumerated() {
            let requests = try containerRequests(container, field: "spec.initContainers[\(index)].resources.requests")
            var needed = requests.amounts
            var neededNonZero = (cpu: requests.nonZeroCPU, memory: requests.nonZeroMemory)
            if container.restartPolicy == "Always" {
                sum.add(requests.amounts)
                nonZeroSum.cpu += requests.nonZeroCPU
                nonZeroSum.memory += requests.nonZeroMemory
                sidecars.add(requests.amounts)
                sidecarsNonZero.cpu += requests.nonZeroCPU
                sidecarsNonZero.memory += requests.nonZeroMemory
                needed = sidecars
                neededNonZero = sidecarsNonZero
            } else {
                needed.add(sidecars)
                neededNonZero.cpu += sidecarsNonZero.cpu
                neededNonZero.memory += sidecarsNonZero.memory
            }
            initMaximum.formMaximum(needed)
            initNonZeroMaximum.cpu = max(initNonZeroMaximum.cpu, neededNonZero.cpu)
            initNonZeroMaximum.memory = max(initNonZeroMaximum.memory, neededNonZero.memory)
        }
        sum.formMaximum(initMaximum)
        nonZeroSum.cpu = max(nonZeroSum.cpu, initNonZeroMaximum.cpu)
        nonZeroSum.memory = max(nonZeroSum.memory, initNonZeroMaximum.memory)
        if let podLevel = spec.resources?.requests, !podLevel.isEmpty {
            let amounts = try ResourceAmounts(podLevel, field: "spec.resources.requests")
            if podLevel[ResourceNames.cpu] != nil {
                sum.milliCPU = amounts.milliCPU
                nonZeroSum.cpu = amounts.milliCPU
            }
            if podLevel[ResourceNames.memory] != nil {
                sum.memory = amounts.memory
                nonZeroSum.memory = amounts.memory
            }
            if podLevel[ResourceNames.ephemeralStorage] != nil { sum.ephemeralStorage = amounts.ephemeralStorage }
            for (name, amount) in amounts.scalar { sum.scalar[name] = amount }
        }
        if !spec.overhead.isEmpty {
            let overhead = try ResourceAmounts(spec.overhead, field: "spec.overhead")
            sum.add(overhead)
            nonZeroSum.cpu += overhead.milliCPU
            nonZeroSum.memory += overhead.memory
        }
        return Result(requests: sum, nonZeroMilliCPU: nonZeroSum.cpu, nonZeroMemory: nonZeroSum.memory)
    }

    private static func containerRequests(
        _ container: Container, field: String
    ) throws(ResourceError) -> (amounts: ResourceAmounts, nonZeroCPU: Int64, nonZeroMemory: Int64) {
        // A request defaults to the limit when only the limit is given (API defaulting).
        var list = container.resources?.limits ?? [:]
        for (name, quantity) in container.resources?.requests ?? [:] { list[name] = quantity }
        if list.isEmpty { return (ResourceAmounts(), defaultMilliCPU, defaultMemory) }
        let amounts = try ResourceAmounts(list, field: field)
        return (
            amounts,
            list[ResourceNames.cpu] == nil ? defaultMilliCPU : amounts.milliCPU,
            list[ResourceNames.memory] == nil ? defaultMemory : amounts.memory
        )
    }
}
