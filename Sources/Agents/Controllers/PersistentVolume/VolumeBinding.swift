import Api
import Foundation

/// VolumeBinding is the persistent volume binder's decision logic, free of I/O (Kubernetes'
/// PersistentVolume controller): a Pending claim binds to the smallest Available volume that
/// satisfies it (storage class, access modes, volume mode, label selector, capacity), both
/// sides pointing at each other (`pv.spec.claimRef`, `pvc.spec.volumeName`); a claim of the
/// provisioner's class that nothing satisfies gets a new hostPath volume; a volume whose claim
/// is gone is Released, then deleted or kept by its reclaim policy.
enum VolumeBinding {
    static let bindCompletedAnnotation = "pv.kubernetes.io/bind-completed"
    static let boundByControllerAnnotation = "pv.kubernetes.io/bound-by-controller"
    static let provisionedByAnnotation = "pv.kubernetes.io/provisioned-by"

    /// Which storage classes mean what (there is no StorageClass kind in Skiff's API; the
    /// controller manager's flags stand in for the one class it provisions).
    struct Classes: Sendable, Equatable {
        /// The class of claims that name none (Kubernetes' default StorageClass); nil: no default,
        /// such claims only bind volumes without a class.
        var defaultClass: String?
        /// The class whose claims the hostPath provisioner serves; nil: no provisioning.
        var provisionedClass: String?
        /// The provisioner's name, recorded on the volumes it makes.
        var provisioner: String

        init(defaultClass: String? = "standard", provisionedClass: String? = "standard", provisioner: String = "skiff.io/hostpath") {
            self.defaultClass = defaultClass
            self.provisionedClass = provisionedClass
            self.provisioner = provisioner
        }
    }

    // MARK: Matching

    /// The class a claim asks for: its `storageClassName` ("" means no class), or the default
    /// class when it names none.
    static func storageClass(of claim: PersistentVolumeClaim, classes: Classes) -> String {
        claim.spec?.storageClassName ?? classes.defaultClass ?? ""
    }

    static func requestedStorage(_ claim: PersistentVolumeClaim) throws(QuantityError) -> QuantityValue {
        guard let quantity = claim.spec?.resources?.requests["storage"] else { return .zero }
        return try quantity.value()
    }

    static func capacity(_ volume: PersistentVolume) -> QuantityValue? {
        try? volume.spec?.capacity["storage"]?.value()
    }

    /// Why `volume` cannot hold `claim`, or nil when it can (class, volume mode, access modes,
    /// selector, size; the claimRef is checked by the callers).
    static func mismatch(_ volume: PersistentVolume, _ claim: PersistentVolumeClaim, classes: Classes) -> String? {
        let volumeClass = volume.spec?.storageClassName ?? ""
        let claimClass = storageClass(of: claim, classes: classes)
        if volumeClass != claimClass { return "storage class \"\(volumeClass)\" is not the claim's \"\(claimClass)\"" }
        if (volume.spec?.volumeMode ?? "Filesystem") != (claim.spec?.volumeMode ?? "Filesystem") {
            return "volume mode \(volume.spec?.volumeMode ?? "Filesystem") is not the claim's \(claim.spec?.volumeMode ?? "Filesystem")"
        }
        let modes = Set(volume.spec?.accessModes ?? [])
        let wanted = claim.spec?.accessModes ?? []
        if let missing = wanted.first(where: { !modes.contains($0) }) { return "access mode \(missing) is not offered" }
        if let selector = claim.spec?.selector {
            guard let parsed = try? ParsedLabelSelector(selector, field: "spec.selector"),
                parsed.matches(volume.metadata?.labels ?? [:])
            else { return "labels do not match the claim's selector" }
        }
        guard let size = capacity(volume) else { return "the volume has no readable capacity" }
        guard let request = try? requestedStorage(claim) else { return "the claim's storage request is not a quantity" }
        if size < request { return "capacity \(size) is smaller than the requested \(request)" }
        return nil
    }

    /// Whether the volume's claimRef names this claim (pre-bound by a user, uid unset, or bound).
    static func claimRef(of volume: PersistentVolume, names claim: PersistentVolumeClaim) -> Bool {
        guard let reference = volume.spec?.claimRef else { return false }
        guard reference.name == claim.metadata?.name, reference.namespace == claim.metadata?.namespace else { return false }
        return (reference.uid ?? "").isEmpty || reference.uid == claim.metadata?.uid
    }

