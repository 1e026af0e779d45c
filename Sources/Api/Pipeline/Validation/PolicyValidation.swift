/// PolicyValidation checks quotas, limit ranges, claims, nodes and events.
enum PolicyValidation {
    static let quotaScopes = ["Terminating", "NotTerminating", "BestEffort", "NotBestEffort"]
    static let limitTypes = ["Container", "Pod", "PersistentVolumeClaim"]
    static let accessModes = ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]

    static func validate(_ quota: ResourceQuota, errors: inout FieldErrors) {
        for (resource, quantity) in (quota.spec?.hard ?? [:]).sorted(by: { $0.key < $1.key }) {
            errors.check("spec.hard", resource, NameRules.qualifiedNameProblem)
            _ = errors.quantity("spec.hard[\(resource)]", quantity)
        }
        for (index, scope) in (quota.spec?.scopes ?? []).enumerated() {
            errors.supported("spec.scopes[\(index)]", scope, quotaScopes)
        }
    }

    static func validate(_ limitRange: LimitRange, errors: inout FieldErrors) {
        for (index, item) in (limitRange.spec?.limits ?? []).enumerated() {
            let path = "spec.limits[\(index)]"
            let type = item.type ?? ""
            if type.isEmpty { errors.required(path + ".type") } else { errors.supported(path + ".type", type, limitTypes) }
            func parse(_ map: [String: Quantity], _ field: String) -> [String: QuantityValue] {
                var values: [String: QuantityValue] = [:]
                for (resource, quantity) in map.sorted(by: { $0.key < $1.key }) {
                    values[resource] = errors.quantity("\(path).\(field)[\(resource)]", quantity)
                }
                return values
            }
            let minimum = parse(item.min, "min"), maximum = parse(item.max, "max")
            let defaults = parse(item.default, "default"), defaultRequests = parse(item.defaultRequest, "defaultRequest")
            _ = parse(item.maxLimitRequestRatio, "maxLimitRequestRatio")
            for (resource, low) in minimum.sorted(by: { $0.key < $1.key }) {
                if let high = maximum[resource], low > high {
                    errors.invalid("\(path).min[\(resource)]", FieldErrors.show(low.description), "min value \(low) is greater than max value \(high)")
                }
            }
            for (resource, request) in defaultRequests.sorted(by: { $0.key < $1.key }) {
                if let low = minimum[resource], request < low {
                    errors.invalid("\(path).defaultRequest[\(resource)]", FieldErrors.show(request.description), "min value \(low) is greater than default request value \(request)")
                }
                if let limit = defaults[resource], request > limit {
                    errors.invalid("\(path).defaultRequest[\(resource)]", FieldErrors.show(request.description), "default request value \(request) is greater than default limit value \(limit)")
                }
            }
            for (resource, limit) in defaults.sorted(by: { $0.key < $1.key }) {
                if let high = maximum[resource], limit > high {
                    errors.invalid("\(path).default[\(resource)]", FieldErrors.show(limit.description), "default value \(limit) is greater than max value \(high)")
                }
            }
        }
    }

    static func validate(_ claim: PersistentVolumeClaim, errors: inout FieldErrors) {
        let spec = claim.spec ?? PersistentVolumeClaimSpec()
        if spec.accessModes.isEmpty { errors.required("spec.accessModes", "at least 1 access mode is required") }
        for (index, mode) in spec.accessModes.enumerated() { errors.supported("spec.accessModes[\(index)]", mode, accessModes) }
        guard let storage = spec.resources?.requests["storage"] else {
            errors.required("spec.resources[storage]")
            return
        }
        if let value = errors.quantity("spec.resources.requests[storage]", storage), value.milliUnits == 0 {
            errors.invalid("spec.resources.requests[storage]", FieldErrors.show(storage.string ?? ""), "must be greater than zero")
        }
    }

    static func validate(_ node: Node, errors: inout FieldErrors) {
        for (index, taint) in (node.spec?.taints ?? []).enumerated() {
            let path = "spec.taints[\(index)]"
            let key = taint.key ?? ""
            if key.isEmpty { errors.required(path + ".key") } else { errors.check(path + ".key", key, NameRules.qualifiedNameProblem) }
            if let value = taint.value, !value.isEmpty { errors.check(path + ".value", value, NameRules.labelValueProblem) }
            let effect = taint.effect ?? ""
            if effect.isEmpty { errors.required(path + ".effect") } else {
                errors.supported(path + ".effect", effect, PodValidation.taintEffects)
            }
        }
    }

    static func validate(_ event: Event, errors: inout FieldErrors) {
        let namespace = event.metadata?.namespace ?? ""
        if let involved = event.involvedObject?.namespace, !involved.isEmpty, involved != namespace {
            errors.invalid("involvedObject.namespace", string: involved, "does not match event.namespace")
        }
        errors.supported("type", event.type, ["Normal", "Warning"])
    }
}

