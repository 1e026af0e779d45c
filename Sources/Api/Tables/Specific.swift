extension TableDefinitions {
    /// Definitions of kinds with their own columns, by `ResourceType.qualifiedName` ("pods",
    /// "deployments.apps"). Each lives in a file of its own in this folder.
    static let specific: [String: TableDefinition] = {
        let definitions: [(ResourceType, TableDefinition)] = [
            (Pod.resourceType, PodTable.definition),
            (Deployment.resourceType, WorkloadTables.deployment),
            (ReplicaSet.resourceType, WorkloadTables.replicaSet),
            (ReplicationController.resourceType, WorkloadTables.replicationController),
            (StatefulSet.resourceType, WorkloadTables.statefulSet),
            (DaemonSet.resourceType, WorkloadTables.daemonSet),
            (Job.resourceType, JobTable.definition),
            (Node.resourceType, NodeTable.definition),
            (Service.resourceType, ServiceTables.service),
            (Endpoints.resourceType, ServiceTables.endpoints),
            (EndpointSlice.resourceType, ServiceTables.endpointSlice),
            (Ingress.resourceType, ServiceTables.ingress),
            (Namespace.resourceType, ClusterTables.namespace),
            (ComponentStatus.resourceType, ClusterTables.componentStatus),
            (Event.resourceType, EventTable.definition),
            (ConfigMap.resourceType, ConfigurationTables.configMap),
            (Secret.resourceType, ConfigurationTables.secret),
            (ServiceAccount.resourceType, ConfigurationTables.serviceAccount),
            (Lease.resourceType, LeaseTable.definition),
            (ResourceQuota.resourceType, PolicyTables.resourceQuota),
            (LimitRange.resourceType, PolicyTables.limitRange),
            (PersistentVolume.resourceType, StorageTables.persistentVolume),
            (PersistentVolumeClaim.resourceType, StorageTables.persistentVolumeClaim),
            (Role.resourceType, RBACTables.role),
            (ClusterRole.resourceType, RBACTables.clusterRole),
            (RoleBinding.resourceType, RBACTables.roleBinding),
            (ClusterRoleBinding.resourceType, RBACTables.clusterRoleBinding),
        ]
        return Dictionary(uniqueKeysWithValues: definitions.map { ($0.0.qualifiedName, $0.1) })
    }()
}
