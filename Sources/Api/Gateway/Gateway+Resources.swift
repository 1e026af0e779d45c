import Foundation
import NIOCore
import NIOHTTP1
import Wire

/// Resource requests: `/api/v1/…` and `/apis/<group>/<version>/…` mapped to the shared
/// operations, with Kubernetes' verbs (GET is get, list or watch; DELETE without a name is
/// deletecollection), query options, JSON bodies and answers.
extension Gateway {
    /// The verb of a resource request, as Kubernetes' RequestInfo derives it.
    static func verb(method: HTTPMethod, path: ResourcePath, isWatch: Bool) -> Verb? {
        switch method {
        case .GET, .HEAD:
            if path.legacyWatch || isWatch { return .watch }
            return path.name.isEmpty ? .list : .get
        case .POST: return .create
        case .PUT: return .update
        case .PATCH: return .patch
        case .DELETE: return path.name.isEmpty ? .deleteCollection : .delete
        default: return nil
        }
    }

    /// The served kind at a path; nil when not served.
    static func resourceType(_ path: ResourcePath) -> ResourceType? {
        ResourceCatalog.all.first { $0.group == path.group && $0.version == path.version && $0.plural == path.resource }
    }

    func serveResource(_ path: ResourcePath, _ request: GatewayRequest, user: UserInfo, _ responder: HTTPResponder) async {
        let isWatch = (try? request.query.isWatch()) ?? false
        let verb = Self.verb(method: request.method, path: path, isWatch: isWatch) ?? Verb(rawValue: request.method.rawValue.lowercased())
        let inFlight = server.metrics.started(verb: verb, group: path.group, resource: path.resource, subresource: path.subresource)
        var code = 200
        do {
            code = try await dispatch(path, request, user: user, verb: verb, responder)
        } catch {
            respond(error: error, to: responder)
            code = Int(error.code)
        }
        inFlight.finished(code: code)
    }

    /// Serves one resource request; returns the HTTP code sent (200 for a watch that started).
    private func dispatch(
        _ path: ResourcePath, _ request: GatewayRequest, user: UserInfo, verb: Verb, _ responder: HTTPResponder
    ) async throws(ApiError) -> Int {
        if path.group == ServedAPI.authorizationGroup && path.version == "v1" && path.resource == "selfsubjectaccessreviews" {
            guard verb == .create, path.name.isEmpty else {
                throw .methodNotSupported(name: "selfsubjectaccessreviews", verb.rawValue)
            }
            return try await serveSelfSubjectAccessReview(request, user: user, responder)
        }
        guard let type = Self.resourceType(path) else { throw Self.pathNotFound(request.path) }
        if type == Pod.resourceType, ["log", "exec", "attach", "portforward"].contains(path.subresource) {
            return try await servePodStream(path, request, user: user, responder)
        }
        guard Self.verb(method: request.method, path: path, isWatch: try request.query.isWatch()) != nil else {
            throw .methodNotSupported(type, request.method.rawValue)
        }
        var resource = ResourceRequest(
            user: user, verb: verb, type: type, namespace: path.namespace, name: path.name, subresource: path.subresource)
        if type.namespaced && path.namespace.isEmpty && [.create, .update, .patch, .delete, .get].contains(verb) && !path.name.isEmpty {
            throw .badRequest("\(type.qualifiedName) is namespaced: the path must name a namespace (/namespaces/<namespace>/\(type.plural)/…)")
        }
        if !type.namespaced && !path.namespace.isEmpty {
            throw Self.pathNotFound(request.path)
        }
        let query = request.query
        if [.create, .update, .patch].contains(verb) {
            resource.fieldManager = try Self.fieldManager(request)
        }
        switch verb {
        case .get:
            let format = try ResponseFormat.negotiate(accept: request.headers.first(name: "accept"))
            let include = try IncludeObject(parameter: query["includeObject"])
            let served = try await onLoop { () throws(ApiError) in try await server.get(resource) }
            respondObject(served, type: type, format: format, include: include, responder)
        case .list:
            let format = try ResponseFormat.negotiate(accept: request.headers.first(name: "accept"))
            let include = try IncludeObject(parameter: query["includeObject"])
            let options = try query.listQuery()
            let list = try await onLoop { () throws(ApiError) in try await server.list(resource, options) }
            writeList(list, type: type, format: format, include: include, to: responder)
        case .watch:
            try await serveWatch(resource, request, responder)
        case .create:
            resource.dryRun = try query.dryRun()
            let validation = try query.fieldValidation()
            let (body, warnings) = try decodeBody(request, type: type, subresource: path.subresource, validation: validation, name: path.name)
            let served = try await onLoop { () throws(ApiError) in try await server.create(resource, body) }
            respond(json: Self.objectJSON(served, type: type), status: .created, warnings: warnings, to: responder)
            return 201
        case .update:
            resource.dryRun = try query.dryRun()
            let validation = try query.fieldValidation()
            let (body, warnings) = try decodeBody(request, type: type, subresource: path.subresource, validation: validation, name: path.name)
            let served = try await onLoop { () throws(ApiError) in try await server.update(resource, body) }
            respond(json: Self.objectJSON(served, type: type), warnings: warnings, to: responder)
        case .patch:
            resource.dryRun = try query.dryRun()
            return try await servePatch(resource, request, responder)
        case .delete:
            var options = try deleteOptions(request)
            resource.dryRun = options.dryRun
            options.dryRun = false
            let served = try await onLoop { () throws(ApiError) in try await server.delete(resource, options.options) }
            respond(json: Self.objectJSON(served, type: type), to: responder)
        case .deleteCollection:
            var options = try deleteOptions(request)
            resource.dryRun = options.dryRun
            options.dryRun = false
            let listOptions = try query.listQuery()
            let deleted = try await onLoop { () throws(ApiError) in
                try await server.deleteCollection(resource, listOptions, options.options)
            }
            writeList(deleted, type: type, format: .json, include: .metadata, to: responder)
        default:
            throw .methodNotSupported(type, verb.rawValue)
        }
        return 200
    }

