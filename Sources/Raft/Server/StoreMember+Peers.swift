import Logging
import Wire

/// PeerLink is this member's connection to one other member, with the Raft messages waiting for
/// the end of the loop turn: every message of a turn for that member leaves in one call.
final class PeerLink {
    let member: Member
    let client: WireClient
    var outbox: [Message] = []
    var outboxBytes = 0
    var flushScheduled = false
    /// Bound on the messages held for a member that is not connected; Raft resends what is lost.
    static let maximumOutboxBytes = 64 << 20

    init(member: Member, client: WireClient) {
        self.member = member
        self.client = client
    }
}

extension StoreMember {
    func connectPeer(_ member: Member) {
        guard let address = try? SocketAddress(parsing: member.peerAddress) else {
            logger.error("member \(member.name) has an unusable peer address \"\(member.peerAddress)\"; not connecting")
            return
        }
        var clientConfiguration = ClientConfiguration(
            component: "store-peer", identity: configuration.name, credential: configuration.token)
        // Raft recovers lost messages itself: do not queue them while a peer is down.
        clientConfiguration.waitForReady = false
        clientConfiguration.keepaliveIntervalMilliseconds = 1000
        clientConfiguration.reconnectMaximumDelayMilliseconds = 1000
        clientConfiguration.limits.maximumFrameBytes = 64 << 20
        clientConfiguration.limits.maximumOutboundBytes = 256 << 20
        let client = WireClient(loop: loop, address: address, configuration: clientConfiguration, logger: logger)
        let link = PeerLink(member: member, client: client)
        peers[member.id] = link
        client.onStateChange = { [unowned self, unowned client] state in
            if state == .ready { self.sayHello(to: member.id, client: client) }
        }
        client.connect()
    }

    /// Tells a peer who this member is and learns its client address, for member lists.
    private func sayHello(to memberID: UInt64, client: WireClient) {
        let me = members[id] ?? Member(id: id, name: configuration.name)
        client.start("peer.Hello", me.protobufBytes(), timeoutMilliseconds: 5000) { [unowned self] result in
            guard case .success(let bytes) = result, let them = try? Member(protobuf: bytes) else { return }
            if !them.clientAddress.isEmpty { self.members[memberID]?.clientAddress = them.clientAddress }
        }
    }

    func sendToPeers(_ messages: [Message]) {
        for message in messages {
            guard let link = peers[message.to] else { continue }
            if link.outboxBytes > PeerLink.maximumOutboxBytes { continue }
            link.outbox.append(message)
            link.outboxBytes += message.entries.reduce(64) { $0 + $1.data.count }
                + (message.snapshotChunk?.data.count ?? 0)
            if !link.flushScheduled {
                link.flushScheduled = true
                loop.onTurnEnd { [unowned self] in self.flushPeer(link) }
            }
        }
    }

    private func flushPeer(_ link: PeerLink) {
        link.flushScheduled = false
        guard !link.outbox.isEmpty else { return }
        let batch = MessageBatch(messages: link.outbox)
        link.outbox.removeAll(keepingCapacity: true)
        link.outboxBytes = 0
        guard link.client.state == .ready else { return }
        link.client.start("peer.Messages", batch.protobufBytes(), timeoutMilliseconds: 10_000) { _ in }
    }

    // MARK: The peer server

    func registerPeerMethods(_ router: MethodRouter) {
        router.register("peer.Messages") { [unowned self] call in
            guard let batch = call.decode(MessageBatch.self) else { return }
            for message in batch.messages { self.node.step(message) }
            call.respond(MessageBatchAck())
            self.scheduleReady()
        }
        router.register("peer.Propose") { [unowned self] call in
            guard let command = call.decode(Command.self) else { return }
            guard self.role == .leader else {
                call.fail(self.notLeaderError())
                return
            }
            self.propose(command) { result in
                switch result {
                case .success(let response): call.respond(response)
                case .failure(let error): call.fail(error)
                }
            }
        }
        router.register("peer.Hello") { [unowned self] call in
            guard let them = call.decode(Member.self) else { return }
            if !them.clientAddress.isEmpty, self.members[them.id] != nil {
                self.members[them.id]?.clientAddress = them.clientAddress
            }
            call.respond(self.members[self.id] ?? Member(id: self.id, name: self.configuration.name))
        }
        router.register("peer.Lease") { [unowned self] call in
            guard let request = call.decode(PeerLeaseRequest.self) else { return }
            guard self.role == .leader else {
                call.fail(self.notLeaderError())
                return
            }
            if let keepAlive = request.keepAlive {
                self.answerKeepAlive(keepAlive, call)
            } else if let timeToLive = request.timeToLive {
                self.answerTimeToLive(timeToLive, call)
            } else {
                call.fail(WireError(.invalidArgument, "peer.Lease: set keep_alive or time_to_live"))
            }
        }
    }

    /// Forwards a lease request that only the leader can answer (its clock decides expiry).
    func forwardLease(_ request: PeerLeaseRequest, _ call: ServerCall) {
        guard leaderID != 0, let link = peers[leaderID] else {
            call.fail(Self.noLeader)
            return
        }
        link.client.start("peer.Lease", request.protobufBytes(), timeoutMilliseconds: configuration.requestTimeoutMilliseconds) {
            result in
            switch result {
            case .success(let bytes): call.respond(bytes)
            case .failure(let error): call.fail(error)
            }
        }
    }

    func answerKeepAlive(_ request: LeaseKeepAliveRequest, _ call: ServerCall) {
        guard let ttl = leases.renew(id: request.id, nowNanoseconds: monotonicNanoseconds()) else {
            call.fail(StoreError.leaseNotFound(leaseID: request.id).wireError)
            return
        }
        call.respond(LeaseKeepAliveResponse(header: header(), id: request.id, ttl: ttl))
    }

    func answerTimeToLive(_ request: LeaseTimeToLiveRequest, _ call: ServerCall) {
        guard let lease = store.lease(request.id),
            let remaining = leases.remainingSeconds(id: request.id, nowNanoseconds: monotonicNanoseconds())
        else {
            call.fail(StoreError.leaseNotFound(leaseID: request.id).wireError)
            return
        }
        var response = LeaseTimeToLiveResponse()
        response.header = header()
        response.id = request.id
        response.ttl = remaining
        response.grantedTtl = lease.ttlSeconds
        if request.keys { response.keys = lease.keys }
        call.respond(response)
    }
}

extension StoreError {
    /// The wire status for this error: the code tells a client whether retrying can help.
    var wireError: WireError {
        switch self {
        case .compacted: return WireError(.outOfRange, description)
        case .futureRevision: return WireError(.outOfRange, description)
        case .leaseNotFound, .keyNotFound: return WireError(.notFound, description)
        case .leaseExists, .watchIDInUse: return WireError(.alreadyExists, description)
        case .storeFull: return WireError(.resourceExhausted, description)
        case .corruptSnapshot: return WireError(.dataLoss, description)
        default: return WireError(.invalidArgument, description)
        }
    }
}
