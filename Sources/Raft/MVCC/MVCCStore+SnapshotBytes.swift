import Wire

extension MVCCStore {
    /// snapshotBytes encodes `snapshot()` as a protobuf `skiff.store.StoreSnapshot`.
    public func snapshotBytes() -> [UInt8] {
        snapshot().protobufBytes()
    }

    /// init(snapshotBytes:) decodes and restores a snapshot written by `snapshotBytes()`;
    /// undecodable bytes and broken invariants are both refused as `corruptSnapshot`.
    public convenience init(snapshotBytes bytes: [UInt8], configuration: MVCCConfiguration = MVCCConfiguration()) throws(StoreError) {
        let snapshot: StoreSnapshot
        do {
            snapshot = try StoreSnapshot(protobuf: bytes)
        } catch {
            throw .corruptSnapshot(reason: "\(bytes.count) bytes do not decode as a StoreSnapshot: \(error)")
        }
        try self.init(restoring: snapshot, configuration: configuration)
    }
}
