/// ProbingStreamTable maps stream ids to values: a flat open-addressing table instead of a Dictionary, so that a call costs no SipHash and no
/// per-entry allocation.
///
/// The ids are the client's own (1, 3, 5, ...), so Fibonacci hashing (multiply by 2^64/φ, keep
/// the top bits) spreads consecutive ids evenly over the slots and probe runs stay short even
/// when a long-lived stream sits among many short calls. Ids that come from the peer are only
/// looked up, never inserted, so a peer cannot lengthen the runs. Linear probing with
/// backward-shift deletion keeps no tombstones; the table doubles at half load.
///
/// Keys and values live in memory the table manages itself (keys apart, so probing reads only
/// them): no array uniqueness checks or bounds checks per access. It is not copyable, so
/// exactly one owner frees that memory.
/// StreamTable maps the stream ids a client assigned to the calls waiting for their answers.
///
/// A client numbers its calls 1, 3, 5, ..., so a call's slot is simply its sequence number
/// modulo the capacity: inserting, finding and removing a call is one compare, with no hashing
/// and no probing. The slot of a call is taken only by a call `capacity` calls older that is
/// still open (a long-lived stream among many short calls); the newer call then goes to an
/// overflow table (`ProbingStreamTable`), which lookups consult only when it holds anything.
/// The capacity doubles when the table is half full, so most calls find their slot free. Ids
/// that come from the peer are only looked up, never inserted.
struct StreamTable<Value>: ~Copyable {
    /// 0 marks an empty slot: stream id 0 is the connection itself and never a call.
    private var keys: UnsafeMutablePointer<UInt64>
    /// Initialized exactly where the key is not 0.
    private var values: UnsafeMutablePointer<Value>
    private var capacity: Int
    private var mask: UInt64
    /// Calls whose slot was taken when they were inserted.
    private var overflow = ProbingStreamTable<Value>(minimumCapacity: 8)
    private(set) var count = 0

    init(minimumCapacity: Int = 64) {
        var capacity = 16
        while capacity < minimumCapacity * 2 { capacity *= 2 }
        self.capacity = capacity
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: 0, count: capacity)
        values = .allocate(capacity: capacity)
        mask = UInt64(capacity - 1)
    }

    deinit {
        for index in 0..<capacity where keys[index] != 0 {
            (values + index).deinitialize(count: 1)
        }
        keys.deallocate()
        values.deallocate()
    }

    var isEmpty: Bool { count == 0 }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key >> 1) & mask)
    }

    subscript(key: UInt64) -> Value? {
        let index = slot(key)
        if key != 0 && keys[index] == key { return values[index] }
        return overflow.isEmpty ? nil : overflow[key]
    }

    func contains(_ key: UInt64) -> Bool {
        (key != 0 && keys[slot(key)] == key) || overflow.contains(key)
    }

    /// Adds `value` under `key`, which must not be in the table yet.
    @inline(__always)
    mutating func insert(_ value: consuming Value, for key: UInt64) {
        let index = slot(key)
        // The common case inline: room to spare, the slot free, nothing in the overflow that
        // could hold the key already.
        if key != 0 && (count &+ 1) &* 2 <= capacity && keys[index] == 0 && overflow.isEmpty {
            keys[index] = key
            (values + index).initialize(to: value)
            count &+= 1
            return
        }
        insertSlowly(value, for: key)
    }

    private mutating func insertSlowly(_ value: consuming Value, for key: UInt64) {
        precondition(key != 0, "stream id 0 names the connection, not a call")
        if (count + 1) * 2 > capacity { grow() }
        let index = slot(key)
        precondition(keys[index] != key && (overflow.isEmpty || !overflow.contains(key)),
                     "stream id \(key) is already in the table")
        count += 1
        if keys[index] == 0 {
            keys[index] = key
            (values + index).initialize(to: value)
        } else {
            overflow.insert(value, for: key)
        }
    }

    /// Removes and returns the value under `key`, if any.
    mutating func removeValue(forKey key: UInt64) -> Value? {
        let index = slot(key)
        if key != 0 && keys[index] == key {
            keys[index] = 0
            count -= 1
            // Moved out, never copied: no retain or release.
            return (values + index).move()
        }
        guard !overflow.isEmpty, let removed = overflow.removeValue(forKey: key) else { return nil }
        count -= 1
        return removed
    }

    /// Empties the table and returns what it held, in no particular order.
    mutating func removeAll() -> [Value] {
        var removed = overflow.removeAll()
        removed.reserveCapacity(count)
        for index in 0..<capacity where keys[index] != 0 {
            removed.append((values + index).move())
            keys[index] = 0
        }
        count = 0
        return removed
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldValues = values
        let oldCapacity = capacity
        let overflowing = overflow.removeAllEntries()
        capacity = oldCapacity * 2
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: 0, count: capacity)
        values = .allocate(capacity: capacity)
        mask = UInt64(capacity - 1)
        count = 0
        for index in 0..<oldCapacity where oldKeys[index] != 0 {
            insert((oldValues + index).move(), for: oldKeys[index])
        }
        oldKeys.deallocate()
        oldValues.deallocate()
        for (key, value) in overflowing { insert(value, for: key) }
    }
}

