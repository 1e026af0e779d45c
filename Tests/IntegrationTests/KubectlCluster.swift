import Api
import Bench
import Foundation
import Testing
import Wire

#if canImport(Glibc)
import Glibc
#endif

extension Kubectl {
    /// The kubectl the end-to-end tests run; they are skipped, saying so, when there is none.
    static var executable: String { path ?? "/usr/bin/kubectl" }
    static let missing: Comment = "kubectl is not installed (looked for $KUBECTL, /usr/bin/kubectl, /usr/local/bin/kubectl)"
}

/// CommandOutcome is what a finished command printed and how it exited.
struct CommandOutcome: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    /// Lines of stdout, without the empty last one.
    var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty } }

    /// The cells of each stdout line as kubectl aligns them: split where two or more spaces
    /// separate columns (a header like "NOMINATED NODE" stays one cell).
    var table: [[String]] { lines.map(Self.cells) }

    static func cells(_ line: String) -> [String] {
        line.split(separator: "  ", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// CommandRunner runs a program with its output in files (no pipe can fill up and stall it)
/// and a deadline after which it is killed: a hung kubectl fails its test instead of the run.
struct CommandRunner {
    var workDirectory: String

    /// A process started in the background; `stop()` ends it by its PID.
    final class Running: @unchecked Sendable {
        // Safety of @unchecked Sendable: the Process is only started, polled and signalled.
        let process: Process
        let stdoutPath: String
        let stderrPath: String

        init(process: Process, stdoutPath: String, stderrPath: String) {
            self.process = process
            self.stdoutPath = stdoutPath
            self.stderrPath = stderrPath
        }

        var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

        /// Waits until stdout satisfies `condition`, the process ends, or `seconds` pass.
        @discardableResult
        func waitForOutput(seconds: Double = 60, _ condition: (String) -> Bool) async -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if condition(stdout) { return true }
                if !process.isRunning { return condition(stdout) }
                try? await Task.sleep(for: .milliseconds(100))
            }
            return condition(stdout)
        }

        func stop() -> CommandOutcome {
            if process.isRunning { kill(process.processIdentifier, SIGTERM) }
            process.waitUntilExit()
            return CommandOutcome(status: process.terminationStatus, stdout: stdout, stderr: stderr)
        }

        deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
    }

    func start(_ executable: String, _ arguments: [String], environment: [String: String], stdin: String? = nil) throws -> Running {
        let name = UUID().uuidString
        let stdoutPath = workDirectory + "/\(name).out"
        let stderrPath = workDirectory + "/\(name).err"
        for path in [stdoutPath, stderrPath] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        if let stdin {
            let inputPath = workDirectory + "/\(name).in"
            try stdin.write(toFile: inputPath, atomically: true, encoding: .utf8)
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inputPath))
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        return Running(process: process, stdoutPath: stdoutPath, stderrPath: stderrPath)
    }

    func run(_ executable: String, _ arguments: [String], environment: [String: String], stdin: String? = nil, seconds: Double = 120)
        async throws -> CommandOutcome
    {
        let running = try start(executable, arguments, environment: environment, stdin: stdin)
        let deadline = Date().addingTimeInterval(seconds)
        while running.process.isRunning {
            if Date() > deadline {
                kill(running.process.processIdentifier, SIGKILL)
                running.process.waitUntilExit()
                throw BenchmarkError(
                    "\(executable) \(arguments.joined(separator: " ")) did not finish within \(Int(seconds)) s; stderr: \(running.stderr)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return CommandOutcome(status: running.process.terminationStatus, stdout: running.stdout, stderr: running.stderr)
    }
}

/// KubectlCluster is a store member and an API server with its HTTPS gateway on loopback, the
/// cluster's certificates, and kubeconfigs for the identities the tests act as: the admin (the
/// client certificate `agentctl kubeconfig` writes), `jane` (a bearer token, no groups: only
/// what RBAC grants her) and an anonymous caller (the CA, no credentials).
final class KubectlCluster: @unchecked Sendable {
    // Safety of @unchecked Sendable: driven by one test task at a time.
    enum Identity: String { case admin, jane, anonymous }

    let api: ApiCluster
    let runner: CommandRunner
    private var background: [CommandRunner.Running] = []

    var workDirectory: String { api.store.workDirectory }
    /// Where ApiCluster keeps the cluster's certificates (what `agentctl up` keeps in `<data dir>/pki`).
    var pkiDirectory: String { workDirectory + "/pki" }
    var server: String { "https://\(api.httpsAddresses[0])" }
    func kubeconfig(_ identity: Identity) -> String { workDirectory + "/\(identity.rawValue).kubeconfig" }

    init() throws {
        api = try ApiCluster(agentctl: BuildProducts.directory.appendingPathComponent("agentctl").path)
        runner = CommandRunner(workDirectory: api.store.workDirectory)
        try FileManager.default.createDirectory(atPath: workDirectory + "/home", withIntermediateDirectories: true)
    }

    /// Starts the processes, writes the kubeconfigs and waits until kubectl gets an answer.
    func start() async throws {
        try api.start()
        do {
            try await api.waitUntilServing()
        } catch {
            throw BenchmarkError("\(error)\nAPI server log:\n\(logTail())")
        }
        // A real cluster runs the controller manager: without its namespace controller a
        // deleted namespace would stay Terminating, and `kubectl delete -f` waits for it.
        let tokenFile = workDirectory + "/controller-manager-token"
        try api.adminToken.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        background.append(try runner.start(
            api.store.agentctl,
            [
                "run", "controller-manager", "--api", api.apiAddresses[0].description, "--token-file", tokenFile,
                "--leader-elect=false", "--name", "controller-manager", "--exit-with-parent", String(getpid()),
            ],
            environment: ProcessInfo.processInfo.environment))
        let written = try await runner.run(
            api.store.agentctl,
            ["kubeconfig", "--data-dir", workDirectory, "--server", server, "--output", kubeconfig(.admin)],
            environment: ProcessInfo.processInfo.environment)
        guard written.status == 0 else { throw BenchmarkError("agentctl kubeconfig failed: \(written)") }
        try tokenKubeconfig(token: api.userToken, user: "jane").write(toFile: kubeconfig(.jane), atomically: true, encoding: .utf8)
        try tokenKubeconfig(token: nil, user: "anonymous").write(toFile: kubeconfig(.anonymous), atomically: true, encoding: .utf8)
        let deadline = Date().addingTimeInterval(60)
        while true {
            let probe = try await kubectl(["get", "--raw", "/readyz"])
            if probe.status == 0 { return }
            if Date() > deadline { throw BenchmarkError("the HTTPS gateway at \(server) did not answer within 60 s: \(probe)\n\(logTail())") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// A kubeconfig trusting the cluster CA (by file) that sends `token`, or no credentials at all.
    func tokenKubeconfig(token: String?, user: String) -> String {
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: skiff
          cluster:
            server: \(server)
            certificate-authority: \(pkiDirectory)/ca.crt
        users:
        - name: \(user)
          user:\(token.map { "\n    token: \($0)" } ?? " {}")
        contexts:
        - name: \(user)
          context:
            cluster: skiff
            user: \(user)
            namespace: default
        current-context: \(user)

        """
    }

    /// kubectl's environment: its own HOME (so no discovery cache outlives the cluster), no
    /// proxy, and the identity's kubeconfig.
    func environment(_ identity: Identity, extra: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.lowercased().hasSuffix("_proxy") }
        environment["HOME"] = workDirectory + "/home"
        environment["KUBECONFIG"] = kubeconfig(identity)
        environment["NO_PROXY"] = "127.0.0.1,localhost"
        for (key, value) in extra { environment[key] = value }
        return environment
    }

    func kubectl(_ arguments: [String], as identity: Identity = .admin, stdin: String? = nil, environment extra: [String: String] = [:])
        async throws -> CommandOutcome
    {
        try await runner.run(Kubectl.executable, arguments, environment: environment(identity, extra: extra), stdin: stdin)
    }

    /// kubectl left running (a watch); stopped by `stop()` at the latest.
    func kubectlInBackground(_ arguments: [String], as identity: Identity = .admin) throws -> CommandRunner.Running {
        let running = try runner.start(Kubectl.executable, arguments, environment: environment(identity))
        background.append(running)
        return running
    }

    /// Writes `text` to a file in the work folder and returns its path.
    func file(_ name: String, _ text: String) throws -> String {
        let path = workDirectory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The end of the API server's log, for failure messages.
    func logTail(lines: Int = 40) -> String {
        let log = (try? String(contentsOfFile: workDirectory + "/apiserver-1.log", encoding: .utf8)) ?? ""
        return log.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    func stop() {
        for running in background { _ = running.stop() }
        background.removeAll()
        api.stop()
    }

    deinit { stop() }
}
