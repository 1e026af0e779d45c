import CLibUV
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// EventLoop is one libuv loop running on a thread of its own, and the executor of every actor
/// pinned to it.
///
/// Work reaches the loop three ways:
/// - I/O callbacks from libuv (reads, writes, timers), which run on the loop thread;
/// - jobs enqueued by Swift concurrency: those of actors pinned here (the loop is their serial
///   executor) and those of tasks that prefer this loop (`taskExecutor`) but are not isolated to
///   it;
/// - closures passed to `execute(_:)` from any thread.
///
/// Jobs enqueued on the loop thread itself go to a lock-free local queue; jobs from other threads
/// go through a mutex-protected queue and one `uv_async_send` (the only thread-safe libuv call).
/// Both queues are drained before the loop blocks in poll, and then every connection that wrote
/// during the turn is flushed once (`onTurnEnd`), so writes are batched per loop turn.
public final class EventLoop: @unchecked Sendable {
    // Safety of @unchecked Sendable: the mutable state below the `remote` mutex is touched only
    // on the loop thread, which every accessor checks with `preconditionInLoop()`.

    public let name: String
    let uvLoop: UnsafeMutablePointer<uv_loop_t>
    private let wakeup: UnsafeMutablePointer<uv_async_t>
    private let turnEnd: UnsafeMutablePointer<uv_prepare_t>
    private let remote = Mutex<RemoteQueue>(RemoteQueue())
    private var localJobs: [Work] = []
    /// The jobs of the drain in progress; kept to reuse its storage.
    private var running: [Work] = []
    /// True while `remote` may hold work: lets a drain skip the mutex when nothing came from
    /// other threads (set and cleared under the mutex).
    private let remotePending = Atomic<Bool>(false)
    private var turnEndCallbacks: [() -> Void] = []
    /// The callbacks of the turn end in progress; kept to reuse its storage.
    private var runningCallbacks: [() -> Void] = []
    private var thread: pthread_t? = nil
    private let threadReady = Mutex<Bool>(false)
    private let started = Atomic<Bool>(false)
    /// One read buffer for every connection of the loop: reads are handled synchronously, one at
    /// a time, and a frame split across reads is copied out by its connection's decoder.
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
    /// One array of buffer descriptors for every connection's vectored writes: a connection
    /// fills it and hands it to libuv (which copies what it keeps) within one call.
    let writeBuffers = UnsafeMutableBufferPointer<uv_buf_t>.allocate(capacity: EventLoop.maximumWriteBuffers)
    /// Pieces per vectored write: Linux's IOV_MAX, above which `writev` fails.
    static let maximumWriteBuffers = 1024

    /// Bound on the jobs run in one drain before the loop gets to poll for I/O again; it keeps a
    /// job that re-enqueues itself from starving the network.
    static let maximumJobsPerDrain = 65_536

    enum Work: Sendable {
        /// A job isolated to the loop: an actor pinned here.
        case job(UnownedJob)
        /// A job of a task that prefers the loop, running nonisolated code.
        case taskJob(UnownedJob)
        case closure(@Sendable () -> Void)
    }

    /// The loop as the task executor of tasks that prefer it: `Task(executorPreference:
    /// loop.taskExecutor)`. It is a separate object from the loop's serial executor so that
    /// their jobs can be told apart: a nonisolated task's job runs as nonisolated (serial
    /// executor generic, task executor this), so that calling a nonisolated async function
    /// continues in place; were it run as isolated to the loop, every such call would be a
    /// switch of isolation that re-enqueues the task (about 27 per API request).
    public let taskExecutor = LoopTaskExecutor()

    struct RemoteQueue {
        var work: [Work] = []
        var stopping = false
    }

