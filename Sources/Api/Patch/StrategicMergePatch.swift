/// StrategicMergePatch applies a Kubernetes strategic merge patch to an object, as the API server
/// does for `application/strategic-merge-patch+json` (what `kubectl apply`, `edit`, `label`,
/// `scale` and `patch` send). It is a JSON merge patch that knows the schema:
///
/// * a list whose field has `+patchStrategy=merge` and `+patchMergeKey=k` merges element by
///   element, matched on `k` (containers by name, ports by containerPort, env by name…); other
///   lists of objects are replaced; lists of scalars with the merge strategy are unioned
///   (finalizers);
/// * `null` deletes a member; `{"$patch": "delete"}` deletes a map (or, inside a merge list, the
///   element with the given key); `{"$patch": "replace"}` replaces a map as written, and as a
///   list element replaces the whole list with the other elements; `{"$patch": "merge"}` in a
///   map is the default said explicitly (in a list Kubernetes refuses it, and so does Skiff);
/// * `$retainKeys: [...]` in a map drops the live members not listed (fields with
///   `+patchStrategy=retainKeys`, like a Deployment's strategy and a volume's source);
/// * `$setElementOrder/<list>: [...]` fixes the order of a merged list (kubectl sends it);
/// * `$deleteFromPrimitiveList/<list>: [...]` removes scalars from a merged scalar list.
///
/// Errors name the field path: malformed directives are 400, elements missing their merge key
/// are 422.
public enum StrategicMergePatch {
    static let directive = "$patch"
    static let retainKeys = "$retainKeys"
    static let setElementOrderPrefix = "$setElementOrder/"
    static let deleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList/"

    public static func apply(_ patch: JSONValue, to current: JSONValue, type: ResourceType) throws(ApiError) -> JSONValue {
        guard case .object(let patchMembers) = patch else {
            throw ApiError.badPatch("a strategic merge patch is a JSON object, got \(patch.shortDescription)")
        }
        let original = current.objectValue ?? JSONObject()
        return .object(try mergeMap(original, patchMembers, schema: .of(type), path: .root))
    }

    // MARK: Maps

    static func mergeMap(_ original: JSONObject, _ patch: JSONObject, schema: PatchSchema, path: JSONPath) throws(ApiError) -> JSONObject {
        var patch = patch
        if let directiveValue = patch[directive] {
            switch directiveValue.stringValue {
            case "replace":
                patch[directive] = nil
                return try stripDirectives(patch, schema: schema, path: path)
            case "delete":
                return JSONObject()
            case "merge":
                // The default for maps, said explicitly.
                patch[directive] = nil
            default:
                throw ApiError.badPatch("\(describe(path)): unknown $patch directive \(directiveValue.shortDescription) in a map; expected \"replace\", \"delete\" or \"merge\"")
            }
        }
        var result = original
        if let retain = patch[retainKeys] {
            patch[retainKeys] = nil
            try applyRetainKeys(retain, to: &result, patch: patch, path: path)
        }
        // Ordered and primitive-list directives first, each consuming its list from the patch.
        for key in patch.keys where key.hasPrefix(setElementOrderPrefix) {
            let field = String(key.dropFirst(setElementOrderPrefix.count))
            guard let order = patch[key]?.arrayValue else {
                throw ApiError.badPatch("\(describe(path.appending(key))): expected a list")
            }
            let (fieldSchema, _) = schema.member(field)
            let listPatch = patch[field]
            let merged: [JSONValue]
            if let listPatch, listPatch.isNull {
                result[field] = nil
                patch[key] = nil
                patch[field] = nil
                continue
            }
            let originalList = result[field]?.arrayValue ?? []
            let patchList = try listPatch.map { (value) throws(ApiError) -> [JSONValue] in
                guard let list = value.arrayValue else {
                    throw ApiError.badPatch("\(describe(path.appending(field))): expected a list, got \(value.shortDescription)")
                }
                return list
            } ?? []
            merged = try mergeList(
                originalList, patchList, field: fieldSchema, path: path.appending(field), order: order)
            result[field] = .array(merged)
            patch[key] = nil
            patch[field] = nil
        }
        for (key, value) in patch {
            if key == directive { continue }
            if key.hasPrefix(deleteFromPrimitiveListPrefix) {
                let field = String(key.dropFirst(deleteFromPrimitiveListPrefix.count))
                guard let removals = value.arrayValue else {
                    throw ApiError.badPatch("\(describe(path.appending(key))): expected a list of values to delete")
                }
                if let list = result[field]?.arrayValue {
                    result[field] = .array(list.filter { !removals.contains($0) })
                }
                continue
            }
            if key.hasPrefix("$") {
                throw ApiError.badPatch("\(describe(path.appending(key))): unknown strategic merge patch directive")
            }
            if value.isNull {
                result[key] = nil
                continue
            }
            let (field, memberSchema) = schema.member(key)
            result[key] = try mergeValue(result[key], value, field: field, schema: memberSchema, path: path.appending(key))
        }
        return result
    }

