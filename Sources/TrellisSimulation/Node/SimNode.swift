// SimNode.swift — one simulated validator: its consensus state machine, ledger, WAL and durable signing guard.
//
// Durability model: the application's commits are atomic synced writes (they survive crashes); the WAL keeps only
// what was synced; the signing guard on "disk" is the last one the driver persisted. A crash discards the state
// machine and the unsynced WAL tail; a restart rebuilds from what is durable (ConsensusRecovery).
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
    var consensus: ConsensusState?
    var app: SimApplication
    var wal = InMemoryWAL()
    var durableGuard = SigningGuard()
    /// Bumped at every crash and restart; timers and answers of an older incarnation are discarded.
    var incarnation = 0
    /// A mid-step crash is pending: the next step performs only a prefix of its effects, then the node crashes.
    var crashMidStep = false
    /// Byzantine replay material: recently received messages, bounded.
    var replayBuffer: [ConsensusMessage] = []
    static let replayBufferLimit = 64

    var isUp: Bool { consensus != nil }
    var isHonest: Bool { byzantine == nil }

    mutating func remember(_ message: ConsensusMessage) {
        guard byzantine?.contains(.replayOld) == true else { return }
        if replayBuffer.count >= Self.replayBufferLimit { replayBuffer.removeFirst() }
        replayBuffer.append(message)
    }
}
