import Dispatch
import Logging

#if canImport(Glibc)
import Glibc
#endif
import Wire

/// StoreMember is one running member of the replicated store: the Raft driver, the MVCC state
/// machine, the client and peer servers. Everything runs on one event loop except the disk
/// writer thread; every method below must be called on `loop` (checked where it matters).
///
/// The driver loop (etcd raft's): take a Ready, send its messages (the leader replicates before
/// its own write is durable), hand what must persist to the disk writer, apply committed entries
/// at once, and when the write is durable advance the node and send the messages that promise
/// durable state. Proposals and reads arriving in one loop turn share one Ready (one append, one
/// fsync) and one ReadIndex round.
public final class StoreMember: @unchecked Sendable {
    // Safety of @unchecked Sendable: every field is touched on `loop` only; the disk writer owns
    // the storage and reports back through loop.execute.

    public let configuration: StoreMemberConfiguration
    public let loop: EventLoop
    let logger: Logger
    let id: UInt64
    /// Derived from the initial member names: two clusters never mistake each other's members.
    let clusterID: UInt64

    var node: RaftNode
    let disk: DiskWriter
    var store: MVCCStore
    var watchHub: WatchHub
    let sharedWatchEncodings = SharedWatchEncodings()
    var leases = LeaseExpiryTracker()
    var members: [UInt64: Member] = [:]
    var peers: [UInt64: PeerLink] = [:]
    var clientServer: WireServer?
    var peerServer: WireServer?
    var tickTimer: LoopTimer?
    var random: SplitMix64

    var readyScheduled = false
    var diskJobsInFlight = 0
    var appliedIndex: UInt64 = 0
    var appliedTerm: UInt64 = 0
    var lastSnapshotIndex: UInt64 = 0
    var snapshotInProgress = false
    var confState = ConfState()
    var role: RaftRole = .follower
    var leaderID: UInt64 = 0

    var nextRequestID: UInt64 = 1
    var proposals: [UInt64: ProposalWaiter] = [:]
    var proposalAtIndex: [UInt64: UInt64] = [:]
    var confChangeWaiters: [UInt64: (Result<Void, WireError>) -> Void] = [:]
    var readBatch: [(Result<Void, WireError>) -> Void] = []
    var readBatchScheduled = false
    var nextReadContext: UInt64 = 1
    var readsAwaitingIndex: [UInt64: ReadBatch] = [:]
    var readsAwaitingApply: [(index: UInt64, batch: ReadBatch)] = []
    var ticks: UInt64 = 0

    struct ProposalWaiter {
        var index: UInt64
        var term: UInt64
        var completion: (Result<CommandResponse, WireError>) -> Void
    }

    struct ReadBatch {
        var issuedAtTick: UInt64
        var waiters: [(Result<Void, WireError>) -> Void]
    }

    // MARK: Start

    /// Opens the data folder (refusing corrupt or locked ones), restores state and starts
    /// serving. Call from any thread; the member runs on its own loop until `stop()`.
    public static func start(
        _ configuration: StoreMemberConfiguration, logger: Logger = Logger(label: "skiff.store")
    ) async throws -> StoreMember {
        try configuration.validate()
        let (storage, recovered) = try RaftStorage.open(dataDirectory: configuration.dataDirectory, logger: logger)
        if let torn = recovered.tornTail {
            logger.warning("recovered from a torn write at the end of the log: \(torn)")
        }
        let loop = EventLoop(name: "store-\(configuration.name)")
        let member = try StoreMember(configuration, storage: storage, recovered: recovered, loop: loop, logger: logger)
        try await loop.submit { () -> Result<Void, any Error> in
            Result { try member.startServing() }
        }.get()
        return member
    }

