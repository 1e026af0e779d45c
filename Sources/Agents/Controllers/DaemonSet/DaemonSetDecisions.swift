import Api

/// DaemonSetDecisions is the daemon set controller's logic without I/O, after Kubernetes'
/// pkg/controller/daemon (daemon_controller.go, update.go, util): which nodes should run a
/// daemon pod, which pods to create and delete to get one per eligible node, how far a rolling
/// update may go, and the status.
public enum DaemonSetDecisions {
    /// The label with the hash of the template a daemon pod was made from.
    public static let revisionHashLabel = "controller-revision-hash"
    /// Deprecated but still written by Kubernetes: the generation of the template.
    public static let templateGenerationLabel = "pod-template-generation"

    /// Tolerations every daemon pod gets (Kubernetes' AddOrUpdateDaemonPodTolerations): a
    /// daemon keeps running on a node that is not ready or unreachable, under resource
    /// pressure, or cordoned.
    public static func defaultTolerations(hostNetwork: Bool) -> [Toleration] {
        var tolerations = [
            Toleration(key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute"),
            Toleration(key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute"),
            Toleration(key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule"),
            Toleration(key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule"),
            Toleration(key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule"),
            Toleration(key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule"),
        ]
        if hostNetwork {
            tolerations.append(Toleration(key: "node.kubernetes.io/network-unavailable", operator: "Exists", effect: "NoSchedule"))
        }
        return tolerations
    }

    /// The hash of the daemon set's template, on every pod it makes.
    public static func templateHash(_ daemonSet: DaemonSet) -> String {
        TemplateHash.of(daemonSet.spec?.template ?? PodTemplateSpec(), collisionCount: daemonSet.status?.collisionCount)
    }

    /// The template pods are made from: the set's template plus the revision labels and the
    /// default tolerations.
    public static func podTemplate(_ daemonSet: DaemonSet, hash: String) -> PodTemplateSpec {
        var template = daemonSet.spec?.template ?? PodTemplateSpec()
        var meta = template.metadata ?? ObjectMeta()
        meta.labels[revisionHashLabel] = hash
        meta.labels[templateGenerationLabel] = String(daemonSet.metadata?.generation ?? 1)
        template.metadata = meta
        var spec = template.spec ?? PodSpec()
        for toleration in defaultTolerations(hostNetwork: spec.hostNetwork == true)
        where !spec.tolerations.contains(where: { $0.key == toleration.key && $0.effect == toleration.effect }) {
            spec.tolerations.append(toleration)
        }
        template.spec = spec
        return template
    }

    /// The daemon pod for `node`: required node affinity to that node's name, replacing any
    /// required node affinity of the template (which the controller has already checked), so
    /// that the scheduler places it there (Kubernetes' ReplaceDaemonSetPodNodeNameNodeAffinity).
    public static func pod(_ daemonSet: DaemonSet, template: PodTemplateSpec, node: String) -> Pod {
        var pod = PodTemplates.pod(from: template, owner: daemonSet)
        var spec = pod.spec ?? PodSpec()
        var affinity = spec.affinity ?? Affinity()
        var nodeAffinity = affinity.nodeAffinity ?? Api.NodeAffinity()
        nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = NodeSelector(nodeSelectorTerms: [
            NodeSelectorTerm(matchFields: [
                NodeSelectorRequirement(key: NodeEligibility.nodeNameField, operator: "In", values: [node])
            ])
        ])
        affinity.nodeAffinity = nodeAffinity
        spec.affinity = affinity
        pod.spec = spec
        return pod
    }

    /// The node a daemon pod is for: its spec.nodeName, or the node its required affinity names.
    public static func targetNode(_ pod: Pod) -> String? {
        if let node = pod.spec?.nodeName, !node.isEmpty { return node }
        for term in pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [] {
            for field in term.matchFields where field.key == NodeEligibility.nodeNameField && field.operator == "In" && field.values.count == 1 {
                return field.values[0]
            }
        }
        return nil
    }

    /// Whether a daemon pod should be placed on `node`, and whether one already there may stay
    /// (Kubernetes' NodeShouldRunDaemonPod): the node must match nodeName, nodeSelector and
    /// required affinity; untolerated NoSchedule or NoExecute taints keep new pods off, and an
    /// untolerated NoExecute taint evicts running ones.
    public static func shouldRun(_ daemonSet: DaemonSet, on node: Node, template: PodTemplateSpec) -> (run: Bool, keepRunning: Bool) {
        let spec = template.spec
        if let name = spec?.nodeName, !name.isEmpty, name != node.metadata?.name { return (false, false) }
        guard NodeEligibility.matchesNodeSelectorAndAffinity(spec, node: node) else { return (false, false) }
        let taints = node.spec?.taints ?? []
        let tolerations = spec?.tolerations ?? []
        if NodeEligibility.untoleratedTaint(taints, tolerations: tolerations, effects: ["NoSchedule", "NoExecute"]) != nil {
            let evicted = NodeEligibility.untoleratedTaint(taints, tolerations: tolerations, effects: ["NoExecute"]) != nil
            return (false, !evicted)
        }
        return (true, true)
    }

    /// Pods grouped by the node they are for (pods without one are left out).
    public static func podsByNode(_ pods: [Pod]) -> [String: [Pod]] {
        var grouped: [String: [Pod]] = [:]
        for pod in pods {
            guard let node = targetNode(pod) else { continue }
            grouped[node, default: []].append(pod)
        }
        return grouped
    }

    static func oldestFirst(_ left: Pod, _ right: Pod) -> Bool {
        let leftTime = PodState.creationSeconds(left)
        let rightTime = PodState.creationSeconds(right)
        if leftTime != rightTime { return leftTime < rightTime }
        return (left.metadata?.name ?? "") < (right.metadata?.name ?? "")
    }

    public static func isUpdated(_ pod: Pod, hash: String) -> Bool {
        pod.metadata?.labels[revisionHashLabel] == hash
    }

    /// Plan is what one sync does: create a pod on these nodes, delete these pods.
    public struct Plan: Sendable, Equatable {
        public var createOn: [String] = []
        public var delete: [Pod] = []
        public var isEmpty: Bool { createOn.isEmpty && delete.isEmpty }
    }

    /// One pod per node that should run one (Kubernetes' manage and podsShouldBeOnNode): create
    /// where none is; where one may stay, delete finished pods and duplicates (the oldest stays;
    /// with maxSurge, the oldest new and oldest old may both stay while the new one is not
    /// available); where none may stay, delete them all. Pods for nodes that no longer exist go
    /// too (Kubernetes leaves those to its pod garbage collector, which Skiff does not have).
    public static func manage(
        _ daemonSet: DaemonSet, nodes: [Node], podsByNode: [String: [Pod]], hash: String, surge: Int, now: Double
    ) -> Plan {
        var plan = Plan()
        let template = podTemplate(daemonSet, hash: hash)
        let minReady = daemonSet.spec?.minReadySeconds ?? 0
        var known: Set<String> = []
        for node in nodes.sorted(by: { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }) {
            let name = node.metadata?.name ?? ""
            known.insert(name)
            let pods = podsByNode[name] ?? []
            let (run, keepRunning) = shouldRun(daemonSet, on: node, template: template)
            if run && pods.isEmpty {
                plan.createOn.append(name)
            } else if keepRunning {
                var running: [Pod] = []
                for pod in pods where !PodState.isTerminating(pod) {
                    if PodState.isTerminal(pod) { plan.delete.append(pod) } else { running.append(pod) }
                }
                running.sort(by: oldestFirst)
                if surge == 0 {
                    plan.delete.append(contentsOf: running.dropFirst())
                } else {
                    var oldestNew: Pod? = nil
                    var oldestOld: Pod? = nil
                    for pod in running {
                        if isUpdated(pod, hash: hash) {
                            if oldestNew == nil { oldestNew = pod; continue }
                        } else if oldestOld == nil {
                            oldestOld = pod
                            continue
                        }
                        plan.delete.append(pod)
                    }
                    if let oldestNew, let oldestOld,
                        !PodState.isAvailable(oldestOld, minReadySeconds: minReady, now: now)
                            || PodState.isAvailable(oldestNew, minReadySeconds: minReady, now: now)
                    {
                        plan.delete.append(oldestOld)
                    }
                }
            } else {
                plan.delete.append(contentsOf: pods.filter { !PodState.isTerminating($0) })
            }
        }
        for (node, pods) in podsByNode.sorted(by: { $0.key < $1.key }) where !known.contains(node) {
            plan.delete.append(contentsOf: pods.filter { !PodState.isTerminating($0) })
        }
        return plan
    }

    /// maxUnavailable and maxSurge as counts of `desired` nodes; both round up for daemon sets,
    /// and when both are 0 one node may be unavailable.
    public static func rollingLimits(_ daemonSet: DaemonSet, desired: Int) throws(SpecError) -> (unavailable: Int, surge: Int) {
        let rolling = daemonSet.spec?.updateStrategy?.rollingUpdate
        let surge = try IntOrPercent.scaled(
            rolling?.maxSurge, default: IntOrPercent.count(0), total: desired, roundUp: true,
            field: "spec.updateStrategy.rollingUpdate.maxSurge")
        let unavailable = try IntOrPercent.scaled(
            rolling?.maxUnavailable, default: IntOrPercent.count(1), total: desired, roundUp: true,
            field: "spec.updateStrategy.rollingUpdate.maxUnavailable")
        if surge == 0 && unavailable == 0 { return (1, 0) }
        return (surge > 0 ? 0 : unavailable, surge)
    }

    public static func isRollingUpdate(_ daemonSet: DaemonSet) -> Bool {
        (daemonSet.spec?.updateStrategy?.type ?? "RollingUpdate") == "RollingUpdate"
    }

    /// One step of a rolling update (Kubernetes' rollingUpdate in update.go). Without surge, old
    /// pods are deleted (and recreated by `manage`) while at most maxUnavailable nodes lack an
    /// available daemon pod; old pods that are not available anyway go at once. With surge, a
    /// new pod starts beside the old one on up to maxSurge nodes, and the old one goes once
    /// the new one is available.
    public static func rollingUpdate(
        _ daemonSet: DaemonSet, nodes: [Node], podsByNode: [String: [Pod]], hash: String, now: Double
    ) throws(SpecError) -> Plan {
        let template = podTemplate(daemonSet, hash: hash)
        let minReady = daemonSet.spec?.minReadySeconds ?? 0
        let eligible = nodes.filter { shouldRun(daemonSet, on: $0, template: template).run }
            .map { $0.metadata?.name ?? "" }.sorted()
        let (maxUnavailable, maxSurge) = try rollingLimits(daemonSet, desired: eligible.count)
        var plan = Plan()
        if maxSurge == 0 {
            var unavailable = 0
            var replaceNow: [Pod] = []
            var candidates: [Pod] = []
            for node in eligible {
                let pods = (podsByNode[node] ?? []).filter { !PodState.isTerminating($0) }
                let new = pods.filter { isUpdated($0, hash: hash) }
                let old = pods.filter { !isUpdated($0, hash: hash) }
                // Duplicates, none, or both: `manage` is still at work there; count it unavailable.
                guard new.count <= 1, old.count <= 1, new.count + old.count == 1 else {
                    unavailable += 1
                    continue
                }
                if let new = new.first {
                    if !PodState.isAvailable(new, minReadySeconds: minReady, now: now) { unavailable += 1 }
                } else if let old = old.first {
                    if !PodState.isAvailable(old, minReadySeconds: minReady, now: now) {
                        replaceNow.append(old)
                    } else {
                        candidates.append(old)
                    }
                }
            }
            let budget = max(0, min(maxUnavailable - unavailable, candidates.count))
            plan.delete = replaceNow + candidates.prefix(budget)
            return plan
        }
        var surging = 0
        var replaceNow: [String] = []
        var candidates: [String] = []
        for node in eligible {
            let pods = (podsByNode[node] ?? []).filter(PodState.isActive).sorted(by: oldestFirst)
            let new = pods.first { isUpdated($0, hash: hash) }
            let old = pods.first { !isUpdated($0, hash: hash) }
            guard let old else { continue }
            if let new {
                if PodState.isAvailable(new, minReadySeconds: minReady, now: now) {
                    plan.delete.append(old)
                } else {
                    surging += 1
                }
            } else if !PodState.isAvailable(old, minReadySeconds: minReady, now: now) {
                replaceNow.append(node)
            } else {
                candidates.append(node)
            }
        }
        let budget = max(0, min(maxSurge - surging, candidates.count))
        plan.createOn = replaceNow + candidates.prefix(budget)
        return plan
    }

    /// The status (Kubernetes' updateDaemonSetStatus): nodes that should run a pod, those that
    /// have one, those that have one they should not, and how many of the oldest pods per node
    /// are ready, available and from the current template.
    public static func status(
        _ daemonSet: DaemonSet, nodes: [Node], podsByNode: [String: [Pod]], hash: String, now: Double
    ) -> DaemonSetStatus {
        let template = podTemplate(daemonSet, hash: hash)
        let minReady = daemonSet.spec?.minReadySeconds ?? 0
        var status = daemonSet.status ?? DaemonSetStatus()
        var desired: Int32 = 0, current: Int32 = 0, misscheduled: Int32 = 0
        var ready: Int32 = 0, available: Int32 = 0, updated: Int32 = 0
        for node in nodes {
            let pods = (podsByNode[node.metadata?.name ?? ""] ?? []).sorted(by: oldestFirst)
            if shouldRun(daemonSet, on: node, template: template).run {
                desired += 1
                guard let pod = pods.first else { continue }
                current += 1
                if PodState.isReady(pod) {
                    ready += 1
                    if PodState.isAvailable(pod, minReadySeconds: minReady, now: now) { available += 1 }
                }
                if isUpdated(pod, hash: hash) { updated += 1 }
            } else if !pods.isEmpty {
                misscheduled += 1
            }
        }
        status.desiredNumberScheduled = desired
        status.currentNumberScheduled = current
        status.numberMisscheduled = misscheduled
        status.numberReady = ready
        status.numberAvailable = available
        status.updatedNumberScheduled = updated
        status.numberUnavailable = desired - available
        status.observedGeneration = daemonSet.metadata?.generation ?? 0
        return status
    }
}
