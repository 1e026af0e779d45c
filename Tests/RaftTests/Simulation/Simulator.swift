import Raft

/// SimulationOptions shape one run; everything else comes from the seed.
struct SimulationOptions {
    var memberCount = 3
    var steps = 4000
    /// quietSteps at the end: faults healed, every member up, to check the cluster converges.
    var quietSteps = 1200
    var ticksEverySteps = 10
    var clientCount = 3
    var keyCount: UInt8 = 3
    var operationTimeoutSteps = 500
}

/// Simulator drives real Raft cores from one seed: a network that drops, delays, duplicates
/// and reorders messages and can be partitioned (both ways or one way), members that crash
/// and restart losing unsynced writes, slow disks, and clients running puts, gets (ReadIndex)
/// and compare-and-set against a replicated key-value map. It checks safety after every step
/// and linearizability of the client history at the end.
struct Simulator {
    struct InFlightMessage {
        var deliverAtStep: Int
        var sequence: Int
        var message: Message
    }

    struct ClientOperation {
        var operationID: UInt64
        var historyIndex: Int
        var member: UInt64
        var startedAtStep: Int
        /// proposed is the (term, index) a write took; nil for reads.
        var proposed: ProposedEntries?
    }

    let seed: UInt64
    let options: SimulationOptions
    var random: SeededRandomNumberGenerator
    var members: [UInt64: SimulatedMember] = [:]
    var network: [InFlightMessage] = []
    var messageSequence = 0
    var blockedLinks: Set<[UInt64]> = []
    var dropPercent = 1
    var duplicatePercent = 1
    var step = 0
    var clock: UInt64 = 0
    var checker = InvariantChecker()
    var history: [HistoryOperation] = []
    var clients: [ClientOperation?]
    var nextOperationID: UInt64 = 1
    var nextValue: Int64 = 1
    var statistics = Statistics()
    /// scheduledCrashes: (step, member, term) crashes of freshly elected leaders, which leave
    /// logs that diverge across terms (the histories of §5.4.2's Figure 8).
    var scheduledCrashes: [(step: Int, member: UInt64, term: UInt64)] = []
    var scheduledRestarts: [(step: Int, member: UInt64)] = []
    /// Per-run limits drawn from the seed, so runs cover tiny and roomy appends and windows.
    let appendBytes: UInt64
    let inflightAppends: Int
    let snapshotChunkBytes: UInt64
    /// leaderCrashPercent: chance that a newly elected leader crashes within 20 steps.
    let leaderCrashPercent: Int

    struct Statistics: CustomStringConvertible {
        var delivered = 0
        var dropped = 0
        var crashes = 0
        var elections = 0
        var completedWrites = 0
        var completedReads = 0
        var unknownOutcomes = 0
        var snapshotsInstalled = 0
        var transfers = 0
        var membershipChanges = 0

        var description: String {
            "delivered=\(delivered) dropped=\(dropped) crashes=\(crashes) writes=\(completedWrites) reads=\(completedReads) unknown=\(unknownOutcomes) snapshotsInstalled=\(snapshotsInstalled) transfers=\(transfers) membershipChanges=\(membershipChanges)"
        }
    }

    var memberIDs: [UInt64] { members.keys.sorted() }

    init(seed: UInt64, options: SimulationOptions) {
        self.seed = seed
        self.options = options
        random = SeededRandomNumberGenerator(seed: seed)
        appendBytes = [24, 64, 128, 1024].randomElement(using: &random)!
        inflightAppends = [1, 2, 4, 16].randomElement(using: &random)!
        snapshotChunkBytes = [7, 40, 4096].randomElement(using: &random)!
        leaderCrashPercent = [0, 15, 50].randomElement(using: &random)!
        clients = Array(repeating: nil, count: options.clientCount)
        let ids = (1...UInt64(options.memberCount)).map { $0 }
        for id in ids {
            var member = SimulatedMember(id: id)
            var node = try! RaftNode(configuration: configuration(for: id, restart: 0), storage: RestoredState())
            node.bootstrap(voters: ids)
            member.node = node
            members[id] = member
        }
    }