    init(
        _ configuration: StoreMemberConfiguration, storage: RaftStorage, recovered: RaftStorage.Recovered,
        loop: EventLoop, logger: Logger
    ) throws {
        self.configuration = configuration
        self.loop = loop
        self.logger = logger
        id = configuration.memberID
        clusterID = StoreMemberIdentity.id(name: configuration.initialCluster.map(\.name).sorted().joined(separator: ","))
        random = SplitMix64(seed: monotonicNanoseconds() ^ configuration.memberID)
        for entry in configuration.initialCluster {
            let memberID = StoreMemberIdentity.id(name: entry.name)
            members[memberID] = Member(id: memberID, name: entry.name, peerAddress: entry.peerAddress.description)
        }
        members[id]?.clientAddress = configuration.clientAddress.description

        var raftConfiguration = RaftConfiguration(id: id, randomSeed: random.next())
        raftConfiguration.electionTimeoutTicks = configuration.electionTimeoutTicks
        raftConfiguration.heartbeatIntervalTicks = 1
        let restored = RestoredState(hardState: recovered.hardState, snapshot: recovered.snapshot, entries: recovered.entries)
        do {
            node = try RaftNode(configuration: raftConfiguration, storage: restored)
        } catch {
            throw ConfigurationError(
                "the data folder \(configuration.dataDirectory) holds an inconsistent Raft state (\(error)); it cannot be served. Restore it from a snapshot or remove the member and add it back empty")
        }
        store = MVCCStore()
        if let snapshot = recovered.snapshot {
            let state = try Self.decodeSnapshot(snapshot.data, dataDirectory: configuration.dataDirectory)
            store = state.store
            for member in state.members { members[member.id] = member }
            members[id]?.clientAddress = configuration.clientAddress.description
            lastSnapshotIndex = snapshot.metadata?.index ?? 0
            appliedIndex = lastSnapshotIndex
            appliedTerm = snapshot.metadata?.term ?? 0
            confState = snapshot.metadata?.confState ?? ConfState()
        }
        watchHub = WatchHub(store: store)
        disk = DiskWriter(storage: storage, loop: loop, logger: logger)
        let fresh = recovered.snapshot == nil && recovered.entries.isEmpty && recovered.hardState.term == 0
        if fresh && configuration.initialClusterState == .new {
            let voters = configuration.initialCluster.map { StoreMemberIdentity.id(name: $0.name) }.sorted()
            node.bootstrap(voters: voters)
            logger.info("bootstrapped a new cluster of \(voters.count) members")
        }
    }

    /// Takes the member table from a snapshot, keeping this member's own client address: the
    /// snapshot may predate a restart with a different --listen.
    func adoptMembers(_ snapshotMembers: [Member]) {
        for member in snapshotMembers { members[member.id] = member }
        members[id]?.clientAddress = configuration.clientAddress.description
    }

    static func decodeSnapshot(_ data: [UInt8], dataDirectory: String) throws -> (store: MVCCStore, members: [Member]) {
        let wrapper = try? MemberStateSnapshot(protobuf: data)
        if let wrapper, !wrapper.store.isEmpty {
            return (try MVCCStore(snapshotBytes: wrapper.store), wrapper.members)
        }
        do {
            return (try MVCCStore(snapshotBytes: data), [])
        } catch {
            throw ConfigurationError("the newest snapshot in \(dataDirectory)/snap cannot be loaded: \(error)")
        }
    }

    private func startServing() throws {
        loop.preconditionInLoop()
        disk.start()
        let clientRouter = MethodRouter()
        registerClientMethods(clientRouter)
        let peerRouter = MethodRouter()
        registerPeerMethods(peerRouter)
        var clientConfiguration = ServerConfiguration(
            identity: configuration.name, authenticate: ServerConfiguration.bearerToken(configuration.token))
        clientConfiguration.maximumInFlightCalls = 65_536
        clientServer = try WireServer(
            loop: loop, address: configuration.clientAddress, configuration: clientConfiguration,
            service: clientRouter, logger: logger)
        var peerConfiguration = ServerConfiguration(
            identity: configuration.name, authenticate: ServerConfiguration.bearerToken(configuration.token))
        peerConfiguration.maximumInFlightCalls = 65_536
        peerConfiguration.limits.maximumFrameBytes = 64 << 20
        peerServer = try WireServer(
            loop: loop, address: configuration.peerAddress, configuration: peerConfiguration,
            service: peerRouter, logger: logger)
        for member in members.values where member.id != id { connectPeer(member) }
        let timer = LoopTimer(loop: loop)
        timer.arm(milliseconds: configuration.tickMilliseconds, repeatMilliseconds: configuration.tickMilliseconds) {
            [unowned self] in self.tick()
        }
        tickTimer = timer
        logger.info("member \(configuration.name) (\(StoreMemberIdentity.format(id))) serving clients on \(configuration.clientAddress), peers on \(configuration.peerAddress)")
        scheduleReady()
    }

