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
    /// Unsent bytes one client connection may hold before its watchers count as behind: watch
    /// fan-out is bursty (one event becomes a frame per watcher on the connection), so this
    /// absorbs a burst for a few hundred watchers.
    public var connectionBufferBytes = 16 << 20
    /// How long a watcher may stay behind before it is cut off (410; it relists).
    public var slowWatcherGraceMilliseconds: UInt64 = 2000
    /// The key service-account tokens are signed with (`--service-account-key-file`); when set,
    /// tokens it signed authenticate as their service account while that account exists with
    /// the uid the token names. The controller manager signs with the same key.
    public var serviceAccountSigningKey: [UInt8]?

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

/// ApiServer is the only component that talks to the store (seed item 7). It serves the binary
/// API (proto/api/server.proto) on one event loop: reads from the watch caches, writes through
/// the registry's transactions.
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

    public static func start(_ configuration: ApiServerConfiguration, logger: Logger = Logger(label: "skiff.apiserver")) async throws -> ApiServer {
        let apiServer = try ApiServer(configuration, logger: logger)
        try await apiServer.loop.submit { () -> Result<Void, any Error> in Result { try apiServer.startServing() } }.get()
        await apiServer.bootstrap()
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
    }

    let lookups: CacheLookups
    /// The configured authenticators plus the service-account token authenticator, if any.
    let authenticators: AuthenticatorChain

    public var address: SocketAddress {
        server!.address
    }

    private func startServing() throws {
        registry.slowWatcherGraceNanoseconds = configuration.slowWatcherGraceMilliseconds * 1_000_000
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
}

// MARK: Request handling

