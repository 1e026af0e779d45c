import ArgumentParser
import Foundation
import Raft

/// `agentctl store member list|add|remove|promote`
struct StoreMemberCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "member", abstract: "List and change the store's members (one change at a time).",
        subcommands: [List.self, Add.self, Remove.self, Promote.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the members.")
        @OptionGroup var global: StoreGlobalOptions

        func run() async throws {
            try await runStoreVerb {
                let response = try await global.withClient { client in try await client.memberList() }
                switch global.output {
                case .text: printMemberTable(response.members)
                case .json: Output.json(["header": Output.header(response.header), "members": response.members.map(memberJSON)])
                }
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Add a member; then start it with --initial-cluster-state existing.")
        @Argument(help: "The new member's --name.") var name: String
        @Option(name: .customLong("peer-address"), help: ArgumentHelp("The new member's --peer-listen address.", valueName: "host:port"))
        var peerAddress: String
        @Flag(help: "Add it as a non-voting learner (promote it once it has caught up).") var learner = false
        @OptionGroup var global: StoreGlobalOptions

        func validate() throws {
            guard !name.isEmpty, name.utf8.count <= 63 else { throw ValidationError("NAME must be 1 to 63 characters") }
            do {
                _ = try StoreKeys.parseEndpoints(peerAddress, flag: "--peer-address")
            } catch {
                throw ValidationError(error.message)
            }
        }

        func run() async throws {
            try await runStoreVerb {
                let response = try await global.withClient { client in
                    try await client.memberAdd(name: name, peerAddress: peerAddress, isLearner: learner)
                }
                warnIfEvenVoterCount(response.members)
                let memberID = response.member?.id ?? StoreMemberIdentity.id(name: name)
                switch global.output {
                case .text:
                    Output.line("Member \(name) added to the cluster with ID \(StoreMemberIdentity.format(memberID))\(learner ? " as a learner" : "")")
                    let cluster = response.members.map { "\($0.name)=\($0.peerAddress)" }.joined(separator: ",")
                    Output.line("")
                    Output.line("Start it with:")
                    Output.line("  agentctl store run --name \(name) --peer-listen \(peerAddress) --listen HOST:PORT --data-dir DIR \\")
                    Output.line("    --initial-cluster \(cluster) --initial-cluster-state existing")
                case .json:
                    Output.json([
                        "header": Output.header(response.header), "member": memberJSON(response.member ?? Member()),
                        "members": response.members.map(memberJSON),
                    ])
                }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a member.")
        @Argument(help: "The member's id (hexadecimal, from `member list`) or name.") var member: String
        @OptionGroup var global: StoreGlobalOptions

        func run() async throws {
            try await runStoreVerb {
                let (memberID, response) = try await global.withClient { client in
                    let memberID = try await resolveMember(member, client)
                    return (memberID, try await client.memberRemove(memberID))
                }
                warnIfEvenVoterCount(response.members)
                switch global.output {
                case .text: Output.line("Member \(StoreMemberIdentity.format(memberID)) removed from the cluster")
                case .json:
                    Output.json([
                        "header": Output.header(response.header), "removed": StoreMemberIdentity.format(memberID),
                        "members": response.members.map(memberJSON),
                    ])
                }
            }
        }
    }

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "promote", abstract: "Make a learner a voting member.")
        @Argument(help: "The learner's id (hexadecimal) or name.") var member: String
        @OptionGroup var global: StoreGlobalOptions

        func run() async throws {
            try await runStoreVerb {
                let (memberID, response) = try await global.withClient { client in
                    let memberID = try await resolveMember(member, client)
                    return (memberID, try await client.memberPromote(memberID))
                }
                warnIfEvenVoterCount(response.members)
                switch global.output {
                case .text: Output.line("Member \(StoreMemberIdentity.format(memberID)) promoted to a voting member")
                case .json:
                    Output.json([
                        "header": Output.header(response.header), "promoted": StoreMemberIdentity.format(memberID),
                        "members": response.members.map(memberJSON),
                    ])
                }
            }
        }
    }
}

/// resolveMember accepts a member's name or its hexadecimal id; a name wins when both match.
func resolveMember(_ text: String, _ client: StoreClient) async throws -> UInt64 {
    let members = try await client.memberList().members
    if let named = members.first(where: { $0.name == text }) { return named.id }
    guard let id = try? parseHexID(text, what: "member"), members.contains(where: { $0.id == id }) else {
        let known = members.map { "\($0.name) (\(StoreMemberIdentity.format($0.id)))" }.joined(separator: ", ")
        throw StoreCommandFailure("no member named or numbered \"\(text)\"; the members are \(known)")
    }
    return id
}

/// evenVoterWarning is the warning for an even number of voters, or nil for an odd one: with 2k
/// voters a majority is k+1, so the cluster survives k-1 failures, no more than with 2k-1.
func evenVoterWarning(voters: Int) -> String? {
    guard voters > 0, voters % 2 == 0 else { return nil }
    return "the cluster will have \(voters) voting members; an even count tolerates no more failures than one fewer — add or remove one more"
}

func warnIfEvenVoterCount(_ members: [Member]) {
    if let message = evenVoterWarning(voters: members.filter { !$0.isLearner }.count) { warn(message) }
}

func memberJSON(_ member: Member) -> [String: Any] {
    [
        "id": StoreMemberIdentity.format(member.id), "name": member.name, "peer_address": member.peerAddress,
        "client_address": member.clientAddress, "is_learner": member.isLearner,
    ]
}

func printMemberTable(_ members: [Member]) {
    let rows = members.map { member in
        [
            StoreMemberIdentity.format(member.id), member.name, member.peerAddress,
            member.clientAddress.isEmpty ? "(not started)" : member.clientAddress, member.isLearner ? "true" : "false",
        ]
    }
    printTable(header: ["ID", "NAME", "PEER ADDRESS", "CLIENT ADDRESS", "IS LEARNER"], rows: rows)
}

/// printTable prints aligned columns separated by two spaces, like kubectl's tables.
func printTable(header: [String], rows: [[String]]) {
    var widths = header.map(\.count)
    for row in rows {
        for (column, cell) in row.enumerated() where column < widths.count { widths[column] = max(widths[column], cell.count) }
    }
    func render(_ cells: [String]) -> String {
        var line = ""
        for (column, cell) in cells.enumerated() {
            let isLast = column == cells.count - 1
            line += isLast ? cell : cell.padding(toLength: widths[column] + 2, withPad: " ", startingAt: 0)
        }
        return line
    }
    Output.line(render(header))
    for row in rows { Output.line(render(row)) }
}