    /// Stops serving, finishes queued disk writes and releases the data folder.
    public func stop() async {
        await loop.submit {
            self.tickTimer?.cancel()
            self.tickTimer = nil
            self.clientServer?.close()
            self.peerServer?.close()
            for peer in self.peers.values { peer.client.close() }
            self.peers.removeAll()
        }
        disk.stop()
        loop.shutdown()
    }

    // MARK: The driver

    func tick() {
        ticks += 1
        node.tick()
        if role == .leader { revokeExpiredLeases() }
        if watchHub.unsyncedCount > 0 { watchHub.synchronize() }
        // Watchers that asked for progress notifications and heard nothing lately learn the
        // current revision (etcd sends these every 10 minutes; every 10 s here costs nothing).
        if ticks % max(1, 10_000 / configuration.tickMilliseconds) == 0 { watchHub.notifyIdleWatchers() }
        failStaleReads()
        scheduleReady()
    }

    /// Runs the driver once at the end of this loop turn, so that everything that arrived in the
    /// turn (proposals, messages, reads) goes into one Ready.
    func scheduleReady() {
        guard !readyScheduled else { return }
        readyScheduled = true
        loop.onTurnEnd { [unowned self] in
            self.readyScheduled = false
            self.processReady()
        }
    }

    func processReady() {
        while node.hasReady {
            let ready = node.ready()
            if let soft = ready.softState { roleChanged(soft) }
            sendToPeers(ready.messages)
            if let snapshot = ready.snapshot { installReceivedSnapshot(snapshot) }
            if ready.mustPersist || diskJobsInFlight > 0 {
                diskJobsInFlight += 1
                disk.enqueue(.persist(ready)) { [unowned self] in
                    self.diskJobsInFlight -= 1
                    self.node.advance(ready)
                    self.sendToPeers(ready.messagesAfterPersist)
                    self.scheduleReady()
                }
            } else {
                node.advance(ready)
                sendToPeers(ready.messagesAfterPersist)
            }
            if let newConfState = ready.confState { confState = newConfState }
            apply(ready.committedEntries)
            for readState in ready.readStates { readIndexAnswered(readState) }
        }
    }

    private func roleChanged(_ soft: SoftState) {
        let wasLeader = role == .leader
        role = soft.role
        if leaderID != soft.leaderID {
            leaderID = soft.leaderID
            let leaderName = members[leaderID]?.name ?? (leaderID == 0 ? "none" : StoreMemberIdentity.format(leaderID))
            logger.info("leader is now \(leaderName) (term \(node.term))")
        }
        if role == .leader && !wasLeader {
            leases.promote(leases: store.leaseTTLs, nowNanoseconds: monotonicNanoseconds())
        } else if role != .leader && wasLeader {
            leases.demote()
        }
    }

    // MARK: Applying

    func apply(_ entries: [Entry]) {
        guard let last = entries.last else { return }
        for entry in entries {
            switch entry.type {
            case .normal:
                applyCommand(entry)
            case .confChange:
                applyConfChange(entry)
            }
        }
        appliedIndex = last.index
        appliedTerm = last.term
        watchHub.publish()
        serveReadsUpTo(appliedIndex)
        maybeSnapshot()
    }

    private func applyCommand(_ entry: Entry) {
        let expectedRequest = proposalAtIndex.removeValue(forKey: entry.index)
        guard !entry.data.isEmpty else {
            store.markApplied(index: entry.index)
            failLostProposal(expectedRequest, index: entry.index)
            return
        }
        let command: Command
        do {
            command = try Command(protobuf: entry.data)
        } catch {
            // Every member sees the same bytes: skipping keeps members identical, and the log
            // line names the entry for an investigation.
            logger.error("entry \(entry.index) is not a store command (\(error)); skipped")
            store.markApplied(index: entry.index)
            failLostProposal(expectedRequest, index: entry.index)
            return
        }
        let result: Result<CommandResponse, WireError>
        do {
            var response = try store.apply(command, index: entry.index)
            response.requestID = command.requestID
            trackLeases(command, response)
            result = .success(response)
        } catch {
            result = .failure(Self.wireError(error))
        }
        if let expectedRequest, expectedRequest != command.requestID {
            failLostProposal(expectedRequest, index: entry.index)
        }
        if let waiter = proposals[command.requestID], waiter.index == entry.index {
            proposals[command.requestID] = nil
            waiter.completion(result.map { self.stamped($0) })
        }
    }

