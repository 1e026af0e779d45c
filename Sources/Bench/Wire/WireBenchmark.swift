import Foundation
import Wire
import WireBench

/// WireBenchmark measures Skiff's wire between two processes on loopback against the plain C
/// libuv echo pair (`skiff-uv-echo`) built from this repository, alternating the two in one run.
public enum WireBenchmark {
    public static let echoMethod = WireEcho.method
    public static let token = WireEcho.token

    public struct Options: Sendable {
        public var rttCalls = 20_000
        public var pipelinedCalls = 1_000_000
        public var payloadBytes = 256
        public var window = 128
        public var rounds = 3
        public init() {}
    }

    // MARK: Server process (`bench wire-server`)

    /// Serves `wire.Echo` until killed; prints "listening on HOST:PORT" first.
    public static func serve(port: UInt16) async throws -> Never {
        let loop = EventLoop(name: "wire-server")
        let server = try await WireServer.start(
            on: loop, address: SocketAddress(host: "127.0.0.1", port: port),
            configuration: WireEcho.serverConfiguration(identity: "bench-wire-server"), service: WireEcho.makeRouter())
        // The parent reads this line to learn the port; write it unbuffered.
        FileHandle.standardOutput.write(Data("listening on \(server.address)\n".utf8))
        while true { try await Task.sleep(for: .seconds(3600)) }
    }

    // MARK: Driver

    public static func run(_ options: Options) async throws -> JSON {
        let directory = ProcessStatus.executableDirectory
        let benchPath = directory + "/bench"
        let echoPath = directory + "/skiff-uv-echo"
        for path in [benchPath, echoPath] where !FileManager.default.isExecutableFile(atPath: path) {
            throw BenchmarkError("\(path) not found: build both products first (swift build -c release)")
        }
        let swiftServer = try ChildProcess(name: "bench wire-server", executable: benchPath, arguments: ["wire-server"])
        defer { swiftServer.stop() }
        let swiftAddress = try SocketAddress(parsing: swiftServer.waitForLine(prefix: "listening on "))
        let echoServer = try ChildProcess(name: "skiff-uv-echo server", executable: echoPath, arguments: ["server", "0"])
        defer { echoServer.stop() }
        let echoPort = try echoServer.waitForLine(prefix: "listening on 127.0.0.1:")

        let loop = EventLoop(name: "wire-client")
        defer { loop.shutdown() }
        var configuration = ClientConfiguration(component: "bench", identity: "wire", credential: token)
        configuration.limits.highWatermarkBytes = 32 << 20
        configuration.limits.maximumOutboundBytes = 256 << 20
        let client = WireClient(loop: loop, address: swiftAddress, configuration: configuration)
        try await client.waitUntilReady()
        let payload = (0..<options.payloadBytes).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }

        var rounds: [JSON] = []
        var skiffRTT: [Double] = [], skiffRTT99: [Double] = [], skiffPipelined: [Double] = []
        var skiffAsync: [Double] = []
        var referenceRTT: [Double] = [], referenceRTT99: [Double] = [], referencePipelined: [Double] = []
        // Warm both paths (connections, page faults, caches) before measuring.
        _ = try await sequentialRTT(client: client, payload: payload, calls: 2000)
        _ = try runReference(echoPath, port: echoPort, mode: "rtt", calls: 2000, payload: options.payloadBytes, window: 1)

        for round in 1...options.rounds {
            let reference = try runReference(
                echoPath, port: echoPort, mode: "rtt", calls: options.rttCalls, payload: options.payloadBytes, window: 1)
            let referenceThroughput = try runReference(
                echoPath, port: echoPort, mode: "pipelined", calls: options.pipelinedCalls,
                payload: options.payloadBytes, window: options.window)
            let rtt = try await sequentialRTT(client: client, payload: payload, calls: options.rttCalls)
            let pipelined = try await pipelinedCallbacks(
                client: client, payload: payload, calls: options.pipelinedCalls, window: options.window)
            let asyncPipelined = try await pipelinedTasks(
                client: client, payload: payload, calls: options.pipelinedCalls / 4, concurrency: options.window)
            skiffRTT.append(rtt.p50)
            skiffRTT99.append(rtt.p99)
            skiffPipelined.append(pipelined)
            skiffAsync.append(asyncPipelined)
            referenceRTT.append(reference["p50_us"] ?? .nan)
            referenceRTT99.append(reference["p99_us"] ?? .nan)
            referencePipelined.append(referenceThroughput["calls_per_s"] ?? .nan)
            rounds.append(.object([
                ("round", .integer(round)),
                ("skiff_rtt_p50_us", .rounded(rtt.p50)), ("skiff_rtt_p99_us", .rounded(rtt.p99)),
                ("skiff_pipelined_calls_per_s", .rounded(pipelined, 0)),
                ("skiff_async_pipelined_calls_per_s", .rounded(asyncPipelined, 0)),
                ("libuv_rtt_p50_us", .rounded(reference["p50_us"] ?? .nan)),
                ("libuv_rtt_p99_us", .rounded(reference["p99_us"] ?? .nan)),
                ("libuv_pipelined_calls_per_s", .rounded(referenceThroughput["calls_per_s"] ?? .nan, 0)),
            ]))
        }
        await client.shutdown()

