import ArgumentParser
import Raft

/// `agentctl store put KEY VALUE`
struct StorePut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put", abstract: "Write a key (prints OK).")

    @Argument(help: "The key.") var key: String
    @Argument(help: "The value.") var value: String
    @Option(help: ArgumentHelp("Attach the key to this lease (hexadecimal id from `lease grant`).", valueName: "id"))
    var lease: String?
    @Flag(name: .customLong("prev-kv"), help: "Print the previous key and value.") var previousKeyValue = false
    @OptionGroup var global: StoreGlobalOptions

    func validate() throws {
        guard !key.isEmpty else { throw ValidationError("KEY is empty; give a non-empty key") }
        if let lease { _ = try parseHexID(lease, what: "--lease") }
    }

    func run() async throws {
        try await runStoreVerb {
            let leaseID = try lease.map { Int64(bitPattern: try parseHexID($0, what: "--lease")) } ?? 0
            let response = try await global.withClient { client in
                try await client.put(bytes(key), bytes(value), lease: leaseID, previousKeyValue: previousKeyValue)
            }
            switch global.output {
            case .text:
                Output.line("OK")
                if let previous = response.prevKv {
                    Output.line(StoreText.display(previous.key))
                    Output.line(StoreText.display(previous.value))
                }
            case .json:
                var object: [String: Any] = ["header": Output.header(response.header)]
                if let previous = response.prevKv { object["prev_kv"] = Output.keyValue(previous) }
                Output.json(object)
            }
        }
    }
}

/// `agentctl store get KEY`
struct StoreGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Read a key, or every key under a prefix (key and value lines).")

    @Argument(help: "The key, or the prefix with --prefix.") var key: String
    @Flag(help: "Read every key that starts with KEY.") var prefix = false
    @Option(help: "Read as of this revision (0: now).") var rev: Int64 = 0
    @Option(help: "Return at most this many keys (0: no limit).") var limit: Int64 = 0
    @Flag(name: .customLong("keys-only"), help: "Print keys only.") var keysOnly = false
    @Flag(name: .customLong("count-only"), help: "Print only the number of keys.") var countOnly = false
    @Flag(name: .customLong("print-value-only"), help: "Print values only.") var printValueOnly = false
    @Flag(help: "Serve from the member asked, without a linearizable read barrier.") var serializable = false
    @OptionGroup var global: StoreGlobalOptions

    func validate() throws {
        guard !key.isEmpty || prefix else {
            throw ValidationError("KEY is empty; give a key, or --prefix with an empty KEY (\"\") to read every key")
        }
        guard rev >= 0 else { throw ValidationError("--rev \(rev) must be 0 (now) or a positive revision") }
        guard limit >= 0 else { throw ValidationError("--limit \(limit) must be 0 (no limit) or positive") }
        guard !(keysOnly && printValueOnly) else {
            throw ValidationError("--keys-only and --print-value-only exclude each other; pick one")
        }
    }

    func run() async throws {
        try await runStoreVerb {
            var request = RangeRequest(key: bytes(key), limit: limit, revision: rev)
            if prefix {
                let interval = StoreKeys.prefixInterval(bytes(key))
                request.key = interval.key
                request.rangeEnd = interval.rangeEnd
            }
            request.keysOnly = keysOnly
            request.countOnly = countOnly
            request.serializable = serializable
            let response = try await global.withClient { client in try await client.range(request) }
            printRange(response, keysOnly: keysOnly, countOnly: countOnly, valuesOnly: printValueOnly, output: global.output)
        }
    }
}

