import Dispatch
import Logging
import Wire

/// The client port: the methods listed in proto/store/cluster.proto.
extension StoreMember {
    public static let version = "0.1.0"

    func registerClientMethods(_ router: MethodRouter) {
        router.register("store.Range") { [unowned self] call in
            guard let request = call.decode(RangeRequest.self) else { return }
            if request.serializable {
                self.serveRange(request, call)
            } else {
                self.linearizableRead { [unowned self] result in
                    switch result {
                    case .success: self.serveRange(request, call)
                    case .failure(let error): call.fail(error)
                    }
                }
            }
        }
        router.register("store.Put") { [unowned self] call in
            guard let request = call.decode(PutRequest.self) else { return }
            self.proposeAndAnswer(Command(put: request), call) { $0.put }
        }
        router.register("store.DeleteRange") { [unowned self] call in
            guard let request = call.decode(DeleteRangeRequest.self) else { return }
            self.proposeAndAnswer(Command(deleteRange: request), call) { $0.deleteRange }
        }
        router.register("store.Txn") { [unowned self] call in
            guard let request = call.decode(TxnRequest.self) else { return }
            self.proposeAndAnswer(Command(txn: request), call) { $0.txn }
        }
        router.register("store.Compact") { [unowned self] call in
            guard let request = call.decode(CompactionRequest.self) else { return }
            self.proposeAndAnswer(Command(compaction: request), call) { $0.compaction }
        }
        router.register("store.Watch") { [unowned self] call in
            guard call.isStream else {
                call.fail(WireError(.invalidArgument, "store.Watch is a server stream; open it as a stream"))
                return
            }
            guard let request = call.decode(WatchCreateRequest.self) else { return }
            self.openWatch(request, call)
        }
        router.register("store.LeaseGrant") { [unowned self] call in
            guard var request = call.decode(LeaseGrantRequest.self) else { return }
            if request.id == 0 { request.id = Int64(bitPattern: self.random.next() >> 1) | 1 }
            self.proposeAndAnswer(Command(leaseGrant: request), call) { $0.leaseGrant }
        }
        router.register("store.LeaseRevoke") { [unowned self] call in
            guard let request = call.decode(LeaseRevokeRequest.self) else { return }
            self.proposeAndAnswer(Command(leaseRevoke: request), call) { $0.leaseRevoke }
        }
        router.register("store.LeaseKeepAlive") { [unowned self] call in
            guard let request = call.decode(LeaseKeepAliveRequest.self) else { return }
            if self.role == .leader {
                self.answerKeepAlive(request, call)
            } else {
                self.forwardLease(PeerLeaseRequest(keepAlive: request), call)
            }
        }
        router.register("store.LeaseTimeToLive") { [unowned self] call in
            guard let request = call.decode(LeaseTimeToLiveRequest.self) else { return }
            if self.role == .leader {
                self.answerTimeToLive(request, call)
            } else {
                self.forwardLease(PeerLeaseRequest(timeToLive: request), call)
            }
        }
        router.register("store.LeaseLeases") { [unowned self] call in
            guard call.decode(LeaseLeasesRequest.self) != nil else { return }
            let leases = self.store.leaseTTLs.map { LeaseStatus(id: $0.id) }
            call.respond(LeaseLeasesResponse(header: self.header(), leases: leases))
        }
        router.register("store.MemberList") { [unowned self] call in
            guard call.decode(MemberListRequest.self) != nil else { return }
            call.respond(MemberListResponse(header: self.header(), members: self.memberList()))
        }
        router.register("store.MemberAdd") { [unowned self] call in
            guard let request = call.decode(MemberAddRequest.self) else { return }
            self.addMember(request, call)
        }
        router.register("store.MemberRemove") { [unowned self] call in
            guard let request = call.decode(MemberRemoveRequest.self) else { return }
            guard self.members[request.id] != nil else {
                call.fail(WireError(.notFound, "member \(StoreMemberIdentity.format(request.id)) is not in the cluster; see `agentctl store member list`"))
                return
            }
            let change = ConfChange(type: .removeNode, nodeID: request.id)
            self.proposeConfChange(change) { [unowned self] result in
                switch result {
                case .success: call.respond(MemberRemoveResponse(header: self.header(), members: self.memberList()))
                case .failure(let error): call.fail(error)
                }
            }
        }
        router.register("store.MemberPromote") { [unowned self] call in
            guard let request = call.decode(MemberPromoteRequest.self) else { return }
            self.promoteMember(request, call)
        }
        router.register("store.Status") { [unowned self] call in
            guard call.decode(StatusRequest.self) != nil else { return }
            call.respond(self.status())
        }
        router.register("store.Snapshot") { [unowned self] call in
            guard call.isStream else {
                call.fail(WireError(.invalidArgument, "store.Snapshot is a server stream; open it as a stream"))
                return
            }
            self.streamSnapshot(call)
        }
    }

