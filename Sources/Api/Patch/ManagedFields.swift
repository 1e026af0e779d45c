import Foundation

/// ManagedFields keeps `metadata.managedFields`: which manager (client) owns which fields, as
/// server-side apply needs to detect conflicts and to remove what an applier stops applying.
/// Apply writes go through `ApplyEngine`; every other write from a client that names a field
/// manager (create, update, patch) goes through `recordUpdate`, so that a later apply sees who
/// set what (`kubectl edit` owning a replica count makes `kubectl apply --server-side` fail with
/// a conflict on `.spec.replicas`).
public enum ManagedFields {
    /// Update entries kept per object; older ones are folded into "ancient-changes", as
    /// Kubernetes does, so a busy object's metadata stays bounded.
    public static let maximumUpdateEntries = 10
    static let ancientChangesManager = "ancient-changes"

    /// One managedFields entry with its set decoded.
    struct Entry {
        var manager: String
        var operation: String
        var apiVersion: String
        var time: JSONValue?
        var subresource: String
        var fields: FieldSet

        func matches(manager: String, operation: String, subresource: String) -> Bool {
            self.manager == manager && self.operation == operation && self.subresource == subresource
        }

        var jsonValue: JSONValue {
            var object = JSONObject()
            object["manager"] = .string(manager)
            object["operation"] = .string(operation)
            object["apiVersion"] = .string(apiVersion)
            if let time { object["time"] = time }
            object["fieldsType"] = "FieldsV1"
            object["fieldsV1"] = fields.fieldsV1
            if !subresource.isEmpty { object["subresource"] = .string(subresource) }
            return .object(object)
        }

        /// How Kubernetes names a manager in conflict messages.
        var printed: String {
            var text = JSONValue.string(manager).compactText
            if !subresource.isEmpty { text += " with subresource \(JSONValue.string(subresource).compactText)" }
            if operation == "Update" { text += " using \(apiVersion)" }
            return text
        }
    }

    /// Records a non-apply write by `manager`: it gains the fields it added or changed, loses the
    /// ones it removed, and every other manager loses the fields that changed (an update takes
    /// ownership without conflicts). `old` is nil on create. Returns `new` with its
    /// managedFields set.
    ///
    /// managedFields the client sent are kept as the starting point only when they differ from
    /// the stored ones, as Kubernetes does: that is how `kubectl apply --server-side` moves a
    /// client-side-apply history to its Apply entry (a JSON patch of /metadata/managedFields),
    /// and `[{}]` clears the records. Sending none (or the same) changes nothing.
    public static func recordUpdate(
        manager: String, old: (any KubernetesObject)?, new: any KubernetesObject, subresource: String = "", now: Time = .now
    ) -> any KubernetesObject {
        let type = new.resourceType
        let oldJSON = old.map(type.encodeJSON)
        let newJSON = type.encodeJSON(new)
        let entries = recordUpdate(manager: manager, old: oldJSON, new: newJSON, type: type, subresource: subresource, now: now)
        var result = new
        var meta = result.meta
        meta.managedFields = entries.map(\.managedFieldsEntry)
        result.meta = meta
        return result
    }

    static func recordUpdate(
        manager: String, old: JSONValue?, new: JSONValue, type: ResourceType, subresource: String, now: Time
    ) -> [Entry] {
        let sent = new["metadata"]?["managedFields"]
        var entries = sent != nil && sent != old?["metadata"]?["managedFields"] ? read(new) : (old.map(read) ?? [])
        let schema = PatchSchema.of(type)
        let newSet = owned(FieldPaths.set(of: new, schema: schema), type: type, subresource: subresource)
        let oldSet = old.map { owned(FieldPaths.set(of: $0, schema: schema), type: type, subresource: subresource) } ?? FieldSet()
        var changed = FieldSet()
        for path in newSet.paths {
            let isLeaf = newSet.node(at: path)?.children.isEmpty ?? true
            if FieldPaths.differs(old.flatMap { FieldPaths.value(at: path, in: $0) }, FieldPaths.value(at: path, in: new), leaf: isLeaf) {
                changed.insert(path)
            }
        }
        let removed = oldSet.subtracting(newSet)
        let lost = changed.union(removed)
        for index in entries.indices where !entries[index].matches(manager: manager, operation: "Update", subresource: subresource) {
            entries[index].fields = entries[index].fields.subtracting(lost)
        }
        let time = now.jsonValue()
        if let index = entries.firstIndex(where: { $0.matches(manager: manager, operation: "Update", subresource: subresource) }) {
            entries[index].fields = entries[index].fields.union(changed).subtracting(removed)
            if !changed.isEmpty || !removed.isEmpty { entries[index].time = time }
            entries[index].apiVersion = type.apiVersion
        } else if !changed.isEmpty {
            entries.append(Entry(manager: manager, operation: "Update", apiVersion: type.apiVersion, time: time, subresource: subresource, fields: changed))
        }
        return bounded(entries.filter { !$0.fields.isEmpty })
    }