    /// The volume a Pending claim should bind: one pre-bound to it if it fits, else the smallest
    /// free volume that fits (ties by name).
    static func bestVolume(for claim: PersistentVolumeClaim, among volumes: [PersistentVolume], classes: Classes) -> PersistentVolume? {
        var best: (volume: PersistentVolume, size: QuantityValue)?
        for volume in volumes where volume.metadata?.deletionTimestamp == nil {
            guard mismatch(volume, claim, classes: classes) == nil, let size = capacity(volume) else { continue }
            if volume.spec?.claimRef != nil {
                if claimRef(of: volume, names: claim) { return volume }
                continue
            }
            if volume.status?.phase == "Released" || volume.status?.phase == "Failed" { continue }
            if let current = best, (current.size, current.volume.metadata?.name ?? "") <= (size, volume.metadata?.name ?? "") { continue }
            best = (volume, size)
        }
        return best?.volume
    }

    // MARK: Claims

    enum ClaimAction: Equatable {
        case none
        /// Bind the claim to this volume (volume first, then claim).
        case bind(PersistentVolume)
        /// Make a hostPath volume for the claim; it binds on the next pass.
        case provision
        /// Nothing fits: the claim stays Pending; the event says why.
        case pending(reason: String, message: String)
        /// The claim's volume exists and points back: its status must say Bound.
        case confirmBound(PersistentVolume)
        /// The claim's bound volume is gone.
        case lost
    }

    static func claimAction(
        _ claim: PersistentVolumeClaim, volumes: [PersistentVolume], classes: Classes
    ) -> ClaimAction {
        guard claim.metadata?.deletionTimestamp == nil else { return .none }
        let volumeName = claim.spec?.volumeName ?? ""
        if volumeName.isEmpty {
            if let volume = bestVolume(for: claim, among: volumes, classes: classes) { return .bind(volume) }
            let claimClass = storageClass(of: claim, classes: classes)
            if let provisioned = classes.provisionedClass, !claimClass.isEmpty, claimClass == provisioned {
                if claim.spec?.selector != nil {
                    return .pending(reason: "ProvisioningFailed", message: "claims with a label selector cannot be provisioned; remove spec.selector or create a matching volume")
                }
                if (try? requestedStorage(claim)) == nil {
                    return .pending(reason: "ProvisioningFailed", message: "spec.resources.requests[storage] is not a quantity; write one such as 1Gi")
                }
                return .provision
            }
            let message = claimClass.isEmpty
                ? "no persistent volumes available for this claim and no storage class is set"
                : "no persistent volumes available for this claim and storage class \"\(claimClass)\" has no provisioner (the hostPath provisioner serves \"\(classes.provisionedClass ?? "none")\")"
            return .pending(reason: "FailedBinding", message: message)
        }
        guard let volume = volumes.first(where: { $0.metadata?.name == volumeName }) else {
            if claim.status?.phase == "Bound" { return .lost }
            return .pending(reason: "FailedBinding", message: "volume \"\(volumeName)\" named by spec.volumeName does not exist")
        }
        if claimRef(of: volume, names: claim) {
            if (volume.spec?.claimRef?.uid ?? "").isEmpty { return .bind(volume) }
            return isBound(claim, to: volume) ? .none : .confirmBound(volume)
        }
        if volume.spec?.claimRef == nil {
            if let why = mismatch(volume, claim, classes: classes) {
                return .pending(reason: "VolumeMismatch", message: "volume \"\(volumeName)\" cannot hold the claim: \(why)")
            }
            return .bind(volume)
        }
        return .pending(reason: "FailedBinding", message: "volume \"\(volumeName)\" is already bound to another claim")
    }

    static func isBound(_ claim: PersistentVolumeClaim, to volume: PersistentVolume) -> Bool {
        claim.spec?.volumeName == volume.metadata?.name && claim.status?.phase == "Bound"
            && claim.metadata?.annotations[bindCompletedAnnotation] == "yes"
            && claim.status?.capacity == (volume.spec?.capacity ?? [:])
    }

    /// The volume pointing at the claim.
    static func volumeBound(_ volume: PersistentVolume, to claim: PersistentVolumeClaim) -> PersistentVolume {
        var result = volume
        var spec = volume.spec ?? PersistentVolumeSpec()
        var reference = ObjectReference()
        reference.kind = "PersistentVolumeClaim"
        reference.apiVersion = "v1"
        reference.namespace = claim.metadata?.namespace
        reference.name = claim.metadata?.name
        reference.uid = claim.metadata?.uid
        reference.resourceVersion = claim.metadata?.resourceVersion
        spec.claimRef = reference
        result.spec = spec
        if volume.spec?.claimRef == nil { result.meta.annotations[boundByControllerAnnotation] = "yes" }
        return result
    }

    /// The claim pointing at the volume (spec and annotations; the status is written apart).
    static func claimBound(_ claim: PersistentVolumeClaim, to volume: PersistentVolume) -> PersistentVolumeClaim {
        var result = claim
        var spec = claim.spec ?? PersistentVolumeClaimSpec()
        if (spec.volumeName ?? "").isEmpty { result.meta.annotations[boundByControllerAnnotation] = "yes" }
        spec.volumeName = volume.metadata?.name
        result.spec = spec
        result.meta.annotations[bindCompletedAnnotation] = "yes"
        return result
    }

