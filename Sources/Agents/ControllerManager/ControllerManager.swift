import Api
import Foundation
import Logging
import Synchronization
import Wire

/// ControllerManagerConfiguration is what `agentctl run controller-manager` is told.
public struct ControllerManagerConfiguration: Sendable {
    /// The API server's binary-protocol address.
    public var apiAddress: SocketAddress
    public var token: String
    /// This replica's identity: its Lease holderIdentity and event reportingInstance.
    public var identity: String
    /// Run the controllers only while holding the Lease `lockNamespace/lockName`.
    public var leaderElect = true
    public var lockName = "kube-controller-manager"
    public var lockNamespace = "kube-system"
    public var leaseDurationMilliseconds: UInt64 = 15_000
    public var renewDeadlineMilliseconds: UInt64 = 10_000
    public var retryPeriodMilliseconds: UInt64 = 2_000
    /// `--controllers` items, in kube-controller-manager's syntax: "*" (every controller),
    /// "name" (enable), "-name" (disable).
    public var controllers: [String] = ["*"]
    /// Worker tasks per controller.
    public var concurrentSyncs = 5
    /// Every this many milliseconds the shared informers deliver every object again, so that
    /// controllers re-check their work; 0 turns it off.
    public var resyncPeriodMilliseconds: UInt64 = 0
    /// Settings of the cluster controllers.
    public var cluster = ClusterControllerOptions()
    /// Called each time the controllers start (informers synced, and the Lease held with
    /// leader election): the command tells tests and benchmarks on stdout.
    public var onControllersStarted: (@Sendable () -> Void)?

    public init(apiAddress: SocketAddress, token: String, identity: String) {
        self.apiAddress = apiAddress
        self.token = token
        self.identity = identity
    }
}

/// ControllerSelectionError is a `--controllers` list that names a controller that does not exist.
public struct ControllerSelectionError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// ControllerManager is the kube-controller-manager process (seed items 19–21): one API client,
/// one set of shared informers, and every enabled controller of `WorkloadControllers.all` and
/// `ClusterControllers.all` running concurrently. With leader election, all of this exists only
/// while this replica holds the Lease: informers start after leadership is won and everything
/// is cancelled the moment it is lost.
public final class ControllerManager: Sendable {
    /// Why `run()` returned.
    public enum Outcome: Sendable, Equatable {
        /// The calling task was cancelled (SIGTERM).
        case stopped
        /// Another replica holds the Lease now; the process should exit non-zero, as
        /// kube-controller-manager does, so that no half-finished work survives.
        case lostLeadership
        /// The shared informers never synced before the controllers were stopped.
        case informersNotSynced
    }

    /// Every controller this build knows, workload ones first.
    public static var available: [any Controller.Type] { WorkloadControllers.all + ClusterControllers.all }

    public let configuration: ControllerManagerConfiguration
    /// The controllers `--controllers` enables, in `available` order.
    public let enabled: [any Controller.Type]
    let logger: Logger

    public init(configuration: ControllerManagerConfiguration, logger: Logger) throws(ControllerSelectionError) {
        precondition(configuration.concurrentSyncs > 0, "concurrentSyncs must be positive")
        self.configuration = configuration
        self.logger = logger
        enabled = try Self.select(configuration.controllers, from: Self.available)
    }

    /// The controllers that `items` enables, kube-controller-manager's rules: a controller is on
    /// when named, off when named with a leading "-", otherwise on when "*" is given.
    public static func select(_ items: [String], from available: [any Controller.Type]) throws(ControllerSelectionError) -> [any Controller.Type] {
        let known = Set(available.map { $0.name })
        var enabledByName: Set<String> = []
        var disabledByName: Set<String> = []
        var star = false
        for raw in items {
            let item = raw.trimmingCharacters(in: .whitespaces)
            if item.isEmpty { continue }
            if item == "*" {
                star = true
                continue
            }
            let disabled = item.hasPrefix("-")
            let name = disabled ? String(item.dropFirst()) : item
            guard known.contains(name) else {
                throw ControllerSelectionError(
                    description: "--controllers: \"\(name)\" is not a known controller; known controllers are \(known.sorted().joined(separator: ", ")) (use '*' for all, 'name' to enable, '-name' to disable)")
            }
            if disabled { disabledByName.insert(name) } else { enabledByName.insert(name) }
        }
        if let both = enabledByName.intersection(disabledByName).sorted().first {
            throw ControllerSelectionError(description: "--controllers: \"\(both)\" is both enabled and disabled; keep one of \"\(both)\" and \"-\(both)\"")
        }
        return available.filter { type in
            if disabledByName.contains(type.name) { return false }
            return star || enabledByName.contains(type.name)
        }
    }

