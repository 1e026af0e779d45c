import Api

/// AffinityTerm is one compiled `PodAffinityTerm`: the pods it selects (label selector and
/// namespaces) and the node label that defines a topology domain.
public struct AffinityTerm: Sendable {
    public var selector: ParsedLabelSelector
    /// Namespaces listed, or the owning pod's own when neither list nor selector is given.
    public var namespaces: Set<String>
    /// Namespaces by label; nil when the term has no namespaceSelector (an empty one selects
    /// every namespace).
    public var namespaceSelector: ParsedLabelSelector?
    public var topologyKey: String

    /// `owner` is the namespace and labels of the pod the term belongs to (matchLabelKeys and
    /// mismatchLabelKeys take their values from it).
    init(_ term: PodAffinityTerm, ownerNamespace: String, ownerLabels: [String: String], field: String) throws(SchedulingSpecError) {
        do {
            var parsed = try ParsedLabelSelector(term.labelSelector, field: field + ".labelSelector")
            for key in term.matchLabelKeys {
                if let value = ownerLabels[key] { parsed.requirements.append(LabelRequirement(key: key, operator: .in, values: [value])) }
            }
            for key in term.mismatchLabelKeys {
                if let value = ownerLabels[key] { parsed.requirements.append(LabelRequirement(key: key, operator: .notIn, values: [value])) }
            }
            selector = parsed
            namespaceSelector = try term.namespaceSelector.map { (selector) throws(SelectorError) in
                try ParsedLabelSelector(selector, field: field + ".namespaceSelector")
            }
        } catch {
            throw SchedulingSpecError(field: field, message: error.description)
        }
        namespaces = Set(term.namespaces)
        if namespaces.isEmpty && namespaceSelector == nil { namespaces = [ownerNamespace] }
        guard let key = term.topologyKey, !key.isEmpty else {
            throw SchedulingSpecError(field: field + ".topologyKey", message: "a topology key is required, such as kubernetes.io/hostname")
        }
        topologyKey = key
    }

    /// Whether the term selects a pod in `namespace` with `labels`; `namespaceLabels` looks up
    /// the labels of a namespace for namespaceSelector.
    public func matches(namespace: String, labels: [String: String], namespaceLabels: (String) -> [String: String]) -> Bool {
        if !namespaces.contains(namespace) {
            guard let namespaceSelector, namespaceSelector.matches(namespaceLabels(namespace)) else { return false }
        }
        return selector.matches(labels)
    }
}

/// WeightedAffinityTerm is a compiled preferred (anti-)affinity term.
public struct WeightedAffinityTerm: Sendable {
    public var weight: Int64
    public var term: AffinityTerm
}

/// PodAffinityTerms is a pod's compiled pod affinity and anti-affinity.
public struct PodAffinityTerms: Sendable {
    public var requiredAffinity: [AffinityTerm] = []
    public var requiredAntiAffinity: [AffinityTerm] = []
    public var preferredAffinity: [WeightedAffinityTerm] = []
    public var preferredAntiAffinity: [WeightedAffinityTerm] = []

