import Foundation
import Testing

@testable import Api

/// `kubectl get pods`: the STATUS word, READY and RESTARTS, as Kubernetes computes them.
@Suite struct TablesPodTests {
    typealias F = TableFixture

    static func pod(
        _ name: String = "web", containers: [String] = ["web"], initContainers: [Container] = [], phase: String? = nil
    ) -> Pod {
        var pod = Pod()
        pod.metadata = F.meta(name)
        pod.spec = PodSpec(initContainers: initContainers, containers: containers.map { F.container($0) })
        if let phase { pod.status = PodStatus(phase: phase) }
        return pod
    }

    static func running(_ name: String, ready: Bool = true, restarts: Int32 = 0) -> ContainerStatus {
        ContainerStatus(
            name: name, state: ContainerState(running: ContainerStateRunning(startedAt: F.ago(60))), ready: ready,
            restartCount: restarts)
    }

    static func waiting(_ name: String, _ reason: String, restarts: Int32 = 0, lastEnded: Int64? = nil) -> ContainerStatus {
        ContainerStatus(
            name: name, state: ContainerState(waiting: ContainerStateWaiting(reason: reason)),
            lastState: lastEnded.map { ContainerState(terminated: ContainerStateTerminated(exitCode: 1, reason: "Error", finishedAt: F.ago($0))) },
            ready: false, restartCount: restarts)
    }

    static func terminated(_ name: String, exitCode: Int32, reason: String? = nil, signal: Int32? = nil) -> ContainerStatus {
        ContainerStatus(
            name: name, state: ContainerState(terminated: ContainerStateTerminated(exitCode: exitCode, signal: signal, reason: reason)),
            ready: false, restartCount: 0)
    }

    static func summary(_ pod: Pod) -> PodTable.Summary { PodTable.Summary(pod, now: F.now) }

    @Test func headersAreKubectls() {
        #expect(F.headers(Pod.resourceType) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"])
        #expect(
            F.headers(Pod.resourceType, wide: true)
                == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"])
    }

    @Test func aNewPodWithoutStatusIsPending() {
        #expect(F.row(Self.pod()) == ["web", "0/1", "Pending", "0", "5m", "<none>", "<none>", "<none>", "<none>"])
    }

    @Test func aRunningPodShowsReadyContainersAddressAndNode() {
        var pod = Self.pod(containers: ["web", "log"], phase: "Running")
        pod.spec?.nodeName = "node-1"
        pod.status?.podIPs = [PodIP(ip: "127.96.0.7")]
        pod.status?.podIP = "127.96.0.7"
        pod.status?.containerStatuses = [Self.running("web"), Self.running("log", ready: false)]
        #expect(F.row(pod) == ["web", "1/2", "Running", "0", "5m", "127.96.0.7", "node-1", "<none>", "<none>"])
    }

    @Test func restartsSayWhenTheLastOneEnded() {
        var pod = Self.pod(phase: "Running")
        pod.status?.containerStatuses = [Self.waiting("web", "CrashLoopBackOff", restarts: 5, lastEnded: 300)]
        #expect(Self.summary(pod) == PodTable.Summary(ready: "0/1", status: "CrashLoopBackOff", restarts: "5 (5m ago)"))
        // Without the time of the last termination the count stands alone.
        pod.status?.containerStatuses = [Self.waiting("web", "CrashLoopBackOff", restarts: 2)]
        #expect(Self.summary(pod).restarts == "2")
    }

    @Test func theLatestRestartOfAllContainersCounts() {
        var pod = Self.pod(containers: ["a", "b"], phase: "Running")
        pod.status?.containerStatuses = [
            Self.waiting("a", "CrashLoopBackOff", restarts: 3, lastEnded: 3600),
            Self.waiting("b", "CrashLoopBackOff", restarts: 4, lastEnded: 125),
        ]
        #expect(Self.summary(pod).restarts == "7 (2m5s ago)")
    }

    @Test func waitingReasonsReplaceThePhase() {
        var pod = Self.pod(phase: "Pending")
        pod.status?.containerStatuses = [Self.waiting("web", "ContainerCreating")]
        #expect(Self.summary(pod).status == "ContainerCreating")
        pod.status?.containerStatuses = [Self.waiting("web", "ImagePullBackOff")]
        #expect(Self.summary(pod).status == "ImagePullBackOff")
    }

    @Test func terminatedContainersGiveReasonExitCodeOrSignal() {
        var pod = Self.pod(phase: "Succeeded")
        pod.status?.containerStatuses = [Self.terminated("web", exitCode: 0, reason: "Completed")]
        #expect(Self.summary(pod) == PodTable.Summary(ready: "0/1", status: "Completed", restarts: "0"))
        pod.status?.phase = "Failed"
        pod.status?.containerStatuses = [Self.terminated("web", exitCode: 137, reason: "OOMKilled")]
        #expect(Self.summary(pod).status == "OOMKilled")
        pod.status?.containerStatuses = [Self.terminated("web", exitCode: 2)]
        #expect(Self.summary(pod).status == "ExitCode:2")
        pod.status?.containerStatuses = [Self.terminated("web", exitCode: 0, reason: "", signal: 9)]
        #expect(Self.summary(pod).status == "Signal:9")
    }

