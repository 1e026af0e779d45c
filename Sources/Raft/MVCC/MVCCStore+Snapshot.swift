extension MVCCStore {
    /// snapshotFormatVersion is the layout `snapshot()` writes and `init(restoring:)` reads.
    public static let snapshotFormatVersion: UInt32 = 1

    /// snapshot is the whole replicated state: every retained record in revision order, the
    /// leases in id order, the revisions and the consistent index.
    public func snapshot() -> StoreSnapshot {
        image().snapshot()
    }

    /// image is the state `snapshot()` describes, taken in O(1) on the store's thread (the
    /// records are shared copy-on-write: the store's next write copies its array, not each
    /// record's bytes) so that another thread can build and encode the snapshot from it while
    /// the store goes on applying.
    public func image() -> StoreImage {
        StoreImage(
            revision: revision, compactedRevision: compactedRevision, consistentIndex: consistentIndex, records: records,
            leases: leaseTTLs.map { StoreSnapshotLease(id: $0.id, ttl: $0.ttlSeconds) })
    }

    /// init(restoring:) rebuilds a store from a snapshot, refusing one that breaks the store's
    /// invariants (records out of order, a record after the revision, a key on a missing lease).
    public convenience init(restoring snapshot: StoreSnapshot, configuration: MVCCConfiguration = MVCCConfiguration()) throws(StoreError) {
        self.init(configuration: configuration)
        if snapshot.formatVersion != Self.snapshotFormatVersion {
            throw .corruptSnapshot(reason: "format version \(snapshot.formatVersion), expected \(Self.snapshotFormatVersion)")
        }
        if snapshot.revision < 1 || snapshot.compactedRevision < 0 || snapshot.compactedRevision > snapshot.revision {
            throw .corruptSnapshot(
                reason: "revision \(snapshot.revision) with compacted revision \(snapshot.compactedRevision)")
        }
        if snapshot.records.count > MVCCLimits.maximumRecords {
            throw .corruptSnapshot(reason: "\(snapshot.records.count) records, above the limit of \(MVCCLimits.maximumRecords)")
        }
        revision = snapshot.revision
        compactedRevision = snapshot.compactedRevision
        consistentIndex = snapshot.consistentIndex
        for lease in snapshot.leases {
            if lease.id == 0 || leases[lease.id] != nil {
                throw .corruptSnapshot(reason: "lease id \(lease.id) is zero or repeated")
            }
            leases[lease.id] = LeaseRecord(ttlSeconds: lease.ttl, keys: [])
        }
        records.reserveCapacity(snapshot.records.count)
        var last: (revision: Int64, subRevision: Int64) = (0, -1)
        for (position, stored) in snapshot.records.enumerated() {
            try restore(stored, position: position, after: &last)
        }
        try attachLeases()
    }

    private func restore(_ stored: StoreSnapshotRecord, position: Int, after last: inout (revision: Int64, subRevision: Int64)) throws(StoreError) {
        guard let keyValue = stored.kv, !keyValue.key.isEmpty else {
            throw .corruptSnapshot(reason: "record \(position) has no key")
        }
        let ordered = keyValue.modRevision > last.revision
            || (keyValue.modRevision == last.revision && stored.subRevision > last.subRevision)
        if !ordered || keyValue.modRevision > revision || stored.subRevision < 0 || stored.subRevision > Int64(Int32.max) {
            throw .corruptSnapshot(
                reason: "record \(position) for key \(printableKey(keyValue.key)) at revision \(keyValue.modRevision).\(stored.subRevision) "
                    + "is out of order or after the store revision \(revision)")
        }
        last = (keyValue.modRevision, stored.subRevision)
        let found = keyIndex.find(keyValue.key)
        let record = VersionRecord(
            key: keyValue.key, value: keyValue.value, revision: keyValue.modRevision,
            createRevision: keyValue.createRevision, version: keyValue.version, lease: keyValue.lease,
            previous: found.record ?? -1, subRevision: Int32(stored.subRevision))
        let index = Int32(records.count)
        let wasLive = found.record.map { !records[Int($0)].isTombstone } ?? false
        records.append(record)
        if found.record != nil {
            keyIndex.setRecord(index, at: found.position)
        } else {
            keyIndex.insert(record.key, record: index, at: found.position)
        }
        liveKeyCount += (record.isTombstone ? 0 : 1) - (wasLive ? 1 : 0)
    }

    private func attachLeases() throws(StoreError) {
        var missing: (key: [UInt8], lease: Int64)?
        keyIndex.forEachKey { key, newest in
            let record = records[Int(newest)]
            guard !record.isTombstone, record.lease != 0 else { return }
            if leases[record.lease] == nil {
                if missing == nil { missing = (key, record.lease) }
                return
            }
            leases[record.lease]!.keys.insert(key)
        }
        if let missing {
            throw .corruptSnapshot(reason: "key \(printableKey(missing.key)) is attached to lease \(missing.lease), which is not in the snapshot")
        }
    }
}

/// StoreImage is an immutable copy of an `MVCCStore`'s replicated state as of one applied index
/// (see `MVCCStore.image()`); any thread may turn it into the snapshot.
public struct StoreImage: Sendable {
    let revision: Int64
    let compactedRevision: Int64
    let consistentIndex: UInt64
    let records: [VersionRecord]
    let leases: [StoreSnapshotLease]

    /// Every retained record in revision order, the leases in id order, the revisions and the
    /// consistent index.
    public func snapshot() -> StoreSnapshot {
        var snapshot = StoreSnapshot(
            formatVersion: MVCCStore.snapshotFormatVersion, revision: revision, compactedRevision: compactedRevision,
            consistentIndex: consistentIndex)
        snapshot.records.reserveCapacity(records.count)
        for record in records {
            snapshot.records.append(StoreSnapshotRecord(kv: record.keyValue(), subRevision: Int64(record.subRevision)))
        }
        snapshot.leases = leases
        return snapshot
    }
}
