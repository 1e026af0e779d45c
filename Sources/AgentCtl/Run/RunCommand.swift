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
        subcommands: [RunApiServer.self])
}

/// `agentctl run apiserver`: an API server in front of a store cluster. Several may share one store.
struct RunApiServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apiserver", abstract: "Run an API server (binary protocol) in front of the store.")

    @Option(help: "Store members' client addresses, comma-separated.")
    var store: String = "127.0.0.1:2379"
    @Option(help: "File holding the store token.")
    var storeTokenFile: String?
    @Option(help: "host:port for the binary API.")
    var listen: String = "127.0.0.1:6443"
    @Option(help: "Kubernetes token file: one `token,user,uid,\"group1,group2\"` per line.")
    var tokenAuthFile: String
    @Option(help: "This API server's name in logs and handshakes.")
    var name: String = "apiserver"
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"
    @Option(help: ArgumentHelp("Stop when the process with this PID exits (tests and benchmarks).", visibility: .hidden))
    var exitWithParent: Int32?

    func run() async throws {
        if let exitWithParent { stopWhenParentExits(exitWithParent) }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let tokens = try TokenFile.load(tokenAuthFile)
        let storeToken: String
        if let storeTokenFile {
            storeToken = try TokenOptions.read(storeTokenFile, flag: "--store-token-file")
        } else if let environment = ProcessInfo.processInfo.environment["SKIFF_STORE_TOKEN"], !environment.isEmpty {
            storeToken = environment
        } else {
            throw ValidationError("no store token: pass --store-token-file FILE (or set SKIFF_STORE_TOKEN)")
        }
        let endpoints = try store.split(separator: ",").map { try SocketAddress(parsing: String($0)) }
        let configuration = ApiServerConfiguration(
            listen: try SocketAddress(parsing: listen), storeEndpoints: endpoints, storeToken: storeToken, identity: name
        ) { token in tokens[token] }
        let server = try await ApiServer.start(configuration)
        await waitForTermination()
        await server.stop()
    }
}

/// TokenFile reads Kubernetes' static token file format.
enum TokenFile {
    static func load(_ path: String) throws -> [String: (user: String, groups: [String])] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ValidationError("--token-auth-file: cannot read \(path)")
        }
        var tokens: [String: (user: String, groups: [String])] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            var fields: [String] = []
            var current = ""
            var quoted = false
            for character in trimmed {
                if character == "\"" { quoted.toggle() } else if character == "," && !quoted {
                    fields.append(current)
                    current = ""
                } else { current.append(character) }
            }
            fields.append(current)
            guard fields.count >= 3, !fields[0].isEmpty, !fields[1].isEmpty else {
                throw ValidationError("--token-auth-file \(path) line \(number + 1): expected token,user,uid[,\"group1,group2\"]")
            }
            let groups = fields.count > 3 ? fields[3].split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } : []
            tokens[fields[0]] = (fields[1], groups)
        }
        guard !tokens.isEmpty else { throw ValidationError("--token-auth-file \(path) holds no token") }
        return tokens
    }
}
