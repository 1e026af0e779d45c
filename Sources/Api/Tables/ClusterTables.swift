import Foundation

/// ClusterTables are namespaces and component statuses.
enum ClusterTables {
    static let namespace = TableDefinition(
        Namespace.self,
        columns: [.name, TableColumn("Status", description: "The status of the namespace"), .age]
    ) { namespace, now in
        // Kubernetes stores a new namespace as Active.
        [TableCells.name(namespace), .string(namespace.status?.phase ?? "Active"), TableCells.age(namespace, now)]
    }

    /// `kubectl get componentstatuses`: NAME STATUS MESSAGE ERROR from the Healthy condition;
    /// it has no AGE column.
    static let componentStatus = TableDefinition(
        ComponentStatus.self,
        columns: [
            .name,
            TableColumn("Status", description: "Status of the component conditions"),
            TableColumn("Message", description: "Message of the component conditions"),
            TableColumn("Error", description: "Error of the component conditions"),
        ]
    ) { component, _ in
        guard let healthy = component.conditions.first(where: { $0.type == "Healthy" }) else {
            return [TableCells.name(component), .string("Unknown"), .string(""), .string("")]
        }
        return [
            TableCells.name(component), .string(healthy.status == "True" ? "Healthy" : "Unhealthy"),
            .string(healthy.message ?? ""), .string(healthy.error ?? ""),
        ]
    }
}
