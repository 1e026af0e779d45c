/// DeadlineQueue is a binary min-heap of (deadline, stream id). Entries for calls that finished
/// early are not removed; the owner skips them when they come due (lazy deletion), which keeps
/// finishing a call O(1).
struct DeadlineQueue {
    private var heap: [(deadline: UInt64, streamID: UInt64)] = []

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var earliest: UInt64? { heap.first?.deadline }

    mutating func insert(deadline: UInt64, streamID: UInt64) {
        heap.append((deadline, streamID))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if heap[parent].deadline <= heap[child].deadline { break }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    /// Removes and returns every entry due at or before `now`.
    mutating func popDue(now: UInt64) -> [UInt64] {
        var due: [UInt64] = []
        while let first = heap.first, first.deadline <= now {
            due.append(first.streamID)
            let last = heap.removeLast()
            if heap.isEmpty { break }
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count && heap[left].deadline < heap[smallest].deadline { smallest = left }
                if right < heap.count && heap[right].deadline < heap[smallest].deadline { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return due
    }

    mutating func removeAll() { heap.removeAll() }
}
