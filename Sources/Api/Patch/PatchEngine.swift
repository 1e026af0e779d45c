/// PatchEngine applies a PATCH body to an object's JSON, for the three patch types that need
/// nothing but the object: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and Kubernetes'
/// strategic merge patch. Server-side apply (`application/apply-patch+yaml`) also needs the
/// field manager and ownership records: see `ApplyEngine`.
///
/// The caller decodes the result with `ResourceType.decodeJSON` (unknown fields then follow the
/// request's fieldValidation) and runs the usual update path (validation, admission,
/// resourceVersion check).
public enum PatchEngine {
    public static let mergePatch = "application/merge-patch+json"
    public static let jsonPatch = "application/json-patch+json"
    public static let strategicMergePatch = "application/strategic-merge-patch+json"
    public static let applyPatch = "application/apply-patch+yaml"
    /// Every patch Content-Type the API server takes.
    public static let patchTypes = [jsonPatch, mergePatch, strategicMergePatch, applyPatch]

    /// The largest patch body parsed; Kubernetes bounds request bodies at 3 MiB.
    public static let maximumPatchBytes = 3 * 1024 * 1024

    /// Applies `patch` (the raw body) of Content-Type `patchType` to `current`. Malformed patches
    /// are 400 BadRequest; patches that cannot apply to this object (a missing path, a failed
    /// test, a list element without its merge key) are 422 with the path in the message.
    public static func apply(patchType: String, patch: [UInt8], to current: JSONValue, type: ResourceType) throws(ApiError) -> JSONValue {
        let mediaType = patchType.split(separator: ";").first.map { String($0).trimmingSpaces() } ?? ""
        guard patch.count <= maximumPatchBytes else {
            throw ApiError(code: 413, reason: "RequestEntityTooLarge", message: "the patch is larger than \(maximumPatchBytes) bytes")
        }
        switch mediaType {
        case mergePatch:
            return JSONMergePatch.apply(try parse(patch), to: current)
        case jsonPatch:
            return try JSONPatch.apply(try parse(patch), to: current)
        case strategicMergePatch:
            return try StrategicMergePatch.apply(try parse(patch), to: current, type: type)
        case applyPatch:
            throw ApiError.badRequest("apply patches go through server-side apply (ApplyEngine), which needs a fieldManager")
        default:
            throw ApiError.unsupportedPatchType(patchType)
        }
    }

    static func parse(_ bytes: [UInt8]) throws(ApiError) -> JSONValue {
        do {
            return try JSONValue(parsing: bytes)
        } catch {
            throw ApiError.badPatch("the patch is not valid JSON: \(error)")
        }
    }
}

/// JSONMergePatch is RFC 7386: objects merge member by member, null removes a member, any other
/// value (arrays included) replaces.
public enum JSONMergePatch {
    public static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let members) = patch else { return patch }
        var result = target.objectValue ?? JSONObject()
        for (key, value) in members {
            if value.isNull {
                result[key] = nil
            } else {
                result[key] = apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }
}
