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

    /// Whether every term holds for `object`. Only the fields the terms name are read: a watch
    /// filtered on `spec.nodeName` runs this for every pod event it is offered.
    public func matches(_ object: any KubernetesObject) -> Bool {
        for term in terms {
            let actual = Self.fieldValue(term.field, of: object) ?? ""
            if term.negated ? actual == term.value : actual != term.value { return false }
        }
        return true
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
        var values: [String: String] = [:]
        for field in supportedFields(of: object.resourceType) {
            values[field] = fieldValue(field, of: object)
        }
        return values
    }

    /// One selectable field of `object` as a string (booleans as "true"/"false", absent fields
    /// as ""); nil when the kind has no such selectable field.
    public static func fieldValue(_ field: String, of object: any KubernetesObject) -> String? {
        switch field {
        case "metadata.name": return object.metadata?.name ?? ""
        case "metadata.namespace": return object.metadata?.namespace ?? ""
        default: break
        }
        switch object {
        case let pod as Pod:
            switch field {
            case "spec.nodeName": return pod.spec?.nodeName ?? ""
            case "spec.restartPolicy": return pod.spec?.restartPolicy ?? ""
            case "spec.schedulerName": return pod.spec?.schedulerName ?? ""
            case "spec.serviceAccountName": return pod.spec?.serviceAccountName ?? ""
            case "spec.hostNetwork": return (pod.spec?.hostNetwork ?? false) ? "true" : "false"
            case "status.phase": return pod.status?.phase ?? ""
            case "status.podIP": return pod.status?.podIP ?? ""
            case "status.nominatedNodeName": return pod.status?.nominatedNodeName ?? ""
            default: return nil
            }
        case let node as Node:
            return field == "spec.unschedulable" ? ((node.spec?.unschedulable ?? false) ? "true" : "false") : nil
        case let namespace as Namespace:
            return field == "status.phase" ? namespace.status?.phase ?? "" : nil
        case let secret as Secret:
            return field == "type" ? secret.type ?? "" : nil
        case let event as Event:
            switch field {
            case "involvedObject.kind": return event.involvedObject?.kind ?? ""
            case "involvedObject.namespace": return event.involvedObject?.namespace ?? ""
            case "involvedObject.name": return event.involvedObject?.name ?? ""
            case "involvedObject.uid": return event.involvedObject?.uid ?? ""
            case "involvedObject.apiVersion": return event.involvedObject?.apiVersion ?? ""
            case "involvedObject.resourceVersion": return event.involvedObject?.resourceVersion ?? ""
            case "involvedObject.fieldPath": return event.involvedObject?.fieldPath ?? ""
            case "reason": return event.reason ?? ""
            case "reportingComponent": return event.reportingComponent ?? ""
            case "source": return event.source?.component ?? ""
            case "type": return event.type ?? ""
            default: return nil
            }
        case let controller as ReplicationController:
            return field == "status.replicas" ? String(controller.status?.replicas ?? 0) : nil
        case let replicaSet as ReplicaSet:
            return field == "status.replicas" ? String(replicaSet.status?.replicas ?? 0) : nil
        case let job as Job:
            return field == "status.successful" ? String(job.status?.succeeded ?? 0) : nil
        default:
            return nil
        }
    }
}

extension String {
    func replacingAll(_ replacements: [Character: String]) -> String {
        var output = ""
        for character in self { output += replacements[character] ?? String(character) }
        return output
    }
}
