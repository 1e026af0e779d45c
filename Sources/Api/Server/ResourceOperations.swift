import Foundation
import Wire

/// ResourceRequest is one request on a served kind as both doors (the binary protocol and
/// HTTPS) hand it to the server once they have decoded it and authenticated the caller: who,
/// which verb, which object. Everything after this point — authorization, admission,
/// validation, the registry and the watch caches — is shared, so the doors differ only in how
/// they decode requests and encode answers.
struct ResourceRequest: Sendable {
    var user: UserInfo
    var verb: Verb
    var type: ResourceType
    /// "" for cluster-scoped kinds and for lists and watches across namespaces.
    var namespace: String
    /// "" for list, watch, deletecollection, and for create (the object names itself).
    var name: String
    var subresource: String
    /// Run every check and shape the answer, but change nothing (`dryRun=All`).
    var dryRun = false
    /// Who makes the change, for `metadata.managedFields` ("" records nothing): the
    /// fieldManager query parameter, or a name derived from the client's User-Agent.
    var fieldManager = ""

    init(user: UserInfo, verb: Verb, type: ResourceType, namespace: String, name: String = "", subresource: String = "") {
        self.user = user
        self.verb = verb
        self.type = type
        self.namespace = type.namespaced ? namespace : ""
        self.name = name
        self.subresource = subresource
    }

    func attributes(verb: Verb? = nil, name: String? = nil) -> RequestAttributes {
        RequestAttributes(
            user: user, verb: verb ?? self.verb, type: type, subresource: subresource, namespace: namespace,
            name: name ?? self.name)
    }
}

/// ListQuery are a list's query parameters, as Kubernetes names them.
public struct ListQuery: Sendable, Equatable {
    public var labelSelector = ""
    public var fieldSelector = ""
    /// "" (most recent: consistent read), "0" (any: the cache as it is), or a version.
    public var resourceVersion = ""
    /// "", "NotOlderThan" or "Exact".
    public var resourceVersionMatch = ""
    /// 0: no limit.
    public var limit: Int64 = 0
    public var continueToken = ""
    public init() {}
}

/// WatchQuery are a watch's query parameters.
public struct WatchQuery: Sendable, Equatable {
    public var labelSelector = ""
    public var fieldSelector = ""
    /// "" or "0": the current state as ADDED events first, then changes; otherwise changes after
    /// this version (410 Expired when the cache no longer holds it).
    public var resourceVersion = ""
    public var allowBookmarks = false
    public init() {}
}

/// WriteBody is what a create or update carries, decoded by the door: an object of the
/// request's kind, or the subresource's own type.
enum WriteBody: @unchecked Sendable {
    // Safety of @unchecked Sendable: generated message values behind an existential.
    case object(any KubernetesObject)
    case binding(Binding)
    case scale(Scale)
}

/// ServedObject is what a get, create, update, patch or delete answers with.
enum ServedObject: @unchecked Sendable {
    // Safety of @unchecked Sendable: immutable values (see CachedObject).
    /// An object as stored (or as it would be, for dry runs), with its protobuf bytes.
    case stored(CachedObject)
    /// The scale subresource (autoscaling/v1 Scale).
    case scale(Scale)
    /// A Status, for writes that answer with one (pods/binding).
    case status(Status)
}

/// ServedList is one page of a list.
struct ServedList: Sendable {
    var items: [CachedObject]
    var resourceVersion: String
    /// Present when more items follow; pass it back as `continue`.
    var continueToken: String?
    var remainingItemCount: Int64?
}

// MARK: Operations

extension ApiServer {
    /// A subresource the kind does not serve is a 404 in Kubernetes; kubectl prints it plainly.
    func checkSubresource(_ request: ResourceRequest) throws(ApiError) {
        if !request.subresource.isEmpty && !request.type.subresources.contains(request.subresource) {
            throw ApiError(
                code: 404, reason: "NotFound",
                message: "the server could not find the requested resource (\(request.type.qualifiedName)/\(request.subresource))")
        }
    }

    nonisolated(nonsending) func get(_ request: ResourceRequest) async throws(ApiError) -> ServedObject {
        try checkSubresource(request)
        try pipeline.authorize(request.attributes())
        return try await read(request)
    }

