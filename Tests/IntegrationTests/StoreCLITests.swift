import Bench
import Foundation
import Raft
import Testing
import Wire

/// `agentctl store` admin verbs against a real 3-member cluster of `agentctl store run`
/// processes on loopback (needs the real kernel and the built `agentctl` next to the tests).
/// Each check runs the CLI as a user would and compares its output.
@Suite("agentctl store verbs against real members", .serialized)
struct StoreCLITests {
    @Test("key-value verbs, watch, txn, leases and compaction")
    func keyValueVerbs() async throws {
        let cli = try await CLIHarness(members: 3)
        defer { cli.stop() }

        #expect(try cli.run(["put", "/registry/pods/default/web", "v1"]).stdout == "OK\n")
        #expect(try cli.run(["put", "/registry/pods/default/web", "v2", "--prev-kv"]).stdout == "OK\n/registry/pods/default/web\nv1\n")
        #expect(try cli.run(["put", "/registry/pods/default/db", "d1"]).stdout == "OK\n")
        #expect(try cli.run(["put", "/registry/pods/kube-system/dns", "n1"]).stdout == "OK\n")
        #expect(try cli.run(["get", "/registry/pods/default/web"]).stdout == "/registry/pods/default/web\nv2\n")
        #expect(try cli.run(["get", "/registry/pods/default/", "--prefix"]).stdout
            == "/registry/pods/default/db\nd1\n/registry/pods/default/web\nv2\n")
        #expect(try cli.run(["get", "/registry/pods/", "--prefix", "--keys-only"]).stdout
            == "/registry/pods/default/db\n/registry/pods/default/web\n/registry/pods/kube-system/dns\n")
        #expect(try cli.run(["get", "/registry/pods/", "--prefix", "--count-only"]).stdout == "3\n")
        #expect(try cli.run(["get", "/registry/pods/default/web", "--print-value-only"]).stdout == "v2\n")
        #expect(try cli.run(["get", "/registry/pods/", "--prefix", "--limit", "1", "--keys-only"]).stdout == "/registry/pods/default/db\n")
        #expect(try cli.run(["ls", "/registry/pods/default"]).stdout == "/registry/pods/default/db\n/registry/pods/default/web\n")
        #expect(try cli.run(["get", "/missing"]).stdout == "")

        let json = try cli.json(["get", "/registry/pods/default/web", "-o", "json"])
        let kvs = try #require(json["kvs"] as? [[String: Any]])
        #expect(kvs.first?["value"] as? String == "v2")
        #expect(kvs.first?["version"] as? Int == 2)
        let firstRevision = try #require(kvs.first?["create_revision"] as? Int)
        #expect(try cli.run(["get", "/registry/pods/default/web", "--rev", String(firstRevision), "--print-value-only"]).stdout == "v1\n")

        // watch: a separate process that exits after two events.
        let watcher = try cli.start(["watch", "/w/", "--prefix", "--count", "2"])
        try await Task.sleep(for: .milliseconds(500))
        // Every agentctl process allocates through jemalloc (Package.swift links it ahead of libc).
        let maps = try String(contentsOfFile: "/proc/\(watcher.process.processIdentifier)/maps", encoding: .utf8)
        #expect(maps.contains("libjemalloc"), "agentctl runs without jemalloc mapped")
        #expect(try cli.run(["put", "/w/a", "1"]).status == 0)
        #expect(try cli.run(["del", "/w/a"]).stdout == "1\n")
        let watched = try await cli.finish(watcher, withinSeconds: 10)
        #expect(watched.status == 0)
        #expect(watched.stdout == "PUT\n/w/a\n1\nDELETE\n/w/a\n")

        // txn: compare holds, then fails.
        let succeeded = try cli.run(["txn"], stdin: "value(\"/registry/pods/default/web\") = \"v2\"\n\nput /t \"one two\"\nget /t\n\nput /t no\n")
        #expect(succeeded.stdout == "SUCCESS\n\nOK\n\n/t\none two\n")
        let failed = try cli.run(["txn"], stdin: "mod(\"/t\") < \"1\"\n\nput /t no\n\ndel /t\n")
        #expect(failed.stdout == "FAILURE\n\n1\n")
        let badTxn = try cli.run(["txn"], stdin: "mood(\"/t\") = \"1\"\n")
        #expect(badTxn.status == 1)
        #expect(badTxn.stderr.contains("txn line 1"))

        // leases
        let granted = try cli.run(["lease", "grant", "60"]).stdout
        let leaseID = try #require(granted.split(separator: " ").dropFirst().first.map(String.init))
        #expect(granted == "lease \(leaseID) granted with TTL(60s)\n")
        #expect(try cli.run(["put", "/leased", "x", "--lease", leaseID]).stdout == "OK\n")
        #expect(try cli.run(["lease", "list"]).stdout == "found 1 leases\n\(leaseID)\n")
        #expect(try cli.run(["lease", "timetolive", leaseID, "--keys"]).stdout.contains("attached keys(/leased)"))
        #expect(try cli.run(["lease", "keep-alive", leaseID, "--once"]).stdout == "lease \(leaseID) keepalived with TTL(60)\n")
        #expect(try cli.run(["lease", "revoke", leaseID]).stdout == "lease \(leaseID) revoked\n")
        #expect(try cli.run(["get", "/leased"]).stdout == "")

        // compaction
        let revision = try #require(try cli.json(["get", "/t", "-o", "json"])["header"] as? [String: Any])["revision"] as? Int
        #expect(try cli.run(["compact", String(revision ?? 0)]).stdout == "compacted revision \(revision ?? 0)\n")
        let compacted = try cli.run(["get", "/registry/pods/default/web", "--rev", String(firstRevision)])
        #expect(compacted.status == 1)
        #expect(compacted.stderr.contains("compacted"))

        // deletes
        #expect(try cli.run(["del", "/registry/pods/", "--prefix"]).stdout == "3\n")
        #expect(try cli.run(["ls", "/registry/pods/"]).stdout == "")
    }

    @Test("member, status and snapshot verbs, and user errors")
    func clusterVerbs() async throws {
        let cli = try await CLIHarness(members: 3)
        defer { cli.stop() }
        #expect(try cli.run(["put", "/kept", "yes"]).status == 0)

        let members = try cli.run(["member", "list"]).stdout.split(separator: "\n")
        #expect(members.count == 4)
        #expect(members.first?.hasPrefix("ID") == true)

        let status = try cli.run(["status"])
        #expect(status.status == 0)
        let rows = status.stdout.split(separator: "\n").dropFirst()
        #expect(rows.count == 3)
        #expect(rows.filter { $0.contains("  true  ") }.count >= 1, "\(status.stdout)")
        let statusJSON = try cli.json(["status", "-o", "json"])
        let memberRows = try #require(statusJSON["members"] as? [[String: Any]])
        #expect(memberRows.compactMap { ($0["status"] as? [String: Any])?["is_leader"] as? Bool }.filter { $0 }.count == 1)

        // A fourth voter that never starts: the warning names the even count; removing it clears it.
        let peer = "127.0.0.1:\(try StoreCluster.freePort())"
        let added = try cli.run(["member", "add", "m4", "--peer-address", peer])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout.hasPrefix("Member m4 added to the cluster with ID \(StoreMemberIdentity.format(StoreMemberIdentity.id(name: "m4")))"))
        #expect(added.stderr.contains("warning: the cluster will have 4 voting members; an even count tolerates no more failures than one fewer — add or remove one more"))
        let removed = try cli.run(["member", "remove", "m4"])
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(!removed.stderr.contains("warning"))
        let learner = try cli.run(["member", "add", "m5", "--peer-address", "127.0.0.1:\(try StoreCluster.freePort())", "--learner"])
        #expect(learner.status == 0, "\(learner.stderr)")
        #expect(!learner.stderr.contains("warning"))
        #expect(try cli.run(["member", "remove", StoreMemberIdentity.format(StoreMemberIdentity.id(name: "m5"))]).status == 0)
        let unknown = try cli.run(["member", "remove", "nobody"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no member named or numbered \"nobody\""))

        // Snapshot save, restore into a new single-member cluster, read the key back.
        let file = cli.cluster.workDirectory + "/snapshot.db"
        let saved = try cli.run(["snapshot", "save", file])
        #expect(saved.stdout.hasPrefix("Snapshot saved at \(file)"), "\(saved.stderr)")
        let restoredCluster = try StoreCluster(memberCount: 1)
        defer { restoredCluster.stop() }
        let member = restoredCluster.members[0]
        let restore = try cli.run([
            "snapshot", "restore", file, "--data-dir", member.dataDirectory, "--name", member.name,
            "--initial-cluster", restoredCluster.initialCluster,
        ])
        #expect(restore.status == 0, "\(restore.stderr)")
        try restoredCluster.start()
        let restored = CLIHarness(cluster: restoredCluster)
        try await restored.waitForLeader()
        #expect(try restored.run(["get", "/kept"]).stdout == "/kept\nyes\n")
        let again = try cli.run([
            "snapshot", "restore", file, "--data-dir", member.dataDirectory, "--name", member.name,
            "--initial-cluster", restoredCluster.initialCluster,
        ])
        #expect(again.status == 1)
        #expect(again.stderr.contains("already exists and is not empty"))

        // User errors: clear, non-zero, no crash.
        let badEndpoints = try cli.run(["get", "/a", "--endpoints", "localhost"])
        #expect(badEndpoints.status != 0)
        #expect(badEndpoints.stderr.contains("--endpoints"))
        let wrongToken = try cli.run(["get", "/a", "--token", "wrong"])
        #expect(wrongToken.status == 1)
        #expect(wrongToken.stderr.contains("refused the credential"))
        let nobody = try cli.run(["get", "/a", "--endpoints", "127.0.0.1:\(try StoreCluster.freePort())", "--timeout", "1"])
        #expect(nobody.status == 1)
        #expect(nobody.stderr.contains("connection refused; is `agentctl store run` running"))
        let badLease = try cli.run(["lease", "revoke", "xyz"])
        #expect(badLease.status != 0)
        #expect(badLease.stderr.contains("lease id \"xyz\""))
    }
}

