import CLibUV

#if canImport(Glibc)
import Glibc
#endif

/// WireError is how a call, a stream or a connection attempt failed.
public struct WireError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: StatusCode
    public var message: String

    public init(_ code: StatusCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

/// TCPListener accepts connections on one address and hands each to `onAccept` on its loop.
public final class TCPListener: @unchecked Sendable {
    // Safety of @unchecked Sendable: state changes only on `loop` (preconditionInLoop).
    public let loop: EventLoop
    public private(set) var address: SocketAddress
    private let handle: UnsafeMutablePointer<uv_tcp_t>
    private let limits: TCPConnectionLimits
    private let onAccept: (TCPConnection) -> Void
    private var closed = false

    /// Binds and listens; port 0 picks a free port (read `address` afterwards).
    public init(
        loop: EventLoop, address: SocketAddress, limits: TCPConnectionLimits = TCPConnectionLimits(),
        onAccept: @escaping (TCPConnection) -> Void
    ) throws(WireError) {
        loop.preconditionInLoop()
        self.loop = loop
        self.address = address
        self.limits = limits
        self.onAccept = onAccept
        handle = .allocate(capacity: 1)
        precondition(uv_tcp_init(loop.uvLoop, handle) == 0)
        let bound = address.withSockaddr { uv_tcp_bind(handle, $0, 0) }
        if bound != 0 {
            Self.closeHandle(handle)
            throw WireError(.unavailable, "cannot listen on \(address): \(uvError(bound))")
        }
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        let stream = UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self)
        let listening = uv_listen(stream, 1024) { server, status in
            let listener = Unmanaged<TCPListener>.fromOpaque(server!.pointee.data).takeUnretainedValue()
            listener.accept(status: status)
        }
        if listening != 0 {
            Unmanaged<TCPListener>.fromOpaque(handle.pointee.data).release()
            Self.closeHandle(handle)
            throw WireError(.unavailable, "cannot listen on \(address): \(uvError(listening))")
        }
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                uv_tcp_getsockname(handle, $0, &length)
            }
        }
        if let actual = SocketAddress(storage) { self.address = actual }
    }

    private func accept(status: Int32) {
        guard status == 0, !closed else { return }
        let connection = TCPConnection(loop: loop, limits: limits)
        let server = UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self)
        if uv_accept(server, connection.stream) != 0 {
            connection.close(reason: "accept failed")
            return
        }
        connection.didConnect()
        onAccept(connection)
    }

    /// Stops accepting; open connections stay open.
    public func close() {
        loop.preconditionInLoop()
        guard !closed else { return }
        closed = true
        let opaque = handle.pointee.data!
        Self.closeHandle(handle)
        Unmanaged<TCPListener>.fromOpaque(opaque).release()
    }

    private static func closeHandle(_ handle: UnsafeMutablePointer<uv_tcp_t>) {
        let raw = UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)
        guard uv_is_closing(raw) == 0 else { return }
        uv_close(raw) { handle in
            handle!.withMemoryRebound(to: uv_tcp_t.self, capacity: 1) { $0.deallocate() }
        }
    }
}

extension TCPConnection {
    /// Connects to `address`; `completion` runs on the loop with the connection or the error.
    public static func connect(
        loop: EventLoop, to address: SocketAddress, limits: TCPConnectionLimits = TCPConnectionLimits(),
        completion: @escaping (Result<TCPConnection, WireError>) -> Void
    ) {
        loop.preconditionInLoop()
        let connection = TCPConnection(loop: loop, limits: limits)
        let request = UnsafeMutablePointer<uv_connect_t>.allocate(capacity: 1)
        final class Pending {
            let connection: TCPConnection
            let address: SocketAddress
            let completion: (Result<TCPConnection, WireError>) -> Void
            init(_ c: TCPConnection, _ a: SocketAddress, _ f: @escaping (Result<TCPConnection, WireError>) -> Void) {
                connection = c
                address = a
                completion = f
            }
        }
        request.pointee.data = Unmanaged.passRetained(Pending(connection, address, completion)).toOpaque()
        let started = address.withSockaddr { sockaddr in
            uv_tcp_connect(request, connection.handle, sockaddr) { request, status in
                let pending = Unmanaged<Pending>.fromOpaque(request!.pointee.data).takeRetainedValue()
                request!.deallocate()
                if status != 0 {
                    pending.connection.close(reason: "connect failed")
                    pending.completion(.failure(WireError(
                        .unavailable, "cannot connect to \(pending.address): \(uvError(status))")))
                    return
                }
                pending.connection.didConnect()
                pending.completion(.success(pending.connection))
            }
        }
        if started != 0 {
            Unmanaged<Pending>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            connection.close(reason: "connect failed")
            completion(.failure(WireError(.unavailable, "cannot connect to \(address): \(uvError(started))")))
        }
    }
}
