import Api
import Logging

/// JobController runs each Job's pods to completion (seed item 20): up to spec.parallelism at
/// once until spec.completions succeed (or, without completions, until one succeeds and the
/// rest stop); failed pods are replaced after a growing back-off until more than
/// spec.backoffLimit have failed (Failed, BackoffLimitExceeded); a job active longer than
/// spec.activeDeadlineSeconds fails with DeadlineExceeded; status counts active, ready,
/// succeeded and failed pods with startTime and completionTime. The decisions are in
/// JobDecisions; this type reads the caches and writes.
public struct JobController: Controller {
    public static let name = "job"
    let core: Core

    public init(context: ControllerContext) {
        core = Core(context: context)
    }

    public func run() async {
        await core.loop.run { [core] key in try await core.sync(key) }
    }

    final class Core: Sendable {
        let client: ApiClient
        let loop: ReconcileLoop
        let jobs: Informer<Job>
        let pods: Informer<Pod>
        let expectations = Expectations()
        let events: EventRecorder
        let logger: Logger

        init(context: ControllerContext) {
            client = context.client
            logger = context.logger
            loop = ReconcileLoop(name: JobController.name, workers: context.workers, logger: context.logger)
            jobs = context.informers.informer(Job.self)
            pods = context.informers.informer(Pod.self)
            events = context.events("job-controller")
            jobs.addEventHandler(Informer<Job>.EventHandler(
                onAdd: { [loop] in loop.enqueue($0) },
                onUpdate: { [loop] _, new in loop.enqueue(new) },
                onDelete: { [loop, expectations] job in
                    expectations.forget(ObjectKey.of(job))
                    loop.enqueue(job)
                }))
            pods.addEventHandler(Informer<Pod>.EventHandler(
                onAdd: { [weak self] pod in
                    guard let self else { return }
                    if PodState.isTerminating(pod) { return self.podGone(pod) }
                    if let key = self.ownerKey(of: pod) {
                        self.expectations.creationObserved(key)
                        self.loop.enqueue(key)
                    }
                },
                onUpdate: { [weak self] old, new in
                    guard let self, old.metadata?.resourceVersion != new.metadata?.resourceVersion else { return }
                    if PodState.isTerminating(new) { return self.podGone(new) }
                    if let key = self.ownerKey(of: new) { self.loop.enqueue(key) }
                },
                onDelete: { [weak self] in self?.podGone($0) }))
        }

        private func ownerKey(of pod: Pod) -> String? {
            guard let reference = ControllerRef.of(pod), reference.kind == "Job", let name = reference.name else { return nil }
            let key = ObjectKey.make(namespace: pod.metadata?.namespace, name: name)
            guard jobs.indexer.get(key: key)?.metadata?.uid == reference.uid else { return nil }
            return key
        }

        private func podGone(_ pod: Pod) {
            guard let key = ownerKey(of: pod) else { return }
            expectations.deletionObserved(key, dependent: ObjectKey.of(pod))
            loop.enqueue(key)
        }

        // MARK: Sync

        func sync(_ key: String) async throws {
            let (namespace, name) = ObjectKey.split(key)
            guard let job = jobs.lister.get(namespace: namespace, name: name) else {
                expectations.forget(key)
                return
            }
            guard !JobDecisions.isFinished(job) else { return }
            let selector: ParsedLabelSelector
            do {
                selector = try JobDecisions.selector(job)
            } catch {
                events.record(job, .warning, reason: "InvalidSelector", message: error.description)
                return
            }
            let candidates = pods.indexer.byIndex(InformerIndexes.namespace, namespace)
            let owned = try await ClaimWriter(client: client, owner: job).claim(candidates, selector: selector)
            let now = WallClock.now()
            var plan = JobDecisions.plan(job, pods: owned, now: now)
            let mayManage = expectations.satisfied(key) && job.metadata?.deletionTimestamp == nil
            if !mayManage && plan.finish?.type != "Failed" {
                plan.create = 0
                plan.delete = []
            }
            let (created, deleted, failure) = await execute(plan, job: job, key: key)
            let status = JobDecisions.status(job, plan: plan, pods: owned, created: created, deleted: deleted, now: now)
            try await writeStatus(job, status)
            if !JobDecisions.isFinished(job), status.conditions.contains(where: { $0.type == plan.finish?.type && $0.status == "True" }),
                let finish = plan.finish
            {
                events.record(job, finish.type == "Failed" ? .warning : .normal, reason: finish.reason, message: finish.message)
            }
            if let wait = plan.recheckAfterSeconds { loop.enqueue(key, afterSeconds: wait + 0.1) }
            if let failure { throw failure }
        }

        /// Creates and deletes pods; returns how many of each succeeded and the first error.
        private func execute(_ plan: JobDecisions.Plan, job: Job, key: String) async -> (created: Int, deleted: Int, error: ApiError?) {
            expectations.expectCreations(key, count: plan.create)
            expectations.expectDeletions(key, dependents: plan.delete.map(ObjectKey.of))
            let pod = PodTemplates.pod(from: JobDecisions.podTemplate(job), owner: job)
            let (client, events, expectations) = (client, events, expectations)
            let (created, createError) = await SlowStart.run(count: plan.create) { _ throws(ApiError) in
                do throws(ApiError) {
                    let made = try await client.create(pod)
                    events.record(job, .normal, reason: "SuccessfulCreate", message: "Created pod: \(made.metadata?.name ?? "")")
                } catch {
                    events.record(job, .warning, reason: "FailedCreate", message: "Error creating: \(error.message)")
                    throw error
                }
            }
            if created < plan.create { expectations.creationsSkipped(key, count: plan.create - created) }
            let results = await withTaskGroup(of: ApiError?.self) { group in
                for victim in plan.delete {
                    group.addTask {
                        do throws(ApiError) {
                            try await client.delete(Pod.self, namespace: victim.metadata?.namespace, name: victim.metadata?.name ?? "")
                            events.record(job, .normal, reason: "SuccessfulDelete", message: "Deleted pod: \(victim.metadata?.name ?? "")")
                            return nil
                        } catch {
                            expectations.deletionObserved(key, dependent: ObjectKey.of(victim))
                            if error.code == 404 { return nil }
                            events.record(job, .warning, reason: "FailedDelete", message: "Error deleting: \(error.message)")
                            return error
                        }
                    }
                }
                var errors: [ApiError] = []
                for await error in group { if let error { errors.append(error) } }
                return errors
            }
            return (created, plan.delete.count - results.count, createError ?? results.first)
        }

        private func writeStatus(_ job: Job, _ status: JobStatus) async throws(ApiError) {
            guard status != job.status else { return }
            var updated = job
            updated.status = status
            do {
                _ = try await client.updateStatus(updated)
            } catch {
                if error.code == 404 { return }
                throw error
            }
        }
    }
}
