import Agents
import ArgumentParser
import Foundation
import Logging
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// `agentctl run controller-manager`: kube-controller-manager — the workload and cluster
/// controllers in one process, one replica of several acting at a time with --leader-elect.
struct RunControllerManager: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller-manager",
        abstract: "Run the controller manager (ReplicaSet, Deployment, DaemonSet, Job, StatefulSet… controllers).",
        discussion: """
            With --leader-elect (the default) several replicas may run: the one that
            holds the Lease kube-system/<lock-name> acts; one that loses it exits with 1.

            Example:
              agentctl run controller-manager --api 127.0.0.1:6440 \\
                --token-file .skiff/local/admin-token --controllers '*,-job'
            """)

    @Option(help: "host:port of the API server's binary protocol.")
    var api: String = "127.0.0.1:6440"
    @Option(help: "File holding the bearer token to authenticate with. Default: .skiff/local/admin-token.")
    var tokenFile: String?
    @Flag(
        name: .customLong("leader-elect"), inversion: .prefixedNo,
        help: "Act only while holding the Lease (--leader-elect=false or --no-leader-elect to run alone).")
    var leaderElect = true
    @Option(help: "Name of the Lease in kube-system that replicas compete for.")
    var lockName: String = "kube-controller-manager"
    @Option(help: "How long a Lease is valid without renewal (15s, 1500ms…).")
    var leaderElectLeaseDuration: String = "15s"
    @Option(help: "How long the leader keeps trying to renew before it stops acting.")
    var leaderElectRenewDeadline: String = "10s"
    @Option(help: "How often the leader renews and the others retry.")
    var leaderElectRetryPeriod: String = "2s"
    @Option(help: "Controllers to run, comma-separated: '*' for all, 'name' to enable, '-name' to disable.")
    var controllers: String = "*"
    @Option(help: "Worker tasks per controller.")
    var concurrentSyncs: Int = 5
    @Option(help: "Re-deliver every cached object to the controllers this often (0s: never).")
    var resyncPeriod: String = "0s"
    @Option(help: "How long a node may go without a heartbeat before it is marked Unknown and tainted unreachable.")
    var nodeMonitorGracePeriod: String = "40s"
    @Option(help: "Directory the hostPath provisioner makes volume directories in.")
    var hostpathProvisionerDirectory: String = "/tmp/hostpath_pv"
    @Option(help: "Storage class whose claims the hostPath provisioner serves ('' for none).")
    var hostpathStorageClass: String = "standard"
    @Option(help: "Storage class of claims that name none ('' for none).")
    var defaultStorageClass: String = "standard"
    @Option(help: "File holding the key to sign service-account tokens with (the API server's --service-account-key-file).")
    var serviceAccountPrivateKeyFile: String?
    @Option(help: "How long the service-account tokens put in secrets are valid (renewed at four fifths).")
    var serviceAccountTokenLifetime: String = "8760h"
    @Option(help: "How often every resource quota is recounted besides on changes.")
    var resourceQuotaSyncPeriod: String = "30s"
    @Option(help: "Finished (Succeeded or Failed) pods kept before the oldest are deleted; 0 keeps them all.")
    var terminatedPodGcThreshold: Int = 12_500
    @Option(help: "This replica's identity in the Lease and in events. Default: host name and a random id.")
    var name: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"
    @Option(help: ArgumentHelp("Stop when the process with this PID exits (tests and benchmarks).", visibility: .hidden))
    var exitWithParent: Int32?

    func run() async throws {
        if let exitWithParent { stopWhenParentExits(exitWithParent) }
        var configuration = try makeConfiguration()
        configuration.onControllersStarted = { [identity = configuration.identity] in
            FileHandle.standardOutput.write(Data("controller manager is running: \(identity)\n".utf8))
        }
        let logger = try bootstrapLogging(level: logLevel, label: "controller-manager")
        let manager: ControllerManager
        do {
            manager = try ControllerManager(configuration: configuration, logger: logger)
        } catch {
            throw ValidationError(error.description)
        }
        let work = Task { await manager.run() }
        Task {
            await waitForTermination()
            work.cancel()
        }
        switch await work.value {
        case .stopped:
            return
        case .lostLeadership:
            logger.error("leaderelection lost: \(configuration.lockNamespace)/\(configuration.lockName) is held by another replica; exiting")
            throw ExitCode(1)
        case .informersNotSynced:
            logger.error("the informer caches did not sync; exiting")
            throw ExitCode(1)
        }
    }

    func makeConfiguration() throws -> ControllerManagerConfiguration {
        let address: SocketAddress
        do {
            address = try SocketAddress(parsing: api)
        } catch {
            throw ValidationError("--api: \(api) is not host:port (\(error))")
        }
        let token = try TokenOptions.read(tokenFile ?? ".skiff/local/admin-token", flag: "--token-file")
        let identity = name ?? "\(ProcessInfo.processInfo.hostName)_\(UUID().uuidString.lowercased())"
        guard !identity.isEmpty else { throw ValidationError("--name must not be empty") }
        var configuration = ControllerManagerConfiguration(apiAddress: address, token: token, identity: identity)
        configuration.leaderElect = leaderElect
        guard !lockName.isEmpty else { throw ValidationError("--lock-name must not be empty") }
        configuration.lockName = lockName
        configuration.leaseDurationMilliseconds = try DurationFlag.milliseconds(leaderElectLeaseDuration, flag: "--leader-elect-lease-duration")
        configuration.renewDeadlineMilliseconds = try DurationFlag.milliseconds(leaderElectRenewDeadline, flag: "--leader-elect-renew-deadline")
        configuration.retryPeriodMilliseconds = try DurationFlag.milliseconds(leaderElectRetryPeriod, flag: "--leader-elect-retry-period")
        guard configuration.leaseDurationMilliseconds > configuration.renewDeadlineMilliseconds else {
            throw ValidationError("--leader-elect-lease-duration (\(leaderElectLeaseDuration)) must be longer than --leader-elect-renew-deadline (\(leaderElectRenewDeadline))")
        }
        guard configuration.renewDeadlineMilliseconds > configuration.retryPeriodMilliseconds, configuration.retryPeriodMilliseconds > 0 else {
            throw ValidationError("--leader-elect-renew-deadline (\(leaderElectRenewDeadline)) must be longer than --leader-elect-retry-period (\(leaderElectRetryPeriod)), which must be positive")
        }
        configuration.controllers = controllers.split(separator: ",").map { String($0) }
        guard concurrentSyncs > 0, concurrentSyncs <= 1000 else {
            throw ValidationError("--concurrent-syncs must be between 1 and 1000, not \(concurrentSyncs)")
        }
        configuration.concurrentSyncs = concurrentSyncs
        configuration.resyncPeriodMilliseconds = try DurationFlag.milliseconds(resyncPeriod, flag: "--resync-period")
        configuration.cluster = try clusterOptions()
        return configuration
    }
}

