import Foundation
import Logging
import Raft
import Wire

/// DeleteOptions as the registry understands them.
public struct DeleteRequestOptions: Sendable {
    public var propagationPolicy: String?
    public var gracePeriodSeconds: Int64?
    public var preconditionUID: String?
    public var preconditionResourceVersion: String?
    public init() {}
}

/// Registry stores API objects in the store at `/registry/<resource>/[<namespace>/]<name>`
/// (seed item 10): writes go to the store as transactions that compare the key's modification
/// revision (the object's resourceVersion) — optimistic concurrency — and reads come from the
/// watch caches. It lives on the API server's loop.
final class Registry: @unchecked Sendable {
    // Safety of @unchecked Sendable: its state (the caches) is touched on `loop` only; the async
    // methods reach it through loop.submit.
    let store: StoreClient
    let loop: EventLoop
    let logger: Logger
    private(set) var caches: [ResourceType: WatchCache] = [:]
    /// Service cluster IPs come from this range (DESIGN.md section 7: 127.97.0.0/16).
    let serviceNetwork: (base: UInt32, size: UInt32) = (0x7F61_0000, 1 << 16)

    init(store: StoreClient, logger: Logger) {
        self.store = store
        self.loop = store.loop
        self.logger = logger
    }

    /// Starts one watch cache per served kind.
    /// See WatchCache.slowWatcherGraceNanoseconds.
    var slowWatcherGraceNanoseconds: UInt64 = 2_000_000_000
    /// Events of history each kind's watch cache keeps (see WatchCache.historyLimit).
    var watchCacheSize = 10_000
    /// Where store call latencies and watch deliveries are counted.
    var metrics: ApiMetrics?

    func start() {
        loop.preconditionInLoop()
        for type in ResourceCatalog.all {
            let cache = WatchCache(type: type, store: store, logger: logger, historyLimit: watchCacheSize)
            cache.slowWatcherGraceNanoseconds = slowWatcherGraceNanoseconds
            cache.metrics = metrics
            caches[type] = cache
            cache.start()
        }
    }

    func cache(_ type: ResourceType) -> WatchCache {
        caches[type]!
    }

    /// Waits on the loop until `type`'s cache has loaded.
    nonisolated(nonsending) func ready(_ type: ResourceType, atLeast revision: Int64 = 0) async throws(ApiError) {
        // The usual case, on the loop with the cache loaded and current: no suspension.
        if loop.inLoop, let cache = caches[type], cache.isReady, cache.revision >= revision { return }
        let result: Result<Void, ApiError> = await withUnsafeContinuation { continuation in
            loop.execute { self.cache(type).whenReady(atLeast: revision) { continuation.resume(returning: $0) } }
        }
        try result.get()
    }

    // MARK: Create

    /// Stores a new object. With `dryRun` the object is shaped exactly as it would be stored
    /// (name from generateName, uid, timestamps) and checked against what exists, but nothing is
    /// written and no service IP is claimed.
    nonisolated(nonsending) func create(_ type: ResourceType, namespace: String, object: any KubernetesObject, dryRun: Bool = false) async throws(ApiError) -> CachedObject {
        switch try await create(type, namespace: namespace, object: object, chargingQuotas: [], dryRun: dryRun) {
        case .created(let created): return created
        case .quotaMoved: preconditionFailure("a create without quotas cannot lose a quota race")
        }
    }

    /// What a create that charges quotas comes to.
    enum CreateOutcome {
        case created(CachedObject)
        /// A quota changed after admission read it (at this store revision or earlier):
        /// nothing was written; admit again on the newer quota.
        case quotaMoved(revision: Int64)
    }

    /// `chargingQuotas` are quotas with their `status.used` raised by admission (each with the
    /// resourceVersion admission read); they are written in the same transaction, only if
    /// unchanged, so that two creates never both take a quota's last unit.
    nonisolated(nonsending) func create(
        _ type: ResourceType, namespace: String, object input: any KubernetesObject, chargingQuotas: [ResourceQuota],
        dryRun: Bool = false
    ) async throws(ApiError) -> CreateOutcome {
        // A generated name may collide (five characters of 27: a replica set of 10,000 pods
        // meets a few collisions): try fresh suffixes, as Kubernetes' API server does since 1.30.
        let generated = (input.metadata?.name ?? "").isEmpty
        var attempt = 1
        while true {
            do throws(ApiError) {
                return try await createOnce(type, namespace: namespace, object: input, chargingQuotas: chargingQuotas, dryRun: dryRun)
            } catch {
                guard generated, error.reason == "AlreadyExists", attempt < Self.generateNameAttempts else { throw error }
                attempt += 1
            }
        }
    }

