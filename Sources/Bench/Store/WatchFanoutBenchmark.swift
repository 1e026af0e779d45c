import Foundation
import Histogram
import Raft
import Wire

/// The etcd anchor's watch_fanout workload against the store: W watchers on one prefix spread
/// over C connections, all confirmed created, then one writer on its own connection puts N keys
/// open-loop at R/s (at most 256 in flight) with the send time in the first 8 value bytes.
/// Latency is receipt time minus that timestamp, measured in this process on one clock.
extension StoreBenchmark {
    public static let watchPrefix = Array("/bench/watch/".utf8)

    public static func watchFanout(_ target: Target, _ options: Options) async throws -> JSON {
        let leaderAddress = try await leader(target)
        let prefixEnd = watchPrefix.dropLast() + [watchPrefix.last! + 1]
        let connections = (0..<options.watchConnections).map {
            target.client(target.endpoints[$0 % target.endpoints.count], identity: "watch\($0)")
        }
        let writer = target.client(leaderAddress, identity: "writer")
        defer {
            for connection in connections + [writer] { Task { await connection.shutdown() } }
        }
        for connection in connections + [writer] { try await connection.waitUntilReady() }
        let state = FanoutState(watchers: options.watchers)
        let request = WatchCreateRequest(key: watchPrefix, rangeEnd: Array(prefixEnd)).protobufBytes()

        // Open every watch and wait until each is confirmed.
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            target.loop.execute {
                state.onAllCreated = { continuation.resume() }
                state.onFailure = { continuation.resume(throwing: BenchmarkError("watch failed: \($0)")) }
                for watcher in 0..<options.watchers {
                    connections[watcher % connections.count].openStream("store.Watch", request) { event in
                        state.handle(event, watcher: watcher)
                    }
                }
            }
        }

        let probe = Probe(target.cluster)
        let value = randomValue(options.valueBytes)
        let events = options.watchEvents
        let rate = options.watchRate
        let offset = options.keyOffset
        let writeSummary: (putLatencies: [UInt64], errors: Int, seconds: Double, firstPut: UInt64) =
            await withUnsafeContinuation { continuation in
                target.loop.execute {
                    var issued = 0
                    var finished = 0
                    var inFlight = 0
                    var errors = 0
                    var latencies: [UInt64] = []
                    let begin = monotonicNanoseconds()
                    let timer = LoopTimer(loop: target.loop)
                    func issue() {
                        let due = min(events, Int(Double(monotonicNanoseconds() - begin) / 1e9 * Double(rate)) + 1)
                        while issued < due && inFlight < 256 {
                            var payload = value
                            let sentAt = monotonicNanoseconds()
                            for byte in 0..<8 { payload[byte] = UInt8(truncatingIfNeeded: sentAt >> (56 - 8 * UInt64(byte))) }
                            let key = watchPrefix + StoreBenchmark.key(tag: "W", offset + UInt64(issued), bytes: options.keyBytes)
                            issued += 1
                            inFlight += 1
                            writer.start("store.Put", PutRequest(key: key, value: payload).protobufBytes(), timeoutMilliseconds: 30_000) {
                                result in
                                inFlight -= 1
                                finished += 1
                                if case .failure = result { errors += 1 } else { latencies.append(monotonicNanoseconds() - sentAt) }
                                if finished == events {
                                    timer.cancel()
                                    continuation.resume(returning: (latencies, errors, Double(monotonicNanoseconds() - begin) / 1e9, begin))
                                }
                            }
                        }
                    }
                    timer.arm(milliseconds: 1, repeatMilliseconds: 1) { issue() }
                    issue()
                }
            }

