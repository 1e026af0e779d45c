import Foundation
import Logging
import Raft
import Wire

/// ApiServerConfiguration is what `agentctl run apiserver` takes.
public struct ApiServerConfiguration: Sendable {
    public var listen: SocketAddress
    public var storeEndpoints: [SocketAddress]
    public var storeToken: String
    public var identity: String
    /// Authentication plugins, tried in turn (seed item 15).
    public var authenticators: AuthenticatorChain
    /// Admission plugins for writes, by Kubernetes name (`--enable-admission-plugins`).
    public var admissionPlugins: [String] = AdmissionChain.defaultEnabled
    /// The admission plugins' settings (DefaultTolerationSeconds' seconds).
    public var admissionOptions = AdmissionOptions()
    /// Milliseconds between watch bookmarks.
    public var bookmarkIntervalMilliseconds: UInt64 = 1000
    /// Unsent bytes one client connection may hold before its watchers count as behind. Binary
    /// watchers behind stop being fed and catch up from the watch cache's history once the
    /// connection drains (CacheWatcher), so the buffer need not absorb a whole fan-out burst;
    /// 4 MiB keeps the socket busy while the cache refills it, and bounds what a connection's
    /// queue holds (frame headers and references to shared events: under 200 KB of memory for
    /// 4 MiB of 600-byte events).
    public var connectionBufferBytes = 4 << 20
    /// How long a watcher may stay behind before it is cut off (410; it relists).
    public var slowWatcherGraceMilliseconds: UInt64 = 2000
    /// Events of history each kind's watch cache keeps: a watch may resume from any version
    /// within them; older versions get 410 and the client relists (`--default-watch-cache-size`).
    public var watchCacheSize = 10_000
    /// The key service-account tokens are signed with (`--service-account-key-file`); when set,
    /// tokens it signed authenticate as their service account while that account exists with
    /// the uid the token names. The controller manager signs with the same key.
    public var serviceAccountSigningKey: [UInt8]?
    /// The HTTPS/JSON door for kubectl and other Kubernetes clients; nil serves only the binary
    /// protocol.
    public var https: HTTPSConfiguration?

    public init(
        listen: SocketAddress, storeEndpoints: [SocketAddress], storeToken: String, identity: String,
        authenticators: AuthenticatorChain
    ) {
        self.listen = listen
        self.storeEndpoints = storeEndpoints
        self.storeToken = storeToken
        self.identity = identity
        self.authenticators = authenticators
    }
}

/// ApiServer is the only component that talks to the store (seed item 7). It has two doors —
/// the binary API (proto/api/server.proto, BinaryProtocol.swift) on its own event loop, and
/// HTTPS/JSON for Kubernetes clients (Gateway/) on SwiftNIO — and one request path behind them
/// (ResourceOperations.swift): authentication to a UserInfo, authorization, admission and
/// validation, then reads from the watch caches and writes through the registry's transactions.
public final class ApiServer: @unchecked Sendable {
    // Safety of @unchecked Sendable: mutable state is touched on `loop` only.
    public let configuration: ApiServerConfiguration
    public let loop: EventLoop
    let logger: Logger
    let store: StoreClient
    let registry: Registry
    let pipeline: RequestPipeline
    var server: WireServer?
    var bookmarkTimer: LoopTimer?
    /// Requests, watches and store calls, for `/metrics`.
    public let metrics = ApiMetrics()
    /// The HTTPS door, when configured.
    public private(set) var gateway: HTTPSGateway?

    public static func start(_ configuration: ApiServerConfiguration, logger: Logger = Logger(label: "skiff.apiserver")) async throws -> ApiServer {
        let apiServer = try ApiServer(configuration, logger: logger)
        try await apiServer.loop.submit { () -> Result<Void, any Error> in Result { try apiServer.startServing() } }.get()
        await apiServer.bootstrap()
        if let https = configuration.https {
            do {
                apiServer.gateway = try await HTTPSGateway.start(https, server: apiServer, logger: logger)
            } catch {
                await apiServer.stop()
                throw error
            }
        }
        return apiServer
    }

