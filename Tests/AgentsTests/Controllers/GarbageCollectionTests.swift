import Foundation
import Testing

@testable import Agents
@testable import Api

@Suite struct GarbageCollectionTests {
    static func dependent(_ owners: [OwnerReference]) -> ObjectMeta {
        var meta = Fixture.meta("web-1")
        meta.ownerReferences = owners
        return meta
    }

    @Test func aDependentWhoseOwnersAreAllGoneIsDeletedInTheBackground() {
        let meta = Self.dependent([Fixture.ownerReference("rs-a"), Fixture.ownerReference("rs-b")])
        let action = GarbageCollection.dependentAction(meta, owners: ["uid-rs-a": .absent, "uid-rs-b": .absent], hasDependents: false)
        #expect(action == .delete(propagationPolicy: "Background"))
    }

    @Test func aDependentWithOneLiveOwnerOnlyLosesTheDanglingReferences() {
        let meta = Self.dependent([Fixture.ownerReference("rs-a"), Fixture.ownerReference("rs-b"), Fixture.ownerReference("rs-c")])
        let action = GarbageCollection.dependentAction(
            meta, owners: ["uid-rs-a": .absent, "uid-rs-b": .present, "uid-rs-c": .waitingForDependents], hasDependents: false)
        #expect(action == .removeOwnerReferences(["uid-rs-a", "uid-rs-c"]))
        #expect(GarbageCollection.references(meta, removing: ["uid-rs-a", "uid-rs-c"]).map(\.name) == ["rs-b"])
        #expect(GarbageCollection.dependentAction(meta, owners: ["uid-rs-a": .present, "uid-rs-b": .present, "uid-rs-c": .present], hasDependents: false) == .none)
    }

    @Test func ownersOfUnknownKindsNeverLetADependentBeCollected() {
        let meta = Self.dependent([Fixture.ownerReference("x", kind: "Widget", apiVersion: "example.com/v1")])
        #expect(GarbageCollection.dependentAction(meta, owners: [:], hasDependents: false) == .none)
        #expect(GarbageCollection.ownerLocation(meta.ownerReferences[0], dependentNamespace: "default") == .unknownKind)
    }

    @Test func aDependentOfAForegroundDeletedOwnerGoesInTheForegroundWhenItOwnsOthers() {
        let meta = Self.dependent([Fixture.ownerReference("deploy", kind: "Deployment")])
        #expect(GarbageCollection.dependentAction(meta, owners: ["uid-deploy": .waitingForDependents], hasDependents: true)
            == .delete(propagationPolicy: "Foreground"))
        #expect(GarbageCollection.dependentAction(meta, owners: ["uid-deploy": .waitingForDependents], hasDependents: false)
            == .delete(propagationPolicy: "Background"))
    }

    @Test func objectsAlreadyBeingDeletedOrWithoutOwnersAreLeftAlone() {
        var meta = Self.dependent([Fixture.ownerReference("rs-a")])
        meta.deletionTimestamp = ClusterTime.time(Fixture.epoch)
        #expect(GarbageCollection.dependentAction(meta, owners: ["uid-rs-a": .absent], hasDependents: false) == .none)
        #expect(GarbageCollection.dependentAction(Fixture.meta("lonely"), owners: [:], hasDependents: false) == .none)
    }

    @Test func ownerStateComparesUIDsAndFinalizers() {
        var owner = Fixture.meta("rs-a")
        #expect(GarbageCollection.state(ofOwner: owner, uid: "uid-rs-a") == .present)
        #expect(GarbageCollection.state(ofOwner: owner, uid: "older-uid") == .absent, "a re-created owner is another owner")
        #expect(GarbageCollection.state(ofOwner: nil, uid: "uid-rs-a") == .absent)
        owner.deletionTimestamp = ClusterTime.time(Fixture.epoch)
        owner.finalizers = ["foregroundDeletion"]
        #expect(GarbageCollection.state(ofOwner: owner, uid: "uid-rs-a") == .waitingForDependents)
        #expect(GarbageCollection.isWaitingForDependents(owner))
        owner.finalizers = ["orphan"]
        #expect(GarbageCollection.isOrphaning(owner))
        #expect(GarbageCollection.state(ofOwner: owner, uid: "uid-rs-a") == .present)
    }

    @Test func onlyBlockingDependentsHoldAForegroundDeletion() {
        let blocking = Self.dependent([Fixture.ownerReference("rs-a", block: true)])
        var free = Self.dependent([Fixture.ownerReference("rs-a", block: false)])
        free.name = "web-2"
        #expect(GarbageCollection.blockingDependents(of: "uid-rs-a", among: [blocking, free]).map(\.name) == ["web-1"])
    }

    @Test func ownerLocationsFollowScope() {
        #expect(GarbageCollection.ownerLocation(Fixture.ownerReference("rs"), dependentNamespace: "shop")
            == .at(ReplicaSet.resourceType, namespace: "shop"))
        #expect(GarbageCollection.ownerLocation(Fixture.ownerReference("n1", kind: "Node", apiVersion: "v1"), dependentNamespace: "shop")
            == .at(Node.resourceType, namespace: ""))
        #expect(GarbageCollection.ownerLocation(Fixture.ownerReference("rs"), dependentNamespace: "") == .invalid)
    }

    @Test("only updates of owner references, finalizers, deletion or identity (and resyncs) reach the collector")
    func updatesThatMatter() {
        var old = Self.dependent([Fixture.ownerReference("rs")])
        old.resourceVersion = "5"
        var status = old
        status.resourceVersion = "6"
        #expect(!GarbageCollection.mattersToCollector(old: old, new: status), "a status or binding write")
        #expect(GarbageCollection.mattersToCollector(old: old, new: old), "a resync")
        var reowned = status
        reowned.ownerReferences = []
        #expect(GarbageCollection.mattersToCollector(old: old, new: reowned))
        var finalized = status
        finalized.finalizers = ["orphan"]
        #expect(GarbageCollection.mattersToCollector(old: old, new: finalized))
        var deleted = status
        deleted.deletionTimestamp = Time(seconds: 1)
        #expect(GarbageCollection.mattersToCollector(old: old, new: deleted))
        var replaced = status
        replaced.uid = "uid-new"
        #expect(GarbageCollection.mattersToCollector(old: old, new: replaced))
    }
}
