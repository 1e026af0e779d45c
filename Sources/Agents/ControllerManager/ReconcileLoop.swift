import Api
import Logging

/// ReconcileLoop is the shape every controller shares (STYLE.md, "From Kubernetes itself"):
/// informer handlers only enqueue "namespace/name" keys; `workers` tasks take one key at a time
/// and call the controller's `sync(key)`, which reads the cache, compares desired with actual
/// state and writes. A sync that throws is retried after the queue's rate-limited back-off; one
/// that returns is forgotten (its back-off starts over). The work queue guarantees that one key
/// is never synced by two workers at once and that repeated adds collapse into one.
///
/// Usage, in a controller's `init(context:)`:
///
///     loop = ReconcileLoop(name: Self.name, workers: context.workers, logger: context.logger)
///     context.informers.informer(ReplicaSet.self).addEventHandler(loop.objectHandler())
///
/// and in `run()`: `await loop.run { key in try await self.sync(key) }`.
public final class ReconcileLoop: Sendable {
    /// The controller's name, for logs.
    public let name: String
    public let queue: WorkQueue<String>
    /// Worker tasks; at least one.
    public let workers: Int
    let logger: Logger

    /// Controllers' queue: client-go's default controller rate limiter (5 ms per-key back-off,
    /// overall 10 per second with bursts of 100) but with the per-key back-off capped at 60 s
    /// instead of 1000 s, so that a controller recovers within a minute once the API server
    /// accepts its writes again.
    public static let defaultQueueConfiguration: WorkQueue<String>.Configuration = {
        var configuration = WorkQueue<String>.Configuration()
        configuration.baseDelayNanoseconds = 5_000_000
        configuration.maximumDelayNanoseconds = 60_000_000_000
        return configuration
    }()

    public init(
        name: String, workers: Int, logger: Logger,
        queueConfiguration: WorkQueue<String>.Configuration = ReconcileLoop.defaultQueueConfiguration
    ) {
        precondition(workers > 0, "a reconcile loop needs at least one worker")
        self.name = name
        self.workers = workers
        self.logger = logger
        queue = WorkQueue(configuration: queueConfiguration)
    }

    // MARK: Enqueueing (from informer handlers; never blocks)

    public func enqueue(_ key: String) {
        queue.add(key)
    }

    /// Enqueues the object's own key ("namespace/name", or "name" when cluster-scoped).
    public func enqueue<Object: KubernetesObject>(_ object: Object) {
        queue.add(ObjectKey.of(object))
    }

    /// Enqueues `key` after `seconds`, for work that depends on time (minReadySeconds, progress
    /// deadlines, active deadlines). A key already waiting keeps the earlier deadline.
    public func enqueue(_ key: String, afterSeconds seconds: Double) {
        guard seconds > 0 else { return queue.add(key) }
        queue.addAfter(key, delayNanoseconds: UInt64(min(seconds, 86_400) * 1e9))
    }

    /// A handler that enqueues the key of every object added, updated or deleted. Resyncs (old
    /// and new the same version) enqueue too: that is what they are for.
    public func objectHandler<Object: KubernetesObject>(_ type: Object.Type = Object.self) -> Informer<Object>.EventHandler {
        Informer<Object>.EventHandler(
            onAdd: { [queue] in queue.add(ObjectKey.of($0)) },
            onUpdate: { [queue] _, new in queue.add(ObjectKey.of(new)) },
            onDelete: { [queue] in queue.add(ObjectKey.of($0)) })
    }

    /// A handler for dependents (pods, replica sets…) that enqueues the key of their controller
    /// owner when it is of kind `ownerKind`, in the dependent's namespace. On an update whose
    /// controller changed, both the old and the new owner are enqueued. `orphan` is called for
    /// objects without a controller (to let the owners that might adopt them look), if given.
    public func ownerHandler<Object: KubernetesObject>(
        _ type: Object.Type = Object.self, ownerKind: String,
        orphan: (@Sendable (Object) -> Void)? = nil
    ) -> Informer<Object>.EventHandler {
        let enqueueOwner: @Sendable (Object) -> Void = { [queue] object in
            if let owner = ControllerRef.of(object), owner.kind == ownerKind, let name = owner.name {
                queue.add(ObjectKey.make(namespace: object.metadata?.namespace, name: name))
            } else if ControllerRef.of(object) == nil {
                orphan?(object)
            }
        }
        return Informer<Object>.EventHandler(
            onAdd: enqueueOwner,
            onUpdate: { old, new in
                if ControllerRef.of(old)?.uid != ControllerRef.of(new)?.uid { enqueueOwner(old) }
                enqueueOwner(new)
            },
            onDelete: enqueueOwner)
    }

    // MARK: Running

    /// Runs the workers until the calling task is cancelled; then shuts the queue down and
    /// returns once every worker has finished its current key.
    public func run(_ sync: @escaping @Sendable (_ key: String) async throws -> Void) async {
        logger.info("\(name) controller: starting \(workers) workers")
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<workers {
                    group.addTask { await self.work(sync) }
                }
            }
        } onCancel: {
            queue.shutDown()
        }
        logger.info("\(name) controller: stopped")
    }

    private func work(_ sync: @Sendable (String) async throws -> Void) async {
        while let key = await queue.get() {
            do {
                try await sync(key)
                queue.forget(key)
            } catch {
                if !Task.isCancelled {
                    let failures = queue.requeueCount(key)
                    let apiError = ApiError.from(error)
                    // Conflicts are the normal price of optimistic concurrency: the next sync reads again.
                    let level: Logger.Level = apiError.code == 409 ? .debug : (failures >= 5 ? .warning : .info)
                    logger.log(level: level, "\(name) controller: syncing \(key) failed (attempt \(failures + 1)), retrying: \(apiError.message)")
                    queue.addRateLimited(key)
                }
            }
            queue.done(key)
        }
    }
}

/// ControllerRef reads and writes the controller owner reference (`ownerReferences` entry with
/// `controller: true`) through which a workload controller owns its pods or replica sets.
public enum ControllerRef {
    /// The object's controller owner reference, if any (at most one may exist).
    public static func of<Object: KubernetesObject>(_ object: Object) -> OwnerReference? {
        object.metadata?.ownerReferences.first { $0.controller == true }
    }

    /// A controller reference to `owner`, blocking the owner's foreground deletion until the
    /// dependent is gone, as Kubernetes' controllers write it.
    public static func to<Owner: KubernetesObject>(_ owner: Owner) -> OwnerReference {
        var reference = OwnerReference()
        reference.apiVersion = Owner.resourceType.apiVersion
        reference.kind = Owner.resourceType.kind
        reference.name = owner.metadata?.name
        reference.uid = owner.metadata?.uid
        reference.controller = true
        reference.blockOwnerDeletion = true
        return reference
    }

    /// Whether `object` is controlled by `owner` (same uid).
    public static func isControlled<Object: KubernetesObject, Owner: KubernetesObject>(_ object: Object, by owner: Owner) -> Bool {
        guard let uid = owner.metadata?.uid, !uid.isEmpty else { return false }
        return of(object)?.uid == uid
    }
}
