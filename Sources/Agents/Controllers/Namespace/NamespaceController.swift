import Api
import Logging
import Foundation
import Synchronization

/// NamespaceController empties namespaces being deleted: for a namespace with a
/// deletionTimestamp (phase Terminating) it deletes every object of every namespaced kind in
/// it, reports progress in the namespace's conditions, and once nothing is left removes the
/// `kubernetes` finalizer through `namespaces/finalize`, after which the API server removes
/// the namespace (decisions in `NamespaceTermination`). Objects that take time to go (pods
/// being stopped, objects with finalizers) are waited for with growing pauses.
public final class NamespaceController: Controller {
    public static let name = "namespace"
    /// Pauses between passes over a namespace whose contents are still going: doubling from the
    /// first to the last.
    static let firstRecheckSeconds = 0.25
    static let lastRecheckSeconds = 10.0

    let context: ControllerContext
    let loop: ReconcileLoop
    let namespaces: Informer<Namespace>
    let kinds: [AnyKind]
    private let passes = Mutex<[String: Int]>([:])

    public init(context: ControllerContext) {
        self.context = context
        loop = ReconcileLoop(name: Self.name, workers: context.workers, logger: context.logger)
        namespaces = context.informers.informer(Namespace.self)
        kinds = NamespaceTermination.namespacedKinds.map(AnyKind.of)
        namespaces.addEventHandler(
            Informer<Namespace>.EventHandler(
                onAdd: { [loop] in if NamespaceTermination.isTerminating($0) { loop.enqueue($0) } },
                onUpdate: { [loop] _, new in if NamespaceTermination.isTerminating(new) { loop.enqueue(new) } }))
    }

    public func run() async {
        await loop.run { key in try await self.sync(key) }
    }

    func sync(_ name: String) async throws(ApiError) {
        guard let namespace = namespaces.lister.get(name: name), NamespaceTermination.isTerminating(namespace),
            NamespaceTermination.hasKubernetesFinalizer(namespace)
        else {
            _ = passes.withLock { $0.removeValue(forKey: name) }
            return
        }
        let report = await deleteContent(of: name)
        if let status = NamespaceTermination.status(of: namespace, report: report, now: Date()) {
            var updated = namespace
            updated.status = status
            do {
                _ = try await context.client.updateStatus(updated)
            } catch where error.code == 404 {
                return
            }
        }
        if report.isEmpty && report.failures.isEmpty {
            // Finalize the newest version: the status write above moved it on.
            let current = try await context.client.get(Namespace.self, name: name)
            _ = try await context.client.finalize(NamespaceTermination.finalized(current))
            _ = passes.withLock { $0.removeValue(forKey: name) }
            context.logger.info("namespace \(name): emptied and finalized")
            return
        }
        let pass = passes.withLock { passes -> Int in
            passes[name, default: 0] += 1
            return passes[name]!
        }
        let delay = min(Self.lastRecheckSeconds, Self.firstRecheckSeconds * pow(2, Double(min(pass - 1, 10))))
        loop.enqueue(name, afterSeconds: delay)
    }

    /// Deletes whatever is not yet being deleted, kind by kind, then counts what is left.
    private func deleteContent(of namespace: String) async -> NamespaceTermination.Report {
        var report = NamespaceTermination.Report()
        for kind in kinds {
            let kindName = kind.type.qualifiedName
            do {
                var objects = try await kind.list(context.client, namespace)
                var deleted = false
                for meta in objects where meta.deletionTimestamp == nil {
                    do {
                        try await context.client.delete(
                            kind.type, namespace: namespace, name: meta.name ?? "", uid: meta.uid, propagationPolicy: "Background")
                        deleted = true
                    } catch {
                        report.failures.append("\(kindName) \"\(meta.name ?? "")\": \(error.message)")
                    }
                }
                if deleted { objects = try await kind.list(context.client, namespace) }
                report.remaining[kindName] = objects.count
                for meta in objects {
                    for finalizer in meta.finalizers { report.finalizers[finalizer, default: 0] += 1 }
                }
            } catch {
                report.failures.append("\(kindName): \(error.message)")
            }
        }
        return report
    }
}
