import Wire

/// StoreKeys holds the key-interval rules clients need (etcd's, see RangeRequest in
/// proto/store/store.proto) and the parsing of endpoint lists.
public enum StoreKeys {
    /// prefixRangeEnd is the range_end that makes (prefix, range_end) name every key starting
    /// with `prefix`: the prefix with its last byte incremented after dropping trailing 0xff
    /// bytes, or "\0" (every key) when the prefix is empty or only 0xff bytes. The rule is the
    /// server's own (`KeyInterval.prefixEnd`), so client and store can never disagree.
    public static func prefixRangeEnd(_ prefix: [UInt8]) -> [UInt8] {
        KeyInterval.prefixEnd(prefix)
    }

    /// prefixInterval is the (key, range_end) pair for a prefix read, watch or delete. An empty
    /// prefix means every key, which etcd spells key = "\0", range_end = "\0" (an empty key is
    /// not a valid start).
    public static func prefixInterval(_ prefix: [UInt8]) -> (key: [UInt8], rangeEnd: [UInt8]) {
        if prefix.isEmpty { return ([0], [0]) }
        return (prefix, prefixRangeEnd(prefix))
    }

    /// parseEndpoints reads "host:port,host:port" (spaces around commas allowed). The error
    /// names the flag, the bad entry and the expected form.
    public static func parseEndpoints(_ text: String, flag: String = "--endpoints") throws(StoreClientError) -> [SocketAddress] {
        var endpoints: [SocketAddress] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let entry = part.trimmingSpaces()
            if entry.isEmpty {
                throw .invalidArgument("\(flag) \"\(text)\" has an empty entry; write host:port pairs separated by commas, like 127.0.0.1:2379,127.0.0.1:2479")
            }
            let address: SocketAddress
            do {
                address = try SocketAddress(parsing: entry)
            } catch {
                throw .invalidArgument("\(flag): \(error); write host:port pairs separated by commas, like 127.0.0.1:2379,127.0.0.1:2479")
            }
            if address.port == 0 {
                throw .invalidArgument("\(flag): \(entry) has port 0; give the port the member listens on (--listen of `agentctl store run`)")
            }
            if !endpoints.contains(address) { endpoints.append(address) }
        }
        return endpoints
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return String(text)
    }
}

/// StoreText renders keys and values for people: the text itself when the bytes are valid UTF-8
/// without control characters, otherwise a quoted form with \xNN escapes that can never be
/// mistaken for plain text.
public enum StoreText {
    public static func isPlainText(_ bytes: [UInt8]) -> Bool {
        guard let text = String(validating: bytes, as: UTF8.self) else { return false }
        return !text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7f }
    }

    public static func display(_ bytes: [UInt8]) -> String {
        if isPlainText(bytes) { return String(decoding: bytes, as: UTF8.self) }
        return quoted(bytes)
    }

    /// quoted is "…" with printable ASCII as is, `"` and `\` escaped, every other byte as \xNN.
    public static func quoted(_ bytes: [UInt8]) -> String {
        var text = "\""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): text += "\\\""
            case UInt8(ascii: "\\"): text += "\\\\"
            case 0x20..<0x7f: text.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16)
                text += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return text + "\""
    }
}
