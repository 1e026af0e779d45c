/// RaftConfiguration holds a member's identity, timing and bounds. Every bound is explicit.
public struct RaftConfiguration: Sendable, Hashable {
    /// id is this member's identifier; 0 is reserved for "none".
    public var id: UInt64
    /// electionTimeoutTicks: a follower that hears nothing for a randomized
    /// [electionTimeoutTicks, 2 * electionTimeoutTicks) ticks campaigns; a check-quorum leader
    /// steps down after this many ticks without a quorum.
    public var electionTimeoutTicks: Int = 10
    public var heartbeatIntervalTicks: Int = 1
    /// preVote: campaign with a pre-vote round first (thesis §9.6).
    public var preVote: Bool = true
    /// checkQuorum: leaders step down without a recent quorum, and followers that heard from a
    /// leader recently ignore vote requests (thesis §6.2, §9.6).
    public var checkQuorum: Bool = true
    /// maximumAppendBytes bounds the entry payload of one append message (one entry is always
    /// allowed).
    public var maximumAppendBytes: UInt64 = 1 << 20
    /// maximumInflightAppends and maximumInflightBytes bound unacknowledged appends per follower.
    public var maximumInflightAppends: Int = 256
    public var maximumInflightBytes: UInt64 = 32 << 20
    /// maximumApplyBytesPerReady bounds the committed entries one Ready hands out.
    public var maximumApplyBytesPerReady: UInt64 = 64 << 20
    /// maximumUncommittedBytes bounds proposals the leader holds uncommitted; further proposals
    /// are refused until commits catch up.
    public var maximumUncommittedBytes: UInt64 = 256 << 20
    /// snapshotChunkBytes bounds the data of one snapshot chunk.
    public var snapshotChunkBytes: UInt64 = 1 << 20
    /// maximumPendingReads bounds ReadIndex requests waiting for confirmation.
    public var maximumPendingReads: Int = 4096
    /// randomSeed seeds the randomized election timeouts.
    public var randomSeed: UInt64 = 0

    public init(id: UInt64, randomSeed: UInt64 = 0) {
        self.id = id
        self.randomSeed = randomSeed
    }

    func validate() {
        precondition(id != 0, "member id 0 is reserved")
        precondition(heartbeatIntervalTicks > 0 && electionTimeoutTicks > heartbeatIntervalTicks,
                     "the election timeout must exceed the heartbeat interval")
        precondition(maximumAppendBytes > 0 && maximumInflightAppends > 0 && maximumInflightBytes > 0)
        precondition(maximumApplyBytesPerReady > 0 && maximumUncommittedBytes > 0 && snapshotChunkBytes > 0)
        precondition(maximumPendingReads > 0)
    }
}

/// RestoredState is what the persistence layer read back on restart: the last hard state, the
/// newest snapshot (if any) and the durable entries after it. An empty value starts a member
/// with no history (a new member joining, or before `bootstrap`).
public struct RestoredState: Sendable, Hashable {
    public var hardState: HardState
    public var snapshot: Snapshot?
    public var entries: [Entry]

    public init(hardState: HardState = HardState(), snapshot: Snapshot? = nil, entries: [Entry] = []) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
    }
}

/// RestoreError reports a restored state that cannot come from a correct disk: it is an
/// operating error (corruption), and the member must refuse to start.
public enum RestoreError: Error, Sendable, Hashable {
    case snapshotWithoutMetadata
    case entriesNotContiguous(expectedIndex: UInt64, foundIndex: UInt64)
    case entryTermDecreases(index: UInt64)
    case entryTermAboveHardState(index: UInt64, entryTerm: UInt64, hardStateTerm: UInt64)
    case commitBeyondLog(commit: UInt64, lastIndex: UInt64)
}

/// ProposalError says why a proposal was refused; nothing was appended.
public enum ProposalError: Error, Sendable, Hashable {
    /// notLeader: send it to `leaderHint` (0 when no leader is known).
    case notLeader(leaderHint: UInt64)
    case leadershipTransferInProgress
    case tooManyUncommittedBytes
    /// configurationChangePending: a previous change is not yet applied (thesis §4.1), or the
    /// leader has not yet committed an entry of its term.
    case configurationChangePending
    case invalidConfigurationChange(MembershipError)
}

public enum ReadIndexError: Error, Sendable, Hashable {
    case noLeader
    case tooManyPendingReads
}

public enum LeadershipTransferError: Error, Sendable, Hashable {
    case notLeader(leaderHint: UInt64)
    case notVoter(UInt64)
}

/// RaftRole is a member's role; changes happen only in RaftNode.become*.
public enum RaftRole: Sendable, Hashable {
    case follower
    case preCandidate
    case candidate
    case leader
}

/// SoftState is volatile information a driver may want (who leads), not persisted.
public struct SoftState: Sendable, Hashable {
    public var role: RaftRole
    public var leaderID: UInt64
}

/// ProposedEntries names the log slots a proposal took: the proposal succeeded only if the
/// entries applied at those indexes carry `term`.
public struct ProposedEntries: Sendable, Hashable {
    public var term: UInt64
    public var indexes: ClosedRange<UInt64>
}