    /// The object (or its scale) as the cache holds it, without authorization: for get, and for
    /// patch, which Kubernetes authorizes as "patch" alone.
    private nonisolated(nonsending) func read(_ request: ResourceRequest) async throws(ApiError) -> ServedObject {
        let type = request.type
        if type == ComponentStatus.resourceType {
            let statuses = await componentStatuses()
            guard let found = statuses.first(where: { $0.metadata?.name == request.name }) else { throw .notFound(type, request.name) }
            return .stored(CachedObject(key: type.storeKey(namespace: "", name: request.name), object: found, bytes: found.protobufBytes(), revision: 0))
        }
        try await registry.ready(type)
        guard let found = await loop.submit({ self.registry.cache(type).get(namespace: request.namespace, name: request.name) }) else {
            throw .notFound(type, request.name)
        }
        if request.subresource == "scale" { return .scale(try Self.scale(of: found.object)) }
        return .stored(found)
    }

    func list(_ request: ResourceRequest, _ options: ListQuery) async throws(ApiError) -> ServedList {
        try checkSubresource(request)
        try pipeline.authorize(request.attributes())
        let type = request.type
        if type == ComponentStatus.resourceType {
            let statuses = await componentStatuses()
            let items = statuses.map { CachedObject(key: type.storeKey(namespace: "", name: $0.metadata?.name ?? ""), object: $0, bytes: $0.protobufBytes(), revision: 0) }
            return ServedList(items: items, resourceVersion: "0")
        }
        let filter = try ObjectFilter(
            namespace: request.namespace, labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, type: type)
        let minimum = try Self.requestedRevision(options.resourceVersion)
        switch options.resourceVersionMatch {
        case "", "NotOlderThan":
            break
        case "Exact":
            guard minimum > 0 else {
                throw .badRequest("resourceVersionMatch=Exact needs a resourceVersion other than \"\" and \"0\"")
            }
        default:
            throw .badRequest("resourceVersionMatch \"\(options.resourceVersionMatch)\" is not one of NotOlderThan, Exact")
        }
        try await registry.ready(type, atLeast: minimum)
        let limit = Int(options.limit)
        guard limit >= 0 else { throw .badRequest("limit \(limit) must not be negative") }
        let start = try Self.continueKey(options.continueToken)
        let exact = options.resourceVersionMatch == "Exact" ? minimum : nil
        let result: Result<ServedList, ApiError> = await loop.submit {
            let cache = self.registry.cache(type)
            if let exact, exact != cache.revision {
                // The cache keeps only the newest state; a list at an older version needs the
                // store's history, which the API server does not read.
                return .failure(.expired("resourceVersion \(exact) with resourceVersionMatch=Exact: the API server serves lists at the newest version (\(cache.revision)) only; list without resourceVersionMatch"))
            }
            var objects = cache.list(filter)
            if let start { objects = objects.filter { $0.key > start } }
            guard limit > 0, objects.count > limit else {
                return .success(ServedList(items: objects, resourceVersion: String(cache.revision)))
            }
            let page = Array(objects.prefix(limit))
            return .success(ServedList(
                items: page, resourceVersion: String(cache.revision),
                continueToken: Data(page.last!.key.utf8).base64EncodedString(),
                remainingItemCount: Int64(objects.count - limit)))
        }
        return try result.get()
    }

    /// Starts a watch into `sink`; events flow until the client goes away, the sink ends it, or
    /// the server cuts it off.
    func watch(_ request: ResourceRequest, _ options: WatchQuery, sink: any WatchSink) async throws(ApiError) {
        try checkSubresource(request)
        try pipeline.authorize(request.attributes(verb: .watch))
        let type = request.type
        if type == ComponentStatus.resourceType { throw .methodNotSupported(type, "watch") }
        let filter = try ObjectFilter(
            namespace: request.namespace, labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, type: type)
        let version = options.resourceVersion
        let fromRevision: Int64? = version.isEmpty || version == "0" ? nil : try Self.requestedRevision(version)
        try await registry.ready(type, atLeast: fromRevision ?? 0)
        let result: Result<Void, ApiError> = await loop.submit {
            Result { () throws(ApiError) in
                try self.registry.cache(type).watch(
                    sink: sink, fromRevision: fromRevision, filter: filter, bookmarks: options.allowBookmarks)
            }
        }
        try result.get()
    }

