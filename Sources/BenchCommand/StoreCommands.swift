import ArgumentParser
import Bench
import Foundation
import Wire

/// Options every store benchmark shares.
struct StoreTargetOptions: ParsableArguments {
    @Option(help: "Client addresses of a running cluster (comma-separated); default: start a 3-member cluster on loopback.")
    var endpoints: String?
    @Option(help: "File holding the store token of a running cluster (with --endpoints).")
    var tokenFile: String?
    @Option(help: "Key bytes (tag + hex counter), as in the etcd anchor.")
    var keySize = 8
    @Option(help: "Value bytes (random).")
    var valueSize = 256
    @Option(help: "Added to every key counter so that repeated runs write new keys.")
    var keyOffset: UInt64 = 0

    func options() throws -> StoreBenchmark.Options {
        var options = StoreBenchmark.Options()
        if let endpoints {
            options.endpoints = try endpoints.split(separator: ",").map { try SocketAddress(parsing: String($0)) }
            guard let tokenFile, let token = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw ValidationError("--endpoints needs --token-file with the cluster's store token")
            }
            options.token = token.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard keySize >= 2, keySize <= 1024, valueSize >= 8, valueSize <= 1 << 20 else {
            throw ValidationError("--key-size must be 2...1024 and --value-size 8...1048576")
        }
        options.keyBytes = keySize
        options.valueBytes = valueSize
        options.keyOffset = keyOffset
        return options
    }
}

/// Runs `body` against a target and appends each member's peak RSS.
func runStoreBenchmark(
    _ options: StoreBenchmark.Options, output: OutputOptions,
    _ body: (StoreBenchmark.Target) async throws -> [JSON]
) async throws {
    let target = try await StoreBenchmark.target(options)
    defer { target.cluster?.stop() }
    let results = try await body(target)
    for result in results { output.print(result) }
    if let cluster = target.cluster {
        let peaks = cluster.peakResidentKilobytes()
        let cpu = cluster.cpuSeconds()
        output.print(.object([
            ("workload", "member_peak_rss"),
            ("members", .array(cluster.members.map { member in
                .object([("name", .string(member.name)),
                         ("vmhwm_kb", peaks[member.name].map { .integer($0) } ?? .null),
                         ("cpu_s", cpu[member.name].map { .rounded($0) } ?? .null)])
            })),
        ]))
    }
}

extension BenchCommand {
    struct StoreCommit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "store-commit",
            abstract: "1 client, sequential puts: commit latency to the leader and via a follower (etcd anchor workload 1).")
        @OptionGroup var target: StoreTargetOptions
        @Option(help: "Sequential puts per target.") var operations = 2000
        @Option(help: "leader, follower or both.") var to = "both"
        @OptionGroup var output: OutputOptions

        func run() async throws {
            var options = try target.options()
            options.latencyOperations = operations
            guard ["leader", "follower", "both"].contains(to) else { throw ValidationError("--to must be leader, follower or both") }
            try await runStoreBenchmark(options, output: output) { target in
                var results: [JSON] = []
                if to != "follower" { results.append(try await StoreBenchmark.commitLatency(target, options, toLeader: true)) }
                if to != "leader" { results.append(try await StoreBenchmark.commitLatency(target, options, toLeader: false)) }
                return results
            }
        }
    }

    struct StorePut: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "store-put", abstract: "Closed-loop clients putting over shared connections (etcd anchor workload 2).")
        @OptionGroup var target: StoreTargetOptions
        @Option(help: "Total puts.") var operations = 20_000
        @Option(help: "Closed-loop clients.") var clients = 64
        @Option(help: "Connections, dialed round-robin over the members.") var connections = 8
        @OptionGroup var output: OutputOptions

        func run() async throws {
            var options = try target.options()
            options.putOperations = operations
            options.putClients = clients
            options.putConnections = connections
            try await runStoreBenchmark(options, output: output) { target in
                [try await StoreBenchmark.writeThroughput(target, options)]
            }
        }
    }

    struct StoreRead: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "store-read", abstract: "Closed-loop clients reading one key, linearizable by default (etcd anchor workload 4).")
        @OptionGroup var target: StoreTargetOptions
        @Option(help: "Total reads.") var operations = 20_000
        @Option(help: "Closed-loop clients.") var clients = 64
        @Option(help: "Connections, dialed round-robin over the members.") var connections = 8
        @Flag(help: "Serve from the member without a read barrier.") var serializable = false
        @OptionGroup var output: OutputOptions

        func run() async throws {
            var options = try target.options()
            options.readOperations = operations
            options.readClients = clients
            options.readConnections = connections
            try await runStoreBenchmark(options, output: output) { target in
                [try await StoreBenchmark.linearizableRead(target, options, serializable: serializable)]
            }
        }
    }

    struct WatchFanout: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "watch-fanout",
            abstract: "Many watchers on one prefix, one writer at a fixed rate: deliveries, loss and delivery latency.")
        @Option(help: "store: watch the store directly (etcd anchor workload 3); api: pods through the API server.")
        var layer = "api"
        @OptionGroup var target: StoreTargetOptions
        @Option(help: "Watchers.") var clients = 1000
        @Option(help: "Connections the watchers share.") var connections = 4
        @Option(help: "Puts the writer makes.") var events = 2000
        @Option(help: "Puts per second.") var rate = 1000
        @Option(help: "Seconds to wait for the last deliveries.") var drainSeconds = 60.0
        @OptionGroup var output: OutputOptions

        @Option(help: "With --layer api: the API server's address (default: start store + API server).")
        var api: String?
        @Option(help: "With --layer api and --api: file holding an admin token.")
        var apiTokenFile: String?
        @Flag(help: "With --layer api and a self-started server: skip the second run of the same writes with no watcher (which bytes_per_watcher_peak_net subtracts).")
        var noBaselineRun = false

        func run() async throws {
            guard layer == "store" || layer == "api" else {
                throw ValidationError("--layer must be store or api")
            }
            if layer == "api" {
                var options = ApiWatchFanoutBenchmark.Options()
                options.watchers = clients
                options.connections = connections
                options.events = events
                options.rate = rate
                options.drainSeconds = drainSeconds
                options.runWithoutWatchers = !noBaselineRun
                if let api {
                    options.apiAddress = try SocketAddress(parsing: api)
                    guard let apiTokenFile, let token = try? String(contentsOfFile: apiTokenFile, encoding: .utf8) else {
                        throw ValidationError("--api needs --api-token-file with an admin token")
                    }
                    options.token = token.trimmingCharacters(in: .whitespacesAndNewlines)
                }
                output.print(try await ApiWatchFanoutBenchmark.run(options))
                return
            }
            var options = try target.options()
            options.watchers = clients
            options.watchConnections = connections
            options.watchEvents = events
            options.watchRate = rate
            options.watchDrainSeconds = drainSeconds
            try await runStoreBenchmark(options, output: output) { target in
                [try await StoreBenchmark.watchFanout(target, options)]
            }
        }
    }
}
