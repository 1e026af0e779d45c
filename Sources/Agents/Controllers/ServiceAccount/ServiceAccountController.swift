import Api
import Logging
import Foundation

/// ServiceAccountController gives every namespace that is not being deleted a `default`
/// ServiceAccount, and puts it back when it is deleted (decisions in `ServiceAccountDefaults`).
/// One key per namespace.
public final class ServiceAccountController: Controller {
    public static let name = "serviceaccount"

    let context: ControllerContext
    let loop: ReconcileLoop
    let namespaces: Informer<Namespace>
    let accounts: Informer<ServiceAccount>

    public init(context: ControllerContext) {
        self.context = context
        loop = ReconcileLoop(name: Self.name, workers: context.workers, logger: context.logger)
        namespaces = context.informers.informer(Namespace.self)
        accounts = context.informers.informer(ServiceAccount.self)
        namespaces.addEventHandler(
            Informer<Namespace>.EventHandler(onAdd: { [loop] in loop.enqueue($0) }, onUpdate: { [loop] _, new in loop.enqueue(new) }))
        accounts.addEventHandler(
            Informer<ServiceAccount>.EventHandler(onDelete: { [loop] account in
                guard account.metadata?.name == ServiceAccountDefaults.name, let namespace = account.metadata?.namespace else { return }
                loop.enqueue(namespace)
            }))
    }

    public func run() async {
        await loop.run { key in try await self.sync(key) }
    }

    func sync(_ name: String) async throws(ApiError) {
        guard let namespace = namespaces.lister.get(name: name),
            ServiceAccountDefaults.needsDefaultAccount(namespace, accounts: accounts.indexer.byIndex(InformerIndexes.namespace, name))
        else { return }
        do {
            _ = try await context.client.create(ServiceAccountDefaults.defaultAccount(in: name))
            context.logger.info("namespace \(name): created service account \(ServiceAccountDefaults.name)")
        } catch where error.code == 409 {
            return  // It exists; our cache is behind.
        } catch where error.code == 403 || error.code == 404 {
            return  // The namespace is being deleted or is gone.
        }
    }
}

/// ServiceAccountTokenController fills Secrets of type `kubernetes.io/service-account-token`
/// with tokens for their service account, renews them before they expire, and deletes those
/// whose account is gone (decisions in `ServiceAccountTokens`). It needs the controller
/// manager's `--service-account-private-key-file`; without it, it stays idle. Keys are
/// secrets' "namespace/name".
public final class ServiceAccountTokenController: Controller {
    public static let name = "serviceaccount-token"

    let context: ControllerContext
    let loop: ReconcileLoop
    let accounts: Informer<ServiceAccount>
    let secrets: Informer<Secret>
    let signingKey: [UInt8]?

    public init(context: ControllerContext) {
        self.context = context
        loop = ReconcileLoop(name: Self.name, workers: context.workers, logger: context.logger)
        signingKey = context.cluster.serviceAccountSigningKey
        accounts = context.informers.informer(ServiceAccount.self)
        secrets = context.informers.informer(Secret.self)
        guard signingKey != nil else { return }
        let enqueueSecret: @Sendable (Secret) -> Void = { [loop] secret in
            if ServiceAccountTokens.accountName(of: secret) != nil { loop.enqueue(secret) }
        }
        secrets.addEventHandler(
            Informer<Secret>.EventHandler(onAdd: enqueueSecret, onUpdate: { _, new in enqueueSecret(new) }))
        let enqueueTokens: @Sendable (ServiceAccount) -> Void = { [loop, secrets] account in
            for secret in secrets.indexer.byIndex(InformerIndexes.namespace, account.metadata?.namespace ?? "")
            where ServiceAccountTokens.accountName(of: secret) == account.metadata?.name {
                loop.enqueue(secret)
            }
        }
        accounts.addEventHandler(
            Informer<ServiceAccount>.EventHandler(onAdd: enqueueTokens, onUpdate: { _, new in enqueueTokens(new) }, onDelete: enqueueTokens))
    }

    public func run() async {
        guard signingKey != nil else {
            context.logger.info("\(Self.name) controller: no --service-account-private-key-file, so service-account token secrets are left unfilled")
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            return
        }
        await loop.run { key in try await self.sync(key) }
    }

    func sync(_ key: String) async throws(ApiError) {
        guard let signingKey else { return }
        let (namespace, name) = ObjectKey.split(key)
        guard let secret = secrets.lister.get(namespace: namespace, name: name),
            let accountName = ServiceAccountTokens.accountName(of: secret)
        else { return }
        var account = accounts.lister.get(namespace: namespace, name: accountName)
        if account == nil {
            // Confirm with the API server before deleting on the cache's word.
            do {
                account = try await context.client.get(ServiceAccount.self, namespace: namespace, name: accountName)
            } catch where error.code == 404 {
                account = nil
            }
        }
        let now = Date()
        switch ServiceAccountTokens.action(
            for: secret, account: account, signingKey: signingKey,
            lifetimeSeconds: context.cluster.serviceAccountTokenLifetimeSeconds, now: now)
        {
        case .none:
            return
        case .recheck(let at):
            loop.enqueue(key, afterSeconds: at.timeIntervalSince(now) + 1)
        case .delete(let reason):
            try await context.client.delete(Secret.resourceType, namespace: namespace, name: name, uid: secret.metadata?.uid, propagationPolicy: nil)
            context.logger.info("deleted token secret \(key): \(reason)")
        case .fill(let filled):
            do {
                _ = try await context.client.update(filled)
            } catch where error.code == 404 {
                return
            }
        }
    }
}
