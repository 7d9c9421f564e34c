// Replica+Intake.swift — what a received message must pass before it reaches the WAL, so a flood cannot fill it.
//
// Fault model: a peer (a Byzantine validator, or whatever its connection carries) may send any number of distinct
// messages — garbage signatures under any validator's key, validly signed conflicting votes, proposals for every
// round, messages for the next height. Every message the state machine handles is logged first (Replica+Effects rule
// 1), and the log of a height refuses, past `maxEntries`, what liveness can do without (ConsensusWAL); unchecked, one
// validator filled it within seconds (a peer may send 10,000 messages/s) and the node then dropped every later event
// of that height — it could not decide it, and with every honest node flooded during one slow height the chain
// stopped. So a received message is logged only when
//   1. the machine would not ignore it (`ConsensusState.isRedundant`: repeats, past heights, a proposal for a round
//      that has one, a message already buffered, a vote that would only repeat pending evidence), and it is no
//      proposal beyond the proposal reach (`isBeyondProposalReach`: above round_p + 1, below round_p until more than f
//      precommitted its block, at a later height above round 1 — its block is never held, logged nor executed);
//   2. its height is the next uncommitted one or at most `maxFutureHeights` after the machine's, and, for a later
//      height than the one running, its round at most `maxRoundsAhead` (the machine drops the others anyway; at the
//      height running, a round beyond the window is its signer's one note per round change of the machine — the
//      round catch-up of ConsensusState+Messages `noteFarRound` — and `isRedundant` refuses the others);
//   3. its signer is in the validator set of its height (for a later height the application's, or, where it does not
//      know it yet, the set of the height running); a proposal passes the machine's own checks before its signature
//      (`ConsensusState.isWellFormed`: proposer(height, round), its block for its height and the one its body names);
//   4. for a later height than the one running (buffered, not yet counted): its signer has logged fewer than
//      `maxFutureProposalsPerSignerRound` proposals or `maxFutureVotesPerSignerRound` votes for that (height, round);
//   5. its signature verifies (checked last: a forged message never uses up its claimed signer's allowance).
// At the height running no allowance applies — there the machine's own bounds make everything else redundant: one
// proposal per round, at most `VoteSet.maxVotesPerValidator` counted votes per validator, round and type plus its
// claimed ones (VoteSet), and a vote it would not count only repeats evidence (one pair per validator and height,
// while the pool keeps it). An allowance there would refuse a vote
// that counts later (a Byzantine validator's vote for a block proposed again in a later round, relayed by a correct
// node: Tendermint's liveness needs it delivered). A message refused here is a lost message, which the protocol
// tolerates (gossip repeats it). The node's own events (timeouts, application answers) are never refused by the
// WAL's bound (ConsensusWAL). The machine checks each message again when it handles it (a WAL replay goes through the
// same checks), except the signature of a message admitted here, handed over right after its check
// (`ConsensusState.handle(_:signatureVerified:)`: one Ed25519 verification per message on the live path; a replay
// verifies, since a disk may hand back anything); the allowances live in memory only — what they refused was never
// logged, so a replay needs nothing.
import TrellisCrypto
import TrellisLedger

/// The (height, round, signer, kind) a received message's allowance is counted under.
struct IntakeKey: Hashable, Sendable {
    let height: UInt64
    let round: UInt32
    let signer: PublicKey
    let proposal: Bool
}

extension Replica {
    /// Proposals for a later height one signer (the round's proposer) may have logged per (height, round): one, and
    /// one more for a proposal the bounded future buffer dropped and its proposer sent again (also what
    /// `ReplicaTests.floodPastTheBufferBound`'s early and late proposals need: do not lower it to 1).
    public static var maxFutureProposalsPerSignerRound: Int { 2 }
    /// Votes for a later height one signer may have logged per (height, round), either type: twice what a vote set
    /// counts for one validator. (Allowances live in memory: a restart gives every signer a fresh one — bounded by
    /// restarts.)
    public static var maxFutureVotesPerSignerRound: Int { 2 * VoteSet.maxVotesPerValidator }

    /// Whether `message` may be logged and handed to the state machine (see the header); counts it when it may.
    mutating func admit(_ message: ConsensusMessage) -> Bool {
        let event = Event.received(message)
        if machine.isRedundant(event) || machine.isBeyondProposalReach(event) { return false }
        // The machine runs (or has decided) `machine.height` ≤ the next uncommitted height, or waits for its first.
        let next = application.committedHeight + 1
        let running = machine.phase != .waitingForHeight
        let reference = running ? min(machine.height, next) : next
        let height = message.height
        guard height >= next, height - reference <= machine.config.maxFutureHeights else { return refuse() }
        let current = running && machine.height == height
        // At the height running a round beyond the window is noted once per signer and round change (the machine's
        // round catch-up; `isRedundant` refuses the rest), so it passes here; at a later height it is a lost message.
        guard current || message.round <= machine.config.maxRoundsAhead else { return refuse() }
        guard let (set, schedule) = intakeValidators(height: height), set.contains(message.signer) else { return refuse() }
        let chainID = machine.config.chainID
        var key: IntakeKey?
        if !current {
            let isProposal: Bool
            if case .proposal = message { isProposal = true } else { isProposal = false }
            let counted = IntakeKey(height: height, round: message.round, signer: message.signer, proposal: isProposal)
            let limit = isProposal ? Self.maxFutureProposalsPerSignerRound : Self.maxFutureVotesPerSignerRound
            guard intakeCounts[counted, default: 0] < limit else { return refuse() }
            key = counted
        }
        let signed: Bool
        switch message {
        case .proposal(let p):
            guard ConsensusState.isWellFormed(p, schedule: schedule) else { return refuse() }
            signed = p.body.proposer.verify(p.signature, message: p.body.signBytes(chainID: chainID))
        case .vote(let v):
            signed = v.verify(chainID: chainID)
        }
        guard signed else { return refuse() }
        if let key { intakeCounts[key, default: 0] += 1 }
        return true
    }

    private mutating func refuse() -> Bool {
        refusedMessages += 1
        return false
    }

    /// The validator set of `height` and its proposer schedule for the intake check: the machine's while it runs
    /// that height, else the application's (cached per height); nil — the message is refused, a lost message — for a
    /// later height the application cannot answer for yet (only reachable with `maxFutureHeights` > 1).
    private mutating func intakeValidators(height: UInt64) -> (ValidatorSet, ProposerSchedule)? {
        let running = machine.phase != .waitingForHeight
        if running, machine.height == height, let set = machine.validatorSet, let schedule = machine.schedule { return (set, schedule) }
        if let cached = intakeSetCache, cached.height == height { return (cached.schedule.validatorSet, cached.schedule) }
        if let set = try? application.validatorSet(forHeight: height) {
            let schedule = machine.schedule.flatMap { $0.validatorSet == set ? $0 : nil } ?? ProposerSchedule(validatorSet: set)
            intakeSetCache = (height, schedule)
            return (set, schedule)
        }
        return nil
    }

    /// A new height starts: the allowances of earlier heights are dropped (those of later ones stay).
    mutating func pruneIntake(below height: UInt64) {
        intakeCounts = intakeCounts.filter { $0.key.height >= height }
        evidenceChecks = [:]  // Replica+Evidence: each peer's checks and the node's verifications are counted per height
        evidenceVerifications = 0
        evidenceNodeChecks = 0
        if let cached = intakeSetCache, cached.height < height { intakeSetCache = nil }
    }
}