    func configuration(for id: UInt64, restart: UInt64) -> RaftConfiguration {
        var configuration = RaftConfiguration(id: id, randomSeed: seed &* 31 &+ restart)
        configuration.electionTimeoutTicks = 10
        configuration.heartbeatIntervalTicks = 2
        configuration.maximumAppendBytes = appendBytes
        configuration.maximumInflightAppends = inflightAppends
        configuration.maximumInflightBytes = appendBytes * 4
        configuration.snapshotChunkBytes = snapshotChunkBytes
        configuration.maximumUncommittedBytes = 4096
        configuration.maximumPendingReads = 64
        return configuration
    }

    mutating func chance(_ percent: Int) -> Bool {
        Int.random(in: 0..<100, using: &random) < percent
    }

    mutating func chancePerMille(_ perMille: Int) -> Bool {
        Int.random(in: 0..<1000, using: &random) < perMille
    }

    // MARK: - Run

    /// run returns the violations found (empty when the run is correct).
    mutating func run() -> [String] {
        let total = options.steps + options.quietSteps
        while step < total {
            if step < options.steps {
                injectFaults()
            } else if step == options.steps {
                healEverything()
            }
            deliverMessages()
            completeDiskWrites()
            tickMembers()
            runClients()
            for id in memberIDs {
                processReadies(id)
            }
            checker.check(memberIDs.compactMap { members[$0]!.node }, fullLogs: step % 500 == 0)
            if !checker.violations.isEmpty {
                return checker.violations.map { "step \(step): \($0)" }
            }
            step += 1
        }
        var problems = checker.violations
        problems += checkConvergence()
        expireClientOperations(force: true)
        problems += checkLinearizability()
        return problems
    }

    // MARK: - Faults

    mutating func injectFaults() {
        let due = scheduledCrashes.filter { $0.step <= step }
        scheduledCrashes.removeAll { $0.step <= step }
        for crash in due where members[crash.member]!.node?.term == crash.term {
            self.crash(crash.member)
            scheduledRestarts.append((step + Int.random(in: 5...60, using: &random), crash.member))
        }
        for restart in scheduledRestarts where restart.step <= step && !members[restart.member]!.isUp {
            self.restart(restart.member)
        }
        scheduledRestarts.removeAll { $0.step <= step }
        guard chancePerMille(15) else { return }
        let ids = memberIDs
        switch Int.random(in: 0..<14, using: &random) {
        case 0, 1:
            // Symmetric partition into two random sides.
            let shuffled = ids.shuffled(using: &random)
            let cut = Int.random(in: 1..<ids.count, using: &random)
            let side = Set(shuffled[..<cut])
            blockedLinks = []
            for from in ids {
                for to in ids where side.contains(from) != side.contains(to) {
                    blockedLinks.insert([from, to])
                }
            }
        case 2:
            // One-way partition: a member can send but not hear (or the reverse).
            let member = ids.randomElement(using: &random)!
            let deaf = chance(50)
            for other in ids where other != member {
                blockedLinks.insert(deaf ? [other, member] : [member, other])
            }
        case 3, 4:
            blockedLinks = []
        case 5:
            crashSomeone(preferLeader: false)
        case 6:
            // Crashing the leader while its own write is slow is what tests the rule that it
            // counts itself only after its fsync.
            crashSomeone(preferLeader: true)
        case 7, 8:
            if let victim = ids.filter({ !members[$0]!.isUp }).randomElement(using: &random) {
                restart(victim)
            }
        case 9, 10:
            let member = ids.randomElement(using: &random)!
            members[member]!.slowDisk.toggle()
        case 13:
            changeMembership()
        case 11:
            dropPercent = [0, 1, 5, 20].randomElement(using: &random)!
            duplicatePercent = [0, 2, 5].randomElement(using: &random)!
        default:
            if let leader = ids.first(where: { members[$0]!.node?.role == .leader }),
               let target = ids.filter({ $0 != leader }).randomElement(using: &random) {
                if (try? members[leader]!.node!.transferLeadership(to: target)) != nil {
                    statistics.transfers += 1
                }
            }
        }
    }

