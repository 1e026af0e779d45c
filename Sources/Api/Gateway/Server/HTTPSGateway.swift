import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import SwiftASN1
import Wire
import X509

/// HTTPSConfiguration is the HTTPS door of an API server (`agentctl run apiserver
/// --secure-listen … --tls-cert-file … --tls-private-key-file … --client-ca-file …`).
public struct HTTPSConfiguration: Sendable {
    public var listen: Wire.SocketAddress
    /// The serving certificate (and any intermediates), PEM.
    public var certificateChainPEM: String
    public var privateKeyPEM: String
    /// CA whose client certificates are accepted (CN = user, O = groups); nil accepts none.
    public var clientCAPEM: String?
    /// Largest request body accepted (Kubernetes' limit is 3 MiB); larger ones get 413.
    public var maximumRequestBodyBytes = 3 << 20
    /// Unsent bytes one HTTP watch may hold before it counts as behind (then the API server's
    /// slow-watcher grace period applies, as for binary watchers).
    public var watchBufferBytes = 4 << 20
    /// Version reported on /version (kubectl warns when major.minor is far from its own).
    public var gitVersion = "v1.32.0-skiff"

    public init(listen: Wire.SocketAddress, certificateChainPEM: String, privateKeyPEM: String, clientCAPEM: String?) {
        self.listen = listen
        self.certificateChainPEM = certificateChainPEM
        self.privateKeyPEM = privateKeyPEM
        self.clientCAPEM = clientCAPEM
    }
}

/// HTTPSGateway is the API server's HTTPS/JSON door for kubectl and other Kubernetes clients:
/// TLS (NIOSSL; client certificates verified against the cluster CA when offered), HTTP/1.1
/// (NIOHTTP1; ALPN offers only http/1.1, so Go clients do not try HTTP/2) with chunked
/// streaming for watches, and WebSocket upgrades (NIOWebSocket) for exec and attach. It runs on
/// its own SwiftNIO event loop; requests are handled by `Gateway` on the API server's shared
/// request path.
public final class HTTPSGateway: Sendable {
    let group: MultiThreadedEventLoopGroup
    let serverChannel: any Channel
    /// The address it listens on (the real port when the configuration asked for port 0).
    public let address: Wire.SocketAddress

    static func start(_ configuration: HTTPSConfiguration, server: ApiServer, logger: Logger) async throws -> HTTPSGateway {
        let context = try makeTLSContext(configuration)
        let gateway = Gateway(server: server, configuration: configuration, logger: logger)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.configure(channel, context: context, gateway: gateway)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: configuration.listen.host, port: Int(configuration.listen.port)).get()
        } catch {
            try? await group.shutdownGracefully()
            throw GatewayStartError("cannot listen for HTTPS on \(configuration.listen): \(error)")
        }
        let port = channel.localAddress?.port ?? Int(configuration.listen.port)
        let address = Wire.SocketAddress(host: configuration.listen.host, port: UInt16(port))
        logger.info("API server \(server.configuration.identity) serving HTTPS on \(address)")
        return HTTPSGateway(group: group, serverChannel: channel, address: address)
    }

    private init(group: MultiThreadedEventLoopGroup, serverChannel: any Channel, address: Wire.SocketAddress) {
        self.group = group
        self.serverChannel = serverChannel
        self.address = address
    }

    /// Stops listening and closes every connection.
    public func stop() async {
        try? await serverChannel.close()
        try? await group.shutdownGracefully()
    }

    static func makeTLSContext(_ configuration: HTTPSConfiguration) throws -> NIOSSLContext {
        do {
            let chain = try NIOSSLCertificate.fromPEMBytes(Array(configuration.certificateChainPEM.utf8))
            let key = try NIOSSLPrivateKey(bytes: Array(configuration.privateKeyPEM.utf8), format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            tls.minimumTLSVersion = .tlsv12
            tls.applicationProtocols = ["http/1.1"]
            if let clientCA = configuration.clientCAPEM {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(clientCA.utf8)))
                tls.certificateVerification = .optionalVerification
            }
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw GatewayStartError("the HTTPS certificate, key or client CA cannot be used: \(error)")
        }
    }

    private static func configure(_ channel: any Channel, context: NIOSSLContext, gateway: Gateway) throws {
        let operations = channel.pipeline.syncOperations
        try operations.addHandler(NIOSSLServerHandler(context: context))
        let handler = GatewayChannelHandler(gateway: gateway)
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 20,
            shouldUpgrade: { channel, head in gateway.shouldUpgrade(channel: channel, head: head) },
            upgradePipelineHandler: { channel, head in gateway.upgraded(channel: channel, head: head) })
        try operations.configureHTTPServerPipeline(
            withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                // The WebSocket handlers take over the connection: the HTTP request handler goes.
                context.pipeline.syncOperations.removeHandler(name: GatewayChannelHandler.name, promise: nil)
            }),
            withErrorHandling: true)
        try operations.addHandler(handler, name: GatewayChannelHandler.name)
    }
}

struct GatewayStartError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// GatewayChannelHandler reads one HTTP request at a time (the pipelining handler before it
/// holds later ones until the answer ends), bounds its body, and hands it to the gateway.
final class GatewayChannelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    static let name = "skiff-gateway"

    let gateway: Gateway
    // Connection state, touched on the channel's event loop only (NIO calls handlers there).
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var tooLarge = false
    /// The verified client certificate's subject, read once per connection.
    private var clientCertificateRead = false
    private var clientCertificateSubject: VerifiedClientCertificate?

    init(gateway: Gateway) {
        self.gateway = gateway
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = nil
            tooLarge = false
        case .body(var chunk):
            guard !tooLarge else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > gateway.configuration.maximumRequestBodyBytes {
                tooLarge = true
                body = nil
            } else if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
        case .end:
            guard let head else { return }
            let body = self.body
            self.head = nil
            self.body = nil
            let certificate = clientCertificate(context)
            let request = GatewayRequest(
                head: head, body: body ?? ByteBuffer(), clientCertificate: certificate,
                remote: context.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?")
            let responder = HTTPResponder(channel: context.channel, keepAlive: head.isKeepAlive)
            if tooLarge {
                gateway.respond(
                    error: ApiError(
                        code: 413, reason: "RequestEntityTooLarge",
                        message: "the request body is larger than \(gateway.configuration.maximumRequestBodyBytes) bytes"),
                    to: responder)
                return
            }
            gateway.handle(request, responder)
        }
    }

    /// The subject of the client certificate TLS verified for this connection, if any.
    private func clientCertificate(_ context: ChannelHandlerContext) -> VerifiedClientCertificate? {
        if clientCertificateRead { return clientCertificateSubject }
        var found: VerifiedClientCertificate?
        if let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
            let peer = handler.peerCertificate,
            let certificate = try? Certificate(derEncoded: peer.toDERBytes())
        {
            let identity = ClusterPKI.subjectIdentity(of: certificate)
            found = VerifiedClientCertificate(commonName: identity.commonName, organizations: identity.organizations)
        }
        clientCertificateRead = true
        clientCertificateSubject = found
        return found
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