    private func respondObject(_ served: ServedObject, type: ResourceType, format: ResponseFormat, include: IncludeObject, _ responder: HTTPResponder) {
        if format == .table, case .stored(let object) = served {
            var meta = ListMeta()
            meta.resourceVersion = object.object.metadata?.resourceVersion
            respond(
                json: Self.tableJSON(type: type, objects: [object.object], listMeta: meta, include: include),
                contentType: ResponseFormat.tableMediaType, to: responder)
        } else {
            respond(json: Self.objectJSON(served, type: type), to: responder)
        }
    }

    /// The fieldManager parameter, or Kubernetes' default: the User-Agent up to its first "/"
    /// ("kubectl" from "kubectl/v1.32.4 (linux/amd64) …").
    static func fieldManager(_ request: GatewayRequest) throws(ApiError) -> String {
        if let given = request.query["fieldManager"], !given.isEmpty {
            guard given.count <= 128, given.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) else {
                throw .invalid(name: "fieldManager", [.field("fieldManager", "FieldValueInvalid", "Invalid value: must be at most 128 printable ASCII characters")])
            }
            return given
        }
        let agent = request.headers.first(name: "user-agent") ?? ""
        let prefix = agent.split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        return String(prefix.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.prefix(128).map(Character.init))
    }

    // MARK: Watch

    private func serveWatch(_ resource: ResourceRequest, _ request: GatewayRequest, _ responder: HTTPResponder) async throws(ApiError) {
        let format = try ResponseFormat.negotiate(accept: request.headers.first(name: "accept"))
        let include = try IncludeObject(parameter: request.query["includeObject"])
        let options = try request.query.watchQuery()
        let timeout = try request.query.timeoutSeconds()
        let sink = HTTPWatchSink(
            responder: responder, type: resource.type, format: format, include: include,
            bufferBytes: configuration.watchBufferBytes, loop: server.loop)
        try await onLoop { () throws(ApiError) in try await server.watch(resource, options, sink: sink) }
        await server.loop.submit { sink.started(timeoutSeconds: timeout) }
    }

    // MARK: Bodies

    /// Parses a JSON (or YAML) body; a syntax error is a 400 naming where.
    func parseJSONBody(_ request: GatewayRequest, what: String) throws(ApiError) -> JSONValue {
        guard request.body.readableBytes > 0 else {
            throw .badRequest("the request has no body: send the \(what) as JSON")
        }
        let type = request.contentType
        guard type.isEmpty || type == "application/json" || type == "application/yaml" || type.hasSuffix("+json") || type.hasSuffix("+yaml") else {
            throw ApiError(
                code: 415, reason: "UnsupportedMediaType",
                message: "the body's media type \(type) is not supported: send application/json")
        }
        if type.hasSuffix("yaml") {
            do {
                return try YAMLDocument.parse(request.bodyBytes)
            } catch {
                throw .badRequest("the body is not valid YAML: \(error)")
            }
        }
        do {
            return try JSONValue(parsing: request.body.readableBytesView)
        } catch {
            throw .badRequest("the body is not valid JSON (\(error)); send the \(what) as JSON")
        }
    }

    /// The object a create or update carries, decoded as its subresource expects; unknown
    /// fields are refused, reported as warnings, or ignored, as `fieldValidation` says.
    private func decodeBody(
        _ request: GatewayRequest, type: ResourceType, subresource: String, validation: FieldValidation, name: String
    ) throws(ApiError) -> (WriteBody, [String]) {
        if request.contentType == KubernetesProtobuf.mediaType {
            let body = request.bodyBytes
            switch subresource {
            case "binding":
                return (.binding(try KubernetesProtobuf.decode(body, apiVersion: "v1", kind: "Binding") { try Binding(protobuf: $0) }), [])
            case "scale":
                return (.scale(try KubernetesProtobuf.decode(body, apiVersion: "autoscaling/v1", kind: "Scale") { try Scale(protobuf: $0) }), [])
            default:
                let object = try KubernetesProtobuf.decode(body, apiVersion: type.apiVersion, kind: type.kind) { try type.decode($0) }
                return (.object(try KubernetesProtobuf.normalized(object, type: type)), [])
            }
        }
        switch subresource {
        case "binding":
            let json = try parseJSONBody(request, what: "Binding")
            let (binding, unknown) = try Self.decodeMessage(Binding.self, json, apiVersion: "v1", kind: "Binding")
            return (.binding(binding), try validation.check(unknownFields: unknown))
        case "scale":
            let json = try parseJSONBody(request, what: "Scale")
            let (scale, unknown) = try Self.decodeMessage(Scale.self, json, apiVersion: "autoscaling/v1", kind: "Scale")
            return (.scale(scale), try validation.check(unknownFields: unknown))
        default:
            let json = try parseJSONBody(request, what: type.kind)
            let decoded: (object: any KubernetesObject, unknownFields: [String])
            do {
                decoded = try type.decodeJSON(json)
            } catch {
                throw error.apiError(for: type)
            }
            return (.object(decoded.object), try validation.check(unknownFields: decoded.unknownFields))
        }
    }

    /// Decodes a message that is not a stored kind (Binding, Scale, DeleteOptions,
    /// SelfSubjectAccessReview parts): `apiVersion` and `kind`, when present, must be these.
    static func decodeMessage<Message: JSONMessage>(
        _ message: Message.Type, _ json: JSONValue, apiVersion: String, kind: String
    ) throws(ApiError) -> (Message, [String]) {
        guard var object = json.objectValue else {
            throw .badRequest("expected a \(kind) object, got \(json.typeDescription)")
        }
        if let sent = object["kind"]?.stringValue, sent != kind {
            throw .badRequest("the body is a \(sent), expected a \(kind)")
        }
        if let sent = object["apiVersion"]?.stringValue, sent != apiVersion, !(kind == "DeleteOptions" && sent.hasSuffix("/v1")) {
            throw .badRequest("the body's apiVersion \(sent) is not \(apiVersion) (\(kind))")
        }
        object["kind"] = nil
        object["apiVersion"] = nil
        do {
            let (value, unknown) = try Message.decode(json: .object(object))
            return (value, unknown)
        } catch {
            throw .badRequest("\(kind) cannot be decoded: \(error)")
        }
    }

    /// DeleteOptions from the body (kubectl's way) and the query; the body wins.
    private func deleteOptions(_ request: GatewayRequest) throws(ApiError) -> (options: DeleteRequestOptions, dryRun: Bool) {
        var options = try request.query.deleteOptions()
        var dryRun = try request.query.dryRun()
        if request.body.readableBytes > 0 {
            let body: DeleteOptions
            if request.contentType == KubernetesProtobuf.mediaType {
                let envelope = try KubernetesProtobuf.unwrap(request.bodyBytes)
                do {
                    body = try DeleteOptions(protobuf: envelope.raw)
                } catch {
                    throw .badRequest("DeleteOptions cannot be decoded: \(error)")
                }
            } else {
                let json = try parseJSONBody(request, what: "DeleteOptions")
                body = try Self.decodeMessage(DeleteOptions.self, json, apiVersion: "v1", kind: "DeleteOptions").0
            }
            if let policy = body.propagationPolicy, !policy.isEmpty { options.propagationPolicy = policy }
            if let orphan = body.orphanDependents, body.propagationPolicy == nil { options.propagationPolicy = orphan ? "Orphan" : "Background" }
            if let grace = body.gracePeriodSeconds { options.gracePeriodSeconds = grace }
            if let uid = body.preconditions?.uid { options.preconditionUID = uid }
            if let version = body.preconditions?.resourceVersion { options.preconditionResourceVersion = version }
            for value in body.dryRun {
                guard value == "All" else { throw .badRequest("Invalid dry run value \"\(value)\": the only supported value is All") }
                dryRun = true
            }
        }
        if let grace = options.gracePeriodSeconds, grace < 0 {
            throw .badRequest("gracePeriodSeconds \(grace) must not be negative")
        }
        return (options, dryRun)
    }
}

extension ApiError {
    /// 405 on a resource that is not one of the catalog's kinds.
    static func methodNotSupported(name: String, _ verb: String) -> ApiError {
        ApiError(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on \(name): \(verb)")
    }
}
