import Foundation
import Testing

@testable import Api

/// Deployments, replica sets, replication controllers, stateful sets, daemon sets and jobs.
@Suite struct TablesWorkloadTests {
    typealias F = TableFixture

    @Test func deploymentShowsReadyOfDesiredUpToDateAndAvailable() {
        var deployment = Deployment(metadata: F.meta("web", age: 7200))
        deployment.spec = DeploymentSpec(
            replicas: 3, selector: F.selector(["app": "web", "tier": "front"]),
            template: F.template([F.container("web"), F.container("log", image: "busybox:1.36")]))
        deployment.status = DeploymentStatus(replicas: 3, updatedReplicas: 3, availableReplicas: 2, readyReplicas: 2)
        #expect(F.headers(Deployment.resourceType) == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"])
        #expect(
            F.headers(Deployment.resourceType, wide: true)
                == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"])
        #expect(F.row(deployment) == ["web", "2/3", "3", "2", "120m", "web,log", "nginx:1.27,busybox:1.36", "app=web,tier=front"])
    }

    @Test func aDeploymentWithoutReplicasOrStatusWantsOne() {
        var deployment = Deployment(metadata: F.meta("web"))
        deployment.spec = DeploymentSpec(selector: LabelSelector(matchExpressions: [
            LabelSelectorRequirement(key: "env", operator: "In", values: ["prod", "canary"]),
            LabelSelectorRequirement(key: "debug", operator: "DoesNotExist"),
        ]))
        #expect(F.row(deployment) == ["web", "0/1", "0", "0", "5m", "", "", "!debug,env in (canary,prod)"])
        deployment.spec?.selector = nil
        #expect(F.row(deployment).last == "")
    }

    @Test func malformedSelectorsSaySoInsteadOfFailing() {
        let malformed = LabelSelector(matchExpressions: [LabelSelectorRequirement(key: "env", operator: "Near", values: ["x"])])
        var deployment = Deployment(metadata: F.meta("web"))
        deployment.spec = DeploymentSpec(selector: malformed)
        #expect(F.row(deployment).last == "<invalid>")
        var replicaSet = ReplicaSet(metadata: F.meta("web-1"))
        replicaSet.spec = ReplicaSetSpec(selector: malformed)
        #expect(F.row(replicaSet).last == "<error>")
    }

    @Test func replicaSetShowsDesiredCurrentReady() {
        var replicaSet = ReplicaSet(metadata: F.meta("web-5d4f8"))
        replicaSet.spec = ReplicaSetSpec(replicas: 3, selector: F.selector(["app": "web"]), template: F.template([F.container("web")]))
        replicaSet.status = ReplicaSetStatus(replicas: 3, readyReplicas: 1)
        #expect(F.headers(ReplicaSet.resourceType) == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"])
        #expect(F.row(replicaSet) == ["web-5d4f8", "3", "3", "1", "5m", "web", "nginx:1.27", "app=web"])
        replicaSet.spec?.selector = LabelSelector()
        #expect(F.row(replicaSet).last == "<none>")
    }

    @Test func replicationControllerShowsItsMapSelector() {
        var controller = ReplicationController(metadata: F.meta("legacy"))
        controller.spec = ReplicationControllerSpec(replicas: 2, selector: ["app": "legacy"], template: F.template([F.container("app")]))
        controller.status = ReplicationControllerStatus(replicas: 2, readyReplicas: 2)
        #expect(F.headers(ReplicationController.resourceType, wide: true) == ["NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"])
        #expect(F.row(controller) == ["legacy", "2", "2", "2", "5m", "app", "nginx:1.27", "app=legacy"])
    }

    @Test func statefulSetShowsReadyOfDesired() {
        var statefulSet = StatefulSet(metadata: F.meta("db", age: 90000))
        statefulSet.spec = StatefulSetSpec(replicas: 3, template: F.template([F.container("postgres", image: "postgres:17")]))
        statefulSet.status = StatefulSetStatus(replicas: 3, readyReplicas: 3)
        #expect(F.headers(StatefulSet.resourceType, wide: true) == ["NAME", "READY", "AGE", "CONTAINERS", "IMAGES"])
        #expect(F.row(statefulSet) == ["db", "3/3", "25h", "postgres", "postgres:17"])
    }

    @Test func daemonSetShowsCountsAndNodeSelector() {
        var daemonSet = DaemonSet(metadata: F.meta("agent"))
        daemonSet.spec = DaemonSetSpec(
            selector: F.selector(["app": "agent"]),
            template: F.template([F.container("agent")], nodeSelector: ["kubernetes.io/os": "linux"]))
        daemonSet.status = DaemonSetStatus(
            currentNumberScheduled: 3, desiredNumberScheduled: 4, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2)
        #expect(
            F.headers(DaemonSet.resourceType)
                == ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"])
        #expect(F.row(daemonSet) == ["agent", "4", "3", "2", "3", "2", "kubernetes.io/os=linux", "5m", "agent", "nginx:1.27", "app=agent"])
        daemonSet.spec?.template?.spec?.nodeSelector = [:]
        #expect(F.row(daemonSet)[6] == "<none>")
    }

    static func job(completions: Int32? = nil, parallelism: Int32? = nil, succeeded: Int32? = nil) -> Job {
        var job = Job(metadata: F.meta("backup", age: 600))
        job.spec = JobSpec(parallelism: parallelism, completions: completions, selector: F.selector(["job-name": "backup"]), template: F.template([F.container("backup")]))
        job.status = JobStatus(succeeded: succeeded)
        return job
    }

    @Test func jobShowsStatusCompletionsAndDuration() {
        #expect(F.headers(Job.resourceType) == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"])
        #expect(F.headers(Job.resourceType, wide: true) == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"])
        var job = Self.job(completions: 1)
        // Not started yet: no duration.
        #expect(F.row(job) == ["backup", "Running", "0/1", "", "10m", "backup", "nginx:1.27", "job-name=backup"])
        job.status?.startTime = F.ago(330)
        #expect(F.row(job)[3] == "5m30s")
        job.status?.completionTime = F.ago(300)
        job.status?.succeeded = 1
        job.status?.conditions = [JobCondition(type: "Complete", status: "True")]
        #expect(F.shortRow(job) == ["backup", "Complete", "1/1", "30s", "10m"])
    }

    @Test func jobCompletionsWithoutACountOrInParallel() {
        #expect(JobTable.completions(Self.job(succeeded: 0)) == "0/1")
        #expect(JobTable.completions(Self.job(parallelism: 4, succeeded: 2)) == "2/1 of 4")
        #expect(JobTable.completions(Self.job(completions: 5, parallelism: 2, succeeded: 3)) == "3/5")
    }

    @Test func jobStatusPrecedence() {
        var job = Self.job()
        job.status?.conditions = [JobCondition(type: "Failed", status: "True"), JobCondition(type: "Suspended", status: "True")]
        #expect(JobTable.status(job) == "Failed")
        job.status?.conditions = [JobCondition(type: "Suspended", status: "True")]
        #expect(JobTable.status(job) == "Suspended")
        job.metadata?.deletionTimestamp = F.ago(1)
        #expect(JobTable.status(job) == "Terminating")
        job.metadata?.deletionTimestamp = nil
        job.status?.conditions = [JobCondition(type: "FailureTarget", status: "True")]
        #expect(JobTable.status(job) == "FailureTarget")
        job.status?.conditions = [JobCondition(type: "Complete", status: "False")]
        #expect(JobTable.status(job) == "Running")
    }
}
