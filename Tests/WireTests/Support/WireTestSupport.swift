import Foundation
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// A server on its own loop for one test, torn down by `stop()`.
final class TestServer: @unchecked Sendable {
    let loop: EventLoop
    let server: WireServer
    var address: SocketAddress { server.address }
    static let token = "test-token"

    init(
        router: MethodRouter, port: UInt16 = 0, configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws {
        loop = EventLoop(name: "test-server")
        var configuration = ServerConfiguration(
            identity: "test-server", authenticate: ServerConfiguration.bearerToken(TestServer.token))
        configure(&configuration)
        server = try await WireServer.start(
            on: loop, address: SocketAddress(host: "127.0.0.1", port: port),
            configuration: configuration, service: router)
    }

    func stop() async {
        await server.shutdown()
        loop.shutdown()
    }
}

/// A client on its own loop for one test.
final class TestClient: @unchecked Sendable {
    let loop: EventLoop
    let client: WireClient

    init(
        address: SocketAddress, token: String = TestServer.token,
        configure: (inout ClientConfiguration) -> Void = { _ in }
    ) {
        loop = EventLoop(name: "test-client")
        var configuration = ClientConfiguration(component: "test", identity: "client", credential: token)
        configure(&configuration)
        client = WireClient(loop: loop, address: address, configuration: configuration)
    }

    func stop() async {
        await client.shutdown()
        loop.shutdown()
    }
}

/// An echo router plus a few methods tests need.
func makeRouter() -> MethodRouter {
    let router = MethodRouter()
    router.register("test.Echo") { call in call.respond(call.payload) }
    router.register("test.Never") { _ in }
    return router
}

/// RawSocket is a blocking TCP socket for sending bytes no well-behaved client would send.
final class RawSocket {
    let fd: Int32

    init(_ address: SocketAddress) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket() failed") }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var inAddress = sockaddr_in()
        inAddress.sin_family = sa_family_t(AF_INET)
        inAddress.sin_port = address.port.bigEndian
        inet_pton(AF_INET, address.host, &inAddress.sin_addr)
        let result = withUnsafePointer(to: &inAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(fd)
            throw TestFailure("connect to \(address) failed: errno \(errno)")
        }
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }

    /// Reads until the peer closes or the 5 s timeout passes; returns the bytes and whether EOF came.
    func readUntilClosed() -> (bytes: [UInt8], closed: Bool) {
        var all: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return (all, true) }
            if count < 0 { return (all, errno == ECONNRESET) }
            all.append(contentsOf: chunk[0..<count])
        }
    }

    /// Reads whole frames until `count` have arrived or the peer closes.
    func readFrames(_ count: Int) throws -> [Envelope] {
        var decoder = FrameDecoder()
        var frames: [Envelope] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while frames.count < count {
            let received = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if received <= 0 { break }
            try chunk.withUnsafeBytes { bytes in
                try decoder.feed(UnsafeRawBufferPointer(rebasing: bytes[0..<received])) { frames.append($0) }
            }
        }
        return frames
    }

    /// Sends a valid handshake with the test token.
    func handshake(version: UInt32 = Frame.protocolVersion, token: String = TestServer.token) {
        var handshake = Handshake()
        handshake.protocolVersion = version
        handshake.component = "raw"
        handshake.identity = "socket"
        handshake.credential = token
        var envelope = Envelope()
        envelope.kind = .handshake
        envelope.payload = handshake.protobufBytes()
        write(Frame.encode(envelope))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Decodes every frame in `bytes`, stopping at the first error.
func decodeFrames(_ bytes: [UInt8]) -> [Envelope] {
    var decoder = FrameDecoder()
    var frames: [Envelope] = []
    bytes.withUnsafeBytes { raw in
        try? decoder.feed(raw) { frames.append($0) }
    }
    return frames
}

func request(_ streamID: UInt64, _ method: String, _ payload: [UInt8] = [], flags: UInt32 = 0) -> Envelope {
    var envelope = Envelope()
    envelope.streamID = streamID
    envelope.kind = .request
    envelope.method = method
    envelope.payload = payload
    envelope.flags = flags
    return envelope
}
