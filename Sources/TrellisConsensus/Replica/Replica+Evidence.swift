// Replica+Evidence.swift — evidence gossip: a replica's pending evidence (an equivocation's two signed votes) goes to
// its peers, so any proposer can put it on chain — not only the nodes that saw both votes, which may never propose
// again (crashed, removed from the set): then the double-signer was never punished.
//
// Sending is gated (`ReplicaSettings.gossipsEvidence`, the node's `[consensus] evidence_gossip`, off by default in the
// release that introduced it): a build without gossip disconnects and bans a peer that sends it a message of a kind it
// does not know, so a node sending evidence to such builds during a rolling upgrade cuts itself off from them, and
// with one pending pair neither side may hold more than 2/3 of the power (REVIEW-18-node-c BUG 1). Receiving is always
// on. docs/OPERATIONS.md §12 says when to turn sending on.
//
// Fault model: a peer may send any pairs — forged signatures, validators not in the set, heights not reached or long
// past, pairs the chain already punished, the same pair again and again. A received pair is kept only when, in this
// order (cheapest first; nothing reads the store before the sender's allowance is charged):
//   1. its height is at least 1, at most the next uncommitted one (a pair for a later height comes back with gossip),
//      and fewer than `EvidenceGossip.maxAgeHeights` below it (older pairs could only pad blocks: a Byzantine
//      validator signing conflicting votes for every past height of its own would put up to a pool's worth into every
//      honest block);
//   2. no pair against its (validator, height) is pending here, and the pool would keep it
//      (`ConsensusState.mayRecordEvidence`: one pair per (validator, height), at most `maxPendingEvidence`, a full
//      pool drops from the validator holding the most) — both in memory, so an honest peer's repeats cost nothing;
//   3. the sender has had fewer than `EvidenceGossip.maxChecksPerPeerHeight` pairs past this point this height, and the
//      node fewer than `maxChecksPerHeight` from all peers (both charged here, before any store read or signature
//      check);
//   4. the chain has not recorded a pair against its (validator, height) (one store read; such a pair is stale);
//   5. its validator is in the validator set of its height — past sets included, as the ledger's evidence check
//      (LedgerApplication `usableEvidence`) asks; a set is read once per height and message;
//   6. the node has verified fewer than `EvidenceGossip.maxVerificationsPerHeight` pairs this height, all peers
//      together, and both signatures verify. A pair whose signature does not verify ends its sender's allowance for
//      the height: an honest node sends only pairs it verified (its own votes' signatures are checked at intake).
// Anything else is refused with an `EvidenceRefusal`. So per height a peer causes at most `maxChecksPerPeerHeight`
// store reads and set look-ups and one failed verification (plus the genuine pairs the pool keeps), all peers at most
// `maxChecksPerHeight` look-ups and `maxVerificationsPerHeight` × 2 verifications; the pool holds `maxPendingEvidence` for the whole node, and a message
// `maxPairsPerMessage` (the decoder's bound). Kept pairs join the pool outside the WAL (pending evidence never changes
// a vote; the pool is stored, `persistEvidence`). Every `gossipEveryTicks` ticks — stalled or not: a chain that runs
// still needs the pair from a node that does not propose — a replica drops the pairs the chain recorded and, when it
// gossips evidence, sends the rest that are not too old, in canonical order, to every peer.
import TrellisCodec
import TrellisCrypto
import TrellisLedger

/// The bounds of evidence gossip.
public enum EvidenceGossip {
    /// Pairs one `SyncMessage.evidence` carries at most (what the node's decoder accepts; `ConsensusConfig` keeps the
    /// pool within it, so the whole pool fits one message).
    public static let maxPairsPerMessage = 64
    /// Pairs of one peer a replica looks up (store read, validator set) per height at most (twice a full message: an
    /// honest peer's pairs are checked once, then pending).
    public static let maxChecksPerPeerHeight = 2 * maxPairsPerMessage
    /// Pairs a replica looks up per height at most, all peers together (four peers' allowances: a node's store work
    /// is bounded however many member keys send).
    public static let maxChecksPerHeight = 4 * maxChecksPerPeerHeight
    /// Pairs a replica verifies per height at most, all peers together (an honest network needs one verification per
    /// new pair; a Byzantine peer gets one failed verification per height before its allowance ends).
    public static let maxVerificationsPerHeight = 4 * maxPairsPerMessage
    /// A pair is accepted from a peer only for the `maxAgeHeights` heights up to the next uncommitted one (and only
    /// such pairs are sent). A local policy, not a consensus rule: the ledger takes evidence of any past height, and a
    /// proposer still puts its own older pairs in its blocks.
    public static let maxAgeHeights: UInt64 = 1_000
}

