/// RaftLog is a member's log: the stable part (persisted) followed by the unstable part
/// (decided, not yet durable), with the commit index and the index handed out for applying.
///
/// Invariants: `snapshotIndex <= applied <= committed <= lastIndex`; applied entries were
/// durable locally when handed out; committed entries are never overwritten (§5.3 log matching
/// plus §5.4 leader completeness make this hold; a violation stops the process).
public struct RaftLog: Sendable, Hashable {
    public private(set) var stable: StableLog
    public private(set) var unstable: UnstableLog
    public private(set) var committed: UInt64
    /// applied is the last index handed to the application in a `Ready`.
    public private(set) var applied: UInt64

    public init(stable: StableLog, committed: UInt64) {
        self.stable = stable
        self.unstable = UnstableLog(offset: stable.lastIndex + 1)
        self.committed = committed
        self.applied = stable.snapshotMetadata.index
        precondition(committed >= applied && committed <= stable.lastIndex)
    }

    /// snapshotMetadata is the newest snapshot, stable or still being persisted.
    public var snapshotMetadata: SnapshotMetadata {
        unstable.snapshot?.metadata ?? stable.snapshotMetadata
    }

    public var firstIndex: UInt64 {
        snapshotMetadata.index + 1
    }

    public var lastIndex: UInt64 {
        unstable.lastIndex ?? stable.lastIndex
    }

    public var lastTerm: UInt64 {
        term(at: lastIndex)!
    }

    /// persistedIndex is the end of the prefix known to be durable and consistent with this log.
    /// The leader counts itself in commit quorums only up to here (thesis §10.2.1).
    public var persistedIndex: UInt64 {
        if unstable.snapshot != nil {
            return min(stable.lastIndex, unstable.offset - 1, stable.snapshotMetadata.index)
        }
        if !unstable.entries.isEmpty {
            return unstable.offset - 1
        }
        return stable.lastIndex
    }

    /// term of the entry at `index`; the snapshot term at the snapshot index; nil when the index
    /// is compacted or beyond the end.
    public func term(at index: UInt64) -> UInt64? {
        if index + 1 < firstIndex || index > lastIndex {
            return nil
        }
        if let term = unstable.term(at: index) {
            return term
        }
        return stable.term(at: index)
    }

    public func matchTerm(index: UInt64, term: UInt64) -> Bool {
        self.term(at: index) == term
    }

    /// isUpToDate is the election restriction (§5.4.1): a log ending at (lastIndex, lastTerm)
    /// is at least as up-to-date as this one.
    public func isUpToDate(lastIndex: UInt64, lastTerm: UInt64) -> Bool {
        lastTerm > self.lastTerm || (lastTerm == self.lastTerm && lastIndex >= self.lastIndex)
    }

    /// entries in [lowIndex, lastIndex], at most `maximumBytes` (but at least one entry); nil
    /// when part of the range is compacted.
    public func entries(from lowIndex: UInt64, maximumBytes: UInt64) -> [Entry]? {
        if lowIndex < firstIndex {
            return nil
        }
        if lowIndex > lastIndex {
            return []
        }
        return slice(from: lowIndex, to: lastIndex + 1, maximumBytes: maximumBytes)
    }

    /// slice of [lowIndex, highIndex), which must be inside the log.
    func slice(from lowIndex: UInt64, to highIndex: UInt64, maximumBytes: UInt64) -> [Entry] {
        precondition(lowIndex >= firstIndex && highIndex <= lastIndex + 1)
        var combined: [Entry] = []
        if lowIndex < unstable.offset {
            combined = stable.entries(from: lowIndex, to: min(highIndex, unstable.offset),
                                      maximumBytes: maximumBytes)
        }
        let stableComplete = lowIndex >= unstable.offset
            || combined.count == Int(min(highIndex, unstable.offset) - lowIndex)
        if highIndex > unstable.offset, stableComplete {
            let start = max(lowIndex, unstable.offset)
            combined.append(contentsOf: unstable.entries[Int(start - unstable.offset)..<Int(highIndex - unstable.offset)])
        }
        let result = limitBytes(combined[...], maximumBytes: maximumBytes)
        for (position, entry) in result.enumerated() {
            precondition(entry.index == lowIndex + UInt64(position), "log slice is not contiguous")
        }
        return result
    }

    /// findConflict returns the index of the first entry that is missing or has a different term
    /// in this log, or nil when all of them are present.
    func findConflict(_ entries: [Entry]) -> UInt64? {
        for entry in entries where !matchTerm(index: entry.index, term: entry.term) {
            return entry.index
        }
        return nil
    }