    /// Merges one member: maps recurse, lists follow the field's strategy, anything else (or a
    /// change of type) replaces.
    static func mergeValue(_ original: JSONValue?, _ patch: JSONValue, field: FieldSchema?, schema: PatchSchema, path: JSONPath) throws(ApiError) -> JSONValue {
        switch patch {
        case .object(let patchMembers):
            if field?.patchStrategy == "replace" { return .object(try stripDirectives(patchMembers, schema: schema, path: path)) }
            let originalMembers = original?.objectValue ?? JSONObject()
            if patchMembers[directive]?.stringValue == "delete" { return .object(JSONObject()) }
            return .object(try mergeMap(originalMembers, patchMembers, schema: schema, path: path))
        case .array(let patchElements):
            return .array(try mergeList(original?.arrayValue ?? [], patchElements, field: field, path: path, order: nil))
        default:
            return patch
        }
    }

    // MARK: Lists

    /// Merges `patch` into `original` by the field's strategy; `order` is a $setElementOrder list.
    static func mergeList(_ original: [JSONValue], _ patch: [JSONValue], field: FieldSchema?, path: JSONPath, order: [JSONValue]?) throws(ApiError) -> [JSONValue] {
        let elementSchema = PatchSchema.elements(of: field)
        guard let field, field.mergesLists else {
            // Replace: the patch list as written (with directives stripped from its objects).
            var replaced: [JSONValue] = []
            for (index, element) in patch.enumerated() {
                if case .object(let members) = element {
                    replaced.append(.object(try stripDirectives(members, schema: elementSchema, path: path.appending(index: index))))
                } else {
                    replaced.append(element)
                }
            }
            return replaced
        }
        guard let mergeKey = field.patchMergeKey else {
            return mergeScalars(original, patch, order: order)
        }
        // Special elements: {"$patch": "replace"} replaces the list with the other elements;
        // {"$patch": "delete", key: v} deletes the element with that key.
        var result = original
        var plain: [JSONValue] = []
        var replace = false
        for (index, element) in patch.enumerated() {
            guard case .object(let members) = element else {
                throw ApiError.unprocessablePatch("\(describe(path.appending(index: index))): expected an object with merge key \"\(mergeKey)\", got \(element.shortDescription)")
            }
            guard let directiveValue = members[directive] else {
                plain.append(element)
                continue
            }
            switch directiveValue.stringValue {
            case "replace":
                replace = true
            case "delete":
                guard let key = members[mergeKey] else {
                    throw ApiError.unprocessablePatch("\(describe(path.appending(index: index))): a $patch: delete element needs the merge key \"\(mergeKey)\"")
                }
                result.removeAll { $0[mergeKey] == key }
            case "merge":
                throw ApiError.badPatch("\(describe(path.appending(index: index))): $patch: merge is not supported in lists")
            default:
                throw ApiError.badPatch("\(describe(path.appending(index: index))): unknown $patch directive \(directiveValue.shortDescription); expected \"replace\" or \"delete\"")
            }
        }
        if replace {
            var replaced: [JSONValue] = []
            for (index, element) in plain.enumerated() {
                replaced.append(.object(try stripDirectives(element.objectValue ?? JSONObject(), schema: elementSchema, path: path.appending(index: index))))
            }
            return replaced
        }
        for (index, element) in plain.enumerated() {
            let elementPath = path.appending(index: index)
            guard let members = element.objectValue, let key = members[mergeKey] else {
                throw ApiError.unprocessablePatch("\(describe(elementPath)): the element has no merge key \"\(mergeKey)\"; every element of \(describe(path)) must name its \"\(mergeKey)\"")
            }
            if let position = result.firstIndex(where: { $0[mergeKey] == key }) {
                result[position] = .object(try mergeMap(result[position].objectValue ?? JSONObject(), members, schema: elementSchema, path: elementPath))
            } else {
                result.append(.object(try mergeMap(JSONObject(), members, schema: elementSchema, path: elementPath)))
            }
        }
        return normalizeOrder(result, patchOrder: order ?? plain, serverOrder: original) { $0[mergeKey] ?? .null }
    }

