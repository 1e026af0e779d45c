import ArgumentParser
import Foundation
import Logging
import Raft
import Wire

/// OutputFormat is `-o text` (for people, etcdctl's simple format) or `-o json` (one JSON
/// document per line, for scripts).
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}

/// StoreGlobalOptions are the flags every admin verb takes: where the store is, the credential,
/// the time limit and the output format.
struct StoreGlobalOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Store members as host:port, comma-separated (default: $SKIFF_STORE_ENDPOINTS, else 127.0.0.1:2379).",
        valueName: "host:port,..."))
    var endpoints: String?

    @OptionGroup var token: TokenOptions

    @Option(help: "Seconds a request may take, failing over between endpoints included.")
    var timeout: Double = 5

    @Option(name: [.short, .customLong("output")], help: "Output format: text or json.")
    var output: OutputFormat = .text

    static let defaultEndpoints = "127.0.0.1:2379"

    func validate() throws {
        guard timeout > 0, timeout <= 86_400 else {
            throw ValidationError("--timeout \(timeout) must be a number of seconds above 0 and at most 86400")
        }
    }

    /// endpointList parses --endpoints (or its environment default) into addresses.
    func endpointList() throws -> [SocketAddress] {
        let environment = ProcessInfo.processInfo.environment["SKIFF_STORE_ENDPOINTS"]
        let text: String
        let flag: String
        if let endpoints {
            (text, flag) = (endpoints, "--endpoints")
        } else if let environment, !environment.isEmpty {
            (text, flag) = (environment, "SKIFF_STORE_ENDPOINTS")
        } else {
            (text, flag) = (Self.defaultEndpoints, "--endpoints")
        }
        do {
            return try StoreKeys.parseEndpoints(text, flag: flag)
        } catch {
            throw ValidationError(error.message)
        }
    }

    var timeoutMilliseconds: UInt64 { UInt64((timeout * 1000).rounded(.up)) }

    /// makeClient builds a client for the verb; the caller closes it (see `withClient`).
    func makeClient(endpoints: [SocketAddress]? = nil) throws -> StoreClient {
        let addresses = try endpoints ?? endpointList()
        var options = StoreClient.Options()
        options.requestTimeoutMilliseconds = timeoutMilliseconds
        return StoreClient(
            endpoints: addresses, credential: try token.resolve(), component: "agentctl",
            identity: "agentctl-\(ProcessInfo.processInfo.processIdentifier)", options: options)
    }

    /// withClient runs `body` with a client and closes it afterwards; a `StoreClientError` is
    /// printed as "Error: ..." on stderr and the command exits with status 1.
    func withClient<Result>(endpoints: [SocketAddress]? = nil, _ body: (StoreClient) async throws -> Result) async throws -> Result {
        let client = try makeClient(endpoints: endpoints)
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch let error as StoreClientError {
            await client.close()
            throw StoreCommandFailure(error.message)
        } catch {
            await client.close()
            throw error
        }
    }
}

/// StoreCommandFailure ends a verb with "Error: message" on stderr and exit status 1, the way
/// etcdctl reports operating errors (bad flags get ArgumentParser's usage text instead).
struct StoreCommandFailure: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

extension StoreCommandFailure {
    /// report prints the failure and exits; used at the top of every verb's `run()`.
    static func exit(_ message: String) -> Never {
        FileHandle.standardError.write(Data(("Error: " + message + "\n").utf8))
        Foundation.exit(1)
    }
}

/// runStoreVerb is every verb's body: turn our failures into a clear message and exit status 1.
/// The wire layer's own log lines (a rejected handshake, a lost connection) would repeat the
/// verb's error in another form, so a verb process logs only critical events.
func runStoreVerb(_ body: () async throws -> Void) async throws {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = .critical
        return handler
    }
    do {
        try await body()
    } catch let failure as StoreCommandFailure {
        StoreCommandFailure.exit(failure.message)
    } catch let error as StoreClientError {
        StoreCommandFailure.exit(error.message)
    } catch let error as ValidationError {
        StoreCommandFailure.exit(error.message)
    }
}

/// warn prints a warning on stderr.
func warn(_ message: String) {
    FileHandle.standardError.write(Data(("warning: " + message + "\n").utf8))
}

/// Output writes what a verb prints, text or JSON, and flushes so `watch` lines appear at once
/// even when stdout is a pipe.
enum Output {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func json(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            preconditionFailure("JSON output built from strings, numbers, booleans, arrays and dictionaries only")
        }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    /// bytesFields renders bytes as `name` when they are plain text, else `name_base64`.
    static func bytesFields(_ name: String, _ bytes: [UInt8], into object: inout [String: Any]) {
        if StoreText.isPlainText(bytes) {
            object[name] = String(decoding: bytes, as: UTF8.self)
        } else {
            object[name + "_base64"] = Data(bytes).base64EncodedString()
        }
    }

    static func keyValue(_ keyValue: KeyValue, withValue: Bool = true) -> [String: Any] {
        var object: [String: Any] = [
            "create_revision": keyValue.createRevision, "mod_revision": keyValue.modRevision,
            "version": keyValue.version,
        ]
        bytesFields("key", keyValue.key, into: &object)
        if withValue { bytesFields("value", keyValue.value, into: &object) }
        if keyValue.lease != 0 { object["lease"] = hexID(keyValue.lease) }
        return object
    }

    static func header(_ header: ResponseHeader?) -> [String: Any] {
        guard let header else { return [:] }
        return [
            "cluster_id": StoreMemberIdentity.format(header.clusterID),
            "member_id": StoreMemberIdentity.format(header.memberID),
            "revision": header.revision, "raft_term": header.raftTerm,
        ]
    }

    /// hexID prints a lease id the way etcdctl does: 16 hexadecimal digits.
    static func hexID(_ id: Int64) -> String {
        StoreMemberIdentity.format(UInt64(bitPattern: id))
    }
}

/// parseHexID reads a lease or member id as printed by these verbs (hexadecimal, optional 0x).
func parseHexID(_ text: String, what: String) throws -> UInt64 {
    let digits = text.hasPrefix("0x") || text.hasPrefix("0X") ? String(text.dropFirst(2)) : text
    guard !digits.isEmpty, digits.count <= 16, let value = UInt64(digits, radix: 16), value != 0 else {
        throw ValidationError("\(what) \"\(text)\" is not an id as printed by agentctl (up to 16 hexadecimal digits, not 0)")
    }
    return value
}

/// bytes turns a command-line key or value into bytes (its UTF-8).
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
