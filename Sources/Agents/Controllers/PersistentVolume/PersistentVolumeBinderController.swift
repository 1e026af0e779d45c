import Api
import Logging
import Foundation
import Synchronization

/// PersistentVolumeBinderController binds claims to volumes, provisions hostPath volumes for
/// claims of its storage class, and releases and reclaims volumes whose claims are gone
/// (decisions in `VolumeBinding`). Keys are `claim/<namespace>/<name>` and `volume/<name>`.
/// A binding is written volume first (claimRef), then claim (volumeName), then both statuses,
/// as Kubernetes does: every step is idempotent, so a crash between steps is finished by the
/// next sync.
public final class PersistentVolumeBinderController: Controller {
    public static let name = "persistentvolume-binder"

    let context: ControllerContext
    let loop: ReconcileLoop
    let volumes: Informer<PersistentVolume>
    let claims: Informer<PersistentVolumeClaim>
    let events: EventRecorder
    let classes: VolumeBinding.Classes
    let directory: String
    /// The last Pending reason reported per claim, so that a waiting claim gets one event per
    /// reason, not one per sync.
    private let reported = Mutex<[String: String]>([:])

    public init(context: ControllerContext) {
        self.context = context
        loop = ReconcileLoop(name: Self.name, workers: context.workers, logger: context.logger)
        volumes = context.informers.informer(PersistentVolume.self)
        claims = context.informers.informer(PersistentVolumeClaim.self)
        events = context.events("persistentvolume-controller")
        let options = context.cluster
        classes = VolumeBinding.Classes(
            defaultClass: options.defaultStorageClass.isEmpty ? nil : options.defaultStorageClass,
            provisionedClass: options.hostPathStorageClass.isEmpty ? nil : options.hostPathStorageClass)
        directory = options.hostPathDirectory
        claims.addEventHandler(
            Informer<PersistentVolumeClaim>.EventHandler(
                onAdd: { [loop] in loop.enqueue("claim/" + ObjectKey.of($0)) },
                onUpdate: { [loop] _, new in loop.enqueue("claim/" + ObjectKey.of(new)) },
                onDelete: { [loop, volumes] claim in
                    // Its volume is released now.
                    for volume in volumes.indexer.all() where VolumeBinding.claimRef(of: volume, names: claim) {
                        loop.enqueue("volume/" + (volume.metadata?.name ?? ""))
                    }
                }))
        let volumeChanged: @Sendable (PersistentVolume) -> Void = { [loop, claims] volume in
            loop.enqueue("volume/" + (volume.metadata?.name ?? ""))
            if let reference = volume.spec?.claimRef, let name = reference.name {
                loop.enqueue("claim/" + ObjectKey.make(namespace: reference.namespace, name: name))
            }
            // A new or freed volume may serve a waiting claim.
            if volume.spec?.claimRef == nil {
                for claim in claims.indexer.all() where (claim.spec?.volumeName ?? "").isEmpty {
                    loop.enqueue("claim/" + ObjectKey.of(claim))
                }
            }
        }
        volumes.addEventHandler(
            Informer<PersistentVolume>.EventHandler(
                onAdd: volumeChanged, onUpdate: { _, new in volumeChanged(new) },
                onDelete: { [loop] volume in
                    if let reference = volume.spec?.claimRef, let name = reference.name {
                        loop.enqueue("claim/" + ObjectKey.make(namespace: reference.namespace, name: name))
                    }
                }))
    }

    public func run() async {
        await loop.run { key in try await self.sync(key) }
    }

    func sync(_ key: String) async throws(ApiError) {
        if key.hasPrefix("claim/") {
            try await syncClaim(String(key.dropFirst("claim/".count)))
        } else if key.hasPrefix("volume/") {
            try await syncVolume(String(key.dropFirst("volume/".count)))
        }
    }

    // MARK: Claims

