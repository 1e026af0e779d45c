import Foundation
import Wire

/// WireBenchmark measures Skiff's wire between two processes on loopback against the plain C
/// libuv echo pair (`skiff-uv-echo`) built from this repository, alternating the two in one run.
public enum WireBenchmark {
    public static let echoMethod = "wire.Echo"
    public static let token = "bench-wire-token"

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
        let router = MethodRouter()
        router.register(echoMethod) { call in call.respond(call.payload) }
        var configuration = ServerConfiguration(
            identity: "bench-wire-server", authenticate: ServerConfiguration.bearerToken(token))
        configuration.maximumInFlightCalls = 65_536
        let server = try await WireServer.start(
            on: loop, address: SocketAddress(host: "127.0.0.1", port: port),
            configuration: configuration, service: router)
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
        let samples = try await withTaskExecutorPreference(client.loop) {
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

    /// Pipelined unary calls through the callback API: `window` calls in flight, each answer
    /// starting the next call. Returns calls per second.
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
                group.addTask(executorPreference: client.loop) {
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

/// Pipeline drives pipelined calls through the callback API: `window` calls in flight, each
/// answer starting the next call, on the client's loop.
///
/// Its counters live in memory of their own and one completion closure serves every call, so
/// the measured loop costs about what the C reference's driver costs: no closure context
/// allocated per call and no dynamic exclusivity checks on captured variables (together about
/// 700 instructions per call, a fifth of the client's work, when the driver captured its
/// counters in a closure made per call).
public enum Pipeline {
    private struct State {
        var started = 0
        var finished = 0
        var failure: WireError?
        var begin: UInt64 = 0
        var completion: ((Result<[UInt8], WireError>) -> Void)?
    }

    /// Makes `calls` calls of `method` from the client's loop, then calls `done` on the loop
    /// with the calls per second or the first failure.
    public static func run(
        client: WireClient, method: String, payload: [UInt8], calls: Int, window: Int,
        done: @escaping @Sendable (Result<Double, WireError>) -> Void
    ) {
        precondition(calls > 0 && window > 0, "a pipeline needs calls and a window")
        client.loop.execute {
            // Touched on this loop only; freed after the last answer.
            let state = UnsafeMutablePointer<State>.allocate(capacity: 1)
            state.initialize(to: State())
            state.pointee.completion = { result in
                state.pointee.finished += 1
                if case .failure(let error) = result, state.pointee.failure == nil {
                    state.pointee.failure = error
                }
                if state.pointee.started < calls && state.pointee.failure == nil {
                    state.pointee.started += 1
                    client.start(method, payload, completion: state.pointee.completion!)
                } else if state.pointee.finished == state.pointee.started {
                    let outcome: Result<Double, WireError>
                    if let failure = state.pointee.failure {
                        outcome = .failure(failure)
                    } else {
                        let seconds = Double(monotonicNanoseconds() - state.pointee.begin) / 1e9
                        outcome = .success(Double(state.pointee.finished) / seconds)
                    }
                    // This closure is running: the client's call holds a reference to it, so
                    // the state (which holds another) can go now.
                    state.deinitialize(count: 1)
                    state.deallocate()
                    done(outcome)
                }
            }
            state.pointee.begin = monotonicNanoseconds()
            for _ in 0..<min(window, calls) {
                state.pointee.started += 1
                client.start(method, payload, completion: state.pointee.completion!)
            }
        }
    }
}
