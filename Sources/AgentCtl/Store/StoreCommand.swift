import ArgumentParser

/// `agentctl store`: run a store member, or administer a running store cluster.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Run a member of Skiff's replicated key-value store, or administer a running one (etcdctl-like).",
        subcommands: [StoreRun.self] + adminVerbs)

    /// The etcdctl-like admin verbs (put, get, ls, del, watch, txn, lease, compact, member,
    /// status, snapshot). Every one takes the options of `StoreGlobalOptions`.
    static let adminVerbs: [any ParsableCommand.Type] = [
        StorePut.self, StoreGet.self, StoreList.self, StoreDelete.self, StoreWatchCommand.self, StoreTxn.self,
        StoreLease.self, StoreCompact.self, StoreMemberCommand.self, StoreStatusCommand.self, StoreSnapshotCommand.self,
    ]
}