    /// changeMembership walks members through remove -> learner -> voter, one change at a time.
    mutating func changeMembership() {
        guard let leader = memberIDs.first(where: { members[$0]!.node?.role == .leader }) else { return }
        let membership = members[leader]!.node!.tracker.membership
        let change: ConfChange
        if let removed = memberIDs.first(where: { !membership.members.contains($0) }) {
            change = ConfChange(type: .addLearner, nodeID: removed)
        } else if let learner = membership.learners.sorted().first {
            change = ConfChange(type: .promote, nodeID: learner)
        } else if membership.voters.count >= 3 {
            change = ConfChange(type: .removeNode, nodeID: membership.voters.sorted().randomElement(using: &random)!)
        } else {
            return
        }
        if (try? members[leader]!.node!.proposeConfChange(change)) != nil {
            statistics.membershipChanges += 1
        }
    }

    /// crashSomeone crashes one member while a majority stays up.
    mutating func crashSomeone(preferLeader: Bool) {
        let up = memberIDs.filter { members[$0]!.isUp }
        guard memberIDs.count - up.count < (memberIDs.count - 1) / 2 + (preferLeader ? 1 : 0) else { return }
        let leader = up.first { members[$0]!.node!.role == .leader }
        if let victim = preferLeader ? leader : up.randomElement(using: &random) {
            crash(victim)
        }
    }

    mutating func healEverything() {
        blockedLinks = []
        dropPercent = 0
        duplicatePercent = 0
        for id in memberIDs {
            members[id]!.slowDisk = false
            if !members[id]!.isUp {
                restart(id)
            }
        }
    }

    mutating func crash(_ id: UInt64) {
        statistics.crashes += 1
        members[id]!.crash()
        for index in clients.indices where clients[index]?.member == id {
            abandon(index)
        }
    }

    mutating func restart(_ id: UInt64) {
        var member = members[id]!
        member.restartCount += 1
        let image = member.durable
        do {
            member.node = try RaftNode(configuration: configuration(for: id, restart: member.restartCount), storage: image)
        } catch {
            checker.fail("member \(id) could not restart from its durable image: \(error)")
            return
        }
        if let snapshot = image.snapshot, let metadata = snapshot.metadata {
            member.stateMachine = KeyValueStateMachine(snapshotData: snapshot.data, index: metadata.index)
        } else {
            member.stateMachine = KeyValueStateMachine()
        }
        members[id] = member
        checker.memberRestarted(id)
    }

    // MARK: - Network

    mutating func send(_ message: Message) {
        if chance(dropPercent) {
            statistics.dropped += 1
            return
        }
        let copies = chance(duplicatePercent) ? 2 : 1
        for _ in 0..<copies {
            // Mostly short delays; sometimes long ones, which reorder messages.
            let delay = chance(5) ? Int.random(in: 20...120, using: &random) : Int.random(in: 1...12, using: &random)
            messageSequence += 1
            network.append(InFlightMessage(deliverAtStep: step + delay, sequence: messageSequence, message: message))
        }
    }

    mutating func deliverMessages() {
        var due: [InFlightMessage] = []
        network.removeAll { flight in
            if flight.deliverAtStep <= step {
                due.append(flight)
                return true
            }
            return false
        }
        due.sort { $0.sequence < $1.sequence }
        for flight in due {
            let message = flight.message
            guard !blockedLinks.contains([message.from, message.to]), members[message.to]!.isUp else {
                statistics.dropped += 1
                continue
            }
            statistics.delivered += 1
            members[message.to]!.node!.step(message)
        }
    }

    // MARK: - Disks and Readies

    mutating func completeDiskWrites() {
        for id in memberIDs {
            while let write = members[id]!.diskQueue.first, write.completesAtStep <= step {
                members[id]!.diskQueue.removeFirst()
                members[id]!.persist(write.ready)
                for message in write.ready.messagesAfterPersist {
                    send(message)
                }
                members[id]!.node!.advance(write.ready)
            }
        }
    }

