/// Ready is everything the driver must do after feeding the core input. Handle it in this order:
///
/// 1. Send `messages` (they may leave before the local write: the leader replicates in parallel
///    with its own fsync, thesis §10.2.1).
/// 2. Persist `snapshot` (if any, install it into the state machine too), then `entries`
///    (overwriting any stored entries from `entries[0].index` on), then `hardState` — entries
///    before the hard state, so a torn write never leaves a commit index beyond the log.
/// 3. Once that write and the writes of all earlier Readies are durable, send
///    `messagesAfterPersist` (votes and acknowledgements promise durable state) and call
///    `RaftNode.advance(_:)` with this Ready. Readies are advanced in the order they were taken.
/// 4. Apply `committedEntries` in order (they are already durable locally, so this may happen
///    at once), and serve `readStates` once the applied index reaches each one's index.
public struct Ready: Sendable, Hashable {
    /// sequence orders Readies; `advance` must see them in this order.
    public let sequence: UInt64
    public var softState: SoftState?
    public var hardState: HardState?
    public var snapshot: Snapshot?
    public var entries: [Entry] = []
    public var messages: [Message] = []
    public var messagesAfterPersist: [Message] = []
    public var committedEntries: [Entry] = []
    public var readStates: [ReadState] = []
    /// confState is the membership after the committed entries (and snapshot) of this Ready,
    /// when it changed.
    public var confState: ConfState?

    init(sequence: UInt64) {
        self.sequence = sequence
    }

    /// mustPersist tells whether this Ready carries state to write before advancing.
    public var mustPersist: Bool {
        hardState != nil || snapshot != nil || !entries.isEmpty
    }
}
