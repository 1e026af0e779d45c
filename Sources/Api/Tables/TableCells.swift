import Foundation

extension TableDefinition {
    /// A definition for one kind: `cells` gets the object as its own type. The gateway looks
    /// definitions up by the object's resource type, so another kind reaching `cells` is a
    /// programmer error, as is a row whose length differs from the columns'.
    init<Object: KubernetesObject>(
        _ kind: Object.Type, columns: [TableColumn], cells: @escaping @Sendable (Object, Date) -> [JSONValue]
    ) {
        self.init(columns: columns) { object, now in
            guard let typed = object as? Object else {
                preconditionFailure("the \(Object.resourceType) table was given a \(object.resourceType) object")
            }
            let row = cells(typed, now)
            precondition(row.count == columns.count, "a \(Object.resourceType) row has \(row.count) cells for \(columns.count) columns")
            return row
        }
    }

    /// The table of the API server's default converter, which Kubernetes uses for kinds that
    /// have no printer of their own (roles, cluster roles, limit ranges): the name and the
    /// creation time in RFC 3339, UTC.
    static func nameAndCreationTime<Object: KubernetesObject>(_ kind: Object.Type) -> TableDefinition {
        TableDefinition(kind, columns: [.name, TableColumn("Created At", type: "date", description: "When the object was created.")]) { object, _ in
            [.string(object.metadata?.name ?? ""), .string(TableCells.rfc3339(object.metadata?.creationTimestamp))]
        }
    }
}

extension TableColumn {
    static let name = TableColumn("Name", format: "name", description: "Name must be unique within a namespace.")
    static let age = TableColumn("Age", description: "The time since the object was created.")
    static let containers = TableColumn("Containers", priority: 1, description: "Names of each container in the template.")
    static let images = TableColumn("Images", priority: 1, description: "Images referenced by each container in the template.")
    static let selector = TableColumn("Selector", priority: 1, description: "The label selector of the pods this object manages.")
}

/// TableCells formats the values Kubernetes' printers share: ages, label maps, selectors,
/// container lists and quantities, with the placeholders kubectl users know ("<none>",
/// "<unknown>").
enum TableCells {
    /// The object's name.
    static func name(_ object: any KubernetesObject) -> JSONValue { .string(object.metadata?.name ?? "") }

    /// The object's age.
    static func age(_ object: any KubernetesObject, _ now: Date) -> JSONValue {
        .string(TableDefinitions.age(of: object, now: now))
    }

    /// Time elapsed since `seconds` (Unix time), or "<unknown>" when there is no time.
    static func since(_ seconds: Int64?, now: Date) -> String {
        guard let seconds else { return "<unknown>" }
        return TableDefinitions.humanDuration(seconds: Int64(now.timeIntervalSince1970) - seconds)
    }

    static func since(_ time: Time?, now: Date) -> String { since(time?.seconds, now: now) }

    static func since(_ time: MicroTime?, now: Date) -> String { since(time?.seconds, now: now) }

    /// "2025-01-31T12:00:00Z", or "" without a time (Kubernetes prints the zero time then,
    /// which no stored object has).
    static func rfc3339(_ time: Time?) -> String {
        guard let seconds = time?.seconds else { return "" }
        return Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(Date.ISO8601FormatStyle(timeZone: .gmt))
    }

    /// Labels as `a=b,c=d`, sorted by key; "<none>" for none (Kubernetes' FormatLabels).
    static func labels(_ labels: [String: String]) -> String {
        guard !labels.isEmpty else { return "<none>" }
        return labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// A selector object in the string syntax ("app=web,tier in (a,b)"); "<none>" when it is
    /// missing or empty, "<error>" when it is malformed (Kubernetes' FormatLabelSelector).
    static func selector(_ selector: LabelSelector?) -> String {
        guard let parsed = try? ParsedLabelSelector(selector) else { return "<error>" }
        return parsed.isEmpty || parsed.matchesNothing ? "<none>" : parsed.description
    }

    /// The names and the images of containers, each comma-separated, in order.
    static func containers(_ containers: [Container]) -> (names: String, images: String) {
        (containers.map { $0.name ?? "" }.joined(separator: ","), containers.map { $0.image ?? "" }.joined(separator: ","))
    }

    /// A quantity in canonical form ("1Gi", "500m"); "0" when absent, the text as stored when
    /// it does not parse.
    static func quantity(_ quantity: Quantity?) -> String {
        guard let quantity else { return "0" }
        return (try? quantity.value())?.description ?? quantity.string ?? "0"
    }

    /// `values` joined with commas, at most `limit` of them, then " + N more..." for the rest;
    /// "<unset>" when there are none (Kubernetes' listWithMoreString).
    static func listWithMore(_ values: [String], limit: Int = 3) -> String {
        guard !values.isEmpty else { return "<unset>" }
        let shown = values.prefix(limit).joined(separator: ",")
        return values.count > limit ? "\(shown) + \(values.count - limit) more..." : shown
    }

    /// An address and a port as Go's net.JoinHostPort writes them: IPv6 addresses bracketed.
    static func hostPort(_ host: String, _ port: Int32) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The value, or `placeholder` when it is missing or empty.
    static func orPlaceholder(_ value: String?, _ placeholder: String = "<none>") -> String {
        guard let value, !value.isEmpty else { return placeholder }
        return value
    }

    /// "<ready>/<desired>", as deployments and stateful sets show readiness.
    static func fraction(_ part: Int32?, of whole: Int32?) -> JSONValue { .string("\(part ?? 0)/\(whole ?? 0)") }

    static func int(_ value: Int32?) -> JSONValue { .int(value ?? 0) }

    static func int(_ value: Int) -> JSONValue { .int(value) }
}
