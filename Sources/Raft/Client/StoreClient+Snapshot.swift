import Glibc
import Wire

/// StoreSnapshotInfo describes a snapshot saved by `StoreClient.snapshot(to:)`.
public struct StoreSnapshotInfo: Sendable, Hashable {
    public var path: String
    public var sizeBytes: UInt64
    public var revision: Int64
    public var raftIndex: UInt64
    public var crc32c: UInt32
    public var endpoint: SocketAddress
}

extension StoreClient {
    /// snapshot streams the store state (an encoded `StoreSnapshot`) from one member into
    /// `path`. Chunks go to a temporary file beside `path`; the file is checked (contiguous
    /// offsets, the announced size, the CRC-32C of the last chunk), synced, and only then renamed
    /// over `path`, so `path` is either the old file or a complete, verified snapshot.
    ///
    /// Only a failure to start the stream fails over to another endpoint: a stream cut halfway
    /// is reported (save again).
    public func snapshot(to path: String) async throws(StoreClientError) -> StoreSnapshotInfo {
        guard !path.isEmpty else { throw .invalidArgument("snapshot save: the file name is empty") }
        let temporaryPath = path + ".part"
        let result: Result<StoreSnapshotInfo, StoreClientError> = await withUnsafeContinuation { continuation in
            loop.execute { [self] in
                let download = SnapshotDownload(client: self, path: path, temporaryPath: temporaryPath) {
                    continuation.resume(returning: $0)
                }
                download.start()
            }
        }
        return try result.get()
    }
}

/// SnapshotDownload is one `store.Snapshot` stream written to a file, on the client's loop.
/// Chunks are written as they arrive (a member sends 1 MiB chunks), so memory stays bounded by
/// the connection's buffers, not by the snapshot's size.
final class SnapshotDownload {
    let client: StoreClient
    let path: String
    let temporaryPath: String
    private let completion: (Result<StoreSnapshotInfo, StoreClientError>) -> Void
    private var cursor: FailoverCursor
    private var failures: [EndpointFailure] = []
    private var descriptor: Int32 = -1
    private var receivedBytes: UInt64 = 0
    private var crc: UInt32 = 0
    private var finished = false
    private var pauseTimer: LoopTimer?
    private let deadline: UInt64

    init(client: StoreClient, path: String, temporaryPath: String, completion: @escaping (Result<StoreSnapshotInfo, StoreClientError>) -> Void) {
        self.client = client
        self.path = path
        self.temporaryPath = temporaryPath
        self.completion = completion
        cursor = FailoverCursor(endpointCount: client.endpoints.count, start: client.preferredEndpoint)
        deadline = monotonicNanoseconds() + client.options.requestTimeoutMilliseconds * 1_000_000
    }

    func start() {
        let index = cursor.current
        let connection = client.connection(index)
        connection.whenReady { [self] error in
            guard !finished else { return }
            if let error {
                failures.append(EndpointFailure(endpoint: client.endpoints[index], error: error))
                return tryNext()
            }
            do {
                descriptor = try FileSystem.openFile(temporaryPath, flags: O_WRONLY | O_CREAT | O_TRUNC, permissions: 0o600)
            } catch {
                return fail("snapshot save: cannot write \(temporaryPath): \(error); choose a writable folder")
            }
            receivedBytes = 0
            crc = 0
            connection.client.openStream("store.Snapshot", SnapshotRequest().protobufBytes()) { [self] event in
                guard !finished else { return }
                switch event {
                case .item(let bytes): received(bytes, endpoint: index)
                case .end(nil): fail("snapshot save: \(client.endpoints[index]) ended the stream before the last chunk; save again")
                case .end(let error?): fail("snapshot save: the stream from \(client.endpoints[index]) broke after \(receivedBytes) bytes (\(error.message)); save again", code: error.code)
                }
            }
        }
    }

