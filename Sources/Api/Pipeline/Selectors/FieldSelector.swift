/// FieldSelector is a parsed field selector (`?fieldSelector=`, `kubectl --field-selector`):
/// comma-separated terms `field=value`, `field==value` or `field!=value`, all of which must
/// hold. In values, `\,`, `\=`, `\!` and `\\` stand for the character itself. An empty
/// selector matches everything.
///
/// Which fields can be selected depends on the kind, as in Kubernetes: every kind has
/// `metadata.name` and `metadata.namespace`; pods add `spec.nodeName`, `status.phase` and a few
/// more (see `supportedFields(of:)`). `validate(for:)` refuses the others with Kubernetes'
/// message `field label not supported: <field>`.
public struct FieldSelector: Sendable, Hashable, CustomStringConvertible {
    public struct Term: Sendable, Hashable {
        public var field: String
        public var value: String
        public var negated: Bool

        public init(field: String, value: String, negated: Bool = false) {
            self.field = field
            self.value = value
            self.negated = negated
        }
    }

    public var terms: [Term]

    public init(terms: [Term] = []) {
        self.terms = terms
    }

    public static let everything = FieldSelector()

    public var isEmpty: Bool { terms.isEmpty }

    public var description: String {
        terms.map { term in
            let escaped = term.value.replacingAll(["\\": "\\\\", ",": "\\,", "=": "\\=", "!": "\\!"])
            return term.field + (term.negated ? "!=" : "=") + escaped
        }.joined(separator: ",")
    }

    /// The value a selector requires of `field` with `=` (for example `spec.nodeName` when the
    /// server wants to serve a node's pods from an index).
    public func requiredValue(of field: String) -> String? {
        terms.first { $0.field == field && !$0.negated }?.value
    }

    public init(parsing text: String) throws(SelectorError) {
        var terms: [Term] = []
        let characters = Array(text)
        var index = 0
        guard !characters.allSatisfy(\.isWhitespace) else {
            self.init()
            return
        }
        while true {
            let termStart = index
            var field = ""
            while index < characters.count, !"=!,".contains(characters[index]) {
                field.append(characters[index])
                index += 1
            }
            field = field.trimmingSpaces()
            guard !field.isEmpty else {
                throw SelectorError(selector: text, position: termStart + 1, message: "expected a field name such as metadata.name")
            }
            guard index < characters.count, characters[index] != "," else {
                throw SelectorError(
                    selector: text, position: index + 1,
                    message: "the term \"\(field)\" has no operator; write \(field)=value, \(field)==value or \(field)!=value")
            }
            var negated = false
            if characters[index] == "!" {
                guard index + 1 < characters.count, characters[index + 1] == "=" else {
                    throw SelectorError(selector: text, position: index + 1, message: "expected '!=' after \"\(field)\"")
                }
                negated = true
                index += 2
            } else {
                index += 1
                if index < characters.count, characters[index] == "=" { index += 1 }
            }
            var value = ""
            while index < characters.count, characters[index] != "," {
                let character = characters[index]
                if character == "\\" {
                    guard index + 1 < characters.count, "\\,=!".contains(characters[index + 1]) else {
                        throw SelectorError(
                            selector: text, position: index + 1,
                            message: "a backslash must be followed by \\, ',', '=' or '!' in a field selector value")
                    }
                    value.append(characters[index + 1])
                    index += 2
                    continue
                }
                if character == "=" || character == "!" {
                    throw SelectorError(
                        selector: text, position: index + 1,
                        message: "unexpected '\(character)' in the value of \"\(field)\"; escape it as \\\(character)")
                }
                value.append(character)
                index += 1
            }
            terms.append(Term(field: field, value: value.trimmingSpaces(), negated: negated))
            if index == characters.count { break }
            index += 1  // the comma
            guard index < characters.count else {
                throw SelectorError(selector: text, position: index + 1, message: "expected a term after ','")
            }
        }
        self.init(terms: terms)
    }