    /// Attempts at a free name for a create with generateName.
    static let generateNameAttempts = 8

    private nonisolated(nonsending) func createOnce(
        _ type: ResourceType, namespace: String, object input: any KubernetesObject, chargingQuotas: [ResourceQuota],
        dryRun: Bool
    ) async throws(ApiError) -> CreateOutcome {
        var object = input
        var meta = object.meta
        if let version = meta.resourceVersion, !version.isEmpty {
            throw .badRequest("resourceVersion should not be set on objects to be created (\(type.kind) \(meta.name ?? ""))")
        }
        if (meta.name ?? "").isEmpty {
            guard let prefix = meta.generateName, !prefix.isEmpty else {
                throw .invalid(type, "", [.field("metadata.name", "FieldValueRequired", "Required value: name or generateName is required")])
            }
            meta.name = prefix + Self.randomSuffix()
        }
        let name = meta.name!
        if type.namespaced {
            guard !namespace.isEmpty else {
                throw .badRequest("\(type.kind) \(name): a namespace is required for a namespaced resource; pass one")
            }
            if let given = meta.namespace, !given.isEmpty, given != namespace {
                throw .badRequest("the namespace of the object (\(given)) does not match the namespace of the request (\(namespace))")
            }
            meta.namespace = namespace
        } else {
            meta.namespace = nil
        }
        meta.uid = UIDGenerator.next()
        meta.creationTimestamp = Self.now()
        meta.generation = 1
        meta.deletionTimestamp = nil
        meta.deletionGracePeriodSeconds = nil
        object.metadata = meta
        NamespaceRules.prepareForCreate(&object)
        PodRules.prepareForCreate(&object)
        let key = type.storeKey(namespace: namespace, name: name)
        if dryRun {
            try await ready(type)
            if await loop.submit({ self.cache(type).objects[key] != nil }) { throw .alreadyExists(type, name) }
            return .created(CachedObject(key: key, object: object, bytes: object.protobufBytes(), revision: 0))
        }
        var extraOperations: [RequestOp] = []
        var extraCompares: [Compare] = []
        if var service = object as? Service {
            if let ipKey = try await allocateClusterIP(&service) {
                extraCompares.append(Compare(result: .equal, target: .create, key: Array(ipKey.utf8), createRevision: 0))
                extraOperations.append(RequestOp(requestPut: PutRequest(key: Array(ipKey.utf8), value: Array(key.utf8))))
            }
            object = service
        }
        for quota in chargingQuotas {
            let quotaKey = ResourceQuota.resourceType.storeKey(namespace: quota.metadata?.namespace ?? "", name: quota.metadata?.name ?? "")
            extraCompares.append(
                Compare(result: .equal, target: .mod, key: Array(quotaKey.utf8), modRevision: Int64(quota.metadata?.resourceVersion ?? "") ?? 0))
            var charged = quota
            charged.metadata?.resourceVersion = nil
            extraOperations.append(RequestOp(requestPut: PutRequest(key: Array(quotaKey.utf8), value: charged.protobufBytes())))
        }
        let bytes = Self.storedBytes(object)
        let put = GuardedPut(key: Array(key.utf8), value: bytes, if: .absent)
        let ticket = await beginWrite(type, key: key, object: object, storedBytes: bytes)
        let response: TxnResponse
        if extraCompares.isEmpty && extraOperations.isEmpty {
            response = try await run(put, abandoning: ticket, of: type, key: key)
        } else {
            var txn = put.request
            txn.compare += extraCompares
            txn.success += extraOperations
            response = try await run(txn, abandoning: ticket, of: type, key: key)
        }
        guard response.succeeded else {
            await abandonWrite(type, key: key, ticket: ticket)
            if await exists(key) { throw .alreadyExists(type, name) }
            if await quotasMoved(chargingQuotas) { return .quotaMoved(revision: response.header?.revision ?? 0) }
            throw .conflict(type, name, "the service IP chosen was taken concurrently; retry")
        }
        return .created(await finishWrite(
            type, object, storedBytes: bytes, revision: response.header?.revision ?? 0, key: key, ticket: ticket))
    }