extension ApiServer {
    func registerMethods(_ router: MethodRouter) {
        for (method, verb) in [
            ("api.Get", "get"), ("api.List", "list"), ("api.Create", "create"), ("api.Update", "update"),
            ("api.UpdateStatus", "update"), ("api.Delete", "delete"),
        ] {
            router.register(method) { [unowned self] call in
                guard let request = call.decode(ApiRequest.self) else { return }
                Task(executorPreference: self.loop) {
                    let response: ApiResponse
                    do {
                        response = try await self.serve(method, verb: verb, request, peer: call.peer)
                    } catch {
                        response = ApiResponse(status: ApiError.from(error).status)
                    }
                    await self.loop.submit { call.respond(response) }
                }
            }
        }
        router.register("api.Watch") { [unowned self] call in
            guard call.isStream, let request = call.decode(ApiRequest.self) else {
                if !call.isStream { call.fail(WireError(.invalidArgument, "api.Watch is a server stream")) }
                return
            }
            Task(executorPreference: self.loop) {
                do {
                    try await self.startWatch(request, call: call)
                } catch {
                    let failure = ApiError.from(error)
                    await self.loop.submit {
                        call.send(ApiWatchEvent(type: "ERROR", object: failure.status.protobufBytes()))
                        call.finish(status: failure.message)
                    }
                }
            }
        }
        router.register("api.Discovery") { call in
            call.respond(Self.discovery())
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
            Task(executorPreference: self.loop) {
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

    func caller(_ peer: PeerIdentity) throws(ApiError) -> UserInfo {
        try pipeline.authenticate(token: peer.credential)
    }

    func resolve(_ request: ApiRequest) throws(ApiError) -> ResourceType {
        guard let name = request.resource, let type = ResourceCatalog.find(name) else {
            throw .badRequest("the server doesn't have a resource type \"\(request.resource ?? "")\"")
        }
        return type
    }

    func attributes(_ user: UserInfo, _ verb: String, _ type: ResourceType, _ request: ApiRequest, name: String? = nil) -> RequestAttributes {
        RequestAttributes(
            user: user, verb: Verb(rawValue: verb), type: type, subresource: request.subresource ?? "",
            namespace: type.namespaced ? (request.namespace ?? "") : "", name: name ?? request.name ?? "")
    }

    func authorize(_ user: UserInfo, _ verb: String, _ type: ResourceType, _ request: ApiRequest, name: String? = nil) throws(ApiError) {
        try pipeline.authorize(attributes(user, verb, type, request, name: name))
    }

    /// Admission and validation for a write; returns the admitted object and the quota status
    /// updates to store with it.
    func admit(
        _ user: UserInfo, _ verb: String, _ type: ResourceType, _ request: ApiRequest,
        object: (any KubernetesObject)?, old: (any KubernetesObject)?
    ) async throws(ApiError) -> (any KubernetesObject)? {
        try await admitCharging(user, verb, type, request, object: object, old: old).object
    }

    /// Admission and validation, with the quotas whose usage the write raises.
    func admitCharging(
        _ user: UserInfo, _ verb: String, _ type: ResourceType, _ request: ApiRequest,
        object: (any KubernetesObject)?, old: (any KubernetesObject)?
    ) async throws(ApiError) -> (object: (any KubernetesObject)?, quotas: [ResourceQuota]) {
        let admission = AdmissionRequest(
            attributes: attributes(user, verb, type, request, name: object?.metadata?.name ?? request.name),
            object: object, oldObject: old, lookups: lookups)
        let result: Result<((any KubernetesObject)?, [ResourceQuota]), ApiError> = await loop.submit {
            Result { () throws(ApiError) in
                var admitting = admission
                try self.pipeline.admitAndValidate(&admitting)
                return (admitting.object, admitting.quotaStatusUpdates)
            }
        }
        return try result.get()
    }

    /// Creates an object, charging the quotas admission raised in the same store transaction.
    /// When a quota moved meanwhile (another create charged it, or the quota controller
    /// recounted), admission runs again on the newer quota, a few times at most.
    func createCharging(
        _ user: UserInfo, _ verb: String, _ type: ResourceType, _ request: ApiRequest, namespace: String,
        object: any KubernetesObject
    ) async throws(ApiError) -> CachedObject {
        for _ in 0..<5 {
            let (admitted, quotas) = try await admitCharging(user, verb, type, request, object: object, old: nil)
            guard let admitted else { throw .internalError("admission dropped the object") }
            switch try await registry.create(type, namespace: namespace, object: admitted, chargingQuotas: quotas) {
            case .created(let created):
                return created
            case .quotaMoved(let revision):
                try await registry.ready(ResourceQuota.resourceType, atLeast: revision)
            }
        }
        throw .conflict(type, object.metadata?.name ?? "", "the namespace's quotas kept changing while it was admitted; retry")
    }

    func serve(_ method: String, verb: String, _ request: ApiRequest, peer: PeerIdentity) async throws(ApiError) -> ApiResponse {
        let caller = try caller(peer)
        let type = try resolve(request)
        let namespace = type.namespaced ? (request.namespace ?? "") : ""
        let name = request.name ?? ""
        let subresource = request.subresource ?? ""
        if !subresource.isEmpty && !type.subresources.contains(subresource) {
            throw .badRequest("\(type.qualifiedName) has no subresource \"\(subresource)\"")
        }
        let objectName = verb == "create" && subresource.isEmpty ? (try? decode(type, request, subresource: subresource))??.metadata?.name : nil
        try authorize(caller, verb, type, request, name: objectName)
        switch method {
        case "api.Get" where type == ComponentStatus.resourceType, "api.List" where type == ComponentStatus.resourceType:
            let statuses = await componentStatuses()
            if method == "api.List" {
                var meta = ListMeta()
                meta.resourceVersion = "0"
                return ApiResponse(items: statuses.map { $0.protobufBytes() }, listMeta: meta)
            }
            guard let found = statuses.first(where: { $0.metadata?.name == name }) else { throw .notFound(type, name) }
            return ApiResponse(object: found.protobufBytes())
        case "api.Create" where type == ComponentStatus.resourceType, "api.Update" where type == ComponentStatus.resourceType,
            "api.UpdateStatus" where type == ComponentStatus.resourceType, "api.Delete" where type == ComponentStatus.resourceType:
            throw .methodNotSupported(type, verb)
        case "api.Get":
            try await registry.ready(type)
            guard let found = await loop.submit({ self.registry.cache(type).get(namespace: namespace, name: name) }) else {
                throw .notFound(type, name)
            }
            if subresource == "scale" { return ApiResponse(object: try Self.scale(of: found.object).protobufBytes()) }
            return ApiResponse(object: found.bytes)
        case "api.List":
            return try await list(type, namespace: namespace, request)
        case "api.Create":
            let object = try decode(type, request, subresource: subresource)
            if subresource == "binding" { return try await bind(namespace: namespace, name: name, request) }
            guard var object else { throw .badRequest("create \(type.qualifiedName): the request carries no object") }
            if type.namespaced && (object.metadata?.namespace ?? "").isEmpty {
                object.metadata = { var meta = object.meta; meta.namespace = namespace; return meta }()
            }
            let created = try await createCharging(caller, verb, type, request, namespace: namespace, object: object)
            return ApiResponse(object: created.bytes)
        case "api.Update", "api.UpdateStatus":
            if subresource == "scale" { return try await updateScale(type, namespace: namespace, name: name, request) }
            guard let object = try decode(type, request, subresource: subresource) else {
                throw .badRequest("update \(type.qualifiedName) \(name): the request carries no object")
            }
            if subresource == "finalize" {
                return ApiResponse(object: try await registry.finalize(type, name: name, object: object).bytes)
            }
            let statusOnly = method == "api.UpdateStatus" || subresource == "status"
            let old = await loop.submit { self.registry.cache(type).get(namespace: namespace, name: name)?.object }
            var admitted = object
            if !statusOnly, let old {
                admitted = try await admit(caller, verb, type, request, object: object, old: old) ?? object
            }
            let updated = try await registry.update(
                type, namespace: namespace, name: name, object: admitted, statusOnly: statusOnly)
            return ApiResponse(object: updated.bytes)
        case "api.Delete":
            if let old = await loop.submit({ self.registry.cache(type).get(namespace: namespace, name: name)?.object }) {
                _ = try await admit(caller, verb, type, request, object: nil, old: old)
            }
            var options = DeleteRequestOptions()
            options.propagationPolicy = request.propagationPolicy
            options.gracePeriodSeconds = request.gracePeriodSeconds
            options.preconditionUID = request.preconditionUid
            options.preconditionResourceVersion = request.preconditionResourceVersion
            let deleted = try await registry.delete(type, namespace: namespace, name: name, options: options)
            return ApiResponse(object: deleted.bytes)
        default:
            throw .badRequest("unknown method \(method)")
        }
    }

    private func decode(_ type: ResourceType, _ request: ApiRequest, subresource: String) throws(ApiError) -> (any KubernetesObject)? {
        guard let bytes = request.object, subresource != "binding", subresource != "scale" else { return nil }
        do {
            return try type.decode(bytes)
        } catch {
            throw .badRequest("the object is not a valid \(type.kind): \(error)")
        }
    }

    private func list(_ type: ResourceType, namespace: String, _ request: ApiRequest) async throws(ApiError) -> ApiResponse {
        let filter = try ObjectFilter(namespace: namespace, labelSelector: request.labelSelector ?? "", fieldSelector: request.fieldSelector ?? "", type: type)
        let minimum = try Self.requestedRevision(request.resourceVersion)
        try await registry.ready(type, atLeast: minimum)
        let limit = Int(request.limit ?? 0)
        let start = try Self.continueKey(request.continue)
        let (items, revision, next, remaining) = await loop.submit { () -> ([[UInt8]], Int64, String?, Int64) in
            let cache = self.registry.cache(type)
            var objects = cache.list(filter)
            if let start { objects = objects.filter { $0.key > start } }
            guard limit > 0, objects.count > limit else { return (objects.map(\.bytes), cache.revision, nil, 0) }
            let page = objects.prefix(limit)
            return (page.map(\.bytes), cache.revision, page.last!.key, Int64(objects.count - limit))
        }
        var meta = ListMeta()
        meta.resourceVersion = String(revision)
        if let next {
            meta.`continue` = Data(next.utf8).base64EncodedString()
            meta.remainingItemCount = remaining
        }
        return ApiResponse(items: items, listMeta: meta)
    }

    private func startWatch(_ request: ApiRequest, call: ServerCall) async throws(ApiError) {
        let caller = try caller(call.peer)
        let type = try resolve(request)
        try authorize(caller, "watch", type, request)
        let namespace = type.namespaced ? (request.namespace ?? "") : ""
        let filter = try ObjectFilter(namespace: namespace, labelSelector: request.labelSelector ?? "", fieldSelector: request.fieldSelector ?? "", type: type)
        let version = request.resourceVersion ?? ""
        let fromRevision: Int64? = version.isEmpty || version == "0" ? nil : try Self.requestedRevision(version)
        try await registry.ready(type, atLeast: fromRevision ?? 0)
        let result: Result<Void, ApiError> = await loop.submit {
            Result { () throws(ApiError) in
                try self.registry.cache(type).watch(
                    call: call, fromRevision: fromRevision, filter: filter, bookmarks: request.allowWatchBookmarks ?? false)
            }
        }
        try result.get()
    }

    static func requestedRevision(_ text: String?) throws(ApiError) -> Int64 {
        guard let text, !text.isEmpty, text != "0" else { return 0 }
        guard let value = Int64(text), value > 0 else {
            throw .badRequest("resourceVersion \"\(text)\" is not a valid resource version; use one from a list or watch")
        }
        return value
    }

    static func continueKey(_ token: String?) throws(ApiError) -> String? {
        guard let token, !token.isEmpty else { return nil }
        guard let data = Data(base64Encoded: token), let key = String(data: data, encoding: .utf8) else {
            throw .badRequest("the continue token is not valid; list again without it")
        }
        return key
    }

    // MARK: Subresources

    /// pods/binding: the scheduler's only way to place a pod (seed item 18).
    private func bind(namespace: String, name: String, _ request: ApiRequest) async throws(ApiError) -> ApiResponse {
        let binding: Binding
        do {
            binding = try Binding(protobuf: request.object ?? [])
        } catch {
            throw .badRequest("the binding is not a valid Binding: \(error)")
        }
        let podName = binding.metadata?.name ?? name
        guard let node = binding.target?.name, !node.isEmpty else {
            throw .invalid(Pod.resourceType, podName, [.field("target.name", "FieldValueRequired", "Required value: the node to bind to")])
        }
        let bound = try await registry.modify(Pod.resourceType, namespace: namespace, name: podName) { (object) throws(ApiError) in
            guard var pod = object as? Pod else { throw .internalError("pods/binding on a non-pod") }
            if pod.metadata?.deletionTimestamp != nil {
                throw .conflict(Pod.resourceType, podName, "pod \(podName) is being deleted, cannot be assigned to a host")
            }
            if let existing = pod.spec?.nodeName, !existing.isEmpty {
                throw .conflict(Pod.resourceType, podName, "pod \(podName) is already assigned to node \"\(existing)\"")
            }
            var spec = pod.spec ?? PodSpec()
            spec.nodeName = node
            pod.spec = spec
            object = pod
        }
        var status = Status()
        status.status = "Success"
        status.code = 201
        _ = bound
        return ApiResponse(status: status)
    }

    static func scale(of object: any KubernetesObject) throws(ApiError) -> Scale {
        var scale = Scale()
        var meta = ObjectMeta()
        meta.name = object.metadata?.name
        meta.namespace = object.metadata?.namespace
        meta.uid = object.metadata?.uid
        meta.resourceVersion = object.metadata?.resourceVersion
        meta.creationTimestamp = object.metadata?.creationTimestamp
        scale.metadata = meta
        let (wanted, observed, selector) = try replicas(of: object)
        scale.spec = ScaleSpec(replicas: wanted)
        scale.status = ScaleStatus(replicas: observed, selector: selector)
        return scale
    }

    private static func replicas(of object: any KubernetesObject) throws(ApiError) -> (Int32, Int32, String) {
        func text(_ selector: LabelSelector?) -> String {
            (selector?.matchLabels ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        }
        switch object {
        case let deployment as Deployment:
            return (deployment.spec?.replicas ?? 1, deployment.status?.replicas ?? 0, text(deployment.spec?.selector))
        case let replicaSet as ReplicaSet:
            return (replicaSet.spec?.replicas ?? 1, replicaSet.status?.replicas ?? 0, text(replicaSet.spec?.selector))
        case let statefulSet as StatefulSet:
            return (statefulSet.spec?.replicas ?? 1, statefulSet.status?.replicas ?? 0, text(statefulSet.spec?.selector))
        case let controller as ReplicationController:
            let selector = (controller.spec?.selector ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            return (controller.spec?.replicas ?? 1, controller.status?.replicas ?? 0, selector)
        default:
            throw .badRequest("\(object.resourceType.qualifiedName) has no scale subresource")
        }
    }

    private func updateScale(_ type: ResourceType, namespace: String, name: String, _ request: ApiRequest) async throws(ApiError) -> ApiResponse {
        let scale: Scale
        do {
            scale = try Scale(protobuf: request.object ?? [])
        } catch {
            throw .badRequest("the object is not a valid Scale: \(error)")
        }
        guard let wanted = scale.spec?.replicas, wanted >= 0 else {
            throw .invalid(type, name, [.field("spec.replicas", "FieldValueInvalid", "Invalid value: must be greater than or equal to 0")])
        }
        let expected = scale.metadata?.resourceVersion ?? ""
        let updated = try await registry.modify(type, namespace: namespace, name: name) { (object) throws(ApiError) in
            if !expected.isEmpty && object.metadata?.resourceVersion != expected {
                throw .conflict(type, name, "the object has been modified; please apply your changes to the latest version and try again")
            }
            switch object {
            case var deployment as Deployment:
                deployment.spec = deployment.spec ?? DeploymentSpec()
                deployment.spec!.replicas = wanted
                object = deployment
            case var replicaSet as ReplicaSet:
                replicaSet.spec = replicaSet.spec ?? ReplicaSetSpec()
                replicaSet.spec!.replicas = wanted
                object = replicaSet
            case var statefulSet as StatefulSet:
                statefulSet.spec = statefulSet.spec ?? StatefulSetSpec()
                statefulSet.spec!.replicas = wanted
                object = statefulSet
            case var controller as ReplicationController:
                controller.spec = controller.spec ?? ReplicationControllerSpec()
                controller.spec!.replicas = wanted
                object = controller
            default:
                throw .badRequest("\(type.qualifiedName) has no scale subresource")
            }
        }
        return ApiResponse(object: try Self.scale(of: updated.object).protobufBytes())
    }

    // MARK: Discovery

    static func discovery() -> ApiDiscovery {
        var groups: [String: APIResourceList] = [:]
        for type in ResourceCatalog.all {
            var list = groups[type.apiVersion] ?? APIResourceList()
            list.groupVersion = type.apiVersion
            var resource = APIResource()
            resource.name = type.plural
            resource.singularName = type.singular
            resource.namespaced = type.namespaced
            resource.kind = type.kind
            resource.shortNames = type.shortNames
            resource.verbs = Verbs(items: ["create", "delete", "get", "list", "patch", "update", "watch"])
            list.resources.append(resource)
            for subresource in type.subresources.sorted() {
                var sub = APIResource()
                sub.name = type.plural + "/" + subresource
                sub.namespaced = type.namespaced
                sub.kind = subresource == "scale" ? "Scale" : subresource == "binding" ? "Binding" : type.kind
                sub.verbs = Verbs(items: subresource == "binding" ? ["create"] : subresource == "finalize" ? ["update"] : ["get", "patch", "update"])
                list.resources.append(sub)
            }
            groups[type.apiVersion] = list
        }
        return ApiDiscovery(groups: groups.keys.sorted().map { groups[$0]! })
    }
}

extension ObjectFilter {
    /// A namespace plus Kubernetes' label and field selector strings (400 on a bad selector,
    /// naming the position).
    init(namespace: String, labelSelector: String, fieldSelector: String, type: ResourceType) throws(ApiError) {
        let labels: ParsedLabelSelector
        let fields: FieldSelector
        do {
            labels = try ParsedLabelSelector(parsing: labelSelector)
            fields = try FieldSelector(parsing: fieldSelector)
            try fields.validate(for: type)
        } catch {
            throw error.apiError
        }
        if labels.isEmpty && fields.terms.isEmpty {
            self.init(namespace: namespace)
        } else {
            self.init(namespace: namespace) { object in labels.matches(object) && fields.matches(object) }
        }
    }
}
