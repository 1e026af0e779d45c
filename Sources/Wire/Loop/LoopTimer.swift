import CLibUV

/// LoopTimer runs a closure on its loop after a delay, optionally repeating. It must be created,
/// armed and cancelled on the loop thread; `cancel()` is required before the owner lets go of it.
public final class LoopTimer: @unchecked Sendable {
    // Safety of @unchecked Sendable: state is touched on `loop` only (preconditionInLoop).
    public let loop: EventLoop
    private let handle: UnsafeMutablePointer<uv_timer_t>
    private var action: (() -> Void)?
    private var closed = false

    public init(loop: EventLoop) {
        loop.preconditionInLoop()
        self.loop = loop
        handle = .allocate(capacity: 1)
        precondition(uv_timer_init(loop.uvLoop, handle) == 0)
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    /// Runs `action` after `milliseconds`, then every `repeatMilliseconds` if that is not zero.
    /// Arming again replaces the previous schedule.
    public func arm(milliseconds: UInt64, repeatMilliseconds: UInt64 = 0, _ action: @escaping () -> Void) {
        loop.preconditionInLoop()
        precondition(!closed, "timer used after cancel")
        self.action = action
        uv_timer_start(handle, { handle in
            let timer = Unmanaged<LoopTimer>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
            timer.action?()
        }, milliseconds, repeatMilliseconds)
    }

    /// Like `arm`, for a timer that belongs to `owner`: the action gets the owner, and once the
    /// owner is gone (released without cancelling its timers) the timer cancels itself instead
    /// of touching freed memory.
    public func arm<Owner: AnyObject>(
        milliseconds: UInt64, repeatMilliseconds: UInt64 = 0, owner: Owner, _ action: @escaping (Owner) -> Void
    ) {
        arm(milliseconds: milliseconds, repeatMilliseconds: repeatMilliseconds) { [weak owner, unowned self] in
            guard let owner else {
                self.cancel()
                return
            }
            action(owner)
        }
    }

    /// Stops the schedule; the timer can be armed again.
    public func stop() {
        loop.preconditionInLoop()
        guard !closed else { return }
        uv_timer_stop(handle)
        action = nil
    }

    /// Stops and frees the timer for good.
    public func cancel() {
        loop.preconditionInLoop()
        guard !closed else { return }
        closed = true
        action = nil
        let raw = UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)
        // A loop shutting down closes every handle itself; closing twice would abort in libuv.
        guard uv_is_closing(raw) == 0 else { return }
        uv_close(raw) { handle in
            let opaque = handle!.pointee.data!
            handle!.withMemoryRebound(to: uv_timer_t.self, capacity: 1) { $0.deallocate() }
            Unmanaged<LoopTimer>.fromOpaque(opaque).release()
        }
    }
}

/// Monotonic time in nanoseconds, the clock every deadline in the wire uses.
@inline(__always)
public func monotonicNanoseconds() -> UInt64 {
    uv_hrtime()
}
