extension RaftNode {
    /// step feeds one message from another member.
    public mutating func step(_ message: Message) {
        precondition(message.to == id, "message for \(message.to) delivered to \(id)")
        guard message.from != 0, message.from != id else { return }
        if message.term > term {
            guard acceptHigherTerm(message) else { return }
        } else if message.term < term {
            answerStaleTerm(message)
            return
        }
        switch message.type {
        case .preVote, .vote:
            handleVoteRequest(message)
        default:
            switch role {
            case .leader: stepLeader(message)
            case .candidate, .preCandidate: stepCandidate(message)
            case .follower: stepFollower(message)
            }
        }
    }

    /// acceptHigherTerm decides what a message from a later term does to this member; returns
    /// false when the message is to be ignored.
    private mutating func acceptHigherTerm(_ message: Message) -> Bool {
        if message.type == .preVote || message.type == .vote {
            // Leader stickiness (thesis §9.6 with check-quorum): a member that heard from a live
            // leader within the election timeout does not help depose it.
            let inLease = configuration.checkQuorum && leaderID != 0
                && electionElapsedTicks < configuration.electionTimeoutTicks
            if inLease && !message.leadershipTransfer {
                return false
            }
        }
        switch message.type {
        case .preVote:
            // Pre-vote requests carry the term the campaigner would use; they change nothing.
            return true
        case .preVoteResponse where !message.reject:
            // A granted pre-vote answers our own term + 1 probe.
            return true
        case .append, .heartbeat, .snapshotChunk:
            becomeFollower(term: message.term, leader: message.from)
        default:
            becomeFollower(term: message.term, leader: 0)
        }
        return true
    }

    /// answerStaleTerm: a message from an earlier term is ignored, but a deposed leader is told
    /// the current term so it steps down (needed with pre-vote and check-quorum, where it would
    /// otherwise never hear a higher term), and a stale pre-vote is rejected.
    private mutating func answerStaleTerm(_ message: Message) {
        switch message.type {
        case .append, .heartbeat, .snapshotChunk:
            if configuration.checkQuorum || configuration.preVote {
                send(Message(type: .appendResponse, to: message.from))
            }
        case .preVote:
            send(Message(type: .preVoteResponse, to: message.from, reject: true))
        default:
            break
        }
    }

    /// handleVoteRequest grants a vote (§5.2, §5.4.1) or a pre-vote (thesis §9.6).
    private mutating func handleVoteRequest(_ message: Message) {
        let isPreVote = message.type == .preVote
        let responseType: MessageType = isPreVote ? .preVoteResponse : .voteResponse
        let canVote = vote == message.from || (vote == 0 && leaderID == 0)
            || (isPreVote && message.term > term)
        if canVote && log.isUpToDate(lastIndex: message.index, lastTerm: message.logTerm) {
            send(Message(type: responseType, to: message.from, term: message.term))
            if !isPreVote {
                precondition(message.term == term)
                electionElapsedTicks = 0
                vote = message.from
            }
        } else {
            send(Message(type: responseType, to: message.from, term: term, reject: true))
        }
    }

    private mutating func stepCandidate(_ message: Message) {
        switch message.type {
        case .append, .heartbeat, .snapshotChunk:
            // A leader of this term exists (§5.2): give up.
            becomeFollower(term: message.term, leader: message.from)
            stepFollower(message)
        case .preVoteResponse where role == .preCandidate, .voteResponse where role == .candidate:
            tracker.recordVote(from: message.from, granted: !message.reject)
            switch tracker.voteResult() {
            case .won:
                if role == .preCandidate {
                    startElection(preVote: false, leadershipTransfer: false)
                } else {
                    becomeLeader()
                    broadcastAppend()
                }
            case .lost:
                becomeFollower(term: term, leader: 0)
            case .pending:
                break
            }
        default:
            break
        }
    }

    private mutating func stepFollower(_ message: Message) {
        switch message.type {
        case .append:
            heardFromLeader(message.from)
            handleAppend(message)
        case .heartbeat:
            heardFromLeader(message.from)
            handleHeartbeat(message)
        case .snapshotChunk:
            heardFromLeader(message.from)
            handleSnapshotChunk(message)
        case .timeoutNow:
            if isPromotable {
                startElection(preVote: false, leadershipTransfer: true)
            }
        case .readIndexResponse:
            readStates.append(ReadState(index: message.index, context: message.context))
        default:
            break
        }
    }

    private mutating func heardFromLeader(_ leader: UInt64) {
        precondition(leaderID == 0 || leaderID == leader,
                     "two leaders in term \(term): \(leaderID) and \(leader)")
        electionElapsedTicks = 0
        leaderID = leader
    }

    /// startElection runs a pre-vote round or a real election (§5.2).
    mutating func startElection(preVote: Bool, leadershipTransfer: Bool) {
        guard isPromotable else { return }
        let electionTerm: UInt64
        let requestType: MessageType
        if preVote {
            becomePreCandidate()
            electionTerm = term + 1
            requestType = .preVote
        } else {
            becomeCandidate()
            electionTerm = term
            requestType = .vote
        }
        tracker.recordVote(from: id, granted: true)
        if tracker.voteResult() == .won {
            // A single voter wins at once.
            if preVote {
                startElection(preVote: false, leadershipTransfer: leadershipTransfer)
            } else {
                becomeLeader()
                broadcastAppend()
            }
            return
        }
        for voter in tracker.membership.voters.sorted() where voter != id {
            send(Message(type: requestType, to: voter, term: electionTerm, logTerm: log.lastTerm,
                         index: log.lastIndex, leadershipTransfer: leadershipTransfer))
        }
    }

