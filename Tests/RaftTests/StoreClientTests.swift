import Glibc
import Testing
import Wire
@testable import Raft

/// The store client's pure logic: key intervals, endpoint lists, the txn script syntax, the
/// failover order, error messages, and snapshot restore. No store member is needed.
@Suite("Store client")
struct StoreClientTests {
    // MARK: Prefix rule (etcd's)

    @Test("prefix range end increments the last byte")
    func prefixRangeEndIncrements() {
        #expect(StoreKeys.prefixRangeEnd(Array("/registry/pods/".utf8)) == Array("/registry/pods0".utf8))
        #expect(StoreKeys.prefixRangeEnd([0x61]) == [0x62])
        #expect(StoreKeys.prefixRangeEnd([0x00]) == [0x01])
    }

    @Test("trailing 0xff bytes are dropped before incrementing; all-0xff means every key")
    func prefixRangeEndHandles0xff() {
        #expect(StoreKeys.prefixRangeEnd([0x61, 0xff]) == [0x62])
        #expect(StoreKeys.prefixRangeEnd([0x61, 0xfe, 0xff, 0xff]) == [0x61, 0xff])
        #expect(StoreKeys.prefixRangeEnd([0xff, 0xff]) == [0])
        #expect(StoreKeys.prefixRangeEnd([]) == [0])
    }

    @Test("an empty prefix names every key as key \\0, range end \\0")
    func emptyPrefixIsEveryKey() {
        let interval = StoreKeys.prefixInterval([])
        #expect(interval.key == [0])
        #expect(interval.rangeEnd == [0])
        let pods = StoreKeys.prefixInterval(Array("/a".utf8))
        #expect(pods.key == Array("/a".utf8))
        #expect(pods.rangeEnd == Array("/b".utf8))
    }

    @Test("the prefix interval holds exactly the keys with the prefix")
    func prefixIntervalMatchesPrefixes() {
        let prefixes: [[UInt8]] = [[0x61], [0x61, 0xff], [0xff], [0x61, 0x00], [0x2f, 0x72]]
        let keys: [[UInt8]] = [[], [0x00], [0x61], [0x61, 0x00], [0x61, 0xff], [0x61, 0xff, 0x01], [0x62], [0xff], [0xff, 0xff], [0x2f, 0x72, 0x65]]
        for prefix in prefixes {
            let interval = StoreKeys.prefixInterval(prefix)
            let keyInterval = KeyInterval(key: interval.key, rangeEnd: interval.rangeEnd)
            for key in keys where !key.isEmpty {
                #expect(keyInterval.contains(key) == key.starts(with: prefix), "prefix \(prefix) key \(key)")
            }
        }
    }

    // MARK: Endpoints

    @Test("endpoint lists: commas, spaces, duplicates")
    func endpointListsParse() throws {
        let endpoints = try StoreKeys.parseEndpoints("127.0.0.1:2379, 127.0.0.1:2479 ,127.0.0.1:2379")
        #expect(endpoints == [SocketAddress(host: "127.0.0.1", port: 2379), SocketAddress(host: "127.0.0.1", port: 2479)])
    }

    @Test("bad endpoint lists name the flag, the entry and the expected form")
    func endpointListErrors() {
        for (text, fragment) in [
            ("127.0.0.1:2379,", "has an empty entry"),
            ("localhost", "missing \":port\""),
            ("127.0.0.1:99999", "not a number from 0 to 65535"),
            ("example.com:2379", "is not an IPv4 address"),
            ("127.0.0.1:0", "has port 0"),
        ] {
            do {
                _ = try StoreKeys.parseEndpoints(text, flag: "--endpoints")
                Issue.record("\(text) was accepted")
            } catch {
                #expect(error.kind == .invalidArgument)
                #expect(error.message.hasPrefix("--endpoints"), "\(error.message)")
                #expect(error.message.contains(fragment), "\(error.message)")
            }
        }
    }