/// Why a gossiped evidence pair was not kept.
public enum EvidenceRefusal: Error, Equatable, CustomStringConvertible {
    /// For height 0, which has no votes.
    case invalidHeight
    /// For a height above the next uncommitted one.
    case futureHeight(height: UInt64, committedHeight: UInt64)
    /// For a height `EvidenceGossip.maxAgeHeights` or more below the next uncommitted one.
    case tooOld(height: UInt64, oldestAccepted: UInt64)
    /// A pair against this (validator, height) is already pending here.
    case alreadyPending
    /// The pool keeps no more pairs of this validator (it holds a largest share of a full pool).
    case poolFull
    /// The sender used up its checks for this height (or sent a pair whose signature does not verify).
    case overPeerAllowance(limit: Int)
    /// The node looked up its most pairs for this height, all peers together.
    case overNodeChecks(limit: Int)
    /// The chain already recorded an equivocation of this validator at this height.
    case alreadyPunished(height: UInt64)
    /// The application does not know the validator set of the pair's height.
    case unknownValidatorSet(height: UInt64)
    /// The signer was not a validator at the pair's height.
    case notAValidator(height: UInt64)
    /// The node verified its most pairs for this height.
    case overNodeAllowance(limit: Int)
    /// A signature does not verify.
    case badSignature

    /// The refusal as a metric label (`trellis_evidence_refused_total{reason}`).
    public var reason: String {
        switch self {
        case .invalidHeight: return "invalid_height"
        case .futureHeight: return "future_height"
        case .tooOld: return "too_old"
        case .alreadyPending: return "already_pending"
        case .poolFull: return "pool_full"
        case .overPeerAllowance: return "over_peer_allowance"
        case .overNodeChecks: return "over_node_checks"
        case .alreadyPunished: return "already_punished"
        case .unknownValidatorSet: return "unknown_validator_set"
        case .notAValidator: return "not_a_validator"
        case .overNodeAllowance: return "over_node_allowance"
        case .badSignature: return "bad_signature"
        }
    }

    /// Every `reason` label.
    public static let reasons = ["invalid_height", "future_height", "too_old", "already_pending", "pool_full", "over_peer_allowance", "over_node_checks",
                                 "already_punished", "unknown_validator_set", "not_a_validator", "over_node_allowance", "bad_signature"]

    public var description: String {
        switch self {
        case .invalidHeight: return "evidence for height 0"
        case .futureHeight(let h, let committed): return "evidence for height \(h), above the next uncommitted height \(committed + 1)"
        case .tooOld(let h, let oldest): return "evidence for height \(h), older than the oldest height gossip accepts, \(oldest)"
        case .alreadyPending: return "evidence against this validator and height is already pending"
        case .poolFull: return "the evidence pool is full and keeps no more of this validator's pairs"
        case .overPeerAllowance(let limit): return "the peer sent more than \(limit) pairs to check this height, or a forged one"
        case .overNodeChecks(let limit): return "this node looked up \(limit) gossiped pairs this height"
        case .alreadyPunished(let h): return "the chain already punished this validator's equivocation at height \(h)"
        case .unknownValidatorSet(let h): return "the validator set of height \(h) is not known"
        case .notAValidator(let h): return "the signer was not a validator at height \(h)"
        case .overNodeAllowance(let limit): return "this node verified \(limit) gossiped pairs this height"
        case .badSignature: return "a vote's signature does not verify"
        }
    }
}

extension Replica {
    /// A pair a peer gossiped: kept in the pending pool (and stored) or refused (see the header).
    public mutating func receiveEvidence(_ evidence: DuplicateVoteEvidence, from peer: Host.Peer) throws(EvidenceRefusal) {
        var sets: [UInt64: ValidatorSet] = [:]
        try receiveEvidence(evidence, from: peer, sets: &sets)
        persistEvidence(sync: false)
    }

    /// The pairs of one message, in order; each refusal counted.
    mutating func receiveEvidence(_ pairs: [DuplicateVoteEvidence], from peer: Host.Peer) {
        var sets: [UInt64: ValidatorSet] = [:]  // one look-up per height and message
        var kept = false
        for pair in pairs.prefix(EvidenceGossip.maxPairsPerMessage) {
            do {
                try receiveEvidence(pair, from: peer, sets: &sets)
                kept = true
            } catch {
                refusedEvidence += 1
                host.replicaReported(.evidenceRefused(error))
            }
        }
        if kept { persistEvidence(sync: false) }  // the pool is stored once per message
    }

