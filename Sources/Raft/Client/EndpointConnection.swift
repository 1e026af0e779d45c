import Wire

/// EndpointConnection is the client's link to one store member: a `WireClient` plus what the
/// failover logic needs to know that the client does not say directly.
///
/// - `whenReady` answers as soon as the connection is usable or has just failed, instead of
///   queueing the call inside the WireClient until it reconnects: a refused connection must move
///   the request to the next endpoint at once, and a call is only ever handed to the WireClient
///   when it will be written to the socket in the same loop turn, so "failed before sending" is
///   known for certain.
/// - `generation` counts the connections that were lost. A call sent at generation g whose
///   failure is examined after the turn ended and finds a later generation was cut by a lost
///   connection (its outcome on the member is unknown), not answered by the member.
final class EndpointConnection {
    let address: SocketAddress
    let client: WireClient
    private(set) var generation: UInt64 = 0
    private var readyWaiters: [(WireError?) -> Void] = []
    private var previousState: WireClient.State = .idle

    /// Bound on requests waiting for one connection to come up; more fail over at once.
    static let maximumReadyWaiters = 65_536

    init(loop: EventLoop, address: SocketAddress, configuration: ClientConfiguration) {
        loop.preconditionInLoop()
        self.address = address
        client = WireClient(loop: loop, address: address, configuration: configuration)
        client.onStateChange = { [unowned self] state in self.stateChanged(state) }
    }

    /// whenReady runs `body` on the loop with nil once the connection is ready (now, if it is),
    /// or with the reason it could not connect.
    func whenReady(_ body: @escaping (WireError?) -> Void) {
        switch client.state {
        case .ready:
            body(nil)
        case .closed:
            body(client.lastError ?? WireError(.unavailable, "the client for \(address) is closed"))
        case .idle, .waitingToReconnect, .connecting, .handshaking:
            guard readyWaiters.count < Self.maximumReadyWaiters else {
                body(WireError(.unavailable, "\(readyWaiters.count) requests already wait for the connection to \(address)"))
                return
            }
            readyWaiters.append(body)
            // A waiting client would only retry after its back-off; the request's own back-off
            // already spaces attempts, so try now.
            if client.state == .idle || client.state == .waitingToReconnect { client.connect() }
        }
    }

    /// stateChanged answers the waiters. A waiter whose request gave up meanwhile (timed out or
    /// cancelled) is still called and ignores the call: requests check their own state.
    private func stateChanged(_ state: WireClient.State) {
        if previousState == .ready && state != .ready { generation &+= 1 }
        previousState = state
        switch state {
        case .ready:
            flushWaiters(nil)
        case .waitingToReconnect, .closed:
            flushWaiters(client.lastError ?? WireError(.unavailable, "cannot connect to \(address)"))
        case .idle, .connecting, .handshaking:
            break
        }
    }

    private func flushWaiters(_ error: WireError?) {
        let waiters = readyWaiters
        readyWaiters.removeAll()
        for waiter in waiters { waiter(error) }
    }

    func close() {
        client.close()
        flushWaiters(WireError(.cancelled, "client closed"))
    }
}
