import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Wire

/// Gateway answers HTTPS requests the way kube-apiserver does, on the API server's shared request
/// path: authentication (client certificate, then bearer token; no credentials is 401),
/// authorization of non-resource paths, then discovery, health, metrics, OpenAPI, or the
/// resource operations of ResourceOperations.swift with Kubernetes JSON in and out. Errors are
/// Status objects with the HTTP code of their reason, so kubectl prints
/// `Error from server (NotFound): pods "x" not found`.
///
/// Each request runs as a task of its own; the parts that touch the API server's caches run
/// with the API server's loop as executor (`onLoop`), JSON decoding and encoding off it.
final class Gateway: Sendable {
    let server: ApiServer
    let configuration: HTTPSConfiguration
    let logger: Logger

    init(server: ApiServer, configuration: HTTPSConfiguration, logger: Logger) {
        self.server = server
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs `body` on the API server's loop, where the pipeline and the caches live.
    func onLoop<Result: Sendable>(_ body: () async throws(ApiError) -> Result) async throws(ApiError) -> Result {
        try await withTaskExecutorPreference(server.loop.taskExecutor, operation: body)
    }

    func handle(_ request: GatewayRequest, _ responder: HTTPResponder) {
        Task { await self.serve(request, responder) }
    }

    private func serve(_ request: GatewayRequest, _ responder: HTTPResponder) async {
        let route = GatewayRoute(path: request.path)
        let user: UserInfo
        do {
            // On the loop: service-account tokens are checked against the cached accounts.
            user = try await onLoop { () throws(ApiError) in try server.pipeline.authenticate(request.credentials) }
        } catch {
            let inFlight = server.metrics.started(nonResourcePath: request.path, verb: Verb(rawValue: request.method.rawValue.lowercased()))
            respond(error: error, to: responder)
            inFlight.finished(code: 401)
            return
        }
        if case .resource(let path) = route {
            await serveResource(path, request, user: user, responder)
            return
        }
        let verb = Verb(rawValue: request.method == .HEAD ? "get" : request.method.rawValue.lowercased())
        let inFlight = server.metrics.started(nonResourcePath: Self.metricsPath(route), verb: verb)
        let code: Int
        do {
            try await onLoop { () throws(ApiError) in
                try server.pipeline.authorize(.nonResource(user: user, verb: verb, path: request.path))
            }
            code = try await serveNonResource(route, request, user: user, responder)
        } catch {
            respond(error: error, to: responder)
            code = Int(error.code)
        }
        inFlight.finished(code: code)
    }

    /// The path label of non-resource requests: the route, not the raw path (bounded cardinality).
    private static func metricsPath(_ route: GatewayRoute) -> String {
        switch route {
        case .version: "/version"
        case .health(let endpoint, _): "/" + endpoint
        case .metrics: "/metrics"
        case .coreVersions, .groups, .group, .resources: "discovery"
        case .openAPIIndex, .openAPIDocument, .openAPIV2: "/openapi"
        case .resource: "resource"
        case .notFound: "other"
        }
    }

    /// Answers a non-resource route; returns the HTTP code sent.
    private func serveNonResource(
        _ route: GatewayRoute, _ request: GatewayRequest, user: UserInfo, _ responder: HTTPResponder
    ) async throws(ApiError) -> Int {
        guard request.method == .GET || request.method == .HEAD else {
            throw ApiError(code: 405, reason: "MethodNotAllowed", message: "the server does not allow \(request.method.rawValue) on \(request.path)")
        }
        switch route {
        case .version:
            respond(json: versionInfo(), to: responder)
        case .health(let endpoint, let check):
            return await serveHealth(endpoint: endpoint, check: check, verbose: request.query.has("verbose"), responder)
        case .metrics:
            let text = server.metrics.exposition(watchers: await server.watcherCounts())
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "text/plain; version=0.0.4; charset=utf-8")
            responder.respond(.ok, headers: headers, body: ByteBuffer(bytes: text))
        case .coreVersions:
            respond(json: coreVersions(request), to: responder)
        case .groups:
            respond(json: groupList(), to: responder)
        case .group(let name):
            guard let group = groupJSON(name) else { throw Self.pathNotFound(request.path) }
            respond(json: group, to: responder)
        case .resources(let group, let version):
            guard let list = resourceList(group: group, version: version) else { throw Self.pathNotFound(request.path) }
            respond(json: list, to: responder)
        case .openAPIIndex:
            respond(json: OpenAPIDocuments.shared.index(), to: responder)
        case .openAPIDocument(let path):
            guard let bytes = OpenAPIDocuments.shared.documentBytes(path: path) else { throw Self.pathNotFound(request.path) }
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/json")
            // The URL carries the document's hash: clients may cache it for as long as they like.
            if request.query.has("hash") { headers.add(name: "cache-control", value: "public, immutable") }
            responder.respond(.ok, headers: headers, body: ByteBuffer(bytes: bytes))
        case .openAPIV2:
            throw ApiError(code: 404, reason: "NotFound", message: "the server serves OpenAPI v3 only (/openapi/v3), not /openapi/v2")
        case .notFound, .resource:
            throw Self.pathNotFound(request.path)
        }
        return 200
    }

    static func pathNotFound(_ path: String) -> ApiError {
        ApiError(code: 404, reason: "NotFound", message: "the server could not find the requested resource (\(path))")
    }

    // MARK: Answers

    static let jsonHeaders: HTTPHeaders = ["content-type": "application/json"]

    /// A JSON answer; `warnings` become Warning headers (kubectl prints them as "Warning: …").
    func respond(json value: JSONValue, status: HTTPResponseStatus = .ok, contentType: String = "application/json", warnings: [String] = [], to responder: HTTPResponder) {
        var buffer = ByteBuffer()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1024)
        value.write(to: &bytes)
        buffer.writeBytes(bytes)
        responder.respond(status, headers: Self.headers(contentType: contentType, warnings: warnings), body: buffer)
    }

    static func headers(contentType: String, warnings: [String] = []) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        for warning in warnings {
            headers.add(name: "warning", value: "299 - " + JSONValue.string(warning).compactText)
        }
        return headers
    }

    /// The Status object of an error, with the HTTP code of its reason.
    func respond(error: ApiError, to responder: HTTPResponder) {
        respond(json: Self.statusJSON(error), status: HTTPResponseStatus(statusCode: Int(error.code)), to: responder)
    }

    /// Kubernetes' Status JSON: `{"kind":"Status","apiVersion":"v1","metadata":{},"status":
    /// "Failure","message":…,"reason":…,"details":{…},"code":…}`.
    static func statusJSON(_ error: ApiError) -> JSONValue {
        statusJSON(error.status)
    }

    static func statusJSON(_ status: Status) -> JSONValue {
        var object = status.jsonValue(apiVersion: "v1", kind: "Status").objectValue ?? JSONObject()
        if object["metadata"] == nil {
            var ordered = JSONObject()
            for (key, value) in object {
                ordered[key] = value
                if key == "apiVersion" { ordered["metadata"] = .object(JSONObject()) }
            }
            object = ordered
        }
        return .object(object)
    }
}
