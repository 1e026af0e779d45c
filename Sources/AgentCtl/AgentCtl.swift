import ArgumentParser

/// `agentctl`: starts Skiff's components and administers a cluster.
@main
struct AgentCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agentctl",
        abstract: "Start and administer a Skiff cluster.",
        version: "0.1.0",
        subcommands: [Up.self, RunCommand.self, KubeconfigCommand.self, StoreCommand.self])
}
