/// ApplyEngine is server-side apply (`PATCH` with `application/apply-patch+yaml`, what
/// `kubectl apply --server-side` sends): the body is the manager's whole intent for the object,
/// merged into the live object field by field.
///
/// * The applied configuration's fields (its field set) become the manager's Apply entry in
///   `metadata.managedFields`, replacing the set it applied before.
/// * Merging follows the schema: objects merge by member, associative lists
///   (`+listType=map`) by their keys, sets (`+listType=set`) by value; atomic lists and structs
///   are replaced.
/// * Fields the manager applied before but no longer applies are removed from the object,
///   unless another manager still owns them.
/// * Changing the value of a field another manager owns is a 409 Conflict naming each field
///   and owner, unless `force` is set: then ownership moves to the applier. Setting a field to
///   the value it already has shares ownership.
public enum ApplyEngine {
    public struct Result: Sendable {
        /// The object to store (the live object with the configuration applied and
        /// managedFields updated), or to create when there was none.
        public var object: any KubernetesObject
        /// Its JSON, as decoded.
        public var json: JSONValue
        /// Unknown fields of the applied configuration (full paths), for the request's
        /// fieldValidation (`FieldValidation.check`).
        public var unknownFields: [String]
        /// True when there was no live object: the caller creates it.
        public var created: Bool
    }

    /// Applies `patch` (YAML or JSON) as `manager` to `live` (nil: the object does not exist
    /// yet). `subresource` is "" or "status". Errors: 400 for a missing manager or a body that
    /// is not an object of this kind, 409 Conflict for fields owned by others.
    public static func apply(
        patch: [UInt8], to live: (any KubernetesObject)?, type: ResourceType, manager: String, force: Bool,
        subresource: String = "", now: Time = .now
    ) throws(ApiError) -> Result {
        guard !manager.isEmpty else {
            throw ApiError.badRequest("PATCH requests of type application/apply-patch+yaml need a fieldManager; set the fieldManager query parameter")
        }
        let configuration: JSONValue
        do {
            configuration = try YAMLDocument.parse(patch)
        } catch {
            throw ApiError.badRequest("the applied configuration cannot be read: \(error)")
        }
        guard case .object(var members) = configuration else {
            throw ApiError.badRequest("the applied configuration must be an object, got \(configuration.shortDescription)")
        }
        guard members["apiVersion"]?.stringValue != nil, members["kind"]?.stringValue != nil else {
            throw ApiError.badRequest(
                "the applied configuration must set apiVersion and kind (\"\(type.apiVersion)\", \"\(type.kind)\")")
        }
        // Check the types and collect unknown fields before anything is merged.
        let unknownFields: [String]
        do {
            unknownFields = try type.decodeJSON(configuration).unknownFields
        } catch {
            throw error.apiError(for: type)
        }
        // Ownership records are the server's; fields the operation may not touch are reset.
        if var metadata = members["metadata"]?.objectValue {
            metadata["managedFields"] = nil
            members["metadata"] = .object(metadata)
        }
        if type.subresources.contains("status") {
            if subresource == "status" {
                members = JSONObject(members.filter { ["apiVersion", "kind", "metadata", "status"].contains($0.key) }.map { ($0.key, $0.value) })
            } else {
                members["status"] = nil
            }
        }
        let applied = JSONValue.object(members)

        let schema = PatchSchema.of(type)
        let liveJSON = live.map(type.encodeJSON)
        var merged = merge(applied, into: liveJSON ?? ["apiVersion": .string(type.apiVersion), "kind": .string(type.kind)], schema: schema, field: nil)

        var entries = liveJSON.map(ManagedFields.read) ?? []
        let ownIndex = entries.firstIndex { $0.matches(manager: manager, operation: "Apply", subresource: subresource) }
        let previous = ownIndex.map { entries[$0].fields } ?? FieldSet()
        let appliedSet = ManagedFields.owned(FieldPaths.set(of: applied, schema: schema, resolved: merged), type: type, subresource: subresource)

        // Conflicts: fields this apply changes that another manager owns.
        var conflicts: [(entry: Int, path: [String])] = []
        if let liveJSON {
            for path in appliedSet.paths {
                let isLeaf = appliedSet.node(at: path)?.children.isEmpty ?? true
                guard FieldPaths.differs(FieldPaths.value(at: path, in: liveJSON), FieldPaths.value(at: path, in: merged), leaf: isLeaf)
                else { continue }
                for (index, entry) in entries.enumerated() where index != ownIndex && entry.fields.contains(path) {
                    conflicts.append((index, path))
                }
            }
        }
        if !conflicts.isEmpty {
            guard force else {
                throw conflictError(conflicts.map { (entries[$0.entry], $0.path) }, type: type, name: merged["metadata"]?["name"]?.stringValue ?? "")
            }
            for (index, path) in conflicts {
                var lost = FieldSet()
                lost.insert(path)
                entries[index].fields = entries[index].fields.subtracting(lost)
            }
        }

        // Fields applied before and not now go, unless someone else still owns them (or
        // something below them). Parents first: a list element is found by its key fields,
        // which go with it.
        var others = FieldSet()
        for (index, entry) in entries.enumerated() where index != ownIndex { others = others.union(entry.fields) }
        let dropped = previous.subtracting(appliedSet)
        for path in dropped.paths.sorted(by: { $0.count < $1.count }) where others.node(at: path) == nil {
            merged = FieldPaths.removing(path[...], from: merged)
        }

        let entry = ManagedFields.Entry(
            manager: manager, operation: "Apply", apiVersion: type.apiVersion, time: now.jsonValue(), subresource: subresource,
            fields: appliedSet)
        if let ownIndex {
            entries[ownIndex] = entry
        } else {
            entries.append(entry)
        }
        ManagedFields.write(ManagedFields.bounded(entries.filter { !$0.fields.isEmpty }), into: &merged)

        let object: any KubernetesObject
        do {
            object = try type.decodeJSON(merged).object
        } catch {
            throw error.apiError(for: type)
        }
        return Result(object: object, json: merged, unknownFields: unknownFields, created: live == nil)
    }

