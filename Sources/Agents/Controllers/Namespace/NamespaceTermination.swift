import Api
import Foundation

/// NamespaceTermination is the namespace controller's bookkeeping, free of I/O: which kinds it
/// empties, what the Terminating namespace's conditions say about the progress (Kubernetes'
/// NamespaceDeletionContentFailure, NamespaceContentRemaining and NamespaceFinalizersRemaining),
/// and when the namespace's `kubernetes` finalizer may go.
enum NamespaceTermination {
    /// The `spec.finalizers` entry the API server gives every namespace; this controller removes
    /// it (through `namespaces/finalize`) once the namespace is empty.
    static let kubernetesFinalizer = "kubernetes"

    /// Every namespaced kind, workloads first so that their controllers stop making pods while
    /// the rest goes (admission refuses new objects in a Terminating namespace anyway), events
    /// last so that the deletion's own events stay readable until the end.
    static var namespacedKinds: [ResourceType] {
        let all = ResourceCatalog.all.filter(\.namespaced)
        func rank(_ type: ResourceType) -> Int {
            switch type.group {
            case "apps", "batch": return 0
            case "" where type.plural == "replicationcontrollers": return 0
            case "" where type.plural == "events": return 3
            case "" where type.plural == "pods": return 1
            default: return 2
            }
        }
        return all.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
    }

    static func isTerminating(_ namespace: Namespace) -> Bool {
        namespace.metadata?.deletionTimestamp != nil
    }

    static func hasKubernetesFinalizer(_ namespace: Namespace) -> Bool {
        namespace.spec?.finalizers.contains(kubernetesFinalizer) ?? false
    }

    /// What one pass over a Terminating namespace found.
    struct Report: Equatable {
        /// Objects still present per kind (`qualifiedName`), after this pass's deletes.
        var remaining: [String: Int] = [:]
        /// Finalizers holding remaining objects, with how many objects each holds.
        var finalizers: [String: Int] = [:]
        /// Deletes or lists that failed, as messages.
        var failures: [String] = []

        var isEmpty: Bool { remaining.values.allSatisfy { $0 == 0 } }
    }

    /// The namespace's status after a pass, or nil when nothing a reader sees changed.
    static func status(of namespace: Namespace, report: Report, now: Date) -> NamespaceStatus? {
        var status = namespace.status ?? NamespaceStatus()
        let before = status
        status.phase = "Terminating"
        let remaining = report.remaining.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        let finalizers = report.finalizers.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        set(&status, "NamespaceDeletionContentFailure", !report.failures.isEmpty,
            reason: report.failures.isEmpty ? "ContentDeleted" : "ContentDeletionFailed",
            message: report.failures.isEmpty
                ? "All content successfully deleted, may be waiting on finalization"
                : "Failed to delete all resource types, \(report.failures.count) remaining: \(report.failures.sorted().joined(separator: ", "))",
            now: now)
        set(&status, "NamespaceContentRemaining", !remaining.isEmpty,
            reason: remaining.isEmpty ? "ContentRemoved" : "SomeResourcesRemain",
            message: remaining.isEmpty
                ? "All content successfully removed"
                : "Some resources are remaining: " + remaining.map { "\($0.key) has \($0.value) resource instances" }.joined(separator: ", "),
            now: now)
        set(&status, "NamespaceFinalizersRemaining", !finalizers.isEmpty,
            reason: finalizers.isEmpty ? "ContentHasNoFinalizers" : "SomeFinalizersRemain",
            message: finalizers.isEmpty
                ? "All content-preserving finalizers finished"
                : "Some content in the namespace has finalizers remaining: "
                    + finalizers.map { "\($0.key) in \($0.value) resource instances" }.joined(separator: ", "),
            now: now)
        return status == before ? nil : status
    }

    private static func set(_ status: inout NamespaceStatus, _ type: String, _ isTrue: Bool, reason: String, message: String, now: Date) {
        var condition = NamespaceCondition()
        condition.type = type
        condition.status = isTrue ? "True" : "False"
        condition.reason = reason
        condition.message = message
        if let index = status.conditions.firstIndex(where: { $0.type == type }) {
            let old = status.conditions[index]
            condition.lastTransitionTime = old.status == condition.status ? old.lastTransitionTime : ClusterTime.time(now)
            status.conditions[index] = condition
        } else {
            condition.lastTransitionTime = ClusterTime.time(now)
            status.conditions.append(condition)
        }
    }

    /// The namespace without the `kubernetes` finalizer, as `namespaces/finalize` takes it.
    static func finalized(_ namespace: Namespace) -> Namespace {
        var result = namespace
        var spec = result.spec ?? NamespaceSpec()
        spec.finalizers.removeAll { $0 == kubernetesFinalizer }
        result.spec = spec
        return result
    }
}