    private func failLostProposal(_ requestID: UInt64?, index: UInt64) {
        guard let requestID, let waiter = proposals.removeValue(forKey: requestID) else { return }
        waiter.completion(.failure(WireError(
            .unavailable, "the leader changed before the write at index \(index) committed; it was not applied, retry it")))
    }

    private func trackLeases(_ command: Command, _ response: CommandResponse) {
        let now = monotonicNanoseconds()
        if let grant = response.leaseGrant {
            leases.grant(id: grant.id, ttlSeconds: grant.ttl, nowNanoseconds: now)
        }
        if let revoke = command.leaseRevoke {
            leases.revoke(id: revoke.id)
        }
    }

    private func applyConfChange(_ entry: Entry) {
        store.markApplied(index: entry.index)
        defer {
            if let waiter = confChangeWaiters.removeValue(forKey: entry.index) { waiter(.success(())) }
        }
        guard let change = try? ConfChange(protobuf: entry.data) else {
            logger.error("entry \(entry.index) is not a membership change; skipped")
            return
        }
        let described = (try? Member(protobuf: change.context)).flatMap { $0.name.isEmpty ? nil : $0 }
        switch change.type {
        case .addNode, .addLearner:
            var member = members[change.nodeID] ?? described
                ?? Member(id: change.nodeID, name: StoreMemberIdentity.format(change.nodeID))
            member.id = change.nodeID
            member.isLearner = change.type == .addLearner
            members[change.nodeID] = member
            if change.nodeID != id && peers[change.nodeID] == nil { connectPeer(member) }
            logger.info("membership: added \(member.name)\(member.isLearner ? " as a learner" : "")")
        case .promote:
            members[change.nodeID]?.isLearner = false
            logger.info("membership: promoted \(members[change.nodeID]?.name ?? "?") to voter")
        case .removeNode:
            let removed = members.removeValue(forKey: change.nodeID)
            if let link = peers.removeValue(forKey: change.nodeID) { link.client.close() }
            logger.info("membership: removed \(removed?.name ?? StoreMemberIdentity.format(change.nodeID))")
            if change.nodeID == id {
                logger.notice("this member was removed from the cluster; it keeps running but takes no part")
            }
        }
    }

    /// Fills the header fields the state machine does not know.
    func stamped(_ response: CommandResponse) -> CommandResponse {
        var response = response
        if response.put != nil { response.put!.header = header(response.put!.header) }
        if response.deleteRange != nil { response.deleteRange!.header = header(response.deleteRange!.header) }
        if response.txn != nil { response.txn!.header = header(response.txn!.header) }
        if response.compaction != nil { response.compaction!.header = header(response.compaction!.header) }
        if response.leaseGrant != nil { response.leaseGrant!.header = header(response.leaseGrant!.header) }
        if response.leaseRevoke != nil { response.leaseRevoke!.header = header(response.leaseRevoke!.header) }
        return response
    }

    func header(_ existing: ResponseHeader? = nil) -> ResponseHeader {
        ResponseHeader(
            clusterID: clusterID, memberID: id, revision: existing?.revision ?? store.revision, raftTerm: node.term)
    }

    // MARK: Snapshots

    private func installReceivedSnapshot(_ snapshot: Snapshot) {
        do {
            let state = try Self.decodeSnapshot(snapshot.data, dataDirectory: configuration.dataDirectory)
            store = state.store
            adoptMembers(state.members)
        } catch {
            logger.critical("the leader sent a snapshot this member cannot load: \(error)")
            exit(70)
        }
        // Watchers followed the old state; they must start again from the new one.
        watchHub.cancelAll(reason: "this member installed a snapshot from the leader; watch again from the current revision")
        watchHub = WatchHub(store: store)
        sharedWatchEncodings.reset()
        appliedIndex = snapshot.metadata?.index ?? appliedIndex
        appliedTerm = snapshot.metadata?.term ?? appliedTerm
        lastSnapshotIndex = appliedIndex
        if let state = snapshot.metadata?.confState { confState = state }
        logger.info("installed a snapshot from the leader at index \(appliedIndex)")
    }

