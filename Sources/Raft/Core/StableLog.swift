/// StableLog is the in-memory image of what the member has persisted: the latest snapshot and
/// the entries after it (like etcd's MemoryStorage). The persistence layer rebuilds it on
/// restart from the snapshot metadata and the entries it read back (see `RestoredState`).
///
/// Invariants: `entries[k].index == snapshotMetadata.index + 1 + k`; entry terms never
/// decrease; every entry term is at least the snapshot term.
public struct StableLog: Sendable, Hashable {
    public private(set) var snapshotMetadata: SnapshotMetadata
    /// snapshotData is the state-machine image at `snapshotMetadata.index`, kept so a leader can
    /// stream it to followers that need the compacted prefix.
    public private(set) var snapshotData: [UInt8]
    public private(set) var entries: [Entry]

    public init(snapshot: SnapshotMetadata = SnapshotMetadata(), snapshotData: [UInt8] = [],
                entries: [Entry] = []) {
        self.snapshotMetadata = snapshot
        self.snapshotData = snapshotData
        self.entries = []
        append(entries)
    }

    public var firstIndex: UInt64 { snapshotMetadata.index + 1 }
    public var lastIndex: UInt64 { snapshotMetadata.index + UInt64(entries.count) }

    /// term is the term of the entry at `index`, the snapshot term at the snapshot index, or nil
    /// when the index is compacted away or beyond the end.
    public func term(at index: UInt64) -> UInt64? {
        if index == snapshotMetadata.index {
            return snapshotMetadata.term
        }
        guard index >= firstIndex, index <= lastIndex else { return nil }
        return entries[Int(index - firstIndex)].term
    }

    /// entries in [lowIndex, highIndex), stopping once `maximumBytes` is exceeded (at least one
    /// entry is returned when the range is not empty).
    public func entries(from lowIndex: UInt64, to highIndex: UInt64, maximumBytes: UInt64) -> [Entry] {
        precondition(lowIndex >= firstIndex && highIndex <= lastIndex + 1 && lowIndex <= highIndex,
                     "stable log slice [\(lowIndex), \(highIndex)) outside [\(firstIndex), \(lastIndex)]")
        return limitBytes(entries[Int(lowIndex - firstIndex)..<Int(highIndex - firstIndex)],
                          maximumBytes: maximumBytes)
    }

    /// append adds persisted entries, replacing any stored entries at or after the first new
    /// index (a conflicting suffix the leader overwrote). Entries at or below the snapshot are
    /// already covered by it and dropped.
    public mutating func append(_ newEntries: [Entry]) {
        var newEntries = newEntries[...]
        while let first = newEntries.first, first.index <= snapshotMetadata.index {
            newEntries = newEntries.dropFirst()
        }
        guard let first = newEntries.first else { return }
        precondition(first.index <= lastIndex + 1,
                     "stable log gap: appending \(first.index) after \(lastIndex)")
        entries.removeSubrange(Int(first.index - firstIndex)...)
        for entry in newEntries {
            precondition(entry.index == lastIndex + 1, "stable log entries must be contiguous")
            precondition(entry.term >= (term(at: lastIndex) ?? 0), "stable log terms must not decrease")
            entries.append(entry)
        }
    }

    /// applySnapshot replaces the whole log with a snapshot received from the leader.
    public mutating func applySnapshot(_ metadata: SnapshotMetadata, data: [UInt8]) {
        precondition(metadata.index >= snapshotMetadata.index, "snapshot older than the stored one")
        // A snapshot is installed only when the log does not already hold its last entry, so
        // nothing stored after it can be kept.
        entries = []
        snapshotMetadata = metadata
        snapshotData = data
    }

    /// compact discards entries up to `index`, which a snapshot taken by the application at
    /// that index now covers.
    public mutating func compact(upTo index: UInt64, confState: ConfState, data: [UInt8]) {
        precondition(index > snapshotMetadata.index && index <= lastIndex,
                     "compaction index \(index) outside (\(snapshotMetadata.index), \(lastIndex)]")
        let term = term(at: index)!
        entries.removeFirst(Int(index - snapshotMetadata.index))
        snapshotMetadata = SnapshotMetadata(confState: confState, index: index, term: term)
        snapshotData = data
    }
}

/// entryPayloadBytes is the size an entry counts for in byte limits.
@inlinable
public func entryPayloadBytes(_ entry: Entry) -> UInt64 {
    UInt64(entry.data.count)
}

/// limitBytes keeps a prefix of `entries` whose payload stays within `maximumBytes`, but always
/// at least one entry so an oversized entry still makes progress.
func limitBytes(_ entries: ArraySlice<Entry>, maximumBytes: UInt64) -> [Entry] {
    var total: UInt64 = 0
    var end = entries.startIndex
    while end < entries.endIndex {
        total += entryPayloadBytes(entries[end])
        if total > maximumBytes, end > entries.startIndex {
            break
        }
        end += 1
    }
    return Array(entries[entries.startIndex..<end])
}