    /// Creates the loop and starts its thread.
    public init(name: String) {
        self.name = name
        uvLoop = .allocate(capacity: 1)
        precondition(uv_loop_init(uvLoop) == 0, "uv_loop_init failed")
        wakeup = .allocate(capacity: 1)
        turnEnd = .allocate(capacity: 1)
        precondition(uv_async_init(uvLoop, wakeup, { handle in
            EventLoop.from(handle!.pointee.data).drainAll()
        }) == 0)
        precondition(uv_prepare_init(uvLoop, turnEnd) == 0)
        let opaque = Unmanaged.passUnretained(self).toOpaque()
        wakeup.pointee.data = opaque
        turnEnd.pointee.data = opaque
        precondition(uv_prepare_start(turnEnd, { handle in
            EventLoop.from(handle!.pointee.data).runTurnEnd()
        }) == 0)
        taskExecutor.loop = self
        startThread()
    }

    private static func from(_ pointer: UnsafeMutableRawPointer?) -> EventLoop {
        Unmanaged<EventLoop>.fromOpaque(pointer!).takeUnretainedValue()
    }

    private func startThread() {
        let box = Unmanaged.passRetained(self)
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        // Swift code on the loop thread may recurse through async machinery; give it room.
        pthread_attr_setstacksize(&attributes, 8 << 20)
        var threadID = pthread_t()
        let result = pthread_create(&threadID, &attributes, { argument in
            let loop = Unmanaged<EventLoop>.fromOpaque(argument!).takeRetainedValue()
            loop.runOnThread()
            return nil
        }, box.toOpaque())
        pthread_attr_destroy(&attributes)
        precondition(result == 0, "pthread_create failed: \(result)")
        thread = threadID
        // Wait until the thread has recorded itself so `inLoop` is right from the first call.
        while !threadReady.withLock({ $0 }) { sched_yield() }
    }

    private var loopThreadID: pthread_t = pthread_t()

    private func runOnThread() {
        loopThreadID = pthread_self()
        skiff_set_thread_name(name)
        threadReady.withLock { $0 = true }
        started.store(true, ordering: .releasing)
        uv_run(uvLoop, UV_RUN_DEFAULT)
        // The loop stops only after shutdown closed every handle.
    }

    /// True when the caller runs on this loop's thread.
    public var inLoop: Bool {
        pthread_equal(pthread_self(), loopThreadID) != 0
    }

    public func preconditionInLoop(file: StaticString = #fileID, line: UInt = #line) {
        precondition(inLoop, "must run on event loop \(name)", file: file, line: line)
    }

    /// Runs `body` on the loop thread: now if the caller is on it (after the current callback,
    /// before the loop next blocks), otherwise as soon as the loop wakes up.
    public func execute(_ body: @escaping @Sendable () -> Void) {
        enqueue(.closure(body))
    }

    /// Runs `body` on the loop thread and returns its result to the waiting task. Inlinable so
    /// that a caller already on the loop (the API server's requests) runs `body` in place, with
    /// no async call and no executor check.
    @discardableResult @inlinable
    public func submit<Result: Sendable>(_ body: @escaping @Sendable () -> Result) async -> Result {
        if inLoop { return body() }
        return await withUnsafeContinuation { continuation in
            execute { continuation.resume(returning: body()) }
        }
    }

    fileprivate func enqueue(_ work: Work) {
        if inLoop {
            localJobs.append(work)
            return
        }
        let first = remote.withLock { queue -> Bool in
            queue.work.append(work)
            remotePending.store(true, ordering: .releasing)
            return queue.work.count == 1
        }
        if first { uv_async_send(wakeup) }
    }

    /// Registers `callback` to run once at the end of the current loop turn, just before the loop
    /// blocks for I/O. Connections use it to flush their writes once per turn.
    public func onTurnEnd(_ callback: @escaping () -> Void) {
        preconditionInLoop()
        turnEndCallbacks.append(callback)
    }

