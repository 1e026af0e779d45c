/// StreamTable maps the stream ids a client assigned to the calls waiting for their answers: a
/// flat open-addressing table instead of a Dictionary, so that a call costs no SipHash and no
/// per-entry allocation.
///
/// The ids are the client's own (1, 3, 5, ...), so Fibonacci hashing (multiply by 2^64/φ, keep
/// the top bits) spreads consecutive ids evenly over the slots and probe runs stay short even
/// when a long-lived stream sits among many short calls. Ids that come from the peer are only
/// looked up, never inserted, so a peer cannot lengthen the runs. Linear probing with
/// backward-shift deletion keeps no tombstones; the table doubles at half load.
struct StreamTable<Value> {
    private struct Slot {
        /// 0 marks an empty slot: stream id 0 is the connection itself and never a call.
        var key: UInt64
        var value: Value?
    }

    private var slots: [Slot]
    private var mask: Int
    private var shift: UInt64
    private(set) var count = 0

    init(minimumCapacity: Int = 64) {
        var capacity = 16
        while capacity < minimumCapacity * 2 { capacity *= 2 }
        slots = Array(repeating: Slot(key: 0, value: nil), count: capacity)
        mask = capacity - 1
        shift = UInt64(64 - capacity.trailingZeroBitCount)
    }

    var isEmpty: Bool { count == 0 }

    @inline(__always)
    private func home(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The slot holding `key`, or nil.
    private func find(_ key: UInt64) -> Int? {
        guard key != 0 else { return nil }
        var index = home(key)
        while true {
            let slotKey = slots[index].key
            if slotKey == key { return index }
            if slotKey == 0 { return nil }
            index = (index + 1) & mask
        }
    }

    subscript(key: UInt64) -> Value? {
        guard let index = find(key) else { return nil }
        return slots[index].value
    }

    func contains(_ key: UInt64) -> Bool { find(key) != nil }

    /// Adds `value` under `key`, which must not be in the table yet.
    mutating func insert(_ value: consuming Value, for key: UInt64) {
        precondition(key != 0, "stream id 0 names the connection, not a call")
        if (count + 1) * 2 > slots.count { grow() }
        var index = home(key)
        while slots[index].key != 0 {
            precondition(slots[index].key != key, "stream id \(key) is already in the table")
            index = (index + 1) & mask
        }
        slots[index] = Slot(key: key, value: value)
        count += 1
    }

    /// Removes and returns the value under `key`, if any.
    mutating func removeValue(forKey key: UInt64) -> Value? {
        guard var hole = find(key) else { return nil }
        // Moved out and moved around (take, swapAt), never copied: no retain or release.
        let removed = slots[hole].value.take()
        count -= 1
        // Backward shift: pull later entries of the probe run into the hole when the hole lies
        // on their way from their home slot, so lookups never need tombstones.
        var next = (hole + 1) & mask
        while slots[next].key != 0 {
            let wanted = home(slots[next].key)
            let reachesHole = hole <= next ? (wanted <= hole || wanted > next) : (wanted <= hole && wanted > next)
            if reachesHole {
                slots.swapAt(hole, next)
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole].key = 0
        return removed
    }

    /// Empties the table and returns what it held, in no particular order.
    mutating func removeAll() -> [Value] {
        var values: [Value] = []
        values.reserveCapacity(count)
        for index in slots.indices where slots[index].key != 0 {
            values.append(slots[index].value.take()!)
            slots[index].key = 0
        }
        count = 0
        return values
    }

    private mutating func grow() {
        let old = slots
        let capacity = old.count * 2
        slots = Array(repeating: Slot(key: 0, value: nil), count: capacity)
        mask = capacity - 1
        shift = UInt64(64 - capacity.trailingZeroBitCount)
        count = 0
        for slot in old where slot.key != 0 {
            insert(slot.value!, for: slot.key)
        }
    }
}
