/// WatchDelivery is a sink's answer to one offered response.
public enum WatchDelivery: Sendable {
    /// The sink took the response.
    case accepted
    /// The sink is full and did not take the response; the hub offers the same events again
    /// later, read from the history.
    case full
}

/// WatchSink receives one watcher's responses, for example by encoding them straight into the
/// frames of a client stream. Called on the hub's owner, synchronously; it must not call back
/// into the hub.
public protocol WatchSink: AnyObject {
    func deliver(_ response: WatchResponse) -> WatchDelivery
    /// Like `deliver(_:)`, for a response whose header and events many watchers get alike in
    /// one publish: equal `sharedEventsKey`s mean equal header and events (only the watch id
    /// differs), so a sink may encode them once and reuse the bytes. Keys are never reused.
    func deliver(_ response: WatchResponse, sharedEventsKey: UInt64) -> WatchDelivery
}

extension WatchSink {
    public func deliver(_ response: WatchResponse, sharedEventsKey: UInt64) -> WatchDelivery {
        deliver(response)
    }
}

/// WatchHub runs the watchers of one store (etcd's watchable store). A synced watcher gets the
/// events of each apply batch in one response when `publish` is called; an unsynced watcher (it
/// started in the past, or its sink was full) catches up from the store's history, a bounded
/// amount per round, and becomes synced when it reaches the current revision. A full sink makes
/// only its own watcher fall behind: nothing is lost and no other watcher waits.
///
/// Invariants: every watcher is in exactly one of `synced`, `unsynced`, `canceling`; a synced
/// watcher has received every matching event with revision < `nextRevision`, and
/// `nextRevision` > the revision of every event already taken from the store; an unsynced
/// watcher has received every matching event before its `nextRevision`.
///
/// Not thread-safe: the owner of the store calls every method.
public final class WatchHub {
    /// Watcher is one watch. A class: the hub touches every synced watcher on every publish,
    /// and a reference costs one retain where a struct of keys and a sink costs several.
    final class Watcher {
        let id: Int64
        let interval: KeyInterval
        let wantsPreviousKeyValue: Bool
        let dropsPuts: Bool
        let dropsDeletes: Bool
        let progressNotify: Bool
        let sink: any WatchSink
        var nextRevision: Int64
        var deliveredSinceProgress = false

        init(
            id: Int64, interval: KeyInterval, wantsPreviousKeyValue: Bool, dropsPuts: Bool, dropsDeletes: Bool,
            progressNotify: Bool, sink: any WatchSink, nextRevision: Int64
        ) {
            self.id = id
            self.interval = interval
            self.wantsPreviousKeyValue = wantsPreviousKeyValue
            self.dropsPuts = dropsPuts
            self.dropsDeletes = dropsDeletes
            self.progressNotify = progressNotify
            self.sink = sink
            self.nextRevision = nextRevision
        }

        @inline(__always)
        func matches(key: [UInt8], revision: Int64, isDelete: Bool) -> Bool {
            if revision < nextRevision || (isDelete ? dropsDeletes : dropsPuts) { return false }
            return interval.contains(key)
        }
    }

    /// A catch-up response closes at the first revision boundary once it holds this many
    /// events: a revision is never split, so a response holds at most this many minus one plus
    /// the largest transaction (bounded by `MVCCLimits.maximumTransactionOperations` puts, or
    /// by the keys one delete range or lease revoke removes).
    public let maximumEventsPerResponse: Int
    /// The most history records one catch-up round reads for one watcher.
    public let maximumRecordsScannedPerRound: Int

    public let store: MVCCStore
    private var synced: [Int64: Watcher] = [:]
    private var unsynced: [Int64: Watcher] = [:]
    /// Watchers whose cancel response (compacted) their sink has not taken yet.
    private var canceling: [Int64: WatchResponse] = [:]
    private var cancelingSinks: [Int64: any WatchSink] = [:]
    private var nextWatchID: Int64 = 1
    /// Counts deliveries to synced watchers; names their shared events (see WatchSink).
    private var publishSequence: UInt64 = 0

    public init(store: MVCCStore, maximumEventsPerResponse: Int = 1000, maximumRecordsScannedPerRound: Int = 100_000) {
        precondition(maximumEventsPerResponse > 0 && maximumRecordsScannedPerRound > 0, "WatchHub: bounds must be positive")
        precondition(!store.recordsEvents, "WatchHub: a store has at most one hub")
        self.store = store
        self.maximumEventsPerResponse = maximumEventsPerResponse
        self.maximumRecordsScannedPerRound = maximumRecordsScannedPerRound
        store.recordsEvents = true
        store.pendingEvents.removeAll()
    }

    public var watcherCount: Int { synced.count + unsynced.count + canceling.count }
    public var unsyncedCount: Int { unsynced.count }

