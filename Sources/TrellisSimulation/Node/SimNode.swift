// SimNode.swift — one simulated validator: its replica (the production `Replica` with simulated I/O), its ledger
// and its disk.
//
// Durability model: the application's commits are atomic synced writes (they survive crashes); the WAL keeps only
// what was synced; the signing guard on "disk" is the last one persisted. A crash discards the replica and the
// unsynced WAL tail; a restart builds a new replica over the same disk and ledger (`Replica.start` replays).
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

struct SimNode {
    let index: Int
    let key: SigningKey
    /// nil for an honest validator.
    let byzantine: ByzantineBehaviour?
    let config: ConsensusConfig
    /// nil while the node is down.
    var replica: SimReplica?
    /// The ledger while the node is down (while up, the replica owns it).
    var parkedApp: SimApplication
    let disk: SimDisk
    /// Bumped at every crash and restart; timers of an older incarnation are discarded.
    var incarnation = 0
    /// A mid-step crash is pending: the next step performs only some of its I/O, then the node crashes.
    var crashMidStep = false
    /// Byzantine replay material: recently received messages, bounded.
    var replayBuffer: [ConsensusMessage] = []
    static let replayBufferLimit = 64

    var isUp: Bool { replica != nil }
    var isHonest: Bool { byzantine == nil }
    /// The node's ledger, up or down.
    var app: SimApplication { replica?.application.app ?? parkedApp }

    mutating func remember(_ message: ConsensusMessage) {
        guard byzantine?.contains(.replayOld) == true else { return }
        if replayBuffer.count >= Self.replayBufferLimit { replayBuffer.removeFirst() }
        replayBuffer.append(message)
    }
}