/// CLIHarness runs `agentctl store VERB` against a StoreCluster with its endpoints and token.
final class CLIHarness: @unchecked Sendable {
    // Safety of @unchecked Sendable: used by one test task at a time.
    let cluster: StoreCluster

    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    init(members: Int) async throws {
        cluster = try StoreCluster(memberCount: members)
        try cluster.start()
        try await waitForLeader()
    }

    init(cluster: StoreCluster) {
        self.cluster = cluster
    }

    func stop() { cluster.stop() }

    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["SKIFF_STORE_ENDPOINTS"] = cluster.endpoints.map(\.description).joined(separator: ",")
        environment["SKIFF_STORE_TOKEN"] = cluster.token
        return environment
    }

    /// waitForLeader polls a linearizable read until it succeeds (a leader exists and serves).
    func waitForLeader() async throws {
        for _ in 0..<100 {
            if try run(["get", "/", "--timeout", "1"]).status == 0 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchmarkError("no leader after 10 s; member log: \(cluster.logTail(cluster.members[0].name))")
    }

    func start(_ arguments: [String], stdin: String? = nil) throws -> (process: Process, stdout: Pipe, stderr: Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: cluster.agentctl)
        process.arguments = ["store"] + arguments
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        return (process, output, errors)
    }

    func run(_ arguments: [String], stdin: String? = nil) throws -> Outcome {
        let started = try start(arguments, stdin: stdin)
        let output = started.stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = started.stderr.fileHandleForReading.readDataToEndOfFile()
        started.process.waitUntilExit()
        return Outcome(
            status: started.process.terminationStatus, stdout: String(decoding: output, as: UTF8.self),
            stderr: String(decoding: errors, as: UTF8.self))
    }

    func finish(_ started: (process: Process, stdout: Pipe, stderr: Pipe), withinSeconds seconds: Double) async throws -> Outcome {
        let deadline = Date().addingTimeInterval(seconds)
        while started.process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if started.process.isRunning { started.process.terminate() }
        let output = started.stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = started.stderr.fileHandleForReading.readDataToEndOfFile()
        started.process.waitUntilExit()
        return Outcome(
            status: started.process.terminationStatus, stdout: String(decoding: output, as: UTF8.self),
            stderr: String(decoding: errors, as: UTF8.self))
    }

    func json(_ arguments: [String]) throws -> [String: Any] {
        let outcome = try run(arguments)
        guard outcome.status == 0, let object = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any] else {
            throw BenchmarkError("agentctl store \(arguments.joined(separator: " ")) failed: \(outcome.stderr)")
        }
        return object
    }
}
