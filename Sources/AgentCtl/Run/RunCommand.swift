import Api
import ArgumentParser
import Foundation
import Logging
import Raft
import Wire

/// `agentctl run <component>`: start one control-plane component in the foreground.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a control-plane component in the foreground.",
        subcommands: [RunApiServer.self, RunScheduler.self, RunControllerManager.self, RunHollowNodes.self])
}

/// `agentctl run apiserver`: an API server in front of a store cluster. Several may share one store.
struct RunApiServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apiserver",
        abstract: "Run an API server (binary protocol, and HTTPS/JSON for kubectl) in front of the store.")

    @Option(help: "Store members' client addresses, comma-separated.")
    var store: String = "127.0.0.1:2379"
    @Option(help: "File holding the store token.")
    var storeTokenFile: String?
    @Option(help: "host:port for the binary API.")
    var listen: String = "127.0.0.1:6440"
    @Option(help: "host:port for HTTPS/JSON (kubectl), or `none`.")
    var secureListen: String = "127.0.0.1:6443"
    @Option(help: "PEM serving certificate for HTTPS (agentctl up makes one in <data dir>/pki/apiserver.crt).")
    var tlsCertFile: String?
    @Option(help: "PEM private key of --tls-cert-file.")
    var tlsPrivateKeyFile: String?
    @Option(help: "PEM CA whose client certificates are accepted over HTTPS (CN = user, O = groups).")
    var clientCaFile: String?
    @Option(help: "Kubernetes token file: one `token,user,uid,\"group1,group2\"` per line.")
    var tokenAuthFile: String?
    @Option(help: "Admission plugins for writes, comma-separated (Kubernetes names).")
    var enableAdmissionPlugins: String = AdmissionChain.defaultEnabled.joined(separator: ",")
    @Option(help: "Seconds of the NoExecute toleration of node.kubernetes.io/not-ready that DefaultTolerationSeconds gives pods without one.")
    var defaultNotReadyTolerationSeconds: Int64 = 300
    @Option(help: "Seconds of the NoExecute toleration of node.kubernetes.io/unreachable that DefaultTolerationSeconds gives pods without one.")
    var defaultUnreachableTolerationSeconds: Int64 = 300
    @Option(help: "Unsent bytes a client connection (binary or HTTPS) may hold before its watchers count as behind.")
    var connectionBufferBytes = 4 << 20
    @Option(help: "Milliseconds a watcher may stay behind before it is cut off (it relists).")
    var slowWatcherGraceMilliseconds: UInt64 = 2000
    @Option(help: "Events of history each kind's watch cache keeps; a watch from an older version gets 410 and relists.")
    var defaultWatchCacheSize = 10_000
    @Option(help: "File holding the key service-account tokens are signed with (the controller manager's --service-account-private-key-file); without it service-account tokens are not accepted.")
    var serviceAccountKeyFile: String?
    @Option(help: "This API server's name in logs and handshakes.")
    var name: String = "apiserver"
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"
    @Option(help: ArgumentHelp("Stop when the process with this PID exits (tests and benchmarks).", visibility: .hidden))
    var exitWithParent: Int32?

    func run() async throws {
        if let exitWithParent { stopWhenParentExits(exitWithParent) }
        _ = try bootstrapLogging(level: logLevel, label: "skiff.apiserver")
        let https = try httpsConfiguration()
        let authenticators = try Self.authenticators(tokenAuthFile: tokenAuthFile, clientCertificates: https?.clientCAPEM != nil)
        let storeToken: String
        if let storeTokenFile {
            storeToken = try TokenOptions.read(storeTokenFile, flag: "--store-token-file")
        } else if let environment = ProcessInfo.processInfo.environment["SKIFF_STORE_TOKEN"], !environment.isEmpty {
            storeToken = environment
        } else {
            throw ValidationError("no store token: pass --store-token-file FILE (or set SKIFF_STORE_TOKEN)")
        }
        let endpoints = try store.split(separator: ",").map { try SocketAddress(parsing: String($0)) }
        var configuration = ApiServerConfiguration(
            listen: try SocketAddress(parsing: listen), storeEndpoints: endpoints, storeToken: storeToken, identity: name,
            authenticators: authenticators)
        configuration.admissionPlugins = enableAdmissionPlugins.split(separator: ",").map(String.init)
        guard defaultNotReadyTolerationSeconds >= 0, defaultUnreachableTolerationSeconds >= 0 else {
            throw ValidationError("--default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds must not be negative")
        }
        configuration.admissionOptions.defaultNotReadyTolerationSeconds = defaultNotReadyTolerationSeconds
        configuration.admissionOptions.defaultUnreachableTolerationSeconds = defaultUnreachableTolerationSeconds
        guard connectionBufferBytes >= 4096 else { throw ValidationError("--connection-buffer-bytes must be at least 4096") }
        configuration.connectionBufferBytes = connectionBufferBytes
        configuration.slowWatcherGraceMilliseconds = slowWatcherGraceMilliseconds
        guard defaultWatchCacheSize >= 1 else {
            throw ValidationError("--default-watch-cache-size must be at least 1, not \(defaultWatchCacheSize)")
        }
        configuration.watchCacheSize = defaultWatchCacheSize
        if let serviceAccountKeyFile {
            configuration.serviceAccountSigningKey = try ServiceAccountKeyFile.read(serviceAccountKeyFile, flag: "--service-account-key-file")
        }
        configuration.https = https
        // HTTP watchers count as behind by the same measure as binary ones.
        configuration.https?.watchBufferBytes = connectionBufferBytes
        let server = try await ApiServer.start(configuration)
        await waitForTermination()
        await server.stop()
    }
}

extension RunApiServer {
    /// The authentication plugins: client certificates first (when a client CA is given), then
    /// the static token file (Kubernetes' CSV format).
    static func authenticators(tokenAuthFile path: String?, clientCertificates: Bool) throws -> AuthenticatorChain {
        var authenticators: [any Authenticator] = clientCertificates ? [ClientCertificateAuthenticator()] : []
        if let path {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("--token-auth-file: cannot read \(path)")
            }
            do {
                authenticators.append(try StaticTokenAuthenticator(parsing: text, file: path))
            } catch {
                throw ValidationError("--token-auth-file: \(error)")
            }
        }
        guard !authenticators.isEmpty else {
            throw ValidationError("no way to authenticate callers: pass --token-auth-file FILE and/or --client-ca-file FILE")
        }
        return AuthenticatorChain(authenticators)
    }

    /// The HTTPS door from --secure-listen and the TLS files; nil for `--secure-listen none`.
    func httpsConfiguration() throws -> HTTPSConfiguration? {
        guard secureListen != "none" else { return nil }
        guard let tlsCertFile, let tlsPrivateKeyFile else {
            throw ValidationError(
                "--secure-listen \(secureListen) needs --tls-cert-file and --tls-private-key-file (agentctl up makes them in .skiff/local/pki), or pass --secure-listen none")
        }
        func read(_ path: String, _ flag: String) throws -> String {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8), !text.isEmpty else {
                throw ValidationError("\(flag): cannot read \(path)")
            }
            return text
        }
        return HTTPSConfiguration(
            listen: try SocketAddress(parsing: secureListen), certificateChainPEM: try read(tlsCertFile, "--tls-cert-file"),
            privateKeyPEM: try read(tlsPrivateKeyFile, "--tls-private-key-file"),
            clientCAPEM: try clientCaFile.map { try read($0, "--client-ca-file") })
    }
}