    /// Folds the oldest Update entries beyond the bound into one "ancient-changes" entry.
    static func bounded(_ entries: [Entry]) -> [Entry] {
        let updates = entries.filter { $0.operation == "Update" && $0.manager != ancientChangesManager }
        guard updates.count > maximumUpdateEntries else { return entries }
        let byAge = updates.sorted { ($0.time?.stringValue ?? "") < ($1.time?.stringValue ?? "") }
        let folded = byAge.prefix(updates.count - maximumUpdateEntries)
        var ancient = entries.first { $0.manager == ancientChangesManager }
            ?? Entry(manager: ancientChangesManager, operation: "Update", apiVersion: folded.first!.apiVersion, time: nil, subresource: "", fields: FieldSet())
        for entry in folded { ancient.fields = ancient.fields.union(entry.fields) }
        var result = entries.filter { entry in
            entry.manager != ancientChangesManager
                && !folded.contains { $0.manager == entry.manager && $0.operation == entry.operation && $0.subresource == entry.subresource }
        }
        result.insert(ancient, at: 0)
        return result
    }

    // MARK: Reading and writing

    /// The entries in an object's JSON; entries that cannot be read are dropped (the next write
    /// records fresh ownership).
    static func read(_ object: JSONValue) -> [Entry] {
        guard let list = object["metadata"]?["managedFields"]?.arrayValue else { return [] }
        return list.compactMap { value in
            guard let manager = value["manager"]?.stringValue, let fields = value["fieldsV1"].flatMap(FieldSet.init(fieldsV1:))
            else { return nil }
            return Entry(
                manager: manager, operation: value["operation"]?.stringValue ?? "Update",
                apiVersion: value["apiVersion"]?.stringValue ?? "", time: value["time"],
                subresource: value["subresource"]?.stringValue ?? "", fields: fields)
        }
    }

    static func write(_ entries: [Entry], into object: inout JSONValue) {
        guard case .object(var members) = object else { return }
        var metadata = members["metadata"]?.objectValue ?? JSONObject()
        metadata["managedFields"] = entries.isEmpty ? nil : .array(entries.map(\.jsonValue))
        members["metadata"] = .object(metadata)
        object = .object(members)
    }

    /// The fields a set may hold: never the type and identity fields Kubernetes strips, and
    /// for kinds with a status subresource only spec-side fields through the main resource and
    /// only status through the status subresource.
    static func owned(_ set: FieldSet, type: ResourceType, subresource: String) -> FieldSet {
        var result = set
        for stripped in ["apiVersion", "kind"] { result.remove(prefix: [FieldSet.field(stripped)]) }
        for member in ["name", "namespace", "creationTimestamp", "selfLink", "uid", "generation", "managedFields", "resourceVersion"] {
            result.remove(prefix: [FieldSet.field("metadata"), FieldSet.field(member)])
        }
        if var metadata = result.children[FieldSet.field("metadata")] {
            metadata.isMember = false
            result.children[FieldSet.field("metadata")] = metadata.isEmpty ? nil : metadata
        }
        if type.subresources.contains("status") {
            if subresource == "status" {
                result.children = result.children.filter { $0.key == FieldSet.field("status") }
            } else {
                result.remove(prefix: [FieldSet.field("status")])
            }
        }
        return result
    }
}

extension ManagedFields.Entry {
    var managedFieldsEntry: ManagedFieldsEntry {
        var entry = ManagedFieldsEntry()
        entry.manager = manager
        entry.operation = operation
        entry.apiVersion = apiVersion
        var context = JSONDecodingContext()
        entry.time = time.flatMap { try? Time(json: $0, at: .root, context: &context) }
        entry.fieldsType = "FieldsV1"
        entry.fieldsV1 = FieldsV1(raw: fields.fieldsV1.serialized())
        entry.subresource = subresource.isEmpty ? nil : subresource
        return entry
    }
}

extension Time {
    /// The current wall-clock time, whole seconds (as managedFields record it).
    public static var now: Time { Time(seconds: Int64(Date().timeIntervalSince1970)) }
}

/// FieldPaths computes field sets of JSON values and reads values at set paths.
enum FieldPaths {
    /// The fields a value sets (structured-merge-diff's ToFieldSet): every scalar leaf, every
    /// element of an associative or set list (as a node, with its members), every entry of a map
    /// of arbitrary keys, empty objects and nulls, and atomic lists and structs as single
    /// leaves. Key paths of list elements use `resolved`'s matching element when given (its
    /// full key, after a merge).
    static func set(of value: JSONValue, schema: PatchSchema, resolved: JSONValue? = nil) -> FieldSet {
        var set = FieldSet()
        collect(value, resolved: resolved, schema: schema, field: nil, path: [], into: &set)
        return set
    }