    // MARK: Txn scripts

    @Test("a txn script with compares, success and failure operations")
    func txnScriptParses() throws {
        let script = """
            mod("/config") = "5"
            value("/owner") != "me"
            version("/v") < 3
            create("/c") > "0"
            lease("/l") = "10"

            put /config "new value"
            get /owner
            del /lock

            put /config fallback --lease=ab
            get /dir --prefix --limit=2
            del /dir/a /dir/z --prev-kv
            """
        let request = try TxnScript.parse(script)
        #expect(request.compare.count == 5)
        #expect(request.compare[0] == Compare(result: .equal, target: .mod, key: Array("/config".utf8), modRevision: 5))
        #expect(request.compare[1] == Compare(result: .notEqual, target: .value, key: Array("/owner".utf8), value: Array("me".utf8)))
        #expect(request.compare[2] == Compare(result: .less, target: .version, key: Array("/v".utf8), version: 3))
        #expect(request.compare[3] == Compare(result: .greater, target: .create, key: Array("/c".utf8), createRevision: 0))
        #expect(request.compare[4] == Compare(result: .equal, target: .lease, key: Array("/l".utf8), lease: 10))
        #expect(request.success.count == 3)
        #expect(request.success[0].requestPut == PutRequest(key: Array("/config".utf8), value: Array("new value".utf8)))
        #expect(request.success[1].requestRange == RangeRequest(key: Array("/owner".utf8)))
        #expect(request.success[2].requestDeleteRange == DeleteRangeRequest(key: Array("/lock".utf8)))
        #expect(request.failure.count == 3)
        #expect(request.failure[0].requestPut?.lease == 0xab)
        #expect(request.failure[1].requestRange == RangeRequest(key: Array("/dir".utf8), rangeEnd: Array("/dis".utf8), limit: 2))
        #expect(request.failure[2].requestDeleteRange == DeleteRangeRequest(key: Array("/dir/a".utf8), rangeEnd: Array("/dir/z".utf8), prevKv: true))
    }

    @Test("no compares, only success operations; trailing blank lines and CRLF are fine")
    func txnScriptWithoutCompares() throws {
        let request = try TxnScript.parse("\r\nput a 1\r\nput b 2\r\n\r\n\r\n")
        #expect(request.compare.isEmpty)
        #expect(request.success.count == 2)
        #expect(request.failure.isEmpty)
    }

    @Test("quoted strings take escapes, including bytes that are not UTF-8")
    func txnScriptEscapes() throws {
        let request = try TxnScript.parse("value(\"k\\\"q\") = \"a\\x00\\xff\\n\\\\\"\n\nput \"two words\" \"\"\n")
        #expect(request.compare[0].key == Array("k\"q".utf8))
        #expect(request.compare[0].value == [0x61, 0x00, 0xff, 0x0a, 0x5c])
        #expect(request.success[0].requestPut?.key == Array("two words".utf8))
        #expect(request.success[0].requestPut?.value == [])
    }

    @Test("txn script errors name the line and the fix")
    func txnScriptErrors() {
        for (script, fragment) in [
            ("modd(\"k\") = \"1\"\n", "line 1 (modd(\"k\") = \"1\"): unknown compare target \"modd\""),
            ("mod(\"k\") ~ \"1\"\n", "line 1 (mod(\"k\") ~ \"1\"): expected an operator"),
            ("mod(\"k\") = \"x\"\n", "is not an integer"),
            ("mod k = 1\n", "expected a compare like mod(\"key\") = \"5\""),
            ("value(\"k) = 1\n", "a quoted string is not closed"),
            ("\nput onlykey\n", "line 2 (put onlykey): put takes a key and a value"),
            ("\nfrob k\n", "unknown operation \"frob\""),
            ("\nget k --frob\n", "get does not take --frob"),
            ("\nput k v --lease=zz\n", "--lease=zz is not a lease id"),
            ("\nget k --limit=-1\n", "--limit=-1 is not a non-negative integer"),
            ("\n\n\nput k v\n", "line 4 (put k v): text after the failure operations"),
            ("value(\"k\") = \"\\q\"\n", "unknown escape \\q"),
            ("\nget k e --prefix\n", "either --prefix or a range end"),
        ] {
            do {
                _ = try TxnScript.parse(script)
                Issue.record("accepted: \(script)")
            } catch {
                #expect(error.kind == .invalidArgument)
                #expect(error.message.contains(fragment), "\(error.message)")
            }
        }
    }

