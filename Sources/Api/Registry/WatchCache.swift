import Logging
import NIOCore
import Raft
import Wire

/// CachedObject is one object as the cache holds it: decoded (for selectors and admission) and
/// encoded with its resourceVersion (what lists and watches send).
public struct CachedObject: @unchecked Sendable {
    // Safety of @unchecked Sendable: `object` is an immutable value of a generated (Sendable)
    // message type behind an existential the compiler cannot see through.

    /// The four parts live in one immutable box: a cached object is copied into the cache's
    /// table, its history, pending writes and every delivery, and each copy of the parts costs
    /// three reference counts (key, object, bytes) where the box costs one.
    private final class Parts {
        let key: String
        let object: any KubernetesObject
        let bytes: [UInt8]
        let revision: Int64

        init(key: String, object: any KubernetesObject, bytes: [UInt8], revision: Int64) {
            self.key = key
            self.object = object
            self.bytes = bytes
            self.revision = revision
        }
    }

    private let parts: Parts

    public init(key: String, object: any KubernetesObject, bytes: [UInt8], revision: Int64) {
        parts = Parts(key: key, object: object, bytes: bytes, revision: revision)
    }

    public var key: String { parts.key }
    public var object: any KubernetesObject { parts.object }
    public var bytes: [UInt8] { parts.bytes }
    public var revision: Int64 { parts.revision }

    public var namespace: String { object.metadata?.namespace ?? "" }
    public var name: String { object.metadata?.name ?? "" }
}

extension CachedObject {
    /// An object as the store holds it at `revision`: with that resourceVersion, encoded.
    init(stored object: any KubernetesObject, key: String, revision: Int64) {
        var result = object
        result.metadata?.resourceVersion = String(revision)
        self.init(key: key, object: result, bytes: result.protobufBytes(), revision: revision)
    }

    /// The same, from the bytes the store holds for it (`storedBytes`, the object encoded
    /// without a resourceVersion): instead of encoding the object again (about 8% of the API
    /// server's CPU), the resourceVersion is appended as a second `metadata` field, which
    /// protobuf decoders merge into the first (singular message fields merge; protobuf-c does).
    /// Every kind's metadata is field 1 (Kubernetes' numbering), resourceVersion field 6.
    init(stored object: any KubernetesObject, storedBytes: [UInt8], key: String, revision: Int64) {
        var result = object
        let version = String(revision)
        result.metadata?.resourceVersion = version
        self.init(key: key, object: result, bytes: storedBytes + Self.resourceVersionSuffix(version), revision: revision)
    }

    /// `metadata { resourceVersion: version }` as protobuf: field 1 holding field 6.
    static func resourceVersionSuffix(_ version: String) -> [UInt8] {
        let digits = Array(version.utf8)
        precondition(digits.count < 126, "a resourceVersion is a decimal Int64")
        return [0x0A, UInt8(digits.count + 2), 0x32, UInt8(digits.count)] + digits
    }
}

/// WatchCacheEvent is one change, encoded once as an ApiWatchEvent: every binary-protocol
/// watcher gets the same bytes, and their connections' outbound queues reference them rather
/// than copy them (SharedBytes), so a burst queued for many watchers costs a small header per
/// watcher; the history holds the only other reference.
struct WatchCacheEvent {
    let revision: Int64
    let type: String
    let object: CachedObject
    let encoded: SharedBytes
}

/// WatchDelivery is one event on its way to the watchers of a cache: a change, a synthetic
/// ADDED of the initial state, or a bookmark. Binary watchers send `protobuf` (the ApiWatchEvent,
/// encoded once); other sinks ask for the event in their own format (`sharedEncoding`), so every
/// format is encoded at most once per event however many watchers share it — one JSON line for
/// HTTP watchers, one Table line per table option.
///
/// Everything the per-watcher loop reads is a stored property, so handing the delivery to a
/// watcher copies nothing (the binary fan-out loop runs once per watcher per event).
struct WatchDelivery {
    /// "ADDED", "MODIFIED", "DELETED" or "BOOKMARK".
    let type: String
    /// The object; for a bookmark, an empty object carrying only the revision.
    let object: CachedObject
    let isBookmark: Bool
    let resourceType: ResourceType
    /// The binary protocol's ApiWatchEvent bytes, shared by every binary watcher's frame.
    let protobuf: SharedBytes
    private var encodings: [String: ByteBuffer] = [:]