    private mutating func receiveEvidence(_ evidence: DuplicateVoteEvidence, from peer: Host.Peer,
                                          sets: inout [UInt64: ValidatorSet]) throws(EvidenceRefusal) {
        guard started, haltReason == nil else { return }
        // 1. In memory: the height window.
        let next = application.committedHeight + 1
        guard evidence.height >= 1 else { throw .invalidHeight }
        guard evidence.height <= next else { throw .futureHeight(height: evidence.height, committedHeight: next - 1) }
        guard next - evidence.height < EvidenceGossip.maxAgeHeights else {
            throw .tooOld(height: evidence.height, oldestAccepted: next - (EvidenceGossip.maxAgeHeights - 1))
        }
        // 2. In memory: the pool.
        guard !machine.hasPendingEvidence(against: evidence.validator, height: evidence.height) else { throw .alreadyPending }
        guard machine.mayRecordEvidence(against: evidence.validator, height: evidence.height) else { throw .poolFull }
        // 3. The sender's allowance, charged before any store read.
        let checked = evidenceChecks[peer, default: 0]
        guard checked < EvidenceGossip.maxChecksPerPeerHeight else { throw .overPeerAllowance(limit: EvidenceGossip.maxChecksPerPeerHeight) }
        guard evidenceNodeChecks < EvidenceGossip.maxChecksPerHeight else { throw .overNodeChecks(limit: EvidenceGossip.maxChecksPerHeight) }
        evidenceChecks[peer] = checked + 1
        evidenceNodeChecks += 1
        // 4–5. The store: the chain's record and the height's validator set.
        guard !application.hasRecordedEvidence(against: evidence.validator, height: evidence.height) else { throw .alreadyPunished(height: evidence.height) }
        let set: ValidatorSet
        if let known = sets[evidence.height] {
            set = known
        } else if evidence.height == machine.height, let current = machine.validatorSet {
            set = current
        } else {
            do { set = try application.validatorSet(forHeight: evidence.height) } catch { throw .unknownValidatorSet(height: evidence.height) }
            sets[evidence.height] = set
        }
        guard set.contains(evidence.validator) else { throw .notAValidator(height: evidence.height) }
        // 6. The signatures, within the node's allowance.
        guard evidenceVerifications < EvidenceGossip.maxVerificationsPerHeight else { throw .overNodeAllowance(limit: EvidenceGossip.maxVerificationsPerHeight) }
        evidenceVerifications += 1
        guard evidence.verify(chainID: machine.config.chainID) else {
            evidenceChecks[peer] = EvidenceGossip.maxChecksPerPeerHeight  // a forgery: no more checks for this peer this height
            throw .badSignature
        }
        let kept = machine.keepGossipedEvidence(evidence)
        precondition(kept, "invalid state: a pair the pool may record was not kept")
        host.replicaReported(.evidenceReceived(validator: evidence.validator, height: evidence.height, peer: "\(peer)"))
    }

    /// Drops from the pending pool what the chain recorded and, when this replica gossips evidence, sends the rest
    /// that peers accept (not older than `EvidenceGossip.maxAgeHeights`) to every peer, in canonical order (a tick's
    /// gossip).
    mutating func gossipEvidence() {
        let application = self.application
        machine.pruneEvidence { application.hasRecordedEvidence(against: $0.validator, height: $0.height) }
        persistEvidence(sync: false)
        guard settings.gossipsEvidence, haltReason == nil else { return }
        let next = application.committedHeight + 1
        let fresh = machine.pendingEvidence.filter { $0.height <= next && next - $0.height < EvidenceGossip.maxAgeHeights }
        guard !fresh.isEmpty else { return }
        // The pool fits one message (ConsensusConfig); the prefix keeps a message peers accept if the bound was lifted.
        host.broadcastSync(.evidence(Array(DuplicateVoteEvidence.canonicallyOrdered(fresh).prefix(EvidenceGossip.maxPairsPerMessage))))
    }
}

extension DuplicateVoteEvidence {
    /// `pairs` in the order of their canonical bytes, the order an evidence message carries them in (its decoder
    /// refuses repeats and any other order).
    public static func canonicallyOrdered(_ pairs: [DuplicateVoteEvidence]) -> [DuplicateVoteEvidence] {
        pairs.map { ($0.canonicalBytes, $0) }.sorted { $0.0.lexicographicallyPrecedes($1.0) }.map(\.1)
    }
}
