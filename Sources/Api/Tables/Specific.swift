extension TableDefinitions {
    /// Definitions of kinds with their own columns, by `ResourceType.qualifiedName` ("pods",
    /// "deployments.apps"). Each lives in a file of its own in this folder.
    static let specific: [String: TableDefinition] = [:]
}
