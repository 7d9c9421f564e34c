// Replica+Evidence.swift — evidence gossip: a replica's pending evidence (an equivocation's two signed votes) goes to
// its peers, so any proposer can put it on chain — not only the nodes that saw both votes, which may never propose
// again (crashed, removed from the set): then the double-signer was never punished.
//
// Fault model: a peer may send any pairs — forged signatures, validators not in the set, heights not reached, pairs
// the chain already punished, the same pair again and again. A received pair is kept only when
//   1. its height is at most the next uncommitted one (a pair for a later height comes back with gossip);
//   2. no pair against its (validator, height) is pending here, and the chain has not recorded one (it records one
//      per validator and height: such a pair is stale and never gossiped again);
//   3. its validator is in the validator set of its height — past sets included, as the ledger's evidence check
//      (LedgerApplication `usableEvidence`) asks;
//   4. the pool would keep it (`ConsensusState.mayRecordEvidence`: one pair per (validator, height), at most
//      `maxPendingEvidence`, a full pool drops from the validator holding the most);
//   5. the sender has had fewer than `EvidenceGossip.maxChecksPerPeerHeight` pairs checked this height, and — checked
//      last, so a forgery costs its sender that allowance — both signatures verify.
// Anything else is refused with an `EvidenceRefusal`. So the signature work a peer can cause is bounded per height
// (`maxChecksPerPeerHeight` × 2 verifications), the pool by `maxPendingEvidence` for the whole node, and a message by
// `maxPairsPerMessage` (the decoder's bound). Kept pairs join the pool outside the WAL (pending evidence never changes
// a vote; the pool is stored, `persistEvidence`). Every `gossipEveryTicks` ticks — stalled or not: a chain that runs
// still needs the pair from a node that does not propose — a replica drops the pairs the chain recorded and sends its
// pool to every peer.
import TrellisCrypto
import TrellisLedger

/// The bounds of evidence gossip.
public enum EvidenceGossip {
    /// Pairs one `SyncMessage.evidence` carries at most (what the node's decoder accepts; a larger pool sends its oldest).
    public static let maxPairsPerMessage = 64
    /// Pairs of one peer whose signatures a replica checks per height at most (twice a full message: an honest peer's
    /// pairs are checked once, then pending).
    public static let maxChecksPerPeerHeight = 2 * maxPairsPerMessage
}

/// Why a gossiped evidence pair was not kept.
public enum EvidenceRefusal: Error, Equatable, CustomStringConvertible {
    /// For a height above the next uncommitted one.
    case futureHeight(height: UInt64, committedHeight: UInt64)
    /// A pair against this (validator, height) is already pending here.
    case alreadyPending
    /// The chain already recorded an equivocation of this validator at this height.
    case alreadyPunished(height: UInt64)
    /// The application does not know the validator set of the pair's height.
    case unknownValidatorSet(height: UInt64)
    /// The signer was not a validator at the pair's height.
    case notAValidator(height: UInt64)
    /// The pool keeps no more pairs of this validator (it holds a largest share of a full pool).
    case poolFull
    /// The sender used up its checks for this height.
    case overPeerAllowance(limit: Int)
    /// A signature does not verify.
    case badSignature

    public var description: String {
        switch self {
        case .futureHeight(let h, let committed): return "evidence for height \(h), above the next uncommitted height \(committed + 1)"
        case .alreadyPending: return "evidence against this validator and height is already pending"
        case .alreadyPunished(let h): return "the chain already punished this validator's equivocation at height \(h)"
        case .unknownValidatorSet(let h): return "the validator set of height \(h) is not known"
        case .notAValidator(let h): return "the signer was not a validator at height \(h)"
        case .poolFull: return "the evidence pool is full and keeps no more of this validator's pairs"
        case .overPeerAllowance(let limit): return "the peer sent more than \(limit) pairs to check this height"
        case .badSignature: return "a vote's signature does not verify"
        }
    }
}

extension Replica {
    /// A pair a peer gossiped: kept in the pending pool (and stored) or refused (see the header).
    public mutating func receiveEvidence(_ evidence: DuplicateVoteEvidence, from peer: Host.Peer) throws(EvidenceRefusal) {
        guard started, haltReason == nil else { return }
        let committed = application.committedHeight
        guard evidence.height >= 1, evidence.height <= committed + 1 else { throw .futureHeight(height: evidence.height, committedHeight: committed) }
        guard !machine.hasPendingEvidence(against: evidence.validator, height: evidence.height) else { throw .alreadyPending }
        guard !application.hasRecordedEvidence(against: evidence.validator, height: evidence.height) else { throw .alreadyPunished(height: evidence.height) }
        let set: ValidatorSet
        do { set = try application.validatorSet(forHeight: evidence.height) } catch { throw .unknownValidatorSet(height: evidence.height) }
        guard set.contains(evidence.validator) else { throw .notAValidator(height: evidence.height) }
        guard machine.mayRecordEvidence(against: evidence.validator, height: evidence.height) else { throw .poolFull }
        let checked = evidenceChecks[peer, default: 0]
        guard checked < EvidenceGossip.maxChecksPerPeerHeight else { throw .overPeerAllowance(limit: EvidenceGossip.maxChecksPerPeerHeight) }
        evidenceChecks[peer] = checked + 1
        guard evidence.verify(chainID: machine.config.chainID) else { throw .badSignature }
        let kept = machine.keepGossipedEvidence(evidence)
        assert(kept, "a pair the pool may record was not kept")
        persistEvidence(sync: false)
    }

    /// Sends the pending pool to every peer, less what the chain recorded (a tick's gossip).
    mutating func gossipEvidence() {
        let application = self.application
        machine.pruneEvidence { application.hasRecordedEvidence(against: $0.validator, height: $0.height) }
        persistEvidence(sync: false)
        guard haltReason == nil, !machine.pendingEvidence.isEmpty else { return }
        host.broadcastSync(.evidence(Array(machine.pendingEvidence.prefix(EvidenceGossip.maxPairsPerMessage))))
    }
}
