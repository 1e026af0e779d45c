import Api
import Testing

@testable import Agents

@Suite struct JobDecisionsTests {
    let now = Fixtures.now

    func job(parallelism: Int32? = nil, completions: Int32? = nil, backoffLimit: Int32? = nil, deadline: Int64? = nil, restartPolicy: String = "Never") -> Job {
        var meta = ObjectMeta(name: "report", namespace: "ns")
        meta.uid = "job-uid"
        var spec = JobSpec()
        spec.parallelism = parallelism
        spec.completions = completions
        spec.backoffLimit = backoffLimit
        spec.activeDeadlineSeconds = deadline
        spec.template = Fixtures.template(["app": "batch"])
        spec.template?.spec?.restartPolicy = restartPolicy
        return Job(metadata: meta, spec: spec)
    }

    func pods(running: Int = 0, succeeded: Int = 0, failed: Int = 0, failedAt: Double? = nil) -> [Pod] {
        (0..<running).map { Fixtures.pod("r\($0)") }
            + (0..<succeeded).map { Fixtures.pod("s\($0)", phase: "Succeeded", ready: false, finishedAt: now - 60) }
            + (0..<failed).map { Fixtures.pod("f\($0)", phase: "Failed", ready: false, finishedAt: failedAt ?? now - 1000) }
    }

    @Test("with completions: up to parallelism pods, never more than the completions still missing; complete when all succeeded")
    func completions() {
        let job = job(parallelism: 2, completions: 5)
        #expect(JobDecisions.plan(job, pods: [], now: now).create == 2)
        #expect(JobDecisions.plan(job, pods: pods(running: 2, succeeded: 3), now: now).create == 0)
        let last = JobDecisions.plan(job, pods: pods(running: 2, succeeded: 4), now: now)
        #expect(last.delete.count == 1 && last.finish == nil, "one more success is enough")
        let done = JobDecisions.plan(job, pods: pods(succeeded: 5), now: now)
        #expect(done.finish?.type == "Complete" && done.create == 0)
        let status = JobDecisions.status(job, plan: done, pods: pods(succeeded: 5), created: 0, deleted: 0, now: now)
        #expect(status.succeeded == 5 && status.active == 0 && status.completionTime == WallClock.time(now))
        #expect(status.conditions.contains { $0.type == "Complete" && $0.status == "True" && $0.reason == "Completed" })
        #expect(status.startTime == WallClock.time(now))
    }

    @Test("without completions: parallelism pods until one succeeds, then no new pods, complete when the rest have stopped")
    func workQueue() {
        let job = job(parallelism: 3)
        #expect(JobDecisions.plan(job, pods: [], now: now).create == 3)
        let oneDone = JobDecisions.plan(job, pods: pods(running: 2, succeeded: 1), now: now)
        #expect(oneDone.create == 0 && oneDone.delete.isEmpty && oneDone.finish == nil)
        #expect(JobDecisions.plan(job, pods: pods(succeeded: 1), now: now).finish?.type == "Complete")
    }

    @Test("more failures than backoffLimit fail the job and delete its running pods; counts never go down")
    func backoffLimit() {
        let job = job(parallelism: 2, backoffLimit: 1)
        let plan = JobDecisions.plan(job, pods: pods(running: 1, failed: 2), now: now)
        #expect(plan.finish == .init(type: "Failed", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit"))
        #expect(plan.delete.count == 1)
        let status = JobDecisions.status(job, plan: plan, pods: pods(running: 1, failed: 2), created: 0, deleted: 1, now: now)
        #expect(status.failed == 2 && status.active == 0)
        var counted = job
        counted.status = JobStatus(succeeded: 2, failed: 1)
        let later = JobDecisions.plan(counted, pods: [], now: now)
        #expect(later.succeeded == 2 && later.failed == 1, "pods deleted after they were counted still count")
        #expect(JobDecisions.plan(self.job(), pods: pods(failed: 6), now: now).finish == nil, "default limit is 6")
        #expect(JobDecisions.plan(self.job(), pods: pods(failed: 7), now: now).finish?.reason == "BackoffLimitExceeded")
    }

    @Test("restarts of OnFailure pods count against backoffLimit")
    func onFailureRestarts() {
        let job = job(backoffLimit: 3, restartPolicy: "OnFailure")
        #expect(JobDecisions.plan(job, pods: [Fixtures.pod("r", restarts: 2)], now: now).finish == nil)
        #expect(JobDecisions.plan(job, pods: [Fixtures.pod("r", restarts: 3)], now: now).finish?.reason == "BackoffLimitExceeded")
    }

    @Test("activeDeadlineSeconds: failed with DeadlineExceeded once passed; otherwise a recheck when it will be")
    func activeDeadline() {
        var job = job(deadline: 30)
        job.status = JobStatus(startTime: WallClock.time(now - 10))
        let early = JobDecisions.plan(job, pods: pods(running: 1), now: now)
        #expect(early.finish == nil && early.recheckAfterSeconds == 20)
        job.status = JobStatus(startTime: WallClock.time(now - 31))
        let late = JobDecisions.plan(job, pods: pods(running: 1), now: now)
        #expect(late.finish?.reason == "DeadlineExceeded" && late.delete.count == 1)
    }

    @Test("failed pods are replaced after 10 s, doubling per consecutive failure; a success resets the back-off")
    func failureBackoff() {
        let job = job(backoffLimit: 10)
        let justFailed = JobDecisions.plan(job, pods: pods(failed: 1, failedAt: now - 3), now: now)
        #expect(justFailed.create == 0 && justFailed.recheckAfterSeconds == 7)
        let twice = pods(failed: 2, failedAt: now - 3)
        #expect(JobDecisions.backoffRemaining(twice, now: now) == 17)
        #expect(JobDecisions.plan(job, pods: pods(failed: 1, failedAt: now - 11), now: now).create == 1)
        let afterSuccess = [Fixtures.pod("s", phase: "Succeeded", ready: false, finishedAt: now - 1)] + pods(failed: 1, failedAt: now - 3)
        #expect(JobDecisions.backoffRemaining(afterSuccess, now: now) == nil)
    }

    @Test("suspend deletes running pods and sets Suspended; the pod template carries the job's labels")
    func suspendAndLabels() throws {
        var job = job(parallelism: 2)
        job.spec?.suspend = true
        let plan = JobDecisions.plan(job, pods: pods(running: 2), now: now)
        #expect(plan.delete.count == 2 && plan.create == 0 && plan.finish == nil)
        let status = JobDecisions.status(job, plan: plan, pods: pods(running: 2), created: 0, deleted: 2, now: now)
        #expect(status.conditions.contains { $0.type == "Suspended" && $0.status == "True" } && status.startTime == nil)
        let labels = JobDecisions.podTemplate(job).metadata?.labels ?? [:]
        #expect(labels["batch.kubernetes.io/controller-uid"] == "job-uid" && labels["job-name"] == "report" && labels["app"] == "batch")
        #expect(try JobDecisions.selector(job).matches(labels))
    }
}
