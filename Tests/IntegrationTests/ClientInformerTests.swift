import Api
import Bench
import Foundation
import Synchronization
import Testing
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// ClientEventRecorder keeps an informer's handler calls as lines ("add web-1").
final class ClientEventRecorder: Sendable {
    let lines = Mutex<[String]>([])

    func handler() -> Informer<Pod>.EventHandler {
        Informer<Pod>.EventHandler(
            onAdd: { pod in self.append("add \(pod.metadata?.name ?? "")") },
            onUpdate: { old, new in
                let same = old.metadata?.resourceVersion == new.metadata?.resourceVersion
                self.append("\(same ? "resync" : "update") \(new.metadata?.name ?? "")")
            },
            onDelete: { pod in self.append("delete \(pod.metadata?.name ?? "")") })
    }

    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
    func since(_ start: Int) -> [String] { lines.withLock { Array($0[min(start, $0.count)...]) } }
}

/// Informers against a real store and API server processes.
@Suite("Client informer over loopback (real processes)", .serialized)
struct ClientInformerTests {
    static func pod(_ name: String, image: String = "nginx:1.27") -> Pod {
        ApiServerTests.pod(name, image: image, labels: ["app": name.hasPrefix("web") ? "web" : "other"])
    }

    static func setImage(_ client: ApiClient, _ name: String, _ image: String) async throws {
        var pod = try await client.get(Pod.self, namespace: "default", name: name)
        pod.spec?.containers[0].image = image
        _ = try await client.update(pod)
    }

    @Test("an informer lists in pages, then sees creates, updates and deletes in order; indexes and resync follow")
    func listThenWatch() async throws {
        let cluster = try ApiCluster(agentctl: BuildProducts.directory.appendingPathComponent("agentctl").path)
        defer { cluster.stop() }
        try cluster.start()
        try await cluster.waitUntilServing()
        let client = ApiClient(address: cluster.apiAddresses[0], token: cluster.adminToken, component: "test", identity: "informer")
        defer { Task { await client.close() } }
        for name in ["web-1", "web-2", "web-3", "db-1", "db-2"] { _ = try await client.create(Self.pod(name)) }

        var configuration = Informer<Pod>.Configuration(namespace: "default")
        configuration.pageSize = 2
        configuration.resyncPeriodMilliseconds = 300
        let informer = Informer<Pod>(
            client: client, configuration: configuration,
            indexes: ["nodeName": { pod in pod.spec?.nodeName.map { [$0] } ?? [] }])
        let recorder = ClientEventRecorder()
        informer.addEventHandler(recorder.handler())
        informer.start()
        #expect(await informer.waitUntilSynced())
        #expect(informer.hasSynced)
        #expect(Set(recorder.all.filter { $0.hasPrefix("add") }) == ["add web-1", "add web-2", "add web-3", "add db-1", "add db-2"])
        #expect(informer.lister.list(namespace: "default").count == 5, "three pages of two")
        let web = try ParsedLabelSelector(parsing: "app=web")
        #expect(informer.lister.list(namespace: "default", selector: web).map { $0.metadata?.name } == ["web-1", "web-2", "web-3"])

        let mark = recorder.all.count
        _ = try await client.create(Self.pod("web-4"))
        try await Self.setImage(client, "web-1", "nginx:1.28")
        try await client.delete(Pod.self, namespace: "default", name: "web-2", gracePeriodSeconds: 0)
        try await client.bind(podNamespace: "default", podName: "web-3", node: "node-a")
        let seen = await clientEventually {
            recorder.since(mark).filter { !$0.hasPrefix("resync") } == ["add web-4", "update web-1", "delete web-2", "update web-3"]
        }
        #expect(seen, "events: \(recorder.since(mark).filter { !$0.hasPrefix("resync") })")
        #expect(informer.lister.get(namespace: "default", name: "web-1")?.spec?.containers[0].image == "nginx:1.28")
        #expect(informer.lister.get(namespace: "default", name: "web-2") == nil)
        #expect(informer.lister.byIndex("nodeName", "node-a").map { $0.metadata?.name } == ["web-3"])
        // Resync re-delivers cached objects as updates with old == new.
        let resynced = await clientEventually(seconds: 10) { recorder.all.filter { $0 == "resync web-4" }.count >= 2 }
        #expect(resynced)
        #expect(informer.listCount == 1, "no relist without a reason")
        await informer.stop()
    }

