import Foundation
import NIOCore
import NIOHTTP1

/// PATCH: JSON merge patch, JSON patch and strategic merge patch are applied to the object's
/// JSON by `PatchEngine`; server-side apply (`application/apply-patch+yaml`) by `ApplyEngine`,
/// which also creates a missing object. The result is decoded (unknown fields follow
/// `fieldValidation`) and goes through the usual update path: admission, validation and the
/// resourceVersion check, retried on a fresh read when another writer got in between.
extension Gateway {
    func servePatch(_ resource: ResourceRequest, _ request: GatewayRequest, _ responder: HTTPResponder) async throws(ApiError) -> Int {
        let patchType = request.contentType
        guard PatchEngine.patchTypes.contains(patchType) else {
            throw ApiError(
                code: 415, reason: "UnsupportedMediaType",
                message: "the body of a PATCH must be one of \(PatchEngine.patchTypes.joined(separator: ", ")), not \(patchType.isEmpty ? "untyped" : patchType)")
        }
        let patch = request.bodyBytes
        guard !patch.isEmpty else { throw .badRequest("the PATCH request has no body") }
        let type = resource.type
        let validation = try request.query.fieldValidation()
        let subresource = resource.subresource
        let warnings = WarningsBox()
        var resource = resource
        let result: (object: ServedObject, created: Bool)
        if patchType == PatchEngine.applyPatch {
            guard subresource.isEmpty || subresource == "status" else {
                throw .badRequest("server-side apply is served for objects and their status, not for \(type.qualifiedName)/\(subresource)")
            }
            let manager = resource.fieldManager
            let force = try request.query.bool("force") ?? false
            resource.fieldManager = ""  // ApplyEngine records the Apply entry itself.
            let applying = resource
            result = try await onLoop { () throws(ApiError) in
                try await server.patch(applying, createIfMissing: true) { (current) throws(ApiError) -> WriteBody in
                    var live: (any KubernetesObject)?
                    if case .stored(let object)? = current { live = object.object }
                    let applied = try ApplyEngine.apply(
                        patch: patch, to: live, type: type, manager: manager, force: force, subresource: subresource)
                    warnings.set(try validation.check(unknownFields: applied.unknownFields))
                    return .object(applied.object)
                }
            }
        } else {
            if let force = request.query["force"], !force.isEmpty {
                throw .badRequest("force is only allowed for apply patches (application/apply-patch+yaml)")
            }
            let name = resource.name
            let patching = resource
            result = try await onLoop { () throws(ApiError) in
                try await server.patch(patching) { (current) throws(ApiError) -> WriteBody in
                    guard let current else { throw .notFound(type, name) }
                    let currentJSON = Gateway.objectJSON(current, type: type)
                    let patched = try PatchEngine.apply(patchType: patchType, patch: patch, to: currentJSON, type: type)
                    switch current {
                    case .scale:
                        let (scale, unknown) = try Gateway.decodeMessage(Scale.self, patched, apiVersion: "autoscaling/v1", kind: "Scale")
                        warnings.set(try validation.check(unknownFields: unknown))
                        return .scale(scale)
                    case .stored, .status:
                        let decoded: (object: any KubernetesObject, unknownFields: [String])
                        do throws(JSONDecodingError) {
                            decoded = try type.decodeJSON(patched)
                        } catch {
                            throw error.apiError(for: type)
                        }
                        warnings.set(try validation.check(unknownFields: decoded.unknownFields))
                        return .object(decoded.object)
                    }
                }
            }
        }
        let status: HTTPResponseStatus = result.created ? .created : .ok
        respond(json: Self.objectJSON(result.object, type: type), status: status, warnings: warnings.value, to: responder)
        return Int(status.code)
    }
}

/// WarningsBox carries the warnings of a patch out of the transform closure, which may run more
/// than once (conflict retries): the last run's warnings are the ones answered.
final class WarningsBox: @unchecked Sendable {
    // Safety of @unchecked Sendable: written by the transform and read after the operation
    // returned, never at the same time (the operation awaits the transform).
    private(set) var value: [String] = []
    func set(_ warnings: [String]) { value = warnings }
}
