import Foundation
import Synchronization
import Wire

/// LeaderElector makes one of several replicas of a component the leader through a
/// coordination.k8s.io/v1 Lease (seed items 29–30):
///
/// - A candidate takes the lease by creating it, or by updating it when it is free (no
///   holderIdentity), already ours, or expired. The update carries the resourceVersion read, so
///   when two candidates race exactly one write wins and the other gets 409 Conflict.
/// - The leader renews (updates renewTime) every `renewPeriodMilliseconds`.
/// - A leader that has not renewed successfully for `renewDeadlineMilliseconds`, measured from
///   the start of its last successful renew request, stops leading (`onStoppedLeading`).
/// - `stop()` hands over gracefully: the leader clears holderIdentity so that another candidate
///   takes over at its next retry. Cancelling the task running `run()` instead simulates a crash:
///   nothing is written, and the others take over once the lease expires.
///
/// Expiry and clock skew. A candidate considers the lease expired only when both hold:
/// `renewTime + leaseDurationSeconds < now` on its wall clock (the meaning Kubernetes stores), and
/// the lease record has not changed for `leaseDurationMilliseconds` on the candidate's own
/// monotonic clock since it first observed it (client-go's rule). The second rule needs no
/// agreement between machines' wall clocks, only that clocks run at about the same rate: the
/// old leader stops at most `renewDeadline` after sending its last successful renew, and a
/// candidate observed that renew after it was sent, so it waits at least `leaseDuration` from a
/// later instant. With the defaults (15 s lease, 10 s deadline) this is safe as long as no clock
/// runs more than a third faster than another and a request's timeout stays within the deadline.
public final class LeaderElector: Sendable {
    public struct Configuration: Sendable {
        public var namespace = "kube-system"
        public var name: String
        /// This candidate's holderIdentity, unique among candidates (host name plus a UUID).
        public var identity: String
        public var leaseDurationMilliseconds: UInt64 = 15_000
        public var renewDeadlineMilliseconds: UInt64 = 10_000
        public var renewPeriodMilliseconds: UInt64 = 2_000
        /// How often a candidate that is not leading tries to take the lease.
        public var retryPeriodMilliseconds: UInt64 = 2_000

        public init(name: String, identity: String, namespace: String = "kube-system") {
            self.name = name
            self.identity = identity
            self.namespace = namespace
        }
    }

    public struct Callbacks: Sendable {
        public var onStartedLeading: @Sendable () -> Void
        public var onStoppedLeading: @Sendable () -> Void
        /// Called when the observed holder changes (empty when the lease is free).
        public var onNewLeader: @Sendable (String) -> Void

        public init(
            onStartedLeading: @escaping @Sendable () -> Void = {},
            onStoppedLeading: @escaping @Sendable () -> Void = {},
            onNewLeader: @escaping @Sendable (String) -> Void = { _ in }
        ) {
            self.onStartedLeading = onStartedLeading
            self.onStoppedLeading = onStoppedLeading
            self.onNewLeader = onNewLeader
        }
    }

    struct Observation {
        var holder = ""
        var renewTime: MicroTime? = nil
        var resourceVersion = ""
        /// Monotonic nanoseconds when this record was first seen.
        var observedAt: UInt64 = 0
    }

    struct State {
        var isLeader = false
        var stopRequested = false
        var observed: Observation? = nil
    }

    public let client: ApiClient
    public let configuration: Configuration
    public let callbacks: Callbacks
    private let state = Mutex(State())

    public init(client: ApiClient, configuration: Configuration, callbacks: Callbacks) {
        precondition(
            configuration.leaseDurationMilliseconds > configuration.renewDeadlineMilliseconds,
            "leaseDuration must exceed renewDeadline, or a new leader may start before the old one stops")
        precondition(configuration.renewDeadlineMilliseconds > configuration.renewPeriodMilliseconds)
        precondition(configuration.retryPeriodMilliseconds > 0 && configuration.renewPeriodMilliseconds > 0)
        precondition(!configuration.identity.isEmpty, "a candidate needs an identity")
        self.client = client
        self.configuration = configuration
        self.callbacks = callbacks
    }

    public var isLeader: Bool { state.withLock { $0.isLeader } }

