import Api

/// GarbageCollection is the garbage collector's decision logic, free of I/O (Kubernetes'
/// garbage collector over ownerReferences):
/// - a dependent whose owners are all gone is deleted (in the background, or in the foreground
///   when an owner waits for its dependents and it has dependents of its own);
/// - a dependent with at least one live owner only loses its references to owners that are gone
///   or are deleting their dependents in the foreground;
/// - an owner being deleted with the `orphan` finalizer first has its references removed from
///   every dependent, then loses the finalizer;
/// - an owner being deleted with `foregroundDeletion` loses that finalizer once no dependent
///   that blocks owner deletion (`blockOwnerDeletion: true`) is left.
enum GarbageCollection {
    static let orphanFinalizer = "orphan"
    static let foregroundFinalizer = "foregroundDeletion"

    /// What the collector knows of one owner reference's target.
    enum OwnerState: Equatable {
        /// The owner exists with the referenced uid.
        case present
        /// The owner exists and is being deleted in the foreground (it waits for dependents).
        case waitingForDependents
        /// No object of that kind, namespace, name and uid exists (confirmed with the API server).
        case absent
        /// The reference cannot be resolved (a kind the API does not serve, or a namespaced
        /// owner of a cluster-scoped object): never collect on its account.
        case unknownKind
    }

    static func state(ofOwner owner: ObjectMeta?, uid: String?) -> OwnerState {
        guard let owner, owner.uid == uid else { return .absent }
        return isWaitingForDependents(owner) ? .waitingForDependents : .present
    }

    static func isWaitingForDependents(_ meta: ObjectMeta) -> Bool {
        meta.deletionTimestamp != nil && meta.finalizers.contains(foregroundFinalizer)
    }

    /// Whether an update can change what the collector decides about the object: its owner
    /// references, finalizers or deletion (Kubernetes' graph builder looks at the same). A pod's
    /// binding or status write does not, and would otherwise cost a sync each. Resyncs (the same
    /// version delivered again) always count.
    static func mattersToCollector(old: ObjectMeta, new: ObjectMeta) -> Bool {
        old.resourceVersion == new.resourceVersion || old.uid != new.uid || old.ownerReferences != new.ownerReferences
            || old.finalizers != new.finalizers || (old.deletionTimestamp == nil) != (new.deletionTimestamp == nil)
    }

    static func isOrphaning(_ meta: ObjectMeta) -> Bool {
        meta.deletionTimestamp != nil && meta.finalizers.contains(orphanFinalizer)
    }

    enum DependentAction: Equatable {
        case none
        /// Delete the dependent with this propagation policy.
        case delete(propagationPolicy: String)
        /// Drop the references with these owner uids; the dependent stays.
        case removeOwnerReferences(Set<String>)
    }

    /// What to do with a dependent, given the state of each of its owners (by reference uid)
    /// and whether it owns anything itself.
    static func dependentAction(_ meta: ObjectMeta, owners: [String: OwnerState], hasDependents: Bool) -> DependentAction {
        let references = meta.ownerReferences
        guard !references.isEmpty else { return .none }
        // An object already being deleted is past collection (an owner waiting for its own
        // dependents is handled as an owner).
        if meta.deletionTimestamp != nil { return .none }
        var solid = 0
        var dangling: Set<String> = []
        var waiting: Set<String> = []
        for reference in references {
            let uid = reference.uid ?? ""
            switch owners[uid] ?? .unknownKind {
            case .present, .unknownKind: solid += 1
            case .absent: dangling.insert(uid)
            case .waitingForDependents: waiting.insert(uid)
            }
        }
        if solid > 0 {
            let drop = dangling.union(waiting)
            return drop.isEmpty ? .none : .removeOwnerReferences(drop)
        }
        if !waiting.isEmpty && hasDependents { return .delete(propagationPolicy: "Foreground") }
        if meta.finalizers.contains(orphanFinalizer) { return .delete(propagationPolicy: "Orphan") }
        if meta.finalizers.contains(foregroundFinalizer) { return .delete(propagationPolicy: "Foreground") }
        return .delete(propagationPolicy: "Background")
    }

    /// The owner references of `meta` without those to `uids`.
    static func references(_ meta: ObjectMeta, removing uids: Set<String>) -> [OwnerReference] {
        meta.ownerReferences.filter { !uids.contains($0.uid ?? "") }
    }

    /// Dependents still holding a foreground-deleted owner: references to `ownerUID` with
    /// `blockOwnerDeletion: true`.
    static func blockingDependents(of ownerUID: String, among dependents: [ObjectMeta]) -> [ObjectMeta] {
        dependents.filter { dependent in
            dependent.ownerReferences.contains { $0.uid == ownerUID && $0.blockOwnerDeletion == true }
        }
    }

    /// The finalizers of `meta` without `finalizer`.
    static func finalizers(_ meta: ObjectMeta, removing finalizer: String) -> [String] {
        meta.finalizers.filter { $0 != finalizer }
    }

    enum OwnerLocation: Equatable {
        case at(ResourceType, namespace: String)
        /// The reference names a kind the API does not serve.
        case unknownKind
        /// A cluster-scoped dependent names a namespaced owner, which cannot be resolved:
        /// Kubernetes never collects the dependent on its account (and warns).
        case invalid
    }

    /// Where the owner a reference names lives: owners of namespaced dependents are in the
    /// dependent's namespace (references cannot cross namespaces); cluster-scoped kinds have none.
    static func ownerLocation(_ reference: OwnerReference, dependentNamespace: String) -> OwnerLocation {
        guard let type = ResourceCatalog.find(apiVersion: reference.apiVersion ?? "", kind: reference.kind ?? "") else {
            return .unknownKind
        }
        if type.namespaced {
            return dependentNamespace.isEmpty ? .invalid : .at(type, namespace: dependentNamespace)
        }
        return .at(type, namespace: "")
    }
}
