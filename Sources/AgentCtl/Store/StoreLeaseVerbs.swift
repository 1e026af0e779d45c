import ArgumentParser
import Foundation
import Raft

/// `agentctl store lease grant|revoke|list|timetolive|keep-alive`
struct StoreLease: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lease", abstract: "Grant, revoke, list, inspect and renew leases.",
        subcommands: [Grant.self, Revoke.self, List.self, TimeToLive.self, KeepAlive.self])

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "grant", abstract: "Create a lease with a time to live.")
        @Argument(help: "Time to live in seconds.") var ttl: Int64
        @OptionGroup var global: StoreGlobalOptions

        func validate() throws {
            guard ttl > 0 else { throw ValidationError("TTL \(ttl) must be a positive number of seconds") }
        }

        func run() async throws {
            try await runStoreVerb {
                let response = try await global.withClient { client in try await client.leaseGrant(ttlSeconds: ttl) }
                if !response.error.isEmpty { throw StoreCommandFailure("lease grant: \(response.error)") }
                switch global.output {
                case .text: Output.line("lease \(Output.hexID(response.id)) granted with TTL(\(response.ttl)s)")
                case .json: Output.json(["header": Output.header(response.header), "id": Output.hexID(response.id), "ttl": response.ttl])
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke", abstract: "End a lease and delete its keys.")
        @Argument(help: "The lease id (hexadecimal, as `lease grant` printed it).") var id: String
        @OptionGroup var global: StoreGlobalOptions

        func validate() throws { _ = try parseHexID(id, what: "lease id") }

        func run() async throws {
            try await runStoreVerb {
                let leaseID = Int64(bitPattern: try parseHexID(id, what: "lease id"))
                let response = try await global.withClient { client in try await client.leaseRevoke(leaseID) }
                switch global.output {
                case .text: Output.line("lease \(Output.hexID(leaseID)) revoked")
                case .json: Output.json(["header": Output.header(response.header), "id": Output.hexID(leaseID)])
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the live leases.")
        @OptionGroup var global: StoreGlobalOptions

        func run() async throws {
            try await runStoreVerb {
                let response = try await global.withClient { client in try await client.leases() }
                switch global.output {
                case .text:
                    Output.line("found \(response.leases.count) leases")
                    for lease in response.leases { Output.line(Output.hexID(lease.id)) }
                case .json:
                    Output.json(["header": Output.header(response.header), "leases": response.leases.map { Output.hexID($0.id) }])
                }
            }
        }
    }

    struct TimeToLive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "timetolive", abstract: "Show a lease's remaining time.")
        @Argument(help: "The lease id (hexadecimal).") var id: String
        @Flag(help: "Also list the keys attached to the lease.") var keys = false
        @OptionGroup var global: StoreGlobalOptions

        func validate() throws { _ = try parseHexID(id, what: "lease id") }

        func run() async throws {
            try await runStoreVerb {
                let leaseID = Int64(bitPattern: try parseHexID(id, what: "lease id"))
                let response = try await global.withClient { client in try await client.leaseTimeToLive(leaseID, keys: keys) }
                switch global.output {
                case .text:
                    if response.ttl < 0 {
                        Output.line("lease \(Output.hexID(leaseID)) already expired")
                        return
                    }
                    var line = "lease \(Output.hexID(leaseID)) granted with TTL(\(response.grantedTtl)s), remaining(\(response.ttl)s)"
                    if keys { line += ", attached keys(\(response.keys.map(StoreText.display).joined(separator: ", ")))" }
                    Output.line(line)
                case .json:
                    var object: [String: Any] = [
                        "header": Output.header(response.header), "id": Output.hexID(leaseID), "ttl": response.ttl,
                        "granted_ttl": response.grantedTtl,
                    ]
                    if keys { object["keys"] = response.keys.map(StoreText.display) }
                    Output.json(object)
                }
            }
        }
    }

    struct KeepAlive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "keep-alive", abstract: "Renew a lease every third of its TTL until Ctrl-C (or --once).")
        @Argument(help: "The lease id (hexadecimal).") var id: String
        @Flag(help: "Renew once and exit.") var once = false
        @OptionGroup var global: StoreGlobalOptions

        func validate() throws { _ = try parseHexID(id, what: "lease id") }

        func run() async throws {
            try await runStoreVerb {
                let leaseID = Int64(bitPattern: try parseHexID(id, what: "lease id"))
                try await global.withClient { client in
                    while true {
                        let response = try await client.leaseKeepAlive(leaseID)
                        if response.ttl <= 0 {
                            throw StoreCommandFailure("lease \(Output.hexID(leaseID)) expired or was revoked")
                        }
                        switch global.output {
                        case .text: Output.line("lease \(Output.hexID(leaseID)) keepalived with TTL(\(response.ttl))")
                        case .json: Output.json(["header": Output.header(response.header), "id": Output.hexID(leaseID), "ttl": response.ttl])
                        }
                        if once { return }
                        let pauseSeconds = max(response.ttl / 3, 1)
                        try await Task.sleep(for: .seconds(pauseSeconds))
                    }
                }
            }
        }
    }
}
