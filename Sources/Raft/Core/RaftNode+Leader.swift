extension RaftNode {
    mutating func tickLeader() {
        precondition(role == .leader)
        electionElapsedTicks += 1
        heartbeatElapsedTicks += 1
        if electionElapsedTicks >= configuration.electionTimeoutTicks {
            electionElapsedTicks = 0
            if configuration.checkQuorum && !tracker.quorumActive(selfID: id) {
                // Check-quorum (thesis §6.2): a leader cut off from a quorum steps down.
                becomeFollower(term: term, leader: 0)
                return
            }
            transferTarget = nil
        }
        if heartbeatElapsedTicks >= configuration.heartbeatIntervalTicks {
            heartbeatElapsedTicks = 0
            broadcastHeartbeat()
        }
    }

    mutating func proposeEntries(_ entries: [Entry]) throws(ProposalError) -> ProposedEntries {
        guard role == .leader else { throw .notLeader(leaderHint: leaderID) }
        guard transferTarget == nil else { throw .leadershipTransferInProgress }
        let bytes = entries.reduce(0) { $0 + entryPayloadBytes($1) }
        if uncommittedBytes > 0 && uncommittedBytes + bytes > configuration.maximumUncommittedBytes {
            throw .tooManyUncommittedBytes
        }
        uncommittedBytes += bytes
        let first = log.lastIndex + 1
        var numbered = entries
        for position in numbered.indices {
            numbered[position].term = term
            numbered[position].index = first + UInt64(position)
        }
        let last = log.append(numbered)
        broadcastAppend()
        return ProposedEntries(term: term, indexes: first...last)
    }

    // MARK: - Replication

    /// updateOwnProgress sets the leader's own acknowledged index to what is durable locally:
    /// the leader writes in parallel with replicating, but only fsynced entries count toward
    /// its own vote in the commit quorum (thesis §10.2.1).
    mutating func updateOwnProgress() {
        let durable = log.persistedIndex
        tracker.update(id) { _ = $0.maybeUpdate(durable) }
    }

    /// maybeCommit advances the commit index to what a quorum holds, counting only entries of
    /// the current term (§5.4.2); returns whether it moved.
    mutating func maybeCommit() -> Bool {
        precondition(role == .leader)
        let previous = log.committed
        let quorumIndex = tracker.committedIndex()
        guard log.maybeCommit(index: quorumIndex, term: term) else { return false }
        let newlyCommitted = log.slice(from: previous + 1, to: log.committed + 1, maximumBytes: .max)
        let bytes = newlyCommitted.reduce(0) { $0 + entryPayloadBytes($1) }
        uncommittedBytes = bytes >= uncommittedBytes ? 0 : uncommittedBytes - bytes
        if !readsAwaitingCommit.isEmpty {
            let waiting = readsAwaitingCommit
            readsAwaitingCommit = []
            for read in waiting {
                handleReadRequest(context: read.context, requester: read.requester)
            }
        }
        return true
    }

    mutating func broadcastAppend() {
        for member in tracker.progress.keys.sorted() where member != id {
            sendAppend(to: member, sendIfEmpty: true)
        }
    }

    mutating func broadcastHeartbeat() {
        let round = readQueue.pending.isEmpty ? 0 : readQueue.currentRound
        for member in tracker.progress.keys.sorted() where member != id {
            let progress = tracker.progress[member]!
            send(Message(type: .heartbeat, to: member, commit: min(progress.match, log.committed),
                         readRound: round))
        }
    }

    /// sendAppend sends the next entries to `member` unless its progress is paused; falls back
    /// to a snapshot when they are compacted. Returns whether an append went out.
    @discardableResult
    mutating func sendAppend(to member: UInt64, sendIfEmpty: Bool) -> Bool {
        guard let progress = tracker.progress[member] else { return false }
        if progress.state == .snapshot {
            sendSnapshotChunk(to: member)
            return false
        }
        if progress.isPaused {
            return false
        }
        let previousIndex = progress.next - 1
        guard let previousTerm = log.term(at: previousIndex),
              let entries = log.entries(from: progress.next, maximumBytes: configuration.maximumAppendBytes)
        else {
            startSnapshotTransfer(to: member)
            return false
        }
        if entries.isEmpty && !sendIfEmpty {
            return false
        }
        let bytes = entries.reduce(0) { $0 + entryPayloadBytes($1) }
        send(Message(type: .append, to: member, logTerm: previousTerm, index: previousIndex,
                     entries: entries, commit: log.committed))
        tracker.update(member) {
            $0.sentAppend(entryCount: entries.count, lastIndex: entries.last?.index ?? previousIndex, bytes: bytes)
        }
        return true
    }

    /// sendMore fills `member`'s in-flight window; the loop is bounded by the window size.
    mutating func sendMore(to member: UInt64) {
        var sent = 0
        while sent <= configuration.maximumInflightAppends, sendAppend(to: member, sendIfEmpty: false) {
            sent += 1
        }
    }

    func stepLeaderPrecondition(_ message: Message) {
        switch message.type {
        case .append, .heartbeat, .snapshotChunk:
            preconditionFailure("election safety: leader \(id) got \(message.type) from \(message.from) in term \(term)")
        default:
            break
        }
    }

    mutating func stepLeader(_ message: Message) {
        stepLeaderPrecondition(message)
        switch message.type {
        case .appendResponse:
            handleAppendResponse(message)
        case .heartbeatResponse:
            handleHeartbeatResponse(message)
        case .snapshotChunkResponse:
            handleSnapshotChunkResponse(message)
        case .readIndex:
            guard tracker.progress[message.from] != nil else { return }
            if readQueue.isFull || readsAwaitingCommit.count >= configuration.maximumPendingReads {
                return
            }
            handleReadRequest(context: message.context, requester: message.from)
        default:
            break
        }
    }

    private mutating func handleAppendResponse(_ message: Message) {
        guard var progress = tracker.progress[message.from] else { return }
        progress.recentActive = true
        if message.reject {
            if progress.maybeDecrement(rejectedIndex: message.index, hintIndex: message.rejectHint) {
                if progress.state == .replicate {
                    progress.becomeProbe()
                }
                tracker.update(message.from) { $0 = progress }
                sendAppend(to: message.from, sendIfEmpty: true)
            } else {
                tracker.update(message.from) { $0 = progress }
            }
            return
        }
        precondition(message.index <= log.lastIndex,
                     "member \(message.from) acknowledged \(message.index) beyond leader's last \(log.lastIndex)")
        let wasPaused = progress.isPaused
        guard progress.maybeUpdate(message.index) else {
            tracker.update(message.from) { $0 = progress }
            return
        }
        switch progress.state {
        case .probe:
            progress.becomeReplicate()
        case .snapshot:
            if progress.match >= progress.snapshotTransfer!.metadata.index {
                progress.becomeProbe()
                progress.becomeReplicate()
            }
        case .replicate:
            progress.releaseInflights(upTo: message.index)
        }
        tracker.update(message.from) { $0 = progress }
        if maybeCommit() {
            broadcastAppend()
        } else if wasPaused {
            sendAppend(to: message.from, sendIfEmpty: true)
        }
        sendMore(to: message.from)
        if transferTarget == message.from, tracker.progress[message.from]!.match == log.lastIndex {
            send(Message(type: .timeoutNow, to: message.from))
        }
    }

    private mutating func handleHeartbeatResponse(_ message: Message) {
        guard tracker.progress[message.from] != nil else { return }
        tracker.update(message.from) { $0.heartbeatAnswered() }
        let progress = tracker.progress[message.from]!
        if progress.state == .snapshot {
            sendSnapshotChunk(to: message.from)
        } else if progress.match < log.lastIndex {
            sendAppend(to: message.from, sendIfEmpty: true)
        }
        if message.readRound > 0 {
            readQueue.acknowledge(member: message.from, round: message.readRound)
            for read in readQueue.releaseConfirmed(quorum: tracker.quorum, selfID: id) {
                deliverRead(read.context, requester: read.requester, index: read.index)
            }
        }
    }

    // MARK: - Snapshots

    /// startSnapshotTransfer switches `member` to snapshot state with the newest snapshot.
    private mutating func startSnapshotTransfer(to member: UInt64) {
        let metadata = log.stable.snapshotMetadata
        precondition(metadata.index > 0, "a compacted log must have a snapshot")
        tracker.update(member) {
            $0.becomeSnapshot(metadata, totalBytes: UInt64(log.stable.snapshotData.count))
        }
        sendSnapshotChunk(to: member)
    }

    /// sendSnapshotChunk sends the chunk after the bytes the follower acknowledged; one chunk is
    /// in flight at a time (retried after a heartbeat answer).
    mutating func sendSnapshotChunk(to member: UInt64) {
        guard let transfer = tracker.progress[member]?.snapshotTransfer else { return }
        if transfer.metadata != log.stable.snapshotMetadata {
            // The leader compacted again: the old image is gone, stream the new one.
            startSnapshotTransfer(to: member)
            return
        }
        guard !transfer.chunkInFlight else { return }
        let data = log.stable.snapshotData
        let start = Int(transfer.acknowledgedBytes)
        let end = min(data.count, start + Int(configuration.snapshotChunkBytes))
        let chunk = SnapshotChunk(metadata: transfer.metadata, offset: UInt64(start),
                                  totalBytes: UInt64(data.count), data: Array(data[start..<end]))
        send(Message(type: .snapshotChunk, to: member, snapshotChunk: chunk))
        tracker.update(member) { progress in
            progress.updateSnapshotTransfer { $0.chunkInFlight = true }
        }
    }

    private mutating func handleSnapshotChunkResponse(_ message: Message) {
        guard let chunk = message.snapshotChunk, let progress = tracker.progress[message.from],
              let transfer = progress.snapshotTransfer, progress.state == .snapshot,
              chunk.metadata == transfer.metadata
        else { return }
        tracker.update(message.from) { progress in
            progress.recentActive = true
            progress.updateSnapshotTransfer {
                $0.acknowledgedBytes = min(chunk.offset, $0.totalBytes)
                $0.chunkInFlight = false
            }
        }
        if chunk.offset < transfer.totalBytes {
            sendSnapshotChunk(to: message.from)
        }
    }

    // MARK: - ReadIndex

    /// handleReadRequest registers a ReadIndex request at the current commit index. It waits
    /// until this leader has committed an entry of its term, since only then is its commit
    /// index at least that of every earlier leader (thesis §6.4).
    mutating func handleReadRequest(context: [UInt8], requester: UInt64) {
        precondition(role == .leader)
        guard log.term(at: log.committed) == term else {
            readsAwaitingCommit.append((context, requester))
            return
        }
        if tracker.membership.voters == [id] {
            deliverRead(context, requester: requester, index: log.committed)
            return
        }
        let round = readQueue.register(context: context, requester: requester, index: log.committed)
        for member in tracker.progress.keys.sorted() where member != id {
            let progress = tracker.progress[member]!
            send(Message(type: .heartbeat, to: member, commit: min(progress.match, log.committed),
                         readRound: round))
        }
    }

    private mutating func deliverRead(_ context: [UInt8], requester: UInt64, index: UInt64) {
        if requester == id {
            readStates.append(ReadState(index: index, context: context))
        } else {
            send(Message(type: .readIndexResponse, to: requester, index: index, context: context))
        }
    }
}
