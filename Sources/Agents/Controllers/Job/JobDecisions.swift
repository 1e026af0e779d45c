import Api

/// JobDecisions is the job controller's logic without I/O, after Kubernetes'
/// pkg/controller/job (job_controller.go syncJob and manageJob, backoff_utils.go): how many pods
/// should run now, when the job has failed (backoffLimit, activeDeadlineSeconds) or completed,
/// how long to wait before replacing failed pods, and the status.
public enum JobDecisions {
    public static let defaultBackoffLimit: Int32 = 6
    /// Replacement of failed pods waits 10 s after the first failure, doubling per further
    /// consecutive failure up to 6 minutes (Kubernetes' DefaultJobPodFailureBackOff and
    /// MaxJobPodFailureBackOff).
    public static let failureBackoffSeconds = 10.0
    public static let maximumFailureBackoffSeconds = 360.0
    /// The most pods created or deleted in one sync.
    public static let burstPods = 500

    public static let controllerUIDLabel = "batch.kubernetes.io/controller-uid"
    public static let legacyControllerUIDLabel = "controller-uid"
    public static let jobNameLabel = "batch.kubernetes.io/job-name"
    public static let legacyJobNameLabel = "job-name"

    // MARK: Spec

    public static func parallelism(_ job: Job) -> Int { Int(job.spec?.parallelism ?? 1) }
    public static func backoffLimit(_ job: Job) -> Int { Int(job.spec?.backoffLimit ?? defaultBackoffLimit) }
    public static func isSuspended(_ job: Job) -> Bool { job.spec?.suspend == true }

    /// The pods of the job: spec.selector when given, otherwise the controller-uid label that
    /// every pod of the job carries (the API server generates this selector in Kubernetes).
    public static func selector(_ job: Job) throws(SpecError) -> ParsedLabelSelector {
        if let selector = job.spec?.selector {
            do {
                return try ParsedLabelSelector(selector, field: "spec.selector")
            } catch {
                throw SpecError(field: "spec.selector", error.message)
            }
        }
        return ParsedLabelSelector(matchingLabels: [controllerUIDLabel: job.metadata?.uid ?? ""])
    }

    /// The template with the job's labels (controller uid and job name, new and legacy keys).
    public static func podTemplate(_ job: Job) -> PodTemplateSpec {
        var template = job.spec?.template ?? PodTemplateSpec()
        var meta = template.metadata ?? ObjectMeta()
        let uid = job.metadata?.uid ?? ""
        let name = job.metadata?.name ?? ""
        meta.labels[controllerUIDLabel] = uid
        meta.labels[legacyControllerUIDLabel] = uid
        meta.labels[jobNameLabel] = name
        meta.labels[legacyJobNameLabel] = name
        template.metadata = meta
        return template
    }

    public static func condition(_ job: Job, _ type: String) -> JobCondition? {
        job.status?.conditions.first { $0.type == type }
    }

    /// Complete or Failed is True: nothing more happens to the job.
    public static func isFinished(_ job: Job) -> Bool {
        (job.status?.conditions ?? []).contains { ($0.type == "Complete" || $0.type == "Failed") && $0.status == "True" }
    }

    // MARK: Pods

    /// When a finished pod finished: its containers' latest finishedAt, else the Ready
    /// condition's last transition.
    public static func finishTime(_ pod: Pod) -> Double? {
        let finished = (pod.status?.containerStatuses ?? []).compactMap { $0.state?.terminated?.finishedAt.map(WallClock.seconds) }
        if let latest = finished.max() { return latest }
        return PodState.readyCondition(pod)?.lastTransitionTime.map(WallClock.seconds)
    }

    /// Seconds to wait before creating replacements, counting failures since the last success
    /// (Kubernetes' backoff record); nil when there is nothing to wait for.
    public static func backoffRemaining(_ pods: [Pod], now: Double) -> Double? {
        let lastSuccess = pods.filter { $0.status?.phase == "Succeeded" }.compactMap(finishTime).max() ?? -.infinity
        let failures = pods.filter { $0.status?.phase == "Failed" }.compactMap(finishTime).filter { $0 > lastSuccess }
        guard let lastFailure = failures.max() else { return nil }
        let exponent = min(failures.count - 1, 20)
        let delay = min(maximumFailureBackoffSeconds, failureBackoffSeconds * Double(1 << exponent))
        let remaining = lastFailure + delay - now
        return remaining > 0 ? remaining : nil
    }

    /// Container restarts of running and pending pods, which count against backoffLimit when
    /// pods restart in place (restartPolicy OnFailure).
    static func pastBackoffLimitOnFailure(_ job: Job, pods: [Pod]) -> Bool {
        guard job.spec?.template?.spec?.restartPolicy == "OnFailure" else { return false }
        let restarts = pods.filter { ["Running", "Pending", nil].contains($0.status?.phase) }.reduce(0) { $0 + PodState.restarts($1) }
        let limit = backoffLimit(job)
        return limit == 0 ? restarts > 0 : restarts >= limit
    }

    // MARK: Plan

    /// JobFinish is the terminal condition a sync sets.
    public struct Finish: Sendable, Hashable {
        /// "Complete" or "Failed".
        public var type: String
        public var reason: String
        public var message: String
    }

