import Foundation

/// PodTable is `kubectl get pods`: NAME READY STATUS RESTARTS AGE, and for `-o wide` IP NODE
/// NOMINATED NODE READINESS GATES. STATUS is the one word kubectl derives from the phase, the
/// pod's reason and its containers' states, as Kubernetes' pod printer does.
enum PodTable {
    static let definition = TableDefinition(
        Pod.self,
        columns: [
            .name,
            TableColumn("Ready", description: "The aggregate readiness state of this pod for accepting traffic."),
            TableColumn("Status", description: "The aggregate status of the containers in this pod."),
            TableColumn("Restarts", description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
            .age,
            TableColumn("IP", priority: 1, description: "The pod's primary IP address."),
            TableColumn("Node", priority: 1, description: "The node the pod is bound to."),
            TableColumn("Nominated Node", priority: 1, description: "The node a pending preemption picked for this pod."),
            TableColumn("Readiness Gates", priority: 1, description: "Readiness gates whose condition is True, of all the pod's gates."),
        ]
    ) { pod, now in
        let summary = Summary(pod, now: now)
        let spec = pod.spec ?? PodSpec()
        let status = pod.status ?? PodStatus()
        // Kubernetes reads podIPs only; a status that sets podIP alone still has an address.
        let address = status.podIPs.first?.ip ?? status.podIP
        return [
            TableCells.name(pod), .string(summary.ready), .string(summary.status), .string(summary.restarts),
            TableCells.age(pod, now),
            .string(TableCells.orPlaceholder(address)), .string(TableCells.orPlaceholder(spec.nodeName)),
            .string(TableCells.orPlaceholder(status.nominatedNodeName)), .string(readinessGates(spec, status)),
        ]
    }

    /// Summary is the READY, STATUS and RESTARTS cells of one pod.
    struct Summary: Equatable {
        /// "<ready containers>/<containers>", sidecars (init containers that keep running) included.
        var ready: String
        /// The phase, or the reason that says more: "Init:1/2", "CrashLoopBackOff", "Completed",
        /// "Terminating"...
        var status: String
        /// The restarts of the containers that count, with "(5m ago)" after the last one.
        var restarts: String
    }

    /// Restarts counts restarts and remembers when the latest one ended.
    struct Restarts {
        var count = 0
        var lastEnded: Int64?

        mutating func add(_ container: ContainerStatus) {
            count += Int(container.restartCount ?? 0)
            if let ended = container.lastState?.terminated?.finishedAt?.seconds {
                lastEnded = max(lastEnded ?? ended, ended)
            }
        }

        /// "3", or "3 (5m ago)" when the last restart's time is known.
        func text(now: Date) -> String {
            guard count != 0, let lastEnded else { return String(count) }
            return "\(count) (\(TableCells.since(lastEnded, now: now)) ago)"
        }
    }

    /// "<gates whose condition is True>/<gates>", or "<none>" without gates.
    static func readinessGates(_ spec: PodSpec, _ status: PodStatus) -> String {
        guard !spec.readinessGates.isEmpty else { return "<none>" }
        let passing = spec.readinessGates.filter { gate in
            status.conditions.first { $0.type == gate.conditionType }?.status == "True"
        }
        return "\(passing.count)/\(spec.readinessGates.count)"
    }
}

extension PodTable.Summary {
    /// The summary kubectl shows for `pod` at `now`.
    init(_ pod: Pod, now: Date) {
        let spec = pod.spec ?? PodSpec()
        let status = pod.status ?? PodStatus()
        // Kubernetes sets the phase to Pending when it stores a new pod.
        let phase = status.phase ?? "Pending"
        var reason = TableCells.orPlaceholder(status.reason, phase)
        if status.conditions.contains(where: { $0.type == "PodScheduled" && $0.reason == "SchedulingGated" }) {
            reason = "SchedulingGated"
        }
        let sidecars = Set(spec.initContainers.filter { $0.restartPolicy == "Always" }.map { $0.name ?? "" })
        let containerCount = spec.containers.count + sidecars.count
        var readyCount = 0

        // Init containers run in order: the first that has not succeeded tells the status.
        var restarts = PodTable.Restarts()
        var sidecarRestarts = PodTable.Restarts()
        var initializing = false
        for (index, container) in status.initContainerStatuses.enumerated() {
            restarts.add(container)
            let isSidecar = sidecars.contains(container.name ?? "")
            if isSidecar { sidecarRestarts.add(container) }
            if let terminated = container.state?.terminated, (terminated.exitCode ?? 0) == 0 { continue }
            if isSidecar, container.started == true {
                if container.ready == true { readyCount += 1 }
                continue
            }
            if let terminated = container.state?.terminated {
                reason = "Init:" + Self.terminationReason(terminated)
            } else if let waiting = container.state?.waiting?.reason, !waiting.isEmpty, waiting != "PodInitializing" {
                reason = "Init:" + waiting
            } else {
                reason = "Init:\(index)/\(spec.initContainers.count)"
            }
            initializing = true
            break
        }

        let initialized = status.conditions.contains { $0.type == "Initialized" && $0.status == "True" }
        if !initializing || initialized {
            // Only sidecars' restarts count beside the main containers' once the pod runs.
            restarts = sidecarRestarts
            var someoneRunning = false
            // The first container with something to say wins, as in Kubernetes.
            for container in status.containerStatuses.reversed() {
                restarts.add(container)
                if let waiting = container.state?.waiting?.reason, !waiting.isEmpty {
                    reason = waiting
                } else if let terminated = container.state?.terminated {
                    reason = Self.terminationReason(terminated)
                } else if container.ready == true, container.state?.running != nil {
                    someoneRunning = true
                    readyCount += 1
                }
            }
            // A finished container beside running ones does not make the pod Completed.
            if reason == "Completed", someoneRunning {
                let podReady = status.conditions.contains { $0.type == "Ready" && $0.status == "True" }
                reason = podReady ? "Running" : "NotReady"
            }
        }

        if pod.metadata?.deletionTimestamp != nil {
            if status.reason == "NodeLost" {
                reason = "Unknown"
            } else if phase != "Succeeded", phase != "Failed" {
                reason = "Terminating"
            }
        }

        self.ready = "\(readyCount)/\(containerCount)"
        self.status = reason
        self.restarts = restarts.text(now: now)
    }

    /// "Completed", "OOMKilled"..., or "Signal:9" / "ExitCode:2" when the runtime gave no reason.
    static func terminationReason(_ terminated: ContainerStateTerminated) -> String {
        if let reason = terminated.reason, !reason.isEmpty { return reason }
        if let signal = terminated.signal, signal != 0 { return "Signal:\(signal)" }
        return "ExitCode:\(terminated.exitCode ?? 0)"
    }
}
