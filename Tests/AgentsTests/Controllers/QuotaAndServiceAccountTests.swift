import Foundation
import Testing

@testable import Agents
@testable import Api

@Suite struct QuotaUsageTests {
    static func pod(_ name: String, cpu: String? = nil, memoryLimit: String? = nil, phase: String = "Running") -> Pod {
        var pod = Fixture.pod(name, phase: phase)
        var resources = ResourceRequirements()
        if let cpu { resources.requests["cpu"] = Quantity(cpu) }
        if let memoryLimit { resources.limits["memory"] = Quantity(memoryLimit) }
        pod.spec?.containers[0].resources = resources
        return pod
    }

    @Test func podsAndTheirComputeResourcesAreSummed() {
        var initialised = Self.pod("init", cpu: "100m")
        var initContainer = Container()
        initContainer.name = "setup"
        initContainer.resources = ResourceRequirements(requests: ["cpu": Quantity("1")])
        initialised.spec?.initContainers = [initContainer]
        let objects = QuotaUsage.Objects(pods: [
            Self.pod("a", cpu: "250m", memoryLimit: "128Mi"), Self.pod("b", cpu: "500m", memoryLimit: "128Mi"),
            Self.pod("done", cpu: "4", phase: "Succeeded"), initialised,
        ])
        let hard: [String: Quantity] = [
            "pods": Quantity("10"), "count/pods": Quantity("10"), "requests.cpu": Quantity("4"), "cpu": Quantity("4"),
            "limits.memory": Quantity("1Gi"), "limits.cpu": Quantity("2"),
        ]
        let used = QuotaUsage.used(hard: hard, scopes: [], objects: objects, now: Fixture.epoch)
        #expect(used["pods"]?.string == "3")
        #expect(used["count/pods"]?.string == "3")
        // 250m + 500m + max(100m, init 1) = 1750m
        #expect(used["requests.cpu"]?.string == "1750m")
        #expect(used["cpu"]?.string == "1750m")
        #expect(used["limits.memory"]?.string == "256Mi")
        #expect(used["limits.cpu"]?.string == "0")
    }

    @Test func podsPastTheirDeletionGracePeriodNoLongerCount() {
        var leaving = Self.pod("leaving")
        leaving.metadata?.deletionTimestamp = ClusterTime.time(Fixture.epoch)
        #expect(QuotaUsage.counts(leaving, now: Fixture.epoch.addingTimeInterval(-1)))
        #expect(!QuotaUsage.counts(leaving, now: Fixture.epoch.addingTimeInterval(1)))
    }

    @Test func otherKindsAreCountedAndUnknownNamesLeftOut() {
        var loadBalancer = Fixture.service("lb", type: "LoadBalancer")
        loadBalancer.spec?.ports.append(Fixture.servicePort(443))
        var fast = Fixture.claim("fast", size: "5Gi", storageClass: "fast")
        fast.spec?.storageClassName = "fast"
        var objects = QuotaUsage.Objects(
            services: [Fixture.service(), loadBalancer], claims: [Fixture.claim("data", size: "1Gi"), fast])
        objects.count = { type in type == ConfigMap.resourceType ? 4 : type == Deployment.resourceType ? 2 : 0 }
        let hard = [
            "services", "services.loadbalancers", "services.nodeports", "persistentvolumeclaims", "requests.storage",
            "fast.storageclass.storage.k8s.io/requests.storage", "configmaps", "count/deployments.apps", "count/widgets.example.com",
            "secrets",
        ].reduce(into: [String: Quantity]()) { $0[$1] = Quantity("100") }
        let used = QuotaUsage.used(hard: hard, scopes: [], objects: objects, now: Fixture.epoch)
        #expect(used["services"]?.string == "2")
        #expect(used["services.loadbalancers"]?.string == "1")
        #expect(used["services.nodeports"]?.string == "2")
        #expect(used["persistentvolumeclaims"]?.string == "2")
        #expect(used["requests.storage"]?.string == "6Gi")
        #expect(used["fast.storageclass.storage.k8s.io/requests.storage"]?.string == "5Gi")
        #expect(used["configmaps"]?.string == "4")
        #expect(used["count/deployments.apps"]?.string == "2")
        #expect(used["secrets"]?.string == "0")
        #expect(used["count/widgets.example.com"] == nil)
    }

    @Test func scopedQuotasCountOnlyTheirPodsAndOnlyPodResources() {
        let objects = QuotaUsage.Objects(pods: [Self.pod("best-effort"), Self.pod("burstable", cpu: "1")], services: [Fixture.service()])
        let hard: [String: Quantity] = ["pods": Quantity("5"), "services": Quantity("5")]
        let bestEffort = QuotaUsage.used(hard: hard, scopes: ["BestEffort"], objects: objects, now: Fixture.epoch)
        #expect(bestEffort["pods"]?.string == "1")
        #expect(bestEffort["services"] == nil)
        #expect(QuotaUsage.used(hard: hard, scopes: ["NotBestEffort"], objects: objects, now: Fixture.epoch)["pods"]?.string == "1")
    }