    /// Plan is what one sync of a job does.
    public struct Plan: Sendable, Equatable {
        public var create = 0
        public var delete: [Pod] = []
        public var finish: Finish?
        /// Pods active before the plan's creations and deletions.
        public var active: [Pod] = []
        public var succeeded = 0
        public var failed = 0
        /// When to look again: the active deadline, or the end of a failure back-off.
        public var recheckAfterSeconds: Double?
    }

    /// Decides one sync. Succeeded and failed counts never go down (pods may be deleted after
    /// they are counted), so they are the larger of the status and the pods seen.
    public static func plan(_ job: Job, pods: [Pod], now: Double) -> Plan {
        var plan = Plan()
        plan.active = pods.filter(PodState.isActive)
        let succeededPods = pods.filter { $0.status?.phase == "Succeeded" }.count
        let failedPods = pods.filter { $0.status?.phase == "Failed" }.count
        plan.succeeded = max(Int(job.status?.succeeded ?? 0), succeededPods)
        plan.failed = max(Int(job.status?.failed ?? 0), failedPods)
        let start = job.status?.startTime.map(WallClock.seconds) ?? now

        if plan.failed > backoffLimit(job) || pastBackoffLimitOnFailure(job, pods: pods) {
            plan.finish = Finish(type: "Failed", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit")
        } else if let deadline = job.spec?.activeDeadlineSeconds, !isSuspended(job) {
            if now - start >= Double(deadline) {
                plan.finish = Finish(type: "Failed", reason: "DeadlineExceeded", message: "Job was active longer than specified deadline")
            } else {
                plan.recheckAfterSeconds = start + Double(deadline) - now
            }
        }
        if plan.finish != nil {
            plan.delete = plan.active
            return plan
        }

        let active = plan.active.count
        var wanted: Int
        if isSuspended(job) {
            wanted = 0
        } else if let completions = job.spec?.completions {
            wanted = max(0, min(Int(completions) - plan.succeeded, parallelism(job)))
        } else {
            // Without completions, any success ends the job once the running pods finish: no
            // new pods after the first success.
            wanted = plan.succeeded > 0 ? active : parallelism(job)
        }
        if active > wanted {
            plan.delete = PodRanking.toDelete(plan.active, count: min(active - wanted, burstPods), now: now)
        } else if active < wanted {
            if let wait = backoffRemaining(pods, now: now) {
                plan.recheckAfterSeconds = min(plan.recheckAfterSeconds ?? wait, wait)
            } else {
                plan.create = min(wanted - active, burstPods)
            }
        }
        let activeAfter = active - plan.delete.count + plan.create
        let complete: Bool
        if let completions = job.spec?.completions {
            complete = plan.succeeded >= Int(completions) && activeAfter == 0
        } else {
            complete = plan.succeeded > 0 && activeAfter == 0
        }
        if complete && !isSuspended(job) {
            plan.finish = Finish(type: "Complete", reason: "Completed", message: "Job completed")
        }
        return plan
    }

    /// The status after the plan ran, with `created` of its creations and `deleted` of its
    /// deletions done.
    public static func status(_ job: Job, plan: Plan, pods: [Pod], created: Int, deleted: Int, now: Double) -> JobStatus {
        var status = job.status ?? JobStatus()
        if status.startTime == nil && !isSuspended(job) { status.startTime = WallClock.time(now) }
        status.active = Int32(max(0, plan.active.count - deleted + created))
        status.ready = Int32(plan.active.filter(PodState.isReady).count)
        status.succeeded = Int32(plan.succeeded)
        status.failed = Int32(plan.failed)
        status.terminating = Int32(pods.filter(PodState.isTerminating).count)
        setCondition(&status, type: "Suspended", status: isSuspended(job) ? "True" : nil,
                     reason: isSuspended(job) ? "JobSuspended" : "JobResumed",
                     message: isSuspended(job) ? "Job suspended" : "Job resumed", now: now)
        if let finish = plan.finish, finish.type == "Failed" || (created == plan.create && deleted == plan.delete.count) {
            setCondition(&status, type: finish.type, status: "True", reason: finish.reason, message: finish.message, now: now)
            if finish.type == "Complete" && status.completionTime == nil { status.completionTime = WallClock.time(now) }
            if finish.type == "Failed" { status.active = 0 }
        }
        return status
    }

    /// Sets a condition to True (or, with status nil, to False if it exists), keeping it as is
    /// when unchanged.
    static func setCondition(_ status: inout JobStatus, type: String, status value: String?, reason: String, message: String, now: Double) {
        let existing = status.conditions.firstIndex { $0.type == type }
        guard let value else {
            if let existing, status.conditions[existing].status == "True" {
                status.conditions[existing].status = "False"
                status.conditions[existing].reason = reason
                status.conditions[existing].message = message
                status.conditions[existing].lastTransitionTime = WallClock.time(now)
                status.conditions[existing].lastProbeTime = WallClock.time(now)
            }
            return
        }
        if let existing, status.conditions[existing].status == value, status.conditions[existing].reason == reason { return }
        let condition = JobCondition(
            type: type, status: value, lastProbeTime: WallClock.time(now), lastTransitionTime: WallClock.time(now),
            reason: reason, message: message)
        if let existing {
            status.conditions[existing] = condition
        } else {
            status.conditions.append(condition)
        }
    }
}