    /// Kills the API server the informer watches, writes through a second one (so the store
    /// moves on), and starts a new API server at the first address: its fresh watch cache has
    /// no history, so the informer's watch from its last resourceVersion gets 410 Expired, and
    /// the informer must relist and deliver exactly what changed.
    @Test("after the API server restarts, the watch gets 410, the informer relists and its lister converges")
    func relistAfterExpired() async throws {
        let agentctl = BuildProducts.directory.appendingPathComponent("agentctl").path
        let cluster = try ApiCluster(apiServers: 2, agentctl: agentctl)
        defer { cluster.stop() }
        try cluster.start()
        try await cluster.waitUntilServing()
        let watched = ApiClient(address: cluster.apiAddresses[0], token: cluster.adminToken, component: "test", identity: "informer")
        let writer = ApiClient(address: cluster.apiAddresses[1], token: cluster.adminToken, component: "test", identity: "writer")
        defer { Task { await watched.close(); await writer.close() } }
        for name in ["web-1", "web-2", "web-3"] { _ = try await writer.create(Self.pod(name)) }

        var configuration = Informer<Pod>.Configuration(namespace: "default")
        configuration.retryMaximumMilliseconds = 500
        let informer = Informer<Pod>(client: watched, configuration: configuration)
        let recorder = ClientEventRecorder()
        informer.addEventHandler(recorder.handler())
        informer.start()
        #expect(await informer.waitUntilSynced())
        #expect(await clientEventually { informer.lister.list().count == 3 })

        cluster.killApiServer(0)
        let mark = recorder.all.count
        _ = try await writer.create(Self.pod("web-4"))
        try await writer.delete(Pod.self, namespace: "default", name: "web-2", gracePeriodSeconds: 0)
        try await Self.setImage(writer, "web-3", "nginx:1.28")
        for index in 0..<20 { _ = try await writer.create(Self.pod("db-\(index)")) }
        for index in 0..<20 { try await writer.delete(Pod.self, namespace: "default", name: "db-\(index)", gracePeriodSeconds: 0) }

        let restarted = Process()
        restarted.executableURL = URL(fileURLWithPath: agentctl)
        restarted.arguments = cluster.arguments(forApiServer: 0, name: "apiserver-1-restarted")
        let logPath = cluster.store.workDirectory + "/apiserver-1-restarted.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        restarted.standardOutput = log
        restarted.standardError = log
        try restarted.run()
        defer {
            if restarted.isRunning { kill(restarted.processIdentifier, SIGTERM) }
            restarted.waitUntilExit()
        }

        let converged = await clientEventually(seconds: 40) {
            informer.listCount >= 2
                && Set(informer.lister.list().compactMap { $0.metadata?.name }) == ["web-1", "web-3", "web-4"]
                && informer.lister.get(namespace: "default", name: "web-3")?.spec?.containers[0].image == "nginx:1.28"
        }
        #expect(converged, "lister: \(informer.lister.list().compactMap { $0.metadata?.name }), lists \(informer.listCount), broken \(informer.brokenWatchCount), expired \(informer.expiredWatchCount), last error \(informer.lastError.map { "\($0)" } ?? "none"), log: \((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
        #expect(informer.expiredWatchCount >= 1, "the reopened watch got 410 Expired")
        // (Whether the kill shows first as a broken stream or only as the reopened watch's 410
        // depends on timing; the 410 and the relist are what must happen.)
        #expect(informer.listCount >= 2, "the informer relisted")
        let changes = Set(recorder.since(mark))
        #expect(changes.isSuperset(of: ["add web-4", "delete web-2", "update web-3"]), "relist diff: \(recorder.since(mark))")
        #expect(!changes.contains { $0.hasPrefix("add db-") }, "objects created and deleted while the watch was down are never seen")
        #expect(!changes.contains("add web-1") && !changes.contains("update web-1"), "unchanged objects are not re-delivered")

        // The informer keeps watching after the relist.
        _ = try await writer.create(Self.pod("web-5"))
        #expect(await clientEventually { informer.lister.get(namespace: "default", name: "web-5") != nil })
        await informer.stop()
    }
}