    /// findConflictByTerm returns the largest index at or below `index` whose term is at most
    /// `term`: entries with a larger term cannot match a leader whose entry at `index` has
    /// `term`, so the leader may skip them when backing up (§5.3 optimisation).
    public func findConflictByTerm(index: UInt64, term: UInt64) -> UInt64 {
        var candidate = min(index, lastIndex)
        while candidate >= firstIndex, let candidateTerm = self.term(at: candidate), candidateTerm > term {
            candidate -= 1
        }
        return candidate
    }

    /// maybeAppend is the follower side of AppendEntries (§5.3): when the entry before `entries`
    /// matches, append them (dropping a conflicting suffix), advance commit, and return the index
    /// of the last new entry; nil when the logs do not match there.
    public mutating func maybeAppend(previousIndex: UInt64, previousTerm: UInt64, leaderCommit: UInt64,
                                     entries: [Entry]) -> UInt64? {
        guard matchTerm(index: previousIndex, term: previousTerm) else { return nil }
        let lastNewIndex = previousIndex + UInt64(entries.count)
        if let conflict = findConflict(entries) {
            precondition(conflict > committed,
                         "entry \(conflict) conflicts with the committed prefix up to \(committed)")
            append(Array(entries[Int(conflict - previousIndex - 1)...]))
        }
        commitTo(min(leaderCommit, lastNewIndex))
        return lastNewIndex
    }

    /// append adds entries after the committed prefix; returns the new last index.
    @discardableResult
    public mutating func append(_ entries: [Entry]) -> UInt64 {
        guard let first = entries.first else { return lastIndex }
        precondition(first.index > committed, "appending \(first.index) would overwrite committed \(committed)")
        precondition(first.index <= lastIndex + 1, "appending \(first.index) leaves a gap after \(lastIndex)")
        unstable.truncateAndAppend(entries)
        return lastIndex
    }

    public mutating func commitTo(_ index: UInt64) {
        guard index > committed else { return }
        precondition(index <= lastIndex, "commit \(index) beyond the last index \(lastIndex)")
        committed = index
    }

    /// maybeCommit advances commit to `index` only when that entry is from `term`, the current
    /// term of the leader: entries of earlier terms are committed only indirectly (§5.4.2).
    public mutating func maybeCommit(index: UInt64, term: UInt64) -> Bool {
        guard index > committed, self.term(at: index) == term else { return false }
        commitTo(index)
        return true
    }

    /// applicableEntries are the committed, locally durable entries not yet handed out, limited
    /// to `maximumBytes` (at least one entry).
    public func applicableEntries(maximumBytes: UInt64) -> [Entry] {
        let high = min(committed, persistedIndex)
        guard high > applied, applied + 1 >= firstIndex else { return [] }
        return slice(from: applied + 1, to: high + 1, maximumBytes: maximumBytes)
    }

    public mutating func appliedTo(_ index: UInt64) {
        precondition(index >= applied && index <= committed && index <= persistedIndex,
                     "applied \(index) must be committed \(committed) and durable \(persistedIndex)")
        applied = index
    }

    /// restore installs a snapshot received from the leader: it replaces the whole log.
    public mutating func restore(_ snapshot: Snapshot) {
        let metadata = snapshot.metadata!
        precondition(metadata.index > committed, "snapshot \(metadata.index) is not ahead of commit \(committed)")
        unstable.restore(snapshot)
        committed = metadata.index
        applied = metadata.index
    }

    /// markInProgress records that the pending unstable state was handed to the driver.
    public mutating func markInProgress() {
        unstable.markInProgress()
    }

    /// stableTo moves entries up to `index` (if it still has `term`) into the stable log.
    public mutating func stableTo(index: UInt64, term: UInt64) {
        let newlyStable = unstable.stableTo(index: index, term: term)
        stable.append(newlyStable)
    }

    public mutating func stableSnapshotTo(index: UInt64) {
        if let snapshot = unstable.stableSnapshotTo(index: index) {
            stable.applySnapshot(snapshot.metadata!, data: snapshot.data)
        }
    }

    /// compact discards the stable prefix up to `index`, which the application's snapshot
    /// (`data`, taken with membership `confState`) covers.
    public mutating func compact(upTo index: UInt64, confState: ConfState, data: [UInt8]) {
        precondition(index <= applied, "compacting \(index) beyond applied \(applied)")
        precondition(index <= stable.lastIndex, "compacting \(index) beyond the stable log")
        stable.compact(upTo: index, confState: confState, data: data)
    }
}