    /// The holder last observed in the lease ("" when free or not read yet).
    public var observedLeader: String { state.withLock { $0.observed?.holder ?? "" } }

    /// Asks `run()` to release the lease (when leading) and return, at its next step.
    public func stop() {
        state.withLock { $0.stopRequested = true }
    }

    private var stopRequested: Bool { state.withLock { $0.stopRequested } }

    // MARK: Running

    /// Campaigns until leading, leads until the lease is lost or `stop()`, and returns. Task
    /// cancellation returns without writing anything (a crash, as far as others can tell).
    public func run() async {
        while !(await acquire()) {
            guard !Task.isCancelled, !stopRequested else { return }
            await sleepUnlessStopped(nanoseconds: configuration.retryPeriodMilliseconds * 1_000_000)
            guard !Task.isCancelled, !stopRequested else { return }
        }
        becomeLeader()
        await lead()
    }

    private func acquire() async -> Bool {
        guard !Task.isCancelled, !stopRequested else { return false }
        return await tryAcquireOrRenew(timeoutMilliseconds: UInt32(configuration.renewDeadlineMilliseconds))
    }

    /// Renews until the deadline passes without a successful renew, a renew finds another
    /// holder, cancellation, or `stop()`.
    private func lead() async {
        var lastRenewStart = state.withLock { $0.observed?.observedAt ?? monotonicNanoseconds() }
        let deadlineNanoseconds = configuration.renewDeadlineMilliseconds * 1_000_000
        while true {
            await sleepUnlessStopped(nanoseconds: configuration.renewPeriodMilliseconds * 1_000_000)
            if Task.isCancelled { return becomeFollower() }
            if stopRequested {
                await release()
                return becomeFollower()
            }
            let start = monotonicNanoseconds()
            let remaining = (lastRenewStart + deadlineNanoseconds).subtractingReportingOverflow(start)
            guard !remaining.overflow, remaining.partialValue > 0 else { return becomeFollower() }
            let timeout = UInt32(max(1, remaining.partialValue / 1_000_000))
            if await tryAcquireOrRenew(timeoutMilliseconds: timeout) {
                lastRenewStart = start
            } else if monotonicNanoseconds() >= lastRenewStart + deadlineNanoseconds || observedLeader != configuration.identity {
                return becomeFollower()
            }
        }
    }

    /// Sleeps, waking early when `stop()` is called, so that a graceful stop releases the
    /// lease at once rather than at the next renewal.
    private func sleepUnlessStopped(nanoseconds: UInt64) async {
        let end = monotonicNanoseconds() + nanoseconds
        while !Task.isCancelled && !stopRequested {
            let now = monotonicNanoseconds()
            guard now < end else { return }
            try? await Task.sleep(nanoseconds: min(end - now, 50_000_000))
        }
    }

    private func becomeLeader() {
        state.withLock { state in
            precondition(!state.isLeader, "became leader twice")
            state.isLeader = true
        }
        callbacks.onStartedLeading()
    }

    private func becomeFollower() {
        let wasLeader = state.withLock { state in
            defer { state.isLeader = false }
            return state.isLeader
        }
        precondition(wasLeader, "stopped leading without leading")
        callbacks.onStoppedLeading()
    }

    // MARK: The lease

    /// One attempt to take or renew the lease; true when this candidate holds it afterwards.
    private func tryAcquireOrRenew(timeoutMilliseconds: UInt32) async -> Bool {
        let current: Lease
        do {
            current = try await getLease(timeoutMilliseconds: timeoutMilliseconds)
        } catch where error.code == 404 {
            return await createLease(timeoutMilliseconds: timeoutMilliseconds)
        } catch {
            return false
        }
        let holder = current.spec?.holderIdentity ?? ""
        let now = monotonicNanoseconds()
        observe(current, at: now)
        if !holder.isEmpty, holder != configuration.identity, !isExpired(current, now: now) { return false }
        var updated = current
        var spec = current.spec ?? LeaseSpec()
        let wallNow = Self.wallClock()
        if holder != configuration.identity {
            spec.acquireTime = wallNow
            spec.leaseTransitions = (spec.leaseTransitions ?? 0) + 1
        }
        spec.holderIdentity = configuration.identity
        spec.renewTime = wallNow
        spec.leaseDurationSeconds = Int32((configuration.leaseDurationMilliseconds + 999) / 1000)
        updated.spec = spec
        do {
            let written = try await send("api.Update", updated, timeoutMilliseconds: timeoutMilliseconds)
            observe(written, at: now)
            return true
        } catch {
            // 409: another candidate wrote first; anything else: try again later.
            return false
        }
    }

