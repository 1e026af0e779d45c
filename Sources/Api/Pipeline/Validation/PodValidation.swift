/// PodValidation checks pods and pod templates.
enum PodValidation {
    static let restartPolicies = ["Always", "OnFailure", "Never"]
    static let dnsPolicies = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"]
    static let pullPolicies = ["Always", "IfNotPresent", "Never"]
    static let protocols = ["TCP", "UDP", "SCTP"]
    static let tolerationOperators = ["Exists", "Equal"]
    static let taintEffects = ["NoSchedule", "PreferNoSchedule", "NoExecute"]

    static func validate(_ pod: Pod, old: Pod?, errors: inout FieldErrors) {
        guard let spec = pod.spec else {
            errors.required("spec")
            return
        }
        validateSpec(spec, path: "spec", errors: &errors)
        if let old, let oldSpec = old.spec { validateSpecUpdate(spec, old: oldSpec, errors: &errors) }
    }

    static func validateSpec(_ spec: PodSpec, path: String, errors: inout FieldErrors) {
        var volumeNames: Set<String> = []
        for (index, volume) in spec.volumes.enumerated() {
            let volumePath = "\(path).volumes[\(index)]"
            let name = volume.name ?? ""
            if name.isEmpty {
                errors.required(volumePath + ".name")
            } else {
                errors.check(volumePath + ".name", name, NameRules.dnsLabelProblem)
                if !volumeNames.insert(name).inserted { errors.duplicate(volumePath + ".name", name) }
            }
            if volume.volumeSource == nil || volume.volumeSource == VolumeSource() {
                errors.required(volumePath, "must specify a volume type")
            }
        }
        if spec.containers.isEmpty { errors.required(path + ".containers") }
        var containerNames: Set<String> = []
        var portNames: Set<String> = []
        for (index, container) in spec.initContainers.enumerated() {
            validateContainer(container, path: "\(path).initContainers[\(index)]", volumes: volumeNames, names: &containerNames, portNames: &portNames, errors: &errors)
        }
        for (index, container) in spec.containers.enumerated() {
            validateContainer(container, path: "\(path).containers[\(index)]", volumes: volumeNames, names: &containerNames, portNames: &portNames, errors: &errors)
        }
        errors.supported(path + ".restartPolicy", spec.restartPolicy, restartPolicies)
        errors.supported(path + ".dnsPolicy", spec.dnsPolicy, dnsPolicies)
        errors.nonNegative(path + ".terminationGracePeriodSeconds", spec.terminationGracePeriodSeconds)
        if let deadline = spec.activeDeadlineSeconds, deadline <= 0 {
            errors.invalid(path + ".activeDeadlineSeconds", String(deadline), "must be between 1 and 2147483647, inclusive")
        }
        errors.labels(path + ".nodeSelector", spec.nodeSelector)
        if let account = spec.serviceAccountName, !account.isEmpty {
            errors.check(path + ".serviceAccountName", account, NameRules.dnsSubdomainProblem)
        }
        if let nodeName = spec.nodeName, !nodeName.isEmpty {
            errors.check(path + ".nodeName", nodeName, NameRules.dnsSubdomainProblem)
        }
        if let hostname = spec.hostname, !hostname.isEmpty { errors.check(path + ".hostname", hostname, NameRules.dnsLabelProblem) }
        if let subdomain = spec.subdomain, !subdomain.isEmpty { errors.check(path + ".subdomain", subdomain, NameRules.dnsLabelProblem) }
        for (index, toleration) in spec.tolerations.enumerated() {
            let tolerationPath = "\(path).tolerations[\(index)]"
            let key = toleration.key ?? ""
            if !key.isEmpty { errors.check(tolerationPath + ".key", key, NameRules.qualifiedNameProblem) }
            errors.supported(tolerationPath + ".operator", toleration.operator, tolerationOperators)
            if toleration.operator == "Exists", let value = toleration.value, !value.isEmpty {
                errors.invalid(tolerationPath + ".operator", string: value, "value must be empty when `operator` is 'Exists'")
            }
            if key.isEmpty && (toleration.operator ?? "Equal") == "Equal" {
                errors.invalid(tolerationPath + ".operator", string: toleration.operator ?? "", "operator must be Exists when `key` is empty, which means \"match all values and all keys\"")
            }
            errors.supported(tolerationPath + ".effect", toleration.effect, taintEffects)
        }
    }

