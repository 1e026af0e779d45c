import Foundation
import Synchronization

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
        let output = Pipe()
        let errors = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input
        let collectedOutput = Collected()
        let collectedErrors = Collected()
        output.fileHandleForReading.readabilityHandler = { handle in collectedOutput.append(handle.availableData) }
        errors.fileHandleForReading.readabilityHandler = { handle in collectedErrors.append(handle.availableData) }
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        output.fileHandleForReading.readabilityHandler = nil
        errors.fileHandleForReading.readabilityHandler = nil
        collectedOutput.append(output.fileHandleForReading.readDataToEndOfFile())
        collectedErrors.append(errors.fileHandleForReading.readDataToEndOfFile())
        return Result(status: process.terminationStatus, stdout: collectedOutput.text, stderr: collectedErrors.text)
    }

    /// Starts `kubectl <arguments>` in the background (a watch); read `output`, then `stop()`.
    func start(_ arguments: [String]) throws -> Background {
        let process = try makeProcess(arguments, environment: [:])
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        let background = Background(process: process)
        output.fileHandleForReading.readabilityHandler = { handle in background.output.append(handle.availableData) }
        errors.fileHandleForReading.readabilityHandler = { handle in background.errors.append(handle.availableData) }
        try process.run()
        return background
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
        let output = Collected()
        let errors = Collected()

        init(process: Process) {
            self.process = process
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

    /// Bytes collected from a pipe, read from any thread.
    final class Collected: Sendable {
        private let data = Mutex(Data())
        func append(_ chunk: Data) { data.withLock { $0.append(chunk) } }
        var text: String { data.withLock { String(decoding: $0, as: UTF8.self) } }
    }

    struct KubectlMissing: Error, CustomStringConvertible {
        var description: String { "kubectl is not installed (looked for $KUBECTL, /usr/bin/kubectl, /usr/local/bin/kubectl)" }
    }
}