    // MARK: Merging

    /// The applied value merged into the live one, by the schema.
    static func merge(_ applied: JSONValue, into live: JSONValue?, schema: PatchSchema, field: FieldSchema?) -> JSONValue {
        switch applied {
        case .object(let members):
            if FieldPaths.isAtomic(field: field, schema: schema) { return applied }
            var result = live?.objectValue ?? JSONObject()
            for (key, value) in members {
                if value.isNull {
                    result[key] = nil
                    continue
                }
                let (memberField, memberSchema) = schema.member(key)
                result[key] = merge(value, into: result[key], schema: memberSchema, field: memberField)
            }
            return .object(result)
        case .array(let elements):
            let elementSchema = PatchSchema.elements(of: field)
            switch field?.listType {
            case .map?:
                let keys = field?.listMapKeys ?? []
                var result = live?.arrayValue ?? []
                for element in elements {
                    if let index = result.firstIndex(where: { FieldPaths.keysMatch(element, $0, keys: keys) }) {
                        result[index] = merge(element, into: result[index], schema: elementSchema, field: nil)
                    } else {
                        result.append(merge(element, into: nil, schema: elementSchema, field: nil))
                    }
                }
                return .array(result)
            case .set?:
                var result = live?.arrayValue ?? []
                for element in elements where !result.contains(element) { result.append(element) }
                return .array(result)
            default:
                return applied
            }
        default:
            return applied
        }
    }

    // MARK: Conflicts

    /// Kubernetes' apply conflict: `Apply failed with 1 conflict: conflict with
    /// "kubectl-client-side-apply" using apps/v1: .spec.replicas`, one cause per field.
    static func conflictError(_ conflicts: [(entry: ManagedFields.Entry, path: [String])], type: ResourceType, name: String) -> ApiError {
        let sorted = conflicts.sorted { ($0.entry.printed, FieldSet.describe($0.path)) < ($1.entry.printed, FieldSet.describe($1.path)) }
        let message: String
        if sorted.count == 1 {
            message = "Apply failed with 1 conflict: conflict with \(sorted[0].entry.printed): \(FieldSet.describe(sorted[0].path))"
        } else {
            var lines: [String] = []
            var current = ""
            for conflict in sorted {
                if conflict.entry.printed != current {
                    current = conflict.entry.printed
                    lines.append("conflicts with \(current):")
                }
                lines.append("- \(FieldSet.describe(conflict.path))")
            }
            message = "Apply failed with \(sorted.count) conflicts: " + lines.joined(separator: "\n")
        }
        var details = StatusDetails()
        details.name = name
        details.group = type.group
        details.kind = type.plural
        details.causes = sorted.map { conflict in
            StatusCause.field(FieldSet.describe(conflict.path), "FieldManagerConflict", "conflict with \(conflict.entry.printed)")
        }
        return ApiError(code: 409, reason: "Conflict", message: message, details: details)
    }
}
