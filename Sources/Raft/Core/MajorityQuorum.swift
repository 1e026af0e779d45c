/// VoteResult is the outcome of an election as far as the votes received so far decide it.
public enum VoteResult: Sendable, Hashable {
    case pending
    case won
    case lost
}

/// MajorityQuorum is the quorum arithmetic of one voter set (Raft §5.2, §5.3).
///
/// Invariant: any two majorities of the same voter set intersect, which is what makes
/// elections and commitment safe. An empty voter set has no majority: nothing commits and no
/// election is won.
public struct MajorityQuorum: Sendable, Hashable {
    /// voters are the members whose acknowledgements count.
    public let voters: Set<UInt64>

    public init(voters: Set<UInt64>) {
        self.voters = voters
    }

    /// majoritySize is the smallest number of voters that forms a quorum.
    public var majoritySize: Int {
        voters.count / 2 + 1
    }

    /// committedIndex is the largest index that a majority of voters has acknowledged, given
    /// each voter's acknowledged index (voters missing from `acknowledgedIndex` count as 0).
    /// An empty voter set yields 0.
    public func committedIndex(acknowledgedIndex: (UInt64) -> UInt64) -> UInt64 {
        if voters.isEmpty {
            return 0
        }
        var indexes = voters.map(acknowledgedIndex)
        indexes.sort(by: >)
        // The majoritySize-th largest index is held by at least majoritySize voters.
        let committed = indexes[majoritySize - 1]
        precondition(indexes.filter { $0 >= committed }.count >= majoritySize)
        return committed
    }

    /// voteResult counts granted and rejected votes from voters; votes from non-voters are
    /// ignored (a learner's vote never counts, thesis §4.2.1).
    public func voteResult(votes: [UInt64: Bool]) -> VoteResult {
        if voters.isEmpty {
            return .lost
        }
        var granted = 0
        var rejected = 0
        for voter in voters {
            switch votes[voter] {
            case true?: granted += 1
            case false?: rejected += 1
            case nil: break
            }
        }
        if granted >= majoritySize {
            return .won
        }
        if voters.count - rejected < majoritySize {
            return .lost
        }
        return .pending
    }

    /// hasQuorum tells whether `members` contains a majority of the voters.
    public func hasQuorum(_ members: Set<UInt64>) -> Bool {
        voters.intersection(members).count >= majoritySize
    }
}
