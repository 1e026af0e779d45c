import Api

/// ReplicaSetController keeps each ReplicaSet's number of pods at spec.replicas (seed item 20).
public struct ReplicaSetController: Controller {
    public static let name = "replicaset"
    let manager: ReplicaManager<ReplicaSet>

    public init(context: ControllerContext) {
        manager = ReplicaManager(context: context, name: Self.name, eventComponent: "replicaset-controller")
    }

    public func run() async {
        await manager.run()
    }
}
