/// Cluster controllers: node lifecycle, pod garbage collector, endpoints, endpoint slices,
/// services, namespaces, persistent volumes, service accounts and their tokens, garbage
/// collector, resource quota.
public enum ClusterControllers {
    public static let all: [any Controller.Type] = [
        NodeLifecycleController.self, PodGCController.self, EndpointsController.self, EndpointSliceController.self,
        ServiceLoadBalancerController.self, NamespaceController.self, PersistentVolumeBinderController.self,
        ServiceAccountController.self, ServiceAccountTokenController.self, GarbageCollectorController.self,
        ResourceQuotaController.self,
    ]
}

/// ClusterControllerOptions are the cluster controllers' settings, from the controller
/// manager's flags (kube-controller-manager's names where they exist).
public struct ClusterControllerOptions: Sendable {
    /// `--node-monitor-grace-period`: how long a node may go without a heartbeat (Lease renewal
    /// or Ready condition update) before its conditions become Unknown.
    public var nodeMonitorGracePeriodMilliseconds: UInt64 = 40_000
    /// `--hostpath-provisioner-directory`: where the hostPath provisioner makes volume
    /// directories (on the controller manager's machine: hostPath volumes suit single-node
    /// clusters, as Kubernetes' hostpath provisioner does).
    public var hostPathDirectory = "/tmp/hostpath_pv"
    /// `--hostpath-storage-class`: the storage class whose claims the provisioner serves ("" for none).
    public var hostPathStorageClass = "standard"
    /// `--default-storage-class`: the class of claims that name none ("" for none).
    public var defaultStorageClass = "standard"
    /// `--service-account-private-key-file`'s contents: the token controller signs with it; nil
    /// leaves token secrets alone.
    public var serviceAccountSigningKey: [UInt8]?
    /// `--service-account-token-lifetime`: how long the tokens put in secrets are valid; they
    /// are renewed four fifths into their life.
    public var serviceAccountTokenLifetimeSeconds: Int64 = 365 * 86_400
    /// `--resource-quota-sync-period`: every quota is recounted this often besides on changes
    /// (pods leave the count when their deletion grace period ends, without an event).
    public var resourceQuotaSyncPeriodMilliseconds: UInt64 = 30_000
    /// `--terminated-pod-gc-threshold`: finished (Succeeded or Failed) pods kept before the pod
    /// garbage collector deletes the oldest; 0 keeps them all.
    public var terminatedPodGCThreshold = 12_500
    /// How often the pod garbage collector looks at every pod (Kubernetes' gcCheckPeriod).
    public var podGCPeriodMilliseconds: UInt64 = 20_000
    /// How long a node that pods name must be missing from the cache before the pod garbage
    /// collector asks the API server whether it is gone (Kubernetes' quarantineTime).
    public var podGCOrphanQuarantineMilliseconds: UInt64 = 40_000

    public init() {}
}
