import Api
import Foundation

/// PodGarbageCollection is the pod garbage collector's decision logic, free of I/O (Kubernetes'
/// podgc): which pods to force-delete (grace period 0) because no node agent will ever finish
/// them.
///
/// - Orphaned: bound to a node that no longer exists (confirmed with the API server after a
///   quarantine, so a cache that lags a node's creation deletes nothing).
/// - Terminating on a dead node: being deleted, bound to a node whose Ready condition is False
///   or Unknown, and past its deletion deadline (`deletionTimestamp`, which the API server sets
///   to the delete's time plus the grace period). A pod evicted from a dead node would otherwise
///   stay Terminating until the node returns; Kubernetes waits for an out-of-service taint here,
///   Skiff does not, since its nodes cannot run a pod after its grace period anyway.
/// - Unscheduled and terminating: being deleted and bound to no node (nothing will finish it).
/// - Terminated above the threshold: Succeeded or Failed pods beyond `terminatedThreshold`,
///   oldest first, so finished pods do not grow without bound (0 turns this off).
///
/// Pods with finalizers are left to whoever owns the finalizer in the two terminating cases: a
/// forced deletion cannot remove them either.
public enum PodGarbageCollection {
    public enum Reason: Sendable, Hashable {
        case orphaned(node: String)
        case terminatingOnUnreadyNode(node: String)
        case unscheduledTerminating
        case terminatedOverThreshold
    }

    public struct Deletion: Sendable, Hashable {
        public var namespace: String
        public var name: String
        public var uid: String
        public var reason: Reason
    }

    /// What the collector knows about the nodes pods are bound to.
    public struct Nodes: Sendable {
        /// Ready condition status ("True", "False", "Unknown", or nil when absent) of every node
        /// in the cache.
        public var readyStatus: [String: String?]
        /// Nodes confirmed absent with the API server after their quarantine.
        public var confirmedGone: Set<String>

        public init(readyStatus: [String: String?], confirmedGone: Set<String> = []) {
            self.readyStatus = readyStatus
            self.confirmedGone = confirmedGone
        }

        public init(_ nodes: [Node], confirmedGone: Set<String> = []) {
            var readyStatus: [String: String?] = [:]
            for node in nodes {
                readyStatus[node.metadata?.name ?? ""] = .some(node.status?.conditions.first { $0.type == "Ready" }?.status)
            }
            self.init(readyStatus: readyStatus, confirmedGone: confirmedGone)
        }

        func isUnready(_ name: String) -> Bool {
            guard let entry = readyStatus[name], let status = entry else { return false }
            return status == "False" || status == "Unknown"
        }
    }

    public struct Plan: Sendable {
        public var deletions: [Deletion] = []
        /// The earliest moment a terminating pod on an unready node reaches its deadline: look
        /// again then.
        public var nextDeadline: Date?
    }

    /// The force deletions that `pods` call for.
    public static func plan(pods: [Pod], nodes: Nodes, now: Date, terminatedThreshold: Int) -> Plan {
        var plan = Plan()
        var chosen: Set<String> = []
        func choose(_ pod: Pod, _ reason: Reason) {
            let uid = pod.metadata?.uid ?? ""
            guard chosen.insert(uid).inserted else { return }
            plan.deletions.append(Deletion(
                namespace: pod.metadata?.namespace ?? "", name: pod.metadata?.name ?? "", uid: uid, reason: reason))
        }
        var terminated: [Pod] = []
        for pod in pods {
            let node = pod.spec?.nodeName ?? ""
            let terminating = pod.metadata?.deletionTimestamp != nil
            let finalized = pod.metadata?.finalizers.isEmpty ?? true
            if !node.isEmpty && nodes.confirmedGone.contains(node) && nodes.readyStatus[node] == nil {
                choose(pod, .orphaned(node: node))
            } else if terminating && finalized && node.isEmpty {
                choose(pod, .unscheduledTerminating)
            } else if terminating && finalized && nodes.isUnready(node) {
                let deadline = ClusterTime.date(pod.metadata?.deletionTimestamp) ?? now
                if deadline <= now {
                    choose(pod, .terminatingOnUnreadyNode(node: node))
                } else {
                    plan.nextDeadline = min(plan.nextDeadline ?? deadline, deadline)
                }
            } else if PodState.isTerminal(pod) {
                terminated.append(pod)
            }
        }
        if terminatedThreshold > 0 && terminated.count > terminatedThreshold {
            let oldestFirst = terminated.sorted { a, b in
                let (left, right) = (creationSeconds(a), creationSeconds(b))
                if left != right { return left < right }
                return ObjectKey.of(a) < ObjectKey.of(b)
            }
            for pod in oldestFirst.prefix(terminated.count - terminatedThreshold) { choose(pod, .terminatedOverThreshold) }
        }
        return plan
    }

    /// Nodes that bound pods name and the cache does not hold: candidates for the quarantine.
    public static func missingNodes(boundTo names: [String], existing: Set<String>) -> Set<String> {
        Set(names.filter { !$0.isEmpty && !existing.contains($0) })
    }

    static func creationSeconds(_ pod: Pod) -> Double {
        ClusterTime.date(pod.metadata?.creationTimestamp)?.timeIntervalSince1970 ?? 0
    }
}

/// NodeQuarantine tracks nodes that pods name but the cache does not hold, from when each was
/// first found missing: only after `quarantine` is the API server asked whether the node is
/// really gone (Kubernetes' podgc waits 40 s), so a node created a moment ago, not yet in the
/// cache, costs its pods nothing.
struct NodeQuarantine {
    private(set) var missingSince: [String: Date] = [:]

    /// Records the currently missing nodes; returns those missing for at least `quarantine`.
    mutating func update(missing: Set<String>, now: Date, quarantine: TimeInterval) -> Set<String> {
        missingSince = missingSince.filter { missing.contains($0.key) }
        for name in missing where missingSince[name] == nil { missingSince[name] = now }
        return Set(missingSince.filter { now.timeIntervalSince($0.value) >= quarantine }.keys)
    }

    /// The moment the next node leaves quarantine.
    func nextRelease(quarantine: TimeInterval) -> Date? {
        missingSince.values.min().map { $0.addingTimeInterval(quarantine) }
    }

    /// The node exists after all (the cache lagged): start over if it goes missing again.
    mutating func clear(_ name: String) {
        missingSince[name] = nil
    }
}