    static func boundClaimStatus(_ claim: PersistentVolumeClaim, volume: PersistentVolume) -> PersistentVolumeClaimStatus {
        var status = claim.status ?? PersistentVolumeClaimStatus()
        status.phase = "Bound"
        status.accessModes = volume.spec?.accessModes ?? []
        status.capacity = volume.spec?.capacity ?? [:]
        return status
    }

    // MARK: Volumes

    enum VolumeAction: Equatable {
        case none
        /// Write this phase (with a message for Failed).
        case phase(String, message: String?)
        /// Released with reclaim policy Delete: delete the volume (and its directory, if the
        /// provisioner made it).
        case delete
        /// The claim this volume was bound to by the controller is bound elsewhere: free it.
        case unbind
    }

    /// `claim` is the object the volume's claimRef names, if it exists.
    static func volumeAction(_ volume: PersistentVolume, claim: PersistentVolumeClaim?) -> VolumeAction {
        guard volume.metadata?.deletionTimestamp == nil else { return .none }
        let phase = volume.status?.phase
        func set(_ wanted: String, _ message: String? = nil) -> VolumeAction {
            phase == wanted && volume.status?.message == message ? .none : .phase(wanted, message: message)
        }
        guard let reference = volume.spec?.claimRef else { return set("Available") }
        let referenceUID = reference.uid ?? ""
        if let claim, referenceUID.isEmpty || claim.metadata?.uid == referenceUID {
            if claim.spec?.volumeName == volume.metadata?.name { return set("Bound") }
            if let other = claim.spec?.volumeName, !other.isEmpty {
                return volume.metadata?.annotations[boundByControllerAnnotation] == "yes" ? .unbind : set("Available")
            }
            // The claim's side of the binding is still to be written (the claim's sync does it).
            return referenceUID.isEmpty ? set("Available") : .none
        }
        if referenceUID.isEmpty { return set("Available") }  // Pre-bound to a claim not yet made.
        switch volume.spec?.persistentVolumeReclaimPolicy ?? "Retain" {
        case "Delete": return phase == "Released" ? .delete : set("Released")
        case "Recycle": return set("Failed", "reclaim policy Recycle is not supported; use Delete or Retain")
        default: return set("Released")
        }
    }

    /// The volume without its claimRef, free for another claim.
    static func unbound(_ volume: PersistentVolume) -> PersistentVolume {
        var result = volume
        result.spec?.claimRef = nil
        result.meta.annotations[boundByControllerAnnotation] = nil
        return result
    }

    // MARK: Provisioning

    /// The hostPath volume the provisioner makes for `claim`: named `pvc-<claim uid>`, in a
    /// directory of its own under `directory`, pre-bound to the claim, deleted with it.
    static func provisionedVolume(for claim: PersistentVolumeClaim, directory: String, classes: Classes) -> PersistentVolume {
        let uid = claim.metadata?.uid ?? UUID().uuidString.lowercased()
        let name = "pvc-" + uid
        var volume = PersistentVolume()
        var meta = ObjectMeta()
        meta.name = name
        meta.annotations[provisionedByAnnotation] = classes.provisioner
        volume.metadata = meta
        var spec = PersistentVolumeSpec()
        let request = (try? requestedStorage(claim)) ?? .zero
        spec.capacity = ["storage": claim.spec?.resources?.requests["storage"] ?? Quantity(request)]
        spec.accessModes = claim.spec?.accessModes.isEmpty == false ? claim.spec!.accessModes : ["ReadWriteOnce"]
        spec.storageClassName = storageClass(of: claim, classes: classes)
        spec.persistentVolumeReclaimPolicy = "Delete"
        spec.volumeMode = claim.spec?.volumeMode
        var source = PersistentVolumeSource()
        source.hostPath = HostPathVolumeSource(path: hostPath(directory: directory, volumeName: name), type: "DirectoryOrCreate")
        spec.persistentVolumeSource = source
        volume.spec = spec
        return volumeBound(volume, to: claim)
    }

    static func hostPath(directory: String, volumeName: String) -> String {
        (directory.hasSuffix("/") ? String(directory.dropLast()) : directory) + "/" + volumeName
    }

    /// The directory the provisioner made for `volume`, if it made it (annotation and path under
    /// its directory both agree): only those are removed with the volume.
    static func provisionedDirectory(of volume: PersistentVolume, directory: String, classes: Classes) -> String? {
        guard volume.metadata?.annotations[provisionedByAnnotation] == classes.provisioner,
            let path = volume.spec?.persistentVolumeSource?.hostPath?.path,
            path == hostPath(directory: directory, volumeName: volume.metadata?.name ?? "")
        else { return nil }
        return path
    }
}