    @Test func aCompletedContainerBesideRunningOnesIsNotCompleted() {
        var pod = Self.pod(containers: ["job", "proxy"], phase: "Running")
        pod.status?.containerStatuses = [Self.terminated("job", exitCode: 0, reason: "Completed"), Self.running("proxy")]
        #expect(Self.summary(pod) == PodTable.Summary(ready: "1/2", status: "NotReady", restarts: "0"))
        pod.status?.conditions = [PodCondition(type: "Ready", status: "True")]
        #expect(Self.summary(pod).status == "Running")
    }

    @Test func thePodReasonWinsOverThePhase() {
        var pod = Self.pod(phase: "Failed")
        pod.status?.reason = "Evicted"
        #expect(Self.summary(pod).status == "Evicted")
    }

    @Test func initContainersShowProgress() {
        let inits = [F.container("migrate"), F.container("seed")]
        var pod = Self.pod(initContainers: inits, phase: "Pending")
        pod.status?.initContainerStatuses = [Self.running("migrate", ready: false), Self.waiting("seed", "PodInitializing")]
        pod.status?.containerStatuses = [Self.waiting("web", "PodInitializing")]
        #expect(Self.summary(pod) == PodTable.Summary(ready: "0/1", status: "Init:0/2", restarts: "0"))

        pod.status?.initContainerStatuses = [Self.terminated("migrate", exitCode: 0, reason: "Completed"), Self.running("seed", ready: false)]
        #expect(Self.summary(pod).status == "Init:1/2")

        // A waiting reason other than PodInitializing is shown with its Init: prefix.
        pod.status?.initContainerStatuses = [Self.waiting("migrate", "CrashLoopBackOff", restarts: 3, lastEnded: 30), Self.waiting("seed", "PodInitializing")]
        #expect(Self.summary(pod) == PodTable.Summary(ready: "0/1", status: "Init:CrashLoopBackOff", restarts: "3 (30s ago)"))

        pod.status?.initContainerStatuses = [Self.terminated("migrate", exitCode: 1, reason: "Error")]
        #expect(Self.summary(pod).status == "Init:Error")
        pod.status?.initContainerStatuses = [Self.terminated("migrate", exitCode: 3)]
        #expect(Self.summary(pod).status == "Init:ExitCode:3")
        pod.status?.initContainerStatuses = [Self.terminated("migrate", exitCode: 0, reason: "", signal: 15)]
        // Exit code 0 means done whatever the signal; the main container then tells the status.
        #expect(Self.summary(pod).status == "PodInitializing")
        pod.status?.initContainerStatuses = [Self.terminated("migrate", exitCode: 1, reason: "", signal: 15)]
        #expect(Self.summary(pod).status == "Init:Signal:15")
    }

    @Test func sidecarsCountAsContainersAndTheirRestartsCount() {
        var sidecar = F.container("proxy")
        sidecar.restartPolicy = "Always"
        var pod = Self.pod(initContainers: [sidecar], phase: "Running")
        var proxy = Self.running("proxy", restarts: 2)
        proxy.started = true
        proxy.lastState = ContainerState(terminated: ContainerStateTerminated(exitCode: 1, finishedAt: F.ago(600)))
        pod.status?.initContainerStatuses = [proxy]
        pod.status?.containerStatuses = [Self.running("web")]
        pod.status?.conditions = [PodCondition(type: "Initialized", status: "True")]
        #expect(Self.summary(pod) == PodTable.Summary(ready: "2/2", status: "Running", restarts: "2 (10m ago)"))
    }

    @Test func deletionMakesTerminatingUnlessFinishedOrNodeLost() {
        var pod = Self.pod(phase: "Running")
        pod.status?.containerStatuses = [Self.running("web")]
        pod.metadata?.deletionTimestamp = F.ago(0)
        #expect(Self.summary(pod).status == "Terminating")
        pod.status?.phase = "Succeeded"
        pod.status?.containerStatuses = [Self.terminated("web", exitCode: 0, reason: "Completed")]
        #expect(Self.summary(pod).status == "Completed")
        pod.status?.phase = "Running"
        pod.status?.reason = "NodeLost"
        pod.status?.containerStatuses = [Self.running("web")]
        #expect(Self.summary(pod).status == "Unknown")
    }

    @Test func schedulingGatedPodsSaySo() {
        var pod = Self.pod(phase: "Pending")
        pod.status?.conditions = [PodCondition(type: "PodScheduled", status: "False", reason: "SchedulingGated")]
        #expect(Self.summary(pod).status == "SchedulingGated")
    }

    @Test func readinessGatesCountTrueConditions() {
        var pod = Self.pod(phase: "Running")
        pod.spec?.readinessGates = [PodReadinessGate(conditionType: "example.com/lb"), PodReadinessGate(conditionType: "example.com/dns")]
        pod.status?.conditions = [PodCondition(type: "example.com/lb", status: "True"), PodCondition(type: "example.com/dns", status: "False")]
        #expect(F.row(pod).last == "1/2")
    }

    @Test func nominatedNodeIsShown() {
        var pod = Self.pod(phase: "Pending")
        pod.status?.nominatedNodeName = "node-2"
        #expect(F.row(pod)[7] == "node-2")
    }
}
