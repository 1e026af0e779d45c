/// RaftNode is the pure Raft consensus state machine of one member: no I/O, no clock, no global
/// randomness. Inputs are `tick()`, `step(_:)` and the proposal/read/transfer calls; all output
/// comes out of `ready()`, and `advance(_:)` reports what became durable.
///
/// Invariants (checked with preconditions): at most one role at a time and role changes only in
/// the `become*` functions; the leader counts itself in a commit quorum only up to its durable
/// index; a leader commits by counting only entries of its own term (§5.4.2); at most one
/// configuration change is pending (thesis §4.1).
public struct RaftNode: Sendable {
    public let configuration: RaftConfiguration
    public var id: UInt64 { configuration.id }
    public internal(set) var term: UInt64 = 0
    public internal(set) var vote: UInt64 = 0
    public internal(set) var leaderID: UInt64 = 0
    public internal(set) var role: RaftRole = .follower
    public internal(set) var log: RaftLog
    public internal(set) var tracker: ProgressTracker
    public internal(set) var readQueue: ReadIndexQueue

    var random: SeededRandomNumberGenerator
    var electionElapsedTicks = 0
    var heartbeatElapsedTicks = 0
    var randomizedElectionTimeoutTicks = 0
    /// transferTarget is the member a leadership transfer hands over to, if one is under way.
    public internal(set) var transferTarget: UInt64?
    /// pendingConfigurationIndex: no new configuration change until this index is applied.
    var pendingConfigurationIndex: UInt64 = 0
    var uncommittedBytes: UInt64 = 0
    /// readsAwaitingCommit are ReadIndex requests that arrived before this leader committed an
    /// entry of its term (bounded by maximumPendingReads).
    var readsAwaitingCommit: [(context: [UInt8], requester: UInt64)] = []
    /// configurationHistory lists (index, membership) for each configuration applied since the
    /// snapshot, so a snapshot at any applied index records the right membership.
    var configurationHistory: [(index: UInt64, confState: ConfState)]
    var snapshotAssembly: (metadata: SnapshotMetadata, totalBytes: UInt64, data: [UInt8])?

    var outgoingMessages: [Message] = []
    var outgoingMessagesAfterPersist: [Message] = []
    var readStates: [ReadState] = []
    var membershipChanged = false
    var lastHardState: HardState
    var lastSoftState: SoftState
    var nextReadySequence: UInt64 = 1
    var nextAdvanceSequence: UInt64 = 1

    /// init rebuilds a member from what the persistence layer restored; throws when the
    /// restored state is inconsistent (corruption).
    public init(configuration: RaftConfiguration, storage: RestoredState) throws(RestoreError) {
        configuration.validate()
        self.configuration = configuration
        let stable = try Self.validatedStableLog(storage)
        if storage.hardState.commit > stable.lastIndex {
            throw .commitBeyondLog(commit: storage.hardState.commit, lastIndex: stable.lastIndex)
        }
        let committed = max(storage.hardState.commit, stable.snapshotMetadata.index)
        log = RaftLog(stable: stable, committed: committed)
        let confState = stable.snapshotMetadata.confState ?? ConfState()
        tracker = ProgressTracker(membership: Membership(confState),
                                  inflightMessages: configuration.maximumInflightAppends,
                                  inflightBytes: configuration.maximumInflightBytes)
        readQueue = ReadIndexQueue(maximumPendingReads: configuration.maximumPendingReads)
        configurationHistory = [(stable.snapshotMetadata.index, confState)]
        random = SeededRandomNumberGenerator(seed: configuration.randomSeed ^ (configuration.id &* 0x9E37_79B9))
        term = storage.hardState.term
        vote = storage.hardState.vote
        lastHardState = HardState(term: term, vote: vote, commit: committed)
        lastSoftState = SoftState(role: .follower, leaderID: 0)
        becomeFollower(term: term, leader: 0)
    }