    // MARK: Update

    /// Replaces an object (or only its status) if the caller's resourceVersion is current.
    nonisolated(nonsending) func update(
        _ type: ResourceType, namespace: String, name: String, object input: any KubernetesObject,
        statusOnly: Bool, dryRun: Bool = false
    ) async throws(ApiError) -> CachedObject {
        let key = type.storeKey(namespace: namespace, name: name)
        let givenVersion = input.metadata?.resourceVersion ?? ""
        let current = try await currentObject(type, key: key, name: name, atLeast: Int64(givenVersion) ?? 0)
        if !givenVersion.isEmpty && givenVersion != String(current.revision) {
            throw .conflict(type, name, "the object has been modified; please apply your changes to the latest version and try again")
        }
        if let inputName = input.metadata?.name, !inputName.isEmpty, inputName != name {
            throw .badRequest("the name of the object (\(inputName)) does not match the name in the request (\(name))")
        }
        var object: any KubernetesObject
        if statusOnly {
            guard let merged = ObjectParts.statusOnly(input, onto: current.object) else {
                throw .methodNotSupported(type, "update status")
            }
            let causes = Validation.validateStatus(object: merged, old: current.object)
            if !causes.isEmpty { throw .invalid(type, name, causes) }
            object = merged
        } else {
            object = ObjectParts.keepingStatus(input, from: current.object)
            NamespaceRules.prepareForUpdate(&object, old: current.object)
        }
        var meta = object.meta
        let old = current.object.meta
        // What the server owns cannot be changed by a client.
        meta.uid = old.uid
        meta.creationTimestamp = old.creationTimestamp
        meta.namespace = old.namespace
        meta.name = old.name
        meta.deletionTimestamp = old.deletionTimestamp
        meta.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds
        if statusOnly {
            meta = old
        } else {
            meta.generation = old.generation ?? 1
            object.metadata = meta
            if ObjectParts.specBytes(object) != ObjectParts.specBytes(current.object) {
                meta.generation = (old.generation ?? 1) + 1
            }
        }
        // Stored without a version (the write's revision becomes it).
        meta.resourceVersion = nil
        object.metadata = meta
        if dryRun {
            object.metadata?.resourceVersion = String(current.revision)
            return CachedObject(key: key, object: object, bytes: object.protobufBytes(), revision: current.revision)
        }
        return try await writeOrRemove(type, key: key, name: name, object: object, current: current)
    }

    /// `namespaces/finalize`: replaces only a namespace's `spec.finalizers` (see NamespaceRules),
    /// if the caller's resourceVersion is current.
    nonisolated(nonsending) func finalize(_ type: ResourceType, name: String, object input: any KubernetesObject) async throws(ApiError) -> CachedObject {
        let key = type.storeKey(namespace: "", name: name)
        let givenVersion = input.metadata?.resourceVersion ?? ""
        let current = try await currentObject(type, key: key, name: name, atLeast: Int64(givenVersion) ?? 0)
        if !givenVersion.isEmpty && givenVersion != String(current.revision) {
            throw .conflict(type, name, "the object has been modified; please apply your changes to the latest version and try again")
        }
        guard let object = NamespaceRules.finalized(current.object, request: input) else {
            throw .methodNotSupported(type, "finalize")
        }
        return try await writeOrRemove(type, key: key, name: name, object: object, current: current)
    }

    /// Writes `object` over `current`, or removes it when it is being deleted and its last
    /// finalizer is gone.
    private nonisolated(nonsending) func writeOrRemove(
        _ type: ResourceType, key: String, name: String, object: any KubernetesObject, current: CachedObject
    ) async throws(ApiError) -> CachedObject {
        let meta = object.meta
        // The last finalizer of an object being deleted is gone: the object goes now.
        if meta.deletionTimestamp != nil && meta.finalizers.isEmpty && !NamespaceRules.hasSpecFinalizers(object) {
            return try await remove(type, key: key, current: current, name: name)
        }
        return try await write(type, key: key, name: name, object: object, expectedRevision: current.revision)
    }