        // Drain: wait until every watcher saw every successful put, or the drain timeout.
        let expectedPerWatcher = events - writeSummary.errors
        let drainDeadline = Date().addingTimeInterval(options.watchDrainSeconds)
        while Date() < drainDeadline {
            let done = await target.loop.submit { state.minimumDelivered >= expectedPerWatcher }
            if done { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let snapshot = await target.loop.submit { () -> (deliveries: Int, p50: Double, p90: Double, p99: Double, max: Double, eventsPerMessage: Double, lastDeliveryNanoseconds: UInt64) in
            state.finished = true
            return state.summary()
        }
        let failure = await target.loop.submit { state.failure }
        let expected = options.watchers * expectedPerWatcher
        let lastDelivery = snapshot.lastDeliveryNanoseconds
        let span = Double(max(lastDelivery, writeSummary.firstPut + 1) - writeSummary.firstPut) / 1e9
        let puts = LatencySummary(nanoseconds: writeSummary.putLatencies)
        return .object(
            [("workload", "watch_fanout"), ("layer", "store"), ("leader", .string(leaderAddress.description)),
             ("watchers", .integer(options.watchers)), ("watch_conns", .integer(options.watchConnections)),
             ("puts", .integer(events)), ("put_errors", .integer(writeSummary.errors)),
             ("target_rate", .integer(rate)),
             ("achieved_put_rate", .rounded(Double(events) / writeSummary.seconds, 1)),
             ("deliveries", .integer(snapshot.deliveries)), ("expected_deliveries", .integer(expected)),
             ("lost", .integer(expected - snapshot.deliveries)),
             ("deliveries_per_s", .rounded(Double(snapshot.deliveries) / span, 0)),
             ("p50_us", .rounded(snapshot.p50, 1)), ("p90_us", .rounded(snapshot.p90, 1)),
             ("p99_us", .rounded(snapshot.p99, 1)), ("max_us", .rounded(snapshot.max, 1)),
             ("events_per_msg", .rounded(snapshot.eventsPerMessage, 2)),
             ("put_p50_us", .rounded(puts.p50, 1)), ("put_p99_us", .rounded(puts.p99, 1)),
             ("watch_failure", failure.map { .string($0) } ?? .null)]
                + probe.fields())
    }
}

/// FanoutState counts what the watchers received; touched on the driver loop only.
final class FanoutState: @unchecked Sendable {
    // Safety of @unchecked Sendable: every method runs on the driver's loop.
    var delivered: [Int]
    var created = 0
    var messages = 0
    var deliveries = 0
    var lastDeliveryNanoseconds: UInt64 = 0
    var histogram = Histogram<UInt64>(highestTrackableValue: 600_000_000_000, numberOfSignificantValueDigits: .three)
    var onAllCreated: (() -> Void)?
    /// Set once the measurement is over, before the connections close.
    var finished = false
    var onFailure: ((String) -> Void)?

    init(watchers: Int) {
        delivered = [Int](repeating: 0, count: watchers)
    }

    var minimumDelivered: Int { delivered.min() ?? 0 }

    func handle(_ event: ClientStreamEvent, watcher: Int) {
        switch event {
        case .item(let bytes):
            guard let response = try? WatchResponse(protobuf: bytes) else {
                fail("undecodable watch response")
                return
            }
            if response.created {
                created += 1
                if created == delivered.count, let onAllCreated {
                    self.onAllCreated = nil
                    onFailure = nil
                    onAllCreated()
                }
                return
            }
            if response.canceled { fail("watch canceled: \(response.cancelReason)"); return }
            guard !response.events.isEmpty else { return }
            let now = monotonicNanoseconds()
            messages += 1
            for event in response.events {
                let value = event.kv?.value ?? []
                guard value.count >= 8 else { continue }
                var sentAt: UInt64 = 0
                for byte in 0..<8 { sentAt = sentAt << 8 | UInt64(value[byte]) }
                _ = histogram.record(now > sentAt ? now - sentAt : 0)
            }
            delivered[watcher] += response.events.count
            deliveries += response.events.count
            lastDeliveryNanoseconds = now
        case .end(let error):
            // Ends during shutdown are expected; before that, any end is a failure.
            if let error, !finished { fail("watch ended: \(error)") }
        }
    }

    /// The first thing that went wrong with a watch, reported in the result.
    var failure: String?

    private func fail(_ reason: String) {
        if failure == nil { failure = reason }
        if let onFailure {
            self.onFailure = nil
            onAllCreated = nil
            onFailure(reason)
        }
    }

    func summary() -> (deliveries: Int, p50: Double, p90: Double, p99: Double, max: Double, eventsPerMessage: Double, lastDeliveryNanoseconds: UInt64) {
        (deliveries,
         Double(histogram.valueAtPercentile(50)) / 1000, Double(histogram.valueAtPercentile(90)) / 1000,
         Double(histogram.valueAtPercentile(99)) / 1000, Double(histogram.max) / 1000,
         messages == 0 ? 0 : Double(deliveries) / Double(messages), lastDeliveryNanoseconds)
    }
}
