import ArgumentParser
import Bench
import Foundation
import Wire

extension BenchCommand {
    struct Scheduling: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pods created through the API until all are bound: pods/s, create-to-bound latency, peak RSS.",
            discussion: """
                Starts a store, an API server, hollow nodes and a scheduler (release binaries next to \
                this one) unless --api points at a running cluster that has a scheduler and nodes.
                """)

        @Option(help: "Hollow nodes to start.")
        var nodes = 5000
        @Option(help: "Pods to create.")
        var pods = 30_000
        @Option(help: "Creates in flight at once.")
        var concurrency = 512
        @Option(help: "CPU request of each pod.")
        var podCpu = "100m"
        @Option(help: "Memory request of each pod.")
        var podMemory = "128Mi"
        @Option(help: "Seconds to wait for all bindings.")
        var timeoutSeconds = 600.0
        @Option(help: "API servers to start, sharing the store: creates go to the first, the scheduler to the second, the hollow nodes to the third (round robin).")
        var apiServers = 1
        @Option(help: "host:port of a running cluster's API server (with a scheduler and nodes).")
        var api: String?
        @Option(help: "File holding a token for --api (system:masters).")
        var tokenFile: String?
        @Option(parsing: .unconditional, help: "Extra arguments for the scheduler this benchmark starts, space-separated.")
        var schedulerArguments = ""
        @Flag(help: "Measure only the scheduling loop in this process (no API server, no I/O).")
        var algorithmOnly = false
        @Option(help: "Threads the in-process scheduling loop filters with (--algorithm-only).")
        var parallelism = 1
        @Flag(help: "Skip the calibration: the one-thread scheduling loop timed before the cluster starts (about a second), reported as calibration_algorithm_decisions_per_s to compare machines.")
        var noCalibration = false
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard nodes > 0, nodes <= 65_535 else { throw ValidationError("--nodes must be from 1 to 65535") }
            guard pods > 0 else { throw ValidationError("--pods must be positive") }
            guard concurrency > 0 else { throw ValidationError("--concurrency must be positive") }
            guard (1...8).contains(apiServers) else { throw ValidationError("--api-servers must be from 1 to 8") }
            if api != nil && tokenFile == nil { throw ValidationError("--api needs --token-file") }
        }

        func run() async throws {
            var options = SchedulingBenchmark.Options()
            options.nodes = nodes
            options.pods = pods
            options.concurrency = concurrency
            options.podCPU = podCpu
            options.podMemory = podMemory
            options.timeoutSeconds = timeoutSeconds
            options.apiServers = apiServers
            options.calibrate = !noCalibration
            options.schedulerArguments = schedulerArguments.split(separator: " ").map(String.init)
            if let api {
                options.apiAddress = try SocketAddress(parsing: api)
                guard let tokenFile, let token = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                    throw ValidationError("--token-file: cannot read \(tokenFile ?? "")")
                }
                options.token = token.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            if algorithmOnly {
                output.print(SchedulingBenchmark.runAlgorithmOnly(options, parallelism: parallelism))
                return
            }
            output.print(try await SchedulingBenchmark.run(options))
        }
    }
}
