import Foundation

/// WorkloadTables are the controllers of pods: deployments, replica sets, replication
/// controllers, stateful sets and daemon sets. `-o wide` adds the template's containers and
/// images and the pod selector. A missing `spec.replicas` counts as 1, the default Kubernetes
/// stores.
enum WorkloadTables {
    static let deployment = TableDefinition(
        Deployment.self,
        columns: [
            .name,
            TableColumn("Ready", description: "Number of the pod with ready state"),
            TableColumn("Up-to-date", description: "Total number of non-terminating pods that have the desired template spec."),
            TableColumn("Available", description: "Total number of available non-terminating pods (ready for at least minReadySeconds)."),
            .age, .containers, .images, .selector,
        ]
    ) { deployment, now in
        let spec = deployment.spec ?? DeploymentSpec()
        let status = deployment.status ?? DeploymentStatus()
        let (names, images) = TableCells.containers(spec.template?.spec?.containers ?? [])
        return [
            TableCells.name(deployment), TableCells.fraction(status.readyReplicas, of: spec.replicas ?? 1),
            TableCells.int(status.updatedReplicas), TableCells.int(status.availableReplicas), TableCells.age(deployment, now),
            .string(names), .string(images), .string(deploymentSelector(spec.selector)),
        ]
    }

    /// A deployment prints its selector bare: "" when there is none, "<invalid>" when malformed.
    static func deploymentSelector(_ selector: LabelSelector?) -> String {
        guard let selector else { return "" }
        guard let parsed = try? ParsedLabelSelector(selector) else { return "<invalid>" }
        return parsed.description
    }

    static let replicaSet = TableDefinition(
        ReplicaSet.self,
        columns: [
            .name,
            TableColumn("Desired", type: "integer", description: "Number of desired pods."),
            TableColumn("Current", type: "integer", description: "The most recently observed number of non-terminating pods."),
            TableColumn("Ready", type: "integer", description: "The number of non-terminating pods with a Ready condition."),
            .age, .containers, .images, .selector,
        ]
    ) { replicaSet, now in
        let spec = replicaSet.spec ?? ReplicaSetSpec()
        let status = replicaSet.status ?? ReplicaSetStatus()
        let (names, images) = TableCells.containers(spec.template?.spec?.containers ?? [])
        return [
            TableCells.name(replicaSet), TableCells.int(spec.replicas ?? 1), TableCells.int(status.replicas),
            TableCells.int(status.readyReplicas), TableCells.age(replicaSet, now),
            .string(names), .string(images), .string(TableCells.selector(spec.selector)),
        ]
    }

    static let replicationController = TableDefinition(
        ReplicationController.self,
        columns: [
            .name,
            TableColumn("Desired", type: "integer", description: "Number of desired pods."),
            TableColumn("Current", type: "integer", description: "The most recently observed number of replicas."),
            TableColumn("Ready", type: "integer", description: "The number of ready replicas."),
            .age, .containers, .images, .selector,
        ]
    ) { controller, now in
        let spec = controller.spec ?? ReplicationControllerSpec()
        let status = controller.status ?? ReplicationControllerStatus()
        let (names, images) = TableCells.containers(spec.template?.spec?.containers ?? [])
        return [
            TableCells.name(controller), TableCells.int(spec.replicas ?? 1), TableCells.int(status.replicas),
            TableCells.int(status.readyReplicas), TableCells.age(controller, now),
            .string(names), .string(images), .string(TableCells.labels(spec.selector)),
        ]
    }

    static let statefulSet = TableDefinition(
        StatefulSet.self,
        columns: [
            .name,
            TableColumn("Ready", description: "Number of the pod with ready state"),
            .age, .containers, .images,
        ]
    ) { statefulSet, now in
        let spec = statefulSet.spec ?? StatefulSetSpec()
        let (names, images) = TableCells.containers(spec.template?.spec?.containers ?? [])
        return [
            TableCells.name(statefulSet), TableCells.fraction(statefulSet.status?.readyReplicas, of: spec.replicas ?? 1),
            TableCells.age(statefulSet, now), .string(names), .string(images),
        ]
    }

    static let daemonSet = TableDefinition(
        DaemonSet.self,
        columns: [
            .name,
            TableColumn("Desired", type: "integer", description: "The number of nodes that should be running the daemon pod."),
            TableColumn("Current", type: "integer", description: "The number of nodes running at least one daemon pod that should."),
            TableColumn("Ready", type: "integer", description: "The number of nodes whose daemon pod is ready."),
            TableColumn("Up-to-date", type: "integer", description: "The number of nodes running the updated daemon pod."),
            TableColumn("Available", type: "integer", description: "The number of nodes whose daemon pod is available."),
            TableColumn("Node Selector", description: "Node labels the daemon pods are restricted to."),
            .age, .containers, .images, .selector,
        ]
    ) { daemonSet, now in
        let spec = daemonSet.spec ?? DaemonSetSpec()
        let status = daemonSet.status ?? DaemonSetStatus()
        let podSpec = spec.template?.spec ?? PodSpec()
        let (names, images) = TableCells.containers(podSpec.containers)
        return [
            TableCells.name(daemonSet), TableCells.int(status.desiredNumberScheduled),
            TableCells.int(status.currentNumberScheduled), TableCells.int(status.numberReady),
            TableCells.int(status.updatedNumberScheduled), TableCells.int(status.numberAvailable),
            .string(TableCells.labels(podSpec.nodeSelector)), TableCells.age(daemonSet, now),
            .string(names), .string(images), .string(TableCells.selector(spec.selector)),
        ]
    }
}