    /// create adds a watcher and returns the `created` response for the caller to send first.
    /// Events follow through `sink`: from the next revision when `startRevision` is 0 or in the
    /// future, else from history at the next `publish` or `synchronize`. A start revision
    /// older than the compacted revision ends in a `canceled` response with `compactRevision`.
    public func create(_ request: WatchCreateRequest, sink: any WatchSink) throws(StoreError) -> WatchResponse {
        var id = request.watchID
        if id == 0 {
            while synced[nextWatchID] != nil || unsynced[nextWatchID] != nil || canceling[nextWatchID] != nil {
                nextWatchID += 1
            }
            id = nextWatchID
            nextWatchID += 1
        } else if synced[id] != nil || unsynced[id] != nil || canceling[id] != nil {
            throw .watchIDInUse(watchID: id)
        }
        let current = store.revision
        let startsInPast = request.startRevision > 0 && request.startRevision <= current
        let watcher = Watcher(
            id: id, interval: KeyInterval(key: request.key, rangeEnd: request.rangeEnd),
            wantsPreviousKeyValue: request.prevKv, dropsPuts: request.filters.contains(.noPut),
            dropsDeletes: request.filters.contains(.noDelete), progressNotify: request.progressNotify, sink: sink,
            nextRevision: startsInPast ? request.startRevision : max(current + 1, request.startRevision))
        if startsInPast {
            unsynced[id] = watcher
        } else {
            synced[id] = watcher
        }
        return WatchResponse(header: ResponseHeader(revision: current), watchID: id, created: true)
    }

    /// cancel removes a watcher; the caller answers the client. Returns false for an unknown id.
    @discardableResult
    public func cancel(watchID: Int64) -> Bool {
        let removed = synced.removeValue(forKey: watchID) != nil || unsynced.removeValue(forKey: watchID) != nil
            || canceling.removeValue(forKey: watchID) != nil
        cancelingSinks[watchID] = nil
        return removed
    }

    /// cancelAll ends every watcher with a `canceled` response carrying `reason` (offered once;
    /// a full sink misses it and its stream is closed by its owner). Used when the store under
    /// the hub is replaced by a snapshot and the watchers' positions mean nothing any more.
    public func cancelAll(reason: String) {
        var sinks: [(Int64, any WatchSink)] = synced.map { ($0.key, $0.value.sink) } + unsynced.map { ($0.key, $0.value.sink) }
        sinks += cancelingSinks.map { ($0.key, $0.value) }
        synced.removeAll()
        unsynced.removeAll()
        canceling.removeAll()
        cancelingSinks.removeAll()
        for (id, sink) in sinks.sorted(by: { $0.0 < $1.0 }) {
            _ = sink.deliver(WatchResponse(
                header: ResponseHeader(revision: store.revision), watchID: id, canceled: true, cancelReason: reason))
        }
    }

    /// publish delivers the events of everything applied since the last call: one response per
    /// synced watcher with matching events. Then it runs one catch-up round for unsynced
    /// watchers. Call it once after each apply batch.
    public func publish() {
        let events = store.pendingEvents
        store.pendingEvents.removeAll(keepingCapacity: true)
        if !events.isEmpty && !synced.isEmpty { deliverToSynced(events) }
        synchronize()
    }

    private func deliverToSynced(_ events: [Event]) {
        publishSequence += 1
        var withoutPrevious: [Event]?
        let header = ResponseHeader(revision: store.revision)
        // The fields every watcher tests, pulled out once per batch.
        let keys = events.map { $0.kv!.key }
        let revisions = events.map { $0.kv!.modRevision }
        let deletes = events.map { $0.type == .delete }
        var fallenBehind: [Watcher] = []
        for watcher in synced.values {
            var matchCount = 0
            for index in keys.indices
            where watcher.matches(key: keys[index], revision: revisions[index], isDelete: deletes[index]) {
                matchCount += 1
            }
            if matchCount == 0 { continue }
            var matching: [Event]
            if matchCount == events.count {
                // The common case shares one array between all watchers that take every event.
                if watcher.wantsPreviousKeyValue {
                    matching = events
                } else {
                    if withoutPrevious == nil { withoutPrevious = events.map(Self.withoutPrevious) }
                    matching = withoutPrevious!
                }
            } else {
                matching = []
                matching.reserveCapacity(matchCount)
                for index in keys.indices
                where watcher.matches(key: keys[index], revision: revisions[index], isDelete: deletes[index]) {
                    matching.append(watcher.wantsPreviousKeyValue ? events[index] : Self.withoutPrevious(events[index]))
                }
            }
            let firstRevision = matching[0].kv!.modRevision
            let response = WatchResponse(header: header, watchID: watcher.id, events: matching)
            let delivery: WatchDelivery
            if matchCount == events.count {
                // Every watcher taking all events with the same prev_kv choice gets the same
                // header and events: say so, so that the sink can encode them once.
                delivery = watcher.sink.deliver(
                    response, sharedEventsKey: publishSequence << 1 | (watcher.wantsPreviousKeyValue ? 1 : 0))
            } else {
                delivery = watcher.sink.deliver(response)
            }
            switch delivery {
            case .accepted:
                watcher.nextRevision = store.revision + 1
                watcher.deliveredSinceProgress = true
            case .full:
                watcher.nextRevision = firstRevision
                fallenBehind.append(watcher)
            }
        }
        // etcd's victim path: a watcher whose sink is full catches up from history later.
        for watcher in fallenBehind {
            synced[watcher.id] = nil
            unsynced[watcher.id] = watcher
        }
    }

