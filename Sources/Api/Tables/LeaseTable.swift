import Foundation

/// LeaseTable is `kubectl get leases`: NAME HOLDER AGE.
enum LeaseTable {
    static let definition = TableDefinition(
        Lease.self,
        columns: [.name, TableColumn("Holder", description: "The identity of the current holder of the lease."), .age]
    ) { lease, now in
        [TableCells.name(lease), .string(lease.spec?.holderIdentity ?? ""), TableCells.age(lease, now)]
    }
}