    private static func validatedStableLog(_ storage: RestoredState) throws(RestoreError) -> StableLog {
        var metadata = SnapshotMetadata()
        var data: [UInt8] = []
        if let snapshot = storage.snapshot {
            guard let snapshotMetadata = snapshot.metadata else { throw .snapshotWithoutMetadata }
            metadata = snapshotMetadata
            data = snapshot.data
        }
        var expected = metadata.index + 1
        var previousTerm = metadata.term
        var kept: [Entry] = []
        for entry in storage.entries where entry.index > metadata.index {
            guard entry.index == expected else {
                throw .entriesNotContiguous(expectedIndex: expected, foundIndex: entry.index)
            }
            guard entry.term >= previousTerm else { throw .entryTermDecreases(index: entry.index) }
            guard entry.term <= storage.hardState.term else {
                throw .entryTermAboveHardState(index: entry.index, entryTerm: entry.term,
                                               hardStateTerm: storage.hardState.term)
            }
            kept.append(entry)
            expected += 1
            previousTerm = entry.term
        }
        return StableLog(snapshot: metadata, snapshotData: data, entries: kept)
    }

    // MARK: - Public inputs

    /// bootstrap gives a brand-new cluster its first membership: one configuration entry per
    /// voter at term 1, already committed (every founding member writes the same entries).
    public mutating func bootstrap(voters: [UInt64]) {
        precondition(log.lastIndex == 0 && term == 0, "bootstrap needs an empty member")
        precondition(!voters.isEmpty && !voters.contains(0))
        becomeFollower(term: 1, leader: 0)
        var entries: [Entry] = []
        for (position, voter) in voters.enumerated() {
            let change = ConfChange(type: .addNode, nodeID: voter)
            entries.append(Entry(term: 1, index: UInt64(position + 1), type: .confChange,
                                 data: ConfChangeCodec.encode(change)))
        }
        log.append(entries)
        log.commitTo(UInt64(voters.count))
    }

    /// tick advances logical time by one tick.
    public mutating func tick() {
        switch role {
        case .leader:
            tickLeader()
        case .follower, .preCandidate, .candidate:
            electionElapsedTicks += 1
            if isPromotable && electionElapsedTicks >= randomizedElectionTimeoutTicks {
                electionElapsedTicks = 0
                startElection(preVote: configuration.preVote, leadershipTransfer: false)
            }
        }
    }

    /// campaign starts an election now (with pre-vote when configured).
    public mutating func campaign() {
        guard role != .leader else { return }
        startElection(preVote: configuration.preVote, leadershipTransfer: false)
    }

    /// propose appends commands as one batch (one append message, one write) on the leader.
    @discardableResult
    public mutating func propose(_ commands: [[UInt8]]) throws(ProposalError) -> ProposedEntries {
        precondition(!commands.isEmpty, "empty proposal")
        return try proposeEntries(commands.map { Entry(type: .normal, data: $0) })
    }

    @discardableResult
    public mutating func propose(_ command: [UInt8]) throws(ProposalError) -> ProposedEntries {
        try propose([command])
    }

    /// proposeConfChange proposes one single-server membership change. It is refused while a
    /// previous change is not yet applied, and until the leader has applied an entry of its own
    /// term (thesis §4.1 and the one-at-a-time fix Ongaro described in 2015).
    @discardableResult
    public mutating func proposeConfChange(_ change: ConfChange) throws(ProposalError) -> ProposedEntries {
        guard role == .leader else { throw .notLeader(leaderHint: leaderID) }
        guard pendingConfigurationIndex <= log.applied else { throw .configurationChangePending }
        do {
            _ = try tracker.membership.applying(change)
        } catch {
            throw .invalidConfigurationChange(error)
        }
        let proposed = try proposeEntries([Entry(type: .confChange, data: ConfChangeCodec.encode(change))])
        pendingConfigurationIndex = proposed.indexes.upperBound
        return proposed
    }

    /// readIndex asks for a linearizable read point; the answer arrives as a `ReadState` with
    /// the same context in a later Ready (thesis §6.4). Followers forward to the leader.
    public mutating func readIndex(context: [UInt8]) throws(ReadIndexError) {
        switch role {
        case .leader:
            guard !readQueue.isFull && readsAwaitingCommit.count < configuration.maximumPendingReads else {
                throw .tooManyPendingReads
            }
            handleReadRequest(context: context, requester: id)
        case .follower, .preCandidate, .candidate:
            guard leaderID != 0 else { throw .noLeader }
            send(Message(type: .readIndex, to: leaderID, context: context))
        }
    }

