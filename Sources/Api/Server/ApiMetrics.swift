import Foundation
import Prometheus

/// ApiMetrics is what the API server counts about itself, served as Prometheus text on
/// `/metrics`, with Kubernetes' metric names where one exists so that dashboards for
/// kube-apiserver read it:
///
/// - `apiserver_request_total{verb,group,resource,subresource,code}` and
///   `apiserver_request_duration_seconds{verb,group,resource,subresource}`: every request,
///   through either door (binary protocol or HTTPS);
/// - `apiserver_current_inflight_requests{request_kind}`: readOnly and mutating requests now;
/// - `apiserver_registered_watchers{group,resource}` and `apiserver_watch_events_total`: watches
///   open and events delivered to watchers;
/// - `skiff_store_request_duration_seconds{operation}`: the store calls of the registry;
/// - `process_resident_memory_bytes`: read at scrape time.
public final class ApiMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let watchEventsSent: Counter
    private let inFlightReadOnly: Gauge
    private let inFlightMutating: Gauge
    private let residentMemory: Gauge

    static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5), .seconds(30), .seconds(60),
    ]

    public init() {
        watchEventsSent = registry.makeCounter(descriptor: MetricNameDescriptor(
            metricName: "apiserver_watch_events", unitName: "total",
            helpText: "Events delivered to watchers (one per watcher per event)."))
        let inFlight = MetricNameDescriptor(
            metricName: "apiserver_current_inflight", unitName: "requests",
            helpText: "Requests being served now, by kind (readOnly: get, list, watch; mutating: the rest).")
        inFlightReadOnly = registry.makeGauge(descriptor: inFlight, labels: [("request_kind", "readOnly")])
        inFlightMutating = registry.makeGauge(descriptor: inFlight, labels: [("request_kind", "mutating")])
        residentMemory = registry.makeGauge(descriptor: MetricNameDescriptor(
            metricName: "process_resident_memory", unitName: "bytes", helpText: "Resident memory size of the process."))
    }

    /// Marks a request as started; call `finished` on what it returns when it is answered.
    func started(verb: Verb, group: String, resource: String, subresource: String) -> InFlightRequest {
        let gauge = verb.isReadOnly ? inFlightReadOnly : inFlightMutating
        gauge.increment()
        return InFlightRequest(
            metrics: self, gauge: gauge, verb: verb.rawValue, group: group, resource: resource, subresource: subresource,
            start: ContinuousClock.now)
    }

    /// A request that is not on a resource (discovery, health, metrics).
    func started(nonResourcePath path: String, verb: Verb) -> InFlightRequest {
        started(verb: verb, group: "", resource: "", subresource: path)
    }

    struct InFlightRequest: Sendable {
        let metrics: ApiMetrics
        let gauge: Gauge
        let verb: String
        let group: String
        let resource: String
        let subresource: String
        let start: ContinuousClock.Instant

        /// Counts the request with its HTTP status code. Watches count when they start
        /// (their duration is the client's choice, not the server's latency).
        func finished(code: Int) {
            gauge.decrement()
            let labels = [("verb", verb), ("group", group), ("resource", resource), ("subresource", subresource)]
            metrics.registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    metricName: "apiserver_request", unitName: "total",
                    helpText: "Requests answered, by verb, group, resource, subresource and HTTP code."),
                labels: labels + [("code", String(code))]
            ).increment()
            metrics.registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    metricName: "apiserver_request_duration", unitName: "seconds",
                    helpText: "Time to answer a request, by verb, group, resource and subresource."),
                labels: labels, buckets: ApiMetrics.latencyBuckets
            ).record(ContinuousClock.now - start)
        }
    }

    /// Counts one event delivered to `count` watchers.
    func watchEventsDelivered(_ count: Int) {
        if count > 0 { watchEventsSent.increment(by: Int64(count)) }
    }

    /// Records one store call of the registry.
    func storeRequest(_ operation: String, since start: ContinuousClock.Instant) {
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                metricName: "skiff_store_request_duration", unitName: "seconds",
                helpText: "Time of the API server's calls to the store, by operation."),
            labels: [("operation", operation)], buckets: Self.latencyBuckets
        ).record(ContinuousClock.now - start)
    }

    /// The Prometheus text exposition, with gauges that are read at scrape time refreshed first.
    func exposition(watchers: [(ResourceType, Int)]) -> [UInt8] {
        let watcherDescriptor = MetricNameDescriptor(
            metricName: "apiserver_registered", unitName: "watchers", helpText: "Watches open now, by group and resource.")
        for (type, count) in watchers {
            registry.makeGauge(descriptor: watcherDescriptor, labels: [("group", type.group), ("resource", type.plural)]).set(Int64(count))
        }
        if let kilobytes = Self.residentKilobytes() { residentMemory.set(Int64(kilobytes) * 1024) }
        return registry.emitToBuffer()
    }

    /// VmRSS of this process from /proc (nil where there is no /proc).
    static func residentKilobytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }
}
