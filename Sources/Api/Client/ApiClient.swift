import Wire

/// ApiClient is the typed client every component uses to reach the API server over the binary
/// protocol. Errors arrive as `ApiError` (a Kubernetes Status); transport failures become 503.
public final class ApiClient: @unchecked Sendable {
    // Safety of @unchecked Sendable: the WireClient is thread-safe through its loop.
    public let wire: WireClient
    public var loop: EventLoop { wire.loop }

    public init(wire: WireClient) {
        self.wire = wire
    }

    /// Connects to `address` with `token`, on `loop` or a loop of its own.
    public convenience init(address: SocketAddress, token: String, component: String, identity: String, loop: EventLoop? = nil) {
        var configuration = ClientConfiguration(component: component, identity: identity, credential: token)
        configuration.limits.maximumFrameBytes = 64 << 20
        self.init(wire: WireClient(loop: loop ?? EventLoop(name: "api-client"), address: address, configuration: configuration))
    }

    public func close() async {
        await wire.shutdown()
    }

    // MARK: Raw requests

    public func call(_ method: String, _ request: ApiRequest, timeoutMilliseconds: UInt32 = 30_000) async throws(ApiError) -> ApiResponse {
        let response: ApiResponse
        do {
            response = try await wire.call(method, request, as: ApiResponse.self, timeoutMilliseconds: timeoutMilliseconds)
        } catch {
            if error.code == .unauthenticated { throw .unauthorized(error.message) }
            throw .unavailable("API server at \(wire.address): \(error.message)")
        }
        if let status = response.status, status.status != "Success" { throw ApiError(status) }
        return response
    }

    /// Starts a raw request from the client's loop without waiting: `completion` runs on the
    /// loop with the response, or the error (a non-Success status included). For components that
    /// keep many requests in flight (scheduler bindings, hollow nodes' status writes): it costs
    /// no task switch, where `call` costs two.
    public func start(
        _ method: String, _ request: ApiRequest, timeoutMilliseconds: UInt32 = 30_000,
        completion: @escaping (Result<ApiResponse, ApiError>) -> Void
    ) {
        wire.loop.preconditionInLoop()
        wire.start(method, request.protobufBytes(), timeoutMilliseconds: timeoutMilliseconds) { [wire] result in
            switch result {
            case .success(let bytes):
                guard let response = try? ApiResponse(protobuf: bytes) else {
                    return completion(.failure(.internalError("\(method): the API server sent an answer that does not decode")))
                }
                if let status = response.status, status.status != "Success" { return completion(.failure(ApiError(status))) }
                completion(.success(response))
            case .failure(let error):
                if error.code == .unauthenticated { return completion(.failure(.unauthorized(error.message))) }
                completion(.failure(.unavailable("API server at \(wire.address): \(error.message)")))
            }
        }
    }

    /// The request naming one object (or, with `name` nil, a collection) of `type`.
    public static func request<Object: KubernetesObject>(_ type: Object.Type, namespace: String?, name: String? = nil) -> ApiRequest {
        var request = ApiRequest()
        request.resource = Object.resourceType.qualifiedName
        request.namespace = namespace
        request.name = name
        return request
    }

    static func decode<Object: KubernetesObject>(_ bytes: [UInt8]?, as type: Object.Type) throws(ApiError) -> Object {
        do {
            return try Object(protobuf: bytes ?? [])
        } catch {
            throw .internalError("the API server sent a \(Object.resourceType.kind) that does not decode: \(error)")
        }
    }

    // MARK: Typed verbs

    public func get<Object: KubernetesObject>(_ type: Object.Type, namespace: String? = nil, name: String) async throws(ApiError) -> Object {
        let response = try await call("api.Get", Self.request(type, namespace: namespace, name: name))
        return try Self.decode(response.object, as: type)
    }

    public struct ListResult<Object: KubernetesObject>: Sendable {
        public var items: [Object]
        public var resourceVersion: String
        public var continueToken: String?
    }

    public func list<Object: KubernetesObject>(
        _ type: Object.Type, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
        limit: Int64? = nil, continueToken: String? = nil, resourceVersion: String? = nil
    ) async throws(ApiError) -> ListResult<Object> {
        var request = Self.request(type, namespace: namespace)
        request.labelSelector = labelSelector
        request.fieldSelector = fieldSelector
        request.limit = limit
        request.`continue` = continueToken
        request.resourceVersion = resourceVersion
        let response = try await call("api.List", request)
        var items: [Object] = []
        items.reserveCapacity(response.items.count)
        for bytes in response.items { items.append(try Self.decode(bytes, as: type)) }
        return ListResult(
            items: items, resourceVersion: response.listMeta?.resourceVersion ?? "",
            continueToken: response.listMeta?.`continue`)
    }

    public func create<Object: KubernetesObject>(_ object: Object, namespace: String? = nil) async throws(ApiError) -> Object {
        var request = Self.request(Object.self, namespace: namespace ?? object.metadata?.namespace)
        request.object = object.protobufBytes()
        let response = try await call("api.Create", request)
        return try Self.decode(response.object, as: Object.self)
    }

    /// Replaces the object; its metadata.resourceVersion must be the version read (409 otherwise).
    public func update<Object: KubernetesObject>(_ object: Object) async throws(ApiError) -> Object {
        var request = Self.request(Object.self, namespace: object.metadata?.namespace, name: object.metadata?.name)
        request.object = object.protobufBytes()
        let response = try await call("api.Update", request)
        return try Self.decode(response.object, as: Object.self)
    }

