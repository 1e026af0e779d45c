#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// compareBytes orders byte strings the way etcd does: unsigned bytes, lexicographically, a
/// proper prefix before the longer string. Returns a negative number, zero or a positive number.
@inline(__always)
func compareBytes(_ left: [UInt8], _ right: [UInt8]) -> Int {
    left.withUnsafeBufferPointer { leftBytes in
        right.withUnsafeBufferPointer { rightBytes in
            let common = min(leftBytes.count, rightBytes.count)
            if common > 0 {
                let order = memcmp(leftBytes.baseAddress!, rightBytes.baseAddress!, common)
                if order != 0 { return Int(order) }
            }
            return leftBytes.count - rightBytes.count
        }
    }
}

/// KeyInterval is the set of keys named by etcd's (key, range_end) pair: range_end empty = the
/// single key; range_end = "\0" = every key >= key; otherwise the half-open [key, range_end).
/// Invariant: `end == nil` means unbounded above; `isSingleKey` implies `end == nil`.
struct KeyInterval: Hashable, Sendable {
    let start: [UInt8]
    let end: [UInt8]?
    let isSingleKey: Bool

    init(key: [UInt8], rangeEnd: [UInt8]) {
        start = key
        if rangeEnd.isEmpty {
            end = nil
            isSingleKey = true
        } else if rangeEnd == [0] {
            end = nil
            isSingleKey = false
        } else {
            end = rangeEnd
            isSingleKey = false
        }
    }

    @inline(__always)
    func contains(_ key: [UInt8]) -> Bool {
        if isSingleKey { return key == start }
        if compareBytes(key, start) < 0 { return false }
        guard let end else { return true }
        return compareBytes(key, end) < 0
    }

    /// isBeyond is true for a key after every key of the interval (scans stop there).
    @inline(__always)
    func isBeyond(_ key: [UInt8]) -> Bool {
        if isSingleKey { return compareBytes(key, start) > 0 }
        guard let end else { return false }
        return compareBytes(key, end) >= 0
    }

    /// prefixEnd is the range_end that makes (prefix, range_end) name every key starting with
    /// `prefix`: the prefix with its last byte incremented after dropping trailing 0xff bytes, or
    /// "\0" (all keys) when the prefix is empty or all 0xff.
    static func prefixEnd(_ prefix: [UInt8]) -> [UInt8] {
        var end = prefix
        while let last = end.last {
            if last < 0xff {
                end[end.count - 1] = last + 1
                return end
            }
            end.removeLast()
        }
        return [0]
    }
}

/// printableKey renders a key for an error message: UTF-8 text as is, other bytes as \xNN.
func printableKey(_ key: [UInt8]) -> String {
    var text = "\""
    for byte in key.prefix(256) {
        if byte >= 0x20 && byte < 0x7f && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
            text.unicodeScalars.append(Unicode.Scalar(byte))
        } else {
            let hex = String(byte, radix: 16)
            text += "\\x" + (hex.count == 1 ? "0" + hex : hex)
        }
    }
    if key.count > 256 { text += "…(\(key.count) bytes)" }
    return text + "\""
}
