import Api
import Foundation
import Histogram
import Wire

/// watch-fanout against the API server: W client-library watchers on pods in one namespace, one
/// writer creating and updating pods at R/s for N events. Latency runs from the write's
/// acknowledgement to the event's receipt (an event that arrives before its acknowledgement
/// counts as 0), all in this process on one clock.
///
/// Memory: `bytes_per_watcher_peak` divides the API server's whole peak RSS growth (from before
/// the watches opened to the burst's peak) by the watchers, so it also counts what the write
/// workload costs without any watcher (the watch cache holding the pods written and their
/// history, the writes' own buffers). When the bench starts the server itself it therefore
/// repeats the same writes against a fresh server with no watcher and reports, as
/// `bytes_per_watcher_peak_net`, the peak growth minus that run's peak growth, per watcher:
/// the memory attributable to the watchers.
public enum ApiWatchFanoutBenchmark {
    public struct Options: Sendable {
        public var watchers = 1000
        public var connections = 4
        public var events = 2000
        public var rate = 1000
        public var drainSeconds = 60.0
        public var apiAddress: SocketAddress?
        public var token = ""
        /// With a self-started server: also run the writes with no watcher (see above).
        public var runWithoutWatchers = true
        public init() {}
    }

    public static func run(_ options: Options) async throws -> JSON {
        var measured = try await measure(options, watchers: options.watchers)
        guard options.apiAddress == nil, options.runWithoutWatchers, options.watchers > 0,
            let peak = measured.peakKilobytes, let before = measured.beforeWatchersKilobytes
        else { return .object(measured.fields) }
        let alone = try await measure(options, watchers: 0)
        if let alonePeak = alone.peakKilobytes, let aloneBefore = alone.beforeWatchersKilobytes {
            let aloneGrowth = alonePeak - aloneBefore
            measured.fields.append(("apiserver_rss_before_writes_no_watchers_kb", .integer(aloneBefore)))
            measured.fields.append(("apiserver_peak_rss_no_watchers_kb", .integer(alonePeak)))
            measured.fields.append(("bytes_per_watcher_peak_net", .integer(((peak - before) - aloneGrowth) * 1024 / options.watchers)))
        }
        return .object(measured.fields)
    }

    /// One run's JSON fields and the API server's memory figures (nil when it is not ours).
    struct Measurement {
        var fields: [(String, JSON)]
        var beforeWatchersKilobytes: Int?
        var peakKilobytes: Int?
    }

