import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// ChildProcess is a process a benchmark started itself. It is ended by its PID only, with TERM
/// and then KILL, and never outlives the benchmark: `stop()` runs from `defer` blocks.
public final class ChildProcess: @unchecked Sendable {
    // Safety of @unchecked Sendable: used from one task at a time by the benchmark driver.
    public let process: Process
    private let output: Pipe
    private var buffered = Data()
    public let name: String

    /// Starts `executable` with `arguments`; stderr goes to the benchmark's stderr, or to the
    /// file `logPath` (created or truncated) when given.
    public init(name: String, executable: String, arguments: [String], logPath: String? = nil) throws {
        self.name = name
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        output = Pipe()
        process.standardOutput = output
        if let logPath {
            guard FileManager.default.createFile(atPath: logPath, contents: nil),
                let log = FileHandle(forWritingAtPath: logPath)
            else { throw BenchmarkError("cannot create the log file \(logPath) of \(name)") }
            process.standardError = log
        } else {
            process.standardError = FileHandle.standardError
        }
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }

    /// Reads stdout lines until one starts with `prefix` and returns the rest of it.
    public func waitForLine(prefix: String, timeoutSeconds: Double = 30) throws -> String {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        let handle = output.fileHandleForReading
        while Date() < deadline {
            while let newline = buffered.firstIndex(of: 10) {
                let line = String(decoding: buffered[buffered.startIndex..<newline], as: UTF8.self)
                buffered.removeSubrange(buffered.startIndex...newline)
                if line.hasPrefix(prefix) { return String(line.dropFirst(prefix.count)) }
            }
            let chunk = handle.availableData
            if chunk.isEmpty {
                throw BenchmarkError("\(name) (pid \(pid)) exited before printing \"\(prefix)\"")
            }
            buffered.append(chunk)
        }
        throw BenchmarkError("\(name) (pid \(pid)) did not print \"\(prefix)\" within \(timeoutSeconds) s")
    }

    /// Reads all of stdout until the process exits.
    public func readToEnd() -> String {
        let rest = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: buffered + rest, as: UTF8.self)
    }

    /// Peak resident set size (VmHWM) in KiB, from /proc; nil once the process is gone.
    public var peakResidentKilobytes: Int? {
        ProcessStatus.peakResidentKilobytes(pid: pid)
    }

    /// Sends TERM, waits up to `graceSeconds`, then KILL. Safe to call more than once.
    public func stop(graceSeconds: Double = 5) {
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(graceSeconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }
}

/// ProcessStatus reads figures of a process from /proc.
public enum ProcessStatus {
    public static func peakResidentKilobytes(pid: Int32) -> Int? {
        field("VmHWM:", pid: pid)
    }

    public static func residentKilobytes(pid: Int32) -> Int? {
        field("VmRSS:", pid: pid)
    }

    private static func field(_ name: String, pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            return Int(line.dropFirst(name.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }

    /// The path of the running executable, to find sibling binaries of the same build.
    public static var executableDirectory: String {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return (path as NSString).deletingLastPathComponent
    }
}

/// BenchmarkError is a benchmark that could not run, with the reason.
public struct BenchmarkError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
