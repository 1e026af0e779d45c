import ArgumentParser
import Foundation
import Raft

/// `agentctl store watch KEY`
struct StoreWatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print changes to a key or prefix until Ctrl-C (or --count events).",
        discussion: "Text output per event: PUT or DELETE, the key, and for a put the value (etcdctl's format).")

    @Argument(help: "The key, or the prefix with --prefix.") var key: String
    @Flag(help: "Watch every key that starts with KEY.") var prefix = false
    @Option(help: "Start from this revision (0: from now); older events are replayed.") var rev: Int64 = 0
    @Flag(name: .customLong("prev-kv"), help: "Also print the previous key and value of each event.") var previousKeyValue = false
    @Option(help: "Exit after this many events (0: run until Ctrl-C).") var count: Int = 0
    @OptionGroup var global: StoreGlobalOptions

    func validate() throws {
        guard !key.isEmpty || prefix else {
            throw ValidationError("KEY is empty; give a key, or --prefix with \"\" to watch every key")
        }
        guard rev >= 0 else { throw ValidationError("--rev \(rev) must be 0 (from now) or a positive revision") }
        guard count >= 0 else { throw ValidationError("--count \(count) must be 0 (no limit) or positive") }
    }

    func run() async throws {
        try await runStoreVerb {
            var request = WatchCreateRequest(key: bytes(key), startRevision: rev, prevKv: previousKeyValue)
            if prefix {
                let interval = StoreKeys.prefixInterval(bytes(key))
                request.key = interval.key
                request.rangeEnd = interval.rangeEnd
            }
            try await global.withClient { client in
                var seen = 0
                for try await response in client.watchResponses(request) {
                    if response.canceled {
                        throw StoreCommandFailure("watch canceled by the store: \(response.cancelReason)"
                            + (response.compactRevision > 0 ? " (history starts at revision \(response.compactRevision); watch again with --rev \(response.compactRevision) or later)" : ""))
                    }
                    for event in response.events {
                        printEvent(event, header: response.header)
                        seen += 1
                        if count > 0 && seen >= count { return }
                    }
                }
            }
        }
    }

    private func printEvent(_ event: Event, header: ResponseHeader?) {
        let keyValue = event.kv ?? KeyValue()
        switch global.output {
        case .text:
            Output.line(event.type == .put ? "PUT" : "DELETE")
            Output.line(StoreText.display(keyValue.key))
            if event.type == .put { Output.line(StoreText.display(keyValue.value)) }
            if let previous = event.prevKv {
                Output.line(StoreText.display(previous.key))
                Output.line(StoreText.display(previous.value))
            }
        case .json:
            var object: [String: Any] = [
                "type": event.type == .put ? "PUT" : "DELETE", "kv": Output.keyValue(keyValue, withValue: event.type == .put),
                "header": Output.header(header),
            ]
            if let previous = event.prevKv { object["prev_kv"] = Output.keyValue(previous) }
            Output.json(object)
        }
    }
}

/// `agentctl store txn` (reads the transaction from stdin)
struct StoreTxn: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "txn",
        abstract: "Run a transaction read from stdin in etcdctl's syntax.",
        discussion: """
            Three parts separated by blank lines: compares, operations if they all hold, operations otherwise.
              mod("/config") = "5"
              value("/owner") != "me"

              put /config "new value"
              get /owner

              del /lock
            Compare targets: value, mod, create, version, lease; operators =, !=, <, >.
            Operations: put KEY VALUE [--lease=HEX_ID], get KEY [END] [--prefix], del KEY [END] [--prefix].
            Prints SUCCESS or FAILURE, then each operation's result.
            """)

    @OptionGroup var global: StoreGlobalOptions

    func run() async throws {
        try await runStoreVerb {
            let input = FileHandle.standardInput.readDataToEndOfFile()
            guard let text = String(data: input, encoding: .utf8) else {
                throw StoreCommandFailure("txn: stdin is not UTF-8 text; write the transaction as text (use \\xNN escapes for binary bytes)")
            }
            let request = try TxnScript.parse(text)
            let response = try await global.withClient { client in try await client.txn(request) }
            printTxn(response)
        }
    }

    private func printTxn(_ response: TxnResponse) {
        switch global.output {
        case .text:
            Output.line(response.succeeded ? "SUCCESS" : "FAILURE")
            for operation in response.responses {
                Output.line("")
                if let put = operation.responsePut {
                    Output.line("OK")
                    if let previous = put.prevKv {
                        Output.line(StoreText.display(previous.key))
                        Output.line(StoreText.display(previous.value))
                    }
                } else if let range = operation.responseRange {
                    printRange(range, keysOnly: false, countOnly: false, valuesOnly: false, output: .text)
                } else if let delete = operation.responseDeleteRange {
                    Output.line(String(delete.deleted))
                }
            }
        case .json:
            let responses: [[String: Any]] = response.responses.map { operation in
                if let put = operation.responsePut {
                    var object: [String: Any] = ["type": "put"]
                    if let previous = put.prevKv { object["prev_kv"] = Output.keyValue(previous) }
                    return object
                }
                if let range = operation.responseRange {
                    return ["type": "get", "count": range.count, "more": range.more, "kvs": range.kvs.map { Output.keyValue($0) }]
                }
                if let delete = operation.responseDeleteRange {
                    return ["type": "del", "deleted": delete.deleted]
                }
                return ["type": "txn"]
            }
            Output.json(["header": Output.header(response.header), "succeeded": response.succeeded, "responses": responses])
        }
    }
}