    /// Starts a server (unless given one), opens `watchers` watches and runs the writes.
    static func measure(_ options: Options, watchers: Int) async throws -> Measurement {
        var cluster: ApiCluster?
        var address: SocketAddress
        var token = options.token
        if let given = options.apiAddress {
            address = given
        } else {
            let started = try ApiCluster()
            try started.start()
            try await started.waitUntilServing()
            cluster = started
            address = started.apiAddresses[0]
            token = started.adminToken
        }
        defer { cluster?.stop() }
        let loop = EventLoop(name: "bench-driver")
        defer { loop.shutdown() }
        let connections = (0..<options.connections).map {
            ApiClient(address: address, token: token, component: "bench", identity: "watch\($0)", loop: loop)
        }
        let writer = ApiClient(address: address, token: token, component: "bench", identity: "writer", loop: loop)
        let clients = connections + [writer]
        let namespace = "bench-\(UInt32.random(in: 0...UInt32.max))"
        let baselineKilobytes = cluster.flatMap { ProcessStatus.residentKilobytes(pid: $0.apiServerPIDs()[0]) }

        // The namespace and its default service account must exist (NamespaceLifecycle and
        // ServiceAccount admission), as a namespace controller would make them.
        _ = try await writer.create(Namespace(metadata: ObjectMeta(name: namespace)))
        _ = try await writer.create(ServiceAccount(metadata: ObjectMeta(name: "default", namespace: namespace)), namespace: namespace)
        let listed = try await writer.list(Pod.self, namespace: namespace)
        let state = ApiFanoutState(watchers: watchers)
        for watcher in 0..<watchers {
            connections[watcher % connections.count].watchRaw(
                Pod.self, namespace: namespace, resourceVersion: listed.resourceVersion, bookmarks: false
            ) { kind, bytes, error in
                state.handle(kind, bytes, error, watcher: watcher)
            }
        }
        // Watches are open once each connection has answered a call after them.
        for connection in connections { _ = try await connection.list(Namespace.self, limit: 1) }
        try await Task.sleep(for: .milliseconds(300))
        let withWatchersKilobytes = cluster.flatMap { ProcessStatus.residentKilobytes(pid: $0.apiServerPIDs()[0]) }

        let begin = monotonicNanoseconds()
        let writes: (errors: Int, seconds: Double) = await withUnsafeContinuation { continuation in
            loop.execute {
                var issued = 0
                var finished = 0
                var inFlight = 0
                var errors = 0
                var created: [Int: Pod] = [:]
                let timer = LoopTimer(loop: loop)
                func complete(_ result: Result<[UInt8], WireError>, index: Int) {
                    inFlight -= 1
                    finished += 1
                    if case .success(let bytes) = result, let response = try? ApiResponse(protobuf: bytes),
                        response.status == nil, let pod = try? Pod(protobuf: response.object ?? [])
                    {
                        created[index] = pod
                        state.acknowledged(pod.metadata?.resourceVersion ?? "")
                    } else {
                        errors += 1
                    }
                    if finished == options.events {
                        timer.cancel()
                        continuation.resume(returning: (errors, Double(monotonicNanoseconds() - begin) / 1e9))
                    }
                }
                func issue() {
                    let due = min(options.events, Int(Double(monotonicNanoseconds() - begin) / 1e9 * Double(options.rate)) + 1)
                    while issued < due && inFlight < 256 {
                        let index = issued / 2
                        var request = ApiRequest()
                        request.resource = "pods"
                        request.namespace = namespace
                        let method: String
                        if issued % 2 == 1, var pod = created[index] {
                            pod.metadata?.labels = ["updated": "true"]
                            request.name = pod.metadata?.name
                            request.object = pod.protobufBytes()
                            method = "api.Update"
                        } else {
                            var pod = Pod()
                            var meta = ObjectMeta()
                            meta.name = "pod-\(index)-\(issued)"
                            meta.namespace = namespace
                            pod.metadata = meta
                            var container = Container()
                            container.name = "app"
                            container.image = "registry.local/app:1"
                            pod.spec = PodSpec(containers: [container])
                            request.object = pod.protobufBytes()
                            method = "api.Create"
                        }
                        issued += 1
                        inFlight += 1
                        writer.wire.start(method, request.protobufBytes(), timeoutMilliseconds: 30_000) { result in
                            complete(result, index: index)
                        }
                    }
                }
                timer.arm(milliseconds: 1, repeatMilliseconds: 1) { issue() }
                issue()
            }
        }
        let expectedPerWatcher = options.events - writes.errors
        let drainDeadline = Date().addingTimeInterval(options.drainSeconds)
        while watchers > 0 && Date() < drainDeadline {
            if await loop.submit({ state.minimumDelivered >= expectedPerWatcher }) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let summary = await loop.submit { () -> (Int, Double, Double, Double, Double, UInt64, String?) in
            state.finished = true
            return (state.deliveries, state.percentile(50), state.percentile(90), state.percentile(99), state.maximum,
                    state.lastDelivery, state.failure)
        }
        for client in clients { await client.close() }
        let expected = watchers * expectedPerWatcher
        let span = Double(max(summary.5, begin + 1) - begin) / 1e9
        let peak = cluster?.apiServerPeakResidentKilobytes().first
        var fields: [(String, JSON)] = [
            ("workload", "watch_fanout"), ("layer", "api"), ("watchers", .integer(watchers)),
            ("watch_conns", .integer(options.connections)), ("events", .integer(options.events)),
            ("write_errors", .integer(writes.errors)), ("target_rate", .integer(options.rate)),
            ("achieved_write_rate", .rounded(Double(options.events) / writes.seconds, 1)),
            ("deliveries", .integer(summary.0)), ("expected_deliveries", .integer(expected)),
            ("lost", .integer(expected - summary.0)), ("deliveries_per_s", .rounded(Double(summary.0) / span, 0)),
            ("p50_us", .rounded(summary.1, 1)), ("p90_us", .rounded(summary.2, 1)), ("p99_us", .rounded(summary.3, 1)),
            ("max_us", .rounded(summary.4, 1)), ("watch_failure", summary.6.map { .string($0) } ?? .null),
        ]
        if let peak { fields.append(("apiserver_peak_rss_kb", .integer(peak))) }
        if let baselineKilobytes, let withWatchersKilobytes {
            fields.append(("apiserver_rss_before_watchers_kb", .integer(baselineKilobytes)))
            fields.append(("apiserver_rss_with_watchers_kb", .integer(withWatchersKilobytes)))
            if let peak, watchers > 0 {
                fields.append(("bytes_per_watcher_idle", .integer((withWatchersKilobytes - baselineKilobytes) * 1024 / watchers)))
                fields.append(("bytes_per_watcher_peak", .integer((peak - baselineKilobytes) * 1024 / watchers)))
            }
        }
        return Measurement(fields: fields, beforeWatchersKilobytes: baselineKilobytes, peakKilobytes: peak)
    }
}

/// ApiFanoutState counts deliveries and matches them to write acknowledgements; driver loop only.
final class ApiFanoutState: @unchecked Sendable {
    // Safety of @unchecked Sendable: touched on the driver's loop only.
    var delivered: [Int]
    var deliveries = 0
    var lastDelivery: UInt64 = 0
    var acknowledgedAt: [String: UInt64] = [:]
    var earlyArrivals: [String: Int] = [:]
    var histogram = Histogram<UInt64>(highestTrackableValue: 600_000_000_000, numberOfSignificantValueDigits: .three)
    var failure: String?
    var finished = false