    /// Refuses fields the kind cannot be selected on, as Kubernetes does.
    public func validate(for type: ResourceType) throws(SelectorError) {
        let supported = Self.supportedFields(of: type)
        for term in terms where !supported.contains(term.field) {
            throw SelectorError(selector: description, position: 0, message: "field label not supported: \(term.field)")
        }
    }

    public func matches(_ object: any KubernetesObject) -> Bool {
        guard !terms.isEmpty else { return true }
        let values = Self.fieldValues(of: object)
        return terms.allSatisfy { term in
            let actual = values[term.field] ?? ""
            return term.negated ? actual != term.value : actual == term.value
        }
    }

    /// The fields each kind can be selected on (Kubernetes' field label conversion functions).
    public static func supportedFields(of type: ResourceType) -> Set<String> {
        var fields: Set<String> = ["metadata.name", "metadata.namespace"]
        switch (type.group, type.plural) {
        case ("", "pods"):
            fields.formUnion([
                "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName",
            ])
        case ("", "nodes"): fields.insert("spec.unschedulable")
        case ("", "namespaces"): fields.insert("status.phase")
        case ("", "secrets"): fields.insert("type")
        case ("", "events"):
            fields.formUnion([
                "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                "reason", "reportingComponent", "source", "type",
            ])
        case ("", "replicationcontrollers"), ("apps", "replicasets"): fields.insert("status.replicas")
        case ("batch", "jobs"): fields.insert("status.successful")
        default: break
        }
        return fields
    }

    /// The selectable fields of one object, as strings (booleans as "true"/"false", absent
    /// fields as "").
    public static func fieldValues(of object: any KubernetesObject) -> [String: String] {
        var values = ["metadata.name": object.metadata?.name ?? "", "metadata.namespace": object.metadata?.namespace ?? ""]
        switch object {
        case let pod as Pod:
            values["spec.nodeName"] = pod.spec?.nodeName ?? ""
            values["spec.restartPolicy"] = pod.spec?.restartPolicy ?? ""
            values["spec.schedulerName"] = pod.spec?.schedulerName ?? ""
            values["spec.serviceAccountName"] = pod.spec?.serviceAccountName ?? ""
            values["spec.hostNetwork"] = (pod.spec?.hostNetwork ?? false) ? "true" : "false"
            values["status.phase"] = pod.status?.phase ?? ""
            values["status.podIP"] = pod.status?.podIP ?? ""
            values["status.nominatedNodeName"] = pod.status?.nominatedNodeName ?? ""
        case let node as Node:
            values["spec.unschedulable"] = (node.spec?.unschedulable ?? false) ? "true" : "false"
        case let namespace as Namespace:
            values["status.phase"] = namespace.status?.phase ?? ""
        case let secret as Secret:
            values["type"] = secret.type ?? ""
        case let event as Event:
            values["involvedObject.kind"] = event.involvedObject?.kind ?? ""
            values["involvedObject.namespace"] = event.involvedObject?.namespace ?? ""
            values["involvedObject.name"] = event.involvedObject?.name ?? ""
            values["involvedObject.uid"] = event.involvedObject?.uid ?? ""
            values["involvedObject.apiVersion"] = event.involvedObject?.apiVersion ?? ""
            values["involvedObject.resourceVersion"] = event.involvedObject?.resourceVersion ?? ""
            values["involvedObject.fieldPath"] = event.involvedObject?.fieldPath ?? ""
            values["reason"] = event.reason ?? ""
            values["reportingComponent"] = event.reportingComponent ?? ""
            values["source"] = event.source?.component ?? ""
            values["type"] = event.type ?? ""
        case let controller as ReplicationController:
            values["status.replicas"] = String(controller.status?.replicas ?? 0)
        case let replicaSet as ReplicaSet:
            values["status.replicas"] = String(replicaSet.status?.replicas ?? 0)
        case let job as Job:
            values["status.successful"] = String(job.status?.succeeded ?? 0)
        default:
            break
        }
        return values
    }
}

extension String {
    func replacingAll(_ replacements: [Character: String]) -> String {
        var output = ""
        for character in self { output += replacements[character] ?? String(character) }
        return output
    }
}
