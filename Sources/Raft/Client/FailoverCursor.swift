/// FailoverCursor chooses the endpoint of each attempt of one request and the pause before it:
/// every endpoint once in a round with no pause (the next member usually answers at once), then
/// an exponential pause between rounds, capped, so that a cluster without a leader is not
/// hammered. A leader hint jumps straight to the named endpoint.
///
/// Invariant: `current` is a valid endpoint index; `triedInRound < endpointCount` between calls.
struct FailoverCursor: Sendable, Hashable {
    let endpointCount: Int
    private(set) var current: Int
    private(set) var triedInRound = 0
    private(set) var round = 0

    init(endpointCount: Int, start: Int) {
        precondition(endpointCount > 0, "a store client needs at least one endpoint")
        precondition(start >= 0 && start < endpointCount, "start endpoint \(start) out of range")
        self.endpointCount = endpointCount
        current = start
    }

    /// advance moves to the next endpoint after a failed attempt and returns the pause in
    /// milliseconds before trying it: 0 inside a round, `initialDelay << (round - 1)` (capped at
    /// `maximumDelay`) when a round over every endpoint has just ended.
    mutating func advance(hint: Int? = nil, initialDelayMilliseconds: UInt64, maximumDelayMilliseconds: UInt64) -> UInt64 {
        triedInRound += 1
        if let hint, hint >= 0, hint < endpointCount, hint != current {
            current = hint
        } else {
            current = (current + 1) % endpointCount
        }
        guard triedInRound >= endpointCount else { return 0 }
        triedInRound = 0
        round += 1
        let shift = UInt64(min(round - 1, 20))
        return min(initialDelayMilliseconds << shift, maximumDelayMilliseconds)
    }
}
