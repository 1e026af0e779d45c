// Helpers shared by the storage tests: scratch folders and raw file edits that simulate crashes
// and damage.
import Foundation
import Glibc

@testable import Raft

/// A fresh folder under /tmp, removed when the test drops it.
final class TemporaryDirectory {
    let path: String

    init(_ name: String = "skiff-storage-test") {
        var template = Array("/tmp/\(name)-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(created != nil, "mkdtemp failed: errno \(errno)")
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func child(_ name: String) -> String { path + "/" + name }
}

enum RawFile {
    static func read(_ path: String) -> [UInt8] {
        Array(FileManager.default.contents(atPath: path) ?? Data())
    }

    static func write(_ path: String, _ bytes: [UInt8]) {
        precondition(FileManager.default.createFile(atPath: path, contents: Data(bytes)), "cannot write \(path)")
    }

    static func flipByte(_ path: String, at offset: Int) {
        var bytes = read(path)
        bytes[offset] ^= 0x5A
        write(path, bytes)
    }

    static func names(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }
}

/// A payload of `size` bytes whose content depends on `seed`, so records are distinguishable.
func testPayload(_ seed: Int, size: Int) -> [UInt8] {
    (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed &* 7 &+ 1) }
}

/// Opens the log at `directory` and returns it with every record it replayed.
func openLog(
    _ directory: String, options: SegmentedLog.Options = .forTests
) throws -> (SegmentedLog, [(LogRecordType, [UInt8])]) {
    var records: [(LogRecordType, [UInt8])] = []
    let log = try SegmentedLog.open(directory: directory, options: options) { type, payload, _ in
        records.append((type, Array(payload)))
    }
    return (log, records)
}

extension LogRecordType {
    static let testRecord = LogRecordType(rawValue: 9)
}

/// Returns the error `body` throws, or nil.
func storageError(_ body: () throws -> Void) -> StorageError? {
    do {
        try body()
        return nil
    } catch let error as StorageError {
        return error
    } catch {
        return nil
    }
}

extension SegmentedLog.Options {
    /// Production defaults but 1 MiB segments, so zero-filling a segment takes milliseconds.
    static var forTests: SegmentedLog.Options {
        var options = SegmentedLog.Options()
        options.segmentSizeLimitBytes = 1 << 20
        return options
    }
}

extension RaftStorage.Options {
    static var forTests: RaftStorage.Options {
        var options = RaftStorage.Options()
        options.log = .forTests
        return options
    }
}
