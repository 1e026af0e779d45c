import Api
import Wire

/// AnyKind is one served kind's operations for the controllers that work on every kind (the
/// garbage collector, namespace deletion, quota counts) without knowing its Swift type. They
/// only need each object's metadata, so that is what it hands out.
struct AnyKind: Sendable {
    let type: ResourceType
    /// The kind's shared informer (created on first use), seen through metadata.
    let informer: @Sendable (SharedInformers) -> MetadataInformer
    /// Every object of the kind in `namespace`, from the API server (not a cache).
    let list: @Sendable (ApiClient, _ namespace: String) async throws(ApiError) -> [ObjectMeta]
    /// One object from the API server; nil when it does not exist.
    let get: @Sendable (ApiClient, _ namespace: String, _ name: String) async throws(ApiError) -> ObjectMeta?
    /// Reads the object from the API server, lets `change` edit its metadata and, when it says
    /// it changed something, writes it back with the version read (409 if it moved meanwhile).
    /// False when the object does not exist or nothing changed.
    let updateMetadata: @Sendable (ApiClient, _ namespace: String, _ name: String, _ change: @Sendable (inout ObjectMeta) -> Bool) async throws(ApiError) -> Bool

    /// Every kind of the catalog.
    static let all: [AnyKind] = ResourceCatalog.all.map { of($0) }

    static func of(_ type: ResourceType) -> AnyKind {
        make(type.emptyObject())
    }

    private static func make<Object: KubernetesObject>(_ sample: Object) -> AnyKind {
        AnyKind(
            type: Object.resourceType,
            informer: { informers in MetadataInformer(informers.informer(Object.self)) },
            list: { client, namespace throws(ApiError) in
                var items: [ObjectMeta] = []
                var continueToken: String?
                repeat {
                    let page = try await client.list(Object.self, namespace: namespace.isEmpty ? nil : namespace, limit: 500, continueToken: continueToken)
                    items += page.items.map { $0.meta }
                    continueToken = page.continueToken?.isEmpty == false ? page.continueToken : nil
                } while continueToken != nil
                return items
            },
            get: { client, namespace, name throws(ApiError) in
                do throws(ApiError) {
                    return try await client.get(Object.self, namespace: namespace.isEmpty ? nil : namespace, name: name).meta
                } catch where error.code == 404 {
                    return nil
                }
            },
            updateMetadata: { client, namespace, name, change throws(ApiError) in
                var object: Object
                do throws(ApiError) {
                    object = try await client.get(Object.self, namespace: namespace.isEmpty ? nil : namespace, name: name)
                } catch where error.code == 404 {
                    return false
                }
                var meta = object.meta
                guard change(&meta) else { return false }
                object.metadata = meta
                do throws(ApiError) {
                    _ = try await client.update(object)
                } catch where error.code == 404 {
                    return false
                }
                return true
            })
    }
}

/// MetadataInformer is a shared informer seen through its objects' metadata.
struct MetadataInformer: Sendable {
    let get: @Sendable (_ namespace: String, _ name: String) -> ObjectMeta?
    let byIndex: @Sendable (_ index: String, _ value: String) -> [ObjectMeta]
    /// How many objects `byIndex` would return, without copying them.
    let countByIndex: @Sendable (_ index: String, _ value: String) -> Int
    let count: @Sendable () -> Int
    /// The newest store revision the informer has seen (events and bookmarks).
    let revision: @Sendable () -> Int64
    let hasSynced: @Sendable () -> Bool
    /// Adds handlers that receive each object's metadata: added (old nil) or updated (old and
    /// new), and deleted.
    let addHandler: @Sendable (
        _ changed: @escaping @Sendable (_ old: ObjectMeta?, _ new: ObjectMeta) -> Void, _ deleted: @escaping @Sendable (ObjectMeta) -> Void
    ) -> Void

    init<Object: KubernetesObject>(_ informer: Informer<Object>) {
        get = { namespace, name in informer.lister.get(namespace: namespace, name: name)?.meta }
        // A closure rather than the key path \.meta: a key path in generic code is instantiated
        // on every call.
        byIndex = { index, value in informer.indexer.byIndex(index, value).map { $0.meta } }
        countByIndex = { index, value in informer.indexer.countByIndex(index, value) }
        count = { informer.indexer.count }
        revision = { Int64(informer.lastSyncResourceVersion) ?? 0 }
        hasSynced = { informer.hasSynced }
        addHandler = { changed, deleted in
            informer.addEventHandler(
                Informer<Object>.EventHandler(
                    onAdd: { changed(nil, $0.meta) }, onUpdate: { old, new in changed(old.meta, new.meta) },
                    onDelete: { deleted($0.meta) }))
        }
    }
}

extension ApiClient {
    /// Deletes an object of any kind, only if it still has `uid` (so a re-created object of the
    /// same name is never deleted on the old one's account). A 404 is success: it is gone.
    func delete(_ type: ResourceType, namespace: String, name: String, uid: String?, propagationPolicy: String?) async throws(ApiError) {
        var request = ApiRequest()
        request.resource = type.qualifiedName
        request.namespace = namespace.isEmpty ? nil : namespace
        request.name = name
        request.propagationPolicy = propagationPolicy
        request.preconditionUid = uid
        do {
            _ = try await call("api.Delete", request)
        } catch where error.code == 404 {
            return
        }
    }

    /// `namespaces/finalize`: writes the namespace's `spec.finalizers` (and nothing else).
    func finalize(_ namespace: Namespace) async throws(ApiError) -> Namespace {
        var request = ApiRequest()
        request.resource = Namespace.resourceType.qualifiedName
        request.name = namespace.metadata?.name
        request.subresource = "finalize"
        request.object = namespace.protobufBytes()
        let response = try await call("api.Update", request)
        do {
            return try Namespace(protobuf: response.object ?? [])
        } catch {
            throw .internalError("the API server sent a Namespace that does not decode: \(error)")
        }
    }
}