    private func createLease(timeoutMilliseconds: UInt32) async -> Bool {
        var lease = Lease()
        var meta = ObjectMeta()
        meta.name = configuration.name
        meta.namespace = configuration.namespace
        lease.metadata = meta
        let wallNow = Self.wallClock()
        lease.spec = LeaseSpec(
            holderIdentity: configuration.identity,
            leaseDurationSeconds: Int32((configuration.leaseDurationMilliseconds + 999) / 1000),
            acquireTime: wallNow, renewTime: wallNow, leaseTransitions: 0)
        let start = monotonicNanoseconds()
        do {
            let written = try await send("api.Create", lease, timeoutMilliseconds: timeoutMilliseconds)
            observe(written, at: start)
            return true
        } catch {
            // 409 AlreadyExists: another candidate created it first.
            return false
        }
    }

    /// Clears holderIdentity if this candidate still holds the lease, so that the next
    /// candidate need not wait for expiry.
    private func release() async {
        let timeout = UInt32(configuration.renewDeadlineMilliseconds)
        guard var lease = try? await getLease(timeoutMilliseconds: timeout),
            lease.spec?.holderIdentity == configuration.identity
        else { return }
        lease.spec?.holderIdentity = nil
        lease.spec?.leaseDurationSeconds = 1
        lease.spec?.renewTime = Self.wallClock()
        if let written = try? await send("api.Update", lease, timeoutMilliseconds: timeout) {
            observe(written, at: monotonicNanoseconds())
        }
    }

    /// Records `lease`; a record that differs from the last observed one restarts the
    /// monotonic expiry clock.
    private func observe(_ lease: Lease, at now: UInt64) {
        let holder = lease.spec?.holderIdentity ?? ""
        let resourceVersion = lease.metadata?.resourceVersion ?? ""
        let changedHolder = state.withLock { state -> Bool in
            let previous = state.observed
            if previous?.resourceVersion == resourceVersion, previous?.holder == holder { return false }
            state.observed = Observation(
                holder: holder, renewTime: lease.spec?.renewTime, resourceVersion: resourceVersion, observedAt: now)
            return previous?.holder != holder
        }
        if changedHolder { callbacks.onNewLeader(holder) }
    }

    private func isExpired(_ lease: Lease, now: UInt64) -> Bool {
        let durationSeconds = Int64(lease.spec?.leaseDurationSeconds ?? 0)
        let renewSeconds = lease.spec?.renewTime?.seconds ?? 0
        let wallExpired = renewSeconds + durationSeconds < (Self.wallClock().seconds ?? 0)
        let observedAt = state.withLock { $0.observed?.observedAt ?? now }
        let localExpired = now - observedAt >= UInt64(durationSeconds) * 1_000_000_000
        return wallExpired && localExpired
    }

    private func getLease(timeoutMilliseconds: UInt32) async throws(ApiError) -> Lease {
        let request = ApiClient.request(Lease.self, namespace: configuration.namespace, name: configuration.name)
        let response = try await client.call("api.Get", request, timeoutMilliseconds: timeoutMilliseconds)
        return try ApiClient.decode(response.object, as: Lease.self)
    }

    private func send(_ method: String, _ lease: Lease, timeoutMilliseconds: UInt32) async throws(ApiError) -> Lease {
        var request = ApiClient.request(
            Lease.self, namespace: configuration.namespace,
            name: method == "api.Create" ? nil : configuration.name)
        request.object = lease.protobufBytes()
        let response = try await client.call(method, request, timeoutMilliseconds: timeoutMilliseconds)
        return try ApiClient.decode(response.object, as: Lease.self)
    }

    static func wallClock() -> MicroTime {
        let seconds = Date().timeIntervalSince1970
        return MicroTime(seconds: Int64(seconds), nanos: Int32((seconds - seconds.rounded(.down)) * 1e9))
    }
}
