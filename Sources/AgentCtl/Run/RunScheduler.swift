import Agents
import Api
import ArgumentParser
import Foundation
import Logging
import Wire

/// `agentctl run scheduler`: kube-scheduler for Skiff. With `--leader-elect` (the default)
/// several replicas may run; the one holding the Lease kube-system/<lock-name> schedules, and
/// a replica that loses the lease exits with status 1 so that nothing it started survives.
struct RunScheduler: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler", abstract: "Run the scheduler: assigns pending pods to nodes through pods/binding.")

    @Option(help: "host:port of the API server's binary protocol.")
    var api = "127.0.0.1:6440"
    @Option(help: "File holding the bearer token (default: the local cluster's admin token).")
    var tokenFile = ".skiff/local/admin-token"
    @Flag(
        inversion: .prefixedNo,
        help: "Take part in leader election through a Lease; only the leader schedules (also --leader-elect=true|false).")
    var leaderElect = true
    @Option(help: "Name of the leader election Lease.")
    var lockName = "kube-scheduler"
    @Option(help: "Namespace of the leader election Lease.")
    var lockNamespace = "kube-system"
    @Option(help: "How long a leader's lease lasts without renewal, such as 15s.")
    var leaderElectLeaseDuration = "15s"
    @Option(help: "How long a leader tries to renew before it gives up leading, such as 10s.")
    var leaderElectRenewDeadline = "10s"
    @Option(help: "How often candidates try to take the lease and the leader renews it, such as 2s.")
    var leaderElectRetryPeriod = "2s"
    @Option(help: "Percentage of nodes to find feasible before scoring; 0 adapts to the cluster size as kube-scheduler does.")
    var percentageOfNodesToScore = 0
    @Option(help: "Threads filtering and scoring nodes at once (default: the number of cores).")
    var parallelism: Int?
    @Option(help: "Bindings sent and not yet answered at once.")
    var maxInflightBindings = 2048
    @Option(help: "Pods with this spec.schedulerName (or none) are scheduled here.")
    var schedulerName = "default-scheduler"
    @Option(help: "This replica's identity in the lease and in events (default: host name and a random suffix).")
    var name: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"
    @Option(help: ArgumentHelp("Stop when the process with this PID exits (tests and benchmarks).", visibility: .hidden))
    var exitWithParent: Int32?

    func validate() throws {
        guard (0...100).contains(percentageOfNodesToScore) else {
            throw ValidationError("--percentage-of-nodes-to-score must be from 0 (adaptive) to 100")
        }
        if let parallelism, !(1...64).contains(parallelism) { throw ValidationError("--parallelism must be from 1 to 64") }
        guard maxInflightBindings > 0 else { throw ValidationError("--max-inflight-bindings must be positive") }
        let lease = try DurationFlag.milliseconds(leaderElectLeaseDuration, flag: "--leader-elect-lease-duration")
        let deadline = try DurationFlag.milliseconds(leaderElectRenewDeadline, flag: "--leader-elect-renew-deadline")
        let retry = try DurationFlag.milliseconds(leaderElectRetryPeriod, flag: "--leader-elect-retry-period")
        guard lease > deadline, deadline > retry, retry > 0 else {
            throw ValidationError("leader election needs lease duration > renew deadline > retry period > 0")
        }
    }

    func run() async throws {
        if let exitWithParent { stopWhenParentExits(exitWithParent) }
        let logger = try bootstrapLogging(level: logLevel, label: "skiff.scheduler")
        let token = try TokenOptions.read(tokenFile, flag: "--token-file")
        let address = try SocketAddress(parsing: api)
        let identity = name ?? "\(ProcessInfo.processInfo.hostName)_\(UUID().uuidString.lowercased().prefix(8))"
        var configuration = Scheduler.Configuration(identity: identity)
        configuration.schedulerName = schedulerName
        configuration.algorithm.percentageOfNodesToScore = percentageOfNodesToScore
        configuration.algorithm.parallelism = parallelism ?? min(16, ProcessInfo.processInfo.activeProcessorCount)
        configuration.algorithm.seed = UInt64.random(in: 1...UInt64.max)
        configuration.maximumBindingsInFlight = maxInflightBindings
        let client = ApiClient(address: address, token: token, component: "scheduler", identity: identity)
        let bindingClient = ApiClient(
            address: address, token: token, component: "scheduler", identity: identity, loop: EventLoop(name: "scheduler-binder"))
        let scheduler = Scheduler(client: client, bindingClient: bindingClient, configuration: configuration, logger: logger)
        guard await scheduler.start() else { throw CommandFailure("the scheduler's informers stopped before listing") }
        logger.info("scheduler \(identity) has synced its caches")
        if leaderElect {
            let lease = try DurationFlag.milliseconds(leaderElectLeaseDuration, flag: "--leader-elect-lease-duration")
            let deadline = try DurationFlag.milliseconds(leaderElectRenewDeadline, flag: "--leader-elect-renew-deadline")
            let retry = try DurationFlag.milliseconds(leaderElectRetryPeriod, flag: "--leader-elect-retry-period")
            let (lockName, lockNamespace) = (self.lockName, self.lockNamespace)
            let election = Task {
                await LeaderElected.run(
                    client: client, lockName: lockName, identity: identity, namespace: lockNamespace, releaseOnCancel: true,
                    configure: { election in
                        election.leaseDurationMilliseconds = lease
                        election.renewDeadlineMilliseconds = deadline
                        election.renewPeriodMilliseconds = retry
                        election.retryPeriodMilliseconds = retry
                    },
                    logger: logger
                ) {
                    scheduler.lead()
                    announceLeading(identity)
                    while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                    scheduler.resign()
                }
                // Cancelled on SIGTERM: scheduling stopped and the lease was released.
                if Task.isCancelled { return }
                logger.error("\(identity) lost the lease \(lockNamespace)/\(lockName); exiting")
                Foundation.exit(1)
            }
            await waitForTermination()
            election.cancel()
            await election.value
        } else {
            scheduler.lead()
            announceLeading(identity)
            await waitForTermination()
        }
        await scheduler.stop()
        await client.close()
        await bindingClient.close()
    }
}

/// Tells whoever reads stdout (tests, benchmarks) that this replica now schedules.
private func announceLeading(_ identity: String) {
    FileHandle.standardOutput.write(Data("scheduler is leading: \(identity)\n".utf8))
}