    static func snapshotData(members: [Member], image: StoreImage) -> [UInt8] {
        MemberStateSnapshot(members: members, store: image.snapshot().protobufBytes()).protobufBytes()
    }

    /// A local compaction every `snapshotEntries` applied entries. The loop only takes an image
    /// of the state (O(1): the records are shared copy-on-write); a thread of its own builds,
    /// encodes, checksums and writes the snapshot file (a 100,000-record snapshot took the loop
    /// about 0.1 s, and the disk writer's group commit 0.15 s more while it wrote the file), then
    /// the disk writer records it in the log and the in-memory log is compacted.
    private func maybeSnapshot() {
        guard !snapshotInProgress, appliedIndex >= lastSnapshotIndex + configuration.snapshotEntries,
            node.canCompact(upTo: appliedIndex)
        else { return }
        snapshotInProgress = true
        let metadata = SnapshotMetadata(confState: confState, index: appliedIndex, term: appliedTerm)
        let members = members.values.sorted { $0.id < $1.id }
        let image = store.image()
        let directory = RaftStorage.snapshotDirectory(of: configuration.dataDirectory)
        let (loop, logger, disk) = (loop, logger, disk)
        Self.snapshotQueue.async {
            let data = Self.snapshotData(members: members, image: image)
            do {
                try RaftStorage.snapshotFile(metadata, data: data).write(to: directory)
            } catch {
                // As a failed log write: the member cannot keep its promises about the disk.
                logger.critical("cannot write the snapshot at index \(metadata.index), stopping this member: \(error)")
                exit(70)
            }
            loop.execute {
                disk.enqueue(.recordSnapshot(metadata)) { [weak self] in
                    guard let self else { return }
                    self.snapshotInProgress = false
                    self.lastSnapshotIndex = metadata.index
                    if self.node.canCompact(upTo: metadata.index) {
                        self.node.compact(upTo: metadata.index, snapshotData: data)
                    }
                    self.logger.info("snapshot at index \(metadata.index) saved; log compacted")
                }
            }
        }
    }

    /// Where snapshot files are built and written, away from the loop and the disk writer.
    static let snapshotQueue = DispatchQueue(label: "skiff.store.snapshot-writer", qos: .utility)

    // MARK: Proposals

    /// Proposes a write; `completion` runs on the loop with the applied result. On a follower
    /// the write is forwarded to the leader over the peer connection.
    func propose(_ command: Command, completion: @escaping (Result<CommandResponse, WireError>) -> Void) {
        if role == .leader {
            proposeLocally(command, completion: completion)
        } else if leaderID != 0, let link = peers[leaderID] {
            link.client.start("peer.Propose", command.protobufBytes(), timeoutMilliseconds: configuration.requestTimeoutMilliseconds) {
                result in
                completion(result.flatMap { bytes in
                    do {
                        return .success(try CommandResponse(protobuf: bytes))
                    } catch {
                        return .failure(WireError(.internal, "the leader's answer is not a CommandResponse: \(error)"))
                    }
                })
            }
        } else {
            completion(.failure(Self.noLeader))
        }
    }

    private func proposeLocally(_ command: Command, completion: @escaping (Result<CommandResponse, WireError>) -> Void) {
        var command = command
        let requestID = nextRequestID
        nextRequestID += 1
        command.requestID = requestID
        do {
            let proposed = try node.propose(command.protobufBytes())
            proposals[requestID] = ProposalWaiter(index: proposed.indexes.upperBound, term: proposed.term, completion: completion)
            proposalAtIndex[proposed.indexes.upperBound] = requestID
            scheduleReady()
        } catch {
            completion(.failure(Self.wireError(error)))
        }
    }

    /// Proposes a membership change; completes once it is applied.
    func proposeConfChange(_ change: ConfChange, completion: @escaping (Result<Void, WireError>) -> Void) {
        guard role == .leader else {
            completion(.failure(notLeaderError()))
            return
        }
        do {
            let proposed = try node.proposeConfChange(change)
            confChangeWaiters[proposed.indexes.upperBound] = completion
            scheduleReady()
        } catch {
            completion(.failure(Self.wireError(error)))
        }
    }

    static let noLeader = WireError(.unavailable, "no leader yet (an election is in progress); retry shortly")

