import Foundation

/// StorageTables are persistent volumes and their claims. Unset fields print as Kubernetes'
/// defaults would have stored them: volume mode Filesystem, reclaim policy Retain, phase Pending.
enum StorageTables {
    static let persistentVolume = TableDefinition(
        PersistentVolume.self,
        columns: [
            .name,
            TableColumn("Capacity", description: "The storage capacity of the volume."),
            TableColumn("Access Modes", description: "The ways the volume can be mounted: RWO, ROX, RWX, RWOP."),
            TableColumn("Reclaim Policy", description: "What happens to the volume when it is released from its claim."),
            TableColumn("Status", description: "The phase of the volume."),
            TableColumn("Claim", description: "The claim bound to the volume, as namespace/name."),
            TableColumn("StorageClass", description: "StorageClass of the pv"),
            TableColumn("VolumeAttributesClass", description: "VolumeAttributesClass of the pv"),
            TableColumn("Reason", description: "Why the volume is in its phase."),
            .age,
            TableColumn("VolumeMode", priority: 1, description: "Whether the volume is a filesystem or a raw block device."),
        ]
    ) { volume, now in
        let spec = volume.spec ?? PersistentVolumeSpec()
        let claim = spec.claimRef.map { "\($0.namespace ?? "")/\($0.name ?? "")" } ?? ""
        let phase = volume.metadata?.deletionTimestamp != nil ? "Terminating" : volume.status?.phase ?? "Pending"
        return [
            TableCells.name(volume), .string(TableCells.quantity(spec.capacity["storage"])), .string(accessModes(spec.accessModes)),
            .string(spec.persistentVolumeReclaimPolicy ?? "Retain"), .string(phase), .string(claim),
            .string(storageClass(volume.metadata, spec.storageClassName)), .string("<unset>"),
            .string(volume.status?.reason ?? ""), TableCells.age(volume, now), .string(spec.volumeMode ?? "Filesystem"),
        ]
    }

    static let persistentVolumeClaim = TableDefinition(
        PersistentVolumeClaim.self,
        columns: [
            .name,
            TableColumn("Status", description: "The phase of the claim."),
            TableColumn("Volume", description: "The volume bound to the claim."),
            TableColumn("Capacity", description: "The capacity of the bound volume."),
            TableColumn("Access Modes", description: "The access modes of the bound volume."),
            TableColumn("StorageClass", description: "StorageClass of the pvc"),
            TableColumn("VolumeAttributesClass", description: "VolumeAttributesClass of the pvc"),
            .age,
            TableColumn("VolumeMode", priority: 1, description: "Whether the claim wants a filesystem or a raw block device."),
        ]
    ) { claim, now in
        let spec = claim.spec ?? PersistentVolumeClaimSpec()
        let status = claim.status ?? PersistentVolumeClaimStatus()
        let phase = claim.metadata?.deletionTimestamp != nil ? "Terminating" : status.phase ?? "Pending"
        // Capacity and access modes are the bound volume's; an unbound claim shows neither.
        let bound = !(spec.volumeName ?? "").isEmpty
        return [
            TableCells.name(claim), .string(phase), .string(spec.volumeName ?? ""),
            .string(bound ? TableCells.quantity(status.capacity["storage"]) : ""),
            .string(bound ? accessModes(status.accessModes) : ""),
            .string(storageClass(claim.metadata, spec.storageClassName)), .string("<unset>"), TableCells.age(claim, now),
            .string(spec.volumeMode ?? "Filesystem"),
        ]
    }

    /// "RWO,ROX,RWX,RWOP", in that order whatever the order given, each once.
    static func accessModes(_ modes: [String]) -> String {
        let abbreviations = [("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP")]
        return abbreviations.filter { modes.contains($0.0) }.map(\.1).joined(separator: ",")
    }

    /// The storage class: the legacy beta annotation wins over the field, as in Kubernetes.
    static func storageClass(_ metadata: ObjectMeta?, _ field: String?) -> String {
        metadata?.annotations["volume.beta.kubernetes.io/storage-class"] ?? field ?? ""
    }
}