    private func syncClaim(_ key: String) async throws(ApiError) {
        let (namespace, name) = ObjectKey.split(key)
        guard let claim = claims.lister.get(namespace: namespace, name: name) else {
            _ = reported.withLock { $0.removeValue(forKey: key) }
            return
        }
        switch VolumeBinding.claimAction(claim, volumes: volumes.indexer.all(), classes: classes) {
        case .none:
            return
        case .bind(let volume):
            try await bind(claim, to: volume)
        case .confirmBound(let volume):
            try await finishClaim(claim, volume: volume)
        case .provision:
            try await provision(claim)
        case .pending(let reason, let message):
            try await setClaimPhase(claim, "Pending")
            let previous = reported.withLock { $0.updateValue(reason + message, forKey: key) }
            if previous != reason + message {
                events.record(claim, reason == "ProvisioningFailed" || reason == "VolumeMismatch" ? .warning : .normal, reason: reason, message: message)
            }
        case .lost:
            try await setClaimPhase(claim, "Lost")
            events.record(claim, .warning, reason: "ClaimLost", message: "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
        }
    }

    private func bind(_ claim: PersistentVolumeClaim, to volume: PersistentVolume) async throws(ApiError) {
        var boundVolume = VolumeBinding.volumeBound(volume, to: claim)
        if boundVolume.spec?.claimRef != volume.spec?.claimRef || boundVolume.metadata?.annotations != volume.metadata?.annotations {
            boundVolume = try await context.client.update(boundVolume)
        }
        if boundVolume.status?.phase != "Bound" {
            var status = boundVolume.status ?? PersistentVolumeStatus()
            status.phase = "Bound"
            status.message = nil
            status.reason = nil
            status.lastPhaseTransitionTime = ClusterTime.time(Date())
            boundVolume.status = status
            boundVolume = try await context.client.updateStatus(boundVolume)
        }
        try await finishClaim(claim, volume: boundVolume)
        context.logger.info("claim \(ObjectKey.of(claim)) bound to volume \(volume.metadata?.name ?? "")")
    }

    /// The claim's side of a binding: spec.volumeName and annotations, then its status.
    private func finishClaim(_ claim: PersistentVolumeClaim, volume: PersistentVolume) async throws(ApiError) {
        var bound = VolumeBinding.claimBound(claim, to: volume)
        if bound.spec != claim.spec || bound.metadata?.annotations != claim.metadata?.annotations {
            bound = try await context.client.update(bound)
        }
        let status = VolumeBinding.boundClaimStatus(bound, volume: volume)
        if status != bound.status {
            bound.status = status
            _ = try await context.client.updateStatus(bound)
        }
        _ = reported.withLock { $0.removeValue(forKey: ObjectKey.of(claim)) }
    }

    private func setClaimPhase(_ claim: PersistentVolumeClaim, _ phase: String) async throws(ApiError) {
        guard claim.status?.phase != phase else { return }
        var updated = claim
        var status = updated.status ?? PersistentVolumeClaimStatus()
        status.phase = phase
        updated.status = status
        _ = try await context.client.updateStatus(updated)
    }

    private func provision(_ claim: PersistentVolumeClaim) async throws(ApiError) {
        let volume = VolumeBinding.provisionedVolume(for: claim, directory: directory, classes: classes)
        let path = volume.spec?.persistentVolumeSource?.hostPath?.path ?? ""
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        } catch {
            let message = "cannot make the volume directory \(path): \(error.localizedDescription); check --hostpath-provisioner-directory"
            events.record(claim, .warning, reason: "ProvisioningFailed", message: message)
            throw .internalError(message)
        }
        do {
            _ = try await context.client.create(volume)
        } catch where error.code == 409 {
            return  // Made by an earlier pass; binding follows from its event.
        }
        events.record(
            claim, .normal, reason: "ProvisioningSucceeded",
            message: "Successfully provisioned volume \(volume.metadata?.name ?? "") using \(classes.provisioner)")
    }

    // MARK: Volumes

    private func syncVolume(_ name: String) async throws(ApiError) {
        guard var volume = volumes.lister.get(name: name) else { return }
        let claim = try await claim(of: volume)
        switch VolumeBinding.volumeAction(volume, claim: claim) {
        case .none:
            return
        case .phase(let phase, let message):
            var status = volume.status ?? PersistentVolumeStatus()
            status.phase = phase
            status.message = message
            status.reason = phase == "Failed" ? "VolumeFailedRecycle" : nil
            status.lastPhaseTransitionTime = ClusterTime.time(Date())
            volume.status = status
            _ = try await context.client.updateStatus(volume)
            if phase == "Failed", let message {
                events.record(volume, .warning, reason: "VolumeFailedRecycle", message: message)
            }
        case .unbind:
            var freed = try await context.client.update(VolumeBinding.unbound(volume))
            freed.status = PersistentVolumeStatus(phase: "Available")
            _ = try await context.client.updateStatus(freed)
        case .delete:
            if let path = VolumeBinding.provisionedDirectory(of: volume, directory: directory, classes: classes) {
                do {
                    if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
                } catch {
                    let message = "cannot remove the volume directory \(path): \(error.localizedDescription)"
                    events.record(volume, .warning, reason: "VolumeFailedDelete", message: message)
                    throw .internalError(message)
                }
            }
            try await context.client.delete(
                PersistentVolume.resourceType, namespace: "", name: name, uid: volume.metadata?.uid, propagationPolicy: nil)
            context.logger.info("volume \(name) deleted: its claim is gone and its reclaim policy is Delete")
        }
    }

    /// The claim a volume's claimRef names. A claim missing from the cache is looked up in the
    /// API server before the volume is released on its account: the cache may not have it yet.
    private func claim(of volume: PersistentVolume) async throws(ApiError) -> PersistentVolumeClaim? {
        guard let reference = volume.spec?.claimRef, let name = reference.name else { return nil }
        if let cached = claims.lister.get(namespace: reference.namespace, name: name) { return cached }
        do {
            return try await context.client.get(PersistentVolumeClaim.self, namespace: reference.namespace, name: name)
        } catch where error.code == 404 {
            return nil
        }
    }
}
