import Bench
import Foundation
import Raft
import Testing
import Wire

/// Store members as real processes on loopback: faults, restarts, membership changes and disk
/// damage. These tests need the real kernel (processes, sockets, fsync) and the built
/// `agentctl` next to the test bundle (`swift build --build-tests` builds both).
@Suite("Store cluster over loopback (real processes)", .serialized)
struct StoreClusterTests {
    @Test("kill -9 of the leader under write load loses no acknowledged write")
    func killLeaderUnderLoad() async throws {
        let harness = try await ClusterHarness(members: 3)
        defer { harness.stop() }
        let acknowledged = AcknowledgedWrites()
        let writer = Task { try await harness.writeContinuously(prefix: "/load/", into: acknowledged) }
        try await Task.sleep(for: .milliseconds(700))
        let leader = try await harness.leaderName()
        harness.cluster.kill9(leader)
        try await Task.sleep(for: .milliseconds(1500))
        try harness.cluster.start(leader)
        try await Task.sleep(for: .milliseconds(1500))
        writer.cancel()
        _ = await writer.result
        let written = acknowledged.keys
        #expect(written.count > 50, "the load wrote too little to mean anything (\(written.count) writes)")
        // Every acknowledged write is on every member, the restarted one included.
        for member in harness.cluster.members {
            try await harness.eventuallyHas(written, on: member.clientAddress)
        }
    }

    @Test("members are added and removed while writes go on")
    func membershipUnderLoad() async throws {
        let harness = try await ClusterHarness(members: 3)
        defer { harness.stop() }
        let acknowledged = AcknowledgedWrites()
        let writer = Task { try await harness.writeContinuously(prefix: "/members/", into: acknowledged) }
        let added = try harness.cluster.addMemberRecord(name: "m4")
        let addResponse: MemberAddResponse = try await harness.callLeader(
            "store.MemberAdd", MemberAddRequest(name: "m4", peerAddress: added.peerAddress.description))
        #expect(addResponse.members.contains { $0.name == "m4" })
        try harness.cluster.start("m4", clusterState: "existing")
        try await harness.eventuallyHas(["/members/probe-1"], on: added.clientAddress, writeFirst: true)
        let removed = harness.cluster.members[0]
        let removeResponse: MemberRemoveResponse = try await harness.callLeader(
            "store.MemberRemove", MemberRemoveRequest(id: StoreMemberIdentity.id(name: removed.name)))
        #expect(!removeResponse.members.contains { $0.name == removed.name })
        harness.cluster.terminate(removed.name)
        harness.cluster.removeMemberRecord(name: removed.name)
        // Writes go on through both changes; stop once a few more than the changes took are in
        // (waiting for a count, not a time: the machine may be slow).
        let deadline = Date().addingTimeInterval(120)
        while acknowledged.keys.count <= 20 && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        writer.cancel()
        _ = await writer.result
        let written = acknowledged.keys
        #expect(written.count > 20)
        for member in harness.cluster.members {
            try await harness.eventuallyHas(written, on: member.clientAddress)
        }
        let list: MemberListResponse = try await harness.callLeader("store.MemberList", MemberListRequest())
        #expect(Set(list.members.map(\.name)) == Set(harness.cluster.members.map(\.name)))
    }

    @Test("a torn WAL tail is truncated on restart; acknowledged writes survive")
    func tornTail() async throws {
        let harness = try await ClusterHarness(members: 1)
        defer { harness.stop() }
        for index in 0..<50 { try await harness.put("/torn/\(index)", "value-\(index)") }
        let member = harness.cluster.members[0]
        harness.cluster.kill9(member.name)
        let segment = try ClusterHarness.lastSegment(member.dataDirectory)
        // Append half a record: what a crash in the middle of a write leaves behind.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: segment))
        let end = try ClusterHarness.lastNonZeroOffset(segment)
        try handle.seek(toOffset: UInt64(end))
        try handle.write(contentsOf: Data([0x40, 0, 0, 0, 0x02, 0xAA, 0xBB]))
        try handle.close()
        try harness.cluster.start(member.name)
        try await harness.waitForLeader()
        try await harness.eventuallyHas((0..<50).map { "/torn/\($0)" }, on: member.clientAddress)
        #expect(harness.cluster.logTail(member.name, lines: 200).contains("torn"))
    }

