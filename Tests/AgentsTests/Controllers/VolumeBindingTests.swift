import Foundation
import Testing

@testable import Agents
@testable import Api

@Suite struct VolumeBindingTests {
    let classes = VolumeBinding.Classes()

    @Test func theSmallestFittingVolumeIsChosen() {
        let volumes = [
            Fixture.volume("big", size: "10Gi"), Fixture.volume("small", size: "1Gi"), Fixture.volume("fits", size: "2Gi"),
            Fixture.volume("also-fits", size: "2Gi"), Fixture.volume("wrong-class", size: "2Gi", storageClass: "fast"),
            Fixture.volume("wrong-mode", size: "2Gi", modes: ["ReadOnlyMany"]),
            Fixture.volume("taken", size: "2Gi", claimRef: ObjectReference(namespace: "default", name: "other", uid: "u")),
        ]
        let claim = Fixture.claim("data", size: "1500Mi")
        #expect(VolumeBinding.bestVolume(for: claim, among: volumes, classes: classes)?.metadata?.name == "also-fits")
        #expect(VolumeBinding.claimAction(claim, volumes: volumes, classes: classes) == .bind(volumes[3]))
    }

    @Test func accessModesSelectorAndVolumeModeMustMatch() {
        var claim = Fixture.claim("data", size: "1Gi", modes: ["ReadWriteMany"])
        let volume = Fixture.volume("v", size: "5Gi", modes: ["ReadWriteOnce", "ReadWriteMany"], labels: ["tier": "gold"])
        #expect(VolumeBinding.mismatch(volume, claim, classes: classes) == nil)
        claim.spec?.selector = LabelSelector(matchLabels: ["tier": "silver"])
        #expect(VolumeBinding.mismatch(volume, claim, classes: classes) == "labels do not match the claim's selector")
        claim.spec?.selector = nil
        claim.spec?.volumeMode = "Block"
        #expect(VolumeBinding.mismatch(volume, claim, classes: classes)?.contains("volume mode") == true)
    }

    @Test func aClaimWithoutAClassGetsTheDefaultClassAndAnEmptyClassMeansNone() {
        let unclassed = Fixture.volume("plain", size: "1Gi", storageClass: nil)
        let standard = Fixture.volume("standard", size: "1Gi")
        #expect(VolumeBinding.bestVolume(for: Fixture.claim("a", size: "1Gi", storageClass: nil), among: [unclassed, standard], classes: classes)?.metadata?.name == "standard")
        #expect(VolumeBinding.bestVolume(for: Fixture.claim("b", size: "1Gi", storageClass: ""), among: [unclassed, standard], classes: classes)?.metadata?.name == "plain")
    }

    @Test func aVolumePreBoundToTheClaimWins() {
        let prebound = Fixture.volume("reserved", size: "8Gi", claimRef: ObjectReference(namespace: "default", name: "data"))
        let smaller = Fixture.volume("small", size: "1Gi")
        let claim = Fixture.claim("data", size: "1Gi")
        #expect(VolumeBinding.bestVolume(for: claim, among: [smaller, prebound], classes: classes)?.metadata?.name == "reserved")
    }

    @Test func bindingWritesBothSides() {
        let claim = Fixture.claim("data", size: "1Gi")
        let volume = VolumeBinding.volumeBound(Fixture.volume("v1", size: "2Gi"), to: claim)
        #expect(volume.spec?.claimRef?.name == "data")
        #expect(volume.spec?.claimRef?.uid == "uid-data")
        #expect(volume.metadata?.annotations["pv.kubernetes.io/bound-by-controller"] == "yes")
        let bound = VolumeBinding.claimBound(claim, to: volume)
        #expect(bound.spec?.volumeName == "v1")
        #expect(bound.metadata?.annotations["pv.kubernetes.io/bind-completed"] == "yes")
        let status = VolumeBinding.boundClaimStatus(bound, volume: volume)
        #expect(status.phase == "Bound")
        #expect(status.capacity["storage"]?.string == "2Gi")
        // Once both sides and the status say so, nothing remains to do.
        var done = bound
        done.status = status
        #expect(VolumeBinding.claimAction(done, volumes: [volume], classes: classes) == .none)
        #expect(VolumeBinding.volumeAction(volume, claim: done) == .phase("Bound", message: nil))
    }

