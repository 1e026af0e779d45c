import Api
import Logging
import Synchronization

/// GarbageCollectorController deletes objects whose owners are gone and carries out the
/// propagation policies of deleted owners (decisions in `GarbageCollection`): it watches every
/// kind but events (which nothing owns), finds dependents through the shared informers'
/// `ownerUID` index, and confirms an owner's absence with the API server before deleting
/// anything on the cache's word. Keys are `<resource>|<namespace>|<name>`.
public final class GarbageCollectorController: Controller {
    public static let name = "garbage-collector"
    /// Kinds the collector does not watch: events are never owners and nothing owns them, and
    /// component statuses are computed, not stored.
    static let ignoredKinds: Set<ResourceType> = [Event.resourceType, ComponentStatus.resourceType]
    /// The most owner uids remembered as confirmed absent (uids never come back, so the memory
    /// only saves look-ups; it is cleared when full).
    static let absentOwnerCapacity = 10_000

    struct Watched: Sendable {
        let kind: AnyKind
        let informer: MetadataInformer
    }

    let context: ControllerContext
    let loop: ReconcileLoop
    let watched: [ResourceType: Watched]
    /// Each watched kind's `countByIndex`, for the check every dependent's sync makes.
    let dependentCounters: [@Sendable (String, String) -> Int]
    private let absentOwners = Mutex<Set<String>>([])

    public init(context: ControllerContext) {
        self.context = context
        let loop = ReconcileLoop(name: Self.name, workers: context.workers, logger: context.logger)
        self.loop = loop
        var watched: [ResourceType: Watched] = [:]
        for kind in AnyKind.all where !Self.ignoredKinds.contains(kind.type) {
            watched[kind.type] = Watched(kind: kind, informer: kind.informer(context.informers))
        }
        self.watched = watched
        dependentCounters = watched.values.map(\.informer.countByIndex)
        let table = watched
        for (type, entry) in table {
            entry.informer.addHandler(
                { old, meta in
                    if let old, !GarbageCollection.mattersToCollector(old: old, new: meta) { return }
                    if !meta.ownerReferences.isEmpty || GarbageCollection.isOrphaning(meta) || GarbageCollection.isWaitingForDependents(meta) {
                        loop.enqueue(Self.key(type, meta.namespace ?? "", meta.name ?? ""))
                    }
                },
                { meta in
                    // Its dependents lost an owner; owners waiting for it may be done.
                    for (dependentType, dependent) in Self.dependents(of: meta.uid ?? "", in: table) {
                        loop.enqueue(Self.key(dependentType, dependent.namespace ?? "", dependent.name ?? ""))
                    }
                    for reference in meta.ownerReferences {
                        if case .at(let ownerType, let namespace) = GarbageCollection.ownerLocation(reference, dependentNamespace: meta.namespace ?? "") {
                            loop.enqueue(Self.key(ownerType, namespace, reference.name ?? ""))
                        }
                    }
                })
        }
    }

    static func key(_ type: ResourceType, _ namespace: String, _ name: String) -> String {
        type.qualifiedName + "|" + namespace + "|" + name
    }

    /// Whether anything names `uid` as an owner; counts index entries instead of copying the
    /// dependents (a replica set's status write would otherwise copy every one of its pods).
    func hasDependents(_ uid: String) -> Bool {
        guard !uid.isEmpty else { return false }
        return dependentCounters.contains { $0(InformerIndexes.ownerUID, uid) > 0 }
    }

    static func dependents(of uid: String, in watched: [ResourceType: Watched]) -> [(ResourceType, ObjectMeta)] {
        guard !uid.isEmpty else { return [] }
        return watched.flatMap { type, entry in entry.informer.byIndex(InformerIndexes.ownerUID, uid).map { (type, $0) } }
    }

    public func run() async {
        await loop.run { key in try await self.sync(key) }
    }

    func sync(_ key: String) async throws(ApiError) {
        let parts = key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        precondition(parts.count == 3, "garbage collector key \(key) is not resource|namespace|name")
        guard let type = ResourceCatalog.find(parts[0]), let entry = watched[type],
            let meta = entry.informer.get(parts[1], parts[2])
        else { return }
        if GarbageCollection.isOrphaning(meta) {
            try await orphanDependents(of: meta, entry.kind)
        } else if GarbageCollection.isWaitingForDependents(meta) {
            try await deleteDependents(of: meta, entry.kind)
        }
        if !meta.ownerReferences.isEmpty {
            try await collect(meta, entry.kind)
        }
    }

    // MARK: Owners being deleted

