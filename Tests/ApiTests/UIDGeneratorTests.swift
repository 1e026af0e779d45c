import Foundation
import Testing

@testable import Api

@Suite("metadata.uid generation")
struct UIDGeneratorTests {
    @Test("uids are lowercase version-4 UUIDs that Foundation parses, all distinct across buffer refills")
    func uidsAreRandomUUIDs() throws {
        var generator = UIDGenerator()
        var seen = Set<String>()
        for _ in 0..<1_000 {  // 16,000 bytes: the 4 KiB buffer is refilled three times
            let uid = generator.next()
            #expect(uid.utf8.count == 36)
            let parsed = try #require(UUID(uuidString: uid), "\(uid) is not a UUID")
            #expect(parsed.uuidString.lowercased() == uid)
            let characters = Array(uid)
            #expect([8, 13, 18, 23].allSatisfy { characters[$0] == "-" })
            #expect(characters[14] == "4", "version nibble of \(uid)")
            #expect("89ab".contains(characters[19]), "variant nibble of \(uid)")
            #expect(uid.allSatisfy { $0 == "-" || $0.isHexDigit && !$0.isUppercase })
            seen.insert(uid)
        }
        #expect(seen.count == 1_000)
        #expect(UIDGenerator.next() != UIDGenerator.next())
    }

    @Test("known bytes format in order with the version and variant bits set")
    func formatIsStable() {
        let bytes: [UInt8] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0xff, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]
        let text = bytes.withUnsafeBufferPointer { UIDGenerator.format($0[0..<16]) }
        #expect(text == "00112233-4455-4677-bf99-aabbccddeeff")
    }
}
