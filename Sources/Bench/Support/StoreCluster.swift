import Foundation
import Raft
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// StoreCluster runs store members as real `agentctl store run` processes on loopback, for
/// benchmarks and integration tests. Members are stopped by their PIDs only, and the work
/// folder is removed by `stop()` (call it from `defer`).
public final class StoreCluster: @unchecked Sendable {
    // Safety of @unchecked Sendable: driven by one task at a time.

    public struct MemberProcess: Sendable {
        public var name: String
        public var clientAddress: SocketAddress
        public var peerAddress: SocketAddress
        public var dataDirectory: String
        public var logPath: String
    }

    public let workDirectory: String
    public let token: String
    public let agentctl: String
    public private(set) var members: [MemberProcess] = []
    private var processes: [String: Process] = [:]
    public var keepWorkDirectory = false

    /// Creates the work folder; `start` launches the members.
    public init(memberCount: Int, agentctl: String? = nil) throws {
        precondition(memberCount >= 1)
        let template = NSTemporaryDirectory() + "skiff-store.XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else { throw BenchmarkError("cannot create a work folder in \(NSTemporaryDirectory())") }
        workDirectory = String(cString: made)
        token = "store-token-\(UInt64.random(in: 1...UInt64.max))"
        try token.write(toFile: workDirectory + "/token", atomically: true, encoding: .utf8)
        self.agentctl = agentctl ?? ProcessStatus.executableDirectory + "/agentctl"
        guard FileManager.default.isExecutableFile(atPath: self.agentctl) else {
            throw BenchmarkError("\(self.agentctl) not found: build the agentctl product first")
        }
        for index in 1...memberCount {
            let name = "m\(index)"
            members.append(MemberProcess(
                name: name, clientAddress: SocketAddress(host: "127.0.0.1", port: try Self.freePort()),
                peerAddress: SocketAddress(host: "127.0.0.1", port: try Self.freePort()),
                dataDirectory: workDirectory + "/" + name, logPath: workDirectory + "/" + name + ".log"))
        }
    }

    public var initialCluster: String {
        members.map { "\($0.name)=\($0.peerAddress)" }.joined(separator: ",")
    }

    public var endpoints: [SocketAddress] { members.map(\.clientAddress) }

    /// Starts every member that is not running.
    public func start(extraArguments: [String] = []) throws {
        for member in members where processes[member.name] == nil {
            try start(member.name, extraArguments: extraArguments)
        }
    }

    /// Starts one member (again, after a kill: same data folder).
    public func start(_ name: String, clusterState: String = "new", extraArguments: [String] = []) throws {
        guard let member = members.first(where: { $0.name == name }) else {
            throw BenchmarkError("no member named \(name)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: agentctl)
        process.arguments = [
            "store", "run", "--name", member.name, "--data-dir", member.dataDirectory,
            "--listen", member.clientAddress.description, "--peer-listen", member.peerAddress.description,
            "--initial-cluster", initialCluster, "--initial-cluster-state", clusterState,
            "--token-file", workDirectory + "/token", "--exit-with-parent", String(getpid()),
        ] + extraArguments
        _ = FileManager.default.createFile(atPath: member.logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: member.logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        processes[name] = process
    }

    /// Adds a member record (not started) for membership tests.
    @discardableResult
    public func addMemberRecord(name: String) throws -> MemberProcess {
        let member = MemberProcess(
            name: name, clientAddress: SocketAddress(host: "127.0.0.1", port: try Self.freePort()),
            peerAddress: SocketAddress(host: "127.0.0.1", port: try Self.freePort()),
            dataDirectory: workDirectory + "/" + name, logPath: workDirectory + "/" + name + ".log")
        members.append(member)
        return member
    }

    public func removeMemberRecord(name: String) {
        members.removeAll { $0.name == name }
    }

    public func pid(_ name: String) -> Int32? {
        processes[name].map(\.processIdentifier)
    }

    public func isRunning(_ name: String) -> Bool {
        processes[name]?.isRunning ?? false
    }

    /// kill -9: the member loses whatever it had not synced.
    public func kill9(_ name: String) {
        guard let process = processes.removeValue(forKey: name), process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, then SIGKILL after `graceSeconds`.
    public func terminate(_ name: String, graceSeconds: Double = 10) {
        guard let process = processes.removeValue(forKey: name), process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(graceSeconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Peak resident set (VmHWM) of each running member, in KiB.
    public func peakResidentKilobytes() -> [String: Int] {
        var result: [String: Int] = [:]
        for (name, process) in processes where process.isRunning {
            result[name] = ProcessStatus.peakResidentKilobytes(pid: process.processIdentifier)
        }
        return result
    }

    /// CPU seconds (user + system) used so far by each running member.
    public func cpuSeconds() -> [String: Double] {
        var result: [String: Double] = [:]
        for (name, process) in processes where process.isRunning {
            result[name] = ProcessStatus.cpuSeconds(pid: process.processIdentifier)
        }
        return result
    }

    /// The tail of a member's log, for failure messages.
    public func logTail(_ name: String, lines: Int = 20) -> String {
        guard let member = members.first(where: { $0.name == name }),
            let text = try? String(contentsOfFile: member.logPath, encoding: .utf8)
        else { return "" }
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Stops every member and removes the work folder.
    public func stop() {
        for name in Array(processes.keys) { terminate(name) }
        if !keepWorkDirectory { try? FileManager.default.removeItem(atPath: workDirectory) }
    }

    deinit { stop() }

    /// A port the kernel says is free now (bound to port 0, then released).
    public static func freePort() throws -> UInt16 {
        let bound = try boundLoopbackSocket()
        close(bound.descriptor)
        return bound.port
    }

    /// A TCP socket bound to 127.0.0.1 on a port the kernel chose (not listening yet); the
    /// caller closes it.
    public static func boundLoopbackSocket() throws -> (descriptor: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchmarkError("socket() failed") }
        var keep = false
        defer { if !keep { close(fd) } }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw BenchmarkError("bind() failed: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        keep = true
        return (fd, UInt16(bigEndian: address.sin_port))
    }
}

extension ProcessStatus {
    /// utime + stime of a process in seconds, from /proc/PID/stat.
    public static func cpuSeconds(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command name: state is field 3, utime 14 and stime 15 (1-based overall).
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
