import Api

/// ReplicationControllerController keeps each ReplicationController's number of pods at
/// spec.replicas, with the replica set logic (ReplicaManager): the two kinds differ only in how
/// they spell their selector.
public struct ReplicationControllerController: Controller {
    public static let name = "replicationcontroller"
    let manager: ReplicaManager<ReplicationController>

    public init(context: ControllerContext) {
        manager = ReplicaManager(context: context, name: Self.name, eventComponent: "replication-controller")
    }

    public func run() async {
        await manager.run()
    }
}
