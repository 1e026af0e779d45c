import Api
import Foundation
import Logging
import Synchronization
import Testing

@testable import Agents

@Suite struct ControllerManagerTests {
    @Test("--controllers: '*' enables all, a name enables one, -name disables one; unknown names are reported with the known ones")
    func controllerSelection() throws {
        let all = WorkloadControllers.all
        #expect(try ControllerManager.select(["*"], from: all).map { $0.name } == all.map { $0.name })
        #expect(try ControllerManager.select(["*", "-job"], from: all).map { $0.name }.contains("job") == false)
        #expect(try ControllerManager.select(["*", "-job"], from: all).count == all.count - 1)
        #expect(try ControllerManager.select(["deployment", "replicaset"], from: all).map { $0.name } == ["replicaset", "deployment"])
        #expect(try ControllerManager.select([], from: all).isEmpty)
        #expect(throws: ControllerSelectionError.self) { try ControllerManager.select(["*", "jobs"], from: all) }
        do {
            _ = try ControllerManager.select(["jobs"], from: all)
        } catch {
            #expect(error.description.contains("\"jobs\" is not a known controller"))
            #expect(error.description.contains("statefulset"))
        }
        #expect(throws: ControllerSelectionError.self) { try ControllerManager.select(["job", "-job"], from: all) }
    }

    @Test("every workload controller has a distinct kube-controller-manager name")
    func names() {
        let names = WorkloadControllers.all.map { $0.name }
        #expect(names == ["replicationcontroller", "replicaset", "deployment", "daemonset", "job", "statefulset"])
    }
}

@Suite struct ExpectationsTests {
    @Test("creations and deletions must be observed before a controller syncs again")
    func creationsAndDeletions() {
        let expectations = Expectations()
        #expect(expectations.satisfied("ns/web"))
        expectations.expectCreations("ns/web", count: 2)
        #expect(!expectations.satisfied("ns/web"))
        expectations.creationObserved("ns/web")
        #expect(!expectations.satisfied("ns/web"))
        expectations.creationObserved("ns/web")
        #expect(expectations.satisfied("ns/web"))

        expectations.expectDeletions("ns/web", dependents: ["ns/a", "ns/b"])
        expectations.deletionObserved("ns/web", dependent: "ns/a")
        expectations.deletionObserved("ns/web", dependent: "ns/a")
        #expect(!expectations.satisfied("ns/web"))
        #expect(expectations.pending("ns/web") == (0, 1))
        expectations.deletionObserved("ns/web", dependent: "ns/b")
        #expect(expectations.satisfied("ns/web"))

        expectations.expectCreations("ns/web", count: 5)
        expectations.creationsSkipped("ns/web", count: 5)
        #expect(expectations.satisfied("ns/web"))
        expectations.expectCreations("ns/web", count: 1)
        expectations.forget("ns/web")
        #expect(expectations.satisfied("ns/web"))
    }

    @Test("expectations not met within the timeout count as met")
    func timeout() async throws {
        let expectations = Expectations(timeoutSeconds: 0.05)
        expectations.expectCreations("ns/web", count: 1)
        #expect(!expectations.satisfied("ns/web"))
        try await Task.sleep(for: .milliseconds(100))
        #expect(expectations.satisfied("ns/web"))
    }
}

@Suite struct ReconcileLoopTests {
    final class Calls: Sendable {
        let keys = Mutex<[String]>([])
        let failuresLeft = Mutex<[String: Int]>([:])
    }

    @Test("a failing sync is retried with back-off until it succeeds; a succeeding key is synced once per add")
    func retriesAndForgets() async throws {
        var configuration = ReconcileLoop.defaultQueueConfiguration
        configuration.baseDelayNanoseconds = 1_000_000
        let loop = ReconcileLoop(name: "test", workers: 2, logger: Logger(label: "test"), queueConfiguration: configuration)
        let calls = Calls()
        calls.failuresLeft.withLock { $0["ns/flaky"] = 3 }
        let task = Task {
            await loop.run { key in
                calls.keys.withLock { $0.append(key) }
                let fail = calls.failuresLeft.withLock { left -> Bool in
                    guard let count = left[key], count > 0 else { return false }
                    left[key] = count - 1
                    return true
                }
                if fail { throw ApiError.conflict(Pod.resourceType, key, "try again") }
            }
        }
        loop.enqueue("ns/flaky")
        loop.enqueue("ns/steady")
        let deadline = Date().addingTimeInterval(10)
        while calls.keys.withLock({ $0.filter { $0 == "ns/flaky" }.count }) < 4 && Date() < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        try await Task.sleep(for: .milliseconds(50))
        let keys = calls.keys.withLock { $0 }
        #expect(keys.filter { $0 == "ns/flaky" }.count == 4, "three failures, then one success: \(keys)")
        #expect(keys.filter { $0 == "ns/steady" }.count == 1)
        #expect(loop.queue.requeueCount("ns/flaky") == 0, "success forgets the back-off")
        task.cancel()
        await task.value
        #expect(loop.queue.isShuttingDown)
    }

    @Test("owner handler enqueues the controller owner of the right kind, old and new on a change")
    func ownerHandler() async throws {
        let loop = ReconcileLoop(name: "test", workers: 1, logger: Logger(label: "test"))
        let orphans = Mutex<[String]>([])
        let handler = loop.ownerHandler(Pod.self, ownerKind: "ReplicaSet") { pod in orphans.withLock { $0.append(pod.metadata?.name ?? "") } }
        let owned = Fixtures.pod("a", owner: Fixtures.ownerReference(kind: "ReplicaSet", name: "web-1", uid: "u1"))
        handler.onAdd(owned)
        handler.onAdd(Fixtures.pod("b", owner: Fixtures.ownerReference(kind: "StatefulSet", name: "db", uid: "u2")))
        handler.onAdd(Fixtures.pod("c"))
        let moved = Fixtures.pod("a", owner: Fixtures.ownerReference(kind: "ReplicaSet", name: "web-2", uid: "u3"))
        handler.onUpdate(owned, moved)
        #expect(orphans.withLock { $0 } == ["c"])
        var seen: Set<String> = []
        while loop.queue.count > 0, let key = await loop.queue.get() {
            seen.insert(key)
            loop.queue.done(key)
        }
        #expect(seen == ["ns/web-1", "ns/web-2"])
    }
}
