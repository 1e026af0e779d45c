extension MVCCStore {
    /// applyCompaction drops the history before `request.revision`. Kept: every record after
    /// it, and for each key the newest record at or before it, unless that record is a tombstone
    /// older than it (a tombstone exactly at the compacted revision stays, so a watcher resuming
    /// from the compacted revision still sees that delete). The revision does not change.
    func applyCompaction(_ request: CompactionRequest) throws(StoreError) -> CompactionResponse {
        if request.revision <= compactedRevision {
            throw .compacted(requestedRevision: request.revision, compactedRevision: compactedRevision)
        }
        if request.revision > revision {
            throw .futureRevision(requestedRevision: request.revision, currentRevision: revision)
        }
        compact(at: request.revision)
        return CompactionResponse(header: ResponseHeader(revision: revision))
    }

    func compact(at compactRevision: Int64) {
        let firstAfter = firstRecord(atOrAfter: compactRevision + 1)
        // keepsBoundary[i]: record i (at or before the compacted revision) is the newest of its key there and stays.
        var keepsBoundary = [Bool](repeating: false, count: firstAfter)
        keyIndex.forEachKey { _, newest in
            var index = newest
            while index >= 0 && records[Int(index)].revision > compactRevision {
                index = records[Int(index)].previous
            }
            if index >= 0 {
                let boundary = records[Int(index)]
                keepsBoundary[Int(index)] = !(boundary.isTombstone && boundary.revision < compactRevision)
            }
        }
        var newIndex = [Int32](repeating: -1, count: records.count)
        var kept: [VersionRecord] = []
        kept.reserveCapacity(records.count - firstAfter + keepsBoundary.count / 2)
        for index in records.indices where index >= firstAfter || keepsBoundary[index] {
            newIndex[index] = Int32(kept.count)
            var record = records[index]
            if record.previous >= 0 { record.previous = newIndex[Int(record.previous)] }
            kept.append(record)
        }
        var keys: [[UInt8]] = []
        var newest: [Int32] = []
        keys.reserveCapacity(keyIndex.count)
        newest.reserveCapacity(keyIndex.count)
        keyIndex.forEachKey { key, record in
            let moved = newIndex[Int(record)]
            if moved >= 0 {
                keys.append(key)
                newest.append(moved)
            }
        }
        records = kept
        keyIndex = SortedKeyIndex(sortedKeys: keys, records: newest)
        compactedRevision = compactRevision
    }
}