    /// Applies `change` to the current object and writes it, retrying on conflicts: for the
    /// server's own edits (bindings, scale, graceful deletion).
    nonisolated(nonsending) func modify(
        _ type: ResourceType, namespace: String, name: String,
        _ change: (inout any KubernetesObject) throws(ApiError) -> Void
    ) async throws(ApiError) -> CachedObject {
        let key = type.storeKey(namespace: namespace, name: name)
        var attempts = 0
        while true {
            let current = try await currentObject(type, key: key, name: name, atLeast: 0)
            var object = current.object
            try change(&object)
            object.metadata?.resourceVersion = nil  // stored without one (see storedBytes), after `change` may read it
            do {
                return try await write(type, key: key, name: name, object: object, expectedRevision: current.revision)
            } catch let error where error.reason == "Conflict" && attempts < 5 {
                attempts += 1
                try? await Task.sleep(for: .milliseconds(5 * attempts))
            }
        }
    }

    private nonisolated(nonsending) func write(
        _ type: ResourceType, key: String, name: String, object: any KubernetesObject, expectedRevision: Int64
    ) async throws(ApiError) -> CachedObject {
        let bytes = Self.storedBytes(object)
        let put = GuardedPut(key: Array(key.utf8), value: bytes, if: .modifiedAt(expectedRevision))
        let ticket = await beginWrite(type, key: key, object: object, storedBytes: bytes)
        let response = try await run(put, abandoning: ticket, of: type, key: key)
        guard response.succeeded else {
            await abandonWrite(type, key: key, ticket: ticket)
            if await exists(key) {
                throw .conflict(type, name, "the object has been modified; please apply your changes to the latest version and try again")
            }
            throw .notFound(type, name)
        }
        return await finishWrite(type, object, storedBytes: bytes, revision: response.header?.revision ?? 0, key: key, ticket: ticket)
    }

    // MARK: Delete