    private func tryNext() {
        let pause = cursor.advance(
            initialDelayMilliseconds: client.options.retryInitialDelayMilliseconds,
            maximumDelayMilliseconds: client.options.retryMaximumDelayMilliseconds)
        let now = monotonicNanoseconds()
        guard deadline > now + pause * 1_000_000 else {
            return finish(.failure(StoreClientError(
                .unavailable, "snapshot save: " + EndpointFailure.summary(failures, endpoints: client.endpoints),
                code: .unavailable, endpoints: client.endpoints)))
        }
        if pause == 0 { return start() }
        if pauseTimer == nil { pauseTimer = LoopTimer(loop: client.loop) }
        pauseTimer!.arm(milliseconds: pause) { [unowned self] in self.start() }
    }

    private func received(_ bytes: [UInt8], endpoint: Int) {
        let chunk: StoreSnapshotChunk
        do {
            chunk = try StoreSnapshotChunk(protobuf: bytes)
        } catch {
            return fail("snapshot save: a chunk from \(client.endpoints[endpoint]) does not decode: \(error)")
        }
        guard chunk.offset == receivedBytes else {
            return fail("snapshot save: a chunk starts at byte \(chunk.offset), expected \(receivedBytes); save again")
        }
        guard chunk.offset + UInt64(chunk.data.count) <= chunk.totalBytes else {
            return fail("snapshot save: a chunk ends at byte \(chunk.offset + UInt64(chunk.data.count)), past the announced \(chunk.totalBytes) bytes")
        }
        // The failure comes back as a value: a typed-throws closure here crashes Swift 6.3.1's IRGen.
        let writeFailure: StorageError? = chunk.data.withUnsafeBytes { (raw) -> StorageError? in
            do throws(StorageError) {
                try FileSystem.writeAll(descriptor, raw, offsetBytes: Int(receivedBytes), path: temporaryPath)
                return nil
            } catch {
                return error
            }
        }
        if let writeFailure {
            return fail("snapshot save: cannot write \(temporaryPath): \(writeFailure)")
        }
        crc = chunk.data.withUnsafeBytes { CRC32C.checksum($0, continuing: crc) }
        receivedBytes += UInt64(chunk.data.count)
        guard chunk.last else { return }
        guard receivedBytes == chunk.totalBytes else {
            return fail("snapshot save: the last chunk arrived after \(receivedBytes) of \(chunk.totalBytes) bytes; save again")
        }
        guard crc == chunk.crc32c else {
            return fail("snapshot save: the CRC-32C of the received bytes is \(hex(crc)) but the member says \(hex(chunk.crc32c)): the snapshot was damaged in transit; save again")
        }
        do {
            try FileSystem.fullSync(descriptor, path: temporaryPath)
            FileSystem.closeFile(descriptor)
            descriptor = -1
            try FileSystem.rename(temporaryPath, to: path)
            try FileSystem.syncDirectory(Self.directory(of: path))
        } catch {
            return fail("snapshot save: cannot finish \(path): \(error)")
        }
        let address = client.endpoints[endpoint]
        client.preferredEndpoint = endpoint
        finish(.success(StoreSnapshotInfo(
            path: path, sizeBytes: receivedBytes, revision: chunk.revision, raftIndex: chunk.raftIndex, crc32c: crc,
            endpoint: address)))
    }

    private func hex(_ value: UInt32) -> String {
        let text = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - text.count)) + text
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private func fail(_ message: String, code: StatusCode? = nil) {
        finish(.failure(StoreClientError(.snapshot, message, code: code, endpoints: client.endpoints)))
    }

    private func finish(_ result: Result<StoreSnapshotInfo, StoreClientError>) {
        guard !finished else { return }
        finished = true
        pauseTimer?.cancel()
        pauseTimer = nil
        if descriptor >= 0 {
            FileSystem.closeFile(descriptor)
            descriptor = -1
        }
        if case .failure = result { try? FileSystem.removeFile(temporaryPath) }
        completion(result)
    }
}
