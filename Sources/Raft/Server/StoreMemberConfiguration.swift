import Wire

/// StoreMemberConfiguration is everything `agentctl store run` takes for one member.
public struct StoreMemberConfiguration: Sendable {
    public enum ClusterState: String, Sendable {
        /// Founding member of a new cluster: bootstraps the membership when its data folder is empty.
        case new
        /// Joining an existing cluster after `member add`: waits to hear from the leader.
        case existing
    }

    public var name: String
    public var dataDirectory: String
    public var clientAddress: SocketAddress
    public var peerAddress: SocketAddress
    /// Every member's name and peer address, this member included.
    public var initialCluster: [(name: String, peerAddress: SocketAddress)]
    public var initialClusterState: ClusterState = .new
    /// The cluster's store credential: clients (API servers, agentctl) and peers present it.
    public var token: String
    /// One Raft tick; heartbeats go every tick and elections start after 10–20 ticks (etcd's
    /// defaults: 100 ms heartbeat, 1 s election timeout).
    public var tickMilliseconds: UInt64 = 100
    public var electionTimeoutTicks = 10
    /// A snapshot of the state is taken (and the log compacted) every this many applied entries.
    public var snapshotEntries: UInt64 = 100_000
    /// Linearizable reads and forwarded writes give up after this long without a leader.
    public var requestTimeoutMilliseconds: UInt32 = 5000

    public init(
        name: String, dataDirectory: String, clientAddress: SocketAddress, peerAddress: SocketAddress,
        initialCluster: [(name: String, peerAddress: SocketAddress)], token: String
    ) {
        self.name = name
        self.dataDirectory = dataDirectory
        self.clientAddress = clientAddress
        self.peerAddress = peerAddress
        self.initialCluster = initialCluster
        self.token = token
    }

    public var memberID: UInt64 { StoreMemberIdentity.id(name: name) }

    /// Parses "m1=127.0.0.1:2380,m2=127.0.0.1:2480"; the error names the bad part.
    public static func parseInitialCluster(_ text: String) throws(ConfigurationError) -> [(name: String, peerAddress: SocketAddress)] {
        var members: [(name: String, peerAddress: SocketAddress)] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1)
            guard pieces.count == 2, !pieces[0].isEmpty else {
                throw ConfigurationError("--initial-cluster: \"\(part)\" is not NAME=HOST:PORT (for example m1=127.0.0.1:2380)")
            }
            let address: SocketAddress
            do {
                address = try SocketAddress(parsing: String(pieces[1]))
            } catch {
                throw ConfigurationError("--initial-cluster: member \(pieces[0]): \(error)")
            }
            if members.contains(where: { $0.name == String(pieces[0]) }) {
                throw ConfigurationError("--initial-cluster: member name \(pieces[0]) appears twice; names must be unique")
            }
            members.append((String(pieces[0]), address))
        }
        guard !members.isEmpty else {
            throw ConfigurationError("--initial-cluster is empty; list every member as NAME=HOST:PORT separated by commas")
        }
        return members
    }

    /// Checks what can be checked before touching the disk or the network.
    public func validate() throws(ConfigurationError) {
        guard !name.isEmpty, name.utf8.count <= 63 else {
            throw ConfigurationError("--name must be 1 to 63 characters")
        }
        guard let me = initialCluster.first(where: { $0.name == name }) else {
            let names = initialCluster.map(\.name).joined(separator: ", ")
            throw ConfigurationError("--initial-cluster (\(names)) does not list this member's --name \(name); add \(name)=\(peerAddress)")
        }
        guard me.peerAddress == peerAddress else {
            throw ConfigurationError("--initial-cluster gives \(name) the peer address \(me.peerAddress) but --peer-listen is \(peerAddress); make them equal")
        }
        guard !token.isEmpty else {
            throw ConfigurationError("no store token: pass --token or --token-file (every member and client must use the same one)")
        }
        let ids = Set(initialCluster.map { StoreMemberIdentity.id(name: $0.name) })
        guard ids.count == initialCluster.count else {
            throw ConfigurationError("--initial-cluster: two member names map to the same id; rename one")
        }
        guard tickMilliseconds > 0, electionTimeoutTicks >= 3 else {
            throw ConfigurationError("the tick must be positive and the election timeout at least 3 ticks")
        }
    }
}

/// ConfigurationError is a bad flag or setting, with the fix in its message.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