    mutating func tickMembers() {
        for id in memberIDs where members[id]!.isUp && (step + Int(id)) % options.ticksEverySteps == 0 {
            members[id]!.node!.tick()
        }
    }

    /// processReadies is the driver loop of one member: send, queue the write, apply.
    mutating func processReadies(_ id: UInt64) {
        for _ in 0..<8 {
            guard let node = members[id]!.node, node.hasReady else { return }
            let ready = members[id]!.node!.ready()
            if ready.softState?.role == .leader {
                statistics.elections += 1
                if step < options.steps && chance(leaderCrashPercent) {
                    scheduledCrashes.append((step + Int.random(in: 1...20, using: &random), id, node.term))
                }
            }
            for message in ready.messages {
                send(message)
            }
            let delay = members[id]!.slowDisk ? Int.random(in: 10...80, using: &random) : Int.random(in: 0...3, using: &random)
            let previous = members[id]!.diskQueue.last?.completesAtStep ?? step
            members[id]!.diskQueue.append(DiskWrite(completesAtStep: max(previous, step + delay), ready: ready))
            if let snapshot = ready.snapshot, let metadata = snapshot.metadata {
                members[id]!.stateMachine = KeyValueStateMachine(snapshotData: snapshot.data, index: metadata.index)
                statistics.snapshotsInstalled += 1
            }
            for entry in ready.committedEntries {
                apply(entry, member: id)
            }
            members[id]!.readsWaitingForApply += ready.readStates
            serveReads(id)
            maybeCompact(id)
        }
    }

    mutating func apply(_ entry: Entry, member id: UInt64) {
        checker.recordApplied(entry, member: id)
        guard let result = members[id]!.stateMachine.apply(entry) else { return }
        for index in clients.indices {
            guard let operation = clients[index], operation.member == id,
                  let proposed = operation.proposed, proposed.indexes.contains(entry.index) else { continue }
            if proposed.term == entry.term && result.operationID == operation.operationID {
                clock += 1
                history[operation.historyIndex].returnTime = clock
                if case .compareAndSet = history[operation.historyIndex].input {
                    history[operation.historyIndex].output = .succeeded(result.succeeded)
                } else {
                    history[operation.historyIndex].output = HistoryOperation.Output.none
                }
                statistics.completedWrites += 1
                clients[index] = nil
            } else {
                abandon(index)
            }
        }
    }

