import Api
import Logging

/// Controller is one control loop of the controller manager (seed items 19–21): it watches
/// objects through the shared informers, queues the keys of what changed, and reconciles desired
/// against actual state, level-triggered, writing objects and their `status` through the API.
public protocol Controller: Sendable {
    /// The name `--controllers` uses, as in kube-controller-manager: "replicaset", "deployment",
    /// "garbage-collector"…
    static var name: String { get }
    /// Creates the controller and registers its informer handlers and indexes. Called for every
    /// enabled controller before the shared informers start.
    init(context: ControllerContext)
    /// Reconciles until the task is cancelled (leadership lost, or shutdown). Called after the
    /// shared informers have synced.
    func run() async
}

/// ControllerContext is what every controller of one controller-manager process shares.
public struct ControllerContext: Sendable {
    public let client: ApiClient
    public let informers: SharedInformers
    /// Records events as "<name>-controller".
    public let events: @Sendable (_ component: String) -> EventRecorder
    public let logger: Logger
    /// Worker tasks per controller (`--concurrent-*-syncs`).
    public let workers: Int
    /// Settings of the cluster controllers (grace periods, provisioner, signing key).
    public var cluster = ClusterControllerOptions()

    public init(
        client: ApiClient, informers: SharedInformers, events: @escaping @Sendable (String) -> EventRecorder,
        logger: Logger, workers: Int
    ) {
        self.client = client
        self.informers = informers
        self.events = events
        self.logger = logger
        self.workers = workers
    }
}
