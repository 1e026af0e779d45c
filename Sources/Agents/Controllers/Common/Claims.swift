import Api

/// Claims decides which objects a controller owns, as Kubernetes' ControllerRefManager does:
/// a controller owns what carries its controller reference and matches its selector; it adopts
/// orphans that match (adding the reference) and releases what it owns that no longer matches
/// (removing it). Objects controlled by someone else are never touched. A controller being
/// deleted neither adopts nor releases.
public enum Claims {
    public enum Decision: Sendable, Equatable {
        /// Already ours and matching.
        case own
        /// An orphan that matches: take it.
        case adopt
        /// Ours but no longer matching: let it go.
        case release
        /// Someone else's, or not for us.
        case ignore
    }

    public static func decide<Object: KubernetesObject>(
        _ object: Object, ownerUID: String, selector: ParsedLabelSelector, ownerDeleting: Bool
    ) -> Decision {
        // Labels, not the object: `matches(any KubernetesObject)` would box a copy of it.
        let labels = object.metadata?.labels ?? [:]
        if let reference = ControllerRef.of(object) {
            guard reference.uid == ownerUID else { return .ignore }
            if selector.matches(labels) { return .own }
            return ownerDeleting ? .ignore : .release
        }
        if ownerDeleting || !selector.matches(labels) { return .ignore }
        if object.metadata?.deletionTimestamp != nil { return .ignore }
        return .adopt
    }

    /// `object` with a controller reference to `owner` added.
    public static func adopted<Object: KubernetesObject, Owner: KubernetesObject>(_ object: Object, by owner: Owner) -> Object {
        var copy = object
        var meta = copy.meta
        meta.ownerReferences.removeAll { $0.uid == owner.metadata?.uid }
        meta.ownerReferences.append(ControllerRef.to(owner))
        copy.metadata = meta
        return copy
    }

    /// `object` without its references to the owner with `ownerUID`.
    public static func released<Object: KubernetesObject>(_ object: Object, ownerUID: String) -> Object {
        var copy = object
        var meta = copy.meta
        meta.ownerReferences.removeAll { $0.uid == ownerUID }
        copy.metadata = meta
        return copy
    }
}

/// ClaimWriter carries out Claims' decisions through the API: one update per adopted or
/// released object, with the cached resourceVersion (a conflict fails the sync, which retries
/// with fresh objects). Before the first adoption it reads the owner from the API server, not
/// the cache, to make sure it still exists with the same uid and is not being deleted
/// (Kubernetes' RecheckDeletionTimestamp): adopting for a dead owner would leak objects.
public struct ClaimWriter<Owner: KubernetesObject>: Sendable {
    public let client: ApiClient
    public let owner: Owner

    public init(client: ApiClient, owner: Owner) {
        self.client = client
        self.owner = owner
    }

    /// The objects `owner` owns after adopting and releasing.
    public func claim<Object: KubernetesObject>(_ objects: [Object], selector: ParsedLabelSelector) async throws(ApiError) -> [Object] {
        let uid = owner.metadata?.uid ?? ""
        let deleting = owner.metadata?.deletionTimestamp != nil
        // Usually every object is already ours: hand back the same array instead of copying
        // thousands of large values into a new one.
        if objects.allSatisfy({ Claims.decide($0, ownerUID: uid, selector: selector, ownerDeleting: deleting) == .own }) {
            return objects
        }
        var claimed: [Object] = []
        var ownerChecked = false
        for object in objects {
            switch Claims.decide(object, ownerUID: uid, selector: selector, ownerDeleting: deleting) {
            case .own:
                claimed.append(object)
            case .ignore:
                continue
            case .release:
                do {
                    _ = try await client.update(Claims.released(object, ownerUID: uid))
                } catch where error.code == 404 {
                    continue
                }
            case .adopt:
                if !ownerChecked {
                    try await recheckOwner()
                    ownerChecked = true
                }
                do {
                    claimed.append(try await client.update(Claims.adopted(object, by: owner)))
                } catch where error.code == 404 {
                    continue
                }
            }
        }
        return claimed
    }

    private func recheckOwner() async throws(ApiError) {
        let name = owner.metadata?.name ?? ""
        let fresh = try await client.get(Owner.self, namespace: owner.metadata?.namespace, name: name)
        guard fresh.metadata?.uid == owner.metadata?.uid else {
            throw .conflict(Owner.resourceType, name, "original \(Owner.resourceType.kind) is gone: got uid \(fresh.metadata?.uid ?? ""), wanted \(owner.metadata?.uid ?? "")")
        }
        guard fresh.metadata?.deletionTimestamp == nil else {
            throw .conflict(Owner.resourceType, name, "\(Owner.resourceType.kind) has just been deleted; it adopts nothing")
        }
    }
}
