import Glibc
import Wire

/// StoreSnapshotRestore builds a member's data folder from a saved store snapshot, like
/// `etcdutl snapshot restore`: every member of the new cluster is restored from the same file
/// with the same `--initial-cluster`, then started with `agentctl store run` as a new cluster.
///
/// The rule: the Raft snapshot sits at index N = the number of members, term 1, with every
/// member of the initial cluster a voter; the hard state is term 1, no vote, commit N. That is
/// exactly where a freshly bootstrapped cluster stands after its N membership entries (see
/// `RaftNode.bootstrap`), so every restored member starts from an identical committed state and
/// an ordinary election follows. The store's consistent index is set to N for the same reason.
/// The snapshot data is a bare `StoreSnapshot`; the members come from `--initial-cluster`.
public enum StoreSnapshotRestore {
    public struct Result: Sendable, Hashable {
        public var dataDirectory: String
        public var memberID: UInt64
        public var raftIndex: UInt64
        public var revision: Int64
        public var keyCount: Int
        public var members: [Member]
    }

    /// restore reads `snapshotPath` (written by `StoreClient.snapshot(to:)`), checks it, and
    /// writes a new data folder at `dataDirectory`, which must not exist or be empty.
    public static func restore(
        snapshotPath: String, dataDirectory: String, name: String,
        initialCluster: [(name: String, peerAddress: SocketAddress)]
    ) throws(StoreClientError) -> Result {
        guard initialCluster.contains(where: { $0.name == name }) else {
            let names = initialCluster.map(\.name).joined(separator: ", ")
            throw .invalidArgument("--initial-cluster (\(names)) does not list --name \(name); add \(name)=HOST:PORT")
        }
        let ids = Set(initialCluster.map { StoreMemberIdentity.id(name: $0.name) })
        guard ids.count == initialCluster.count else {
            throw .invalidArgument("--initial-cluster: two member names map to the same id; rename one")
        }
        if FileSystem.exists(dataDirectory) {
            let entries: [String]
            do {
                entries = try FileSystem.listDirectory(dataDirectory)
            } catch {
                throw StoreClientError(.snapshot, "--data-dir \(dataDirectory) exists and cannot be read: \(error)")
            }
            guard entries.isEmpty else {
                throw .invalidArgument("--data-dir \(dataDirectory) already exists and is not empty; restore into a new folder (a restore never overwrites a member's data)")
            }
        }
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readAll(snapshotPath)
        } catch {
            throw StoreClientError(.snapshot, "cannot read the snapshot file \(snapshotPath): \(error)")
        }
        var snapshot: StoreSnapshot
        do {
            snapshot = try StoreSnapshot(protobuf: bytes)
            // Restoring proves the file is a consistent store before anything is written.
            _ = try MVCCStore(restoring: snapshot)
        } catch {
            throw StoreClientError(.snapshot, "\(snapshotPath) is not a valid store snapshot (\(error)); save a new one with `agentctl store snapshot save`")
        }
        let index = UInt64(initialCluster.count)
        snapshot.consistentIndex = index
        let members = initialCluster.map {
            Member(id: StoreMemberIdentity.id(name: $0.name), name: $0.name, peerAddress: $0.peerAddress.description)
        }
        // A bare StoreSnapshot, not a MemberStateSnapshot: each member then takes the member
        // table from its own --initial-cluster and flags, including its client address, which a
        // table written here could not know (cluster.proto allows exactly this).
        let data = snapshot.protobufBytes()
        let metadata = SnapshotMetadata(
            confState: ConfState(voters: members.map(\.id).sorted()), index: index, term: 1)
        do {
            let (storage, recovered) = try RaftStorage.open(dataDirectory: dataDirectory)
            precondition(recovered.snapshot == nil && recovered.entries.isEmpty, "a new data folder holds nothing")
            try storage.saveSnapshot(metadata: metadata, data: data, replacesLog: true)
            storage.setHardState(HardState(term: 1, vote: 0, commit: index))
            try storage.sync()
        } catch {
            throw StoreClientError(.snapshot, "cannot build the data folder \(dataDirectory): \(error)")
        }
        return Result(
            dataDirectory: dataDirectory, memberID: StoreMemberIdentity.id(name: name), raftIndex: index,
            revision: snapshot.revision, keyCount: Self.liveKeyCount(snapshot), members: members)
    }

    static func liveKeyCount(_ snapshot: StoreSnapshot) -> Int {
        var newest: [[UInt8]: Int64] = [:]
        for record in snapshot.records {
            guard let keyValue = record.kv else { continue }
            newest[keyValue.key] = keyValue.version
        }
        return newest.values.filter { $0 > 0 }.count
    }
}