    init(change event: WatchCacheEvent, resourceType: ResourceType) {
        type = event.type
        object = event.object
        isBookmark = false
        self.resourceType = resourceType
        protobuf = event.encoded
    }

    init(added object: CachedObject, resourceType: ResourceType) {
        type = "ADDED"
        self.object = object
        isBookmark = false
        self.resourceType = resourceType
        protobuf = SharedBytes(DirectEncoding.watchEvent(type: "ADDED", object: object.bytes))
    }

    init(bookmark revision: Int64, resourceType: ResourceType) {
        type = "BOOKMARK"
        var empty = resourceType.emptyObject()
        empty.metadata = ObjectMeta(resourceVersion: String(revision))
        let bytes = empty.protobufBytes()
        object = CachedObject(key: "", object: empty, bytes: bytes, revision: revision)
        isBookmark = true
        self.resourceType = resourceType
        protobuf = SharedBytes(DirectEncoding.watchEvent(type: "BOOKMARK", object: bytes))
    }

    var revision: Int64 { object.revision }

    /// The event in the format named `key`, encoded by `encode` for the first sink that asks.
    mutating func sharedEncoding(_ key: String, _ encode: (WatchDelivery) -> ByteBuffer) -> ByteBuffer {
        if let encoded = encodings[key] { return encoded }
        let encoded = encode(self)
        encodings[key] = encoded
        return encoded
    }
}

/// WatchSink is where one watcher's events go: a binary-protocol server stream, or an HTTP
/// chunked response. It lives on the cache's loop (every call comes from there). `deliver`
/// always queues, and says `.throttled` while the peer is behind. What the cache does then
/// depends on the sink (see CacheWatcher): a binary stream stops being fed and later pulls what
/// it missed from the cache's history; other sinks keep being fed. Either way a watcher that
/// makes no progress for longer than the grace period is ended with 410 so that it relists.
protocol WatchSink: AnyObject, Sendable {
    /// Queues one event.
    func deliver(_ delivery: inout WatchDelivery) -> StreamSendResult
    /// Sends an ERROR event with `status` and ends the stream.
    func end(error status: ApiError)
    /// Set by the cache: runs once when the client goes away (or the stream ends by itself).
    var onCancel: (() -> Void)? { get set }
}

extension ServerCall: WatchSink {
    static let noPrefix: [UInt8] = []

    func deliver(_ delivery: inout WatchDelivery) -> StreamSendResult {
        send(prefix: Self.noPrefix, shared: delivery.protobuf)
    }

    func end(error: ApiError) {
        send(ApiWatchEvent(type: "ERROR", object: error.status.protobufBytes()).protobufBytes())
        finish(status: error.message)
    }
}

/// ObjectFilter decides which objects a list or watch returns (namespace and selectors).
public struct ObjectFilter: Sendable {
    public var namespace: String
    public var matches: @Sendable (any KubernetesObject) -> Bool

    public init(namespace: String, matches: @escaping @Sendable (any KubernetesObject) -> Bool = { _ in true }) {
        self.namespace = namespace
        self.matches = matches
    }

    func accepts(_ object: CachedObject) -> Bool {
        (namespace.isEmpty || object.namespace == namespace) && matches(object.object)
    }
}

/// WatchCache keeps every object of one resource type in memory, fed by one store watch on the
/// type's prefix (DESIGN.md section 5), and serves lists and watches from it. It lives on the API
/// server's loop: every method must be called there.
///
/// History: the last `historyLimit` events stay, so that a watch from a recent resourceVersion
/// resumes without a relist; older versions get 410 Expired.
final class WatchCache: @unchecked Sendable {
    // Safety of @unchecked Sendable: every member is touched on `loop` only.
    let type: ResourceType
    let store: StoreClient
    let loop: Wire.EventLoop
    let logger: Logger
    let historyLimit: Int

