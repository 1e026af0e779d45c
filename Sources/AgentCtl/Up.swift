import Api
import ArgumentParser
import Foundation
import Logging
import Raft
import Wire

/// `agentctl up`: the local single-node cluster with embedded defaults (what `scripts/cluster`
/// runs). Today that is one store member; each component joins it as it is built.
struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a local single-node cluster in the foreground (Ctrl-C stops it).")

    @Option(help: "Folder for the cluster's data and credentials.")
    var dataDir = ".skiff/local"
    @Option(help: "host:port of the store's client port.")
    var storeListen = "127.0.0.1:2379"
    @Option(help: "host:port of the store's peer port.")
    var storePeerListen = "127.0.0.1:2380"
    @Option(help: "host:port of the API server's binary protocol.")
    var apiListen = "127.0.0.1:6440"
    @Option(help: "host:port of the API server's HTTPS/JSON door (kubectl).")
    var secureListen = "127.0.0.1:6443"
    @Option(help: "Extra names (DNS names or IP addresses) for the serving certificate, comma-separated.")
    var apiserverNames = ""
    @Option(help: "Simulated nodes to start (agentctl run hollow-nodes) until node agents exist; 0 for none.")
    var hollowNodes = 0
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func run() async throws {
        _ = try bootstrapLogging(level: logLevel, label: "skiff.up")
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let token = try Self.localToken(in: dataDir, file: "store-token")
        let client = try SocketAddress(parsing: storeListen)
        let peer = try SocketAddress(parsing: storePeerListen)
        let configuration = StoreMemberConfiguration(
            name: "local", dataDirectory: dataDir + "/store", clientAddress: client, peerAddress: peer,
            initialCluster: [("local", peer)], token: token)
        let member = try await StoreMember.start(configuration)
        let adminToken = try Self.localToken(in: dataDir, file: "admin-token")
        let apiAddress = try SocketAddress(parsing: apiListen)
        // Components authenticate as the users the default RBAC roles are bound to.
        let schedulerToken = try Self.localToken(in: dataDir, file: "scheduler-token")
        let controllerManagerToken = try Self.localToken(in: dataDir, file: "controller-manager-token")
        let admin = StaticTokenAuthenticator(users: [
            adminToken: UserInfo(name: "admin", uid: "admin", groups: ["system:masters"]),
            schedulerToken: UserInfo(name: "system:kube-scheduler", uid: "system:kube-scheduler", groups: []),
            controllerManagerToken: UserInfo(name: "system:kube-controller-manager", uid: "system:kube-controller-manager", groups: []),
        ])
        let serviceAccountKeyPath = dataDir + "/service-account.key"
        let serviceAccountKey = try Self.localKey(at: serviceAccountKeyPath)
        let secureAddress = try SocketAddress(parsing: secureListen)
        let pki = try ClusterPKI.ensure(
            in: dataDir + "/pki", serverNames: apiserverNames.split(separator: ",").map(String.init) + [secureAddress.host])
        var apiConfiguration = ApiServerConfiguration(
            listen: apiAddress, storeEndpoints: [client], storeToken: token, identity: "apiserver",
            authenticators: AuthenticatorChain([ClientCertificateAuthenticator(), admin]))
        apiConfiguration.serviceAccountSigningKey = serviceAccountKey
        apiConfiguration.https = HTTPSConfiguration(
            listen: secureAddress, certificateChainPEM: pki.serverCertificatePEM, privateKeyPEM: pki.serverKeyPEM,
            clientCAPEM: pki.caCertificatePEM)
        let apiServer = try await ApiServer.start(apiConfiguration)
        let kubeconfigPath = URL(fileURLWithPath: dataDir + "/kubeconfig").standardizedFileURL.path
        let kubeconfig = Kubeconfig(
            server: "https://\(Self.urlHost(secureAddress.host)):\(secureAddress.port)", caCertificatePEM: pki.caCertificatePEM,
            userName: ClusterPKI.adminUser,
            credential: .clientCertificate(certificatePEM: pki.adminCertificatePEM, keyPEM: pki.adminKeyPEM))
        try ClusterPKI.writeSecret(kubeconfig.rendered(), to: kubeconfigPath)
        // The scheduler and the controller manager run as processes of their own, as in
        // Kubernetes, talking to the API server only; they stop when this process does.
        var components = [
            try ChildComponent.start(
                "scheduler", dataDir: dataDir,
                ["run", "scheduler", "--api", apiAddress.description, "--token-file", dataDir + "/scheduler-token", "--name", "scheduler"]),
            try ChildComponent.start(
                "controller-manager", dataDir: dataDir,
                [
                    "run", "controller-manager", "--api", apiAddress.description, "--token-file", dataDir + "/controller-manager-token",
                    "--name", "controller-manager", "--service-account-private-key-file", serviceAccountKeyPath,
                    "--hostpath-provisioner-directory", URL(fileURLWithPath: dataDir + "/volumes").standardizedFileURL.path,
                ]),
        ]
        if hollowNodes > 0 {
            components.append(try ChildComponent.start(
                "hollow-nodes", dataDir: dataDir,
                ["run", "hollow-nodes", "--api", apiAddress.description, "--token-file", dataDir + "/admin-token", "--count", String(hollowNodes)]))
        }
        let tokenPath = dataDir + "/store-token"
        // Written unbuffered so that it shows at once when stdout is a file or a pipe.
        FileHandle.standardOutput.write(Data("""
            Skiff local cluster is up.
              store: \(client) (token in \(tokenPath))
              API server: https://\(secureAddress) for kubectl, \(apiAddress) for Skiff's binary protocol (admin token in \(dataDir)/admin-token)
            Point kubectl at it:
              export KUBECONFIG=\(kubeconfigPath)
            Try:
              kubectl get namespaces
              .build/release/agentctl store put /hello world --token-file \(tokenPath) --endpoints \(client)
              .build/release/agentctl store get /hello --token-file \(tokenPath) --endpoints \(client)
            Scheduler and controller manager: logs in \(dataDir)/scheduler.log, \(dataDir)/controller-manager.log\(hollowNodes > 0 ? "; \(hollowNodes) hollow nodes (\(dataDir)/hollow-nodes.log)" : "").
            Ctrl-C stops it; data stays in \(dataDir).

            """.utf8))
        await waitForTermination()
        for component in components { component.stop() }
        await apiServer.stop()
        await member.stop()
    }

    /// A local signing key (32 random bytes), created once with mode 0600 and then reused.
    static func localKey(at path: String) throws -> [UInt8] {
        if let data = FileManager.default.contents(atPath: path), data.count >= 32 { return Array(data) }
        var generator = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        guard FileManager.default.createFile(atPath: path, contents: Data(key), attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot write the signing key \(path); check that the data folder is writable")
        }
        return key
    }

    /// A host as a URL writes it: IPv6 addresses in brackets.
    static func urlHost(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }

    /// A local credential file (the store token, the admin token): created once with 32 random
    /// bytes in hex, readable by the owner only, then reused so that restarts keep working.
    static func localToken(in folder: String, file: String) throws -> String {
        let path = folder + "/" + file
        if FileManager.default.fileExists(atPath: path) {
            return try TokenOptions.read(path, flag: "the local token file")
        }
        var generator = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        try token.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        return token
    }
}

/// ChildComponent is a control-plane component `agentctl up` runs as a child process of its own
/// binary, logging to `<data dir>/<name>.log`, ended by PID when `up` stops (and by itself if
/// `up` dies: --exit-with-parent).
struct ChildComponent {
    let name: String
    let process: Process

    static func start(_ name: String, dataDir: String, _ arguments: [String]) throws -> ChildComponent {
        let process = Process()
        // This very binary, however it was invoked.
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments + ["--exit-with-parent", String(getpid())]
        let logPath = dataDir + "/" + name + ".log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        do {
            try process.run()
        } catch {
            throw ValidationError("could not start the \(name) (\(process.executableURL!.path)): \(error)")
        }
        return ChildComponent(name: name, process: process)
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }
}