    static func collect(_ value: JSONValue, resolved: JSONValue?, schema: PatchSchema, field: FieldSchema?, path: [String], into set: inout FieldSet) {
        switch value {
        case .object(let members):
            if members.isEmpty || isAtomic(field: field, schema: schema) {
                set.insert(path)
                return
            }
            let isMap: Bool
            if case .map = schema { isMap = true } else { isMap = false }
            for (key, member) in members {
                let (memberField, memberSchema) = schema.member(key)
                let childPath = path + [FieldSet.field(key)]
                collect(member, resolved: resolved?[key], schema: memberSchema, field: memberField, path: childPath, into: &set)
                if isMap { set.insert(childPath) }
            }
        case .array(let elements):
            let elementSchema = PatchSchema.elements(of: field)
            switch field?.listType {
            case .map?:
                let keys = field?.listMapKeys ?? []
                let resolvedElements = resolved?.arrayValue ?? []
                for element in elements {
                    let match = resolvedElements.first { keysMatch(element, $0, keys: keys) } ?? element
                    let elementPath = path + [FieldSet.key(keyFields(match, keys: keys))]
                    set.insert(elementPath)
                    collect(element, resolved: match, schema: elementSchema, field: nil, path: elementPath, into: &set)
                }
            case .set?:
                for element in elements { set.insert(path + [FieldSet.value(element)]) }
            default:
                set.insert(path)
            }
        default:
            set.insert(path)
        }
    }

    static func isAtomic(field: FieldSchema?, schema: PatchSchema) -> Bool {
        field?.mapType == "atomic" || field?.structType == "atomic" || schema.isAtomicStruct
    }

    /// The key fields of a list element that it has.
    static func keyFields(_ element: JSONValue, keys: [String]) -> JSONObject {
        var result = JSONObject()
        for key in keys {
            if let value = element[key], !value.isNull { result[key] = value }
        }
        return result
    }

    /// Whether two elements of an associative list are the same element: the key fields both
    /// give are equal (and at least one is given). A key field only one side gives (a defaulted
    /// protocol) does not tell them apart.
    static func keysMatch(_ left: JSONValue, _ right: JSONValue, keys: [String]) -> Bool {
        var compared = 0
        for key in keys {
            guard let leftValue = left[key], let rightValue = right[key], !leftValue.isNull, !rightValue.isNull else { continue }
            guard leftValue == rightValue else { return false }
            compared += 1
        }
        return compared > 0
    }

    /// The value at a set path; nil when absent.
    static func value(at path: [String], in root: JSONValue) -> JSONValue? {
        var current = root
        for element in path {
            guard let next = child(element, of: current) else { return nil }
            current = next.value
        }
        return current
    }

    /// The child of `value` named by one path element, with its position for arrays.
    static func child(_ element: String, of value: JSONValue) -> (value: JSONValue, index: Int?)? {
        let body = String(element.dropFirst(2))
        switch (element.prefix(2), value) {
        case ("f:", .object(let members)):
            return members[body].map { ($0, nil) }
        case ("k:", .array(let elements)):
            guard let keys = try? JSONValue(parsing: body).objectValue else { return nil }
            guard let index = elements.firstIndex(where: { candidate in keys.allSatisfy { candidate[$0.key] == $0.value } }) else { return nil }
            return (elements[index], index)
        case ("v:", .array(let elements)):
            guard let wanted = try? JSONValue(parsing: body), let index = elements.firstIndex(of: wanted) else { return nil }
            return (elements[index], index)
        case ("i:", .array(let elements)):
            guard let index = Int(body), elements.indices.contains(index) else { return nil }
            return (elements[index], index)
        default:
            return nil
        }
    }

    /// `value` without what is at `path` (unchanged when the path is absent).
    static func removing(_ path: ArraySlice<String>, from value: JSONValue) -> JSONValue {
        guard let first = path.first, let (child, index) = child(first, of: value) else { return value }
        let rest = path.dropFirst()
        switch value {
        case .object(var members):
            let name = String(first.dropFirst(2))
            members[name] = rest.isEmpty ? nil : removing(rest, from: child)
            return .object(members)
        case .array(var elements):
            guard let index else { return value }
            if rest.isEmpty {
                elements.remove(at: index)
            } else {
                elements[index] = removing(rest, from: child)
            }
            return .array(elements)
        default:
            return value
        }
    }

    /// Whether a field changed: leaves by value, inner nodes (objects, list elements) only by
    /// being there or not.
    static func differs(_ before: JSONValue?, _ after: JSONValue?, leaf: Bool) -> Bool {
        switch (before, after) {
        case (nil, nil): return false
        case (nil, _), (_, nil): return true
        case (let before?, let after?):
            if !leaf, before.isContainer, after.isContainer { return false }
            return before != after
        }
    }
}

extension JSONValue {
    var isContainer: Bool {
        switch self {
        case .object, .array: true
        default: false
        }
    }
}
