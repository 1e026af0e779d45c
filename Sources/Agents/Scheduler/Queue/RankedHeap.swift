/// RankedHeap is a binary min-heap of queue ids ordered by a rank, with the position of each id
/// kept so that an id can be found and removed in O(log n). Entries are small plain values: the
/// pods themselves stay in the queue's table, so reordering never copies a pod.
struct RankedHeap {
    /// Compared lexicographically: the smallest rank comes out first.
    struct Rank: Comparable {
        var primary: Int64
        var secondary: UInt64
        var tertiary: UInt64

        static func < (left: Rank, right: Rank) -> Bool {
            if left.primary != right.primary { return left.primary < right.primary }
            if left.secondary != right.secondary { return left.secondary < right.secondary }
            return left.tertiary < right.tertiary
        }
    }

    struct Entry {
        var id: UInt64
        var rank: Rank
    }

    private(set) var entries: [Entry] = []
    private var positions: [UInt64: Int] = [:]

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }
    var first: Entry? { entries.first }

    func contains(_ id: UInt64) -> Bool { positions[id] != nil }

    /// Inserts `id`, or moves it to `rank` if present.
    mutating func push(_ id: UInt64, rank: Rank) {
        if let position = positions[id] {
            entries[position].rank = rank
            restore(at: position)
            return
        }
        entries.append(Entry(id: id, rank: rank))
        positions[id] = entries.count - 1
        siftUp(entries.count - 1)
    }

    mutating func pop() -> Entry? {
        guard !entries.isEmpty else { return nil }
        return remove(at: 0)
    }

    @discardableResult
    mutating func remove(_ id: UInt64) -> Entry? {
        guard let position = positions[id] else { return nil }
        return remove(at: position)
    }

    private mutating func remove(at position: Int) -> Entry {
        let removed = entries[position]
        let last = entries.count - 1
        if position != last { swapEntries(position, last) }
        entries.removeLast()
        positions[removed.id] = nil
        if position < entries.count { restore(at: position) }
        return removed
    }

    private mutating func restore(at position: Int) {
        if position > 0 && entries[position].rank < entries[(position - 1) / 2].rank {
            siftUp(position)
        } else {
            siftDown(position)
        }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].rank < entries[parent].rank else { return }
            swapEntries(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < entries.count else { return }
            var smallest = left
            let right = left + 1
            if right < entries.count && entries[right].rank < entries[left].rank { smallest = right }
            guard entries[smallest].rank < entries[parent].rank else { return }
            swapEntries(parent, smallest)
            parent = smallest
        }
    }

    private mutating func swapEntries(_ first: Int, _ second: Int) {
        entries.swapAt(first, second)
        positions[entries[first].id] = first
        positions[entries[second].id] = second
    }
}
