import Api
import Foundation

/// SchedulerInput is something the scheduling loop must take into account: an informer event,
/// the answer to a binding, or a nudge to look at its state again.
indirect enum SchedulerInput: Sendable {
    case nodeChanged(Node)
    case nodeDeleted(Node)
    case podChanged(old: Pod?, Pod)
    case podDeleted(Pod)
    case namespaceChanged(Namespace)
    case namespaceDeleted(Namespace)
    /// The binding of pod `uid` succeeded (error nil) or failed.
    case bindingAnswered(uid: String, error: ApiError?)
    case wake
}

/// SchedulerInbox hands inputs from the informer and client threads to the scheduling thread.
/// Producers append and never wait; the scheduling thread takes everything queued at once, in
/// order, so that it applies events in batches between scheduling decisions.
///
/// Bound: informer events arrive at the pace of the API server's watch, which the scheduling
/// thread keeps up with by applying them before every batch of decisions; binding answers are
/// bounded by the bindings in flight.
final class SchedulerInbox: @unchecked Sendable {
    // Safety of @unchecked Sendable: `inputs` and `waiting` are touched only while `condition`
    // is locked.
    private let condition = NSCondition()
    private var inputs: [SchedulerInput] = []
    private var waiting = false

    func post(_ input: SchedulerInput) {
        condition.lock()
        inputs.append(input)
        let wake = waiting
        condition.unlock()
        if wake { condition.signal() }
    }

    /// Everything posted so far, oldest first; waits up to `timeoutNanoseconds` when nothing is
    /// there (0: never waits).
    func take(timeoutNanoseconds: UInt64) -> [SchedulerInput] {
        condition.lock()
        defer { condition.unlock() }
        if inputs.isEmpty && timeoutNanoseconds > 0 {
            waiting = true
            let deadline = Date(timeIntervalSinceNow: Double(timeoutNanoseconds) / 1e9)
            while inputs.isEmpty {
                if !condition.wait(until: deadline) { break }
            }
            waiting = false
        }
        defer { inputs = [] }
        return inputs
    }
}
