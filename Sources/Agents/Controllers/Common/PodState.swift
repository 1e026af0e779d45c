import Api
import Foundation

/// PodState answers the questions every workload controller asks about a pod, the way
/// Kubernetes' podutil does. Time is passed in (`now`, seconds since the epoch) so that the
/// decisions built on it are pure.
public enum PodState {
    /// Running, pending or unknown, and not being deleted: a pod that counts toward replicas
    /// (Kubernetes' FilterActivePods).
    public static func isActive(_ pod: Pod) -> Bool {
        !isTerminal(pod) && !isTerminating(pod)
    }

    /// Succeeded or Failed: its containers will not run again.
    public static func isTerminal(_ pod: Pod) -> Bool {
        let phase = pod.status?.phase
        return phase == "Succeeded" || phase == "Failed"
    }

    public static func isTerminating(_ pod: Pod) -> Bool {
        pod.metadata?.deletionTimestamp != nil
    }

    public static func isScheduled(_ pod: Pod) -> Bool {
        !(pod.spec?.nodeName ?? "").isEmpty
    }

    public static func readyCondition(_ pod: Pod) -> PodCondition? {
        pod.status?.conditions.first { $0.type == "Ready" }
    }

    /// The Ready condition is True.
    public static func isReady(_ pod: Pod) -> Bool {
        readyCondition(pod)?.status == "True"
    }

    public static func isRunningAndReady(_ pod: Pod) -> Bool {
        pod.status?.phase == "Running" && isReady(pod)
    }

    /// Ready for at least `minReadySeconds` (Kubernetes' IsPodAvailable): a pod with no
    /// transition time counts as ready since forever.
    public static func isAvailable(_ pod: Pod, minReadySeconds: Int32, now: Double) -> Bool {
        guard isReady(pod) else { return false }
        guard minReadySeconds > 0 else { return true }
        guard let since = readyCondition(pod)?.lastTransitionTime.map(WallClock.seconds) else { return true }
        return since + Double(minReadySeconds) <= now
    }

    /// Seconds until a ready pod becomes available, or nil when it is not ready or already is.
    public static func secondsUntilAvailable(_ pod: Pod, minReadySeconds: Int32, now: Double) -> Double? {
        guard isReady(pod), minReadySeconds > 0,
            let since = readyCondition(pod)?.lastTransitionTime.map(WallClock.seconds)
        else { return nil }
        let remaining = since + Double(minReadySeconds) - now
        return remaining > 0 ? remaining : nil
    }

    /// Restarts of all containers, init containers included.
    public static func restarts(_ pod: Pod) -> Int {
        let statuses = (pod.status?.containerStatuses ?? []) + (pod.status?.initContainerStatuses ?? [])
        return statuses.reduce(0) { $0 + Int($1.restartCount ?? 0) }
    }

    public static func creationSeconds(_ pod: Pod) -> Double {
        pod.metadata?.creationTimestamp.map(WallClock.seconds) ?? 0
    }
}

/// WallClock converts between API times and seconds since the epoch.
public enum WallClock {
    public static func now() -> Double { Date().timeIntervalSince1970 }

    public static func seconds(_ time: Time) -> Double {
        Double(time.seconds ?? 0) + Double(time.nanos ?? 0) / 1e9
    }

    public static func time(_ seconds: Double) -> Time {
        let whole = seconds.rounded(.down)
        return Time(seconds: Int64(whole), nanos: Int32(min(999_999_999, (seconds - whole) * 1e9)))
    }
}
