import ArgumentParser

/// `agentctl`: starts Skiff's components and administers a cluster.
@main
struct AgentCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agentctl",
        abstract: "Start and administer a Skiff cluster.",
        version: "0.1.0",
        subcommands: [Up.self, RunCommand.self, StoreCommand.self])

    /// Parses the command line after turning Kubernetes-style boolean flags with a value
    /// (`--leader-elect=true`, `--leader-elect=false`) into the flag forms the parser knows
    /// (`--leader-elect`, `--no-leader-elect`).
    static func main() async {
        await main(Array(CommandLine.arguments.dropFirst()).map(Self.normalizingBooleanFlag))
    }

    static let booleanFlagsTakingValues: Set<String> = ["leader-elect"]

    static func normalizingBooleanFlag(_ argument: String) -> String {
        guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return argument }
        let name = String(argument[argument.index(argument.startIndex, offsetBy: 2)..<equals])
        guard booleanFlagsTakingValues.contains(name) else { return argument }
        switch argument[argument.index(after: equals)...].lowercased() {
        case "true": return "--" + name
        case "false": return "--no-" + name
        default: return argument
        }
    }
}
