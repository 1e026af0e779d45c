/// HistoryOperation is one client call on one key, with its observed result.
struct HistoryOperation: Hashable {
    enum Input: Hashable {
        case put(Int64)
        case get
        case compareAndSet(expected: Int64?, new: Int64)
    }

    enum Output: Hashable {
        case none
        case value(Int64?)
        case succeeded(Bool)
    }

    var clientOperationID: UInt64
    var key: UInt8
    var input: Input
    /// output is nil when the outcome is unknown (timed out): the call may or may not have
    /// taken effect, at any point after `callTime`.
    var output: Output?
    var callTime: UInt64
    var returnTime: UInt64?
}

/// LinearizabilityChecker searches for a linearization of a single-register history in the
/// manner of Wing & Gong with Lowe's memoization (as Porcupine does): repeatedly linearize a
/// pending call that is minimal in real-time order, backtracking when a return is reached
/// before its call could be placed, and never revisiting a (linearized set, state) pair.
enum LinearizabilityChecker {
    enum Verdict: Equatable {
        case linearizable
        case notLinearizable
        /// inconclusive: the search exceeded its step bound.
        case inconclusive
    }

    /// step applies `operation` to register state `state`; nil when the observed output is
    /// impossible from that state.
    static func step(_ state: Int64?, _ operation: HistoryOperation) -> Int64?? {
        switch operation.input {
        case .put(let value):
            return .some(value)
        case .get:
            guard let output = operation.output else { return .some(state) }
            return output == .value(state) ? .some(state) : nil
        case .compareAndSet(let expected, let new):
            let wouldSucceed = state == expected
            if let output = operation.output, output != .succeeded(wouldSucceed) {
                return nil
            }
            return .some(wouldSucceed ? new : state)
        }
    }

    static func check(_ operations: [HistoryOperation], maximumSteps: Int = 2_000_000) -> Verdict {
        // Events: (time, isReturn, operation). Unknown outcomes return after everything.
        var events: [(time: UInt64, isReturn: Bool, operation: Int)] = []
        for (index, operation) in operations.enumerated() {
            events.append((operation.callTime, false, index))
            events.append((operation.returnTime ?? UInt64.max, true, index))
        }
        events.sort { ($0.time, $0.isReturn ? 1 : 0, $0.operation) < ($1.time, $1.isReturn ? 1 : 0, $1.operation) }
        let count = events.count
        // Doubly linked list over events with a sentinel head at position `count`.
        var next = Array(repeating: -1, count: count + 1)
        var previous = Array(repeating: -1, count: count + 1)
        var returnPosition = Array(repeating: 0, count: operations.count)
        for position in 0..<count {
            next[position] = position + 1 < count ? position + 1 : -1
            previous[position] = position == 0 ? count : position - 1
            if events[position].isReturn {
                returnPosition[events[position].operation] = position
            }
        }
        next[count] = count > 0 ? 0 : -1

        func unlink(_ position: Int) {
            let before = previous[position]
            let after = next[position]
            next[before] = after
            if after >= 0 { previous[after] = before }
        }
        func relink(_ position: Int) {
            let before = previous[position]
            let after = next[before]
            next[position] = after
            next[before] = position
            if after >= 0 { previous[after] = position }
        }

        struct CacheKey: Hashable {
            var linearized: [UInt64]
            var state: Int64?
        }
        var linearized = Array(repeating: UInt64(0), count: (operations.count + 63) / 64)
        var cache: Set<CacheKey> = []
        var stack: [(call: Int, state: Int64?)] = []
        var state: Int64? = nil
        var position = next[count]
        var steps = 0
        while next[count] >= 0 {
            steps += 1
            if steps > maximumSteps {
                return .inconclusive
            }
            if position < 0 {
                return .notLinearizable
            }
            let event = events[position]
            if !event.isReturn {
                let operation = event.operation
                if let newState = step(state, operations[operation]) {
                    var newLinearized = linearized
                    newLinearized[operation / 64] |= 1 << UInt64(operation % 64)
                    if cache.insert(CacheKey(linearized: newLinearized, state: newState)).inserted {
                        stack.append((position, state))
                        state = newState
                        linearized = newLinearized
                        unlink(position)
                        unlink(returnPosition[operation])
                        position = next[count]
                        continue
                    }
                }
                position = next[position]
            } else {
                guard let top = stack.popLast() else { return .notLinearizable }
                let operation = events[top.call].operation
                state = top.state
                linearized[operation / 64] &= ~(1 << UInt64(operation % 64))
                relink(returnPosition[operation])
                relink(top.call)
                position = next[top.call]
            }
        }
        return .linearizable
    }
}