    static func validateContainer(
        _ container: Container, path: String, volumes: Set<String>, names: inout Set<String>, portNames: inout Set<String>,
        errors: inout FieldErrors
    ) {
        let name = container.name ?? ""
        if name.isEmpty {
            errors.required(path + ".name")
        } else {
            errors.check(path + ".name", name, NameRules.dnsLabelProblem)
            if !names.insert(name).inserted { errors.duplicate(path + ".name", name) }
        }
        if (container.image ?? "").trimmingSpaces().isEmpty { errors.required(path + ".image") }
        errors.supported(path + ".imagePullPolicy", container.imagePullPolicy, pullPolicies)
        for (index, port) in container.ports.enumerated() {
            let portPath = "\(path).ports[\(index)]"
            if port.containerPort == nil {
                errors.required(portPath + ".containerPort")
            }
            errors.port(portPath + ".containerPort", port.containerPort)
            errors.port(portPath + ".hostPort", port.hostPort, allowZero: true)
            errors.supported(portPath + ".protocol", port.protocol, protocols)
            if let portName = port.name, !portName.isEmpty {
                errors.check(portPath + ".name", portName, NameRules.portNameProblem)
                if !portNames.insert(portName).inserted { errors.duplicate(portPath + ".name", portName) }
            }
        }
        for (index, variable) in container.env.enumerated() {
            let variablePath = "\(path).env[\(index)]"
            let variableName = variable.name ?? ""
            if variableName.isEmpty { errors.required(variablePath + ".name") } else {
                errors.check(variablePath + ".name", variableName, NameRules.environmentVariableNameProblem)
            }
            if variable.valueFrom != nil, let value = variable.value, !value.isEmpty {
                errors.invalid(variablePath + ".valueFrom", "\"\"", "may not be specified when `value` is not empty")
            }
        }
        for (index, mount) in container.volumeMounts.enumerated() {
            let mountPath = "\(path).volumeMounts[\(index)]"
            let volume = mount.name ?? ""
            if volume.isEmpty { errors.required(mountPath + ".name") } else if !volumes.contains(volume) {
                errors.notFound(mountPath + ".name", volume)
            }
            if (mount.mountPath ?? "").isEmpty { errors.required(mountPath + ".mountPath") }
        }
        validateResources(container.resources, path: path + ".resources", errors: &errors)
    }

    static func validateResources(_ resources: ResourceRequirements?, path: String, errors: inout FieldErrors) {
        guard let resources else { return }
        var limits: [String: QuantityValue] = [:]
        for (resource, quantity) in resources.limits.sorted(by: { $0.key < $1.key }) {
            errors.check(path + ".limits", resource, NameRules.qualifiedNameProblem)
            limits[resource] = errors.quantity("\(path).limits[\(resource)]", quantity)
        }
        for (resource, quantity) in resources.requests.sorted(by: { $0.key < $1.key }) {
            errors.check(path + ".requests", resource, NameRules.qualifiedNameProblem)
            guard let request = errors.quantity("\(path).requests[\(resource)]", quantity) else { continue }
            if let limit = limits[resource], request > limit {
                errors.invalid(
                    "\(path).requests", FieldErrors.show(quantity.string ?? ""),
                    "must be less than or equal to \(resource) limit of \(limit)")
            }
        }
    }

    static let updateForbiddenMessage =
        "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"