    /// `orphan`: every dependent loses its reference to the owner, then the owner its finalizer.
    private func orphanDependents(of owner: ObjectMeta, _ kind: AnyKind) async throws(ApiError) {
        let uid = owner.uid ?? ""
        for (type, dependent) in Self.dependents(of: uid, in: watched) {
            _ = try await watched[type]!.kind.updateMetadata(context.client, dependent.namespace ?? "", dependent.name ?? "") { meta in
                let kept = GarbageCollection.references(meta, removing: [uid])
                guard kept.count != meta.ownerReferences.count else { return false }
                meta.ownerReferences = kept
                return true
            }
        }
        try await removeFinalizer(GarbageCollection.orphanFinalizer, from: owner, kind)
        context.logger.info("orphaned the dependents of \(kind.type.qualifiedName) \(ObjectKey.make(namespace: owner.namespace, name: owner.name ?? ""))")
    }

    /// `foregroundDeletion`: every dependent is deleted (each through its own key); the owner
    /// loses the finalizer once no dependent blocking owner deletion is left.
    private func deleteDependents(of owner: ObjectMeta, _ kind: AnyKind) async throws(ApiError) {
        let uid = owner.uid ?? ""
        let dependents = Self.dependents(of: uid, in: watched)
        for (type, dependent) in dependents where dependent.deletionTimestamp == nil {
            loop.enqueue(Self.key(type, dependent.namespace ?? "", dependent.name ?? ""))
        }
        guard GarbageCollection.blockingDependents(of: uid, among: dependents.map(\.1)).isEmpty else { return }
        try await removeFinalizer(GarbageCollection.foregroundFinalizer, from: owner, kind)
    }

    private func removeFinalizer(_ finalizer: String, from owner: ObjectMeta, _ kind: AnyKind) async throws(ApiError) {
        let uid = owner.uid
        _ = try await kind.updateMetadata(context.client, owner.namespace ?? "", owner.name ?? "") { meta in
            guard meta.uid == uid, meta.finalizers.contains(finalizer) else { return false }
            meta.finalizers = GarbageCollection.finalizers(meta, removing: finalizer)
            return true
        }
    }

    // MARK: Dependents

    private func collect(_ meta: ObjectMeta, _ kind: AnyKind) async throws(ApiError) {
        var owners: [String: GarbageCollection.OwnerState] = [:]
        for reference in meta.ownerReferences {
            owners[reference.uid ?? ""] = try await state(of: reference, dependentNamespace: meta.namespace ?? "")
        }
        let hasDependents = hasDependents(meta.uid ?? "")
        let namespace = meta.namespace ?? ""
        let name = meta.name ?? ""
        switch GarbageCollection.dependentAction(meta, owners: owners, hasDependents: hasDependents) {
        case .none:
            return
        case .delete(let policy):
            try await context.client.delete(kind.type, namespace: namespace, name: name, uid: meta.uid, propagationPolicy: policy)
            context.logger.info("garbage collected \(kind.type.qualifiedName) \(ObjectKey.make(namespace: namespace, name: name)) (\(policy)): its owners are gone")
        case .removeOwnerReferences(let uids):
            let uid = meta.uid
            _ = try await kind.updateMetadata(context.client, namespace, name) { current in
                guard current.uid == uid else { return false }
                let kept = GarbageCollection.references(current, removing: uids)
                guard kept.count != current.ownerReferences.count else { return false }
                current.ownerReferences = kept
                return true
            }
        }
    }

    /// The state of a reference's owner: from the cache when it has it, else from the API server
    /// (the cache may not have a new owner yet); absence is remembered by uid.
    private func state(of reference: OwnerReference, dependentNamespace: String) async throws(ApiError) -> GarbageCollection.OwnerState {
        let uid = reference.uid ?? ""
        if absentOwners.withLock({ $0.contains(uid) }) { return .absent }
        switch GarbageCollection.ownerLocation(reference, dependentNamespace: dependentNamespace) {
        case .unknownKind:
            return .unknownKind
        case .invalid:
            context.logger.warning("a cluster-scoped object names the namespaced \(reference.kind ?? "") \(reference.name ?? "") as its owner; the reference cannot be resolved and is ignored")
            return .unknownKind
        case .at(let type, let namespace):
            let name = reference.name ?? ""
            let cached = watched[type]?.informer.get(namespace, name)
            let state = GarbageCollection.state(ofOwner: cached, uid: uid)
            guard state == .absent else { return state }
            let live = try await (watched[type]?.kind ?? AnyKind.of(type)).get(context.client, namespace, name)
            let confirmed = GarbageCollection.state(ofOwner: live, uid: uid)
            if confirmed == .absent {
                absentOwners.withLock { absent in
                    if absent.count >= Self.absentOwnerCapacity { absent.removeAll() }
                    absent.insert(uid)
                }
            }
            return confirmed
        }
    }
}
