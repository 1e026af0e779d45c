/// MembershipError says why a configuration change cannot apply to the current membership.
public enum MembershipError: Error, Sendable, Hashable {
    case alreadyVoter(UInt64)
    case notLearner(UInt64)
    case notMember(UInt64)
    case removingLastVoter(UInt64)
    case invalidNodeID
}

/// Membership is the set of voters and learners (thesis §4).
///
/// Invariant: no member is both a voter and a learner.
public struct Membership: Sendable, Hashable {
    public private(set) var voters: Set<UInt64>
    public private(set) var learners: Set<UInt64>

    public init(voters: Set<UInt64> = [], learners: Set<UInt64> = []) {
        precondition(voters.isDisjoint(with: learners), "a member is both voter and learner")
        self.voters = voters
        self.learners = learners
    }

    public init(_ confState: ConfState) {
        self.init(voters: Set(confState.voters), learners: Set(confState.learners))
    }

    public var confState: ConfState {
        ConfState(voters: voters.sorted(), learners: learners.sorted())
    }

    public var members: Set<UInt64> {
        voters.union(learners)
    }

    /// applying returns the membership after one single-server change (thesis §4.1).
    public func applying(_ change: ConfChange) throws(MembershipError) -> Membership {
        let node = change.nodeID
        guard node != 0 else { throw .invalidNodeID }
        var next = self
        switch change.type {
        case .addNode:
            guard !voters.contains(node) else { throw .alreadyVoter(node) }
            next.learners.remove(node)
            next.voters.insert(node)
        case .removeNode:
            guard members.contains(node) else { throw .notMember(node) }
            guard voters != [node] else { throw .removingLastVoter(node) }
            next.voters.remove(node)
            next.learners.remove(node)
        case .addLearner:
            guard !voters.contains(node) else { throw .alreadyVoter(node) }
            next.learners.insert(node)
        case .promote:
            guard learners.contains(node) else { throw .notLearner(node) }
            next.learners.remove(node)
            next.voters.insert(node)
        }
        precondition(next.voters.isDisjoint(with: next.learners))
        return next
    }
}

/// ConfChangeCodec encodes a `ConfChange` as protobuf bytes (the layout of raft.proto), so the
/// pure core needs no C library to read configuration entries.
public enum ConfChangeCodec {
    public static func encode(_ change: ConfChange) -> [UInt8] {
        var bytes: [UInt8] = []
        if change.type.rawValue != 0 {
            bytes.append(0x08)
            appendVarint(UInt64(UInt32(bitPattern: change.type.rawValue)), to: &bytes)
        }
        if change.nodeID != 0 {
            bytes.append(0x10)
            appendVarint(change.nodeID, to: &bytes)
        }
        if !change.context.isEmpty {
            bytes.append(0x1a)
            appendVarint(UInt64(change.context.count), to: &bytes)
            bytes.append(contentsOf: change.context)
        }
        return bytes
    }

    /// decode returns nil for bytes that are not a ConfChange this codec wrote.
    public static func decode(_ bytes: [UInt8]) -> ConfChange? {
        var change = ConfChange()
        var position = 0
        while position < bytes.count {
            guard let key = readVarint(bytes, &position) else { return nil }
            switch key {
            case 0x08:
                guard let raw = readVarint(bytes, &position), raw <= UInt64(Int32.max),
                      let type = ConfChangeType(rawValue: Int32(raw)) else { return nil }
                change.type = type
            case 0x10:
                guard let node = readVarint(bytes, &position) else { return nil }
                change.nodeID = node
            case 0x1a:
                guard let length = readVarint(bytes, &position), length <= UInt64(bytes.count - position) else {
                    return nil
                }
                change.context = Array(bytes[position..<position + Int(length)])
                position += Int(length)
            default:
                return nil
            }
        }
        return change
    }

    private static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7f) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    private static func readVarint(_ bytes: [UInt8], _ position: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while position < bytes.count, shift < 64 {
            let byte = bytes[position]
            position += 1
            value |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 {
                return value
            }
            shift += 7
        }
        return nil
    }
}
