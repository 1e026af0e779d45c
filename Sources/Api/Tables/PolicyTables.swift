import Foundation

/// PolicyTables are the namespace's resource limits: resource quotas and limit ranges.
enum PolicyTables {
    /// `kubectl get resourcequotas`: NAME REQUEST LIMIT AGE, each cell "resource: used/hard"
    /// for the quota's resources sorted by name; `limits.*` resources go to LIMIT.
    static let resourceQuota = TableDefinition(
        ResourceQuota.self,
        columns: [
            .name,
            TableColumn("Request", description: "Request represents a minimum amount of cpu/memory that a container may consume."),
            TableColumn("Limit", description: "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
            .age,
        ]
    ) { quota, now in
        let status = quota.status ?? ResourceQuotaStatus()
        var requests: [String] = []
        var limits: [String] = []
        for (resource, hard) in status.hard.sorted(by: { $0.key < $1.key }) {
            let entry = "\(resource): \(TableCells.quantity(status.used[resource]))/\(TableCells.quantity(hard))"
            if resource.hasPrefix("limits.") { limits.append(entry) } else { requests.append(entry) }
        }
        return [
            TableCells.name(quota), .string(requests.joined(separator: ", ")), .string(limits.joined(separator: ", ")),
            TableCells.age(quota, now),
        ]
    }

    /// Kubernetes has no printer for limit ranges: NAME CREATED AT.
    static let limitRange = TableDefinition.nameAndCreationTime(LimitRange.self)
}
