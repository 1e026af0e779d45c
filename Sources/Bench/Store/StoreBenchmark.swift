import Foundation
import Raft
import Wire

/// StoreBenchmark runs the workloads of ../shared/anchors/etcd (same definitions, same key and
/// value shapes, same client and connection counts) against a Skiff store cluster: its own
/// 3-member cluster on loopback unless endpoints are given.
public enum StoreBenchmark {
    public struct Options: Sendable {
        public var endpoints: [SocketAddress] = []
        public var token = ""
        public var members = 3
        public var keyBytes = 8
        public var valueBytes = 256
        public var latencyOperations = 2000
        public var putOperations = 20_000
        public var putClients = 64
        public var putConnections = 8
        public var readOperations = 20_000
        public var readClients = 64
        public var readConnections = 8
        public var watchers = 1000
        public var watchConnections = 4
        public var watchEvents = 2000
        public var watchRate = 1000
        public var watchDrainSeconds = 60.0
        public var keyOffset: UInt64 = 0
        public init() {}
    }

    /// The running cluster a workload measures, with what it needs to attribute resources.
    public final class Target: @unchecked Sendable {
        // Safety of @unchecked Sendable: used by one benchmark task at a time.
        public let endpoints: [SocketAddress]
        public let token: String
        public let cluster: StoreCluster?
        public let loop = EventLoop(name: "bench-driver")

        init(endpoints: [SocketAddress], token: String, cluster: StoreCluster?) {
            self.endpoints = endpoints
            self.token = token
            self.cluster = cluster
        }

        public func client(_ address: SocketAddress, identity: String) -> WireClient {
            var configuration = ClientConfiguration(component: "bench", identity: identity, credential: token)
            configuration.limits.maximumOutboundBytes = 512 << 20
            configuration.limits.highWatermarkBytes = 64 << 20
            return WireClient(loop: loop, address: address, configuration: configuration)
        }

        func close() {
            loop.shutdown()
            cluster?.stop()
        }
    }

    /// Starts a cluster (or uses the given endpoints) and waits for a leader.
    public static func target(_ options: Options) async throws -> Target {
        if !options.endpoints.isEmpty {
            let target = Target(endpoints: options.endpoints, token: options.token, cluster: nil)
            _ = try await leader(target)
            return target
        }
        let cluster = try StoreCluster(memberCount: options.members)
        do {
            try cluster.start()
            let target = Target(endpoints: cluster.endpoints, token: cluster.token, cluster: cluster)
            _ = try await leader(target)
            return target
        } catch {
            cluster.stop()
            throw error
        }
    }

