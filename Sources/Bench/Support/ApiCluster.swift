import Api
import Foundation
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// ApiCluster runs a store cluster plus API server processes on loopback, for benchmarks and
/// integration tests; stopped by PID with the work folder.
public final class ApiCluster: @unchecked Sendable {
    // Safety of @unchecked Sendable: driven by one task at a time.
    public let store: StoreCluster
    public let adminToken = "admin-\(UInt64.random(in: 1...UInt64.max))"
    /// A user with no groups: it can do only what RBAC objects grant it.
    public let userToken = "jane-\(UInt64.random(in: 1...UInt64.max))"
    public private(set) var apiAddresses: [SocketAddress] = []
    /// The HTTPS (kubectl) address of each API server.
    public private(set) var httpsAddresses: [SocketAddress] = []
    /// The cluster CA, serving and admin certificates, in `<work dir>/pki`.
    public let pki: ClusterPKI
    private var apiServers: [Process] = []

    /// Extra arguments for every `agentctl run apiserver`.
    public var apiServerArguments: [String] = []

    public init(storeMembers: Int = 1, apiServers count: Int = 1, agentctl: String? = nil) throws {
        store = try StoreCluster(memberCount: storeMembers, agentctl: agentctl)
        try "\(adminToken),admin,admin,\"system:masters\"\n\(userToken),jane,jane-uid\n".write(
            toFile: store.workDirectory + "/tokens.csv", atomically: true, encoding: .utf8)
        for _ in 0..<count {
            apiAddresses.append(SocketAddress(host: "127.0.0.1", port: try StoreCluster.freePort()))
            httpsAddresses.append(SocketAddress(host: "127.0.0.1", port: try StoreCluster.freePort()))
        }
        pki = try ClusterPKI.ensure(in: store.workDirectory + "/pki")
    }

    /// A kubeconfig file for API server `index` (mode 0600, in the work folder): the admin's
    /// client certificate by default, or a bearer token.
    public func writeKubeconfig(index: Int = 0, token: String? = nil, name: String = "kubeconfig") throws -> String {
        let path = store.workDirectory + "/" + name
        let credential: Kubeconfig.Credential = token.map { .token($0) }
            ?? .clientCertificate(certificatePEM: pki.adminCertificatePEM, keyPEM: pki.adminKeyPEM)
        let config = Kubeconfig(
            server: "https://\(httpsAddresses[index])", caCertificatePEM: pki.caCertificatePEM,
            userName: token == nil ? ClusterPKI.adminUser : "token-user", credential: credential)
        try ClusterPKI.writeSecret(config.rendered(), to: path)
        return path
    }

    public func start() throws {
        try store.start()
        for index in apiAddresses.indices {
            apiServers.append(try launchApiServer(index))
        }
    }

    private func launchApiServer(_ index: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: store.agentctl)
        process.arguments = arguments(forApiServer: index, name: "apiserver-\(index + 1)")
        let logPath = apiServerLogPath(index)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        return process
    }

    /// Where API server `index` writes its log.
    public func apiServerLogPath(_ index: Int) -> String {
        store.workDirectory + "/apiserver-\(index + 1).log"
    }

    /// The command line (after the executable) of API server `index`: binary protocol, HTTPS
    /// with the cluster's certificates, the token file, and `apiServerArguments`.
    public func arguments(forApiServer index: Int, name: String) -> [String] {
        [
            "run", "apiserver", "--store", store.endpoints.map(\.description).joined(separator: ","),
            "--store-token-file", store.workDirectory + "/token", "--listen", apiAddresses[index].description,
            "--secure-listen", httpsAddresses[index].description, "--tls-cert-file", pki.serverCertificatePath,
            "--tls-private-key-file", pki.serverKeyPath, "--client-ca-file", pki.caCertificatePath,
            "--token-auth-file", store.workDirectory + "/tokens.csv", "--name", name,
            "--exit-with-parent", String(getpid()),
        ] + apiServerArguments
    }

    /// Peak RSS (VmHWM, KiB) of each API server.
    public func apiServerPeakResidentKilobytes() -> [Int] {
        apiServers.compactMap { ProcessStatus.peakResidentKilobytes(pid: $0.processIdentifier) }
    }

    public func apiServerPIDs() -> [Int32] { apiServers.map(\.processIdentifier) }

    /// kill -9 of one API server.
    public func killApiServer(_ index: Int) {
        let process = apiServers[index]
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Waits until an admin client can list namespaces and read the default service account
    /// through every API server, and each answers ready (every watch cache loaded), as a user
    /// waits for /readyz. An API server that exits meanwhile fails the wait with its status and
    /// log, except one that lost its port: a port from `freePort()` is free only until another
    /// process binds it, so it gets fresh ports and another start (twice at most).
    public func waitUntilServing(seconds: Double = 30) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        for index in apiAddresses.indices {
            var restarts = 0
            while true {
                let address = apiAddresses[index]
                let client = ApiClient(address: address, token: adminToken, component: "harness", identity: "ready")
                defer { Task { await client.close() } }
                while true {
                    // The bootstrap objects exist (the default namespace's service account is the
                    // last one pods need), not only the listener, and every cache has loaded.
                    if (try? await client.list(Namespace.self)) != nil,
                        (try? await client.get(ServiceAccount.self, namespace: "default", name: "default")) != nil,
                        (try? await client.call("api.Readyz", ApiRequest()))?.status?.status == "Success"
                    {
                        break
                    }
                    if !apiServers[index].isRunning { break }
                    if Date() > deadline {
                        throw BenchmarkError("the API server at \(address) did not serve within \(seconds) s")
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                let process = apiServers[index]
                if process.isRunning { break }
                let log = (try? String(contentsOfFile: apiServerLogPath(index), encoding: .utf8)) ?? ""
                if log.contains("address already in use") && restarts < 2 {
                    restarts += 1
                    apiAddresses[index] = SocketAddress(host: "127.0.0.1", port: try StoreCluster.freePort())
                    httpsAddresses[index] = SocketAddress(host: "127.0.0.1", port: try StoreCluster.freePort())
                    apiServers[index] = try launchApiServer(index)
                    continue
                }
                throw BenchmarkError(
                    "the API server at \(address) exited with status \(process.terminationStatus): \(log.suffix(2000))")
            }
        }
    }

    public func stop() {
        for process in apiServers where process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        apiServers.removeAll()
        store.stop()
    }

    deinit { stop() }
}
