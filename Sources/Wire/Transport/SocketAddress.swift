import CLibUV

#if canImport(Glibc)
import Glibc
#endif

/// SocketAddress is an IPv4 host and TCP port, written "127.0.0.1:2379".
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses "host:port"; the error says what is wrong and what is expected.
    public init(parsing text: String) throws(AddressError) {
        guard let colon = text.lastIndex(of: ":") else {
            throw AddressError(text: text, reason: "missing \":port\"")
        }
        let host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard let port = UInt16(portText) else {
            throw AddressError(text: text, reason: "port \"\(portText)\" is not a number from 0 to 65535")
        }
        var probe = sockaddr_in()
        guard uv_ip4_addr(host, Int32(port), &probe) == 0 else {
            throw AddressError(text: text, reason: "host \"\(host)\" is not an IPv4 address like 127.0.0.1")
        }
        self.init(host: host, port: port)
    }

    init?(_ storage: sockaddr_storage) {
        guard storage.ss_family == sa_family_t(AF_INET) else { return nil }
        var copy = storage
        let (host, port) = withUnsafePointer(to: &copy) { pointer in
            pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address -> (String, UInt16) in
                var text = [CChar](repeating: 0, count: 64)
                var inAddress = address.pointee
                uv_ip4_name(&inAddress, &text, text.count)
                let host = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                return (host, UInt16(bigEndian: address.pointee.sin_port))
            }
        }
        self.init(host: host, port: port)
    }

    public var description: String { "\(host):\(port)" }

    func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>) -> Result) -> Result {
        var address = sockaddr_in()
        let status = uv_ip4_addr(host, Int32(port), &address)
        precondition(status == 0, "address \(self) was validated at construction")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1, body)
        }
    }
}

/// AddressError says why an address could not be used.
public struct AddressError: Error, CustomStringConvertible, Sendable {
    public var text: String
    public var reason: String
    public var description: String {
        "invalid address \"\(text)\": \(reason); expected host:port such as 127.0.0.1:2379"
    }
}