    nonisolated(nonsending) func create(_ request: ResourceRequest, _ body: WriteBody) async throws(ApiError) -> ServedObject {
        try checkSubresource(request)
        let type = request.type
        if type == ComponentStatus.resourceType { throw .methodNotSupported(type, "create") }
        switch body {
        case .binding(let binding):
            guard request.subresource == "binding" else { throw .badRequest("a Binding is created only as pods/binding") }
            try pipeline.authorize(request.attributes())
            return try await bind(request, binding)
        case .scale:
            throw .methodNotSupported(type, "create scale")
        case .object(var object):
            guard request.subresource.isEmpty else {
                throw .methodNotSupported(type, "create \(request.subresource)")
            }
            guard object.resourceType == type else {
                throw .badRequest("the object is a \(object.resourceType.kind), not a \(type.kind) as the request says")
            }
            try pipeline.authorize(request.attributes(name: object.metadata?.name ?? ""))
            if type.namespaced {
                let given = object.metadata?.namespace ?? ""
                if given.isEmpty {
                    object.metadata = { var meta = object.meta; meta.namespace = request.namespace; return meta }()
                } else if given != request.namespace {
                    throw .badRequest("the namespace of the provided object (\(given)) does not match the namespace sent on the request (\(request.namespace))")
                }
            }
            return .stored(try await createCharging(request, object: object))
        }
    }

    nonisolated(nonsending) func update(_ request: ResourceRequest, _ body: WriteBody) async throws(ApiError) -> ServedObject {
        try checkSubresource(request)
        let type = request.type
        if type == ComponentStatus.resourceType { throw .methodNotSupported(type, "update") }
        try pipeline.authorize(request.attributes())
        switch body {
        case .binding:
            throw .methodNotSupported(type, "update binding")
        case .scale(let scale):
            guard request.subresource == "scale" else { throw .badRequest("a Scale is written only to the scale subresource") }
            return .scale(try await updateScale(request, scale))
        case .object(let object):
            guard object.resourceType == type else {
                throw .badRequest("the object is a \(object.resourceType.kind), not a \(type.kind) as the request says")
            }
            if let namespace = object.metadata?.namespace, !namespace.isEmpty, type.namespaced, namespace != request.namespace {
                throw .badRequest("the namespace of the provided object (\(namespace)) does not match the namespace sent on the request (\(request.namespace))")
            }
            if request.subresource == "finalize" {
                return .stored(try await registry.finalize(type, name: request.name, object: object))
            }
            let statusOnly = request.subresource == "status"
            let old = await loop.submit { self.registry.cache(type).get(namespace: request.namespace, name: request.name)?.object }
            // A version older than the one cached is stale for sure: Conflict before admission
            // and validation, as Kubernetes answers (a newer one may be ahead of the cache; the
            // registry checks it against the store).
            if let given = Int64(object.metadata?.resourceVersion ?? ""), let current = Int64(old?.metadata?.resourceVersion ?? ""), given < current {
                throw .conflict(type, request.name, "the object has been modified; please apply your changes to the latest version and try again")
            }
            var admitted = Self.keepingSystemFields(of: old, in: object)
            if !statusOnly, let old {
                admitted = try await admit(request, object: admitted, old: old) ?? admitted
            }
            if !request.fieldManager.isEmpty, !statusOnly {
                admitted = ManagedFields.recordUpdate(manager: request.fieldManager, old: old, new: admitted, subresource: request.subresource)
            }
            return .stored(try await registry.update(
                type, namespace: request.namespace, name: request.name, object: admitted, statusOnly: statusOnly,
                dryRun: request.dryRun))
        }
    }

    /// Patch: reads the current object (or its scale), lets `transform` compute the new one,
    /// and updates with the version it read. A conflict with a concurrent writer is retried on
    /// a fresh read, as Kubernetes does, unless the patch itself names a resourceVersion. With
    /// `createIfMissing` (server-side apply) a missing object is created from `transform(nil)`.
    nonisolated(nonsending) func patch(
        _ request: ResourceRequest, createIfMissing: Bool = false,
        _ transform: @Sendable (ServedObject?) throws(ApiError) -> WriteBody
    ) async throws(ApiError) -> (object: ServedObject, created: Bool) {
        try checkSubresource(request)
        if request.type == ComponentStatus.resourceType { throw .methodNotSupported(request.type, "patch") }
        var update = request
        update.verb = .patch
        try pipeline.authorize(update.attributes())
        var attempts = 0
        while true {
            let current: ServedObject
            do {
                current = try await read(request)
            } catch where error.code == 404 && createIfMissing && request.subresource.isEmpty {
                var create = request
                create.verb = .create
                create.name = ""
                create.fieldManager = ""  // the apply already recorded its ownership
                let created = try await self.create(create, try transform(nil))
                return (created, true)
            }
            let body = try transform(current)
            let readVersion: String? = switch current {
            case .stored(let object): object.object.metadata?.resourceVersion
            case .scale(let scale): scale.metadata?.resourceVersion
            case .status: nil
            }
            let patchedVersion: String? = switch body {
            case .object(let object): object.metadata?.resourceVersion
            case .scale(let scale): scale.metadata?.resourceVersion
            case .binding: nil
            }
            do {
                return (try await self.update(update, body), false)
            } catch where error.reason == "Conflict" && attempts < 5 && readVersion == patchedVersion {
                attempts += 1
            }
        }
    }

