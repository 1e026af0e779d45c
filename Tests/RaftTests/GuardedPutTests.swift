// GuardedPut: the directly encoded create/update transaction is byte for byte protobuf-c's.
import Testing
import Wire

@testable import Raft

@Suite struct GuardedPutTests {
    static let keys: [[UInt8]] = [
        Array("/registry/pods/default/web-1".utf8), [0x2F], Array(repeating: 0x61, count: 200),
    ]
    static let values: [[UInt8]] = [
        [], [1], Array(repeating: 7, count: 127), Array(repeating: 9, count: 128), Array(repeating: 3, count: 20_000),
    ]
    static let guards: [GuardedPut.Guard] = [
        .absent, .modifiedAt(0), .modifiedAt(1), .modifiedAt(127), .modifiedAt(128), .modifiedAt(1 << 40), .modifiedAt(Int64.max),
    ]

    @Test func encodedBytesAreProtobufCs() throws {
        for key in Self.keys {
            for value in Self.values {
                for condition in Self.guards {
                    let put = GuardedPut(key: key, value: value, if: condition)
                    #expect(put.encoded() == put.request.protobufBytes(), "key \(key.count) B, value \(value.count) B, \(condition)")
                    #expect(try TxnRequest(protobuf: put.encoded()) == put.request)
                }
            }
        }
    }

    @Test func createAndUpdateGuardsAsTheStoreReadsThem() throws {
        let create = try TxnRequest(protobuf: GuardedPut(key: [1], value: [2], if: .absent).encoded())
        #expect(create.compare.count == 1 && create.compare[0].target == .create && create.compare[0].createRevision == 0)
        #expect(create.compare[0].result == .equal && create.compare[0].key == [1])
        #expect(create.success.count == 1 && create.success[0].requestPut == PutRequest(key: [1], value: [2]))
        #expect(create.failure.isEmpty)
        let update = try TxnRequest(protobuf: GuardedPut(key: [1], value: [3], if: .modifiedAt(42)).encoded())
        #expect(update.compare.count == 1 && update.compare[0].target == .mod && update.compare[0].modRevision == 42)
        #expect(update.success[0].requestPut?.value == [3])
    }
}
