// The byte layout of write-ahead log records and the rules that tell a torn tail from corruption.

/// LogRecordType tags a write-ahead log record. Zero is never a valid tag, so a zeroed header (as
/// in the preallocated, never-written end of a segment) can never be mistaken for a record.
public struct LogRecordType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The first record of every segment; written by SegmentedLog itself, never by its users.
    public static let segmentHeader = LogRecordType(rawValue: 1)

    public var description: String { "record type \(rawValue)" }
}

/// LogRecordFormat describes one record on disk:
///
///     offset  size  field
///     0       4     payload length in bytes, UInt32 little-endian
///     4       4     CRC32C over bytes 8 ..< 12 + length (type tag, reserved bytes, payload), little-endian
///     8       1     type tag, never 0
///     9       3     reserved, always 0
///     12      n     payload
///
/// Records follow each other without padding. A segment starts with a `segmentHeader` record and
/// ends either at the end of the file or where only zero bytes remain (the preallocated space).
enum LogRecordFormat {
    static let headerSizeBytes = 12

    /// The largest payload a record may carry. Store values are at most 1.5 MiB, so an entry stays
    /// far below this; a length field above it on disk is corruption, not a big record.
    static let maximumPayloadBytes = 32 << 20

    /// What sits at one offset of a segment (see `SegmentReader.parseRecord`).
    enum Parsed: Equatable {
        /// A well-formed record whose checksum matches.
        case record(type: LogRecordType, payloadOffsetBytes: Int, payloadSizeBytes: Int, endOffsetBytes: Int)
        /// Nothing but zero bytes from this offset to the end of the file.
        case endOfData
        /// Anything else; the text says what is wrong.
        case invalid(problem: String)
    }