    nonisolated(nonsending) func delete(_ request: ResourceRequest, _ options: DeleteRequestOptions) async throws(ApiError) -> ServedObject {
        try checkSubresource(request)
        let type = request.type
        if type == ComponentStatus.resourceType { throw .methodNotSupported(type, "delete") }
        guard request.subresource.isEmpty else { throw .methodNotSupported(type, "delete \(request.subresource)") }
        try pipeline.authorize(request.attributes())
        if let old = await loop.submit({ self.registry.cache(type).get(namespace: request.namespace, name: request.name)?.object }) {
            _ = try await admit(request, object: nil, old: old)
        }
        return .stored(try await registry.delete(
            type, namespace: request.namespace, name: request.name, options: options, dryRun: request.dryRun))
    }

    /// What Kubernetes' BeforeUpdate does before validation: the creation and deletion
    /// timestamps are the stored ones whatever the client sent (JSON carries whole seconds, the
    /// store keeps nanoseconds), and a missing uid is the stored one.
    static func keepingSystemFields(of old: (any KubernetesObject)?, in new: any KubernetesObject) -> any KubernetesObject {
        guard let old = old?.metadata else { return new }
        var object = new
        var meta = object.meta
        if old.creationTimestamp != nil { meta.creationTimestamp = old.creationTimestamp }
        if (meta.uid ?? "").isEmpty { meta.uid = old.uid }
        meta.deletionTimestamp = old.deletionTimestamp
        meta.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds
        object.metadata = meta
        return object
    }

    /// Deletes every object a list with `listOptions` returns; objects that went away meanwhile
    /// are skipped. Answers with the objects as deleted.
    func deleteCollection(
        _ request: ResourceRequest, _ listOptions: ListQuery, _ options: DeleteRequestOptions
    ) async throws(ApiError) -> ServedList {
        try checkSubresource(request)
        try pipeline.authorize(request.attributes(verb: .deleteCollection))
        var listing = request
        listing.verb = .list
        let listed = try await list(listing, listOptions)
        var deleted: [CachedObject] = []
        for item in listed.items {
            var one = request
            one.verb = .delete
            one.namespace = request.type.namespaced ? item.namespace : ""
            one.name = item.name
            do {
                if case .stored(let object) = try await delete(one, options) { deleted.append(object) }
            } catch where error.code == 404 {
                continue
            }
        }
        return ServedList(items: deleted, resourceVersion: listed.resourceVersion)
    }

    /// Creates an object, charging the quotas admission raised in the same store transaction.
    /// When a quota moved meanwhile (another create charged it, or the quota controller
    /// recounted), admission runs again on the newer quota, a few times at most.
    nonisolated(nonsending) func createCharging(_ request: ResourceRequest, object: any KubernetesObject) async throws(ApiError) -> CachedObject {
        let type = request.type
        for _ in 0..<5 {
            let (admittedObject, quotas) = try await admitCharging(request, object: object, old: nil)
            guard var admitted = admittedObject else { throw .internalError("admission dropped the object") }
            if !request.fieldManager.isEmpty {
                admitted = ManagedFields.recordUpdate(manager: request.fieldManager, old: nil, new: admitted)
            }
            switch try await registry.create(
                type, namespace: request.namespace, object: admitted, chargingQuotas: request.dryRun ? [] : quotas, dryRun: request.dryRun)
            {
            case .created(let created):
                return created
            case .quotaMoved(let revision):
                try await registry.ready(ResourceQuota.resourceType, atLeast: revision)
            }
        }
        throw .conflict(type, object.metadata?.name ?? "", "the namespace's quotas kept changing while it was admitted; retry")
    }

    /// Admission and validation for a write; returns the admitted object.
    nonisolated(nonsending) func admit(
        _ request: ResourceRequest, object: (any KubernetesObject)?, old: (any KubernetesObject)?
    ) async throws(ApiError) -> (any KubernetesObject)? {
        try await admitCharging(request, object: object, old: old).object
    }

    /// Admission and validation, with the quotas whose usage the write raises.
    nonisolated(nonsending) func admitCharging(
        _ request: ResourceRequest, object: (any KubernetesObject)?, old: (any KubernetesObject)?
    ) async throws(ApiError) -> (object: (any KubernetesObject)?, quotas: [ResourceQuota]) {
        let admission = AdmissionRequest(
            attributes: request.attributes(name: object?.metadata?.name ?? request.name),
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
}
