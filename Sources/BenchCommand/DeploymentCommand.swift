import ArgumentParser
import Bench
import Foundation
import Wire

extension BenchCommand {
    struct DeploymentCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "deployment",
            abstract: "Time from creating one Deployment until all its replicas are bound and Running on hollow nodes.",
            discussion: """
                Starts a store, API server(s), a scheduler, a controller manager and hollow nodes \
                (or uses a running cluster with --api and --token-file), creates a Deployment in a \
                fresh namespace and watches its pods: seconds until all are created, bound and \
                Running, pods/s, and each component's peak RSS (VmHWM) and CPU seconds.
                """)

        @Option(help: "Replicas of the Deployment.")
        var replicas = 10_000
        @Option(help: "Hollow nodes to start (default: one per 100 replicas; each takes 110 pods).")
        var nodes: Int?
        @Option(help: "CPU request of each pod.")
        var podCpu = "10m"
        @Option(help: "Memory request of each pod.")
        var podMemory = "32Mi"
        @Option(help: "API servers to start, sharing the store (controller manager, scheduler and hollow nodes use them round robin).")
        var apiServers = 1
        @Option(help: "Seconds to wait for every replica to run.")
        var timeoutSeconds = 300.0
        @Option(help: "A running cluster's API server (host:port) with a scheduler, a controller manager and nodes; default: start one.")
        var api: String?
        @Option(help: "With --api: file holding an admin token.")
        var tokenFile: String?
        @Option(parsing: .singleValue, help: "An extra argument for the controller manager started (repeat the option for several).")
        var controllerManagerArgument: [String] = []
        @Option(parsing: .singleValue, help: "An extra argument for the scheduler started (repeatable).")
        var schedulerArgument: [String] = []
        @Option(parsing: .singleValue, help: "An extra argument for the hollow nodes started (repeatable).")
        var hollowNodesArgument: [String] = []
        @OptionGroup var output: OutputOptions

        func run() async throws {
            guard replicas > 0, replicas <= 1_000_000 else { throw ValidationError("--replicas must be from 1 to 1000000") }
            guard apiServers >= 1, apiServers <= 8 else { throw ValidationError("--api-servers must be from 1 to 8") }
            guard timeoutSeconds > 0 else { throw ValidationError("--timeout-seconds must be positive") }
            var options = DeploymentBenchmark.Options()
            options.replicas = replicas
            if let nodes {
                guard nodes > 0, nodes <= 65_535 else { throw ValidationError("--nodes must be from 1 to 65535") }
                options.nodes = nodes
            }
            options.podCPU = podCpu
            options.podMemory = podMemory
            options.apiServers = apiServers
            options.timeoutSeconds = timeoutSeconds
            options.controllerManagerArguments = controllerManagerArgument
            options.schedulerArguments = schedulerArgument
            options.hollowNodeArguments = hollowNodesArgument
            if let api {
                do {
                    options.apiAddress = try SocketAddress(parsing: api)
                } catch {
                    throw ValidationError("--api: \(api) is not host:port")
                }
                guard let tokenFile else { throw ValidationError("--api needs --token-file with an admin token") }
                guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                    throw ValidationError("--token-file: cannot read \(tokenFile)")
                }
                options.token = token.trimmingCharacters(in: .whitespacesAndNewlines)
            } else if tokenFile != nil {
                throw ValidationError("--token-file goes with --api (a started cluster makes its own token)")
            }
            output.print(try await DeploymentBenchmark.run(options))
        }
    }
}