    @Test("a flipped byte inside the WAL is refused with the file and offset")
    func corruptSegment() async throws {
        let harness = try await ClusterHarness(members: 1)
        defer { harness.stop() }
        for index in 0..<50 { try await harness.put("/corrupt/\(index)", String(repeating: "v", count: 200)) }
        let member = harness.cluster.members[0]
        harness.cluster.terminate(member.name)
        let segment = try ClusterHarness.lastSegment(member.dataDirectory)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: segment)))
        let target = ClusterHarness.offsetOfValue(bytes, String(repeating: "v", count: 200), occurrence: 10)
        #expect(target != nil)
        bytes[target! + 7] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: segment))
        try harness.cluster.start(member.name)
        try await harness.eventuallyExits(member.name)
        let log = harness.cluster.logTail(member.name, lines: 50)
        #expect(log.contains(segment), "the error names the segment file: \(log)")
        #expect(log.lowercased().contains("offset"), "the error names the offset: \(log)")
    }

    @Test("a second member on the same data folder refuses to start")
    func dataFolderLock() async throws {
        let harness = try await ClusterHarness(members: 1)
        defer { harness.stop() }
        let member = harness.cluster.members[0]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: harness.cluster.agentctl)
        process.arguments = [
            "store", "run", "--name", member.name, "--data-dir", member.dataDirectory,
            "--listen", "127.0.0.1:\(try StoreCluster.freePort())", "--peer-listen", member.peerAddress.description,
            "--token-file", harness.cluster.workDirectory + "/token",
        ]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = errors
        try process.run()
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(output.contains("in use"), "message: \(output)")
        #expect(output.contains(member.dataDirectory))
        // The first member is unaffected.
        try await harness.put("/lock/still", "serving")
    }

    @Test("linearizable reads, watches from a past revision and leases work through any member")
    func clientSemantics() async throws {
        let harness = try await ClusterHarness(members: 3)
        defer { harness.stop() }
        let follower = try await harness.followerAddress()
        let put: PutResponse = try await harness.call(follower, "store.Put", PutRequest(key: Array("/sem/a".utf8), value: Array("1".utf8)))
        let revision = put.header!.revision
        let read: RangeResponse = try await harness.call(follower, "store.Range", RangeRequest(key: Array("/sem/a".utf8)))
        #expect(read.kvs.first?.value == Array("1".utf8))
        let grant: LeaseGrantResponse = try await harness.call(follower, "store.LeaseGrant", LeaseGrantRequest(ttl: 2))
        let _: PutResponse = try await harness.call(
            follower, "store.Put", PutRequest(key: Array("/sem/leased".utf8), value: [1], lease: grant.id))
        let alive: LeaseKeepAliveResponse = try await harness.call(follower, "store.LeaseKeepAlive", LeaseKeepAliveRequest(id: grant.id))
        #expect(alive.ttl == 2)
        // The lease expires on the leader's clock and its key goes away everywhere.
        try await harness.eventuallyMissing("/sem/leased", on: follower, seconds: 10)
        let events = try await harness.watchOnce(follower, key: "/sem/a", fromRevision: revision)
        #expect(events.first?.kv?.value == Array("1".utf8))
    }
}

/// AcknowledgedWrites collects the keys whose puts were acknowledged.
final class AcknowledgedWrites: @unchecked Sendable {
    private let lock = NSLock()
    private var written: [String] = []
    func add(_ key: String) { lock.withLock { written.append(key) } }
    var keys: [String] { lock.withLock { written } }
}

/// ClusterHarness wraps a StoreCluster with the calls the tests make.
final class ClusterHarness: @unchecked Sendable {
    let cluster: StoreCluster
    let loop = EventLoop(name: "test-client")
    private var clients: [SocketAddress: WireClient] = [:]
    private let lock = NSLock()

    init(members: Int) async throws {
        cluster = try StoreCluster(memberCount: members, agentctl: BuildProducts.directory.appendingPathComponent("agentctl").path)
        do {
            try cluster.start(extraArguments: ["--snapshot-entries", "200"])
            try await waitForLeader()
        } catch {
            stop()
            throw error
        }
    }

    func stop() {
        let all = lock.withLock { Array(clients.values) }
        for client in all { loop.execute { client.close() } }
        cluster.stop()
        loop.shutdown()
    }

    func client(_ address: SocketAddress) -> WireClient {
        lock.withLock {
            if let existing = clients[address] { return existing }
            var configuration = ClientConfiguration(component: "test", identity: "harness", credential: cluster.token)
            configuration.waitForReady = false
            configuration.reconnectMaximumDelayMilliseconds = 200
            let client = WireClient(loop: loop, address: address, configuration: configuration)
            clients[address] = client
            return client
        }
    }

    func call<Request: ProtoMessage, Response: ProtoMessage>(
        _ address: SocketAddress, _ method: String, _ request: Request
    ) async throws -> Response {
        try await client(address).call(method, request, as: Response.self, timeoutMilliseconds: 5000)
    }

    func status(_ address: SocketAddress) async throws -> StatusResponse {
        try await call(address, "store.Status", StatusRequest())
    }

    func waitForLeader(seconds: Double = 20) async throws {
        _ = try await leaderAddress(seconds: seconds)
    }

