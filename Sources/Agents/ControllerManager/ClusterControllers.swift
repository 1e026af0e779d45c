/// Cluster controllers: node lifecycle, endpoints, endpoint slices, services, namespaces,
/// persistent volumes, service accounts and their tokens, garbage collector, resource quota.
public enum ClusterControllers {
    public static let all: [any Controller.Type] = []
}
