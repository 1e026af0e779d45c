import Foundation
import Wire

/// The binary door: proto/api/server.proto over the wire protocol. Each method decodes its
/// ApiRequest into a ResourceRequest and answers from the shared operations
/// (ResourceOperations.swift); only the encoding (protobuf) is its own.
extension ApiServer {
    func registerMethods(_ router: MethodRouter) {
        for (method, verb) in [
            ("api.Get", Verb.get), ("api.List", .list), ("api.Create", .create), ("api.Update", .update),
            ("api.UpdateStatus", .update), ("api.Delete", .delete),
        ] {
            router.register(method) { [unowned self] call in
                guard let request = call.decode(ApiRequest.self) else { return }
                let peer = call.peer
                Task(executorPreference: self.loop.taskExecutor) {
                    let type = request.resource.flatMap(ResourceCatalog.find)
                    let inFlight = self.metrics.started(
                        verb: verb, group: type?.group ?? "", resource: type?.plural ?? request.resource ?? "",
                        subresource: method == "api.UpdateStatus" ? "status" : request.subresource ?? "")
                    let answer: BinaryAnswer
                    do {
                        answer = try await self.serveBinary(method, verb: verb, request, peer: peer)
                    } catch {
                        answer = .message(ApiResponse(status: ApiError.from(error).status))
                    }
                    inFlight.finished(code: answer.code)
                    await self.loop.submit {
                        switch answer {
                        case .message(let response): call.respond(response)
                        case .encoded(let bytes): call.respond(bytes)
                        }
                    }
                }
            }
        }
        router.register("api.Watch") { [unowned self] call in
            guard call.isStream, let request = call.decode(ApiRequest.self) else {
                if !call.isStream { call.fail(WireError(.invalidArgument, "api.Watch is a server stream")) }
                return
            }
            Task(executorPreference: self.loop.taskExecutor) {
                let type = request.resource.flatMap(ResourceCatalog.find)
                let inFlight = self.metrics.started(
                    verb: .watch, group: type?.group ?? "", resource: type?.plural ?? request.resource ?? "",
                    subresource: request.subresource ?? "")
                do {
                    let resource = try self.binaryRequest(request, verb: .watch, peer: call.peer)
                    var options = WatchQuery()
                    options.labelSelector = request.labelSelector ?? ""
                    options.fieldSelector = request.fieldSelector ?? ""
                    options.resourceVersion = request.resourceVersion ?? ""
                    options.allowBookmarks = request.allowWatchBookmarks ?? false
                    try await self.watch(resource, options, sink: call)
                    inFlight.finished(code: 200)
                } catch {
                    let failure = ApiError.from(error)
                    inFlight.finished(code: Int(failure.code))
                    await self.loop.submit { call.end(error: failure) }
                }
            }
        }
        router.register("api.Discovery") { call in
            call.respond(ServedAPI.protobufDiscovery())
        }
        // Health: the process serves. Readiness: caches loaded and the store answers. Both
        // answer a Status ("Success" or "Failure" with the reasons), without authentication
        // beyond the handshake, like /healthz and /readyz.
        router.register("api.Healthz") { call in
            var status = Status()
            status.status = "Success"
            status.message = "ok"
            status.code = 200
            call.respond(ApiResponse(status: status))
        }
        router.register("api.Readyz") { [unowned self] call in
            Task(executorPreference: self.loop.taskExecutor) {
                let (ready, reasons) = await self.readiness()
                var status = Status()
                status.status = ready ? "Success" : "Failure"
                status.message = ready ? "ok" : reasons.joined(separator: "; ")
                status.code = ready ? 200 : 503
                status.reason = ready ? nil : "ServiceUnavailable"
                let response = ApiResponse(status: status)
                await self.loop.submit { call.respond(response) }
            }
        }
    }