    private(set) var objects: [String: CachedObject] = [:]
    /// The store revision the cache reflects (every change up to it is applied).
    private(set) var revision: Int64 = 0
    /// Writes of this API server in flight, by key, so that a write's own event reuses the
    /// written object and its bytes instead of decoding the stored value and encoding it again
    /// (a decode and an encode of every written object, about 4% of the API server's CPU while
    /// scheduling). The store answers a write before it publishes the event, but the answer
    /// resumes a task while the event is applied at once, so either may come first here. Any
    /// event for the key removes the entry; a reload clears them all.
    private var pendingWrites: [String: PendingWrite] = [:]
    private var nextWriteTicket: UInt64 = 0

    private enum PendingWrite {
        /// Sent to the store, not yet seen on the watch nor answered.
        case sent(ticket: UInt64, object: any KubernetesObject, storedBytes: [UInt8])
        /// The event came first and was built from the written object; the answer takes it.
        case seen(ticket: UInt64, CachedObject)
        /// The answer came first; the event takes the object if its revision matches.
        case answered(CachedObject)
    }

    /// Counts the cache's changes (loads and applied events), so that answers derived from its
    /// objects can be kept until it changes (the RBAC authorizer's resolved rules).
    private(set) var changeCount: UInt64 = 0
    private var history: [WatchCacheEvent] = []
    private var historyStart = 0
    /// The sequence number the next recorded event gets: events are numbered in the order they
    /// were recorded, so a watcher behind the live stream keeps its place in the history as one
    /// number (see CacheWatcher.resumeSequence).
    private(set) var nextSequence = 0
    /// The oldest revision a watch may start from: every change after it is in `history`. It is
    /// the revision the cache was loaded at until the first event falls out of the history, then
    /// the revision of the last event that fell out. (The first retained event's revision is not
    /// the floor: a kind that changed rarely has few events, but nothing of it changed between
    /// the load and its first event, so a watch from any revision since the load is complete.)
    private var historyFloor: Int64 = 0
    private var watchers: [ObjectIdentifier: CacheWatcher] = [:] {
        didSet { watcherSnapshot = nil }
    }
    /// `watchers` as an array, kept between changes: the fan-out loop runs over it for every
    /// event, and a fresh array per event would allocate and free one pointer per watcher.
    private var watcherSnapshot: [CacheWatcher]?
    private var watcherList: [CacheWatcher] {
        if let watcherSnapshot { return watcherSnapshot }
        let list = Array(watchers.values)
        watcherSnapshot = list
        return list
    }
    private var sortedKeys: [String]?
    private var revisionWaiters: [(revision: Int64, deadline: UInt64, resume: (Bool) -> Void)] = []
    private var storeWatch: StoreWatch?
    /// Watchers whose connections drained while they were behind: `catchUp` feeds them from the
    /// history, round-robin, at the end of the loop turn.
    private var readyToCatchUp: [CacheWatcher] = []
    private var catchUpScheduled = false
    private(set) var isReady = false
    private var readyWaiters: [(Result<Void, ApiError>) -> Void] = []

    /// How long a watcher's connection may stay over its high watermark before the watcher is
    /// cut off: long enough to ride out a burst, short enough that a stuck client cannot make the
    /// server hold an unbounded backlog for it.
    var slowWatcherGraceNanoseconds: UInt64 = 2_000_000_000
    /// Where deliveries are counted (nil in tests without a server).
    var metrics: ApiMetrics?

    init(type: ResourceType, store: StoreClient, logger: Logger, historyLimit: Int = 10_000) {
        self.type = type
        self.store = store
        self.loop = store.loop
        self.logger = logger
        self.historyLimit = historyLimit
    }

    var watcherCount: Int { watchers.count }

    // MARK: Loading and following the store

