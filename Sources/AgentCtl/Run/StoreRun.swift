import ArgumentParser
import Foundation
import Logging
import Raft
import Wire

/// `agentctl store run`: one store member, like `etcd`.
struct StoreRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one member of the store until SIGTERM or SIGINT.",
        discussion: """
            Example, a 3-member cluster on one machine (each in its own shell):
              agentctl store run --name m1 --data-dir /tmp/m1 --listen 127.0.0.1:2379 --peer-listen 127.0.0.1:2380 \\
                --initial-cluster m1=127.0.0.1:2380,m2=127.0.0.1:2480,m3=127.0.0.1:2580 --token-file token
            """)

    @Option(help: "This member's name; it must appear in --initial-cluster.")
    var name: String
    @Option(help: "Folder for the write-ahead log and snapshots; locked while the member runs.")
    var dataDir: String
    @Option(help: "host:port for clients (API servers, agentctl).")
    var listen: String = "127.0.0.1:2379"
    @Option(help: "host:port for the other members.")
    var peerListen: String = "127.0.0.1:2380"
    @Option(help: "Every member as NAME=PEER_HOST:PORT, comma-separated. Default: this member alone.")
    var initialCluster: String?
    @Option(help: "new: found a cluster; existing: join one after `agentctl store member add`.")
    var initialClusterState: String = "new"
    @OptionGroup var token: TokenOptions
    @Option(help: "Milliseconds per Raft tick (heartbeat interval); elections start after 10-20 ticks.")
    var tickMilliseconds: UInt64 = 100
    @Option(help: "Take a snapshot and compact the log every this many applied entries.")
    var snapshotEntries: UInt64 = 100_000
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"
    @Option(help: ArgumentHelp("Stop when the process with this PID exits (tests and benchmarks).", visibility: .hidden))
    var exitWithParent: Int32?

    func run() async throws {
        if let exitWithParent { stopWhenParentExits(exitWithParent) }
        let configuration = try makeConfiguration()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            return handler
        }
        let member = try await StoreMember.start(configuration)
        await waitForTermination()
        await member.stop()
    }

    func makeConfiguration() throws -> StoreMemberConfiguration {
        let client = try SocketAddress(parsing: listen)
        let peer = try SocketAddress(parsing: peerListen)
        let cluster = try StoreMemberConfiguration.parseInitialCluster(initialCluster ?? "\(name)=\(peerListen)")
        guard let state = StoreMemberConfiguration.ClusterState(rawValue: initialClusterState) else {
            throw ValidationError("--initial-cluster-state must be new or existing, not \(initialClusterState)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        var configuration = StoreMemberConfiguration(
            name: name, dataDirectory: dataDir, clientAddress: client, peerAddress: peer, initialCluster: cluster,
            token: try token.resolve())
        configuration.initialClusterState = state
        configuration.tickMilliseconds = tickMilliseconds
        configuration.snapshotEntries = snapshotEntries
        try configuration.validate()
        return configuration
    }
}

/// TokenOptions finds the store credential: --token, --token-file, $SKIFF_STORE_TOKEN, or the
/// local cluster's token file.
struct TokenOptions: ParsableArguments {
    @Option(help: "The store credential (prefer --token-file: arguments are visible to other users).")
    var token: String?
    @Option(help: "File holding the store credential.")
    var tokenFile: String?

    static let localTokenFile = ".skiff/local/store-token"

    func resolve() throws -> String {
        if let token, !token.isEmpty { return token }
        if let tokenFile { return try Self.read(tokenFile, flag: "--token-file") }
        if let environment = ProcessInfo.processInfo.environment["SKIFF_STORE_TOKEN"], !environment.isEmpty {
            return environment
        }
        if FileManager.default.fileExists(atPath: Self.localTokenFile) {
            return try Self.read(Self.localTokenFile, flag: "the local cluster's token file")
        }
        throw ValidationError("no store token: pass --token-file FILE (or --token, or set SKIFF_STORE_TOKEN)")
    }

    static func read(_ path: String, flag: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ValidationError("\(flag): cannot read \(path)")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw ValidationError("\(flag): \(path) is empty") }
        return token
    }
}

/// Waits for SIGTERM or SIGINT.
func waitForTermination() async {
    signal(SIGTERM, SIG_IGN)
    signal(SIGINT, SIG_IGN)
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let queue = DispatchQueue(label: "signals")
        let once = OnceFlag()
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                if once.claim() { continuation.resume() }
            }
            source.resume()
            sources.append(source)
        }
        SignalSources.keep(sources)
    }
}

/// Keeps signal sources alive for the life of the process.
enum SignalSources {
    nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []
    static func keep(_ new: [any DispatchSourceSignal]) { sources += new }
}

final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var claimed = false
    func claim() -> Bool {
        lock.withLock {
            if claimed { return false }
            claimed = true
            return true
        }
    }
}

/// Sends this process SIGTERM once `parent` is no longer its parent (it exited, even by a
/// crash): members a test or benchmark starts must not outlive it. Polled, because the kernel's
/// parent-death signal follows the spawning thread, which a thread pool may retire early.
func stopWhenParentExits(_ parent: Int32) {
    Task.detached {
        while getppid() == parent {
            try? await Task.sleep(for: .milliseconds(500))
        }
        kill(getpid(), SIGTERM)
    }
}
