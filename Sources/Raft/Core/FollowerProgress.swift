/// ReplicationState is how a leader currently sends the log to one follower.
public enum ReplicationState: Sendable, Hashable {
    /// probe: one append at a time until the leader finds where the logs match (§5.3).
    case probe
    /// replicate: appends are pipelined optimistically, bounded by the in-flight window.
    case replicate
    /// snapshot: the follower needs a compacted prefix; the leader streams a snapshot in
    /// chunks and sends no appends until the follower has installed it.
    case snapshot
}

/// SnapshotTransfer is the leader's position in streaming one snapshot to one follower.
///
/// Invariant: `acknowledgedBytes <= totalBytes`.
public struct SnapshotTransfer: Sendable, Hashable {
    public let metadata: SnapshotMetadata
    public let totalBytes: UInt64
    /// acknowledgedBytes is the prefix of the snapshot the follower reports holding.
    public var acknowledgedBytes: UInt64 = 0
    /// chunkInFlight says a chunk was sent and neither acknowledged nor given up on.
    public var chunkInFlight = false
}

/// FollowerProgress is the leader's view of one member's log (Raft §5.3 nextIndex/matchIndex).
///
/// Invariants: `match < next`; in probe state at most one append is outstanding; in snapshot
/// state `snapshotTransfer` is set and no appends are sent.
public struct FollowerProgress: Sendable, Hashable {
    /// match is the highest index known to be replicated (and persisted) on the member.
    public private(set) var match: UInt64
    /// next is the index of the next entry to send.
    public private(set) var next: UInt64
    public private(set) var state: ReplicationState = .probe
    /// probeSent: in probe state, an append is outstanding and the next waits for its answer
    /// or a heartbeat response.
    public private(set) var probeSent = false
    public private(set) var inflights: InflightWindow
    public private(set) var snapshotTransfer: SnapshotTransfer?
    /// recentActive: the member answered since the last check-quorum round.
    public var recentActive = false
    public var isLearner: Bool

    public init(next: UInt64, isLearner: Bool, inflightMessages: Int, inflightBytes: UInt64) {
        precondition(next >= 1)
        self.match = 0
        self.next = next
        self.isLearner = isLearner
        self.inflights = InflightWindow(maximumCount: inflightMessages, maximumBytes: inflightBytes)
    }

    /// isPaused tells whether the leader must hold further appends to this member.
    public var isPaused: Bool {
        switch state {
        case .probe: probeSent
        case .replicate: inflights.isFull
        case .snapshot: true
        }
    }

    public mutating func becomeProbe() {
        if state == .snapshot, let transfer = snapshotTransfer {
            // The follower installed (or is about to install) the snapshot: continue after it.
            next = max(match + 1, transfer.metadata.index + 1)
        } else {
            next = match + 1
        }
        state = .probe
        probeSent = false
        snapshotTransfer = nil
        inflights.reset()
        checkInvariants()
    }

    public mutating func becomeReplicate() {
        state = .replicate
        next = match + 1
        probeSent = false
        snapshotTransfer = nil
        inflights.reset()
        checkInvariants()
    }

    public mutating func becomeSnapshot(_ metadata: SnapshotMetadata, totalBytes: UInt64) {
        state = .snapshot
        probeSent = false
        inflights.reset()
        snapshotTransfer = SnapshotTransfer(metadata: metadata, totalBytes: totalBytes)
    }

    /// maybeUpdate records an acknowledgement up to `index`; returns whether match advanced.
    public mutating func maybeUpdate(_ index: UInt64) -> Bool {
        var updated = false
        if match < index {
            match = index
            updated = true
            probeSent = false
        }
        next = max(next, index + 1)
        checkInvariants()
        return updated
    }

    /// maybeDecrement handles a rejected append of the entry after `rejectedIndex`; the follower
    /// hints that its log may match at or below `hintIndex`. Returns false for a stale
    /// rejection (an answer to an append the leader has already moved past).
    public mutating func maybeDecrement(rejectedIndex: UInt64, hintIndex: UInt64) -> Bool {
        if state == .replicate {
            if rejectedIndex <= match {
                return false
            }
            next = match + 1
            return true
        }
        if next == 0 || next - 1 != rejectedIndex {
            return false
        }
        next = max(min(rejectedIndex, hintIndex + 1), match + 1)
        probeSent = false
        checkInvariants()
        return true
    }

    /// sentAppend records an append to this member carrying entries up to `lastIndex`.
    public mutating func sentAppend(entryCount: Int, lastIndex: UInt64, bytes: UInt64) {
        switch state {
        case .replicate:
            if entryCount > 0 {
                precondition(lastIndex >= next, "an append carries entries from next \(next) on, not up to \(lastIndex)")
                next = lastIndex + 1
                inflights.add(lastIndex: lastIndex, bytes: bytes)
            }
        case .probe:
            probeSent = true
        case .snapshot:
            preconditionFailure("no appends while a snapshot is being sent")
        }
        checkInvariants()
    }

    /// heartbeatAnswered: the member is alive, so a lost probe or window slot is retried.
    public mutating func heartbeatAnswered() {
        recentActive = true
        probeSent = false
        if state == .replicate, inflights.isFull {
            inflights.releaseOldest()
        }
        if state == .snapshot {
            snapshotTransfer?.chunkInFlight = false
        }
    }

    /// releaseInflights frees window slots acknowledged up to `index`.
    public mutating func releaseInflights(upTo index: UInt64) {
        inflights.release(upTo: index)
    }

    public mutating func updateSnapshotTransfer(_ update: (inout SnapshotTransfer) -> Void) {
        precondition(state == .snapshot && snapshotTransfer != nil)
        update(&snapshotTransfer!)
        precondition(snapshotTransfer!.acknowledgedBytes <= snapshotTransfer!.totalBytes)
    }

    private func checkInvariants() {
        precondition(match < next, "progress: match \(match) must be below next \(next)")
        precondition(state != .snapshot || snapshotTransfer != nil)
    }
}
