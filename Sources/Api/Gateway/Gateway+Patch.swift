import Foundation
import NIOCore

/// PATCH: the four patch types, applied by the JSON helper's engines to the object's JSON, then
/// the usual update path.
extension Gateway {
    func servePatch(_ resource: ResourceRequest, _ request: GatewayRequest, _ responder: HTTPResponder) async throws(ApiError) -> Int {
        throw ApiError(
            code: 415, reason: "UnsupportedMediaType",
            message: "PATCH of \(resource.type.qualifiedName) is not served by this build yet: use PUT (kubectl replace)")
    }
}
