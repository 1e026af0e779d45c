import Synchronization
import Wire

/// Informer keeps an in-memory copy of one kind (optionally one namespace and selectors) and
/// tells handlers what changed, as client-go's shared informer does:
///
/// 1. List, page by page (`limit`/`continue`), and replace the cache, diffing against what it
///    held: objects that appeared are adds, changed resourceVersions are updates, missing
///    objects are deletes. The first list marks the informer synced.
/// 2. Watch from the list's resourceVersion with bookmarks, applying each event to the cache and
///    then to the handlers, and remembering the newest resourceVersion seen.
/// 3. A watch that breaks (connection lost, server restarted) is reopened from the newest
///    resourceVersion after a capped back-off; a relist happens only when the server says that
///    version is gone (an ERROR event or error with code 410 Expired). Like client-go, this keeps
///    a restarted API server from being hit by a relist of every client at once; the diffing
///    relist then delivers exactly what changed while the watch was down.
///
/// Handlers run on `loop`, in event order, after the cache reflects the event; they should only
/// enqueue keys (STYLE.md). Each object is decoded once and shared by the cache and handlers.
///
/// Threading: the cache (`indexer`, `lister`) and the counters may be read from any thread;
/// everything else is confined to `loop`.
public final class Informer<Object: KubernetesObject>: @unchecked Sendable {
    // Safety of @unchecked Sendable: the `var`s below are touched on `loop` only (each access
    // path checks `preconditionInLoop()` or runs inside `loop.execute`/`submit`); the rest is
    // immutable, atomic, or guarded by a Mutex.

    public struct Configuration: Sendable {
        /// Namespace to watch; nil for every namespace (and for cluster-scoped kinds).
        public var namespace: String?
        public var labelSelector: String?
        public var fieldSelector: String?
        /// Objects per list page.
        public var pageSize: Int64 = 500
        /// Every this many milliseconds each cached object is delivered again as an update
        /// (old and new the same), so that controllers re-check their work; 0 turns it off.
        public var resyncPeriodMilliseconds: UInt64 = 0
        /// Back-off before retrying a failed list or reopening a broken watch: doubles from the
        /// initial value per consecutive failure up to the maximum.
        public var retryInitialMilliseconds: UInt64 = 100
        public var retryMaximumMilliseconds: UInt64 = 5_000
        /// Applied to every object before it is cached and handed to handlers (client-go's
        /// SetTransform): a consumer that needs only part of each object keeps only that part,
        /// which for pods at scale is most of a process's memory.
        public var transform: (@Sendable (Object) -> Object)?

        public init(namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil) {
            self.namespace = namespace
            self.labelSelector = labelSelector
            self.fieldSelector = fieldSelector
        }
    }

    /// EventHandler is one consumer's callbacks; each runs on the informer's loop.
    public struct EventHandler: Sendable {
        public var onAdd: @Sendable (Object) -> Void
        public var onUpdate: @Sendable (_ old: Object, _ new: Object) -> Void
        public var onDelete: @Sendable (Object) -> Void

        public init(
            onAdd: @escaping @Sendable (Object) -> Void = { _ in },
            onUpdate: @escaping @Sendable (_ old: Object, _ new: Object) -> Void = { _, _ in },
            onDelete: @escaping @Sendable (Object) -> Void = { _ in }
        ) {
            self.onAdd = onAdd
            self.onUpdate = onUpdate
            self.onDelete = onDelete
        }
    }

    enum WatchOutcome {
        /// The server no longer has the requested resourceVersion: relist.
        case expired
        /// The stream ended or broke; `deliveredEvents` tells whether it worked for a while.
        case broken(ApiError?, deliveredEvents: Bool)
        case stopped
    }

    struct SyncState {
        var synced = false
        var stopped = false
        var waiters: [CheckedContinuation<Bool, Never>] = []
    }

    public let client: ApiClient
    public let loop: EventLoop
    public let configuration: Configuration
    public let indexer: Indexer<Object>
    public var lister: Lister<Object> { Lister(indexer: indexer) }

    /// Lists that replaced the cache, the first one included: more than one means a relist.
    public var listCount: Int { lists.load(ordering: .relaxed) }
    /// Watches that ended with 410 Expired.
    public var expiredWatchCount: Int { expiredWatches.load(ordering: .relaxed) }
    /// Watches that broke or ended without 410 and were reopened.
    public var brokenWatchCount: Int { brokenWatches.load(ordering: .relaxed) }
    /// Why the last watch ended or the last list failed, for logs and diagnosis.
    public var lastError: ApiError? { lastErrorBox.withLock { $0 } }
    /// The newest resourceVersion the informer has seen (list, event or bookmark).
    public var lastSyncResourceVersion: String { lastResourceVersionBox.withLock { $0 } }