    /// Lists the type's prefix from the store, then follows it with one watch from that revision.
    func start() {
        loop.preconditionInLoop()
        let prefix = Array(type.storePrefix.utf8)
        Task { [self] in
            do {
                let listed = try await store.getPrefix(prefix)
                await loop.submit { self.load(listed) }
            } catch {
                await loop.submit { self.failStart(error) }
            }
        }
    }

    private func failStart(_ error: any Error) {
        logger.error("watch cache for \(type.qualifiedName) could not list the store: \(error); retrying")
        let timer = LoopTimer(loop: loop)
        timer.arm(milliseconds: 500) { [self] in
            timer.cancel()
            start()
        }
    }

    private func load(_ response: RangeResponse) {
        changeCount &+= 1
        pendingWrites.removeAll()
        objects.removeAll()
        for kv in response.kvs {
            if let cached = decode(kv) { objects[cached.key] = cached }
        }
        sortedKeys = nil
        revision = response.header?.revision ?? 0
        history.removeAll()
        historyStart = 0
        historyFloor = revision
        isReady = true
        let waiters = readyWaiters
        readyWaiters.removeAll()
        for waiter in waiters { waiter(.success(())) }
        let interval = StoreKeys.prefixInterval(Array(type.storePrefix.utf8))
        // Progress notifications move an idle kind's revision on with the store's, so that its
        // bookmarks tell clients how current it is even when nothing of the kind changes. No
        // previous values: the cache has them (`objects`), and they would double what the store
        // sends, and what a batch of events costs to decode when the cache is behind.
        storeWatch = store.watch(
            WatchCreateRequest(key: interval.key, rangeEnd: interval.rangeEnd, startRevision: revision + 1, progressNotify: true)
        ) { [self] event in
            switch event {
            case .response(let response): apply(response)
            case .end(let error):
                logger.warning("store watch for \(type.qualifiedName) ended (\(error.map { "\($0)" } ?? "cancelled")); relisting")
                restartAfterLoss()
            }
        }
    }

    /// The store watch was lost (compaction, every member gone): relist, and end every watcher
    /// with 410 so that clients relist too, since events in between may be missing.
    private func restartAfterLoss() {
        for watcher in Array(watchers.values) {
            watcher.end(expired: "the API server's cache of \(type.qualifiedName) was reset; list again")
        }
        watchers.removeAll()
        isReady = false
        start()
    }

    /// The registry is about to write `object` (stored as `storedBytes`) at `key`; the ticket
    /// goes to `finishWrite` or `abandonWrite`.
    func beginWrite(key: String, object: any KubernetesObject, storedBytes: [UInt8]) -> UInt64 {
        loop.preconditionInLoop()
        nextWriteTicket &+= 1
        if isReady { pendingWrites[key] = .sent(ticket: nextWriteTicket, object: object, storedBytes: storedBytes) }
        return nextWriteTicket
    }

    /// The write failed or was refused: its event will not come.
    func abandonWrite(key: String, ticket: UInt64) {
        loop.preconditionInLoop()
        switch pendingWrites[key] {
        case .sent(ticket, _, _), .seen(ticket, _): pendingWrites[key] = nil
        default: break
        }
    }

    /// The write succeeded at `revision`: the object as stored, with that resourceVersion.
    func finishWrite(
        key: String, ticket: UInt64, object: any KubernetesObject, storedBytes: [UInt8], revision: Int64
    ) -> CachedObject {
        loop.preconditionInLoop()
        switch pendingWrites[key] {
        case .seen(ticket, let cached) where cached.revision == revision:
            pendingWrites[key] = nil
            return cached
        case .sent(ticket, _, _):
            let cached = CachedObject(stored: object, storedBytes: storedBytes, key: key, revision: revision)
            pendingWrites[key] = isReady && revision > self.revision ? .answered(cached) : nil
            return cached
        default:
            // Another write of the key replaced the entry, or the event has gone by.
            return CachedObject(stored: object, storedBytes: storedBytes, key: key, revision: revision)
        }
    }

