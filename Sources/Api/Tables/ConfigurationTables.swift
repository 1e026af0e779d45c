import Foundation

/// ConfigurationTables are what pods read their configuration and identity from: config maps,
/// secrets, service accounts.
enum ConfigurationTables {
    static let configMap = TableDefinition(
        ConfigMap.self,
        columns: [.name, TableColumn("Data", description: "The number of keys in data and binaryData."), .age]
    ) { configMap, now in
        [TableCells.name(configMap), TableCells.int(configMap.data.count + configMap.binaryData.count), TableCells.age(configMap, now)]
    }

    static let secret = TableDefinition(
        Secret.self,
        columns: [
            .name, TableColumn("Type", description: "Used to facilitate programmatic handling of secret data."),
            TableColumn("Data", description: "The number of keys in the secret."), .age,
        ]
    ) { secret, now in
        // Kubernetes merges stringData into data on write; a key in both counts once.
        let keys = Set(secret.data.keys).union(secret.stringData.keys)
        return [TableCells.name(secret), .string(secret.type ?? "Opaque"), TableCells.int(keys.count), TableCells.age(secret, now)]
    }

    static let serviceAccount = TableDefinition(
        ServiceAccount.self,
        columns: [.name, TableColumn("Secrets", description: "The number of secrets the service account lists."), .age]
    ) { account, now in
        [TableCells.name(account), TableCells.int(account.secrets.count), TableCells.age(account, now)]
    }
}