    @Test func loweringIsDetectedPerResourceAndMappedToTheKindCounted() {
        let stored: [String: Quantity] = ["pods": Quantity("3"), "requests.cpu": Quantity("1"), "services": Quantity("1")]
        let used: [String: Quantity] = ["pods": Quantity("2"), "requests.cpu": Quantity("1500m"), "services": Quantity("1")]
        #expect(QuotaUsage.lowered(used, than: stored) == ["pods"])
        #expect(QuotaUsage.countedKind(ofResource: "limits.memory") == Pod.resourceType)
        #expect(QuotaUsage.countedKind(ofResource: "services.nodeports") == Service.resourceType)
        #expect(QuotaUsage.countedKind(ofResource: "gold.storageclass.storage.k8s.io/requests.storage") == PersistentVolumeClaim.resourceType)
        #expect(QuotaUsage.countedKind(ofResource: "count/deployments.apps") == Deployment.resourceType)
        #expect(QuotaUsage.countedKind(ofResource: "count/nodes") == nil, "cluster-scoped kinds are not counted per namespace")
    }

    @Test func statusIsRewrittenOnlyWhenAmountsChange() {
        var quota = ResourceQuota()
        quota.spec = ResourceQuotaSpec(hard: ["pods": Quantity("2")])
        let first = QuotaUsage.desiredStatus(of: quota, used: ["pods": Quantity("1")])
        #expect(first?.hard["pods"]?.string == "2")
        #expect(first?.used["pods"]?.string == "1")
        quota.status = ResourceQuotaStatus(hard: ["pods": Quantity("2")], used: ["pods": Quantity("1000m")])
        #expect(QuotaUsage.desiredStatus(of: quota, used: ["pods": Quantity("1")]) == nil)
        #expect(QuotaUsage.desiredStatus(of: quota, used: ["pods": Quantity("2")]) != nil)
    }
}

@Suite struct ServiceAccountTests {
    static let key = Array(repeating: UInt8(7), count: 32)

    static func account(_ name: String = "builder", uid: String = "sa-uid") -> ServiceAccount {
        var account = ServiceAccount()
        account.metadata = Fixture.meta(name, namespace: "ci", uid: uid)
        return account
    }

    static func tokenSecret(for account: String = "builder") -> Secret {
        var secret = Secret()
        secret.metadata = Fixture.meta("builder-token", namespace: "ci")
        secret.metadata?.annotations = ["kubernetes.io/service-account.name": account]
        secret.type = "kubernetes.io/service-account-token"
        return secret
    }

    @Test func everyActiveNamespaceNeedsADefaultAccount() {
        var namespace = Namespace()
        namespace.metadata = Fixture.meta("ci", namespace: nil)
        #expect(ServiceAccountDefaults.needsDefaultAccount(namespace, accounts: [Self.account()]))
        #expect(!ServiceAccountDefaults.needsDefaultAccount(namespace, accounts: [Self.account("default")]))
        namespace.metadata?.deletionTimestamp = ClusterTime.time(Fixture.epoch)
        #expect(!ServiceAccountDefaults.needsDefaultAccount(namespace, accounts: []), "not in a namespace being deleted")
    }

    @Test func aTokenSecretIsFilledWithATokenTheApiServerAccepts() throws {
        let now = Fixture.epoch
        let action = ServiceAccountTokens.action(
            for: Self.tokenSecret(), account: Self.account(), signingKey: Self.key, lifetimeSeconds: 1000, now: now)
        guard case .fill(let secret) = action else {
            Issue.record("expected the secret to be filled, got \(action)")
            return
        }
        #expect(secret.data["namespace"] == Array("ci".utf8))
        #expect(secret.metadata?.annotations["kubernetes.io/service-account.uid"] == "sa-uid")
        let token = String(decoding: try #require(secret.data["token"]), as: UTF8.self)
        // The API server's authenticator, with the same key and the account's uid, accepts it.
        let authenticator = ServiceAccountTokenAuthenticator(
            signingKey: Self.key, now: { Int64(now.timeIntervalSince1970) + 10 }, serviceAccountUID: { _, _ in "sa-uid" })
        #expect(authenticator.authenticate(token: token) == .authenticated(UserInfo.serviceAccount(namespace: "ci", name: "builder", uid: "sa-uid")))
        // Filled: nothing to do until four fifths of the lifetime have passed.
        #expect(ServiceAccountTokens.action(for: secret, account: Self.account(), signingKey: Self.key, lifetimeSeconds: 1000, now: now.addingTimeInterval(1))
            == .recheck(at: Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down) + 800)))
        // Past that point, or under another key, a new token is issued.
        guard case .fill = ServiceAccountTokens.action(for: secret, account: Self.account(), signingKey: Self.key, lifetimeSeconds: 1000, now: now.addingTimeInterval(801)) else {
            Issue.record("expected a renewal")
            return
        }
        guard case .fill = ServiceAccountTokens.action(for: secret, account: Self.account(), signingKey: Array(repeating: 9, count: 32), lifetimeSeconds: 1000, now: now) else {
            Issue.record("expected a new token under a new key")
            return
        }
    }

    @Test func secretsOfMissingOrRecreatedAccountsAreDeleted() {
        guard case .delete(let why) = ServiceAccountTokens.action(for: Self.tokenSecret(), account: nil, signingKey: Self.key, lifetimeSeconds: 100, now: Fixture.epoch) else {
            Issue.record("expected delete")
            return
        }
        #expect(why == "service account ci/builder does not exist")
        var stale = Self.tokenSecret()
        stale.metadata?.annotations["kubernetes.io/service-account.uid"] = "old-uid"
        guard case .delete = ServiceAccountTokens.action(for: stale, account: Self.account(), signingKey: Self.key, lifetimeSeconds: 100, now: Fixture.epoch) else {
            Issue.record("expected delete")
            return
        }
        var opaque = Self.tokenSecret()
        opaque.type = "Opaque"
        #expect(ServiceAccountTokens.action(for: opaque, account: nil, signingKey: Self.key, lifetimeSeconds: 100, now: Fixture.epoch) == .none)
    }
}
