/// ResourceNames are the names of the compute resources in `requests`, `limits`, `capacity` and
/// `allocatable` that the scheduler and nodes treat specially.
public enum ResourceNames {
    public static let cpu = "cpu"
    public static let memory = "memory"
    public static let ephemeralStorage = "ephemeral-storage"
    public static let pods = "pods"
}