    /// Finds the leader's client address by asking every member for its status, for up to 20 s.
    public static func leader(_ target: Target) async throws -> SocketAddress {
        let deadline = Date().addingTimeInterval(20)
        var lastProblem = "no answer"
        while Date() < deadline {
            var statuses: [(SocketAddress, StatusResponse)] = []
            for endpoint in target.endpoints {
                let client = target.client(endpoint, identity: "status")
                defer { Task { await client.shutdown() } }
                do {
                    let status: StatusResponse = try await client.call(
                        "store.Status", StatusRequest(), as: StatusResponse.self, timeoutMilliseconds: 1000)
                    statuses.append((endpoint, status))
                } catch {
                    lastProblem = "\(endpoint): \(error)"
                }
            }
            if let leading = statuses.first(where: { $0.1.leader != 0 && $0.1.leader == $0.1.header?.memberID }),
                statuses.count == target.endpoints.count,
                statuses.allSatisfy({ $0.1.leader == leading.1.leader })
            {
                return leading.0
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchmarkError("no store leader within 20 s (\(lastProblem))")
    }

    // MARK: Keys and values

    static func key(tag: Character, _ counter: UInt64, bytes: Int) -> [UInt8] {
        let hex = String(counter, radix: 16)
        let digits = max(bytes - 1, hex.count)
        return Array(String(tag).utf8) + Array((String(repeating: "0", count: digits - hex.count) + hex).utf8)
    }

    static func randomValue(_ bytes: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    // MARK: Resource probe

    struct Probe {
        let cluster: StoreCluster?
        let startCPU: [String: Double]
        let startWall = Date()
        let driverStart = ProcessStatus.cpuSeconds(pid: getpid()) ?? 0

        init(_ cluster: StoreCluster?) {
            self.cluster = cluster
            startCPU = cluster?.cpuSeconds() ?? [:]
        }

        func fields() -> [(String, JSON)] {
            var fields: [(String, JSON)] = [("wall_s", .rounded(Date().timeIntervalSince(startWall), 3))]
            if let cluster {
                let names = cluster.members.map(\.name)
                let now = cluster.cpuSeconds()
                let cpu = names.map { (now[$0] ?? 0) - (startCPU[$0] ?? 0) }
                let peaks = cluster.peakResidentKilobytes()
                fields.append(("members_cpu_s", .array(cpu.map { .rounded($0) })))
                fields.append(("members_cpu_s_total", .rounded(cpu.reduce(0, +))))
                fields.append(("members_vmhwm_kb", .array(names.map { peaks[$0].map { .integer($0) } ?? .null })))
            }
            let driver = (ProcessStatus.cpuSeconds(pid: getpid()) ?? 0) - driverStart
            fields.append(("driver_cpu_s", .rounded(driver)))
            return fields
        }
    }

    static func latencyFields(_ samples: [UInt64], operations: Int, errors: Int, seconds: Double) -> [(String, JSON)] {
        let summary = LatencySummary(nanoseconds: samples)
        return [
            ("ops", .integer(operations)), ("errors", .integer(errors)),
            ("ops_per_s", .rounded(Double(operations) / seconds, 1)),
            ("p50_us", .rounded(summary.p50, 1)), ("p90_us", .rounded(summary.p90, 1)),
            ("p99_us", .rounded(summary.p99, 1)), ("max_us", .rounded(summary.max, 1)),
            ("mean_us", .rounded(summary.mean, 1)),
        ]
    }

    // MARK: commit_latency

    /// One client, one connection, sequential puts; `toLeader` picks the leader or a follower.
    public static func commitLatency(_ target: Target, _ options: Options, toLeader: Bool) async throws -> JSON {
        let leaderAddress = try await leader(target)
        let endpoint = toLeader ? leaderAddress : target.endpoints.first { $0 != leaderAddress } ?? leaderAddress
        let client = target.client(endpoint, identity: "commit")
        defer { Task { await client.shutdown() } }
        try await client.waitUntilReady()
        let value = randomValue(options.valueBytes)
        let probe = Probe(target.cluster)
        let begin = monotonicNanoseconds()
        let (samples, errors) = await withTaskExecutorPreference(target.loop.taskExecutor) {
            var samples: [UInt64] = []
            samples.reserveCapacity(options.latencyOperations)
            var errors = 0
            for index in 0..<options.latencyOperations {
                let request = PutRequest(key: key(tag: "L", options.keyOffset + UInt64(index), bytes: options.keyBytes), value: value)
                let start = monotonicNanoseconds()
                do {
                    _ = try await client.call("store.Put", request.protobufBytes(), timeoutMilliseconds: 10_000)
                    samples.append(monotonicNanoseconds() - start)
                } catch {
                    errors += 1
                }
            }
            return (samples, errors)
        }
        let seconds = Double(monotonicNanoseconds() - begin) / 1e9
        return .object(
            [("workload", "commit_latency"), ("target", .string(toLeader ? "leader" : "follower")),
             ("endpoint", .string(endpoint.description)), ("leader", .string(leaderAddress.description)),
             ("key_size", .integer(options.keyBytes)), ("val_size", .integer(options.valueBytes)),
             ("clients", 1), ("conns", 1)]
                + latencyFields(samples, operations: samples.count, errors: errors, seconds: seconds) + probe.fields())
    }

    // MARK: write_throughput and linearizable_read

    /// Closed-loop clients sharing connections; connection i dials endpoint i mod members.
    static func closedLoop(
        _ target: Target, clients clientCount: Int, connections connectionCount: Int, operations: Int,
        request: @escaping @Sendable (Int) -> (method: String, payload: [UInt8]),
        check: @escaping @Sendable ([UInt8]) -> Bool
    ) async throws -> (samples: [UInt64], errors: Int, seconds: Double, endpoints: [SocketAddress]) {
        let endpoints = (0..<connectionCount).map { target.endpoints[$0 % target.endpoints.count] }
        let connections = endpoints.enumerated().map { target.client($0.element, identity: "conn\($0.offset)") }
        defer { for connection in connections { Task { await connection.shutdown() } } }
        for connection in connections { try await connection.waitUntilReady() }
        let result: (samples: [UInt64], errors: Int, seconds: Double) = await withUnsafeContinuation { continuation in
            target.loop.execute {
                var samples: [UInt64] = []
                samples.reserveCapacity(operations)
                var errors = 0
                var issued = 0
                var finished = 0
                let begin = monotonicNanoseconds()
                func next(_ client: Int) {
                    guard issued < operations else { return }
                    let (method, payload) = request(issued)
                    issued += 1
                    let start = monotonicNanoseconds()
                    connections[client % connectionCount].start(method, payload, timeoutMilliseconds: 30_000) { result in
                        finished += 1
                        switch result {
                        case .success(let bytes) where check(bytes):
                            samples.append(monotonicNanoseconds() - start)
                        default:
                            errors += 1
                        }
                        if finished == operations {
                            continuation.resume(returning: (samples, errors, Double(monotonicNanoseconds() - begin) / 1e9))
                        } else {
                            next(client)
                        }
                    }
                }
                for client in 0..<min(clientCount, operations) { next(client) }
            }
        }
        return (result.samples, result.errors, result.seconds, endpoints)
    }

    public static func writeThroughput(_ target: Target, _ options: Options) async throws -> JSON {
        let leaderAddress = try await leader(target)
        let value = randomValue(options.valueBytes)
        let offset = options.keyOffset
        let keyBytes = options.keyBytes
        let probe = Probe(target.cluster)
        let run = try await closedLoop(
            target, clients: options.putClients, connections: options.putConnections, operations: options.putOperations,
            request: { index in
                ("store.Put", PutRequest(key: key(tag: "P", offset + UInt64(index), bytes: keyBytes), value: value).protobufBytes())
            },
            check: { _ in true })
        return .object(
            [("workload", "write_throughput"), ("target", "all"), ("leader", .string(leaderAddress.description)),
             ("key_size", .integer(options.keyBytes)), ("val_size", .integer(options.valueBytes)),
             ("conn_endpoints", .array(run.endpoints.map { .string($0.description) })),
             ("clients", .integer(options.putClients)), ("conns", .integer(options.putConnections))]
                + latencyFields(run.samples, operations: options.putOperations, errors: run.errors, seconds: run.seconds)
                + probe.fields())
    }

    public static func linearizableRead(_ target: Target, _ options: Options, serializable: Bool = false) async throws -> JSON {
        let leaderAddress = try await leader(target)
        let readKey = key(tag: "R", options.keyOffset, bytes: options.keyBytes)
        let seeder = target.client(leaderAddress, identity: "seed")
        _ = try await seeder.call("store.Put", PutRequest(key: readKey, value: randomValue(options.valueBytes)).protobufBytes())
        await seeder.shutdown()
        let request = RangeRequest(key: readKey, serializable: serializable).protobufBytes()
        let valueBytes = options.valueBytes
        let probe = Probe(target.cluster)
        let run = try await closedLoop(
            target, clients: options.readClients, connections: options.readConnections, operations: options.readOperations,
            request: { _ in ("store.Range", request) },
            check: { bytes in
                guard let response = try? RangeResponse(protobuf: bytes) else { return false }
                return response.kvs.count == 1 && response.kvs[0].value.count == valueBytes
            })
        return .object(
            [("workload", .string(serializable ? "serializable_read" : "linearizable_read")), ("target", "all"),
             ("leader", .string(leaderAddress.description)),
             ("key_size", .integer(options.keyBytes)), ("val_size", .integer(options.valueBytes)),
             ("conn_endpoints", .array(run.endpoints.map { .string($0.description) })),
             ("clients", .integer(options.readClients)), ("conns", .integer(options.readConnections))]
                + latencyFields(run.samples, operations: options.readOperations, errors: run.errors, seconds: run.seconds)
                + probe.fields())
    }
}