struct ProbingStreamTable<Value>: ~Copyable {
    /// 0 marks an empty slot: stream id 0 is the connection itself and never a call.
    private var keys: UnsafeMutablePointer<UInt64>
    /// Initialized exactly where the key is not 0.
    private var values: UnsafeMutablePointer<Value>
    private var capacity: Int
    private var mask: Int
    private var shift: UInt64
    private(set) var count = 0

    init(minimumCapacity: Int = 64) {
        var capacity = 16
        while capacity < minimumCapacity * 2 { capacity *= 2 }
        self.capacity = capacity
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: 0, count: capacity)
        values = .allocate(capacity: capacity)
        mask = capacity - 1
        shift = UInt64(64 - capacity.trailingZeroBitCount)
    }

    deinit {
        for index in 0..<capacity where keys[index] != 0 {
            (values + index).deinitialize(count: 1)
        }
        keys.deallocate()
        values.deallocate()
    }

    var isEmpty: Bool { count == 0 }

    @inline(__always)
    private func home(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The slot holding `key`, or nil.
    @inline(__always)
    private func find(_ key: UInt64) -> Int? {
        guard key != 0 else { return nil }
        var index = home(key)
        while true {
            let slotKey = keys[index]
            if slotKey == key { return index }
            if slotKey == 0 { return nil }
            index = (index + 1) & mask
        }
    }

    subscript(key: UInt64) -> Value? {
        guard let index = find(key) else { return nil }
        return values[index]
    }

    func contains(_ key: UInt64) -> Bool { find(key) != nil }

    /// Adds `value` under `key`, which must not be in the table yet.
    mutating func insert(_ value: consuming Value, for key: UInt64) {
        precondition(key != 0, "stream id 0 names the connection, not a call")
        if (count + 1) * 2 > capacity { grow() }
        var index = home(key)
        while keys[index] != 0 {
            precondition(keys[index] != key, "stream id \(key) is already in the table")
            index = (index + 1) & mask
        }
        keys[index] = key
        (values + index).initialize(to: value)
        count += 1
    }

    /// Removes and returns the value under `key`, if any.
    mutating func removeValue(forKey key: UInt64) -> Value? {
        guard var hole = find(key) else { return nil }
        // Moved out and moved around, never copied: no retain or release.
        let removed = (values + hole).move()
        count -= 1
        // Backward shift: pull later entries of the probe run into the hole when the hole lies
        // on their way from their home slot, so lookups never need tombstones.
        var next = (hole + 1) & mask
        while keys[next] != 0 {
            let wanted = home(keys[next])
            let reachesHole = hole <= next ? (wanted <= hole || wanted > next) : (wanted <= hole && wanted > next)
            if reachesHole {
                keys[hole] = keys[next]
                (values + hole).moveInitialize(from: values + next, count: 1)
                hole = next
            }
            next = (next + 1) & mask
        }
        keys[hole] = 0
        return removed
    }

    /// Empties the table and returns what it held, in no particular order.
    mutating func removeAll() -> [Value] {
        var removed: [Value] = []
        removed.reserveCapacity(count)
        for index in 0..<capacity where keys[index] != 0 {
            removed.append((values + index).move())
            keys[index] = 0
        }
        count = 0
        return removed
    }

    /// Empties the table and returns its keys and values, in no particular order.
    mutating func removeAllEntries() -> [(key: UInt64, value: Value)] {
        var removed: [(key: UInt64, value: Value)] = []
        removed.reserveCapacity(count)
        for index in 0..<capacity where keys[index] != 0 {
            removed.append((keys[index], (values + index).move()))
            keys[index] = 0
        }
        count = 0
        return removed
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldValues = values
        let oldCapacity = capacity
        capacity = oldCapacity * 2
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: 0, count: capacity)
        values = .allocate(capacity: capacity)
        mask = capacity - 1
        shift = UInt64(64 - capacity.trailingZeroBitCount)
        count = 0
        for index in 0..<oldCapacity where oldKeys[index] != 0 {
            insert((oldValues + index).move(), for: oldKeys[index])
        }
        oldKeys.deallocate()
        oldValues.deallocate()
    }
}
