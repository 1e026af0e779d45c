import Foundation
import NIOHTTP1
import NIOCore

/// SelfSubjectAccessReview (authorization.k8s.io/v1, create only): "may I do this?", answered by
/// the API server's own authorizer chain for the caller — what `kubectl auth can-i` asks.
extension Gateway {
    func serveSelfSubjectAccessReview(_ request: GatewayRequest, user: UserInfo, _ responder: HTTPResponder) async throws(ApiError) -> Int {
        let json = request.contentType == KubernetesProtobuf.mediaType
            ? try Self.reviewFromProtobuf(request.bodyBytes)
            : try parseJSONBody(request, what: "SelfSubjectAccessReview")
        guard var review = json.objectValue else { throw .badRequest("expected a SelfSubjectAccessReview object") }
        if let kind = review["kind"]?.stringValue, kind != "SelfSubjectAccessReview" {
            throw .badRequest("the body is a \(kind), expected a SelfSubjectAccessReview")
        }
        let attributes = try Self.reviewAttributes(review["spec"], user: user)
        let decision = try await onLoop { server.pipeline.authorizer.authorize(attributes) }
        var status = JSONObject()
        switch decision {
        case .allow(let reason):
            status["allowed"] = true
            if !reason.isEmpty { status["reason"] = .string(reason) }
        case .deny(let reason):
            status["allowed"] = false
            // The chain denies when no authorizer allows; "denied" means an explicit refusal,
            // which RBAC never gives. Kubernetes reports both as allowed: false.
            if !reason.isEmpty { status["reason"] = .string(reason) }
        case .noOpinion(let reason):
            status["allowed"] = false
            if !reason.isEmpty { status["reason"] = .string(reason) }
        }
        review["kind"] = "SelfSubjectAccessReview"
        review["apiVersion"] = "authorization.k8s.io/v1"
        if review["metadata"] == nil { review["metadata"] = .object(JSONObject()) }
        review["status"] = .object(status)
        respond(json: .object(review), status: .created, to: responder)
        return 201
    }

    /// A protobuf SelfSubjectAccessReview (what kubectl's typed client sends) as its JSON form:
    /// spec (2) with resourceAttributes (1: namespace 1, verb 2, group 3, version 4, resource 5,
    /// subresource 6, name 7) or nonResourceAttributes (2: path 1, verb 2).
    static func reviewFromProtobuf(_ body: [UInt8]) throws(ApiError) -> JSONValue {
        let envelope = try KubernetesProtobuf.unwrap(body)
        if !envelope.kind.isEmpty && envelope.kind != "SelfSubjectAccessReview" {
            throw .badRequest("the body is a \(envelope.kind), expected a SelfSubjectAccessReview")
        }
        do {
            let review = try ProtobufFields(envelope.raw)
            var spec = JSONObject()
            if let fields = try review.message(2) {
                if let resource = try fields.message(1) {
                    var object = JSONObject()
                    for (number, key) in [(1, "namespace"), (2, "verb"), (3, "group"), (4, "version"), (5, "resource"), (6, "subresource"), (7, "name")] {
                        if let value = resource.string(number) { object[key] = .string(value) }
                    }
                    spec["resourceAttributes"] = .object(object)
                }
                if let nonResource = try fields.message(2) {
                    var object = JSONObject()
                    if let path = nonResource.string(1) { object["path"] = .string(path) }
                    if let verb = nonResource.string(2) { object["verb"] = .string(verb) }
                    spec["nonResourceAttributes"] = .object(object)
                }
            }
            return ["kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1", "spec": .object(spec)]
        } catch {
            throw .badRequest("the SelfSubjectAccessReview protobuf cannot be read: \(error)")
        }
    }

    /// The attributes a review's spec asks about, for `user`.
    static func reviewAttributes(_ spec: JSONValue?, user: UserInfo) throws(ApiError) -> RequestAttributes {
        func text(_ value: JSONValue?, _ field: String) throws(ApiError) -> String {
            guard let value, !value.isNull else { return "" }
            guard let string = value.stringValue else { throw .badRequest("spec.\(field) must be a string") }
            return string
        }
        if let resource = spec?["resourceAttributes"], !resource.isNull {
            let verb = try text(resource["verb"], "resourceAttributes.verb")
            guard !verb.isEmpty else {
                throw .invalid(name: "SelfSubjectAccessReview", [.field("spec.resourceAttributes.verb", "FieldValueRequired", "Required value")])
            }
            return RequestAttributes(
                user: user, verb: Verb(rawValue: verb), apiGroup: try text(resource["group"], "resourceAttributes.group"),
                resource: try text(resource["resource"], "resourceAttributes.resource"),
                subresource: try text(resource["subresource"], "resourceAttributes.subresource"),
                namespace: try text(resource["namespace"], "resourceAttributes.namespace"),
                name: try text(resource["name"], "resourceAttributes.name"))
        }
        if let nonResource = spec?["nonResourceAttributes"], !nonResource.isNull {
            let verb = try text(nonResource["verb"], "nonResourceAttributes.verb")
            let path = try text(nonResource["path"], "nonResourceAttributes.path")
            guard !verb.isEmpty, !path.isEmpty else {
                throw .invalid(name: "SelfSubjectAccessReview", [.field("spec.nonResourceAttributes", "FieldValueRequired", "Required value: verb and path")])
            }
            return .nonResource(user: user, verb: Verb(rawValue: verb), path: path)
        }
        throw .invalid(name: "SelfSubjectAccessReview", [
            .field("spec.resourceAttributes", "FieldValueRequired", "Required value: exactly one of resourceAttributes or nonResourceAttributes must be set"),
        ])
    }
}

extension ApiError {
    /// 422 for a kind that is not stored (no ResourceType).
    static func invalid(name kind: String, _ causes: [StatusCause]) -> ApiError {
        let summary = causes.map { [$0.field, $0.message].compactMap { $0 }.joined(separator: ": ") }.joined(separator: ", ")
        var details = StatusDetails()
        details.kind = kind
        details.causes = causes
        return ApiError(code: 422, reason: "Invalid", message: "\(kind) is invalid: \(summary)", details: details)
    }
}