    func leaderAddress(seconds: Double = 20) async throws -> SocketAddress {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            for member in cluster.members where cluster.isRunning(member.name) {
                if let status = try? await status(member.clientAddress), status.leader != 0,
                    status.leader == status.header?.memberID
                {
                    return member.clientAddress
                }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestError("no leader within \(seconds) s; logs:\n" + cluster.members.map { cluster.logTail($0.name) }.joined(separator: "\n"))
    }

    func leaderName() async throws -> String {
        let address = try await leaderAddress()
        return cluster.members.first { $0.clientAddress == address }!.name
    }

    func followerAddress() async throws -> SocketAddress {
        let leader = try await leaderAddress()
        return cluster.members.first { $0.clientAddress != leader }!.clientAddress
    }

    func callLeader<Request: ProtoMessage, Response: ProtoMessage>(_ method: String, _ request: Request) async throws -> Response {
        var lastError: (any Error)?
        for _ in 0..<20 {
            do {
                return try await call(try await leaderAddress(), method, request)
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        throw lastError!
    }

    func put(_ key: String, _ value: String) async throws {
        let _: PutResponse = try await callLeader("store.Put", PutRequest(key: Array(key.utf8), value: Array(value.utf8)))
    }

    /// Writes keys prefix0, prefix1, ... through any member until cancelled, recording each
    /// acknowledged one. Failed writes (during the election) are not recorded.
    func writeContinuously(prefix: String, into acknowledged: AcknowledgedWrites) async throws {
        var index = 0
        while !Task.isCancelled {
            let key = prefix + String(index)
            let member = cluster.members[index % cluster.members.count]
            if cluster.isRunning(member.name) {
                let request = PutRequest(key: Array(key.utf8), value: Array("v\(index)".utf8))
                if (try? await client(member.clientAddress).call("store.Put", request, as: PutResponse.self, timeoutMilliseconds: 2000)) != nil {
                    acknowledged.add(key)
                }
            }
            index += 1
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Waits until the member at `address` serves every key (serializable reads: its own state).
    func eventuallyHas(_ keys: [String], on address: SocketAddress, writeFirst: Bool = false, seconds: Double = 20) async throws {
        if writeFirst { for key in keys { try await put(key, "x") } }
        let deadline = Date().addingTimeInterval(seconds)
        var missing = keys
        while Date() < deadline {
            var stillMissing: [String] = []
            for key in missing {
                let response: RangeResponse? = try? await call(address, "store.Range", RangeRequest(key: Array(key.utf8), serializable: true))
                if response?.kvs.isEmpty != false { stillMissing.append(key) }
            }
            missing = stillMissing
            if missing.isEmpty { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestError("\(missing.count) acknowledged keys missing on \(address), e.g. \(missing.prefix(5))")
    }

    func eventuallyMissing(_ key: String, on address: SocketAddress, seconds: Double) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let response: RangeResponse = try await call(address, "store.Range", RangeRequest(key: Array(key.utf8)))
            if response.kvs.isEmpty { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestError("\(key) still present after \(seconds) s")
    }

    func eventuallyExits(_ name: String, seconds: Double = 10) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if !cluster.isRunning(name) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestError("\(name) is still running; it should have refused to start")
    }

    /// Opens a watch from `fromRevision` and returns the first events it delivers.
    func watchOnce(_ address: SocketAddress, key: String, fromRevision: Int64) async throws -> [Event] {
        let client = client(address)
        let request = WatchCreateRequest(key: Array(key.utf8), startRevision: fromRevision).protobufBytes()
        let result: Result<[Event], WireError> = await withUnsafeContinuation { continuation in
            loop.execute {
                var done = false
                let token = CallToken()
                client.openStream("store.Watch", request, token: token) { event in
                    guard !done else { return }
                    switch event {
                    case .item(let bytes):
                        if let response = try? WatchResponse(protobuf: bytes), !response.events.isEmpty {
                            done = true
                            client.cancel(token)
                            continuation.resume(returning: .success(response.events))
                        }
                    case .end(let error):
                        done = true
                        continuation.resume(returning: .failure(error ?? WireError(.unknown, "watch ended without events")))
                    }
                }
            }
        }
        return try result.get()
    }

    static func lastSegment(_ dataDirectory: String) throws -> String {
        let folder = dataDirectory + "/wal"
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".wal") }.sorted()
        guard let last = names.last else { throw TestError("no WAL segment in \(folder)") }
        return folder + "/" + last
    }

    /// The offset just after the last non-zero byte (segments are zero-filled ahead of writes).
    static func lastNonZeroOffset(_ path: String) throws -> Int {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        return (bytes.lastIndex { $0 != 0 } ?? -1) + 1
    }

    static func offsetOfValue(_ bytes: [UInt8], _ value: String, occurrence: Int) -> Int? {
        let pattern = Array(value.utf8)
        var found = 0
        var index = 0
        while index + pattern.count <= bytes.count {
            if bytes[index] == pattern[0] && Array(bytes[index..<index + pattern.count]) == pattern {
                found += 1
                if found == occurrence { return index }
                index += pattern.count
            } else {
                index += 1
            }
        }
        return nil
    }
}

struct TestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
