import Api
import Logging
import Synchronization

/// LeaderElected runs a component's work only while it holds the component's Lease (seed items
/// 29–30), the way kube-scheduler and kube-controller-manager do with `--leader-elect`.
public enum LeaderElected {
    /// Campaigns for the Lease `lockName` in `namespace`, runs `work` once leading, and returns
    /// when leadership ends: the work task is cancelled the moment the elector stops leading
    /// (before the lease can expire for the others) and awaited. Callers exit the process after
    /// a loss, as Kubernetes components do, so that no half-finished work survives it. Returns
    /// `true` when `work` finished on its own while leading.
    @discardableResult
    public static func run(
        client: ApiClient, lockName: String, identity: String, namespace: String = "kube-system",
        configure: (inout LeaderElector.Configuration) -> Void = { _ in },
        logger: Logger, work: @escaping @Sendable () async -> Void
    ) async -> Bool {
        var configuration = LeaderElector.Configuration(name: lockName, identity: identity, namespace: namespace)
        configure(&configuration)
        let shared = Shared()
        let elector = LeaderElector(
            client: client, configuration: configuration,
            callbacks: .init(
                onStartedLeading: {
                    logger.info("\(identity) is now the leader of \(namespace)/\(lockName)")
                    shared.workTask.withLock { task in
                        task = Task {
                            await work()
                            if !Task.isCancelled {
                                shared.finished.store(true, ordering: .relaxed)
                                shared.elector.withLock { $0 }?.stop()
                            }
                        }
                    }
                },
                onStoppedLeading: {
                    logger.warning("\(identity) stopped leading \(namespace)/\(lockName)")
                    shared.workTask.withLock { $0 }?.cancel()
                },
                onNewLeader: { holder in
                    if !holder.isEmpty && holder != identity { logger.info("\(namespace)/\(lockName) is led by \(holder)") }
                }))
        shared.elector.withLock { $0 = elector }
        await withTaskCancellationHandler {
            await elector.run()
        } onCancel: {
            shared.workTask.withLock { $0 }?.cancel()
        }
        let task = shared.workTask.withLock { $0 }
        task?.cancel()
        await task?.value
        return shared.finished.load(ordering: .relaxed)
    }

    private final class Shared: Sendable {
        let workTask = Mutex<Task<Void, Never>?>(nil)
        let finished = Atomic<Bool>(false)
        let elector = Mutex<LeaderElector?>(nil)
    }
}
