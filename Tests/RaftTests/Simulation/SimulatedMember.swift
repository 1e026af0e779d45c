import Raft

/// DiskWrite is one Ready's persistence in a member's simulated disk queue.
struct DiskWrite {
    var completesAtStep: Int
    var ready: Ready
}

/// SimulatedMember is one member: the real core, a disk that completes writes in order after a
/// delay, a "durable" image (what survives a crash) and the volatile state machine.
///
/// Invariant: `durable` only changes when a disk write completes, or when the application takes
/// a snapshot (which the real storage writes synchronously before compacting).
struct SimulatedMember {
    let id: UInt64
    var node: RaftNode?
    var durable = RestoredState()
    var diskQueue: [DiskWrite] = []
    var stateMachine = KeyValueStateMachine()
    var slowDisk = false
    /// readsWaitingForApply are ReadIndex answers waiting until the state machine catches up.
    var readsWaitingForApply: [ReadState] = []
    /// restartCount makes restarted members draw fresh random timeouts.
    var restartCount: UInt64 = 0

    var isUp: Bool { node != nil }

    /// persist writes one completed disk job into the durable image.
    mutating func persist(_ ready: Ready) {
        if let snapshot = ready.snapshot {
            durable.snapshot = snapshot
            durable.entries = []
        }
        if let first = ready.entries.first {
            durable.entries.removeAll { $0.index >= first.index }
            durable.entries.append(contentsOf: ready.entries)
        }
        if let hardState = ready.hardState {
            durable.hardState = hardState
        }
    }

    /// compactDurable mirrors the application's snapshot: saved, then the log prefix dropped.
    mutating func compactDurable(_ metadata: SnapshotMetadata, data: [UInt8]) {
        durable.snapshot = Snapshot(metadata: metadata, data: data)
        durable.entries.removeAll { $0.index <= metadata.index }
    }

    /// crash loses the node, every write not yet completed and the volatile state machine.
    mutating func crash() {
        node = nil
        diskQueue = []
        stateMachine = KeyValueStateMachine()
        readsWaitingForApply = []
    }
}
