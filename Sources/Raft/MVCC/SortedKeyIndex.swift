/// SortedKeyIndex maps every key the store has history for to the index of its newest record,
/// in key order. It is a two-level sorted structure: a sorted array of chunks, each a sorted
/// array of at most `maximumChunkCount` keys. A lookup is a binary search over the chunks' last
/// keys then one inside a chunk (O(log n)); an insert moves at most one chunk's entries and,
/// on a split, the chunk list; a scan walks chunks in order (O(log n + k)).
///
/// Invariants: no chunk is empty; keys are strictly increasing across the whole structure; each
/// chunk holds at most `maximumChunkCount` keys; `count` is the total number of keys.
/// Keys are never removed one by one: compaction rebuilds the index with `init(sortedKeys:records:)`.
struct SortedKeyIndex {
    static let maximumChunkCount = 512

    struct Chunk {
        var keys: [[UInt8]]
        var records: [Int32]
    }

    /// Position is a slot: `chunk == chunks.count` is the end.
    struct Position: Hashable {
        var chunk: Int
        var slot: Int
    }

    private(set) var chunks: [Chunk] = []
    private(set) var count = 0

    init() {}

    /// init(sortedKeys:records:) builds an index from strictly increasing keys, filling chunks to
    /// three quarters so that inserts do not split at once.
    init(sortedKeys keys: [[UInt8]], records: [Int32]) {
        precondition(keys.count == records.count, "SortedKeyIndex: keys and records differ in count")
        let fill = Self.maximumChunkCount * 3 / 4
        var start = 0
        while start < keys.count {
            let end = min(start + fill, keys.count)
            var chunk = Chunk(keys: [], records: [])
            chunk.keys.reserveCapacity(Self.maximumChunkCount)
            chunk.records.reserveCapacity(Self.maximumChunkCount)
            chunk.keys.append(contentsOf: keys[start..<end])
            chunk.records.append(contentsOf: records[start..<end])
            chunks.append(chunk)
            start = end
        }
        count = keys.count
        for index in keys.indices.dropFirst() {
            precondition(compareBytes(keys[index - 1], keys[index]) < 0, "SortedKeyIndex: keys not strictly increasing")
        }
    }

    var endPosition: Position { Position(chunk: chunks.count, slot: 0) }

    /// lowerBound is the position of the first key >= `key`.
    func lowerBound(_ key: [UInt8]) -> Position {
        var low = 0
        var high = chunks.count
        while low < high {
            let middle = (low + high) / 2
            if compareBytes(chunks[middle].keys[chunks[middle].keys.count - 1], key) < 0 {
                low = middle + 1
            } else {
                high = middle
            }
        }
        if low == chunks.count { return endPosition }
        return Position(chunk: low, slot: Self.lowerBound(key, in: chunks[low].keys))
    }

    private static func lowerBound(_ key: [UInt8], in keys: [[UInt8]]) -> Int {
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if compareBytes(keys[middle], key) < 0 {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }

    /// find returns the position of `key` and its record, or the position where it would go.
    func find(_ key: [UInt8]) -> (position: Position, record: Int32?) {
        let position = lowerBound(key)
        if position.chunk < chunks.count, chunks[position.chunk].keys[position.slot] == key {
            return (position, chunks[position.chunk].records[position.slot])
        }
        return (position, nil)
    }

    func record(for key: [UInt8]) -> Int32? {
        find(key).record
    }

    @inline(__always)
    func key(at position: Position) -> [UInt8] {
        chunks[position.chunk].keys[position.slot]
    }

    @inline(__always)
    func record(at position: Position) -> Int32 {
        chunks[position.chunk].records[position.slot]
    }

    /// setRecord replaces the record of the existing key at `position`.
    @inline(__always)
    mutating func setRecord(_ record: Int32, at position: Position) {
        chunks[position.chunk].records[position.slot] = record
    }

    /// insert adds a key absent from the index at the position `find` returned for it.
    mutating func insert(_ key: [UInt8], record: Int32, at found: Position) {
        if chunks.isEmpty {
            var chunk = Chunk(keys: [], records: [])
            chunk.keys.reserveCapacity(Self.maximumChunkCount)
            chunk.records.reserveCapacity(Self.maximumChunkCount)
            chunks.append(chunk)
        }
        var position = found
        if position.chunk == chunks.count {
            // After every key: append to the last chunk.
            position = Position(chunk: chunks.count - 1, slot: chunks[chunks.count - 1].keys.count)
        }
        if chunks[position.chunk].keys.count == Self.maximumChunkCount {
            position = split(position)
        }
        chunks[position.chunk].keys.insert(key, at: position.slot)
        chunks[position.chunk].records.insert(record, at: position.slot)
        count += 1
    }

    /// split halves a full chunk and returns where `position` is afterwards.
    private mutating func split(_ position: Position) -> Position {
        let half = Self.maximumChunkCount / 2
        var upper = Chunk(keys: [], records: [])
        upper.keys.reserveCapacity(Self.maximumChunkCount)
        upper.records.reserveCapacity(Self.maximumChunkCount)
        upper.keys.append(contentsOf: chunks[position.chunk].keys[half...])
        upper.records.append(contentsOf: chunks[position.chunk].records[half...])
        chunks[position.chunk].keys.removeSubrange(half...)
        chunks[position.chunk].records.removeSubrange(half...)
        chunks.insert(upper, at: position.chunk + 1)
        if position.slot >= half {
            return Position(chunk: position.chunk + 1, slot: position.slot - half)
        }
        return position
    }

    @inline(__always)
    func position(after position: Position) -> Position {
        if position.slot + 1 < chunks[position.chunk].keys.count {
            return Position(chunk: position.chunk, slot: position.slot + 1)
        }
        return Position(chunk: position.chunk + 1, slot: 0)
    }

    /// forEach visits, in key order, every key of `interval` with its newest record, until `body`
    /// returns false.
    func forEach(in interval: KeyInterval, _ body: (Position, [UInt8], Int32) -> Bool) {
        if interval.isSingleKey {
            let found = find(interval.start)
            if let record = found.record { _ = body(found.position, interval.start, record) }
            return
        }
        var position = lowerBound(interval.start)
        while position.chunk < chunks.count {
            let chunk = chunks[position.chunk]
            var slot = position.slot
            while slot < chunk.keys.count {
                let key = chunk.keys[slot]
                if interval.isBeyond(key) { return }
                if !body(Position(chunk: position.chunk, slot: slot), key, chunk.records[slot]) { return }
                slot += 1
            }
            position = Position(chunk: position.chunk + 1, slot: 0)
        }
    }

    /// forEachKey visits every key in order with its newest record.
    func forEachKey(_ body: ([UInt8], Int32) -> Void) {
        for chunk in chunks {
            for slot in chunk.keys.indices {
                body(chunk.keys[slot], chunk.records[slot])
            }
        }
    }
}