        let rttRatio = median(skiffRTT) / median(referenceRTT)
        let throughputRatio = median(skiffPipelined) / median(referencePipelined)
        return .object([
            ("benchmark", "wire"),
            ("payload_bytes", .integer(options.payloadBytes)),
            ("rtt_calls", .integer(options.rttCalls)),
            ("pipelined_calls", .integer(options.pipelinedCalls)),
            ("window", .integer(options.window)),
            ("pipelined_api", "borrowing callbacks: MethodRouter.registerBorrowing on the server, WireClient.start(_:payload:borrowing:) on the client"),
            ("rounds", .integer(options.rounds)),
            ("skiff", .object([
                ("rtt_p50_us", .rounded(median(skiffRTT))),
                ("rtt_p99_us", .rounded(median(skiffRTT99))),
                ("pipelined_calls_per_s", .rounded(median(skiffPipelined), 0)),
                ("async_pipelined_calls_per_s", .rounded(median(skiffAsync), 0)),
                ("server_peak_rss_kb", swiftServer.peakResidentKilobytes.map { .integer($0) } ?? .null),
            ])),
            ("libuv_reference", .object([
                ("rtt_p50_us", .rounded(median(referenceRTT))),
                ("rtt_p99_us", .rounded(median(referenceRTT99))),
                ("pipelined_calls_per_s", .rounded(median(referencePipelined), 0)),
                ("server_peak_rss_kb", echoServer.peakResidentKilobytes.map { .integer($0) } ?? .null),
            ])),
            ("ratios", .object([
                ("rtt_p50_skiff_over_libuv", .rounded(rttRatio, 3)),
                ("pipelined_skiff_over_libuv", .rounded(throughputRatio, 3)),
            ])),
            ("goals", .object([
                ("rtt_p50_ratio_at_most", 1.3), ("pipelined_ratio_at_least", 0.7),
                ("rtt_met", .bool(rttRatio <= 1.3)), ("pipelined_met", .bool(throughputRatio >= 0.7)),
            ])),
            ("per_round", .array(rounds)),
        ])
    }

    /// Sequential unary calls through the async API, from a task that prefers the client's loop.
    static func sequentialRTT(client: WireClient, payload: [UInt8], calls: Int) async throws -> LatencySummary {
        let samples = try await withTaskExecutorPreference(client.loop.taskExecutor) {
            var samples = [UInt64]()
            samples.reserveCapacity(calls)
            for _ in 0..<calls {
                let start = monotonicNanoseconds()
                let answer = try await client.call(echoMethod, payload)
                samples.append(monotonicNanoseconds() - start)
                precondition(answer.count == payload.count, "echo changed the payload size")
            }
            return samples
        }
        return LatencySummary(nanoseconds: samples)
    }

    /// Pipelined unary calls through the borrowing callback API (see `Pipeline`): `window` calls
    /// in flight, each answer starting the next call. Returns calls per second.
    static func pipelinedCallbacks(client: WireClient, payload: [UInt8], calls: Int, window: Int) async throws -> Double {
        let result: Result<Double, WireError> = await withUnsafeContinuation { continuation in
            Pipeline.run(client: client, method: echoMethod, payload: payload, calls: calls, window: window) { result in
                continuation.resume(returning: result)
            }
        }
        return try result.get()
    }

    /// Pipelined unary calls through the async API: `concurrency` tasks on the client's loop,
    /// each making calls one after another. Returns calls per second.
    static func pipelinedTasks(client: WireClient, payload: [UInt8], calls: Int, concurrency: Int) async throws -> Double {
        let begin = monotonicNanoseconds()
        let perTask = calls / concurrency
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask(executorPreference: client.loop.taskExecutor) {
                    for _ in 0..<perTask { _ = try await client.call(echoMethod, payload) }
                }
            }
            try await group.waitForAll()
        }
        let seconds = Double(monotonicNanoseconds() - begin) / 1e9
        return Double(perTask * concurrency) / seconds
    }

    static func runReference(
        _ path: String, port: String, mode: String, calls: Int, payload: Int, window: Int
    ) throws -> [String: Double] {
        let client = try ChildProcess(
            name: "skiff-uv-echo client", executable: path,
            arguments: ["client", port, mode, String(calls), String(payload), String(window)])
        let output = client.readToEnd()
        guard client.process.terminationStatus == 0,
            let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        else {
            throw BenchmarkError("skiff-uv-echo client failed (status \(client.process.terminationStatus)): \(output)")
        }
        return object.compactMapValues { ($0 as? NSNumber)?.doubleValue }
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted[sorted.count / 2]
    }
}