    /// The written object for a put event of `key`, when the event is this server's own write.
    private func takeWritten(key: String, _ kv: KeyValue) -> CachedObject? {
        guard let pending = pendingWrites.removeValue(forKey: key) else { return nil }
        switch pending {
        case .sent(let ticket, let object, let storedBytes) where storedBytes == kv.value:
            let cached = CachedObject(stored: object, storedBytes: storedBytes, key: key, revision: kv.modRevision)
            pendingWrites[key] = .seen(ticket: ticket, cached)
            return cached
        case .answered(let cached) where cached.revision == kv.modRevision:
            return cached
        default:
            return nil
        }
    }

    func decode(_ kv: KeyValue) -> CachedObject? {
        do {
            let object = try type.decode(kv.value)
            return CachedObject(
                stored: object, storedBytes: kv.value, key: String(decoding: kv.key, as: UTF8.self), revision: kv.modRevision)
        } catch {
            logger.error("store key \(String(decoding: kv.key, as: UTF8.self)) does not hold a \(type.kind): \(error); skipped")
            return nil
        }
    }

    private func apply(_ response: WatchResponse) {
        for event in response.events {
            guard let kv = event.kv else { continue }
            let key = String(decoding: kv.key, as: UTF8.self)
            switch event.type {
            case .put:
                guard let cached = takeWritten(key: key, kv) ?? decode(kv) else { continue }
                let existed = objects[key] != nil
                if !existed { sortedKeys = nil }
                objects[key] = cached
                record(WatchCacheEvent(
                    revision: kv.modRevision, type: existed ? "MODIFIED" : "ADDED", object: cached,
                    encoded: SharedBytes(DirectEncoding.watchEvent(type: existed ? "MODIFIED" : "ADDED", object: cached.bytes))))
            case .delete:
                if !pendingWrites.isEmpty { pendingWrites[key] = nil }
                guard let previous = objects.removeValue(forKey: key) else { continue }
                sortedKeys = nil
                // Like Kubernetes: a deleted object carries the revision of its deletion.
                let deleted = CachedObject(stored: previous.object, key: key, revision: kv.modRevision)
                record(WatchCacheEvent(
                    revision: kv.modRevision, type: "DELETED", object: deleted,
                    encoded: SharedBytes(DirectEncoding.watchEvent(type: "DELETED", object: deleted.bytes))))
            }
        }
        if let headerRevision = response.header?.revision, headerRevision > revision { revision = headerRevision }
        wakeRevisionWaiters()
    }

    /// The sequence number of the oldest event the history still holds.
    var oldestSequence: Int { nextSequence - (history.count - historyStart) }

    /// The recorded event numbered `sequence`, or nil when the history no longer (or not yet)
    /// holds it.
    func event(at sequence: Int) -> WatchCacheEvent? {
        let oldest = oldestSequence
        guard sequence >= oldest, sequence < nextSequence else { return nil }
        return history[historyStart + (sequence - oldest)]
    }

    private func record(_ event: WatchCacheEvent) {
        changeCount &+= 1
        revision = max(revision, event.revision)
        if history.count - historyStart >= historyLimit {
            historyFloor = history[historyStart].revision
            historyStart += 1
            if historyStart > history.count / 2 {
                history.removeFirst(historyStart)
                historyStart = 0
            }
        }
        history.append(event)
        let sequence = nextSequence
        nextSequence += 1
        guard !watchers.isEmpty else { return }
        var delivery = WatchDelivery(change: event, resourceType: type)
        var delivered = 0
        var now: UInt64?
        for watcher in watcherList {
            if watcher.isBehind {
                // It takes this event from the history once its connection drains; here it is
                // only checked against the slow-watcher rule.
                let clock = now ?? monotonicNanoseconds()
                now = clock
                watcher.checkBehind(now: clock, oldestSequence: oldestSequence)
            } else if watcher.offer(&delivery, resumeAt: sequence + 1) {
                delivered += 1
            }
        }
        metrics?.watchEventsDelivered(delivered)
    }

