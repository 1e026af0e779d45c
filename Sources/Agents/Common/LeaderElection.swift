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
    ///
    /// Cancelling the calling task ends the run. With `releaseOnCancel` (a graceful shutdown,
    /// SIGTERM) the work is cancelled and awaited first, and then the lease is released, so
    /// that another replica takes over at its next retry instead of after the lease expires
    /// (client-go's ReleaseOnCancel). Without it, cancellation writes nothing, like a crash.
    @discardableResult
    public static func run(
        client: ApiClient, lockName: String, identity: String, namespace: String = "kube-system",
        releaseOnCancel: Bool = false,
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
                    let started = shared.state.withLock { state -> Bool in
                        // Shutting down already: lead no work, hand the lease back.
                        guard !state.shuttingDown else { return false }
                        state.workTask = Task {
                            await work()
                            if !Task.isCancelled {
                                shared.finished.store(true, ordering: .relaxed)
                                shared.state.withLock { $0.elector }?.stop()
                            }
                        }
                        return true
                    }
                    if !started { shared.state.withLock { $0.elector }?.stop() }
                },
                onStoppedLeading: {
                    let (work, shuttingDown) = shared.state.withLock { ($0.workTask, $0.shuttingDown) }
                    if shuttingDown {
                        logger.info("\(identity) stopped leading \(namespace)/\(lockName): shutting down")
                    } else {
                        logger.warning("\(identity) stopped leading \(namespace)/\(lockName)")
                    }
                    work?.cancel()
                },
                onNewLeader: { holder in
                    if !holder.isEmpty && holder != identity { logger.info("\(namespace)/\(lockName) is led by \(holder)") }
                }))
        shared.state.withLock { $0.elector = elector }
        // The elector runs in a task of its own so that cancelling the caller does not cancel
        // it when the lease is to be released.
        let electorTask = Task { await elector.run() }
        await withTaskCancellationHandler {
            await electorTask.value
        } onCancel: {
            let work = shared.state.withLock { state -> Task<Void, Never>? in
                state.shuttingDown = true
                return state.workTask
            }
            work?.cancel()
            guard releaseOnCancel else { return electorTask.cancel() }
            // Release only once the work has stopped: no two replicas may act at once.
            Task {
                await work?.value
                elector.stop()
            }
        }
        let task = shared.state.withLock { $0.workTask }
        task?.cancel()
        await task?.value
        return shared.finished.load(ordering: .relaxed)
    }

    private final class Shared: Sendable {
        struct State {
            var workTask: Task<Void, Never>?
            var elector: LeaderElector?
            var shuttingDown = false
        }

        let state = Mutex(State())
        let finished = Atomic<Bool>(false)
    }
}