    private func serveRange(_ request: RangeRequest, _ call: ServerCall) {
        do {
            var response = try store.range(request)
            response.header = header(response.header)
            call.respond(response)
        } catch {
            call.fail(error.wireError)
        }
    }

    private func proposeAndAnswer<Response: ProtoMessage>(
        _ command: Command, _ call: ServerCall, _ pick: @escaping (CommandResponse) -> Response?
    ) {
        propose(command) { result in
            switch result {
            case .success(let response):
                if let answer = pick(response) {
                    call.respond(answer)
                } else {
                    call.fail(WireError(.internal, "\(call.method): the applied command produced no \(Response.self)"))
                }
            case .failure(let error):
                call.fail(error)
            }
        }
    }

    func memberList() -> [Member] {
        members.values.sorted { $0.name < $1.name }
    }

    private func addMember(_ request: MemberAddRequest, _ call: ServerCall) {
        guard !request.name.isEmpty else {
            call.fail(WireError(.invalidArgument, "member add: the name is empty; give the new member's --name"))
            return
        }
        guard (try? SocketAddress(parsing: request.peerAddress)) != nil else {
            call.fail(WireError(.invalidArgument, "member add: peer address \"\(request.peerAddress)\" is not host:port"))
            return
        }
        let newID = StoreMemberIdentity.id(name: request.name)
        if let existing = members[newID] {
            call.fail(WireError(.alreadyExists, "member add: a member named \(existing.name) is already in the cluster"))
            return
        }
        if let clash = members.values.first(where: { $0.peerAddress == request.peerAddress }) {
            call.fail(WireError(.alreadyExists, "member add: \(clash.name) already uses peer address \(request.peerAddress)"))
            return
        }
        let member = Member(id: newID, name: request.name, peerAddress: request.peerAddress, isLearner: request.isLearner)
        let change = ConfChange(
            type: request.isLearner ? .addLearner : .addNode, nodeID: newID, context: member.protobufBytes())
        proposeConfChange(change) { [unowned self] result in
            switch result {
            case .success:
                call.respond(MemberAddResponse(header: self.header(), member: member, members: self.memberList()))
            case .failure(let error):
                call.fail(error)
            }
        }
    }

    private func promoteMember(_ request: MemberPromoteRequest, _ call: ServerCall) {
        guard let member = members[request.id] else {
            call.fail(WireError(.notFound, "member promote: \(StoreMemberIdentity.format(request.id)) is not in the cluster"))
            return
        }
        guard member.isLearner else {
            call.fail(WireError(.failedPrecondition, "member promote: \(member.name) is already a voting member"))
            return
        }
        guard role == .leader else {
            call.fail(notLeaderError())
            return
        }
        // Like etcd: a learner far behind would stall commits the moment it can vote.
        let match = node.tracker.progress[request.id]?.match ?? 0
        let committed = node.log.committed
        guard match * 10 >= committed * 9 else {
            call.fail(WireError(
                .failedPrecondition,
                "member promote: \(member.name) has replicated up to index \(match) of \(committed); wait until it has caught up, then retry"))
            return
        }
        proposeConfChange(ConfChange(type: .promote, nodeID: request.id)) { [unowned self] result in
            switch result {
            case .success: call.respond(MemberPromoteResponse(header: self.header(), members: self.memberList()))
            case .failure(let error): call.fail(error)
            }
        }
    }

    func status() -> StatusResponse {
        var response = StatusResponse()
        response.header = header()
        response.version = Self.version
        response.name = configuration.name
        response.leader = leaderID
        response.raftTerm = node.term
        response.raftIndex = node.log.lastIndex
        response.raftAppliedIndex = appliedIndex
        response.raftCommitIndex = node.log.committed
        response.dataSizeBytes = DiskWriter.dataSizeBytes(directory: configuration.dataDirectory)
        response.keyCount = Int64(store.liveKeyCount)
        response.isLearner = members[id]?.isLearner ?? false
        if leaderID == 0 { response.errors.append("no leader") }
        if members[id] == nil { response.errors.append("this member is not part of the cluster's membership") }
        return response
    }

