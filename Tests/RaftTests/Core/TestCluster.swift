import Raft

/// TestCluster drives real RaftNodes over a perfect in-memory network for scripted scenarios
/// (like etcd's raft test `network`): every Ready is persisted and applied at once, messages
/// are delivered in order unless a link is cut or a filter drops them.
struct TestCluster {
    var nodes: [UInt64: RaftNode] = [:]
    /// durable is what each member has persisted (its restart image).
    var durable: [UInt64: RestoredState] = [:]
    var applied: [UInt64: [Entry]] = [:]
    var readStates: [UInt64: [ReadState]] = [:]
    var installedSnapshots: [UInt64: [Snapshot]] = [:]
    var cutLinks: Set<[UInt64]> = []
    /// dropFilter drops matching messages in flight.
    var dropFilter: ((Message) -> Bool)?
    var delivered: [Message] = []
    var pending: [Message] = []

    static func configuration(_ id: UInt64) -> RaftConfiguration {
        var configuration = RaftConfiguration(id: id, randomSeed: 42)
        configuration.electionTimeoutTicks = 10
        configuration.heartbeatIntervalTicks = 1
        return configuration
    }

    init(voters: [UInt64], configure: (inout RaftConfiguration) -> Void = { _ in }) {
        for id in voters {
            var configuration = Self.configuration(id)
            configure(&configuration)
            var node = try! RaftNode(configuration: configuration, storage: RestoredState())
            node.bootstrap(voters: voters)
            nodes[id] = node
            durable[id] = RestoredState()
        }
        stabilize()
    }

    /// addEmptyMember starts a member with no history (to be added by a configuration change).
    mutating func addEmptyMember(_ id: UInt64, configure: (inout RaftConfiguration) -> Void = { _ in }) {
        var configuration = Self.configuration(id)
        configure(&configuration)
        nodes[id] = try! RaftNode(configuration: configuration, storage: RestoredState())
        durable[id] = RestoredState()
    }

    subscript(_ id: UInt64) -> RaftNode {
        get { nodes[id]! }
        set { nodes[id] = newValue }
    }

    var leaders: [UInt64] {
        nodes.values.filter { $0.role == .leader }.map(\.id).sorted()
    }

    mutating func isolate(_ id: UInt64) {
        for other in nodes.keys where other != id {
            cutLinks.insert([id, other])
            cutLinks.insert([other, id])
        }
    }

    mutating func heal() {
        cutLinks = []
    }

    /// processReady handles one member's pending output like a synchronous driver.
    mutating func processReady(_ id: UInt64) {
        guard nodes[id]!.hasReady else { return }
        let ready = nodes[id]!.ready()
        pending.append(contentsOf: ready.messages)
        persist(id, ready)
        pending.append(contentsOf: ready.messagesAfterPersist)
        applied[id, default: []].append(contentsOf: ready.committedEntries)
        readStates[id, default: []].append(contentsOf: ready.readStates)
        nodes[id]!.advance(ready)
    }

    mutating func persist(_ id: UInt64, _ ready: Ready) {
        var state = durable[id]!
        if let snapshot = ready.snapshot {
            state.snapshot = snapshot
            state.entries = []
            installedSnapshots[id, default: []].append(snapshot)
        }
        if let first = ready.entries.first {
            state.entries.removeAll { $0.index >= first.index }
            state.entries.append(contentsOf: ready.entries)
        }
        if let hardState = ready.hardState {
            state.hardState = hardState
        }
        durable[id] = state
    }

    /// deliverPending delivers the queued messages once; returns how many were delivered.
    @discardableResult
    mutating func deliverPending() -> Int {
        let batch = pending
        pending = []
        var count = 0
        for message in batch {
            if cutLinks.contains([message.from, message.to]) || nodes[message.to] == nil {
                continue
            }
            if let dropFilter, dropFilter(message) {
                continue
            }
            delivered.append(message)
            nodes[message.to]!.step(message)
            count += 1
        }
        return count
    }

    /// stabilize processes Readies and delivers messages until nothing is left (bounded).
    mutating func stabilize() {
        for _ in 0..<10_000 {
            for id in nodes.keys.sorted() {
                processReady(id)
            }
            if pending.isEmpty && !nodes.values.contains(where: \.hasReady) {
                return
            }
            deliverPending()
        }
        preconditionFailure("cluster did not stabilize")
    }

    mutating func tick(_ id: UInt64, times: Int = 1) {
        for _ in 0..<times {
            nodes[id]!.tick()
        }
    }

    mutating func tickAll(times: Int) {
        for _ in 0..<times {
            for id in nodes.keys.sorted() {
                nodes[id]!.tick()
            }
            stabilize()
        }
    }

    /// electAmong ticks only `members` (the rest are treated as silent) until one leads.
    @discardableResult
    mutating func electAmong(_ members: [UInt64]) -> UInt64? {
        for _ in 0..<200 {
            for id in members {
                nodes[id]!.tick()
            }
            stabilize()
            if let leader = members.first(where: { nodes[$0]!.role == .leader }) {
                return leader
            }
        }
        return nil
    }

    mutating func campaign(_ id: UInt64) {
        nodes[id]!.campaign()
        stabilize()
    }

    /// appliedCommands are the non-empty normal entries a member applied, as strings.
    func appliedCommands(_ id: UInt64) -> [String] {
        (applied[id] ?? []).filter { $0.type == .normal && !$0.data.isEmpty }
            .map { String(decoding: $0.data, as: UTF8.self) }
    }
}

extension Array where Element == UInt8 {
    init(text: String) {
        self = Array(text.utf8)
    }
}
