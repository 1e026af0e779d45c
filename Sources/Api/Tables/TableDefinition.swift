import Foundation

/// TableColumn is one column of kubectl's table output (meta.k8s.io/v1 TableColumnDefinition).
public struct TableColumn: Sendable, Equatable {
    /// Header as kubectl prints it upper-cased: "Name", "Ready", "Status", "Age".
    public var name: String
    /// OpenAPI type of the cells: "string", "integer", "number", "boolean", "date".
    public var type: String
    /// OpenAPI format hint: "name" for the object's name column, "" otherwise.
    public var format: String
    public var description: String
    /// 0: always shown; 1 and more: shown by `kubectl get -o wide` only.
    public var priority: Int32

    public init(_ name: String, type: String = "string", format: String = "", priority: Int32 = 0, description: String) {
        self.name = name
        self.type = type
        self.format = format
        self.priority = priority
        self.description = description
    }
}

/// TableDefinition says how one kind prints as a table: the columns kubectl shows on a real
/// cluster, and how to compute a row's cells from an object. The HTTPS gateway answers
/// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` with it, for lists, single objects and
/// watch events.
public struct TableDefinition: Sendable {
    public var columns: [TableColumn]
    /// The cells of one row, one per column, in order: JSON strings, numbers or booleans. `now`
    /// is the instant ages are computed from.
    public var cells: @Sendable (_ object: any KubernetesObject, _ now: Date) -> [JSONValue]

    public init(columns: [TableColumn], cells: @escaping @Sendable (_ object: any KubernetesObject, _ now: Date) -> [JSONValue]) {
        self.columns = columns
        self.cells = cells
    }
}

/// TableDefinitions finds the definition of a kind: a specific one when registered in
/// `TableDefinitions.specific` (by `ResourceType.qualifiedName`), otherwise Kubernetes' default
/// of NAME and AGE.
public enum TableDefinitions {
    public static func definition(for type: ResourceType) -> TableDefinition {
        specific[type.qualifiedName] ?? standard
    }

    /// Kubernetes' default table for kinds without their own printer: the name and the age.
    public static let standard = TableDefinition(
        columns: [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Age", description: "The time since the object was created."),
        ],
        cells: { object, now in [.string(object.metadata?.name ?? ""), .string(age(of: object, now: now))] })

    /// Age as kubectl prints it: "45s", "12m", "3h4m", "5d", "2y120d" (Kubernetes' HumanDuration).
    public static func age(of object: any KubernetesObject, now: Date) -> String {
        guard let created = object.metadata?.creationTimestamp?.seconds else { return "<unknown>" }
        return humanDuration(seconds: Int64(now.timeIntervalSince1970) - created)
    }

    /// A negative duration of a second or less is clock skew between machines and reads "0s";
    /// anything more negative is "<invalid>", as Kubernetes prints it.
    public static func humanDuration(seconds: Int64) -> String {
        if seconds < -1 { return "<invalid>" }
        let seconds = max(seconds, 0)
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s" }
        if minutes < 180 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
        if hours < 48 { return "\(hours)h" }
        let days = hours / 24
        if days < 8 { return hours % 24 == 0 ? "\(days)d" : "\(days)d\(hours % 24)h" }
        if days < 730 { return "\(days)d" }
        let years = days / 365
        if years < 8 { return days % 365 == 0 ? "\(years)y" : "\(years)y\(days % 365)d" }
        return "\(years)y"
    }
}