    /// Called when a watcher that is behind may send again (its connection drained): it is fed
    /// from the history with the others that are ready, at the end of this loop turn.
    func readyToSend(_ watcher: CacheWatcher) {
        guard watcher.isBehind, !watcher.ended, !watcher.queuedForCatchUp else { return }
        watcher.queuedForCatchUp = true
        readyToCatchUp.append(watcher)
        guard !catchUpScheduled else { return }
        catchUpScheduled = true
        loop.execute { [self] in catchUp() }
    }

    /// Feeds the ready watchers from the history, event by event in order: each event goes to
    /// every ready watcher at its place (encoded once, as live events are), so that watchers
    /// sharing a connection advance together. A watcher leaves when it has caught up (it is live
    /// again), when its connection is full again (it waits for the next drain) or when it ended.
    private func catchUp() {
        catchUpScheduled = false
        var active = readyToCatchUp
        readyToCatchUp.removeAll()
        for watcher in active { watcher.queuedForCatchUp = false }
        active.removeAll { $0.ended || !$0.isBehind }
        guard var sequence = active.lazy.compactMap(\.resumeSequence).min() else { return }
        var delivered = 0
        while !active.isEmpty && sequence < nextSequence {
            guard let event = event(at: sequence) else {
                // The oldest places fell out of the history: those watchers relist.
                for watcher in active where watcher.resumeSequence == sequence { watcher.fellBehindHistory() }
                active.removeAll { $0.ended }
                sequence += 1
                continue
            }
            var delivery: WatchDelivery?
            var kept = 0
            for index in active.indices {
                let watcher = active[index]
                var keep = true
                if watcher.resumeSequence == sequence {
                    if watcher.filter.accepts(event.object) {
                        if delivery == nil { delivery = WatchDelivery(change: event, resourceType: type) }
                        delivered += 1
                        keep = watcher.send(&delivery!, resumeAt: sequence + 1)
                    }
                    if keep { watcher.advance(to: sequence + 1) }
                }
                if keep {
                    active[kept] = watcher
                    kept += 1
                }
            }
            active.removeLast(active.count - kept)
            sequence += 1
        }
        // Whoever is left has every event up to the live one.
        for watcher in active { watcher.caughtUp() }
        metrics?.watchEventsDelivered(delivered)
    }

    // MARK: Reads

    /// Runs `body` once the cache holds at least `minimumRevision`, or fails after `timeout`.
    func whenReady(atLeast minimumRevision: Int64, timeoutMilliseconds: UInt64 = 3000, _ body: @escaping (Result<Void, ApiError>) -> Void) {
        guard isReady else {
            readyWaiters.append { [self] result in
                if case .failure = result { return body(result) }
                whenReady(atLeast: minimumRevision, timeoutMilliseconds: timeoutMilliseconds, body)
            }
            return
        }
        if revision >= minimumRevision { return body(.success(())) }
        let deadline = monotonicNanoseconds() + timeoutMilliseconds * 1_000_000
        revisionWaiters.append((minimumRevision, deadline, { reached in
            body(reached ? .success(()) : .failure(.timeout(
                "Too large resource version: \(minimumRevision), current: \(self.revision); the cache did not catch up within \(timeoutMilliseconds) ms")))
        }))
        let timer = LoopTimer(loop: loop)
        timer.arm(milliseconds: timeoutMilliseconds + 1) { [self] in
            timer.cancel()
            wakeRevisionWaiters()
        }
    }

    private func wakeRevisionWaiters() {
        guard !revisionWaiters.isEmpty else { return }
        let now = monotonicNanoseconds()
        var kept: [(revision: Int64, deadline: UInt64, resume: (Bool) -> Void)] = []
        for waiter in revisionWaiters {
            if revision >= waiter.revision {
                waiter.resume(true)
            } else if now >= waiter.deadline {
                waiter.resume(false)
            } else {
                kept.append(waiter)
            }
        }
        revisionWaiters = kept
    }

    func get(namespace: String, name: String) -> CachedObject? {
        objects[type.storeKey(namespace: namespace, name: name)]
    }