    /// Replaces only the status (the `status` subresource).
    public func updateStatus<Object: KubernetesObject>(_ object: Object) async throws(ApiError) -> Object {
        var request = Self.request(Object.self, namespace: object.metadata?.namespace, name: object.metadata?.name)
        request.subresource = "status"
        request.object = object.protobufBytes()
        let response = try await call("api.UpdateStatus", request)
        return try Self.decode(response.object, as: Object.self)
    }

    @discardableResult
    public func delete<Object: KubernetesObject>(
        _ type: Object.Type, namespace: String? = nil, name: String, propagationPolicy: String? = nil,
        gracePeriodSeconds: Int64? = nil
    ) async throws(ApiError) -> Object {
        var request = Self.request(type, namespace: namespace, name: name)
        request.propagationPolicy = propagationPolicy
        request.gracePeriodSeconds = gracePeriodSeconds
        let response = try await call("api.Delete", request)
        return try Self.decode(response.object, as: type)
    }

    /// Binds a pod to a node (pods/binding), as the scheduler does.
    public func bind(podNamespace: String, podName: String, node: String) async throws(ApiError) {
        _ = try await call("api.Create", Self.bindingRequest(podNamespace: podNamespace, podName: podName, node: node))
    }

    /// Binds a pod to a node without waiting for the answer, for a scheduler that keeps many
    /// bindings in flight: `completion` runs on the client's loop with nil when the binding was
    /// accepted, or the error. May be called from any thread.
    public func bind(
        podNamespace: String, podName: String, node: String, timeoutMilliseconds: UInt32 = 30_000,
        completion: @escaping @Sendable (ApiError?) -> Void
    ) {
        let request = Self.bindingRequest(podNamespace: podNamespace, podName: podName, node: node)
        let send: @Sendable () -> Void = { [self] in
            start("api.Create", request, timeoutMilliseconds: timeoutMilliseconds) { result in
                if case .failure(let error) = result { completion(error) } else { completion(nil) }
            }
        }
        if wire.loop.inLoop { send() } else { wire.loop.execute(send) }
    }

    static func bindingRequest(podNamespace: String, podName: String, node: String) -> ApiRequest {
        var request = Self.request(Pod.self, namespace: podNamespace, name: podName)
        request.subresource = "binding"
        var binding = Binding()
        var meta = ObjectMeta()
        meta.name = podName
        meta.namespace = podNamespace
        binding.metadata = meta
        var target = ObjectReference()
        target.kind = "Node"
        target.name = node
        binding.target = target
        request.object = binding.protobufBytes()
        return request
    }

    public func scale<Object: KubernetesObject>(_ type: Object.Type, namespace: String, name: String) async throws(ApiError) -> Scale {
        var request = Self.request(type, namespace: namespace, name: name)
        request.subresource = "scale"
        let response = try await call("api.Get", request)
        do {
            return try Scale(protobuf: response.object ?? [])
        } catch {
            throw .internalError("the API server sent a Scale that does not decode: \(error)")
        }
    }

    public func setScale<Object: KubernetesObject>(_ type: Object.Type, namespace: String, name: String, replicas: Int32) async throws(ApiError) -> Scale {
        var request = Self.request(type, namespace: namespace, name: name)
        request.subresource = "scale"
        request.object = Scale(spec: ScaleSpec(replicas: replicas)).protobufBytes()
        let response = try await call("api.Update", request)
        do {
            return try Scale(protobuf: response.object ?? [])
        } catch {
            throw .internalError("the API server sent a Scale that does not decode: \(error)")
        }
    }

    // MARK: Watch

    /// ApiWatchEventKind is what a watch event says happened.
    public enum WatchEventKind: String, Sendable {
        case added = "ADDED", modified = "MODIFIED", deleted = "DELETED", bookmark = "BOOKMARK", error = "ERROR"
    }

    /// Opens a watch; `handler` runs on the client's loop for each event (raw object bytes, so
    /// that hot paths can skip decoding) and once with nil at the end (with the error, if any).
    @discardableResult
    public func watchRaw<Object: KubernetesObject>(
        _ type: Object.Type, namespace: String? = nil, resourceVersion: String? = nil, labelSelector: String? = nil,
        fieldSelector: String? = nil, bookmarks: Bool = true,
        handler: @escaping @Sendable (WatchEventKind?, [UInt8], ApiError?) -> Void
    ) -> CallToken {
        var request = Self.request(type, namespace: namespace)
        request.resourceVersion = resourceVersion
        request.labelSelector = labelSelector
        request.fieldSelector = fieldSelector
        request.allowWatchBookmarks = bookmarks
        let token = CallToken()
        let payload = request.protobufBytes()
        let open: @Sendable () -> Void = { [wire] in
            wire.openStream("api.Watch", payload, token: token) { event in
                switch event {
                case .item(let bytes):
                    guard let watchEvent = try? ApiWatchEvent(protobuf: bytes),
                        let kind = WatchEventKind(rawValue: watchEvent.type ?? "")
                    else {
                        handler(nil, [], .internalError("undecodable watch event"))
                        return
                    }
                    if kind == .error {
                        let status = (try? Status(protobuf: watchEvent.object ?? [])) ?? Status()
                        handler(.error, watchEvent.object ?? [], ApiError(status))
                    } else {
                        handler(kind, watchEvent.object ?? [], nil)
                    }
                case .end(let error):
                    handler(nil, [], error.map { .unavailable("watch ended: \($0.message)") })
                }
            }
        }
        if wire.loop.inLoop { open() } else { wire.loop.execute(open) }
        return token
    }

    public func cancel(_ token: CallToken) {
        if wire.loop.inLoop { wire.cancel(token) } else { wire.loop.execute { [wire] in wire.cancel(token) } }
    }
}
