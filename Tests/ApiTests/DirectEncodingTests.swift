import Testing
import Wire

@testable import Api

@Suite("Watch events and object responses written without protobuf-c")
struct DirectEncodingTests {
    /// Objects of sizes around the varint length boundaries (1, 2 and 3 length bytes).
    static let sizes = [0, 1, 127, 128, 300, 16_383, 16_384, 70_000]

    static func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    }

    @Test("an ApiWatchEvent is byte for byte what protobuf-c packs, and decodes back", arguments: ["ADDED", "MODIFIED", "DELETED", "BOOKMARK", ""])
    func watchEvents(type: String) throws {
        for size in Self.sizes {
            let object = Self.bytes(size)
            let direct = DirectEncoding.watchEvent(type: type, object: object)
            #expect(direct == ApiWatchEvent(type: type, object: object).protobufBytes(), "type \(type), \(size) bytes")
            let decoded = try ApiWatchEvent(protobuf: direct)
            #expect(decoded.type == type)
            #expect(decoded.object == object)
        }
    }

    @Test("an ApiResponse carrying an object is byte for byte what protobuf-c packs, and decodes back")
    func objectResponses() throws {
        for size in Self.sizes {
            let object = Self.bytes(size)
            let direct = DirectEncoding.objectResponse(object)
            #expect(direct == ApiResponse(object: object).protobufBytes(), "\(size) bytes")
            let decoded = try ApiResponse(protobuf: direct)
            #expect(decoded.object == object)
            #expect(decoded.status == nil)
            #expect(decoded.items.isEmpty)
        }
    }
}