    // MARK: Failover order

    @Test("every endpoint once per round, then a doubling pause up to the cap")
    func failoverCursorRounds() {
        var cursor = FailoverCursor(endpointCount: 3, start: 1)
        var visited: [Int] = [cursor.current]
        var pauses: [UInt64] = []
        for _ in 0..<12 {
            pauses.append(cursor.advance(initialDelayMilliseconds: 50, maximumDelayMilliseconds: 300))
            visited.append(cursor.current)
        }
        #expect(Array(visited.prefix(4)) == [1, 2, 0, 1])
        #expect(pauses == [0, 0, 50, 0, 0, 100, 0, 0, 200, 0, 0, 300])
    }

    @Test("a leader hint jumps to the named endpoint")
    func failoverCursorHint() {
        var cursor = FailoverCursor(endpointCount: 3, start: 0)
        _ = cursor.advance(hint: 2, initialDelayMilliseconds: 50, maximumDelayMilliseconds: 300)
        #expect(cursor.current == 2)
        _ = cursor.advance(hint: 7, initialDelayMilliseconds: 50, maximumDelayMilliseconds: 300)
        #expect(cursor.current == 0)
    }

    // MARK: Error messages

    @Test("failures on every endpoint fold into one message with a hint")
    func unavailableSummary() {
        let first = SocketAddress(host: "127.0.0.1", port: 2379)
        let second = SocketAddress(host: "127.0.0.1", port: 2479)
        let failures = [
            EndpointFailure(endpoint: first, error: WireError(.unavailable, "cannot connect to 127.0.0.1:2379: connection refused")),
            EndpointFailure(endpoint: second, error: WireError(.unavailable, "connection to 127.0.0.1:2479 lost: cannot connect to 127.0.0.1:2479: connection refused")),
        ]
        #expect(EndpointFailure.summary(failures, endpoints: [first, second])
            == "no store member answered at 127.0.0.1:2379, 127.0.0.1:2479: connection refused; is `agentctl store run` running, and do --endpoints (or SKIFF_STORE_ENDPOINTS) name its --listen address?")
        let mixed = [
            failures[0],
            EndpointFailure(endpoint: second, error: WireError(.unavailable, "no leader yet (an election is in progress); retry shortly")),
        ]
        #expect(EndpointFailure.summary(mixed, endpoints: [first, second])
            == "no store member answered at 127.0.0.1:2379: connection refused; 127.0.0.1:2479: no leader yet (an election is in progress); retry shortly; the cluster has no leader: are a majority of its members running? see `agentctl store status`")
    }

    @Test("a member relaying a lost leader connection is not an answer that the write was refused")
    func relayedTransportFailure() {
        #expect(UnaryRequest.isRelayedTransportFailure(WireError(.unavailable, "connection to 127.0.0.1:2380 lost: reset")))
        #expect(!UnaryRequest.isRelayedTransportFailure(WireError(.unavailable, "no leader yet (an election is in progress); retry shortly")))
        #expect(!UnaryRequest.isRelayedTransportFailure(WireError(.deadlineExceeded, "connection to x lost")))
    }

    @Test("leader hints are found in not-leader answers when the leader is one of our endpoints")
    func leaderHints() async {
        let endpoints = [SocketAddress(host: "127.0.0.1", port: 2379), SocketAddress(host: "127.0.0.1", port: 2479)]
        let client = StoreClient(endpoints: endpoints, credential: "t", identity: "test")
        #expect(client.leaderHint("this member is not the leader; the leader is m2 at 127.0.0.1:2479") == 1)
        #expect(client.leaderHint("this member is not the leader; the leader is m3 at 127.0.0.1:2579") == nil)
        #expect(client.leaderHint("no leader yet (an election is in progress); retry shortly") == nil)
        await client.close()
    }

    @Test("no member listening (real kernel): the error names every endpoint and the fix")
    func connectionRefusedRealKernel() async throws {
        let endpoints = [try Self.unusedPort(), try Self.unusedPort()]
        var options = StoreClient.Options()
        options.requestTimeoutMilliseconds = 2000
        let client = StoreClient(endpoints: endpoints, credential: "t", identity: "test", options: options)
        do {
            _ = try await client.get(Array("/a".utf8))
            Issue.record("a read without any member succeeded")
        } catch {
            #expect(error.kind == .unavailable)
            #expect(error.message == "no store member answered at \(endpoints[0]), \(endpoints[1]): connection refused; is `agentctl store run` running, and do --endpoints (or SKIFF_STORE_ENDPOINTS) name its --listen address?")
        }
        do {
            _ = try await client.put(Array("/a".utf8), Array("1".utf8))
            Issue.record("a write without any member succeeded")
        } catch {
            #expect(error.kind == .unavailable, "a refused connection proves the write was not sent: \(error.message)")
        }
        await client.close()
    }

    @Test("bad arguments are refused before anything is sent")
    func clientSideValidation() async {
        let client = StoreClient(endpoints: [SocketAddress(host: "127.0.0.1", port: 1)], credential: "t", identity: "test")
        await #expect(throws: StoreClientError.self) { _ = try await client.put([], [1]) }
        await #expect(throws: StoreClientError.self) { _ = try await client.deletePrefix([]) }
        await #expect(throws: StoreClientError.self) { _ = try await client.compact(0) }
        await #expect(throws: StoreClientError.self) { _ = try await client.leaseGrant(ttlSeconds: 0) }
        await #expect(throws: StoreClientError.self) { _ = try await client.status(SocketAddress(host: "127.0.0.1", port: 2)) }
        await client.close()
    }

    // MARK: Text

    @Test("keys print as text when they are, quoted with escapes otherwise")
    func displayText() {
        #expect(StoreText.display(Array("/registry/pods/default/web".utf8)) == "/registry/pods/default/web")
        #expect(StoreText.display(Array("héllo".utf8)) == "héllo")
        #expect(StoreText.display([0x61, 0xff]) == "\"a\\xff\"")
        #expect(StoreText.display([0x61, 0x0a]) == "\"a\\x0a\"")
        #expect(StoreText.display(Array("a\"b".utf8) + [0x00]) == "\"a\\\"b\\x00\"")
    }

    @Test("member ids: FNV-1a 64 over the name, never 0")
    func memberIdentity() {
        #expect(StoreMemberIdentity.id(name: "") == 0xcbf2_9ce4_8422_2325)
        #expect(StoreMemberIdentity.id(name: "a") == 0xaf63_dc4c_8601_ec8c)
        #expect(StoreMemberIdentity.id(name: "m1") != StoreMemberIdentity.id(name: "m2"))
        #expect(StoreMemberIdentity.format(0xab) == "00000000000000ab")
    }

    // MARK: Snapshot restore

    @Test("restore builds a data folder whose snapshot sits where a bootstrap leaves a new cluster")
    func snapshotRestore() throws {
        let folder = try Self.temporaryFolder()
        defer { Self.remove(folder) }
        let store = MVCCStore()
        _ = try store.apply(Command(put: PutRequest(key: Array("/a".utf8), value: Array("1".utf8))), index: 1)
        _ = try store.apply(Command(put: PutRequest(key: Array("/b".utf8), value: Array("2".utf8))), index: 2)
        _ = try store.apply(Command(deleteRange: DeleteRangeRequest(key: Array("/a".utf8))), index: 3)
        let snapshotPath = folder + "/snap.db"
        try Self.write(store.snapshotBytes(), to: snapshotPath)
        let cluster = [
            (name: "m1", peerAddress: SocketAddress(host: "127.0.0.1", port: 2380)),
            (name: "m2", peerAddress: SocketAddress(host: "127.0.0.1", port: 2480)),
            (name: "m3", peerAddress: SocketAddress(host: "127.0.0.1", port: 2580)),
        ]
        let result = try StoreSnapshotRestore.restore(
            snapshotPath: snapshotPath, dataDirectory: folder + "/m2", name: "m2", initialCluster: cluster)
        #expect(result.raftIndex == 3)
        #expect(result.revision == store.revision)
        #expect(result.keyCount == 1)
        #expect(result.memberID == StoreMemberIdentity.id(name: "m2"))

        let (_, recovered) = try RaftStorage.open(dataDirectory: folder + "/m2")
        let snapshot = try #require(recovered.snapshot)
        #expect(snapshot.metadata == SnapshotMetadata(
            confState: ConfState(voters: cluster.map { StoreMemberIdentity.id(name: $0.name) }.sorted()), index: 3, term: 1))
        #expect(recovered.hardState == HardState(term: 1, vote: 0, commit: 3))
        #expect(recovered.entries.isEmpty)
        let restored = try MVCCStore(snapshotBytes: snapshot.data)
        #expect(restored.revision == store.revision)
        #expect(restored.consistentIndex == 3)
        #expect(try restored.range(RangeRequest(key: [0], rangeEnd: [0])).kvs.map(\.key) == [Array("/b".utf8)])
    }

    @Test("restore refuses a used folder, a damaged file and a name outside the cluster")
    func snapshotRestoreRefusals() throws {
        let folder = try Self.temporaryFolder()
        defer { Self.remove(folder) }
        let store = MVCCStore()
        _ = try store.apply(Command(put: PutRequest(key: Array("/a".utf8), value: Array("1".utf8))), index: 1)
        try Self.write(store.snapshotBytes(), to: folder + "/snap.db")
        try Self.write([0x0a, 0xff, 0x01], to: folder + "/garbage.db")
        let cluster = [(name: "m1", peerAddress: SocketAddress(host: "127.0.0.1", port: 2380))]
        #expect(mkdir(folder + "/used", 0o755) == 0)
        try Self.write([1], to: folder + "/used/file")
        for (snapshot, directory, name, fragment) in [
            ("snap.db", "used", "m1", "already exists and is not empty"),
            ("garbage.db", "new1", "m1", "is not a valid store snapshot"),
            ("missing.db", "new2", "m1", "cannot read the snapshot file"),
            ("snap.db", "new3", "m9", "does not list --name m9"),
        ] {
            do {
                _ = try StoreSnapshotRestore.restore(
                    snapshotPath: folder + "/" + snapshot, dataDirectory: folder + "/" + directory, name: name, initialCluster: cluster)
                Issue.record("restore accepted \(snapshot) into \(directory) for \(name)")
            } catch {
                #expect(error.message.contains(fragment), "\(error.message)")
            }
        }
    }

    // MARK: Helpers

    static func unusedPort() throws -> SocketAddress {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return SocketAddress(host: "127.0.0.1", port: UInt16(bigEndian: address.sin_port))
    }

    static func temporaryFolder() throws -> String {
        var template = Array("/tmp/skiff-store-client.XXXXXX".utf8CString)
        let made = try #require(mkdtemp(&template))
        return String(cString: made)
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        try #require(written == bytes.count)
    }

    static func remove(_ folder: String) {
        _ = system("rm -rf '\(folder)'")
    }
}