    private let lists = Atomic<Int>(0)
    private let expiredWatches = Atomic<Int>(0)
    private let brokenWatches = Atomic<Int>(0)
    private let lastResourceVersionBox = Mutex<String>("")
    private let lastErrorBox = Mutex<ApiError?>(nil)
    private let syncState = Mutex(SyncState())
    private let runTask = Mutex<Task<Void, Never>?>(nil)

    // Loop-confined.
    private var handlers: [EventHandler] = []
    private var lastResourceVersion = ""
    private var watchToken: CallToken?
    private var pendingWatch: CheckedContinuation<WatchOutcome, Never>?
    private var watchDeliveredEvents = false
    private var resyncTimer: LoopTimer?
    private var stopped = false

    /// An informer over `client`; handlers run on the client's loop. `indexes` name the
    /// secondary indexes of the cache, such as pods by `spec.nodeName`.
    public init(client: ApiClient, configuration: Configuration = Configuration(), indexes: [String: IndexFunction<Object>] = [:]) {
        self.client = client
        self.loop = client.loop
        self.configuration = configuration
        self.indexer = Indexer(indexes: indexes)
    }

    // MARK: Handlers and sync

    /// Adds a handler. One added after the first list first gets an add for every cached object.
    public func addEventHandler(_ handler: EventHandler) {
        loop.execute { [self] in
            handlers.append(handler)
            if hasSynced { for object in indexer.all() { handler.onAdd(object) } }
        }
    }

    public var hasSynced: Bool { syncState.withLock { $0.synced } }

    /// Returns true once the first list has filled the cache, or false if the informer stops
    /// first.
    public func waitUntilSynced() async -> Bool {
        await withCheckedContinuation { continuation in
            let answer = syncState.withLock { state -> Bool? in
                if state.synced { return true }
                if state.stopped { return false }
                state.waiters.append(continuation)
                return nil
            }
            if let answer { continuation.resume(returning: answer) }
        }
    }