    mutating func serveReads(_ id: UInt64) {
        let applied = members[id]!.stateMachine.appliedIndex
        var waiting: [ReadState] = []
        for read in members[id]!.readsWaitingForApply {
            guard read.index <= applied else {
                waiting.append(read)
                continue
            }
            let operationID = read.context.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << UInt64($1.offset * 8) }
            guard let index = clients.firstIndex(where: { $0?.operationID == operationID && $0?.member == id }) else {
                continue
            }
            let operation = clients[index]!
            clock += 1
            history[operation.historyIndex].returnTime = clock
            history[operation.historyIndex].output = .value(members[id]!.stateMachine.values[history[operation.historyIndex].key])
            statistics.completedReads += 1
            clients[index] = nil
        }
        members[id]!.readsWaitingForApply = waiting
    }

    mutating func maybeCompact(_ id: UInt64) {
        guard let node = members[id]!.node else { return }
        let applied = members[id]!.stateMachine.appliedIndex
        guard applied >= node.log.stable.snapshotMetadata.index + 40, node.canCompact(upTo: applied) else { return }
        let data = members[id]!.stateMachine.snapshotData()
        members[id]!.node!.compact(upTo: applied, snapshotData: data)
        members[id]!.compactDurable(members[id]!.node!.log.stable.snapshotMetadata, data: data)
    }

    // MARK: - Clients

    mutating func runClients() {
        expireClientOperations(force: false)
        // The last 400 steps have no new operations, so the members can converge.
        let acceptingOperations = step < options.steps + options.quietSteps - 400
        for index in clients.indices where acceptingOperations && clients[index] == nil && chance(10) {
            startOperation(client: index)
        }
    }

    mutating func startOperation(client: Int) {
        let up = memberIDs.filter { members[$0]!.isUp }
        guard !up.isEmpty else { return }
        // Clients usually find the leader, sometimes ask any member.
        let leader = up.first { members[$0]!.node!.role == .leader }
        let target = (leader != nil && chance(80)) ? leader! : up.randomElement(using: &random)!
        let key = UInt8.random(in: 0..<options.keyCount, using: &random)
        let operationID = nextOperationID
        nextOperationID += 1
        let input: HistoryOperation.Input
        switch Int.random(in: 0..<10, using: &random) {
        case 0..<4:
            input = .get
        case 4..<8:
            input = .put(nextValue)
            nextValue += 1
        default:
            let expected: Int64? = chance(20) ? nil : Int64.random(in: max(1, nextValue - 4)...max(1, nextValue), using: &random)
            input = .compareAndSet(expected: expected, new: nextValue)
            nextValue += 1
        }
        var proposed: ProposedEntries?
        switch input {
        case .get:
            let context = (0..<8).map { UInt8(truncatingIfNeeded: operationID >> UInt64($0 * 8)) }
            do {
                try members[target]!.node!.readIndex(context: context)
            } catch {
                return
            }
        case .put(let value):
            let request = KeyValueRequest(operationID: operationID, command: .put(key: key, value: value))
            guard let taken = try? members[target]!.node!.propose(request.encoded()) else { return }
            proposed = taken
        case .compareAndSet(let expected, let new):
            let request = KeyValueRequest(operationID: operationID, command: .compareAndSet(key: key, expected: expected, new: new))
            guard let taken = try? members[target]!.node!.propose(request.encoded()) else { return }
            proposed = taken
        }
        clock += 1
        history.append(HistoryOperation(clientOperationID: operationID, key: key, input: input, output: nil,
                                        callTime: clock, returnTime: nil))
        clients[client] = ClientOperation(operationID: operationID, historyIndex: history.count - 1, member: target,
                                          startedAtStep: step, proposed: proposed)
    }

    mutating func expireClientOperations(force: Bool) {
        for index in clients.indices {
            guard let operation = clients[index] else { continue }
            if force || step - operation.startedAtStep > options.operationTimeoutSteps {
                abandon(index)
            }
        }
    }

    /// abandon gives up on a client operation: its outcome stays unknown.
    mutating func abandon(_ client: Int) {
        guard clients[client] != nil else { return }
        statistics.unknownOutcomes += 1
        clients[client] = nil
    }

    // MARK: - End of run checks

    /// checkConvergence: after the quiet period one leader leads, and every member of its
    /// configuration has caught up with its commit index (members removed from the
    /// configuration are left behind by design).
    func checkConvergence() -> [String] {
        let nodes = memberIDs.compactMap { members[$0]!.node }
        let leaders = nodes.filter { $0.role == .leader }
        guard leaders.count == 1, let leader = leaders.first else {
            return ["liveness: \(leaders.count) leaders after \(options.quietSteps) quiet steps"]
        }
        var problems: [String] = []
        for node in nodes where leader.tracker.membership.members.contains(node.id) {
            if node.log.committed != leader.log.committed {
                problems.append("liveness: member \(node.id) committed \(node.log.committed), leader \(leader.id) \(leader.log.committed)")
            }
        }
        return problems
    }

    func checkLinearizability() -> [String] {
        // Reads with unknown outcome tell nothing; everything else is checked per key.
        let relevant = history.filter { !($0.input == .get && $0.output == nil) }
        var problems: [String] = []
        for key in 0..<options.keyCount {
            let operations = relevant.filter { $0.key == key }
            switch LinearizabilityChecker.check(operations) {
            case .linearizable:
                break
            case .notLinearizable:
                problems.append("linearizability: history of key \(key) (\(operations.count) operations) has no linearization")
            case .inconclusive:
                problems.append("linearizability: search for key \(key) exceeded its bound (\(operations.count) operations)")
            }
        }
        return problems
    }
}