    init(_ configuration: ApiServerConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        loop = EventLoop(name: "apiserver")
        store = StoreClient(
            endpoints: configuration.storeEndpoints, credential: configuration.storeToken, component: "apiserver",
            identity: configuration.identity, loop: loop)
        registry = Registry(store: store, logger: logger)
        let lookups = CacheLookups(registry: registry)
        var authenticators = configuration.authenticators
        if let key = configuration.serviceAccountSigningKey {
            authenticators.authenticators.append(
                ServiceAccountTokenAuthenticator(signingKey: key, serviceAccountUID: { namespace, name in
                    lookups.serviceAccountUID(namespace: namespace, name: name)
                }))
        }
        self.authenticators = authenticators
        let nodeAuthorizer = NodeAuthorizer(
            podNodeName: { namespace, name in lookups.podNodeName(namespace: namespace, name: name) },
            isReferencedByPodOnNode: { resource, namespace, name, node in
                lookups.isReferenced(resource: resource, namespace: namespace, name: name, node: node)
            })
        pipeline = RequestPipeline(
            authenticators: authenticators,
            authorizer: AuthorizerChain([nodeAuthorizer, RBACAuthorizer(source: lookups)]),
            admission: try AdmissionChain.make(enabled: configuration.admissionPlugins, options: configuration.admissionOptions))
        self.lookups = lookups
        registry.metrics = metrics
    }

    let lookups: CacheLookups
    /// The configured authenticators plus the service-account token authenticator, if any.
    let authenticators: AuthenticatorChain

    public var address: SocketAddress {
        server!.address
    }

    private func startServing() throws {
        registry.slowWatcherGraceNanoseconds = configuration.slowWatcherGraceMilliseconds * 1_000_000
        registry.watchCacheSize = configuration.watchCacheSize
        registry.start()
        let router = MethodRouter()
        registerMethods(router)
        var serverConfiguration = ServerConfiguration(identity: configuration.identity) { [authenticators] handshake in
            do {
                _ = try authenticators.authenticate(token: handshake.credential)
                return nil
            } catch {
                return WireError(.unauthenticated, "Unauthorized: \(handshake.component)/\(handshake.identity): \(ApiError.from(error).message)")
            }
        }
        serverConfiguration.maximumInFlightCalls = 65_536
        serverConfiguration.limits.highWatermarkBytes = configuration.connectionBufferBytes
        serverConfiguration.limits.lowWatermarkBytes = configuration.connectionBufferBytes / 4
        serverConfiguration.limits.maximumOutboundBytes = max(128 << 20, configuration.connectionBufferBytes * 8)
        server = try WireServer(loop: loop, address: configuration.listen, configuration: serverConfiguration, service: router, logger: logger)
        let timer = LoopTimer(loop: loop)
        timer.arm(milliseconds: configuration.bookmarkIntervalMilliseconds, repeatMilliseconds: configuration.bookmarkIntervalMilliseconds, owner: self) {
            server in
            for cache in server.registry.caches.values { cache.sendBookmarks() }
        }
        bookmarkTimer = timer
        logger.info("API server \(configuration.identity) serving on \(server!.address), store at \(configuration.storeEndpoints.map(\.description).joined(separator: ","))")
    }

    public func stop() async {
        await gateway?.stop()
        await loop.submit {
            self.bookmarkTimer?.cancel()
            self.server?.close()
        }
        await store.close()
        loop.shutdown()
    }

    /// The number of watchers of every cache, for benchmarks.
    public func watcherCount() async -> Int {
        await loop.submit { self.registry.caches.values.reduce(0) { $0 + $1.watcherCount } }
    }

    /// Watchers by kind, for `/metrics`.
    func watcherCounts() async -> [(ResourceType, Int)] {
        await loop.submit {
            self.registry.caches.values.map { ($0.type, $0.watcherCount) }.sorted { $0.0.qualifiedName < $1.0.qualifiedName }
        }
    }
}