    init(watchers: Int) { delivered = [Int](repeating: 0, count: watchers) }

    var minimumDelivered: Int { delivered.min() ?? 0 }
    var maximum: Double { Double(histogram.max) / 1000 }
    func percentile(_ value: Double) -> Double { Double(histogram.valueAtPercentile(value)) / 1000 }

    func acknowledged(_ resourceVersion: String) {
        acknowledgedAt[resourceVersion] = monotonicNanoseconds()
        if let early = earlyArrivals.removeValue(forKey: resourceVersion) {
            _ = histogram.record(0, count: UInt64(early))
        }
    }

    func handle(_ kind: ApiClient.WatchEventKind?, _ bytes: [UInt8], _ error: ApiError?, watcher: Int) {
        guard let kind else {
            if !finished, failure == nil, let error { failure = "watch ended: \(error)" }
            return
        }
        if kind == .error {
            if failure == nil { failure = "watch error: \(error.map { "\($0)" } ?? "?")" }
            return
        }
        // Field 1 of every kind is its ObjectMeta: reading the pod as PartialObjectMetadata gets
        // the resourceVersion without building the whole Pod, so that the driver measures the
        // server rather than its own decoding.
        guard kind == .added || kind == .modified, let partial = try? PartialObjectMetadata(protobuf: bytes) else { return }
        let now = monotonicNanoseconds()
        let version = partial.metadata?.resourceVersion ?? ""
        if let acknowledged = acknowledgedAt[version] {
            _ = histogram.record(now > acknowledged ? now - acknowledged : 0)
        } else {
            earlyArrivals[version, default: 0] += 1
        }
        delivered[watcher] += 1
        deliveries += 1
        lastDelivery = now
    }
}
