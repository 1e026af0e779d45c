import Raft

/// KeyValueCommand is a client write replicated through the log.
enum KeyValueCommand: Hashable {
    case put(key: UInt8, value: Int64)
    case compareAndSet(key: UInt8, expected: Int64?, new: Int64)
}

/// KeyValueRequest is one encoded log entry: the client operation id plus the command.
struct KeyValueRequest: Hashable {
    var operationID: UInt64
    var command: KeyValueCommand

    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        func append(_ value: UInt64) {
            for shift in stride(from: 0, to: 64, by: 8) {
                bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            }
        }
        switch command {
        case .put(let key, let value):
            bytes.append(1)
            append(operationID)
            bytes.append(key)
            append(UInt64(bitPattern: value))
        case .compareAndSet(let key, let expected, let new):
            bytes.append(2)
            append(operationID)
            bytes.append(key)
            append(UInt64(bitPattern: new))
            bytes.append(expected == nil ? 0 : 1)
            append(UInt64(bitPattern: expected ?? 0))
        }
        return bytes
    }

    init(operationID: UInt64, command: KeyValueCommand) {
        self.operationID = operationID
        self.command = command
    }

    init?(decoding bytes: [UInt8]) {
        func read(_ offset: Int) -> UInt64 {
            var value: UInt64 = 0
            for position in 0..<8 {
                value |= UInt64(bytes[offset + position]) << UInt64(position * 8)
            }
            return value
        }
        guard let kind = bytes.first else { return nil }
        switch kind {
        case 1 where bytes.count == 18:
            self.init(operationID: read(1), command: .put(key: bytes[9], value: Int64(bitPattern: read(10))))
        case 2 where bytes.count == 27:
            let expected: Int64? = bytes[18] == 0 ? nil : Int64(bitPattern: read(19))
            self.init(operationID: read(1),
                      command: .compareAndSet(key: bytes[9], expected: expected, new: Int64(bitPattern: read(10))))
        default:
            return nil
        }
    }
}

/// KeyValueStateMachine is the tiny replicated map the simulator checks: puts, compare-and-set
/// and (via ReadIndex) gets over a handful of keys.
struct KeyValueStateMachine {
    private(set) var values: [UInt8: Int64] = [:]
    private(set) var appliedIndex: UInt64 = 0

    /// apply executes one committed entry and returns (operation id, compare-and-set success).
    mutating func apply(_ entry: Entry) -> (operationID: UInt64, succeeded: Bool)? {
        precondition(entry.index == appliedIndex + 1, "applied \(entry.index) after \(appliedIndex)")
        appliedIndex = entry.index
        guard entry.type == .normal, let request = KeyValueRequest(decoding: entry.data) else { return nil }
        switch request.command {
        case .put(let key, let value):
            values[key] = value
            return (request.operationID, true)
        case .compareAndSet(let key, let expected, let new):
            guard values[key] == expected else { return (request.operationID, false) }
            values[key] = new
            return (request.operationID, true)
        }
    }

    func snapshotData() -> [UInt8] {
        var bytes: [UInt8] = []
        for key in values.keys.sorted() {
            bytes.append(key)
            let value = UInt64(bitPattern: values[key]!)
            for shift in stride(from: 0, to: 64, by: 8) {
                bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            }
        }
        return bytes
    }

    init() {}

    init(snapshotData bytes: [UInt8], index: UInt64) {
        precondition(bytes.count % 9 == 0, "snapshot image has a torn record")
        var offset = 0
        while offset < bytes.count {
            var value: UInt64 = 0
            for position in 0..<8 {
                value |= UInt64(bytes[offset + 1 + position]) << UInt64(position * 8)
            }
            values[bytes[offset]] = Int64(bitPattern: value)
            offset += 9
        }
        appliedIndex = index
    }
}