    /// Connects, then (when leader-elected) campaigns and runs the controllers while leading.
    /// Returns when the calling task is cancelled (SIGTERM: the controllers stop, then the Lease
    /// is released for another replica) or leadership is lost.
    public func run() async -> Outcome {
        let client = ApiClient(
            address: configuration.apiAddress, token: configuration.token, component: "kube-controller-manager",
            identity: configuration.identity)
        defer { Task { await client.close() } }
        logger.info("controller manager \(configuration.identity): controllers \(enabled.map { $0.name }.joined(separator: ", "))")
        guard configuration.leaderElect else {
            return await runControllers(client: client)
        }
        let outcome = Mutex<Outcome?>(nil)
        let configuration = configuration
        await LeaderElected.run(
            client: client, lockName: configuration.lockName, identity: configuration.identity,
            namespace: configuration.lockNamespace, releaseOnCancel: true,
            configure: { election in
                election.leaseDurationMilliseconds = configuration.leaseDurationMilliseconds
                election.renewDeadlineMilliseconds = configuration.renewDeadlineMilliseconds
                election.renewPeriodMilliseconds = configuration.retryPeriodMilliseconds
                election.retryPeriodMilliseconds = configuration.retryPeriodMilliseconds
            },
            logger: logger
        ) {
            let result = await self.runControllers(client: client)
            outcome.withLock { $0 = result }
        }
        if Task.isCancelled { return .stopped }
        if outcome.withLock({ $0 }) == .informersNotSynced { return .informersNotSynced }
        return .lostLeadership
    }

    /// Builds the informers and controllers, starts them, and runs every controller until the
    /// task is cancelled.
    func runControllers(client: ApiClient) async -> Outcome {
        var informerConfiguration = Informer<Namespace>.Configuration()
        informerConfiguration.resyncPeriodMilliseconds = configuration.resyncPeriodMilliseconds
        let informers = SharedInformers(client: client, configuration: informerConfiguration)
        let recorders = Recorders(client: client, instance: configuration.identity, logger: logger)
        var context = ControllerContext(
            client: client, informers: informers, events: { recorders.recorder($0) }, logger: logger,
            workers: configuration.concurrentSyncs)
        context.cluster = configuration.cluster
        let controllers = enabled.map { $0.init(context: context) }
        informers.start()
        let synced = await withTaskCancellationHandler {
            await informers.waitForSync()
        } onCancel: {
            Task { await informers.stop() }
        }
        guard synced, !Task.isCancelled else {
            await informers.stop()
            recorders.stopAll()
            return Task.isCancelled ? .stopped : .informersNotSynced
        }
        logger.info("controller manager: informers synced; starting \(controllers.count) controllers")
        configuration.onControllersStarted?()
        await withTaskGroup(of: Void.self) { group in
            for controller in controllers {
                group.addTask { await controller.run() }
            }
        }
        await informers.stop()
        recorders.stopAll()
        return .stopped
    }

    /// One EventRecorder per reporting component ("replicaset-controller"…), made on first use.
    final class Recorders: Sendable {
        let client: ApiClient
        let instance: String
        let logger: Logger
        private let recorders = Mutex<[String: EventRecorder]>([:])

        init(client: ApiClient, instance: String, logger: Logger) {
            self.client = client
            self.instance = instance
            self.logger = logger
        }

        func recorder(_ component: String) -> EventRecorder {
            recorders.withLock { recorders in
                if let existing = recorders[component] { return existing }
                let recorder = EventRecorder(client: client, component: component, instance: instance, logger: logger)
                recorders[component] = recorder
                return recorder
            }
        }

        func stopAll() {
            for recorder in recorders.withLock({ Array($0.values) }) { recorder.stop() }
        }
    }
}