    private func drainAll() {
        var ran = 0
        while ran < EventLoop.maximumJobsPerDrain {
            // Jobs move through `running`, whose storage is reused: a drain allocates nothing.
            precondition(running.isEmpty, "drains do not nest")
            if remotePending.load(ordering: .acquiring) {
                remote.withLock { queue in
                    running.append(contentsOf: queue.work)
                    queue.work.removeAll(keepingCapacity: true)
                    remotePending.store(false, ordering: .relaxed)
                }
            }
            if running.isEmpty {
                swap(&running, &localJobs)
            } else if !localJobs.isEmpty {
                running.append(contentsOf: localJobs)
                localJobs.removeAll(keepingCapacity: true)
            }
            if running.isEmpty { return }
            for index in running.indices { run(running[index]) }
            ran += running.count
            running.removeAll(keepingCapacity: running.capacity <= 4096)
        }
        // Still busy: come back after one poll for I/O.
        uv_async_send(wakeup)
    }

    private func run(_ work: Work) {
        switch work {
        case .job(let job):
            job.runSynchronously(
                isolatedTo: asUnownedSerialExecutor(), taskExecutor: taskExecutor.asUnownedTaskExecutor())
        case .taskJob(let job):
            job.runSynchronously(on: taskExecutor.asUnownedTaskExecutor())
        case .closure(let body):
            body()
        }
    }

    private func runTurnEnd() {
        // Jobs may produce writes and writes may resume jobs; alternate until both settle.
        var rounds = 0
        repeat {
            drainAll()
            swap(&runningCallbacks, &turnEndCallbacks)
            for index in runningCallbacks.indices { runningCallbacks[index]() }
            runningCallbacks.removeAll(keepingCapacity: runningCallbacks.capacity <= 4096)
            rounds += 1
        } while (!localJobs.isEmpty || !turnEndCallbacks.isEmpty) && rounds < 64
        if !localJobs.isEmpty || !turnEndCallbacks.isEmpty { uv_async_send(wakeup) }
    }

    /// Stops the loop and joins its thread. Every handle other than the loop's own must have
    /// been closed by its owner first; remaining ones are closed here.
    public func shutdown() {
        precondition(!inLoop, "shutdown must not be called from the loop itself")
        let alreadyStopping = remote.withLock { queue -> Bool in
            defer { queue.stopping = true }
            return queue.stopping
        }
        if alreadyStopping { return }
        execute { [self] in
            uv_walk(uvLoop, { handle, _ in
                if uv_is_closing(handle) == 0 { uv_close(handle, nil) }
            }, nil)
        }
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }

    deinit {
        // Reached only after shutdown(): the thread held a reference until uv_run returned.
        uv_loop_close(uvLoop)
        uvLoop.deallocate()
        wakeup.deallocate()
        turnEnd.deallocate()
        readBuffer.deallocate()
        writeBuffers.deallocate()
    }
}

extension EventLoop: SerialExecutor {
    public func enqueue(_ job: consuming ExecutorJob) {
        enqueue(.job(UnownedJob(job)))
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func checkIsolated() {
        preconditionInLoop()
    }

    public func isSameExclusiveExecutionContext(other: EventLoop) -> Bool {
        other === self
    }
}

/// LoopTaskExecutor runs the jobs of tasks that prefer an event loop (`EventLoop.taskExecutor`)
/// on that loop's thread, as nonisolated code.
public final class LoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    // Safety of @unchecked Sendable: `loop` is set once, by the loop's initializer, before the
    // executor is handed out.
    /// Unowned: the loop owns its task executor. Tasks preferring a loop must not outlive it
    /// (true of every component: a loop is shut down after the work it serves).
    fileprivate unowned var loop: EventLoop?

    fileprivate init() {}

    public func enqueue(_ job: consuming ExecutorJob) {
        loop!.enqueue(.taskJob(UnownedJob(job)))
    }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }
}

/// LoopBound is adopted by actors whose state lives on one event loop, so that libuv callbacks
/// on that loop can enter them synchronously (`assumeIsolated`) instead of hopping through the
/// global executor.
public protocol LoopBound: Actor {
    nonisolated var loop: EventLoop { get }
}

extension LoopBound {
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        loop.asUnownedSerialExecutor()
    }
}

/// Names the calling thread (15 bytes are kept) so that perf and top -H show what it does.
public func setCurrentThreadName(_ name: String) {
    skiff_set_thread_name(name)
}