    /// The caller, kind and object an ApiRequest names.
    private func binaryRequest(_ request: ApiRequest, verb: Verb, peer: PeerIdentity) throws(ApiError) -> ResourceRequest {
        let user = try pipeline.authenticate(token: peer.credential)
        guard let name = request.resource, let type = ResourceCatalog.find(name) else {
            throw .notFound("the server doesn't have a resource type \"\(request.resource ?? "")\"")
        }
        var resource = ResourceRequest(
            user: user, verb: verb, type: type, namespace: request.namespace ?? "", name: request.name ?? "",
            subresource: request.subresource ?? "")
        resource.dryRun = request.dryRun ?? false
        resource.fieldManager = request.fieldManager ?? ""
        return resource
    }

    /// An answer of the binary door: a response message, or one already encoded (an object's).
    enum BinaryAnswer: Sendable {
        case message(ApiResponse)
        case encoded([UInt8])

        var code: Int {
            switch self {
            case .message(let response): Int(response.status?.code ?? 200)
            case .encoded: 200
            }
        }
    }

    private nonisolated(nonsending) func serveBinary(_ method: String, verb: Verb, _ request: ApiRequest, peer: PeerIdentity) async throws(ApiError) -> BinaryAnswer {
        var resource = try binaryRequest(request, verb: verb, peer: peer)
        switch method {
        case "api.Get":
            return Self.protobufResponse(try await get(resource))
        case "api.List":
            var options = ListQuery()
            options.labelSelector = request.labelSelector ?? ""
            options.fieldSelector = request.fieldSelector ?? ""
            options.resourceVersion = request.resourceVersion ?? ""
            options.limit = request.limit ?? 0
            options.continueToken = request.continue ?? ""
            let list = try await self.list(resource, options)
            var meta = ListMeta()
            meta.resourceVersion = list.resourceVersion
            meta.continue = list.continueToken
            meta.remainingItemCount = list.remainingItemCount
            return .message(ApiResponse(items: list.items.map(\.bytes), listMeta: meta))
        case "api.Create":
            return Self.protobufResponse(try await create(resource, try Self.decodeBody(resource, request)))
        case "api.Update", "api.UpdateStatus":
            if method == "api.UpdateStatus" { resource.subresource = "status" }
            return Self.protobufResponse(try await update(resource, try Self.decodeBody(resource, request)))
        case "api.Delete":
            var options = DeleteRequestOptions()
            options.propagationPolicy = request.propagationPolicy
            options.gracePeriodSeconds = request.gracePeriodSeconds
            options.preconditionUID = request.preconditionUid
            options.preconditionResourceVersion = request.preconditionResourceVersion
            return Self.protobufResponse(try await delete(resource, options))
        default:
            throw .badRequest("unknown method \(method)")
        }
    }

    private static func protobufResponse(_ served: ServedObject) -> BinaryAnswer {
        switch served {
        case .stored(let object): .encoded(DirectEncoding.objectResponse(object.bytes))
        case .scale(let scale): .encoded(DirectEncoding.objectResponse(scale.protobufBytes()))
        case .status(let status): .message(ApiResponse(status: status))
        }
    }

    /// The object a create or update carries, as the subresource expects it.
    private static func decodeBody(_ request: ResourceRequest, _ message: ApiRequest) throws(ApiError) -> WriteBody {
        let verb = request.verb == .create ? "create" : "update"
        guard let bytes = message.object else {
            throw .badRequest("\(verb) \(request.type.qualifiedName) \(request.name): the request carries no object")
        }
        do {
            switch request.subresource {
            case "binding": return .binding(try Binding(protobuf: bytes))
            case "scale": return .scale(try Scale(protobuf: bytes))
            default: return .object(try request.type.decode(bytes))
            }
        } catch {
            let kind = request.subresource == "binding" ? "Binding" : request.subresource == "scale" ? "Scale" : request.type.kind
            throw .badRequest("the object is not a valid \(kind): \(error)")
        }
    }
}

extension ApiError {
    /// 404 without an object (an unknown resource type or path).
    static func notFound(_ message: String) -> ApiError {
        ApiError(code: 404, reason: "NotFound", message: message)
    }
}
