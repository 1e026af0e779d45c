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
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
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
        let admin = StaticTokenAuthenticator(users: [adminToken: UserInfo(name: "admin", uid: "admin", groups: ["system:masters"])])
        let secureAddress = try SocketAddress(parsing: secureListen)
        let pki = try ClusterPKI.ensure(
            in: dataDir + "/pki", serverNames: apiserverNames.split(separator: ",").map(String.init) + [secureAddress.host])
        var apiConfiguration = ApiServerConfiguration(
            listen: apiAddress, storeEndpoints: [client], storeToken: token, identity: "apiserver",
            authenticators: AuthenticatorChain([ClientCertificateAuthenticator(), admin]))
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
            Ctrl-C stops it; data stays in \(dataDir).

            """.utf8))
        await waitForTermination()
        await apiServer.stop()
        await member.stop()
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
