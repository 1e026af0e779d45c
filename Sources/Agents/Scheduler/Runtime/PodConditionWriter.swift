import Api
import Foundation
import Logging
import Synchronization

/// PodConditionWriter sets `PodScheduled=False` with reason Unschedulable and the FailedScheduling
/// message on pods that fit nowhere, as kube-scheduler does, so that `kubectl get pod` and
/// controllers see why a pod is Pending. A write happens only when the condition changes.
///
/// Writes run in the background, at most `maximumInFlight` at once; past that a write is
/// skipped (the pod's next failed attempt writes again), so a storm of unschedulable pods never
/// slows scheduling.
final class PodConditionWriter: Sendable {
    let client: ApiClient
    let logger: Logger
    let maximumInFlight: Int
    private let inFlight = Atomic<Int>(0)

    init(client: ApiClient, logger: Logger, maximumInFlight: Int = 128) {
        precondition(maximumInFlight > 0)
        self.client = client
        self.logger = logger
        self.maximumInFlight = maximumInFlight
    }

    func setUnschedulable(_ pod: Pod, message: String) {
        guard Self.withUnschedulableCondition(pod, message: message) != nil else { return }
        guard inFlight.add(1, ordering: .relaxed).newValue <= maximumInFlight else {
            inFlight.subtract(1, ordering: .relaxed)
            return
        }
        Task { [self] in
            await write(pod, message: message)
            inFlight.subtract(1, ordering: .relaxed)
        }
    }

    private func write(_ pod: Pod, message: String) async {
        guard let updated = Self.withUnschedulableCondition(pod, message: message) else { return }
        do {
            _ = try await client.updateStatus(updated)
        } catch where error.code == 409 {
            // The pod changed since the informer showed it; apply the condition to the latest.
            let namespace = pod.metadata?.namespace, name = pod.metadata?.name ?? ""
            guard let fresh = try? await client.get(Pod.self, namespace: namespace, name: name),
                (fresh.spec?.nodeName ?? "").isEmpty, let again = Self.withUnschedulableCondition(fresh, message: message)
            else { return }
            _ = try? await client.updateStatus(again)
        } catch {
            logger.debug("PodScheduled condition of \(pod.metadata?.namespace ?? "")/\(pod.metadata?.name ?? "") not written: \(error.message)")
        }
    }

    /// The pod with `PodScheduled=False`, reason Unschedulable and `message`; nil when it has
    /// exactly that condition already. The transition time moves only when the status changes.
    static func withUnschedulableCondition(_ pod: Pod, message: String, now: Date = Date()) -> Pod? {
        var status = pod.status ?? PodStatus()
        let index = status.conditions.firstIndex { $0.type == "PodScheduled" }
        let existing = index.map { status.conditions[$0] }
        if existing?.status == "False" && existing?.reason == "Unschedulable" && existing?.message == message { return nil }
        var condition = PodCondition()
        condition.type = "PodScheduled"
        condition.status = "False"
        condition.reason = "Unschedulable"
        condition.message = message
        condition.lastTransitionTime = existing?.status == "False" ? existing?.lastTransitionTime : Time(seconds: Int64(now.timeIntervalSince1970))
        if let index { status.conditions[index] = condition } else { status.conditions.append(condition) }
        if status.phase == nil { status.phase = "Pending" }
        var updated = pod
        updated.status = status
        return updated
    }
}
