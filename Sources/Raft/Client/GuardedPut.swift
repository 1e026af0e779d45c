import Wire

/// GuardedPut is the store write an API server makes for every object: one key put if a guard
/// on that key holds, as the protobuf of a TxnRequest
///
///     compare: [{target: CREATE or MOD, key, create_revision or mod_revision}]
///     success: [{request_put: {key, value}}]
///
/// written straight into bytes. Building it through the generated messages (a RequestOp carries
/// four optional requests inline, copied whole at every step) and protobuf-c's C structs took
/// about 5% of the API server's CPU while pods were scheduled. The bytes are the ones
/// protobuf-c writes for the same message (tests compare them), so the store reads them as any
/// other TxnRequest.
public struct GuardedPut: Sendable {
    /// What must hold of the key for the put to happen.
    public enum Guard: Sendable, Hashable {
        /// The key does not exist (its create revision is 0): a create.
        case absent
        /// The key was last modified at this revision: an update of the version read.
        case modifiedAt(Int64)
    }

    public var key: [UInt8]
    public var value: [UInt8]
    public var condition: Guard

    public init(key: [UInt8], value: [UInt8], if condition: Guard) {
        self.key = key
        self.value = value
        self.condition = condition
    }

    /// The same transaction as generated messages.
    public var request: TxnRequest {
        let compare = switch condition {
        case .absent: Compare(result: .equal, target: .create, key: key, createRevision: 0)
        case .modifiedAt(let revision): Compare(result: .equal, target: .mod, key: key, modRevision: revision)
        }
        return TxnRequest(compare: [compare], success: [RequestOp(requestPut: PutRequest(key: key, value: value))])
    }

    /// The TxnRequest's protobuf. Fields are written in number order and zero values left out,
    /// as protobuf-c does for proto3 fields.
    public func encoded() -> [UInt8] {
        // Compare: result EQUAL is 0 (left out); target = 2; key = 3; create_revision = 5 and
        // mod_revision = 6 (left out when 0).
        let (target, revisionField, revision): (UInt64, UInt64, Int64) = switch condition {
        case .absent: (UInt64(CompareTarget.create.rawValue), 5, 0)
        case .modifiedAt(let revision): (UInt64(CompareTarget.mod.rawValue), 6, revision)
        }
        var compare: [UInt8] = []
        compare.reserveCapacity(key.count + 24)
        Self.appendVarintField(2, target, to: &compare)
        Self.appendBytesField(3, key, to: &compare)
        Self.appendVarintField(revisionField, UInt64(bitPattern: revision), to: &compare)
        // PutRequest: key = 1, value = 2; RequestOp: request_put = 2.
        let putSize = Self.bytesFieldSize(1, key.count) + Self.bytesFieldSize(2, value.count)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(compare.count + putSize + 16)
        // TxnRequest: compare = 1, success = 2.
        Self.appendBytesField(1, compare, to: &bytes)
        Self.appendLengthPrefix(2, Self.lengthDelimitedSize(2, putSize), to: &bytes)
        Self.appendLengthPrefix(2, putSize, to: &bytes)
        Self.appendBytesField(1, key, to: &bytes)
        Self.appendBytesField(2, value, to: &bytes)
        return bytes
    }

    private static func appendVarintField(_ field: UInt64, _ value: UInt64, to buffer: inout [UInt8]) {
        guard value != 0 else { return }
        Frame.appendVarint(field << 3, to: &buffer)
        Frame.appendVarint(value, to: &buffer)
    }

    private static func appendBytesField(_ field: UInt64, _ value: [UInt8], to buffer: inout [UInt8]) {
        guard !value.isEmpty else { return }
        appendLengthPrefix(field, value.count, to: &buffer)
        buffer.append(contentsOf: value)
    }

    private static func appendLengthPrefix(_ field: UInt64, _ length: Int, to buffer: inout [UInt8]) {
        Frame.appendVarint(field << 3 | 2, to: &buffer)
        Frame.appendVarint(UInt64(length), to: &buffer)
    }

    /// The size of a length-delimited field holding `length` bytes (nothing when empty).
    private static func bytesFieldSize(_ field: UInt64, _ length: Int) -> Int {
        length == 0 ? 0 : lengthDelimitedSize(field, length)
    }

    /// The size of a length-delimited field holding `length` bytes, written even when empty.
    private static func lengthDelimitedSize(_ field: UInt64, _ length: Int) -> Int {
        varintSize(field << 3 | 2) + varintSize(UInt64(length)) + length
    }

    private static func varintSize(_ value: UInt64) -> Int {
        var size = 1
        var rest = value >> 7
        while rest != 0 {
            size += 1
            rest >>= 7
        }
        return size
    }
}