    /// A pod's spec is fixed once created, except container images, a deadline that is set or
    /// shortened, and added tolerations; the node is set through the binding subresource.
    static func validateSpecUpdate(_ spec: PodSpec, old: PodSpec, errors: inout FieldErrors) {
        var comparable = spec
        if comparable.containers.count == old.containers.count {
            for index in comparable.containers.indices { comparable.containers[index].image = old.containers[index].image }
        }
        if comparable.initContainers.count == old.initContainers.count {
            for index in comparable.initContainers.indices { comparable.initContainers[index].image = old.initContainers[index].image }
        }
        if let oldDeadline = old.activeDeadlineSeconds {
            if let deadline = spec.activeDeadlineSeconds, deadline > oldDeadline {
                errors.invalid("spec.activeDeadlineSeconds", String(deadline), "must be less than or equal to previous value of \(oldDeadline)")
            } else if spec.activeDeadlineSeconds == nil {
                errors.invalid("spec.activeDeadlineSeconds", "null", "must not update from a positive integer to nil value")
            }
        }
        comparable.activeDeadlineSeconds = old.activeDeadlineSeconds
        let removed = old.tolerations.filter { !spec.tolerations.contains($0) }
        if removed.isEmpty { comparable.tolerations = old.tolerations }
        if let grace = old.terminationGracePeriodSeconds, grace < 0, spec.terminationGracePeriodSeconds == 1 {
            comparable.terminationGracePeriodSeconds = old.terminationGracePeriodSeconds
        }
        if comparable != old { errors.forbidden("spec", updateForbiddenMessage) }
    }
}

/// ServiceValidation checks services.
enum ServiceValidation {
    static let types = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]

    static func validate(_ service: Service, old: Service?, errors: inout FieldErrors) {
        let spec = service.spec ?? ServiceSpec()
        let type = spec.type ?? "ClusterIP"
        errors.supported("spec.type", spec.type, types)
        let clusterIP = spec.clusterIP ?? ""
        let headless = clusterIP == "None"
        if spec.ports.isEmpty && !headless && type != "ExternalName" { errors.required("spec.ports") }
        if type == "ExternalName" {
            let externalName = spec.externalName ?? ""
            if externalName.isEmpty { errors.required("spec.externalName") } else {
                errors.check("spec.externalName", externalName, NameRules.dnsSubdomainProblem)
            }
        }
        if !clusterIP.isEmpty && !headless && !isIPAddress(clusterIP) {
            errors.invalid("spec.clusterIP", string: clusterIP, "must be empty, 'None', or a valid IP address")
        }
        var names: Set<String> = []
        for (index, port) in spec.ports.enumerated() {
            let path = "spec.ports[\(index)]"
            let name = port.name ?? ""
            if name.isEmpty {
                if spec.ports.count > 1 { errors.required(path + ".name") }
            } else {
                errors.check(path + ".name", name, NameRules.dnsLabelProblem)
                if !names.insert(name).inserted { errors.duplicate(path + ".name", name) }
            }
            if port.port == nil { errors.required(path + ".port") }
            errors.port(path + ".port", port.port)
            errors.supported(path + ".protocol", port.protocol, PodValidation.protocols)
            if let target = port.targetPort {
                if target.type == 1 {
                    errors.check(path + ".targetPort", target.strVal ?? "", NameRules.portNameProblem)
                } else {
                    errors.port(path + ".targetPort", target.intVal, allowZero: true)
                }
            }
            if let nodePort = port.nodePort, nodePort != 0 {
                if type != "NodePort" && type != "LoadBalancer" {
                    errors.forbidden(path + ".nodePort", "may not be used when `type` is '\(type)'")
                }
                errors.port(path + ".nodePort", nodePort)
            }
        }
        errors.labels("spec.selector", spec.selector)
        errors.supported("spec.sessionAffinity", spec.sessionAffinity, ["None", "ClientIP"])
        if let old, let oldIP = old.spec?.clusterIP, !oldIP.isEmpty, oldIP != clusterIP {
            errors.immutable("spec.clusterIP", FieldErrors.show(clusterIP))
        }
    }

    static func isIPAddress(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4 {
            return parts.allSatisfy { part in
                guard let value = Int(part), (0...255).contains(value), !part.isEmpty else { return false }
                return part == "0" || !part.hasPrefix("0")
            }
        }
        // IPv6: hexadecimal groups separated by ':', at most one '::'.
        guard text.contains(":"), text.components(separatedByString: "::").count <= 2 else { return false }
        let groups = text.split(separator: ":", omittingEmptySubsequences: true)
        return groups.count <= 8 && groups.allSatisfy { $0.count <= 4 && UInt16($0, radix: 16) != nil }
    }
}

extension String {
    func components(separatedByString separator: String) -> [Substring] {
        var pieces: [Substring] = []
        var rest = self[...]
        while let range = rest.firstRange(of: separator) {
            pieces.append(rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
        }
        pieces.append(rest)
        return pieces
    }
}