    func notLeaderError() -> WireError {
        if let leader = members[leaderID], !leader.clientAddress.isEmpty {
            return WireError(.unavailable, "this member is not the leader; the leader is \(leader.name) at \(leader.clientAddress)")
        }
        return Self.noLeader
    }

    // MARK: Linearizable reads (ReadIndex, thesis §6.4)

    /// Runs `completion` once this member's state is at least as new as every write acknowledged
    /// before the call. Reads of one loop turn share one ReadIndex round.
    func linearizableRead(_ completion: @escaping (Result<Void, WireError>) -> Void) {
        readBatch.append(completion)
        guard !readBatchScheduled else { return }
        readBatchScheduled = true
        loop.onTurnEnd { [unowned self] in
            self.readBatchScheduled = false
            self.issueReadIndex()
        }
    }

    private func issueReadIndex() {
        let waiters = readBatch
        readBatch.removeAll(keepingCapacity: true)
        guard !waiters.isEmpty else { return }
        let context = nextReadContext
        nextReadContext += 1
        do {
            try node.readIndex(context: Self.bytes(context))
        } catch {
            let failure = WireError(.unavailable, error == .noLeader ? Self.noLeader.message : "too many reads in flight; retry")
            for waiter in waiters { waiter(.failure(failure)) }
            return
        }
        readsAwaitingIndex[context] = ReadBatch(issuedAtTick: ticks, waiters: waiters)
        processReady()
    }

    private func readIndexAnswered(_ state: ReadState) {
        guard let batch = readsAwaitingIndex.removeValue(forKey: Self.number(state.context)) else { return }
        if state.index <= appliedIndex {
            for waiter in batch.waiters { waiter(.success(())) }
        } else {
            readsAwaitingApply.append((state.index, batch))
        }
    }

    private func serveReadsUpTo(_ index: UInt64) {
        guard !readsAwaitingApply.isEmpty else { return }
        var kept: [(index: UInt64, batch: ReadBatch)] = []
        for pending in readsAwaitingApply {
            if pending.index <= index {
                for waiter in pending.batch.waiters { waiter(.success(())) }
            } else {
                kept.append(pending)
            }
        }
        readsAwaitingApply = kept
    }

    /// Reads whose ReadIndex round got no answer (leadership lost meanwhile) fail after the
    /// request timeout instead of waiting forever.
    private func failStaleReads() {
        let limitTicks = UInt64(configuration.requestTimeoutMilliseconds) / configuration.tickMilliseconds
        for (context, batch) in readsAwaitingIndex where ticks - batch.issuedAtTick > limitTicks {
            readsAwaitingIndex[context] = nil
            for waiter in batch.waiters {
                waiter(.failure(WireError(.unavailable, "no answer to the read barrier within \(configuration.requestTimeoutMilliseconds) ms (leader lost?); retry")))
            }
        }
    }

    static func bytes(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    static func number(_ bytes: [UInt8]) -> UInt64 {
        var value: UInt64 = 0
        for (position, byte) in bytes.prefix(8).enumerated() { value |= UInt64(byte) << (8 * position) }
        return value
    }

    // MARK: Leases

    private func revokeExpiredLeases() {
        for leaseID in leases.expiredLeases(nowNanoseconds: monotonicNanoseconds(), limit: 1000) {
            var command = Command()
            command.leaseRevoke = LeaseRevokeRequest(id: leaseID)
            proposeLocally(command) { [logger] result in
                if case .failure(let error) = result, error.code != .notFound {
                    logger.warning("revoking expired lease \(leaseID) failed: \(error.message)")
                }
            }
        }
    }

    // MARK: Errors

    static func wireError(_ error: any Error) -> WireError {
        if let error = error as? WireError { return error }
        if let error = error as? StoreError { return error.wireError }
        if let error = error as? ProposalError {
            switch error {
            case .notLeader: return noLeader
            case .leadershipTransferInProgress:
                return WireError(.unavailable, "leadership is being transferred; retry shortly")
            case .tooManyUncommittedBytes:
                return WireError(.resourceExhausted, "too many writes waiting to commit; slow down and retry")
            case .configurationChangePending:
                return WireError(.failedPrecondition, "another membership change is still in progress (one at a time); retry when it is done")
            case .invalidConfigurationChange(let reason):
                return WireError(.invalidArgument, "invalid membership change: \(reason)")
            }
        }
        return WireError(.internal, "\(error)")
    }
}