/// printRange prints a range answer in etcdctl's simple format or as JSON.
func printRange(_ response: RangeResponse, keysOnly: Bool, countOnly: Bool, valuesOnly: Bool, output: OutputFormat) {
    switch output {
    case .text:
        if countOnly {
            Output.line(String(response.count))
            return
        }
        for keyValue in response.kvs {
            if !valuesOnly { Output.line(StoreText.display(keyValue.key)) }
            if !keysOnly { Output.line(StoreText.display(keyValue.value)) }
        }
    case .json:
        Output.json([
            "header": Output.header(response.header), "count": response.count, "more": response.more,
            "kvs": response.kvs.map { Output.keyValue($0, withValue: !keysOnly) },
        ])
    }
}

/// `agentctl store ls PREFIX`
struct StoreList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List the keys under a prefix, one per line.",
        discussion: "Example: agentctl store ls /registry/pods/default")

    @Argument(help: "The prefix (\"\" or / for every key).") var prefix: String = ""
    @Option(help: "List as of this revision (0: now).") var rev: Int64 = 0
    @Option(help: "List at most this many keys (0: no limit).") var limit: Int64 = 0
    @OptionGroup var global: StoreGlobalOptions

    func validate() throws {
        guard rev >= 0 else { throw ValidationError("--rev \(rev) must be 0 (now) or a positive revision") }
        guard limit >= 0 else { throw ValidationError("--limit \(limit) must be 0 (no limit) or positive") }
    }

    func run() async throws {
        try await runStoreVerb {
            let response = try await global.withClient { client in
                try await client.getPrefix(bytes(prefix), revision: rev, limit: limit, keysOnly: true)
            }
            switch global.output {
            case .text:
                for keyValue in response.kvs { Output.line(StoreText.display(keyValue.key)) }
                if response.more {
                    warn("more than \(limit) keys under \(StoreText.display(bytes(prefix))) (\(response.count) in all); raise --limit to see them")
                }
            case .json:
                printRange(response, keysOnly: true, countOnly: false, valuesOnly: false, output: .json)
            }
        }
    }
}

/// `agentctl store del KEY`
struct StoreDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "del", abstract: "Delete a key, or every key under a prefix (prints the number deleted).")

    @Argument(help: "The key, or the prefix with --prefix.") var key: String
    @Flag(help: "Delete every key that starts with KEY.") var prefix = false
    @Flag(name: .customLong("prev-kv"), help: "Print the deleted keys and values.") var previousKeyValue = false
    @OptionGroup var global: StoreGlobalOptions

    func validate() throws {
        guard !key.isEmpty else {
            throw ValidationError("KEY is empty; give a key (an empty prefix would delete the whole store, which `del` refuses)")
        }
    }

    func run() async throws {
        try await runStoreVerb {
            let response = try await global.withClient { client in
                prefix
                    ? try await client.deletePrefix(bytes(key), previousKeyValues: previousKeyValue)
                    : try await client.delete(bytes(key), previousKeyValue: previousKeyValue)
            }
            switch global.output {
            case .text:
                Output.line(String(response.deleted))
                for previous in response.prevKvs {
                    Output.line(StoreText.display(previous.key))
                    Output.line(StoreText.display(previous.value))
                }
            case .json:
                Output.json([
                    "header": Output.header(response.header), "deleted": response.deleted,
                    "prev_kvs": response.prevKvs.map { Output.keyValue($0) },
                ])
            }
        }
    }
}

/// `agentctl store compact REV`
struct StoreCompact: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact", abstract: "Drop the history before a revision.")

    @Argument(help: "The revision to compact up to (see `agentctl store status`).") var revision: Int64
    @Flag(help: "Accepted for etcdctl compatibility: compaction is always complete.") var physical = false
    @OptionGroup var global: StoreGlobalOptions

    func validate() throws {
        guard revision > 0 else { throw ValidationError("REV \(revision) must be a positive revision") }
    }

    func run() async throws {
        try await runStoreVerb {
            let response = try await global.withClient { client in try await client.compact(revision, physical: physical) }
            switch global.output {
            case .text: Output.line("compacted revision \(revision)")
            case .json: Output.json(["header": Output.header(response.header), "compacted_revision": revision])
            }
        }
    }
}
