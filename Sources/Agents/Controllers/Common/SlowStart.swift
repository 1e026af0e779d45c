import Api
import Synchronization

/// SlowStart creates objects in batches of growing size — 1, 2, 4, 8… — as Kubernetes'
/// slowStartBatch does: a controller whose pods are all rejected (quota, a bad template) learns
/// it from one failed call instead of hundreds. Each batch runs concurrently; the first batch
/// with a failure ends the run.
public enum SlowStart {
    /// The sizes of the batches that make up `count`, starting from `initial` and doubling.
    public static func batches(count: Int, initial: Int = 1) -> [Int] {
        precondition(count >= 0 && initial > 0)
        var sizes: [Int] = []
        var remaining = count
        var size = min(initial, count)
        while remaining > 0 {
            sizes.append(size)
            remaining -= size
            size = min(size * 2, remaining)
        }
        return sizes
    }

    /// Runs `operation(index)` for indexes 0..<count in slow-start batches. Returns how many
    /// succeeded and the first error; indexes after a failed batch are not attempted, nor after
    /// the calling task is cancelled (leadership lost: another replica is about to act).
    public static func run(
        count: Int, initial: Int = 1, _ operation: @escaping @Sendable (Int) async throws(ApiError) -> Void
    ) async -> (succeeded: Int, error: ApiError?) {
        var start = 0
        var succeeded = 0
        for size in batches(count: count, initial: initial) {
            if Task.isCancelled { return (succeeded, .unavailable("stopped: the controller is shutting down")) }
            let range = start..<(start + size)
            start += size
            let errors = await withTaskGroup(of: ApiError?.self) { group -> [ApiError] in
                for index in range {
                    group.addTask {
                        do throws(ApiError) {
                            try await operation(index)
                            return nil
                        } catch {
                            return error
                        }
                    }
                }
                var errors: [ApiError] = []
                for await error in group { if let error { errors.append(error) } }
                return errors
            }
            succeeded += size - errors.count
            if let first = errors.first { return (succeeded, first) }
        }
        return (succeeded, nil)
    }
}

/// SlowStartMemory remembers, per controller key, where slow start may begin next time: a
/// controller that creates many pods in several rounds (a burst per sync) starts each round at
/// 1 in Kubernetes, paying a dozen round trips per 500 pods. Here a round in which every
/// creation succeeded lets the next round of the same controller start at the size of that round
/// (up to `maximum`), and any failure brings it back to 1, so that a controller whose creations
/// are refused still learns it from one call.
public final class SlowStartMemory: Sendable {
    public let maximum: Int
    private let sizes = Mutex<[String: Int]>([:])

    public init(maximum: Int) {
        precondition(maximum > 0)
        self.maximum = maximum
    }

    /// The first batch size for `key`'s next round.
    public func initialBatch(_ key: String) -> Int {
        sizes.withLock { $0[key] ?? 1 }
    }

    /// Records a round of `attempted` creations of which `succeeded` went through.
    public func record(_ key: String, attempted: Int, succeeded: Int) {
        sizes.withLock { sizes in
            if succeeded < attempted {
                sizes[key] = nil
            } else if attempted > 0 {
                sizes[key] = min(maximum, max(sizes[key] ?? 1, attempted))
            }
        }
    }

    /// Drops what is known about `key` (its controller was deleted).
    public func forget(_ key: String) {
        _ = sizes.withLock { $0.removeValue(forKey: key) }
    }
}