    private static func withoutPrevious(_ event: Event) -> Event {
        var event = event
        event.prevKv = nil
        return event
    }

    /// synchronize runs one catch-up round: every unsynced watcher gets at most one response of
    /// history; watchers that reach the current revision become synced; watchers whose next
    /// revision was compacted are canceled. Call it after publish and on a timer while
    /// `unsyncedCount > 0`.
    public func synchronize() {
        retryCancels()
        if unsynced.isEmpty { return }
        for id in unsynced.keys.sorted() {
            catchUp(id)
        }
    }

    private func catchUp(_ id: Int64) {
        let watcher = unsynced[id]!
        if watcher.nextRevision < store.compactedRevision {
            unsynced[id] = nil
            let response = WatchResponse(
                header: ResponseHeader(revision: store.revision), watchID: id, canceled: true,
                compactRevision: store.compactedRevision,
                cancelReason: "mvcc: required revision has been compacted: watch revision \(watcher.nextRevision) is older "
                    + "than the compacted revision \(store.compactedRevision); list again and watch from the listed revision")
            canceling[id] = response
            cancelingSinks[id] = watcher.sink
            retryCancels()
            return
        }
        let records = store.records
        var index = store.firstRecord(atOrAfter: watcher.nextRevision)
        let scanEnd = min(records.count, index + maximumRecordsScannedPerRound)
        var events: [Event] = []
        var lastRevision = watcher.nextRevision - 1
        while index < records.count {
            let record = records[index]
            // Stop between revisions once the response is full or the scan budget is spent.
            if record.revision != lastRevision && (events.count >= maximumEventsPerResponse || index >= scanEnd) { break }
            lastRevision = record.revision
            index += 1
            if let event = event(for: record, watcher: watcher) { events.append(event) }
        }
        let reachedEnd = index == records.count
        let scannedThrough = reachedEnd ? store.revision : lastRevision
        if !events.isEmpty {
            let response = WatchResponse(header: ResponseHeader(revision: scannedThrough), watchID: id, events: events)
            if case .full = watcher.sink.deliver(response) { return }
            watcher.deliveredSinceProgress = true
        }
        watcher.nextRevision = scannedThrough + 1
        // Synced from here: events not yet published are older than nextRevision and skipped.
        if reachedEnd {
            unsynced[id] = nil
            synced[id] = watcher
        } else {
            unsynced[id] = watcher
        }
    }

    private func event(for record: VersionRecord, watcher: Watcher) -> Event? {
        if record.isTombstone ? watcher.dropsDeletes : watcher.dropsPuts { return nil }
        guard watcher.interval.contains(record.key) else { return nil }
        var event = Event(type: record.isTombstone ? .delete : .put)
        event.kv = record.isTombstone ? KeyValue(key: record.key, modRevision: record.revision) : record.keyValue()
        if watcher.wantsPreviousKeyValue && record.previous >= 0 {
            let previous = store.records[Int(record.previous)]
            if !previous.isTombstone { event.prevKv = previous.keyValue() }
        }
        return event
    }

    private func retryCancels() {
        if canceling.isEmpty { return }
        for id in canceling.keys.sorted() {
            guard case .accepted = cancelingSinks[id]!.deliver(canceling[id]!) else { continue }
            canceling[id] = nil
            cancelingSinks[id] = nil
        }
    }

    // MARK: Progress

    /// requestProgress sends every synced watcher (or only `watchID`) an empty response whose
    /// header revision is the store revision: the watcher has seen every event up to it.
    /// Unsynced watchers are skipped (they have not reached that revision). Returns how many
    /// watchers got one.
    @discardableResult
    public func requestProgress(watchID: Int64? = nil) -> Int {
        publish()
        return sendProgress { watcher in watchID == nil || watcher.id == watchID }
    }

    /// notifyIdleWatchers sends a progress response to every synced watcher that asked for
    /// progress notifications and got nothing since the previous call (etcd sends these every
    /// 10 minutes). Returns how many got one.
    @discardableResult
    public func notifyIdleWatchers() -> Int {
        publish()
        for watcher in synced.values where watcher.deliveredSinceProgress {
            watcher.deliveredSinceProgress = false
        }
        return sendProgress { watcher in watcher.progressNotify && !watcher.deliveredSinceProgress }
    }

    private func sendProgress(_ selected: (Watcher) -> Bool) -> Int {
        let header = ResponseHeader(revision: store.revision)
        var sent = 0
        for id in synced.keys.sorted() {
            let watcher = synced[id]!
            guard selected(watcher) else { continue }
            if case .accepted = watcher.sink.deliver(WatchResponse(header: header, watchID: id)) { sent += 1 }
        }
        return sent
    }
}