    private func finishSync(synced: Bool) {
        let waiters = syncState.withLock { state -> [CheckedContinuation<Bool, Never>] in
            if synced { state.synced = true } else { state.stopped = true }
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: synced) }
    }

    // MARK: Running

    /// Starts `run()` in a task of its own; `stop()` ends it.
    public func start() {
        runTask.withLock { task in
            precondition(task == nil, "informer for \(Object.resourceType) started twice")
            task = Task { await self.run() }
        }
    }

    /// Stops watching; handlers are not called any more. Waits for the run task to end.
    public func stop() async {
        await loop.submit { [self] in
            stopped = true
            resyncTimer?.cancel()
            resyncTimer = nil
            finishWatch(.stopped)
            cancelWatch()
        }
        finishSync(synced: false)
        let task = runTask.withLock { $0 }
        task?.cancel()
        await task?.value
    }

    /// Lists and watches until `stop()` or cancellation.
    public func run() async {
        await loop.submit { [self] in startResyncTimer() }
        var mustList = true
        var failures = 0
        while await !isStopped(), !Task.isCancelled {
            if mustList {
                do {
                    try await listAndReplace()
                    mustList = false
                    failures = 0
                } catch {
                    lastErrorBox.withLock { $0 = error }
                    failures += 1
                    await sleepBeforeRetry(failures: failures)
                    continue
                }
            }
            switch await watch() {
            case .stopped:
                return
            case .expired:
                expiredWatches.add(1, ordering: .relaxed)
                mustList = true
            case .broken(let error, let deliveredEvents):
                if let error { lastErrorBox.withLock { $0 = error } }
                brokenWatches.add(1, ordering: .relaxed)
                failures = deliveredEvents ? 1 : failures + 1
                await sleepBeforeRetry(failures: failures)
            }
        }
    }

    private func isStopped() async -> Bool {
        await loop.submit { [self] in stopped }
    }

    private func sleepBeforeRetry(failures: Int) async {
        let shift = min(failures - 1, 20)
        let delay = min(configuration.retryInitialMilliseconds << UInt64(shift), configuration.retryMaximumMilliseconds)
        try? await Task.sleep(nanoseconds: delay * 1_000_000)
    }

    // MARK: Listing

    private func listAndReplace() async throws(ApiError) {
        var items: [Object] = []
        var continueToken: String? = nil
        var resourceVersion = ""
        repeat {
            let page = try await client.list(
                Object.self, namespace: configuration.namespace, labelSelector: configuration.labelSelector,
                fieldSelector: configuration.fieldSelector, limit: configuration.pageSize, continueToken: continueToken)
            items.append(contentsOf: page.items)
            // Every page is served at the first page's version; keep the first one.
            if resourceVersion.isEmpty { resourceVersion = page.resourceVersion }
            continueToken = page.continueToken?.isEmpty == false ? page.continueToken : nil
        } while continueToken != nil
        let listed = configuration.transform.map { items.map($0) } ?? items
        let version = resourceVersion
        await loop.submit { [self] in replace(with: listed, resourceVersion: version) }
    }

    /// Makes the cache equal to `items`, telling handlers about each difference.
    private func replace(with items: [Object], resourceVersion: String) {
        loop.preconditionInLoop()
        guard !stopped else { return }
        var previous = indexer.snapshot()
        for object in items {
            let key = ObjectKey.of(object)
            if let old = previous.removeValue(forKey: key) {
                guard old.metadata?.resourceVersion != object.metadata?.resourceVersion else { continue }
                indexer.upsert(object)
                for handler in handlers { handler.onUpdate(old, object) }
            } else {
                indexer.upsert(object)
                for handler in handlers { handler.onAdd(object) }
            }
        }
        for (key, gone) in previous.sorted(by: { $0.key < $1.key }) {
            indexer.remove(key: key)
            for handler in handlers { handler.onDelete(gone) }
        }
        setResourceVersion(resourceVersion)
        lists.add(1, ordering: .relaxed)
        if !hasSynced { finishSync(synced: true) }
    }

    private func setResourceVersion(_ version: String) {
        guard !version.isEmpty else { return }
        lastResourceVersion = version
        lastResourceVersionBox.withLock { $0 = version }
    }

    // MARK: Watching

    /// Watches from the newest resourceVersion until the stream ends.
    private func watch() async -> WatchOutcome {
        await withCheckedContinuation { continuation in
            loop.execute { [self] in
                precondition(pendingWatch == nil, "two watches of one informer")
                guard !stopped else { return continuation.resume(returning: .stopped) }
                pendingWatch = continuation
                watchDeliveredEvents = false
                watchToken = client.watchRaw(
                    Object.self, namespace: configuration.namespace, resourceVersion: lastResourceVersion,
                    labelSelector: configuration.labelSelector, fieldSelector: configuration.fieldSelector,
                    bookmarks: true
                ) { [weak self] kind, bytes, error in
                    self?.onWatchEvent(kind, bytes, error)
                }
            }
        }
    }

    private func onWatchEvent(_ kind: ApiClient.WatchEventKind?, _ bytes: [UInt8], _ error: ApiError?) {
        loop.preconditionInLoop()
        guard pendingWatch != nil, !stopped else { return }
        guard let kind, kind != .error else {
            // Finish first: cancelling ends the stream, which calls this handler again.
            finishWatch(error?.code == 410 ? .expired : .broken(error, deliveredEvents: watchDeliveredEvents))
            cancelWatch()
            return
        }
        var object: Object
        do {
            object = try Object(protobuf: bytes)
            if let transform = configuration.transform { object = transform(object) }
        } catch {
            // A server sending what does not decode cannot be followed; start over from a list.
            finishWatch(.expired)
            cancelWatch()
            return
        }
        watchDeliveredEvents = true
        switch kind {
        case .added, .modified:
            if let old = indexer.upsert(object) {
                for handler in handlers { handler.onUpdate(old, object) }
            } else {
                for handler in handlers { handler.onAdd(object) }
            }
        case .deleted:
            if indexer.remove(key: ObjectKey.of(object)) != nil {
                for handler in handlers { handler.onDelete(object) }
            }
        case .bookmark, .error:
            break
        }
        setResourceVersion(object.metadata?.resourceVersion ?? "")
    }

    private func cancelWatch() {
        guard let token = watchToken else { return }
        watchToken = nil
        client.cancel(token)
    }

    private func finishWatch(_ outcome: WatchOutcome) {
        loop.preconditionInLoop()
        guard let continuation = pendingWatch else { return }
        pendingWatch = nil
        continuation.resume(returning: outcome)
    }

    // MARK: Resync

    private func startResyncTimer() {
        loop.preconditionInLoop()
        guard configuration.resyncPeriodMilliseconds > 0, !stopped, resyncTimer == nil else { return }
        let timer = LoopTimer(loop: loop)
        let period = configuration.resyncPeriodMilliseconds
        timer.arm(milliseconds: period, repeatMilliseconds: period, owner: self) { informer in
            informer.resync()
        }
        resyncTimer = timer
    }

    /// Delivers every cached object again as an update with old and new the same.
    private func resync() {
        loop.preconditionInLoop()
        guard hasSynced, !stopped else { return }
        for object in indexer.all() {
            for handler in handlers { handler.onUpdate(object, object) }
        }
    }
}
