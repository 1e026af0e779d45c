/// ProtoDecodingError says why bytes could not be decoded as a message. Bad input is an
/// operating error: the caller reports it (and usually closes the connection), it never traps.
public struct ProtoDecodingError: Error, CustomStringConvertible, Sendable, Hashable {
    public enum Reason: Sendable, Hashable {
        /// protoc-c rejected the bytes: truncated data, a bad tag or wire type, a length past
        /// the end, or a missing proto2 required field. protoc-c does not say which.
        case malformed(byteCount: Int)
        /// An enum field holds a number that is not a case of the generated Swift enum.
        case unknownEnumNumber(Int32)
        /// A proto3 string field is not valid UTF-8 (the protobuf specification requires it).
        case invalidUTF8
        /// Messages nest deeper than `limit` levels; rejected before protoc-c, whose unpack
        /// recurses once per level and would run out of stack on hostile input.
        case nestingTooDeep(limit: Int)
    }

    /// The full protobuf name of the message being decoded, e.g. `skiff.wire.Envelope`.
    public var messageName: String
    /// The protobuf field name when the problem is in one field.
    public var fieldName: String?
    public var reason: Reason

    public init(messageName: String, fieldName: String? = nil, reason: Reason) {
        self.messageName = messageName
        self.fieldName = fieldName
        self.reason = reason
    }

    public var description: String {
        let place = fieldName.map { "\(messageName).\($0)" } ?? messageName
        switch reason {
        case .malformed(let byteCount):
            return "cannot decode \(place) from \(byteCount) bytes: truncated or malformed protobuf data"
                + " (bad tag, wire type or length, or a missing required field)"
        case .unknownEnumNumber(let number):
            return "cannot decode \(place): \(number) is not a known enum value"
                + " (the sender may use a newer schema)"
        case .invalidUTF8:
            return "cannot decode \(place): string field is not valid UTF-8"
        case .nestingTooDeep(let limit):
            return "cannot decode \(place): messages nest more than \(limit) levels deep"
        }
    }
}
