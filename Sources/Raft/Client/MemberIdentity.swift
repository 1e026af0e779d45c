/// StoreMemberIdentity derives a member's Raft id from its name, the same way on every member,
/// in `agentctl store snapshot restore`, and in tools: names are unique in a cluster, so ids are.
public enum StoreMemberIdentity {
    /// FNV-1a 64-bit over the UTF-8 of `name`; never 0 (0 means "no member" in Raft messages).
    public static func id(name: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash == 0 ? 1 : hash
    }

    /// Formats an id the way `agentctl store member list` prints it.
    public static func format(_ id: UInt64) -> String {
        let hex = String(id, radix: 16)
        return String(repeating: "0", count: max(0, 16 - hex.count)) + hex
    }
}
