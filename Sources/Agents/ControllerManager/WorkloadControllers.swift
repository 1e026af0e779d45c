/// Workload controllers: ReplicationController, ReplicaSet, Deployment, DaemonSet, Job,
/// StatefulSet. The controller manager runs every controller listed here and in
/// `ClusterControllers.all` that `--controllers` enables.
public enum WorkloadControllers {
    public static let all: [any Controller.Type] = [
        ReplicationControllerController.self,
        ReplicaSetController.self,
        DeploymentController.self,
        DaemonSetController.self,
        JobController.self,
        StatefulSetController.self,
    ]
}
