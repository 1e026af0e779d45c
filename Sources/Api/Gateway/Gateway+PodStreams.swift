import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import NIOWebSocket
import SwiftASN1
import Wire
import X509

/// The pod subresources a node agent serves: `log`, `exec`, `attach`, `portforward`. The API
/// server's part is to authenticate and authorize the caller, find the pod, and proxy the
/// stream to the agent of the pod's node. Node agents do not exist yet, so every request that
/// gets that far is answered with a Status naming the pod and why:
///
/// - exec and attach over WebSocket (`v5.channel.k8s.io`, `v4.channel.k8s.io`, what kubectl
///   1.32 uses): the upgrade is accepted and the Status goes on the error channel (3), as a
///   node agent's failure would, then the socket closes;
/// - log, portforward, and exec/attach without a usable WebSocket upgrade: an HTTP error.
extension Gateway {
    /// The remote-command subprotocols, most preferred first.
    static let channelProtocols = ["v5.channel.k8s.io", "v4.channel.k8s.io"]
    /// The error channel of the channel protocols.
    static let errorChannel: UInt8 = 3

    static func noNodeAgent(namespace: String, name: String) -> ApiError {
        .badRequest("pod \(namespace)/\(name) is not running on a node agent: node agents are not available yet")
    }

    /// A request on a pod stream that is not a WebSocket upgrade (or whose upgrade was refused).
    func servePodStream(_ path: ResourcePath, _ request: GatewayRequest, user: UserInfo, _ responder: HTTPResponder) async throws(ApiError) -> Int {
        let verb: Verb = path.subresource == "log" ? .get : (request.method == .GET ? .get : .create)
        if path.subresource == "log" && request.method != .GET {
            throw .methodNotSupported(name: "pods/log", request.method.rawValue)
        }
        try await checkPodStream(path, user: user, verb: verb)
        throw Self.noNodeAgent(namespace: path.namespace, name: path.name)
    }

    /// Authorizes `verb` on the pod subresource and checks that the pod exists.
    private func checkPodStream(_ path: ResourcePath, user: UserInfo, verb: Verb) async throws(ApiError) {
        guard !path.namespace.isEmpty, !path.name.isEmpty else {
            throw .badRequest("pods/\(path.subresource) needs a namespace and a pod name")
        }
        var resource = ResourceRequest(user: user, verb: verb, type: Pod.resourceType, namespace: path.namespace, name: path.name, subresource: path.subresource)
        try await onLoop { () throws(ApiError) in
            try server.pipeline.authorize(resource.attributes())
            resource.verb = .get
            resource.subresource = ""
            let server = self.server
            let found = await server.loop.submit { server.registry.caches[Pod.resourceType]?.get(namespace: path.namespace, name: path.name) != nil }
            if !found { throw ApiError.notFound(Pod.resourceType, path.name) }
        }
    }

    // MARK: WebSocket

    /// NIOWebSocketServerUpgrader's question: upgrade this request? Only exec and attach of an
    /// existing pod by an authorized caller offering a channel protocol; anything else goes on
    /// as a plain request and gets its HTTP error there.
    func shouldUpgrade(channel: any Channel, head: HTTPRequestHead) -> EventLoopFuture<HTTPHeaders?> {
        let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
        guard case .resource(let resource) = GatewayRoute(path: path), resource.group.isEmpty, resource.resource == "pods",
            ["exec", "attach"].contains(resource.subresource)
        else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        let offered = head.headers[canonicalForm: "sec-websocket-protocol"].map { String($0) }
        guard let chosen = Self.channelProtocols.first(where: offered.contains) else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        var credentials = RequestCredentials(bearerToken: GatewayRequest.bearerToken(head.headers))
        if let handler = try? channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self), let peer = handler.peerCertificate,
            let certificate = try? Certificate(derEncoded: peer.toDERBytes())
        {
            let identity = ClusterPKI.subjectIdentity(of: certificate)
            credentials.clientCertificate = VerifiedClientCertificate(commonName: identity.commonName, organizations: identity.organizations)
        }
        let promise = channel.eventLoop.makePromise(of: HTTPHeaders?.self)
        let offeredCredentials = credentials
        promise.completeWithTask {
            do {
                let user = try await self.onLoop { () throws(ApiError) in try self.server.pipeline.authenticate(offeredCredentials) }
                try await self.checkPodStream(resource, user: user, verb: .create)
            } catch {
                return nil
            }
            var headers = HTTPHeaders()
            headers.add(name: "sec-websocket-protocol", value: chosen)
            return headers
        }
        return promise.futureResult
    }

    /// After the upgrade: the Status on the error channel, then a normal close.
    func upgraded(channel: any Channel, head: HTTPRequestHead) -> EventLoopFuture<Void> {
        let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
        guard case .resource(let resource) = GatewayRoute(path: path) else { return channel.close() }
        var message: [UInt8] = [Self.errorChannel]
        var status = Self.noNodeAgent(namespace: resource.namespace, name: resource.name).status
        status.metadata = nil
        Self.statusJSON(status).write(to: &message)
        let errorFrame = WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: message))
        var closeData = ByteBuffer()
        closeData.write(webSocketErrorCode: .normalClosure)
        let closeFrame = WebSocketFrame(fin: true, opcode: .connectionClose, data: closeData)
        channel.write(errorFrame, promise: nil)
        return channel.writeAndFlush(closeFrame).flatMap { channel.close() }
    }
}

extension GatewayRequest {
    /// The bearer token of request headers ("" without one).
    static func bearerToken(_ headers: HTTPHeaders) -> String {
        guard let value = headers.first(name: "authorization") else { return "" }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return "" }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }
}