    nonisolated(nonsending) func delete(
        _ type: ResourceType, namespace: String, name: String, options: DeleteRequestOptions, dryRun: Bool = false
    ) async throws(ApiError) -> CachedObject {
        let key = type.storeKey(namespace: namespace, name: name)
        let current = try await currentObject(type, key: key, name: name, atLeast: 0)
        let meta = current.object.meta
        if let uid = options.preconditionUID, !uid.isEmpty, uid != meta.uid {
            throw .conflict(type, name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(meta.uid ?? "")")
        }
        if let version = options.preconditionResourceVersion, !version.isEmpty, version != String(current.revision) {
            throw .conflict(type, name, "Precondition failed: ResourceVersion in precondition: \(version), ResourceVersion in object meta: \(current.revision)")
        }
        var finalizers = meta.finalizers
        switch options.propagationPolicy ?? "" {
        case "Orphan": if !finalizers.contains("orphan") { finalizers.append("orphan") }
        case "Foreground": if !finalizers.contains("foregroundDeletion") { finalizers.append("foregroundDeletion") }
        case "Background", "": break
        default:
            throw .badRequest("propagationPolicy \(options.propagationPolicy!) is not one of Orphan, Background, Foreground")
        }
        let grace = gracePeriod(current.object, requested: options.gracePeriodSeconds)
        if dryRun { return current }
        if finalizers.isEmpty && grace == 0 && !NamespaceRules.hasSpecFinalizers(current.object) {
            return try await remove(type, key: key, current: current, name: name)
        }
        if meta.deletionTimestamp != nil && finalizers == meta.finalizers && grace != 0 {
            return current  // Already terminating; nothing changes.
        }
        var object = current.object
        var newMeta = meta
        newMeta.finalizers = finalizers
        if newMeta.deletionTimestamp == nil {
            var deadline = Self.now()
            deadline.seconds = (deadline.seconds ?? 0) + grace
            newMeta.deletionTimestamp = deadline
            newMeta.deletionGracePeriodSeconds = grace
        }
        object.metadata = newMeta
        NamespaceRules.markTerminating(&object)
        return try await write(type, key: key, name: name, object: object, expectedRevision: current.revision)
    }

    /// Pods bound to a node get their grace period (the node agent deletes them once stopped);
    /// everything else goes at once.
    private func gracePeriod(_ object: any KubernetesObject, requested: Int64?) -> Int64 {
        guard let pod = object as? Pod, let node = pod.spec?.nodeName, !node.isEmpty else { return 0 }
        if let requested { return max(0, requested) }
        return pod.spec?.terminationGracePeriodSeconds ?? 30
    }

    private nonisolated(nonsending) func remove(_ type: ResourceType, key: String, current: CachedObject, name: String) async throws(ApiError) -> CachedObject {
        var operations = [RequestOp(requestDeleteRange: DeleteRangeRequest(key: Array(key.utf8)))]
        if let service = current.object as? Service, let ip = service.spec?.clusterIP, ip != "None", !ip.isEmpty {
            operations.append(RequestOp(requestDeleteRange: DeleteRangeRequest(key: Array(Self.serviceIPKey(ip).utf8))))
        }
        let txn = TxnRequest(
            compare: [Compare(result: .equal, target: .mod, key: Array(key.utf8), modRevision: current.revision)],
            success: operations)
        let response = try await run(txn)
        guard response.succeeded else {
            if await exists(key) {
                throw .conflict(type, name, "the object has been modified; please apply your changes to the latest version and try again")
            }
            throw .notFound(type, name)
        }
        return CachedObject(stored: current.object, key: key, revision: response.header?.revision ?? 0)
    }

    // MARK: Helpers

    private nonisolated(nonsending) func currentObject(_ type: ResourceType, key: String, name: String, atLeast revision: Int64) async throws(ApiError) -> CachedObject {
        try await ready(type, atLeast: revision)
        let found: CachedObject? = await loop.submit { self.cache(type).objects[key] }
        if let found { return found }
        // The cache may lag the store by a moment: confirm with the store before saying no.
        let start = ContinuousClock.now
        defer { metrics?.storeRequest(.get, since: start) }
        do {
            if let kv = try await store.get(Array(key.utf8)), let cached = await loop.submit({ self.cache(type).decode(kv) }) {
                return cached
            }
        } catch {
            throw Self.storeError(error)
        }
        throw .notFound(type, name)
    }

    /// Whether a quota's stored version differs from the one admission read.
    private nonisolated(nonsending) func quotasMoved(_ quotas: [ResourceQuota]) async -> Bool {
        for quota in quotas {
            let key = ResourceQuota.resourceType.storeKey(namespace: quota.metadata?.namespace ?? "", name: quota.metadata?.name ?? "")
            let stored = try? await store.get(Array(key.utf8))
            if String(stored?.modRevision ?? 0) != quota.metadata?.resourceVersion { return true }
        }
        return false
    }

    private nonisolated(nonsending) func exists(_ key: String) async -> Bool {
        (try? await store.get(Array(key.utf8))) != nil
    }

    private nonisolated(nonsending) func run(_ txn: TxnRequest) async throws(ApiError) -> TxnResponse {
        let start = ContinuousClock.now
        defer { metrics?.storeRequest(.txn, since: start) }
        do {
            return try await store.txn(txn)
        } catch {
            throw Self.storeError(error)
        }
    }

    static func storeError(_ error: StoreClientError) -> ApiError {
        switch error.kind {
        case .unavailable, .timedOut, .outcomeUnknown:
            return .unavailable("the store did not answer: \(error.message)")
        default:
            return .internalError("store: \(error.message)")
        }
    }

    // A put goes through the type's watch cache, which then builds the write's own event from
    // the written object (WatchCache.pendingWrites).

    private nonisolated(nonsending) func beginWrite(_ type: ResourceType, key: String, object: any KubernetesObject, storedBytes: [UInt8]) async -> UInt64 {
        await loop.submit { self.caches[type]?.beginWrite(key: key, object: object, storedBytes: storedBytes) ?? 0 }
    }

    private nonisolated(nonsending) func abandonWrite(_ type: ResourceType, key: String, ticket: UInt64) async {
        await loop.submit { self.caches[type]?.abandonWrite(key: key, ticket: ticket) }
    }

    private nonisolated(nonsending) func finishWrite(
        _ type: ResourceType, _ object: any KubernetesObject, storedBytes: [UInt8], revision: Int64, key: String, ticket: UInt64
    ) async -> CachedObject {
        await loop.submit {
            self.caches[type]?.finishWrite(key: key, ticket: ticket, object: object, storedBytes: storedBytes, revision: revision)
                ?? CachedObject(stored: object, storedBytes: storedBytes, key: key, revision: revision)
        }
    }

    private nonisolated(nonsending) func run(_ txn: TxnRequest, abandoning ticket: UInt64, of type: ResourceType, key: String) async throws(ApiError) -> TxnResponse {
        do {
            return try await run(txn)
        } catch {
            await abandonWrite(type, key: key, ticket: ticket)
            throw error
        }
    }

    private nonisolated(nonsending) func run(_ put: GuardedPut, abandoning ticket: UInt64, of type: ResourceType, key: String) async throws(ApiError) -> TxnResponse {
        let start = ContinuousClock.now
        defer { metrics?.storeRequest(.txn, since: start) }
        do {
            return try await store.txn(put)
        } catch {
            await abandonWrite(type, key: key, ticket: ticket)
            throw Self.storeError(error)
        }
    }

    /// An object's bytes as the store keeps them: without a resourceVersion (the key's
    /// modification revision is its version). Objects usually arrive here without one; only
    /// those with one are copied to drop it.
    static func storedBytes(_ object: any KubernetesObject) -> [UInt8] {
        guard object.metadata?.resourceVersion != nil else { return object.protobufBytes() }
        var stored = object
        stored.metadata?.resourceVersion = nil
        return stored.protobufBytes()
    }

    static func now() -> Time {
        let seconds = Date().timeIntervalSince1970
        return Time(seconds: Int64(seconds), nanos: Int32((seconds - seconds.rounded(.down)) * 1e9))
    }

    /// Five characters from Kubernetes' alphabet for generated names (no vowels, no 0/1/3).
    static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }

