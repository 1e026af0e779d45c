import ArgumentParser
import Wire

/// `agentctl`: starts Skiff's components and administers a cluster.
@main
struct AgentCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agentctl",
        abstract: "Start and administer a Skiff cluster.",
        version: "0.1.0",
        subcommands: [Up.self, RunCommand.self, KubeconfigCommand.self, StoreCommand.self])

    static func main() async {
        await main(KubeBooleanFlags.normalize(Array(CommandLine.arguments.dropFirst())))
    }
}

/// KubeBooleanFlags accepts Kubernetes' spelling of boolean flags, `--leader-elect=true` and
/// `--leader-elect=false`, besides the bare `--leader-elect` and `--no-leader-elect` that the
/// argument parser understands.
enum KubeBooleanFlags {
    /// Boolean flags (declared with `inversion: .prefixedNo`) that take `=true`/`=false`.
    static let names: Set<String> = ["leader-elect"]

    static func normalize(_ arguments: [String]) -> [String] {
        arguments.map { argument in
            guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return argument }
            let name = String(argument[argument.index(argument.startIndex, offsetBy: 2)..<equals])
            guard names.contains(name) else { return argument }
            switch argument[argument.index(after: equals)...].lowercased() {
            case "true", "1", "t": return "--" + name
            case "false", "0", "f": return "--no-" + name
            default: return argument
            }
        }
    }
}