    @Test func claimsOfTheProvisionedClassGetAHostPathVolume() throws {
        let claim = Fixture.claim("data", size: "3Gi")
        #expect(VolumeBinding.claimAction(claim, volumes: [], classes: classes) == .provision)
        let volume = VolumeBinding.provisionedVolume(for: claim, directory: "/var/lib/skiff/volumes/", classes: classes)
        #expect(volume.metadata?.name == "pvc-uid-data")
        #expect(volume.spec?.persistentVolumeSource?.hostPath?.path == "/var/lib/skiff/volumes/pvc-uid-data")
        #expect(volume.spec?.capacity["storage"]?.string == "3Gi")
        #expect(volume.spec?.claimRef?.uid == "uid-data")
        #expect(volume.spec?.persistentVolumeReclaimPolicy == "Delete")
        #expect(volume.metadata?.annotations["pv.kubernetes.io/provisioned-by"] == "skiff.io/hostpath")
        #expect(VolumeBinding.provisionedDirectory(of: volume, directory: "/var/lib/skiff/volumes", classes: classes) == "/var/lib/skiff/volumes/pvc-uid-data")
        // The provisioned volume is then bound like any other.
        #expect(VolumeBinding.claimAction(claim, volumes: [volume], classes: classes) == .bind(volume))
    }

    @Test func claimsNothingCanServeStayPendingWithAReason() {
        let claim = Fixture.claim("data", size: "1Gi", storageClass: "fast")
        guard case .pending(let reason, let message) = VolumeBinding.claimAction(claim, volumes: [], classes: classes) else {
            Issue.record("expected pending")
            return
        }
        #expect(reason == "FailedBinding")
        #expect(message.contains("storage class \"fast\" has no provisioner"))
        let noClass = Fixture.claim("plain", size: "1Gi", storageClass: "")
        #expect(VolumeBinding.claimAction(noClass, volumes: [], classes: classes)
            == .pending(reason: "FailedBinding", message: "no persistent volumes available for this claim and no storage class is set"))
    }

    @Test func aVolumeWhoseClaimIsGoneIsReleasedThenDeletedOrKept() {
        let reference = ObjectReference(namespace: "default", name: "data", uid: "uid-data")
        let bound = Fixture.volume("v1", size: "1Gi", claimRef: reference, phase: "Bound", reclaim: "Delete")
        #expect(VolumeBinding.volumeAction(bound, claim: nil) == .phase("Released", message: nil))
        var released = bound
        released.status?.phase = "Released"
        #expect(VolumeBinding.volumeAction(released, claim: nil) == .delete)
        let retained = Fixture.volume("v2", size: "1Gi", claimRef: reference, phase: "Bound", reclaim: "Retain")
        #expect(VolumeBinding.volumeAction(retained, claim: nil) == .phase("Released", message: nil))
        // A claim of the same name but another uid is another claim.
        var recreated = Fixture.claim("data", size: "1Gi", volumeName: "v1")
        recreated.metadata?.uid = "uid-new"
        #expect(VolumeBinding.volumeAction(retained, claim: recreated) == .phase("Released", message: nil))
        // A released volume is not offered to new claims.
        var releasedRetained = retained
        releasedRetained.status?.phase = "Released"
        #expect(VolumeBinding.bestVolume(for: Fixture.claim("next", size: "1Gi"), among: [releasedRetained], classes: classes) == nil)
        #expect(VolumeBinding.volumeAction(Fixture.volume("free", size: "1Gi", phase: nil), claim: nil) == .phase("Available", message: nil))
    }

    @Test func aBoundClaimWhoseVolumeVanishedIsLost() {
        let claim = Fixture.claim("data", size: "1Gi", volumeName: "gone", phase: "Bound")
        #expect(VolumeBinding.claimAction(claim, volumes: [], classes: classes) == .lost)
    }
}
