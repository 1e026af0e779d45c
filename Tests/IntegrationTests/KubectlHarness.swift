import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Kubectl runs the real kubectl binary against a loopback cluster with one kubeconfig: for
/// end-to-end tests of the HTTPS door. Every run has a deadline (the process is killed past it),
/// so a hung request fails the test instead of hanging the suite.
struct Kubectl: Sendable {
    /// Where kubectl is, or nil when this machine has none (tests then skip with a message).
    static let path: String? = {
        let candidates = (ProcessInfo.processInfo.environment["KUBECTL"].map { [$0] } ?? []) + ["/usr/bin/kubectl", "/usr/local/bin/kubectl"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static var isAvailable: Bool { path != nil }

    let kubeconfig: String

    struct Result: Sendable, CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String
        var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
    }

    /// Runs `kubectl <arguments>` to completion (or kills it after `timeoutSeconds`).
    func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:], timeoutSeconds: Double = 60) throws -> Result {
        let process = try makeProcess(arguments, environment: environment)
        let output = try Collected(in: outputDirectory)
        let errors = try Collected(in: outputDirectory)
        let input = Pipe()
        process.standardOutput = output.handle
        process.standardError = errors.handle
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: output.text, stderr: errors.text)
    }

    /// Starts `kubectl <arguments>` in the background (a watch); read `output`, then `stop()`.
    func start(_ arguments: [String]) throws -> Background {
        let process = try makeProcess(arguments, environment: [:])
        let background = Background(process: process, output: try Collected(in: outputDirectory), errors: try Collected(in: outputDirectory))
        process.standardOutput = background.output.handle
        process.standardError = background.errors.handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return background
    }

    /// Where the output files of this kubeconfig's runs go (beside it, in the test's directory).
    private var outputDirectory: String {
        (kubeconfig as NSString).deletingLastPathComponent + "/kubectl-output"
    }

    private func makeProcess(_ arguments: [String], environment: [String: String]) throws -> Process {
        guard let path = Self.path else { throw KubectlMissing() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var variables = ProcessInfo.processInfo.environment
        variables["KUBECONFIG"] = kubeconfig
        // kubectl's cache of discovery and OpenAPI documents stays with the test's cluster.
        variables["KUBECACHEDIR"] = (kubeconfig as NSString).deletingLastPathComponent + "/kubectl-cache"
        for (key, value) in environment { variables[key] = value }
        process.environment = variables
        return process
    }

    /// A kubectl process running in the background.
    final class Background: Sendable {
        let process: Process
        let output: Collected
        let errors: Collected

        init(process: Process, output: Collected, errors: Collected) {
            self.process = process
            self.output = output
            self.errors = errors
        }

        /// Waits until the output contains `text` (true) or `seconds` pass (false).
        func waitFor(_ text: String, seconds: Double = 30) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if output.text.contains(text) { return true }
                usleep(50_000)
            }
            return output.text.contains(text)
        }

        func stop() {
            if process.isRunning { kill(process.processIdentifier, SIGTERM) }
            process.waitUntilExit()
        }

        deinit { stop() }
    }

    /// What a process writes to one of its output streams, kept in a file and read from any
    /// thread. A file rather than a pipe: reading pipes through `readabilityHandler` runs on
    /// libdispatch sources, and the test process crashed twice inside libdispatch's event loop
    /// while such a handler was live (Foundation on Linux).
    final class Collected: Sendable {
        let path: String
        let handle: FileHandle

        init(in directory: String) throws {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            path = directory + "/\(UUID().uuidString).out"
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        }

        var text: String {
            String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
        }

        deinit { try? handle.close() }
    }

    struct KubectlMissing: Error, CustomStringConvertible {
        var description: String { "kubectl is not installed (looked for $KUBECTL, /usr/bin/kubectl, /usr/local/bin/kubectl)" }
    }
}

