import Raft

/// InvariantChecker checks Raft's safety properties (Figure 3 of the paper) across members
/// after every simulation step, remembering what it has seen over the whole run.
struct InvariantChecker {
    private struct IndexTerm: Hashable {
        var index: UInt64
        var term: UInt64
    }

    /// leaderOfTerm: election safety, at most one leader per term.
    private var leaderOfTerm: [UInt64: UInt64] = [:]
    /// entryAt: log matching; an (index, term) pair names one entry and one predecessor term.
    private var entryAt: [IndexTerm: (entry: Entry, previousTerm: UInt64?)] = [:]
    /// committed[index] = (term of the entry, lowest member term that saw it committed).
    private var committed: [UInt64: (term: UInt64, observedTerm: UInt64)] = [:]
    private var committedRecordedUpTo: [UInt64: UInt64] = [:]
    /// appliedAt: state machine safety, one command per index across all members.
    private var appliedAt: [UInt64: Entry] = [:]
    private var checkedLeaders: Set<IndexTerm> = []
    private(set) var violations: [String] = []

    mutating func fail(_ message: String) {
        violations.append(message)
    }

    mutating func memberRestarted(_ id: UInt64) {
        committedRecordedUpTo[id] = nil
    }

    /// recordApplied checks state machine safety for one applied entry.
    mutating func recordApplied(_ entry: Entry, member: UInt64) {
        if let previous = appliedAt[entry.index] {
            if previous != entry {
                fail("state machine safety: member \(member) applied \(entry.index)/t\(entry.term) but another applied t\(previous.term) there")
            }
        } else {
            appliedAt[entry.index] = entry
        }
    }

    mutating func check(_ nodes: [RaftNode], fullLogs: Bool) {
        for node in nodes {
            checkElectionSafety(node)
            checkLogMatching(node, window: fullLogs ? UInt64.max : 64)
            recordCommitted(node)
        }
        for node in nodes where node.role == .leader {
            checkLeaderCompleteness(node)
        }
    }

    private mutating func checkElectionSafety(_ node: RaftNode) {
        guard node.role == .leader else { return }
        if let other = leaderOfTerm[node.term], other != node.id {
            fail("election safety: \(other) and \(node.id) both led term \(node.term)")
        }
        leaderOfTerm[node.term] = node.id
    }

    private mutating func checkLogMatching(_ node: RaftNode, window: UInt64) {
        let log = node.log
        let last = log.lastIndex
        guard last >= log.firstIndex else { return }
        let low = max(log.firstIndex, last >= window ? last - window + 1 : 1)
        for entry in log.slice(low, last) {
            let key = IndexTerm(index: entry.index, term: entry.term)
            let previousTerm = log.term(at: entry.index - 1)
            if let seen = entryAt[key] {
                if seen.entry != entry {
                    fail("log matching: member \(node.id) holds a different entry at \(entry.index)/t\(entry.term)")
                }
                if let previousTerm, let seenPrevious = seen.previousTerm, previousTerm != seenPrevious {
                    fail("log matching: member \(node.id) entry \(entry.index)/t\(entry.term) follows t\(previousTerm), another t\(seenPrevious)")
                }
            } else {
                entryAt[key] = (entry, previousTerm)
            }
        }
    }

    private mutating func recordCommitted(_ node: RaftNode) {
        let log = node.log
        let start = max(committedRecordedUpTo[node.id] ?? 0, log.firstIndex - 1) + 1
        guard log.committed >= start else { return }
        for index in start...log.committed {
            let term = log.term(at: index)!
            if let seen = committed[index] {
                if seen.term != term {
                    fail("commit safety: member \(node.id) committed \(index)/t\(term), previously t\(seen.term)")
                }
                committed[index] = (seen.term, min(seen.observedTerm, node.term))
            } else {
                committed[index] = (term, node.term)
            }
        }
        committedRecordedUpTo[node.id] = log.committed
    }

    /// checkLeaderCompleteness: a leader of term T holds every entry committed in a term
    /// below T (§5.4). An entry seen committed by a member in term t was committed in a term
    /// at most t, so entries with observedTerm < T are checked.
    private mutating func checkLeaderCompleteness(_ node: RaftNode) {
        let key = IndexTerm(index: node.id, term: node.term)
        guard checkedLeaders.insert(key).inserted else { return }
        for (index, record) in committed where record.observedTerm < node.term && index >= node.log.firstIndex {
            guard let term = node.log.term(at: index) else {
                fail("leader completeness: leader \(node.id) of term \(node.term) lacks committed entry \(index)")
                continue
            }
            if term != record.term {
                fail("leader completeness: leader \(node.id) of term \(node.term) has t\(term) at committed \(index)/t\(record.term)")
            }
        }
    }
}

extension RaftLog {
    /// slice returns the entries in [low, high] for the checkers.
    func slice(_ low: UInt64, _ high: UInt64) -> [Entry] {
        entries(from: low, maximumBytes: .max)?.filter { $0.index <= high } ?? []
    }
}