    static func serviceIPKey(_ ip: String) -> String { "/registry/serviceips/" + ip }

    /// Picks a free cluster IP for a Service that needs one; the create transaction claims its
    /// key so that two API servers never hand out the same address.
    private nonisolated(nonsending) func allocateClusterIP(_ service: inout Service) async throws(ApiError) -> String? {
        var spec = service.spec ?? ServiceSpec()
        if spec.type == "ExternalName" { return nil }
        if let ip = spec.clusterIP, !ip.isEmpty {
            if ip == "None" { return nil }
            guard let value = Self.parseIPv4(ip), value >= serviceNetwork.base, value < serviceNetwork.base + serviceNetwork.size else {
                throw .invalid(Service.resourceType, service.metadata?.name ?? "", [
                    .field("spec.clusterIP", "FieldValueInvalid", "Invalid value: \"\(ip)\": provided IP is not in the valid range 127.97.0.0/16"),
                ])
            }
            spec.clusterIPs = [ip]
            service.spec = spec
            return Self.serviceIPKey(ip)
        }
        let used: Set<String> = await loop.submit {
            Set(self.cache(Service.resourceType).objects.values.compactMap { ($0.object as? Service)?.spec?.clusterIP })
        }
        // Skip .0 (network), .1 (reserved like Kubernetes' first service IP) and .10 (DNS).
        var candidate = serviceNetwork.base + 2 + UInt32.random(in: 0..<(serviceNetwork.size - 4))
        for _ in 0..<serviceNetwork.size {
            let ip = Self.formatIPv4(candidate)
            if !used.contains(ip) && candidate & 0xFF != 0 && candidate & 0xFF != 255 && ip != "127.97.0.10" {
                spec.clusterIP = ip
                spec.clusterIPs = [ip]
                if spec.type == nil { spec.type = "ClusterIP" }
                service.spec = spec
                return Self.serviceIPKey(ip)
            }
            candidate = serviceNetwork.base + 2 + (candidate - serviceNetwork.base - 1) % (serviceNetwork.size - 4)
        }
        throw .internalError("no free service IP in 127.97.0.0/16")
    }

    static func parseIPv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".").compactMap { UInt32($0) }
        guard parts.count == 4, parts.allSatisfy({ $0 < 256 }) else { return nil }
        return parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | parts[3]
    }

    static func formatIPv4(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }
}
