// Stand-in for the output of skiff-protogen on proto/raft/raft.proto (see
// docs/generated-swift.md). `scripts/generate` overwrites this file; until then it has the same
// type shapes without the ProtoMessage conformance.

public enum EntryType: Int32, Sendable, Hashable, CaseIterable {
    case normal = 0
    case confChange = 1
}

public struct Entry: Sendable, Hashable {
    public var term: UInt64
    public var index: UInt64
    public var type: EntryType
    public var data: [UInt8]

    public init() {
        self.init(term: 0, index: 0, type: .normal, data: [])
    }

    public init(term: UInt64 = 0, index: UInt64 = 0, type: EntryType = .normal, data: [UInt8] = []) {
        self.term = term
        self.index = index
        self.type = type
        self.data = data
    }
}

public struct HardState: Sendable, Hashable {
    public var term: UInt64
    public var vote: UInt64
    public var commit: UInt64

    public init() {
        self.init(term: 0, vote: 0, commit: 0)
    }

    public init(term: UInt64 = 0, vote: UInt64 = 0, commit: UInt64 = 0) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }
}

public struct ConfState: Sendable, Hashable {
    public var voters: [UInt64]
    public var learners: [UInt64]

    public init() {
        self.init(voters: [], learners: [])
    }

    public init(voters: [UInt64] = [], learners: [UInt64] = []) {
        self.voters = voters
        self.learners = learners
    }
}

public struct SnapshotMetadata: Sendable, Hashable {
    public var confState: ConfState?
    public var index: UInt64
    public var term: UInt64

    public init() {
        self.init(confState: nil, index: 0, term: 0)
    }

    public init(confState: ConfState? = nil, index: UInt64 = 0, term: UInt64 = 0) {
        self.confState = confState
        self.index = index
        self.term = term
    }
}

public enum ConfChangeType: Int32, Sendable, Hashable, CaseIterable {
    case addNode = 0
    case removeNode = 1
    case addLearner = 2
    case promote = 3
}

public struct ConfChange: Sendable, Hashable {
    public var type: ConfChangeType
    public var nodeID: UInt64
    public var context: [UInt8]

    public init() {
        self.init(type: .addNode, nodeID: 0, context: [])
    }

    public init(type: ConfChangeType = .addNode, nodeID: UInt64 = 0, context: [UInt8] = []) {
        self.type = type
        self.nodeID = nodeID
        self.context = context
    }
}

public struct Snapshot: Sendable, Hashable {
    public var metadata: SnapshotMetadata?
    public var data: [UInt8]

    public init() {
        self.init(metadata: nil, data: [])
    }

    public init(metadata: SnapshotMetadata? = nil, data: [UInt8] = []) {
        self.metadata = metadata
        self.data = data
    }
}

public struct SnapshotChunk: Sendable, Hashable {
    public var metadata: SnapshotMetadata?
    public var offset: UInt64
    public var totalBytes: UInt64
    public var data: [UInt8]

    public init() {
        self.init(metadata: nil, offset: 0, totalBytes: 0, data: [])
    }

    public init(
        metadata: SnapshotMetadata? = nil, offset: UInt64 = 0, totalBytes: UInt64 = 0,
        data: [UInt8] = []
    ) {
        self.metadata = metadata
        self.offset = offset
        self.totalBytes = totalBytes
        self.data = data
    }
}

public enum MessageType: Int32, Sendable, Hashable, CaseIterable {
    case unspecified = 0
    case preVote = 1
    case preVoteResponse = 2
    case vote = 3
    case voteResponse = 4
    case append = 5
    case appendResponse = 6
    case heartbeat = 7
    case heartbeatResponse = 8
    case snapshotChunk = 9
    case snapshotChunkResponse = 10
    case timeoutNow = 11
    case readIndex = 12
    case readIndexResponse = 13
}

public struct Message: Sendable, Hashable {
    public var type: MessageType
    public var from: UInt64
    public var to: UInt64
    public var term: UInt64
    public var logTerm: UInt64
    public var index: UInt64
    public var entries: [Entry]
    public var commit: UInt64
    public var reject: Bool
    public var rejectHint: UInt64
    public var readRound: UInt64
    public var context: [UInt8]
    public var leadershipTransfer: Bool
    public var snapshotChunk: SnapshotChunk?

    public init() {
        self.init(type: .unspecified)
    }

    public init(
        type: MessageType = .unspecified, from: UInt64 = 0, to: UInt64 = 0, term: UInt64 = 0,
        logTerm: UInt64 = 0, index: UInt64 = 0, entries: [Entry] = [], commit: UInt64 = 0,
        reject: Bool = false, rejectHint: UInt64 = 0, readRound: UInt64 = 0,
        context: [UInt8] = [], leadershipTransfer: Bool = false,
        snapshotChunk: SnapshotChunk? = nil
    ) {
        self.type = type
        self.from = from
        self.to = to
        self.term = term
        self.logTerm = logTerm
        self.index = index
        self.entries = entries
        self.commit = commit
        self.reject = reject
        self.rejectHint = rejectHint
        self.readRound = readRound
        self.context = context
        self.leadershipTransfer = leadershipTransfer
        self.snapshotChunk = snapshotChunk
    }
}
