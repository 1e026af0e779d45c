import ArgumentParser
import Bench
import Foundation

/// `bench`: Skiff's benchmarks. Each prints JSON on stdout; progress goes to stderr.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Skiff's benchmarks; each prints JSON. Build with -c release before measuring.",
        subcommands: [
            Wire.self, WireServer.self, StoreCommit.self, StorePut.self, StoreRead.self, WatchFanout.self, Scheduling.self,
            DeploymentCommand.self,
        ])
}

struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON on one line instead of indented.")
    var compact = false

    @Flag(name: .long, help: "Accepted for symmetry with other tools; output is always JSON.")
    var json = false

    func print(_ document: JSON) {
        Swift.print(document.rendered(pretty: !compact))
    }
}

extension BenchCommand {
    struct Wire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Round-trip latency and pipelined calls/s of Skiff's wire against a plain C libuv echo pair.")

        @Option(help: "Sequential calls per round for the round-trip latency.")
        var rttCalls = 20_000
        @Option(help: "Calls per round for pipelined throughput.")
        var pipelinedCalls = 1_000_000
        @Option(help: "Payload bytes per call.")
        var payloadBytes = 256
        @Option(help: "Calls in flight when pipelining.")
        var window = 128
        @Option(help: "Rounds; each alternates Skiff and the reference, and medians are reported.")
        var rounds = 3
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard rttCalls > 0, pipelinedCalls > 0, rounds > 0 else {
                throw ValidationError("--rtt-calls, --pipelined-calls and --rounds must be positive")
            }
            guard window > 0, window <= 65_536 else { throw ValidationError("--window must be from 1 to 65536") }
            guard payloadBytes >= 0, payloadBytes <= 4 << 20 else {
                throw ValidationError("--payload-bytes must be from 0 to 4194304")
            }
        }

        func run() async throws {
            var options = WireBenchmark.Options()
            options.rttCalls = rttCalls
            options.pipelinedCalls = pipelinedCalls
            options.payloadBytes = payloadBytes
            options.window = window
            options.rounds = rounds
            output.print(try await WireBenchmark.run(options))
        }
    }

    struct WireServer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "wire-server", abstract: "The echo server `bench wire` starts.", shouldDisplay: false)

        @Option(help: "Port on 127.0.0.1 (0 picks a free one).")
        var port: UInt16 = 0

        func run() async throws {
            try await WireBenchmark.serve(port: port)
        }
    }
}