    /// transferLeadership hands leadership to `target` (thesis §3.10): it is brought up to date
    /// and then told to campaign at once. Proposals are refused meanwhile; the transfer is
    /// abandoned after an election timeout.
    public mutating func transferLeadership(to target: UInt64) throws(LeadershipTransferError) {
        guard role == .leader else { throw .notLeader(leaderHint: leaderID) }
        guard tracker.membership.voters.contains(target) else { throw .notVoter(target) }
        if target == id || transferTarget == target {
            return
        }
        transferTarget = target
        electionElapsedTicks = 0
        if tracker.progress[target]!.match == log.lastIndex {
            send(Message(type: .timeoutNow, to: target))
        } else {
            sendAppend(to: target, sendIfEmpty: true)
        }
    }

    /// canCompact tells whether `compact(upTo: index, ...)` is allowed now: the index is applied,
    /// durable, newer than the current snapshot, and no received snapshot is still being written.
    public func canCompact(upTo index: UInt64) -> Bool {
        index > log.stable.snapshotMetadata.index && index <= log.applied && index <= log.stable.lastIndex
            && log.unstable.snapshot == nil
    }

    /// compact tells the core that the application took a snapshot (`data`) of its state at
    /// `index`, which `canCompact(upTo:)` must allow: the log prefix up to there is discarded
    /// and the snapshot is what lagging followers receive.
    public mutating func compact(upTo index: UInt64, snapshotData data: [UInt8]) {
        guard index > log.stable.snapshotMetadata.index else { return }
        precondition(canCompact(upTo: index), "compaction to \(index) is not allowed now (applied \(log.applied), durable \(log.stable.lastIndex))")
        let confState = configurationHistory.last { $0.index <= index }!.confState
        log.compact(upTo: index, confState: confState, data: data)
        let keepFrom = configurationHistory.lastIndex { $0.index <= index }!
        configurationHistory.removeFirst(keepFrom)
    }

    // MARK: - Output

    /// hasReady tells whether `ready()` has anything to hand out.
    public var hasReady: Bool {
        if currentSoftState != lastSoftState || currentHardState != lastHardState {
            return true
        }
        if log.unstable.snapshotToPersist != nil || !log.unstable.entriesToPersist.isEmpty {
            return true
        }
        if !outgoingMessages.isEmpty || !outgoingMessagesAfterPersist.isEmpty || !readStates.isEmpty
            || membershipChanged
        {
            return true
        }
        return !log.applicableEntries(maximumBytes: 1).isEmpty
    }

    /// ready takes everything pending; the core will not hand the same output out again.
    public mutating func ready() -> Ready {
        var ready = Ready(sequence: nextReadySequence)
        nextReadySequence += 1
        let committedEntries = log.applicableEntries(maximumBytes: configuration.maximumApplyBytesPerReady)
        for entry in committedEntries where entry.type == .confChange {
            applyConfigurationEntry(entry)
        }
        if let last = committedEntries.last {
            log.appliedTo(last.index)
        }
        ready.committedEntries = committedEntries
        if currentSoftState != lastSoftState {
            ready.softState = currentSoftState
            lastSoftState = currentSoftState
        }
        if currentHardState != lastHardState {
            ready.hardState = currentHardState
            lastHardState = currentHardState
        }
        ready.snapshot = log.unstable.snapshotToPersist
        ready.entries = Array(log.unstable.entriesToPersist)
        log.markInProgress()
        ready.messages = outgoingMessages
        ready.messagesAfterPersist = outgoingMessagesAfterPersist
        outgoingMessages = []
        outgoingMessagesAfterPersist = []
        ready.readStates = readStates
        readStates = []
        if membershipChanged {
            ready.confState = tracker.membership.confState
            membershipChanged = false
        }
        return ready
    }