    /// Every object the filter accepts, in key order.
    func list(_ filter: ObjectFilter) -> [CachedObject] {
        if sortedKeys == nil { sortedKeys = objects.keys.sorted() }
        var result: [CachedObject] = []
        let prefix = filter.namespace.isEmpty || !type.namespaced ? type.storePrefix : type.storePrefix + filter.namespace + "/"
        let keys = sortedKeys!
        // The keys with the prefix are consecutive in sorted order, from the first key not
        // below it: one namespace of a kind is found without reading the others.
        var low = 0, high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle] < prefix { low = middle + 1 } else { high = middle }
        }
        for key in keys[low...] {
            guard key.hasPrefix(prefix) else { break }
            if let object = objects[key], filter.accepts(object) { result.append(object) }
        }
        return result
    }

    // MARK: Watches

    /// Starts a watch into `sink`: from `fromRevision` (events after it, from history) or, when
    /// nil, with synthetic ADDED events for every current object first (Kubernetes' semantics of
    /// resourceVersion unset or "0").
    func watch(
        sink: any WatchSink, fromRevision: Int64?, filter: ObjectFilter, bookmarks: Bool
    ) throws(ApiError) {
        let watcher = CacheWatcher(sink: sink, filter: filter, bookmarks: bookmarks, cache: self)
        if let fromRevision {
            if fromRevision < historyFloor {
                throw .expired("too old resource version: \(fromRevision) (\(historyFloor))")
            }
            let oldest = oldestSequence
            for index in historyStart..<history.count where history[index].revision > fromRevision {
                // Once it is behind, the rest comes from the history as its connection drains.
                guard !watcher.isBehind, !watcher.ended else { break }
                var delivery = WatchDelivery(change: history[index], resourceType: type)
                watcher.offer(&delivery, resumeAt: oldest + (index - historyStart) + 1)
            }
        } else {
            for object in list(filter) {
                var delivery = WatchDelivery(added: object, resourceType: type)
                watcher.send(&delivery, resumeAt: nextSequence)
            }
        }
        guard !watcher.ended else { return }
        let id = ObjectIdentifier(watcher)
        watchers[id] = watcher
        sink.onCancel = { [weak self] in self?.watchers[id] = nil }
        watcher.wireCall?.onWritable = { [weak self, weak watcher] in
            if let self, let watcher { self.readyToSend(watcher) }
        }
    }

    func removeWatcher(_ watcher: CacheWatcher) {
        watchers[ObjectIdentifier(watcher)] = nil
    }

    /// Sends each watcher that asked for bookmarks the cache's current revision.
    func sendBookmarks() {
        // Not to a watcher behind: a bookmark must not overtake the events it has yet to get.
        let wanting = watchers.values.filter { $0.bookmarks && !$0.isBehind }
        guard !wanting.isEmpty else { return }
        var delivery = WatchDelivery(bookmark: revision, resourceType: type)
        for watcher in wanting { watcher.send(&delivery, resumeAt: nextSequence) }
    }
}

/// CacheWatcher is one client watch on a cache.
///
/// Back-pressure: a binary-protocol watcher (`wireCall`) whose connection reports it is behind
/// stops being fed live events; it remembers where it is in the cache's history
/// (`resumeSequence`) and, when the connection drains, pulls the events it missed from there
/// (WatchCache.catchUp) until it is live again. Its connection therefore never holds more than
/// about its high watermark of frames, however long the client lags: memory for a lagging
/// watcher is a sequence number, not a backlog — as Kubernetes' cacheWatcher keeps its place in
/// the shared event buffer rather than copies. Other sinks (HTTP) keep being fed and their
/// transport buffers the backlog. For both, a watcher that makes no progress for longer than
/// the grace period, or whose place fell out of the history, is ended with 410 and relists.
final class CacheWatcher: @unchecked Sendable {
    // Safety of @unchecked Sendable: used on the cache's loop only.
    let sink: any WatchSink
    /// The sink when it is a binary-protocol stream: the fan-out loop calls it directly, and it
    /// says when its connection drained (`onWritable`).
    let wireCall: ServerCall?
    let filter: ObjectFilter
    let bookmarks: Bool
    weak var cache: WatchCache?
    private(set) var ended = false
    /// While behind: the sequence number of the next history event to consider. nil while the
    /// watcher is live (fed as events are recorded).
    private(set) var resumeSequence: Int?
    /// True while the watcher waits in the cache's catch-up list.
    var queuedForCatchUp = false

