import Api
import Bench
import Foundation
import Testing
import Wire

/// Binary watchers whose connection falls behind stop being fed and later catch up from the
/// watch cache's history (WatchCache.catchUp): nothing is lost, repeated or reordered.
@Suite("Watch catch-up from the cache's history (real processes)", .serialized)
struct WatchCatchUpTests {
    @Test("watchers whose connection stops reading for a while get every event exactly once and in order")
    func laggingWatchersCatchUp() async throws {
        let cluster = try ApiCluster(agentctl: BuildProducts.directory.appendingPathComponent("agentctl").path)
        // A small connection buffer, so that the watchers fall behind after a few events; a long
        // grace period, so that a busy machine does not turn the pause into a cut-off.
        cluster.apiServerArguments = ["--connection-buffer-bytes", "65536", "--slow-watcher-grace-milliseconds", "60000"]
        defer { cluster.stop() }
        try cluster.start()
        try await cluster.waitUntilServing()
        let address = cluster.apiAddresses[0]
        let writer = ApiClient(address: address, token: cluster.adminToken, component: "test", identity: "writer")
        let watcherLoop = EventLoop(name: "lagging")
        let watching = ApiClient(address: address, token: cluster.adminToken, component: "test", identity: "lagging", loop: watcherLoop)
        defer {
            Task {
                await writer.close()
                await watching.close()
                watcherLoop.shutdown()
            }
        }
        let listed = try await writer.list(Pod.self, namespace: "default")
        let watchers = 40
        let seen = SeenEvents(watchers: watchers)
        for watcher in 0..<watchers {
            watching.watchRaw(Pod.self, namespace: "default", resourceVersion: listed.resourceVersion, bookmarks: false) {
                kind, bytes, error in
                if kind == .error || (kind == nil && error != nil) {
                    seen.fail("watcher \(watcher) ended: \(error.map { "\($0)" } ?? "?")")
                    return
                }
                guard kind == .added, let meta = try? PartialObjectMetadata(protobuf: bytes).metadata else { return }
                seen.add(watcher, name: meta.name ?? "", resourceVersion: Int64(meta.resourceVersion ?? "") ?? -1)
            }
        }
        _ = try await watching.list(Namespace.self, limit: 1)
        let padding = String(repeating: "p", count: 4096)
        let total = 300
        var created: [String] = []
        for index in 0..<total {
            if index == 50 {
                // The watchers' loop stops reading for a while: their connection fills up, and
                // the server stops feeding them until it drains.
                watcherLoop.execute { Thread.sleep(forTimeInterval: 0.8) }
            }
            var pod = ApiServerTests.pod("catch-up-\(index)")
            pod.metadata?.annotations = ["padding": padding]
            _ = try await writer.create(pod)
            created.append("catch-up-\(index)")
        }
        try await seen.waitForAll(total, seconds: 120)
        #expect(seen.failure == nil)
        for watcher in 0..<watchers {
            let events = seen.events(watcher)
            #expect(events.map(\.name) == created, "watcher \(watcher): \(events.count) events, not each pod once in order")
            #expect(zip(events, events.dropFirst()).allSatisfy { $0.resourceVersion < $1.resourceVersion })
        }
    }
}

/// What each watcher received, in order.
final class SeenEvents: @unchecked Sendable {
    private let lock = NSLock()
    private var received: [[(name: String, resourceVersion: Int64)]]
    private var firstFailure: String?

    init(watchers: Int) { received = Array(repeating: [], count: watchers) }

    func add(_ watcher: Int, name: String, resourceVersion: Int64) {
        lock.withLock { received[watcher].append((name, resourceVersion)) }
    }

    func fail(_ message: String) { lock.withLock { if firstFailure == nil { firstFailure = message } } }

    var failure: String? { lock.withLock { firstFailure } }

    func events(_ watcher: Int) -> [(name: String, resourceVersion: Int64)] { lock.withLock { received[watcher] } }

    func waitForAll(_ total: Int, seconds: Double) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while lock.withLock({ received.map(\.count).min() ?? 0 }) < total {
            if let failure { throw TestError(failure) }
            if Date() > deadline {
                throw TestError("a watcher got only \(lock.withLock { received.map(\.count).min() ?? 0 }) of \(total) events")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
