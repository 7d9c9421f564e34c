// Effect.swift — the outputs of the consensus state machine: what the replica (Replica+Effects.swift, for the node and the simulator) must do.
//
// DURABILITY RULE (CometBFT wal.go: "write to disk before sending signed messages"): effects are returned in the
// order they must be performed. Every `.broadcast` of a message this node signed is preceded, in the same effect
// list, by a `.persistSigningState` that covers it. The replica must make that signing state durable (fsync), and
// sync its WAL, before it performs any later effect — in particular before the broadcast. A replica that performs
// effects strictly in order satisfies this; tests check the order.
import TrellisCrypto
import TrellisLedger

/// What the proposer asks the application to build (getValue(), line 18).
public struct BuildRequest: Sendable, Hashable {
    public var height: UInt64
    public var round: UInt32
    public var proposer: PublicKey
    /// Evidence the block should include (the application drops any it finds invalid or already committed).
    public var evidence: [DuplicateVoteEvidence]

    public init(height: UInt64, round: UInt32, proposer: PublicKey, evidence: [DuplicateVoteEvidence]) {
        self.height = height
        self.round = round
        self.proposer = proposer
        self.evidence = evidence
    }
}

/// An output of `ConsensusState.handle(_:)`, to be performed in order.
public enum Effect: Sendable, Hashable {
    /// Make this signing guard durable (fsync) and sync the WAL, BEFORE performing any later effect.
    case persistSigningState(SigningGuard)
    /// Send a message to every other validator (the state machine has already counted its own message).
    case broadcast(ConsensusMessage)
    /// Feed `.timeoutFired(timeout)` back after `afterMilliseconds`.
    case scheduleTimeout(Timeout, afterMilliseconds: UInt64)
    /// Ask the application for a block; answer with `.proposalBlockBuilt`.
    case buildProposalBlock(BuildRequest)
    /// Ask the application whether `block` is valid at its height; answer with `.blockValidated`.
    case validateBlock(Block)
    /// The height is decided (line 51): execute and durably commit the block with its certificate, then send
    /// `.startHeight` for the next height.
    case commit(block: Block, certificate: CommitCertificate)
    /// A validator signed two conflicting votes: keep the evidence (it is also offered to future build requests).
    case recordEvidence(DuplicateVoteEvidence)
}