    /// appendHeaderPlaceholder reserves a header at the end of `buffer`; `finishRecord` fills it in
    /// once the payload has been appended behind it.
    static func appendHeaderPlaceholder(to buffer: inout [UInt8]) -> Int {
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: headerSizeBytes))
        return start
    }

    static func finishRecord(in buffer: inout [UInt8], startOffsetBytes start: Int, type: LogRecordType) {
        precondition(type.rawValue != 0, "record type 0 is reserved for unwritten space")
        let payloadSizeBytes = buffer.count - start - headerSizeBytes
        precondition(
            payloadSizeBytes <= maximumPayloadBytes,
            "record payload of \(payloadSizeBytes) bytes exceeds the bound of \(maximumPayloadBytes)")
        buffer.withUnsafeMutableBytes { bytes in
            bytes.storeBytes(of: UInt32(payloadSizeBytes).littleEndian, toByteOffset: start, as: UInt32.self)
            bytes.storeBytes(of: UInt32(type.rawValue).littleEndian, toByteOffset: start + 8, as: UInt32.self)
            let covered = UnsafeRawBufferPointer(rebasing: bytes[(start + 8)...])
            let checksum = CRC32C.checksum(covered)
            bytes.storeBytes(of: checksum.littleEndian, toByteOffset: start + 4, as: UInt32.self)
        }
    }

    /// appendRecord appends one complete record to `buffer`.
    static func appendRecord(type: LogRecordType, payload: UnsafeRawBufferPointer, to buffer: inout [UInt8]) {
        let start = appendHeaderPlaceholder(to: &buffer)
        buffer.append(contentsOf: payload)
        finishRecord(in: &buffer, startOffsetBytes: start, type: type)
    }

    /// What a record header says before its checksum is checked.
    enum HeaderCheck: Equatable {
        /// Twelve zero bytes: unwritten space if only zeros follow.
        case zero
        /// A header that cannot start a record; the text says why.
        case invalid(problem: String)
        /// A header that may start a record of `payloadSizeBytes`, all of them inside the file.
        case plausible(type: LogRecordType, payloadSizeBytes: Int, storedChecksum: UInt32)
    }

    /// checkHeader checks the 12 header bytes at the start of `header`, `remainingBytes` being
    /// the bytes from the header's start to the end of the file (at least 12). The checks of a
    /// record at one offset are: zero header, tag, reserved bytes, length bound, length within
    /// the file, then (by the caller, over the whole record) `checksumProblem`.
    static func checkHeader(_ header: UnsafeRawBufferPointer, remainingBytes remaining: Int) -> HeaderCheck {
        precondition(header.count >= headerSizeBytes && remaining >= headerSizeBytes, "checkHeader needs a whole header")
        let length = Int(UInt32(littleEndian: header.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        let storedChecksum = UInt32(littleEndian: header.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let typeWord = UInt32(littleEndian: header.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        if length == 0 && storedChecksum == 0 && typeWord == 0 { return .zero }
        if typeWord & 0xFF == 0 { return .invalid(problem: "record type tag is 0") }
        if typeWord >> 8 != 0 { return .invalid(problem: "reserved header bytes are not zero") }
        if length > maximumPayloadBytes {
            return .invalid(problem: "record length \(length) exceeds the maximum of \(maximumPayloadBytes) bytes")
        }
        if length > remaining - headerSizeBytes {
            return .invalid(
                problem: "incomplete record: \(length) payload bytes declared, \(remaining - headerSizeBytes) present")
        }
        return .plausible(type: LogRecordType(rawValue: UInt8(typeWord)), payloadSizeBytes: length, storedChecksum: storedChecksum)
    }

    /// checksumProblem describes a checksum mismatch, or returns nil when the checksums agree.
    static func checksumProblem(stored: UInt32, computed: UInt32) -> String? {
        if computed == stored { return nil }
        return "checksum mismatch (stored \(hexadecimal8(stored)), computed \(hexadecimal8(computed)))"
    }

    /// isZero reports whether every byte from `offset` to the end is zero.
    static func isZero(_ bytes: UnsafeRawBufferPointer, from offset: Int) -> Bool {
        var position = offset
        while bytes.count - position >= 8 {
            if bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self) != 0 { return false }
            position += 8
        }
        while position < bytes.count {
            if bytes[position] != 0 { return false }
            position += 1
        }
        return true
    }
}

/// The payload of a `segmentHeader` record:
///
///     offset  size  field
///     0       8     magic "SKIFFWAL"
///     8       4     format version (1), UInt32 little-endian
///     12      4     reserved, 0
///     16      8     segment sequence number, UInt64 little-endian (same as in the file name)
///     24      8     first index: the Raft index of the first entry this segment was opened for
struct SegmentHeader: Equatable {
    static let magic: [UInt8] = Array("SKIFFWAL".utf8)
    static let formatVersion: UInt32 = 1
    static let payloadSizeBytes = 32

    var sequence: UInt64
    var firstIndex: UInt64

    func encoded() -> [UInt8] {
        var bytes = SegmentHeader.magic
        bytes.reserveCapacity(SegmentHeader.payloadSizeBytes)
        appendLittleEndian(SegmentHeader.formatVersion, to: &bytes)
        appendLittleEndian(UInt32(0), to: &bytes)
        appendLittleEndian(sequence, to: &bytes)
        appendLittleEndian(firstIndex, to: &bytes)
        return bytes
    }

    /// Decodes a header payload, or returns what is wrong with it.
    static func decode(_ payload: UnsafeRawBufferPointer) -> Result<SegmentHeader, HeaderProblem> {
        guard payload.count == payloadSizeBytes else {
            return .failure(HeaderProblem(text: "segment header is \(payload.count) bytes, expected \(payloadSizeBytes)"))
        }
        guard payload.prefix(8).elementsEqual(magic) else {
            return .failure(HeaderProblem(text: "segment header magic is not SKIFFWAL"))
        }
        let version = UInt32(littleEndian: payload.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard version == formatVersion else {
            return .failure(HeaderProblem(text: "segment format version \(version) is not supported (this build reads \(formatVersion))"))
        }
        return .success(SegmentHeader(
            sequence: UInt64(littleEndian: payload.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
            firstIndex: UInt64(littleEndian: payload.loadUnaligned(fromByteOffset: 24, as: UInt64.self))))
    }

    struct HeaderProblem: Error { var text: String }
}

func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}

func hexadecimal8(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
