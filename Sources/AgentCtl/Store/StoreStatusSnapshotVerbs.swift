import ArgumentParser
import Foundation
import Raft
import Wire

/// `agentctl store status`
struct StoreStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "One row per member: leader, term, indexes, revision, data size, errors.",
        discussion: "The members come from `member list`; a member that does not answer gets a row with the error.")

    @OptionGroup var global: StoreGlobalOptions

    struct Row {
        var endpoint: String
        var member: Member
        var status: StatusResponse?
        var error: String?
    }

    func run() async throws {
        try await runStoreVerb {
            let members = try await global.withClient { client in try await client.memberList().members }
            // Members that have not announced a client address yet are found among --endpoints.
            var byMember: [UInt64: (endpoint: SocketAddress, status: StatusResponse)] = [:]
            let known = Set(members.compactMap { try? SocketAddress(parsing: $0.clientAddress) })
            for endpoint in try global.endpointList() where !known.contains(endpoint) {
                if let status = try? await global.withClient(endpoints: [endpoint], { client in try await client.status(endpoint) }),
                    let memberID = status.header?.memberID
                {
                    byMember[memberID] = (endpoint, status)
                }
            }
            var rows: [Row] = []
            for member in members {
                guard let address = try? SocketAddress(parsing: member.clientAddress) else {
                    if let found = byMember[member.id] {
                        rows.append(Row(endpoint: found.endpoint.description, member: member, status: found.status))
                    } else {
                        rows.append(Row(endpoint: "-", member: member, error: "no client address known (has the member started? add its address to --endpoints)"))
                    }
                    continue
                }
                do {
                    let status = try await global.withClient(endpoints: [address]) { client in try await client.status(address) }
                    rows.append(Row(endpoint: address.description, member: member, status: status))
                } catch let failure as StoreCommandFailure {
                    rows.append(Row(endpoint: address.description, member: member, error: failure.message))
                }
            }
            switch global.output {
            case .text: printStatusTable(rows)
            case .json: Output.json(["members": rows.map(statusJSON)])
            }
            if rows.allSatisfy({ $0.status == nil }) {
                throw StoreCommandFailure("no member answered the status request")
            }
        }
    }

    private func printStatusTable(_ rows: [Row]) {
        let table = rows.map { row -> [String] in
            let id = StoreMemberIdentity.format(row.member.id)
            guard let status = row.status else {
                return [row.endpoint, id, row.member.name, "-", row.member.isLearner ? "true" : "false", "-", "-", "-", "-", "-", row.error ?? ""]
            }
            return [
                row.endpoint, id, row.member.name, status.leader == row.member.id ? "true" : "false",
                status.isLearner ? "true" : "false", String(status.raftTerm), String(status.raftIndex),
                String(status.raftAppliedIndex), String(status.header?.revision ?? 0), humanBytes(status.dataSizeBytes),
                status.errors.joined(separator: "; "),
            ]
        }
        printTable(
            header: ["ENDPOINT", "ID", "NAME", "IS LEADER", "IS LEARNER", "RAFT TERM", "RAFT INDEX", "APPLIED INDEX", "REVISION", "DATA SIZE", "ERRORS"],
            rows: table)
    }

    private func statusJSON(_ row: Row) -> [String: Any] {
        var object: [String: Any] = ["endpoint": row.endpoint, "member": memberJSON(row.member)]
        if let error = row.error { object["error"] = error }
        if let status = row.status {
            object["status"] = [
                "name": status.name, "version": status.version, "leader": StoreMemberIdentity.format(status.leader),
                "is_leader": status.leader == row.member.id, "is_learner": status.isLearner,
                "raft_term": status.raftTerm, "raft_index": status.raftIndex,
                "raft_applied_index": status.raftAppliedIndex, "raft_commit_index": status.raftCommitIndex,
                "revision": status.header?.revision ?? 0, "data_size_bytes": status.dataSizeBytes,
                "key_count": status.keyCount, "errors": status.errors,
            ] as [String: Any]
        }
        return object
    }
}

/// humanBytes prints a size the way etcdctl's status table does (kB, MB with one decimal).
func humanBytes(_ bytes: Int64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1000 && unit < units.count - 1 {
        value /= 1000
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}

/// `agentctl store snapshot save|restore`
struct StoreSnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Save the store to a file, or build a member's data folder from one.",
        subcommands: [Save.self, Restore.self])

    struct Save: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "save", abstract: "Stream the store state from a member into FILE (checked with CRC-32C).")
        @Argument(help: "The file to write (replaced only when the new snapshot is complete).") var file: String
        @OptionGroup var global: StoreGlobalOptions

        func validate() throws {
            guard !file.isEmpty else { throw ValidationError("FILE is empty; give the path to write") }
        }

        func run() async throws {
            try await runStoreVerb {
                let info = try await global.withClient { client in try await client.snapshot(to: file) }
                switch global.output {
                case .text:
                    Output.line("Snapshot saved at \(info.path) (revision \(info.revision), Raft index \(info.raftIndex), \(info.sizeBytes) bytes, from \(info.endpoint))")
                case .json:
                    Output.json([
                        "path": info.path, "size_bytes": info.sizeBytes, "revision": info.revision, "raft_index": info.raftIndex,
                        "crc32c": info.crc32c, "endpoint": info.endpoint.description,
                    ])
                }
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore",
            abstract: "Build a new member data folder from a snapshot file (every member of the new cluster, same file and --initial-cluster).",
            discussion: """
                Works offline, like etcdutl. Then start each member with `agentctl store run` using the same
                --name, --data-dir and --initial-cluster.
                """)
        @Argument(help: "The snapshot file from `snapshot save`.") var file: String
        @Option(name: .customLong("data-dir"), help: "The new data folder (must not exist, or be empty).") var dataDirectory: String
        @Option(help: "This member's name; it must appear in --initial-cluster.") var name: String
        @Option(name: .customLong("initial-cluster"), help: "Every member of the new cluster as NAME=PEER_HOST:PORT, comma-separated.")
        var initialCluster: String
        @Option(name: .customLong("initial-cluster-token"), help: "Accepted for etcdutl compatibility; Skiff derives the cluster id from the member names.")
        var initialClusterToken: String?
        @Option(name: [.short, .customLong("output")], help: "Output format: text or json.") var output: OutputFormat = .text

        func run() async throws {
            try await runStoreVerb {
                let cluster: [(name: String, peerAddress: SocketAddress)]
                do {
                    cluster = try StoreMemberConfiguration.parseInitialCluster(initialCluster)
                } catch {
                    throw StoreCommandFailure("\(error)")
                }
                let result = try StoreSnapshotRestore.restore(
                    snapshotPath: file, dataDirectory: dataDirectory, name: name, initialCluster: cluster)
                if cluster.count % 2 == 0, let message = evenVoterWarning(voters: cluster.count) { warn(message) }
                switch output {
                case .text:
                    Output.line("Restored \(file) into \(dataDirectory) for member \(name) (\(StoreMemberIdentity.format(result.memberID))): revision \(result.revision), \(result.keyCount) keys, Raft index \(result.raftIndex)")
                    Output.line("Start it with: agentctl store run --name \(name) --data-dir \(dataDirectory) --initial-cluster \(initialCluster) --peer-listen \(cluster.first { $0.name == name }!.peerAddress) --listen HOST:PORT")
                case .json:
                    Output.json([
                        "data_dir": dataDirectory, "member_id": StoreMemberIdentity.format(result.memberID), "revision": result.revision,
                        "key_count": result.keyCount, "raft_index": result.raftIndex, "members": result.members.map(memberJSON),
                    ])
                }
            }
        }
    }
}