    // MARK: - Follower side of replication

    /// handleAppend is the receiver of AppendEntries (§5.3). The answer waits for persistence.
    private mutating func handleAppend(_ message: Message) {
        if message.index < log.committed {
            send(Message(type: .appendResponse, to: message.from, index: log.committed))
            return
        }
        if let lastNewIndex = log.maybeAppend(previousIndex: message.index, previousTerm: message.logTerm,
                                              leaderCommit: message.commit, entries: message.entries) {
            send(Message(type: .appendResponse, to: message.from, index: lastNewIndex))
            return
        }
        let hint = log.findConflictByTerm(index: min(message.index, log.lastIndex), term: message.logTerm)
        send(Message(type: .appendResponse, to: message.from, index: message.index, reject: true,
                     rejectHint: hint))
    }

    private mutating func handleHeartbeat(_ message: Message) {
        // The leader sends at most the index it knows this member matches, so the prefix agrees.
        if message.commit <= log.lastIndex {
            log.commitTo(message.commit)
        }
        send(Message(type: .heartbeatResponse, to: message.from, readRound: message.readRound))
    }

    /// handleSnapshotChunk assembles a snapshot in offset order and installs it when complete
    /// (§7). Each chunk is answered with the number of bytes held, so the leader resumes there.
    private mutating func handleSnapshotChunk(_ message: Message) {
        guard let chunk = message.snapshotChunk, let metadata = chunk.metadata else { return }
        if metadata.index <= log.committed {
            // Already covered: tell the leader where the log really is.
            snapshotAssembly = nil
            send(Message(type: .appendResponse, to: message.from, index: log.committed))
            return
        }
        if snapshotAssembly?.metadata != metadata {
            snapshotAssembly = nil
            if chunk.offset == 0 {
                snapshotAssembly = (metadata, chunk.totalBytes, [])
            }
        }
        guard var assembly = snapshotAssembly, chunk.offset == UInt64(assembly.data.count),
              chunk.totalBytes == assembly.totalBytes,
              chunk.offset + UInt64(chunk.data.count) <= assembly.totalBytes
        else {
            let held = UInt64(snapshotAssembly?.data.count ?? 0)
            send(Message(type: .snapshotChunkResponse, to: message.from,
                         snapshotChunk: SnapshotChunk(metadata: metadata, offset: held,
                                                      totalBytes: chunk.totalBytes)))
            return
        }
        snapshotAssembly = nil
        assembly.data.append(contentsOf: chunk.data)
        if UInt64(assembly.data.count) < assembly.totalBytes {
            snapshotAssembly = assembly
            send(Message(type: .snapshotChunkResponse, to: message.from,
                         snapshotChunk: SnapshotChunk(metadata: metadata, offset: UInt64(assembly.data.count),
                                                      totalBytes: assembly.totalBytes)))
            return
        }
        restoreSnapshot(Snapshot(metadata: metadata, data: assembly.data))
        // Only the prefix up to the snapshot is known to match the leader: entries this member
        // kept after it (when it already held the snapshot's last entry) may be stale.
        send(Message(type: .appendResponse, to: message.from, index: metadata.index))
    }

    /// restoreSnapshot installs a complete snapshot unless the log already holds its last entry,
    /// in which case only the commit index moves.
    private mutating func restoreSnapshot(_ snapshot: Snapshot) {
        let metadata = snapshot.metadata!
        precondition(metadata.index > log.committed)
        if log.matchTerm(index: metadata.index, term: metadata.term) {
            log.commitTo(metadata.index)
            return
        }
        log.restore(snapshot)
        let confState = metadata.confState ?? ConfState()
        tracker.setMembership(Membership(confState), nextIndex: log.lastIndex + 1)
        configurationHistory = [(metadata.index, confState)]
        membershipChanged = true
    }

    // MARK: - Configuration

    /// applyConfigurationEntry makes a committed configuration change take effect as it is
    /// handed out for applying.
    mutating func applyConfigurationEntry(_ entry: Entry) {
        guard let change = ConfChangeCodec.decode(entry.data) else {
            preconditionFailure("committed configuration entry \(entry.index) does not decode")
        }
        // A change invalid against the current membership is skipped on every member alike.
        guard let membership = try? tracker.membership.applying(change) else { return }
        tracker.setMembership(membership, nextIndex: log.lastIndex + 1)
        configurationHistory.append((entry.index, membership.confState))
        membershipChanged = true
        guard role == .leader else { return }
        if !membership.voters.contains(id) {
            becomeFollower(term: term, leader: 0)
            return
        }
        if let target = transferTarget, !membership.voters.contains(target) {
            transferTarget = nil
        }
        updateOwnProgress()
        _ = maybeCommit()
        // New members hear from the leader at once; the others learn any new commit index.
        broadcastAppend()
    }
}