extension RunControllerManager {
    func clusterOptions() throws -> ClusterControllerOptions {
        var options = ClusterControllerOptions()
        options.nodeMonitorGracePeriodMilliseconds = try DurationFlag.milliseconds(nodeMonitorGracePeriod, flag: "--node-monitor-grace-period")
        guard options.nodeMonitorGracePeriodMilliseconds >= 1000 else {
            throw ValidationError("--node-monitor-grace-period must be at least 1s, not \(nodeMonitorGracePeriod)")
        }
        guard hostpathProvisionerDirectory.hasPrefix("/") else {
            throw ValidationError("--hostpath-provisioner-directory must be an absolute path, not \(hostpathProvisionerDirectory)")
        }
        options.hostPathDirectory = hostpathProvisionerDirectory
        options.hostPathStorageClass = hostpathStorageClass
        options.defaultStorageClass = defaultStorageClass
        if let serviceAccountPrivateKeyFile {
            options.serviceAccountSigningKey = try ServiceAccountKeyFile.read(
                serviceAccountPrivateKeyFile, flag: "--service-account-private-key-file")
        }
        let lifetime = try DurationFlag.milliseconds(serviceAccountTokenLifetime, flag: "--service-account-token-lifetime")
        guard lifetime >= 60_000 else {
            throw ValidationError("--service-account-token-lifetime must be at least 1m, not \(serviceAccountTokenLifetime)")
        }
        options.serviceAccountTokenLifetimeSeconds = Int64(lifetime / 1000)
        options.resourceQuotaSyncPeriodMilliseconds = try DurationFlag.milliseconds(resourceQuotaSyncPeriod, flag: "--resource-quota-sync-period")
        guard options.resourceQuotaSyncPeriodMilliseconds >= 1000 else {
            throw ValidationError("--resource-quota-sync-period must be at least 1s, not \(resourceQuotaSyncPeriod)")
        }
        guard terminatedPodGcThreshold >= 0 else {
            throw ValidationError("--terminated-pod-gc-threshold must not be negative (0 keeps every finished pod), not \(terminatedPodGcThreshold)")
        }
        options.terminatedPodGCThreshold = terminatedPodGcThreshold
        return options
    }
}

/// DurationFlag reads duration flags.
enum DurationFlag {
    /// Milliseconds of a Go-style duration as Kubernetes flags take them: "15s", "1500ms", "2m",
    /// "1h30m"; a bare number means seconds.
    static func milliseconds(_ text: String, flag: String) throws -> UInt64 {
        let problem = ValidationError("\(flag): \"\(text)\" is not a duration; write it like 15s, 500ms, 2m or 1h30m")
        if let seconds = Double(text), seconds >= 0 { return UInt64(seconds * 1000) }
        var total = 0.0
        var rest = Substring(text)
        guard !rest.isEmpty else { throw problem }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            guard let value = Double(number) else { throw problem }
            switch unit {
            case "ms": total += value
            case "s": total += value * 1000
            case "m": total += value * 60_000
            case "h": total += value * 3_600_000
            default: throw problem
            }
        }
        return UInt64(total)
    }
}