/// RBACValidation checks roles and bindings.
enum RBACValidation {
    static func validate(rules: [PolicyRule], namespaced: Bool, errors: inout FieldErrors) {
        for (index, rule) in rules.enumerated() {
            let path = "rules[\(index)]"
            if rule.verbs.isEmpty { errors.required(path + ".verbs", "verbs must contain at least one value") }
            if !rule.nonResourceURLs.isEmpty {
                if namespaced {
                    errors.invalid(path + ".nonResourceURLs", "[…]", "namespaced rules cannot apply to non-resource URLs")
                }
                if !rule.apiGroups.isEmpty || !rule.resources.isEmpty || !rule.resourceNames.isEmpty {
                    errors.invalid(path + ".nonResourceURLs", "[…]", "rules cannot apply to both regular resources and non-resource URLs")
                }
                continue
            }
            if rule.apiGroups.isEmpty {
                errors.required(path + ".apiGroups", "resource rules must supply at least one api group")
            }
            if rule.resources.isEmpty { errors.required(path + ".resources", "resource rules must supply at least one resource") }
        }
    }

    static func validate(roleRef: RoleRef?, oldRoleRef: RoleRef?, subjects: [Subject], namespaced: Bool, errors: inout FieldErrors) {
        let kinds = namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"]
        if let roleRef {
            if (roleRef.apiGroup ?? "") != DefaultRoles.rbacGroup {
                errors.notSupported("roleRef.apiGroup", roleRef.apiGroup ?? "", supported: [DefaultRoles.rbacGroup])
            }
            let kind = roleRef.kind ?? ""
            if !kinds.contains(kind) { errors.notSupported("roleRef.kind", kind, supported: kinds) }
            if (roleRef.name ?? "").isEmpty { errors.required("roleRef.name") }
        } else {
            errors.required("roleRef")
        }
        if let oldRoleRef, oldRoleRef != roleRef {
            errors.invalid("roleRef", "rbac.RoleRef{…}", "cannot change roleRef")
        }
        for (index, subject) in subjects.enumerated() {
            let path = "subjects[\(index)]"
            if (subject.name ?? "").isEmpty { errors.required(path + ".name") }
            switch subject.kind ?? "" {
            case "ServiceAccount":
                if let group = subject.apiGroup, !group.isEmpty { errors.notSupported(path + ".apiGroup", group, supported: [""]) }
                if !namespaced && (subject.namespace ?? "").isEmpty { errors.required(path + ".namespace") }
                if let name = subject.name, !name.isEmpty { errors.check(path + ".name", name, NameRules.dnsSubdomainProblem) }
            case "User", "Group":
                if (subject.apiGroup ?? "") != DefaultRoles.rbacGroup {
                    errors.notSupported(path + ".apiGroup", subject.apiGroup ?? "", supported: [DefaultRoles.rbacGroup])
                }
            default:
                errors.notSupported(path + ".kind", subject.kind ?? "", supported: ["ServiceAccount", "User", "Group"])
            }
        }
    }
}