    /// nil when the pod has no pod (anti-)affinity terms.
    init?(_ affinity: Affinity?, namespace: String, labels: [String: String]) throws(SchedulingSpecError) {
        let base = "spec.affinity"
        func compile(_ terms: [PodAffinityTerm], _ field: String) throws(SchedulingSpecError) -> [AffinityTerm] {
            try terms.enumerated().map { (index, term) throws(SchedulingSpecError) in
                try AffinityTerm(term, ownerNamespace: namespace, ownerLabels: labels, field: "\(field)[\(index)]")
            }
        }
        func compileWeighted(_ terms: [WeightedPodAffinityTerm], _ field: String) throws(SchedulingSpecError) -> [WeightedAffinityTerm] {
            try terms.enumerated().map { (index, weighted) throws(SchedulingSpecError) in
                WeightedAffinityTerm(
                    weight: Int64(weighted.weight ?? 0),
                    term: try AffinityTerm(
                        weighted.podAffinityTerm ?? PodAffinityTerm(), ownerNamespace: namespace, ownerLabels: labels,
                        field: "\(field)[\(index)].podAffinityTerm"))
            }
        }
        if let podAffinity = affinity?.podAffinity {
            requiredAffinity = try compile(
                podAffinity.requiredDuringSchedulingIgnoredDuringExecution, base + ".podAffinity.requiredDuringSchedulingIgnoredDuringExecution")
            preferredAffinity = try compileWeighted(
                podAffinity.preferredDuringSchedulingIgnoredDuringExecution, base + ".podAffinity.preferredDuringSchedulingIgnoredDuringExecution")
        }
        if let antiAffinity = affinity?.podAntiAffinity {
            requiredAntiAffinity = try compile(
                antiAffinity.requiredDuringSchedulingIgnoredDuringExecution,
                base + ".podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution")
            preferredAntiAffinity = try compileWeighted(
                antiAffinity.preferredDuringSchedulingIgnoredDuringExecution,
                base + ".podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution")
        }
        if requiredAffinity.isEmpty && requiredAntiAffinity.isEmpty && preferredAffinity.isEmpty && preferredAntiAffinity.isEmpty {
            return nil
        }
    }

    public var hasPreferred: Bool { !preferredAffinity.isEmpty || !preferredAntiAffinity.isEmpty }
}

/// SpreadConstraint is one compiled `TopologySpreadConstraint`.
public struct SpreadConstraint: Sendable {
    public var maxSkew: Int64
    public var topologyKey: String
    /// whenUnsatisfiable DoNotSchedule (a filter) rather than ScheduleAnyway (a score).
    public var hard: Bool
    public var selector: ParsedLabelSelector
    public var minDomains: Int64
    /// nodeAffinityPolicy Honor (the default): only nodes matching the pod's node affinity count.
    public var honorNodeAffinity: Bool
    /// nodeTaintsPolicy Honor: only nodes whose taints the pod tolerates count (default Ignore).
    public var honorNodeTaints: Bool

    static func of(_ spec: PodSpec, labels: [String: String]) throws(SchedulingSpecError) -> [SpreadConstraint] {
        var result: [SpreadConstraint] = []
        for (index, constraint) in spec.topologySpreadConstraints.enumerated() {
            let field = "spec.topologySpreadConstraints[\(index)]"
            guard let key = constraint.topologyKey, !key.isEmpty else {
                throw SchedulingSpecError(field: field + ".topologyKey", message: "a topology key is required")
            }
            let maxSkew = Int64(constraint.maxSkew ?? 0)
            guard maxSkew > 0 else { throw SchedulingSpecError(field: field + ".maxSkew", message: "must be greater than zero") }
            let hard: Bool
            switch constraint.whenUnsatisfiable ?? "" {
            case "DoNotSchedule": hard = true
            case "ScheduleAnyway": hard = false
            case let other:
                throw SchedulingSpecError(
                    field: field + ".whenUnsatisfiable", message: "\"\(other)\" is not supported; use DoNotSchedule or ScheduleAnyway")
            }
            var selector: ParsedLabelSelector
            do {
                selector = try ParsedLabelSelector(constraint.labelSelector, field: field + ".labelSelector")
            } catch {
                throw SchedulingSpecError(field: field, message: error.description)
            }
            for matchKey in constraint.matchLabelKeys {
                if let value = labels[matchKey] { selector.requirements.append(LabelRequirement(key: matchKey, operator: .in, values: [value])) }
            }
            result.append(SpreadConstraint(
                maxSkew: maxSkew, topologyKey: key, hard: hard, selector: selector,
                minDomains: Int64(max(constraint.minDomains ?? 1, 1)),
                honorNodeAffinity: (constraint.nodeAffinityPolicy ?? "Honor") == "Honor",
                honorNodeTaints: (constraint.nodeTaintsPolicy ?? "Ignore") == "Honor"))
        }
        return result
    }
}
