import Api

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
