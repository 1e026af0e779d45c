import Api

/// NodeSelectorTermMatcher is one compiled `NodeSelectorTerm`: every label requirement
/// (matchExpressions) and field requirement (matchFields, only `metadata.name`) must hold. A
/// term with neither matches no node, as in Kubernetes.
public struct NodeSelectorTermMatcher: Sendable {
    public var labelRequirements: [LabelRequirement]
    /// Requirements on the node name (matchFields on metadata.name), with In or NotIn.
    public var nameRequirements: [LabelRequirement]

    public init(_ term: NodeSelectorTerm, field: String) throws(SchedulingSpecError) {
        labelRequirements = try term.matchExpressions.enumerated().map { (index, requirement) throws(SchedulingSpecError) in
            try Self.requirement(requirement, field: "\(field).matchExpressions[\(index)]")
        }
        nameRequirements = try term.matchFields.enumerated().map { (index, requirement) throws(SchedulingSpecError) in
            let path = "\(field).matchFields[\(index)]"
            guard requirement.key == "metadata.name" else {
                throw SchedulingSpecError(field: path + ".key", message: "\"\(requirement.key ?? "")\" is not supported; only metadata.name is")
            }
            guard requirement.operator == "In" || requirement.operator == "NotIn", requirement.values.count == 1 else {
                throw SchedulingSpecError(field: path, message: "metadata.name supports operators In and NotIn with exactly one value")
            }
            return try Self.requirement(requirement, field: path)
        }
    }

    public func matches(labels: [String: String], nodeName: String) -> Bool {
        guard !labelRequirements.isEmpty || !nameRequirements.isEmpty else { return false }
        for requirement in labelRequirements where !requirement.matches(labels) { return false }
        if !nameRequirements.isEmpty {
            let fields = ["metadata.name": nodeName]
            for requirement in nameRequirements {
                var onName = requirement
                onName.key = "metadata.name"
                if !onName.matches(fields) { return false }
            }
        }
        return true
    }

    static func requirement(_ requirement: NodeSelectorRequirement, field: String) throws(SchedulingSpecError) -> LabelRequirement {
        let key = requirement.key ?? ""
        guard !key.isEmpty else { throw SchedulingSpecError(field: field + ".key", message: "a key is required") }
        let values = requirement.values
        switch requirement.operator ?? "" {
        case "In", "NotIn":
            guard !values.isEmpty else {
                throw SchedulingSpecError(field: field + ".values", message: "must be non-empty for operator \(requirement.operator!)")
            }
            return LabelRequirement(key: key, operator: requirement.operator == "In" ? .in : .notIn, values: values)
        case "Exists", "DoesNotExist":
            guard values.isEmpty else {
                throw SchedulingSpecError(field: field + ".values", message: "must be empty for operator \(requirement.operator!)")
            }
            return LabelRequirement(key: key, operator: requirement.operator == "Exists" ? .exists : .doesNotExist)
        case "Gt", "Lt":
            guard values.count == 1, Int64(values[0]) != nil else {
                throw SchedulingSpecError(field: field + ".values", message: "must be one integer for operator \(requirement.operator!)")
            }
            return LabelRequirement(key: key, operator: requirement.operator == "Gt" ? .greaterThan : .lessThan, values: values)
        case let other:
            throw SchedulingSpecError(
                field: field + ".operator", message: "\"\(other)\" is not a valid operator; use In, NotIn, Exists, DoesNotExist, Gt or Lt")
        }
    }
}

/// WeightedNodeSelectorTerm is a compiled preferred scheduling term.
public struct WeightedNodeSelectorTerm: Sendable {
    public var weight: Int64
    public var term: NodeSelectorTermMatcher
}

/// RequiredNodeAffinity is what a node must satisfy for a pod: every `spec.nodeSelector` label,
/// and one of the terms of `requiredDuringSchedulingIgnoredDuringExecution` when given.
public struct RequiredNodeAffinity: Sendable {
    public var nodeSelector: [String: String]
    /// nil when the pod has no required node affinity; an empty list matches no node.
    public var terms: [NodeSelectorTermMatcher]?

    /// nil when the pod constrains nothing.
    public init?(_ spec: PodSpec) throws(SchedulingSpecError) {
        nodeSelector = spec.nodeSelector
        if let required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution {
            let field = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
            terms = try required.nodeSelectorTerms.enumerated().map { (index, term) throws(SchedulingSpecError) in
                try NodeSelectorTermMatcher(term, field: "\(field)[\(index)]")
            }
        } else {
            terms = nil
        }
        if nodeSelector.isEmpty && terms == nil { return nil }
    }

    public func matches(labels: [String: String], nodeName: String) -> Bool {
        for (key, value) in nodeSelector where labels[key] != value { return false }
        guard let terms else { return true }
        for term in terms where term.matches(labels: labels, nodeName: nodeName) { return true }
        return false
    }
}
