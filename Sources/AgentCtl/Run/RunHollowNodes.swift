import Agents
import Api
import ArgumentParser
import Foundation
import Logging
import Wire

/// `agentctl run hollow-nodes`: N simulated nodes in one process (kubemark/kwok style) that
/// register, renew their leases and report bound pods Running, for testing and benchmarking the
/// control plane without containers.
struct RunHollowNodes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hollow-nodes",
        abstract: "Run simulated nodes that register, heartbeat and report their pods Running.",
        discussion: """
            Nodes are named <name-prefix><index>, get InternalIP 127.95.x.y and pod addresses from \
            127.96.0.0/16, and renew a Lease in kube-node-lease every --heartbeat-interval-seconds. \
            To simulate dead nodes, list their names, one a line, in --stop-heartbeat-file: listed \
            nodes stop renewing leases, reporting pods and finalizing deletions until removed. \
            The node authorizer keeps a node credential to one node, so this command needs a \
            token with wider rights (system:masters, such as the admin token).
            """)

    @Option(help: "host:port of the API server's binary protocol.")
    var api = "127.0.0.1:6443"
    @Option(help: "File holding the bearer token (default: the local cluster's admin token).")
    var tokenFile = ".skiff/local/admin-token"
    @Option(help: "Number of nodes.")
    var count = 1
    @Option(help: "Node names are this prefix followed by the index.")
    var namePrefix = "hollow-node-"
    @Option(help: "First index for addresses, so that two processes do not share them.")
    var startIndex = 0
    @Option(help: "CPU capacity of each node (a quantity: 4, 3500m).")
    var cpu = "4"
    @Option(help: "Memory capacity of each node (a quantity: 16Gi).")
    var memory = "16Gi"
    @Option(help: "Pods each node can run.")
    var pods = 110
    @Option(help: "Extra node labels: key=value,key=value.")
    var labels = ""
    @Option(help: "Spread the nodes over this many zones (label topology.kubernetes.io/zone=zone-<i mod N>); 0 for none.")
    var zones = 0
    @Option(help: "File listing nodes (one name a line) whose heartbeats stop; checked every second.")
    var stopHeartbeatFile: String?
    @Option(help: "Seconds between two renewals of a node's lease.")
    var heartbeatIntervalSeconds: Double = 10
    @Option(help: "leaseDurationSeconds written in the node leases.")
    var leaseDurationSeconds: Int32 = 40
    @Option(help: "Pod status writes and deletions in flight at once.")
    var maxInflight = 256
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"
    @Option(help: ArgumentHelp("Stop when the process with this PID exits (tests and benchmarks).", visibility: .hidden))
    var exitWithParent: Int32?

    func validate() throws {
        guard (1...65_535).contains(count) else { throw ValidationError("--count must be from 1 to 65535") }
        guard startIndex >= 0 else { throw ValidationError("--start-index must not be negative") }
        if let problem = NameRules.dnsSubdomainProblem(namePrefix + String(count - 1)) {
            throw ValidationError("--name-prefix \"\(namePrefix)\" does not make valid node names: \(problem)")
        }
        for (flag, text) in [("--cpu", cpu), ("--memory", memory)] {
            do {
                let value = try QuantityValue(parsing: text)
                guard value.milliUnits > 0 else { throw ValidationError("\(flag) must be positive, not \(text)") }
            } catch let error as QuantityError {
                throw ValidationError("\(flag): \(error)")
            }
        }
        guard pods > 0 else { throw ValidationError("--pods must be positive") }
        guard zones >= 0 else { throw ValidationError("--zones must not be negative") }
        guard heartbeatIntervalSeconds >= 0.1 else { throw ValidationError("--heartbeat-interval-seconds must be at least 0.1") }
        guard leaseDurationSeconds > 0 else { throw ValidationError("--lease-duration-seconds must be positive") }
        guard maxInflight > 0 else { throw ValidationError("--max-inflight must be positive") }
        _ = try Self.parseLabels(labels)
    }

    /// `key=value,key=value` with Kubernetes' label rules.
    static func parseLabels(_ text: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw ValidationError("--labels: \"\(item)\" is not key=value") }
            let key = String(parts[0]), value = String(parts[1])
            if let problem = NameRules.qualifiedNameProblem(key) { throw ValidationError("--labels: key \"\(key)\": \(problem)") }
            if let problem = NameRules.labelValueProblem(value) {
                throw ValidationError("--labels: value \"\(value)\" of \(key): \(problem)")
            }
            result[key] = value
        }
        return result
    }

    func run() async throws {
        if let exitWithParent { stopWhenParentExits(exitWithParent) }
        let logger = try bootstrapLogging(level: logLevel, label: "skiff.hollow-nodes")
        let token = try TokenOptions.read(tokenFile, flag: "--token-file")
        let address = try SocketAddress(parsing: api)
        var template = HollowNodeTemplate(count: count)
        template.namePrefix = namePrefix
        template.startIndex = startIndex
        template.cpu = Quantity(cpu)
        template.memory = Quantity(memory)
        template.pods = Quantity(String(pods))
        template.labels = try Self.parseLabels(labels)
        template.zones = zones
        var configuration = HollowNodes.Configuration(template: template)
        configuration.heartbeatIntervalMilliseconds = UInt64(heartbeatIntervalSeconds * 1000)
        configuration.leaseDurationSeconds = leaseDurationSeconds
        configuration.stopHeartbeatFile = stopHeartbeatFile
        configuration.maximumWritesInFlight = maxInflight
        let client = ApiClient(address: address, token: token, component: "hollow-nodes", identity: namePrefix)
        let nodes = HollowNodes(client: client, configuration: configuration, logger: logger)
        do {
            try await nodes.register()
        } catch {
            throw CommandFailure("registering \(count) nodes through \(address) failed: \(error.message)")
        }
        guard await nodes.start() else { throw CommandFailure("the pod and node informers stopped before listing") }
        logger.info("\(count) hollow nodes registered (\(template.name(0))…\(template.name(count - 1)))")
        FileHandle.standardOutput.write(Data("hollow nodes ready: \(count)\n".utf8))
        await waitForTermination()
        await nodes.stop()
        await client.close()
    }
}

/// Sets up logging to stderr at `level` (a Logger.Level name) and returns a logger.
func bootstrapLogging(level: String, label: String) throws -> Logger {
    guard let parsed = Logger.Level(rawValue: level) else {
        throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
    }
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = parsed
        return handler
    }
    return Logger(label: label)
}

/// CommandFailure is a command that could not do its work (not a usage mistake): its message
/// is printed without the usage text.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
