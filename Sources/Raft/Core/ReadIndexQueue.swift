/// ReadState is the answer to a ReadIndex request (thesis §6.4): once the application has
/// applied up to `index`, a read issued with `context` observes every write committed before
/// the request, i.e. it is linearizable.
public struct ReadState: Sendable, Hashable {
    public var index: UInt64
    public var context: [UInt8]

    public init(index: UInt64, context: [UInt8]) {
        self.index = index
        self.context = context
    }
}

/// PendingRead is a ReadIndex request the leader has registered but not yet confirmed.
public struct PendingRead: Sendable, Hashable {
    public var context: [UInt8]
    /// requester is the member that asked (the leader itself or a follower that forwarded it).
    public var requester: UInt64
    /// index is the leader's commit index when the request arrived.
    public var index: UInt64
    /// round is the heartbeat round whose quorum acknowledgement confirms it.
    public var round: UInt64
}

/// ReadIndexQueue tracks the leader's ReadIndex requests and heartbeat rounds. A request
/// registered in round r is confirmed once a quorum of voters answered a heartbeat of round r
/// or later: those answers prove no other leader had been elected when the request arrived.
///
/// Invariants: `pending` is ordered by round; at most `maximumPendingReads` requests wait.
public struct ReadIndexQueue: Sendable, Hashable {
    public let maximumPendingReads: Int
    public private(set) var pending: [PendingRead] = []
    /// currentRound is the newest heartbeat round started.
    public private(set) var currentRound: UInt64 = 0
    private var acknowledgedRound: [UInt64: UInt64] = [:]

    public init(maximumPendingReads: Int) {
        precondition(maximumPendingReads > 0)
        self.maximumPendingReads = maximumPendingReads
    }

    public var isFull: Bool {
        pending.count >= maximumPendingReads
    }

    /// register starts a new round for the request and returns it; the caller broadcasts a
    /// heartbeat carrying the round.
    public mutating func register(context: [UInt8], requester: UInt64, index: UInt64) -> UInt64 {
        precondition(!isFull, "read index queue over its bound")
        currentRound += 1
        pending.append(PendingRead(context: context, requester: requester, index: index, round: currentRound))
        return currentRound
    }

    public mutating func acknowledge(member: UInt64, round: UInt64) {
        guard round <= currentRound else { return }
        acknowledgedRound[member] = max(acknowledgedRound[member] ?? 0, round)
    }

    /// releaseConfirmed removes and returns the requests a quorum has confirmed.
    public mutating func releaseConfirmed(quorum: MajorityQuorum, selfID: UInt64) -> [PendingRead] {
        let confirmed = quorum.committedIndex { member in
            member == selfID ? currentRound : (acknowledgedRound[member] ?? 0)
        }
        let count = pending.prefix { $0.round <= confirmed }.count
        let released = Array(pending.prefix(count))
        pending.removeFirst(count)
        return released
    }

    /// reset drops every pending request (leadership lost: requesters retry).
    public mutating func reset() {
        pending = []
        acknowledgedRound = [:]
    }
}