    // MARK: Watch

    private func openWatch(_ request: WatchCreateRequest, _ call: ServerCall) {
        let sink = StreamWatchSink(call: call, encodings: sharedWatchEncodings)
        let created: WatchResponse
        do {
            created = try watchHub.create(request, sink: sink)
        } catch {
            call.fail(error.wireError)
            return
        }
        var answer = created
        answer.header = header(created.header)
        call.send(answer)
        let watchID = created.watchID
        let hub = watchHub
        call.onCancel = { hub.cancel(watchID: watchID) }
        call.onWritable = { [unowned self] in
            // The client drained: let the watcher catch up from history now, not at the next tick.
            if self.watchHub.unsyncedCount > 0 { self.watchHub.synchronize() }
        }
        // A watch from the past catches up at once rather than at the next tick.
        if request.startRevision > 0 { watchHub.synchronize() }
    }

    // MARK: Snapshot

    /// Streams the state as of now. The loop only takes the O(1) image; the snapshot is encoded
    /// and checksummed on the snapshot queue (seconds for a large store, which the loop would
    /// otherwise spend not serving), then sent in chunks as the connection drains.
    private func streamSnapshot(_ call: ServerCall) {
        let image = store.image()
        let revision = store.revision
        let index = appliedIndex
        let loop = loop
        Self.snapshotQueue.async {
            let bytes = image.snapshot().protobufBytes()
            let crc = CRC32C.checksum(bytes)
            loop.execute { Self.sendSnapshot(bytes, crc: crc, revision: revision, index: index, on: call) }
        }
    }

    private static func sendSnapshot(_ bytes: [UInt8], crc: UInt32, revision: Int64, index: UInt64, on call: ServerCall) {
        let chunkBytes = 1 << 20
        var offset = 0
        func pump() {
            while offset < bytes.count || (offset == 0 && bytes.isEmpty) {
                let end = min(offset + chunkBytes, bytes.count)
                let last = end == bytes.count
                var chunk = StoreSnapshotChunk(offset: UInt64(offset), totalBytes: UInt64(bytes.count), data: Array(bytes[offset..<end]), last: last)
                if last {
                    chunk.crc32c = crc
                    chunk.revision = revision
                    chunk.raftIndex = index
                }
                offset = end
                let sent = call.send(chunk)
                if last {
                    call.finish()
                    return
                }
                if sent == .closed { return }
                if sent == .throttled { return }
            }
        }
        call.onWritable = { pump() }
        pump()
    }
}

/// StreamWatchSink writes one watcher's responses into its client stream. When the client's
/// connection is behind, the sink reports full and the watcher falls back to catching up from
/// history: the connection's buffer stays bounded and nothing is lost.
final class StreamWatchSink: WatchSink {
    let call: ServerCall
    let encodings: SharedWatchEncodings

    init(call: ServerCall, encodings: SharedWatchEncodings) {
        self.call = call
        self.encodings = encodings
    }

    func deliver(_ response: WatchResponse) -> WatchDelivery {
        guard call.isWritable else { return call.isFinished ? .accepted : .full }
        call.send(response)
        if response.canceled { call.finish(status: response.cancelReason) }
        return .accepted
    }

    func deliver(_ response: WatchResponse, sharedEventsKey: UInt64) -> WatchDelivery {
        guard call.isWritable else { return call.isFinished ? .accepted : .full }
        let shared = encodings.bytes(for: response, key: sharedEventsKey)
        var prefix: [UInt8] = [0x10]  // WatchResponse field 2 (watch_id), varint
        Frame.appendVarint(UInt64(bitPattern: response.watchID), to: &prefix)
        call.send(prefix: prefix, shared: shared)
        return .accepted
    }
}

/// SharedWatchEncodings encodes the header and events that many watchers receive alike once
/// per publish; each watcher's response is then its watch id followed by those bytes (protobuf
/// fields may come in any order, and the fields do not overlap).
final class SharedWatchEncodings {
    private var key: UInt64?
    private var encoded: [UInt8] = []

    /// Forgets the cached bytes; needed when the watch hub (and so its key sequence) is replaced.
    func reset() {
        key = nil
        encoded = []
    }

    func bytes(for response: WatchResponse, key newKey: UInt64) -> [UInt8] {
        if key != newKey {
            key = newKey
            encoded = WatchResponse(header: response.header, events: response.events).protobufBytes()
        }
        return encoded
    }
}
