import Foundation

/// NodeTable is `kubectl get nodes`: NAME STATUS ROLES AGE VERSION, and for `-o wide`
/// INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME.
enum NodeTable {
    static let definition = TableDefinition(
        Node.self,
        columns: [
            .name,
            TableColumn("Status", description: "The status of the node"),
            TableColumn("Roles", description: "The roles of the node"),
            .age,
            TableColumn("Version", description: "The version of the node agent the node reports."),
            TableColumn("Internal-IP", priority: 1, description: "The node's first InternalIP address."),
            TableColumn("External-IP", priority: 1, description: "The node's first ExternalIP address."),
            TableColumn("OS-Image", priority: 1, description: "The operating system image the node reports."),
            TableColumn("Kernel-Version", priority: 1, description: "The kernel version the node reports."),
            TableColumn("Container-Runtime", priority: 1, description: "The container runtime and its version."),
        ]
    ) { node, now in
        let info = node.status?.nodeInfo ?? NodeSystemInfo()
        return [
            TableCells.name(node), .string(status(node)), .string(roles(node)), TableCells.age(node, now),
            .string(info.kubeletVersion ?? ""),
            .string(address(node, type: "InternalIP")), .string(address(node, type: "ExternalIP")),
            .string(TableCells.orPlaceholder(info.osImage, "<unknown>")),
            .string(TableCells.orPlaceholder(info.kernelVersion, "<unknown>")),
            .string(TableCells.orPlaceholder(info.containerRuntimeVersion, "<unknown>")),
        ]
    }

    /// "Ready" or "NotReady" from the Ready condition, "Unknown" without one; cordoned nodes add
    /// ",SchedulingDisabled".
    static func status(_ node: Node) -> String {
        var words: [String] = []
        if let ready = node.status?.conditions.last(where: { $0.type == "Ready" }) {
            words.append(ready.status == "True" ? "Ready" : "NotReady")
        } else {
            words.append("Unknown")
        }
        if node.spec?.unschedulable == true { words.append("SchedulingDisabled") }
        return words.joined(separator: ",")
    }

    /// Roles from `node-role.kubernetes.io/<role>` label keys and the `kubernetes.io/role`
    /// label's value, sorted and distinct; "<none>" without any.
    static func roles(_ node: Node) -> String {
        let prefix = "node-role.kubernetes.io/"
        var roles = Set<String>()
        for (key, value) in node.metadata?.labels ?? [:] {
            if key.hasPrefix(prefix), key.count > prefix.count {
                roles.insert(String(key.dropFirst(prefix.count)))
            } else if key == "kubernetes.io/role", !value.isEmpty {
                roles.insert(value)
            }
        }
        return roles.isEmpty ? "<none>" : roles.sorted().joined(separator: ",")
    }

    /// The first address of a type, or "<none>".
    static func address(_ node: Node, type: String) -> String {
        node.status?.addresses.first { $0.type == type }?.address ?? "<none>"
    }
}
