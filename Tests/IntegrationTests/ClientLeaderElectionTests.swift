import Api
import Bench
import Foundation
import Synchronization
import Testing
import Wire

/// Leader election through a Lease in kube-system, against a real store and API server.
@Suite("Client leader election over loopback (real processes)", .serialized)
struct ClientLeaderElectionTests {
    final class Candidate: Sendable {
        let identity: String
        let client: ApiClient
        let elector: LeaderElector
        let task = Mutex<Task<Void, Never>?>(nil)

        init(_ identity: String, cluster: ApiCluster, leaseDurationMilliseconds: UInt64) {
            self.identity = identity
            client = ApiClient(address: cluster.apiAddresses[0], token: cluster.adminToken, component: "test", identity: identity)
            var configuration = LeaderElector.Configuration(name: "client-test", identity: identity)
            configuration.leaseDurationMilliseconds = leaseDurationMilliseconds
            configuration.renewDeadlineMilliseconds = leaseDurationMilliseconds * 2 / 3
            configuration.renewPeriodMilliseconds = 300
            configuration.retryPeriodMilliseconds = 300
            elector = LeaderElector(client: client, configuration: configuration, callbacks: LeaderElector.Callbacks())
        }

        func start() {
            task.withLock { task in
                task = Task { [elector] in await elector.run() }
            }
        }

        /// A crash: the run loop ends without writing the lease.
        func crash() async {
            let running = task.withLock { $0 }
            running?.cancel()
            await running?.value
        }

        func stopGracefully() async {
            elector.stop()
            await task.withLock { $0 }?.value
        }
    }

    static func leaders(_ candidates: [Candidate]) -> [String] {
        candidates.filter(\.elector.isLeader).map(\.identity)
    }

    @Test("two candidates: exactly one leads; a crashed leader is replaced after the lease expires; a graceful stop hands over fast")
    func electionAndFailover() async throws {
        let cluster = try ApiCluster(agentctl: BuildProducts.directory.appendingPathComponent("agentctl").path)
        defer { cluster.stop() }
        try cluster.start()
        try await cluster.waitUntilServing()
        let leaseMilliseconds: UInt64 = 4_000
        let first = Candidate("candidate-a", cluster: cluster, leaseDurationMilliseconds: leaseMilliseconds)
        let second = Candidate("candidate-b", cluster: cluster, leaseDurationMilliseconds: leaseMilliseconds)
        defer { Task { await first.client.close(); await second.client.close() } }
        first.start()
        second.start()

        #expect(await clientEventually { Self.leaders([first, second]).count == 1 })
        // Sample for a while: never two leaders.
        for _ in 0..<20 {
            #expect(Self.leaders([first, second]).count == 1, "leaders: \(Self.leaders([first, second]))")
            try await Task.sleep(for: .milliseconds(100))
        }
        let leader = first.elector.isLeader ? first : second
        let follower = leader === first ? second : first
        let lease = try await leader.client.get(Lease.self, namespace: "kube-system", name: "client-test")
        #expect(lease.spec?.holderIdentity == leader.identity)
        #expect(follower.elector.observedLeader == leader.identity)

        // Crash the leader: the follower must wait out the lease, then take over.
        let crashedAt = Date()
        await leader.crash()
        #expect(!leader.elector.isLeader)
        let tookOver = await clientEventually(seconds: 30) { follower.elector.isLeader }
        let failover = Date().timeIntervalSince(crashedAt)
        #expect(tookOver)
        #expect(failover >= 1.5, "took over after \(failover) s, before the \(leaseMilliseconds) ms lease could expire")
        #expect(failover <= Double(leaseMilliseconds) / 1000 + 4, "took over after \(failover) s")
        let taken = try await follower.client.get(Lease.self, namespace: "kube-system", name: "client-test")
        #expect(taken.spec?.holderIdentity == follower.identity)
        #expect((taken.spec?.leaseTransitions ?? 0) >= 1)

        // A third candidate; the leader stops gracefully and releases: fast hand-over.
        let third = Candidate("candidate-c", cluster: cluster, leaseDurationMilliseconds: leaseMilliseconds)
        defer { Task { await third.client.close() } }
        third.start()
        try await Task.sleep(for: .milliseconds(700))
        #expect(!third.elector.isLeader)
        let releasedAt = Date()
        await follower.stopGracefully()
        #expect(!follower.elector.isLeader)
        let handedOver = await clientEventually(seconds: 30) { third.elector.isLeader }
        let handover = Date().timeIntervalSince(releasedAt)
        #expect(handedOver)
        #expect(handover < Double(leaseMilliseconds) / 1000 - 1, "hand-over took \(handover) s: the release did not free the lease")
        await third.stopGracefully()
        let released = try await third.client.get(Lease.self, namespace: "kube-system", name: "client-test")
        let holder = released.spec?.holderIdentity ?? ""
        #expect(holder.isEmpty, "a graceful stop clears holderIdentity")
    }
}
