/// MVCCLimits are the bounds the store enforces on every request.
public enum MVCCLimits {
    /// The largest value a put may carry: 1.5 MiB, like etcd's default request limit.
    public static let maximumValueBytes = 1_572_864
    /// The most operations one transaction branch may hold (etcd's default --max-txn-ops).
    public static let maximumTransactionOperations = 128
    /// The longest lease a client may ask for, in seconds (etcd's MaxLeaseTTL).
    public static let maximumLeaseTTLSeconds: Int64 = 9_000_000_000
    /// The most record slots the store can address (record indexes are 32-bit to keep the key
    /// history compact); a compaction frees slots.
    public static let maximumRecords = Int(Int32.max)
}

/// StoreError is every way a store request can fail. These are operating errors caused by the
/// request or by the history it asks for; the store's state is unchanged when one is thrown
/// (apply still consumes the Raft index).
public enum StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    case compacted(requestedRevision: Int64, compactedRevision: Int64)
    case futureRevision(requestedRevision: Int64, currentRevision: Int64)
    case leaseNotFound(leaseID: Int64)
    case leaseExists(leaseID: Int64)
    case leaseTTLTooLarge(ttlSeconds: Int64, limitSeconds: Int64)
    case valueTooLarge(key: [UInt8], sizeBytes: Int, limitBytes: Int)
    case emptyKey(operation: String)
    case keyNotFound(key: [UInt8], option: String)
    case valueProvidedWithIgnoreValue(key: [UInt8])
    case leaseProvidedWithIgnoreLease(key: [UInt8])
    case duplicateKeyInTransaction(key: [UInt8])
    case tooManyTransactionOperations(count: Int, limit: Int)
    case malformedCommand(reason: String)
    case corruptSnapshot(reason: String)
    case watchIDInUse(watchID: Int64)
    case storeFull(records: Int, limit: Int)

    public var description: String {
        switch self {
        case let .compacted(requested, compacted):
            return "mvcc: required revision has been compacted: revision \(requested) is older than "
                + "the compacted revision \(compacted); read at revision \(compacted) or later, or list again"
        case let .futureRevision(requested, current):
            return "mvcc: required revision is a future revision: revision \(requested) is after the "
                + "current revision \(current); read at revision \(current) or earlier"
        case let .leaseNotFound(leaseID):
            return "lease: requested lease \(leaseID) (0x\(String(UInt64(bitPattern: leaseID), radix: 16))) "
                + "not found; it expired or was revoked, grant a new lease"
        case let .leaseExists(leaseID):
            return "lease: lease \(leaseID) already exists; ask for another id or 0 to let the store pick"
        case let .leaseTTLTooLarge(ttl, limit):
            return "lease: ttl \(ttl) s is too large; the limit is \(limit) s"
        case let .valueTooLarge(key, size, limit):
            return "mvcc: value of key \(printableKey(key)) is \(size) bytes, above the limit of \(limit) "
                + "bytes; store large objects elsewhere or split them"
        case let .emptyKey(operation):
            return "mvcc: \(operation) has an empty key; a key is required"
        case let .keyNotFound(key, option):
            return "mvcc: key \(printableKey(key)) not found; \(option) needs an existing key"
        case let .valueProvidedWithIgnoreValue(key):
            return "mvcc: put of key \(printableKey(key)) sets ignore_value and also a value; send one or the other"
        case let .leaseProvidedWithIgnoreLease(key):
            return "mvcc: put of key \(printableKey(key)) sets ignore_lease and also a lease; send one or the other"
        case let .duplicateKeyInTransaction(key):
            return "mvcc: transaction writes key \(printableKey(key)) more than once; write each key once per transaction"
        case let .tooManyTransactionOperations(count, limit):
            return "mvcc: transaction has \(count) operations in one branch; the limit is \(limit)"
        case let .malformedCommand(reason):
            return "mvcc: malformed request: \(reason)"
        case let .corruptSnapshot(reason):
            return "mvcc: snapshot is corrupt and was refused: \(reason)"
        case let .watchIDInUse(watchID):
            return "mvcc: watch id \(watchID) is already in use; ask for another id or 0 to let the store pick"
        case let .storeFull(records, limit):
            return "mvcc: the store holds \(records) versions, at the limit of \(limit); compact the history"
        }
    }
}