    /// A scalar list with the merge strategy: the union, without duplicates.
    static func mergeScalars(_ original: [JSONValue], _ patch: [JSONValue], order: [JSONValue]?) -> [JSONValue] {
        var result: [JSONValue] = []
        for value in original + patch where !result.contains(value) { result.append(value) }
        return normalizeOrder(result, patchOrder: order ?? patch, serverOrder: original) { $0 }
    }

    /// Kubernetes' element order after a merge (normalizeElementOrder): the elements the patch
    /// names, in the patch's order (or its $setElementOrder), interleaved with the elements only
    /// the server has, which keep their relative order. A server-only element goes first only
    /// when the server had it before the next patch element; so new elements come before the
    /// server-only ones (`kubectl patch` adding a container lists it first).
    static func normalizeOrder(_ merged: [JSONValue], patchOrder: [JSONValue], serverOrder: [JSONValue], key: (JSONValue) -> JSONValue) -> [JSONValue] {
        let patchKeys = patchOrder.map { $0.objectValue != nil ? key($0) : $0 }
        let serverKeys = serverOrder.map(key)
        func patchIndex(_ value: JSONValue) -> Int? { patchKeys.firstIndex(of: key(value)) }
        func serverIndex(_ value: JSONValue) -> Int? { serverKeys.firstIndex(of: key(value)) }
        var fromPatch = merged.filter { patchIndex($0) != nil }
        var serverOnly = merged.filter { patchIndex($0) == nil }
        // Stable sorts: the patch's order for its elements, the server's for the rest.
        fromPatch = fromPatch.enumerated().sorted { left, right in
            (patchIndex(left.element)!, left.offset) < (patchIndex(right.element)!, right.offset)
        }.map(\.element)
        serverOnly = serverOnly.enumerated().sorted { left, right in
            (serverIndex(left.element) ?? Int.max, left.offset) < (serverIndex(right.element) ?? Int.max, right.offset)
        }.map(\.element)
        var result: [JSONValue] = []
        result.reserveCapacity(merged.count)
        var left = 0
        var right = 0
        while left < serverOnly.count || right < fromPatch.count {
            if left == serverOnly.count {
                result.append(fromPatch[right])
                right += 1
            } else if right == fromPatch.count {
                result.append(serverOnly[left])
                left += 1
            } else if let serverPosition = serverIndex(serverOnly[left]), let patchPosition = serverIndex(fromPatch[right]),
                serverPosition < patchPosition
            {
                result.append(serverOnly[left])
                left += 1
            } else {
                result.append(fromPatch[right])
                right += 1
            }
        }
        return result
    }

    // MARK: Directives

    /// `$retainKeys`: live members not listed go; every member the patch sets must be listed.
    static func applyRetainKeys(_ retain: JSONValue, to result: inout JSONObject, patch: JSONObject, path: JSONPath) throws(ApiError) {
        guard let list = retain.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
            throw ApiError.badPatch("\(describe(path.appending(retainKeys))): expected a list of member names")
        }
        let keep = Set(list.compactMap(\.stringValue))
        for (key, value) in patch where !key.hasPrefix("$") && !value.isNull && !keep.contains(key) {
            throw ApiError.unprocessablePatch("\(describe(path.appending(key))): the patch sets a member that is not in $retainKeys")
        }
        for key in result.keys where !keep.contains(key) { result[key] = nil }
    }

    /// A map taken as written: directives in it are resolved against an empty original, so no
    /// `$…` member reaches the stored object.
    static func stripDirectives(_ members: JSONObject, schema: PatchSchema, path: JSONPath) throws(ApiError) -> JSONObject {
        guard members.keys.contains(where: { $0.hasPrefix("$") }) || members.contains(where: { containsDirective($0.value) }) else {
            return members
        }
        return try mergeMap(JSONObject(), members, schema: schema, path: path)
    }

    static func containsDirective(_ value: JSONValue) -> Bool {
        switch value {
        case .object(let members): members.keys.contains { $0.hasPrefix("$") } || members.contains { containsDirective($0.value) }
        case .array(let elements): elements.contains(where: containsDirective)
        default: false
        }
    }

    static func describe(_ path: JSONPath) -> String {
        path.isRoot ? "the patch" : path.description
    }
}
