import Api
import Foundation
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// ControlPlane is a whole cluster as real processes on loopback, for benchmarks and
/// integration tests: the store and API servers of an `ApiCluster`, plus the hollow nodes,
/// schedulers and controller managers asked for. Every process is started with
/// `--exit-with-parent` and ended by its PID in `stop()` (call it from `defer`); each
/// component's stderr goes to `<work folder>/<name>.log` when `logsToFiles` is set (tests), or
/// to this process's stderr (benchmarks).
public final class ControlPlane: @unchecked Sendable {
    // Safety of @unchecked Sendable: driven by one task at a time.
    public let cluster: ApiCluster
    /// A file holding the admin token, for the components' `--token-file`.
    public let tokenFile: String
    public let logsToFiles: Bool
    public private(set) var components: [ChildProcess] = []

    public init(apiServers: Int = 1, agentctl: String? = nil, logsToFiles: Bool = false) throws {
        cluster = try ApiCluster(apiServers: apiServers, agentctl: agentctl)
        tokenFile = cluster.store.workDirectory + "/admin-token"
        self.logsToFiles = logsToFiles
        try cluster.adminToken.write(toFile: tokenFile, atomically: true, encoding: .utf8)
    }

    public var agentctl: String { cluster.store.agentctl }
    public var adminToken: String { cluster.adminToken }
    public var workDirectory: String { cluster.store.workDirectory }

    /// The address of API server `index` (round robin past the last one).
    public func apiAddress(_ index: Int = 0) -> SocketAddress {
        cluster.apiAddresses[index % cluster.apiAddresses.count]
    }

    /// Starts the store and the API servers and waits until they serve.
    public func start() async throws {
        try cluster.start()
        try await cluster.waitUntilServing()
    }

    /// An admin client of API server `index`.
    public func client(identity: String, apiServer index: Int = 0, loop: EventLoop? = nil) -> ApiClient {
        ApiClient(address: apiAddress(index), token: adminToken, component: "harness", identity: identity, loop: loop)
    }

    /// Starts `agentctl run <component> --api … --token-file … <arguments>` named `name`.
    public func launch(_ component: String, name: String, apiServer index: Int = 0, arguments: [String]) throws -> ChildProcess {
        let child = try ChildProcess(
            name: name, executable: agentctl,
            arguments: [
                "run", component, "--api", apiAddress(index).description, "--token-file", tokenFile,
                "--exit-with-parent", String(getpid()),
            ] + arguments,
            logPath: logsToFiles ? logPath(name) : nil)
        components.append(child)
        return child
    }

    /// Starts `agentctl run hollow-nodes` and waits until its nodes are registered.
    @discardableResult
    public func startHollowNodes(
        name: String = "hollow-nodes", apiServer index: Int = 0, arguments: [String], timeoutSeconds: Double = 300
    ) throws -> ChildProcess {
        let child = try launch("hollow-nodes", name: name, apiServer: index, arguments: arguments)
        _ = try child.waitForLine(prefix: "hollow nodes ready: ", timeoutSeconds: timeoutSeconds)
        return child
    }

    /// Starts `agentctl run scheduler`; waits until it schedules unless told not to.
    @discardableResult
    public func startScheduler(
        name: String = "scheduler", apiServer index: Int = 0, arguments: [String], waitForLeading: Bool = true
    ) throws -> ChildProcess {
        let child = try launch("scheduler", name: name, apiServer: index, arguments: ["--name", name] + arguments)
        if waitForLeading { _ = try child.waitForLine(prefix: "scheduler is leading: ", timeoutSeconds: 120) }
        return child
    }

    /// Starts `agentctl run controller-manager`; waits until its controllers run (informers
    /// synced, and the Lease held with leader election) unless told not to.
    @discardableResult
    public func startControllerManager(
        name: String = "controller-manager", apiServer index: Int = 0, arguments: [String], waitForStart: Bool = true
    ) throws -> ChildProcess {
        let child = try launch("controller-manager", name: name, apiServer: index, arguments: ["--name", name] + arguments)
        if waitForStart { _ = try child.waitForLine(prefix: "controller manager is running: ", timeoutSeconds: 120) }
        return child
    }

    public func component(_ name: String) -> ChildProcess? {
        components.last { $0.name == name }
    }

    public func logPath(_ name: String) -> String { workDirectory + "/\(name).log" }

    /// The last lines of a component's log (with `logsToFiles`), for failure messages.
    public func logTail(_ name: String, lines: Int = 30) -> String {
        let text = (try? String(contentsOfFile: logPath(name), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Stops the components, newest first, then the API servers and the store.
    public func stop() {
        for child in components.reversed() { child.stop() }
        components.removeAll()
        cluster.stop()
    }

    deinit { stop() }
}
