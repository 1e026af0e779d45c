import Api

/// NodeEligibility answers whether a pod may run on a node by the rules that do not depend on
/// other pods or on resources: spec.nodeSelector, required node affinity, and taints against
/// tolerations (Kubernetes' component-helpers scheduling/corev1 and the daemon set predicates).
public enum NodeEligibility {
    /// The field key that node affinity's matchFields use for the node's name.
    public static let nodeNameField = "metadata.name"

    /// nodeSelector labels all present with equal values, and the required node affinity (if
    /// any) matched by one of its terms.
    public static func matchesNodeSelectorAndAffinity(_ spec: PodSpec?, node: Node) -> Bool {
        let labels = node.metadata?.labels ?? [:]
        for (key, value) in spec?.nodeSelector ?? [:] where labels[key] != value { return false }
        guard let required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution else { return true }
        return required.nodeSelectorTerms.contains { matches($0, node: node) }
    }

    /// A term matches when it has at least one requirement and all of them hold.
    public static func matches(_ term: NodeSelectorTerm, node: Node) -> Bool {
        guard !term.matchExpressions.isEmpty || !term.matchFields.isEmpty else { return false }
        let labels = node.metadata?.labels ?? [:]
        for requirement in term.matchExpressions where !matches(requirement, value: labels[requirement.key ?? ""]) {
            return false
        }
        for requirement in term.matchFields {
            guard requirement.key == nodeNameField, matches(requirement, value: node.metadata?.name) else { return false }
        }
        return true
    }

    static func matches(_ requirement: NodeSelectorRequirement, value: String?) -> Bool {
        switch requirement.operator ?? "" {
        case "In": return value.map { requirement.values.contains($0) } ?? false
        case "NotIn": return value.map { !requirement.values.contains($0) } ?? true
        case "Exists": return value != nil
        case "DoesNotExist": return value == nil
        case "Gt", "Lt":
            guard let value, let number = Int64(value), requirement.values.count == 1, let bound = Int64(requirement.values[0]) else {
                return false
            }
            return requirement.operator == "Gt" ? number > bound : number < bound
        default: return false
        }
    }

    /// Whether `toleration` tolerates `taint` (Kubernetes' ToleratesTaint): the effect matches
    /// or is empty, the key matches or is empty (with Exists), and the value is equal (Equal)
    /// or anything (Exists).
    public static func tolerates(_ toleration: Toleration, _ taint: Taint) -> Bool {
        if let effect = toleration.effect, !effect.isEmpty, effect != taint.effect { return false }
        if let key = toleration.key, !key.isEmpty, key != taint.key { return false }
        switch toleration.operator ?? "Equal" {
        case "Exists": return true
        case "Equal", "": return (toleration.value ?? "") == (taint.value ?? "")
        default: return false
        }
    }

    /// The first taint with one of `effects` that no toleration tolerates.
    public static func untoleratedTaint(_ taints: [Taint], tolerations: [Toleration], effects: Set<String>) -> Taint? {
        taints.first { taint in
            effects.contains(taint.effect ?? "") && !tolerations.contains { tolerates($0, taint) }
        }
    }
}
