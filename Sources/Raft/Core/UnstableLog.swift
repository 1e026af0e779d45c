/// UnstableLog holds what the member has decided but not yet persisted: an incoming snapshot
/// and/or entries appended after the stable log.
///
/// Invariants: `entries[k].index == offset + k`; when `snapshot` is set,
/// `offset == snapshot.index + 1`; `offset <= offsetInProgress <= offset + entries.count`.
/// Entries below `offsetInProgress` were handed to the driver in a `Ready` and are being
/// persisted; they stay here until the driver reports them durable.
public struct UnstableLog: Sendable, Hashable {
    public private(set) var snapshot: Snapshot?
    public private(set) var snapshotInProgress = false
    public private(set) var entries: [Entry] = []
    public private(set) var offset: UInt64
    public private(set) var offsetInProgress: UInt64

    public init(offset: UInt64) {
        self.offset = offset
        self.offsetInProgress = offset
    }

    public var lastIndex: UInt64? {
        if let last = entries.last {
            return last.index
        }
        return snapshot?.metadata?.index
    }

    public func term(at index: UInt64) -> UInt64? {
        if index < offset {
            if let metadata = snapshot?.metadata, metadata.index == index {
                return metadata.term
            }
            return nil
        }
        guard index < offset + UInt64(entries.count) else { return nil }
        return entries[Int(index - offset)].term
    }

    /// entriesToPersist are the entries not yet handed to the driver.
    public var entriesToPersist: ArraySlice<Entry> {
        entries[Int(offsetInProgress - offset)...]
    }

    public var snapshotToPersist: Snapshot? {
        snapshotInProgress ? nil : snapshot
    }

    /// markInProgress records that everything pending was handed to the driver.
    public mutating func markInProgress() {
        offsetInProgress = offset + UInt64(entries.count)
        snapshotInProgress = snapshot != nil
    }

    /// stableTo drops entries up to `index` once the driver reports them durable, provided the
    /// entry there still has `term` (otherwise a later append overwrote it and the report is
    /// stale). Returns the entries that became stable.
    public mutating func stableTo(index: UInt64, term: UInt64) -> [Entry] {
        guard index >= offset, self.term(at: index) == term else { return [] }
        let count = Int(index - offset + 1)
        let stable = Array(entries[..<count])
        entries.removeFirst(count)
        offset = index + 1
        offsetInProgress = max(offsetInProgress, offset)
        checkInvariants()
        return stable
    }

    /// stableSnapshotTo clears the incoming snapshot once it is durable.
    public mutating func stableSnapshotTo(index: UInt64) -> Snapshot? {
        guard let snapshot, snapshot.metadata?.index == index else { return nil }
        self.snapshot = nil
        snapshotInProgress = false
        return snapshot
    }

    /// restore replaces everything with a snapshot received from the leader.
    public mutating func restore(_ snapshot: Snapshot) {
        let index = snapshot.metadata!.index
        self.snapshot = snapshot
        snapshotInProgress = false
        entries = []
        offset = index + 1
        offsetInProgress = offset
        checkInvariants()
    }

    /// truncateAndAppend appends entries, first discarding any unstable entries at or after the
    /// first new index (a conflicting suffix). When the new entries start at or below `offset`,
    /// they also supersede stable entries, which the next persistence overwrites.
    public mutating func truncateAndAppend(_ newEntries: [Entry]) {
        guard let first = newEntries.first?.index else { return }
        if first == offset + UInt64(entries.count) {
            entries.append(contentsOf: newEntries)
        } else if first <= offset {
            precondition(snapshot == nil || first > snapshot!.metadata!.index,
                         "cannot overwrite entries covered by an unpersisted snapshot")
            offset = first
            entries = newEntries
        } else {
            entries.removeSubrange(Int(first - offset)...)
            entries.append(contentsOf: newEntries)
        }
        offsetInProgress = min(offsetInProgress, first)
        offsetInProgress = max(offsetInProgress, offset)
        checkInvariants()
    }

    private func checkInvariants() {
        precondition(offset <= offsetInProgress && offsetInProgress <= offset + UInt64(entries.count))
        if let metadata = snapshot?.metadata {
            precondition(offset == metadata.index + 1)
        }
        if let first = entries.first {
            precondition(first.index == offset && entries.last!.index == offset + UInt64(entries.count) - 1)
        }
    }
}