    init(sink: any WatchSink, filter: ObjectFilter, bookmarks: Bool, cache: WatchCache) {
        self.sink = sink
        self.wireCall = sink as? ServerCall
        self.filter = filter
        self.bookmarks = bookmarks
        self.cache = cache
    }

    /// True while the watcher is behind the live stream and takes events from the history.
    var isBehind: Bool { resumeSequence != nil }

    /// Sends the event if the watcher's filter accepts its object; true when it was sent.
    /// `resumeAt` is where in the history the watcher continues if this send finds it behind.
    @discardableResult
    func offer(_ delivery: inout WatchDelivery, resumeAt: Int) -> Bool {
        guard filter.accepts(delivery.object) else { return false }
        send(&delivery, resumeAt: resumeAt)
        return true
    }

    /// When the sink last went from keeping up to behind without sending anything since (nil:
    /// it is keeping up).
    private var throttledSince: UInt64?

    /// Queues one event. True when the watcher may be given more now.
    @discardableResult
    func send(_ delivery: inout WatchDelivery, resumeAt: Int) -> Bool {
        guard !ended else { return false }
        let result = if let wireCall {
            wireCall.send(prefix: ServerCall.noPrefix, shared: delivery.protobuf)
        } else {
            sink.deliver(&delivery)
        }
        switch result {
        case .sent:
            throttledSince = nil
            return true
        case .closed:
            ended = true
            cache?.removeWatcher(self)
            return false
        case .throttled:
            let now = monotonicNanoseconds()
            if wireCall != nil {
                // The event is queued; the next ones wait in the history until the connection
                // drains (onWritable → WatchCache.readyToSend).
                resumeSequence = resumeAt
                if throttledSince == nil { throttledSince = now }
                return false
            }
            guard let since = throttledSince else {
                throttledSince = now
                return true
            }
            if now - since > grace {
                end(expired: Self.tooSlow(grace))
                return false
            }
            return true
        }
    }

    /// Catching up: the events before `sequence` are queued or not for this watcher.
    func advance(to sequence: Int) {
        precondition(resumeSequence != nil && sequence > resumeSequence!, "advancing a watcher that is not behind")
        resumeSequence = sequence
    }

    /// Catching up reached the live stream: the watcher is fed as events are recorded again.
    /// It is not behind any more, even if the last events it passed were not for it (so nothing
    /// was sent): the slow-watcher clock starts afresh the next time it falls behind.
    func caughtUp() {
        resumeSequence = nil
        throttledSince = nil
    }

    /// The events the watcher has yet to get are no longer in the history: it relists.
    func fellBehindHistory() {
        end(expired: Self.fellOutOfHistory)
    }

    /// The slow-watcher rule for a watcher behind, checked as events pass it by.
    func checkBehind(now: UInt64, oldestSequence: Int) {
        guard !ended, let resume = resumeSequence else { return }
        if resume < oldestSequence {
            end(expired: Self.fellOutOfHistory)
        } else if let since = throttledSince, now - since > grace {
            end(expired: Self.tooSlow(grace))
        }
    }

    private var grace: UInt64 { cache?.slowWatcherGraceNanoseconds ?? 0 }

    private static func tooSlow(_ grace: UInt64) -> String {
        "watch stream too slow: the client has not kept up for \(grace / 1_000_000) ms; list again and watch from the listed resourceVersion"
    }

    private static let fellOutOfHistory =
        "watch stream too slow: the events the client has yet to receive are no longer in the API server's watch cache; list again and watch from the listed resourceVersion"

    func end(expired reason: String) {
        guard !ended else { return }
        ended = true
        resumeSequence = nil
        wireCall?.onWritable = nil
        sink.end(error: .expired(reason))
        cache?.removeWatcher(self)
    }
}