    /// advance reports that everything `ready` asked to persist is durable. Call it for every
    /// Ready, in order. On the leader this is what lets it count itself towards commits.
    public mutating func advance(_ ready: Ready) {
        precondition(ready.sequence == nextAdvanceSequence,
                     "advance out of order: got Ready \(ready.sequence), expected \(nextAdvanceSequence)")
        nextAdvanceSequence += 1
        if let metadata = ready.snapshot?.metadata {
            log.stableSnapshotTo(index: metadata.index)
        }
        if let last = ready.entries.last {
            log.stableTo(index: last.index, term: last.term)
        }
        if role == .leader {
            updateOwnProgress()
            if maybeCommit() {
                broadcastAppend()
            }
        }
    }

    var currentHardState: HardState {
        HardState(term: term, vote: vote, commit: log.committed)
    }

    var currentSoftState: SoftState {
        SoftState(role: role, leaderID: leaderID)
    }

    // MARK: - Role changes (the only place `role` is assigned)

    mutating func becomeFollower(term newTerm: UInt64, leader: UInt64) {
        precondition(newTerm >= term, "terms never go backwards")
        resetForTerm(newTerm)
        role = .follower
        leaderID = leader
    }

    mutating func becomePreCandidate() {
        precondition(role != .leader, "a leader cannot become a pre-candidate")
        // Pre-vote changes neither term nor vote: a partitioned member cannot disrupt anyone.
        role = .preCandidate
        leaderID = 0
        tracker.resetVotes()
        transferTarget = nil
    }

    mutating func becomeCandidate() {
        precondition(role != .leader, "a leader cannot become a candidate")
        resetForTerm(term + 1)
        vote = id
        role = .candidate
    }

    mutating func becomeLeader() {
        precondition(role == .candidate, "only a candidate can become leader")
        precondition(vote == id)
        role = .leader
        leaderID = id
        tracker.resetProgress(nextIndex: log.lastIndex + 1)
        for member in tracker.membership.members where member != id {
            tracker.update(member) { $0.recentActive = true }
        }
        // The empty entry lets the leader commit earlier terms' entries (§5.4.2) and confirms
        // ReadIndex (§6.4); no configuration change until it is applied.
        let index = log.append([Entry(term: term, index: log.lastIndex + 1, type: .normal, data: [])])
        pendingConfigurationIndex = index
        uncommittedBytes = 0
        updateOwnProgress()
    }

    private mutating func resetForTerm(_ newTerm: UInt64) {
        if newTerm != term {
            term = newTerm
            vote = 0
        }
        leaderID = 0
        electionElapsedTicks = 0
        heartbeatElapsedTicks = 0
        randomizedElectionTimeoutTicks = configuration.electionTimeoutTicks
            + Int.random(in: 0..<configuration.electionTimeoutTicks, using: &random)
        transferTarget = nil
        tracker.resetVotes()
        readQueue.reset()
        readsAwaitingCommit = []
        uncommittedBytes = 0
    }

    /// isPromotable: a voter with no committed-but-unapplied configuration change may campaign.
    var isPromotable: Bool {
        guard tracker.membership.voters.contains(id) else { return false }
        let high = log.committed
        guard high > log.applied else { return true }
        let pending = log.slice(from: log.applied + 1, to: high + 1, maximumBytes: .max)
        return !pending.contains { $0.type == .confChange }
    }

    // MARK: - Sending

    /// send stamps and queues a message. Leader traffic may leave before the local write; every
    /// other message (votes, acknowledgements) waits until this Ready's state is durable.
    mutating func send(_ message: Message) {
        var message = message
        precondition(message.to != 0 && message.to != id, "message to self or to no one")
        message.from = id
        if message.term == 0 {
            message.term = term
        }
        switch message.type {
        case .append, .heartbeat, .snapshotChunk, .timeoutNow, .readIndexResponse:
            precondition(role == .leader, "only a leader sends \(message.type)")
            outgoingMessages.append(message)
        default:
            outgoingMessagesAfterPersist.append(message)
        }
    }
}
