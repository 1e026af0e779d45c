import Synchronization
import Wire

/// Expectations remembers, per controller key, the creations and deletions a controller has
/// asked for and not yet seen in its informer cache (client-go's ControllerExpectations and
/// UIDTrackingExpectations). A controller syncs only when its expectations are satisfied;
/// otherwise it would count pods from a cache that lags its own writes and create or delete the
/// same pods twice. Expectations that are not met within `timeoutSeconds` (a lost watch event,
/// a failed write that was not lowered) are treated as satisfied, so a controller never stalls.
///
/// Bound: one entry per controller key with pending expectations; `forget(_:)` drops the entry
/// of a deleted controller.
public final class Expectations: Sendable {
    struct Entry {
        var creations = 0
        /// Keys ("namespace/name") of dependents whose deletion was requested and not yet seen.
        var deletions: Set<String> = []
        /// Monotonic nanoseconds when the expectations were last raised.
        var setAt: UInt64 = 0
    }

    public let timeoutSeconds: Double
    private let entries = Mutex<[String: Entry]>([:])

    /// Kubernetes' ExpectationsTimeout is 5 minutes.
    public init(timeoutSeconds: Double = 300) {
        precondition(timeoutSeconds > 0)
        self.timeoutSeconds = timeoutSeconds
    }

    /// True when nothing is pending for `key`, or what is pending is older than the timeout.
    public func satisfied(_ key: String) -> Bool {
        entries.withLock { entries in
            guard let entry = entries[key] else { return true }
            if entry.creations <= 0 && entry.deletions.isEmpty { return true }
            return monotonicNanoseconds() &- entry.setAt > UInt64(timeoutSeconds * 1e9)
        }
    }

    /// Sets the creations expected for `key` (replacing any left from an expired round).
    public func expectCreations(_ key: String, count: Int) {
        precondition(count >= 0)
        entries.withLock { entries in
            var entry = entries[key] ?? Entry()
            entry.creations = count
            entry.setAt = monotonicNanoseconds()
            entries[key] = entry
        }
    }

    /// One expected creation was seen in the cache, or will never happen (the create failed or
    /// was skipped).
    public func creationObserved(_ key: String) {
        entries.withLock { entries in
            guard var entry = entries[key] else { return }
            entry.creations = max(0, entry.creations - 1)
            entries[key] = entry
        }
    }

    /// Lowers the expected creations by `count` at once (creations skipped after a failure).
    public func creationsSkipped(_ key: String, count: Int) {
        entries.withLock { entries in
            guard var entry = entries[key] else { return }
            entry.creations = max(0, entry.creations - count)
            entries[key] = entry
        }
    }

    /// Sets the dependents whose deletion `key` expects to observe.
    public func expectDeletions(_ key: String, dependents: [String]) {
        entries.withLock { entries in
            var entry = entries[key] ?? Entry()
            entry.deletions = Set(dependents)
            entry.setAt = monotonicNanoseconds()
            entries[key] = entry
        }
    }

    /// The dependent's deletion was seen (it is gone or terminating), or will never happen.
    public func deletionObserved(_ key: String, dependent: String) {
        entries.withLock { entries in
            guard var entry = entries[key], entry.deletions.remove(dependent) != nil else { return }
            entries[key] = entry
        }
    }

    /// Pending creations and deletions of `key`, for logs and tests.
    public func pending(_ key: String) -> (creations: Int, deletions: Int) {
        entries.withLock { entries in
            guard let entry = entries[key] else { return (0, 0) }
            return (entry.creations, entry.deletions.count)
        }
    }

    /// Drops everything about `key` (its controller was deleted).
    public func forget(_ key: String) {
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }
}
