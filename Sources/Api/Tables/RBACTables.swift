import Foundation

/// RBACTables are roles and their bindings. Kubernetes has no printer for roles, so they show
/// the default NAME CREATED AT; bindings show the role they grant and, for `-o wide`, to whom.
enum RBACTables {
    static let role = TableDefinition.nameAndCreationTime(Role.self)
    static let clusterRole = TableDefinition.nameAndCreationTime(ClusterRole.self)

    static let bindingColumns: [TableColumn] = [
        .name,
        TableColumn("Role", description: "The role granted, as Kind/name."),
        .age,
        TableColumn("Users", priority: 1, description: "Users in the binding"),
        TableColumn("Groups", priority: 1, description: "Groups in the binding"),
        TableColumn("ServiceAccounts", priority: 1, description: "ServiceAccounts in the binding, as namespace/name"),
    ]

    static let roleBinding = TableDefinition(RoleBinding.self, columns: bindingColumns) { binding, now in
        bindingCells(binding, roleRef: binding.roleRef, subjects: binding.subjects, now: now)
    }

    static let clusterRoleBinding = TableDefinition(ClusterRoleBinding.self, columns: bindingColumns) { binding, now in
        bindingCells(binding, roleRef: binding.roleRef, subjects: binding.subjects, now: now)
    }

    static func bindingCells(_ binding: any KubernetesObject, roleRef: RoleRef?, subjects: [Subject], now: Date) -> [JSONValue] {
        func names(_ kind: String) -> String {
            subjects.filter { $0.kind == kind }.map { subject in
                kind == "ServiceAccount" ? "\(subject.namespace ?? "")/\(subject.name ?? "")" : subject.name ?? ""
            }.joined(separator: ", ")
        }
        return [
            TableCells.name(binding), .string("\(roleRef?.kind ?? "")/\(roleRef?.name ?? "")"), TableCells.age(binding, now),
            .string(names("User")), .string(names("Group")), .string(names("ServiceAccount")),
        ]
    }
}
