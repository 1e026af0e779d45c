/// ProgressTracker holds the membership, its quorum, the leader's per-member progress and the
/// votes of an election.
///
/// Invariant: `progress` has exactly one entry per member (voter or learner), and an entry's
/// `isLearner` matches the membership.
public struct ProgressTracker: Sendable, Hashable {
    public private(set) var membership: Membership
    public private(set) var quorum: MajorityQuorum
    public private(set) var progress: [UInt64: FollowerProgress] = [:]
    public private(set) var votes: [UInt64: Bool] = [:]
    let inflightMessages: Int
    let inflightBytes: UInt64

    public init(membership: Membership, inflightMessages: Int, inflightBytes: UInt64) {
        self.membership = membership
        self.quorum = MajorityQuorum(voters: membership.voters)
        self.inflightMessages = inflightMessages
        self.inflightBytes = inflightBytes
        resetProgress(nextIndex: 1)
    }

    /// resetProgress starts every member over in probe state at `nextIndex` (a new leader).
    public mutating func resetProgress(nextIndex: UInt64) {
        progress = [:]
        for member in membership.members {
            progress[member] = newProgress(member, nextIndex: nextIndex)
        }
        checkInvariants()
    }

    /// setMembership switches to a new membership; new members start in probe state at
    /// `nextIndex`, removed members are forgotten, kept members keep their progress.
    public mutating func setMembership(_ membership: Membership, nextIndex: UInt64) {
        self.membership = membership
        quorum = MajorityQuorum(voters: membership.voters)
        for member in progress.keys where !membership.members.contains(member) {
            progress[member] = nil
        }
        for member in membership.members {
            if progress[member] == nil {
                progress[member] = newProgress(member, nextIndex: nextIndex)
            }
            progress[member]!.isLearner = membership.learners.contains(member)
        }
        checkInvariants()
    }

    public mutating func update(_ member: UInt64, _ change: (inout FollowerProgress) -> Void) {
        guard progress[member] != nil else { return }
        change(&progress[member]!)
    }

    /// committedIndex is the largest index acknowledged by a quorum of voters.
    public func committedIndex() -> UInt64 {
        quorum.committedIndex { progress[$0]?.match ?? 0 }
    }

    public mutating func resetVotes() {
        votes = [:]
    }

    public mutating func recordVote(from member: UInt64, granted: Bool) {
        if votes[member] == nil {
            votes[member] = granted
        }
    }

    public func voteResult() -> VoteResult {
        quorum.voteResult(votes: votes)
    }

    /// quorumActive tells whether a quorum of voters (counting `selfID`) was heard from since
    /// the last call, then clears the activity marks (check-quorum, thesis §6.2).
    public mutating func quorumActive(selfID: UInt64) -> Bool {
        var active: Set<UInt64> = [selfID]
        for (member, memberProgress) in progress where memberProgress.recentActive {
            active.insert(member)
        }
        for member in progress.keys where member != selfID {
            progress[member]!.recentActive = false
        }
        return quorum.hasQuorum(active)
    }

    private func newProgress(_ member: UInt64, nextIndex: UInt64) -> FollowerProgress {
        var fresh = FollowerProgress(next: nextIndex, isLearner: membership.learners.contains(member),
                                     inflightMessages: inflightMessages, inflightBytes: inflightBytes)
        fresh.recentActive = true
        return fresh
    }

    private func checkInvariants() {
        precondition(Set(progress.keys) == membership.members, "progress must track exactly the members")
    }
}
