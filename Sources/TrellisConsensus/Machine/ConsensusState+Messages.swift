// ConsensusState+Messages.swift — intake of proposals and votes: checks, buffering, vote counting, evidence.
//
// Fault model: any message may come from a Byzantine validator or be a replay. A message is counted only when its
// signer is in the validator set of its height, its signature verifies, a proposal comes from proposer(h, r) and
// its round is at most round_p + maxRoundsAhead (beyond it, a validator's first vote per round of this node is
// noted for the round catch-up, `noteFarRound`). A proposal is kept only for rounds up to round_p + 1 (at a later
// height: rounds 0 and 1), so its block is held, logged and validated only there (`maxProposalRoundsAhead`).
// Messages for the next heights are buffered (bounded: the signer holding the most loses its oldest); messages for
// past heights are dropped (block sync serves lagging nodes).
// Conflicting votes become DuplicateVoteEvidence, one pending pair per validator and height (a full pool drops the
// oldest pair of the validator holding the most).
import TrellisCrypto
import TrellisLedger

extension ConsensusState {
    /// Routes a message by height: past → drop, future → buffer, current → check and count. The proposal reach
    /// (`isWithinProposalReach`) is not asked here but where messages enter the log — `isBeyondProposalReach`, which the
    /// driver asks before it logs and hands over a message, and the future buffer — so a replay handles every logged
    /// proposal as the run that logged it did, a log written by an earlier build (which kept proposals anywhere in the
    /// window, and locked on them) included (REVIEW-17 BUG 1).
    mutating func receive(_ message: ConsensusMessage, effects: inout [Effect]) {
        if phase == .waitingForHeight || message.height > height {
            bufferFutureMessage(message)
            return
        }
        guard phase == .running, message.height == height, let set = validatorSet else { return }
        guard UInt64(message.round) <= UInt64(round) + UInt64(config.maxRoundsAhead) else {
            noteFarRound(message, validatorSet: set)
            return
        }
        switch message {
        case .proposal(let proposal):
            guard let schedule, Self.isWellFormed(proposal, schedule: schedule), signatureVerifies(message) else {
                droppedMessages += 1
                return
            }
            accept(proposal, effects: &effects)
        case .vote(let vote):
            // A vote we already counted (gossip repeats them) costs no signature check.
            if votes.votes(vote.body.type, round: vote.body.round).contains(vote) { return }
            guard set.contains(vote.body.validator), signatureVerifies(message) else {
                droppedMessages += 1
                return
            }
            addVote(vote, effects: &effects)
        }
    }

    /// A message for a round beyond `round_p + maxRoundsAhead` is not counted (vote storage stays bounded by the
    /// window), but its signer's round is noted — the first such message per validator since round_p last changed; a
    /// vote, since a proposal that far ahead is beyond the proposal reach and not logged (a validator in a round sends
    /// its prevote there, at the latest on its propose timeout; an earlier build's log replays its proposal notes) —
    /// so that a node that fell more than the window behind at its height (partitioned, or restarted, while the others
    /// ran rounds without deciding) can still follow line 55: once validators with more than f of the power sent
    /// messages beyond the window, it moves to the highest round that much power has reached (at least one honest
    /// validator is there), and from there the window takes in the others' messages again (gossip repeats them).
    /// Before, such a node dropped every message it heard and its own round never advanced (its prevote timeout
    /// needs 2f + 1 prevotes of its round): stuck at its height for good, and the chain with it when its vote was
    /// needed. A Byzantine validator gets one note per round change of this node (the WAL holds it): it cannot push
    /// the node past every honest validator's round, nor grow its state.
    mutating func noteFarRound(_ message: ConsensusMessage, validatorSet set: ValidatorSet) {
        let signer = message.signer
        guard farRoundSenders[signer] == nil, set.contains(signer), verifies(message) else {
            droppedMessages += 1
            return
        }
        farRoundSenders[signer] = message.round
    }

    /// Rounds ahead of round_p whose proposals are kept: a proposal's block is held (`blocks`), logged and validated
    /// only for rounds up to round_p + 1 (CometBFT keeps only the current round's) — later ones are not logged and
    /// come back with gossip once this node reaches their round (`messagesToGossip` re-sends round_p's proposal and
    /// validRound's; a node that missed a decision is served by block sync). Before, a round's first well-formed
    /// proposal was kept anywhere in the `maxRoundsAhead` window: a Byzantine proposer sending its proposals for
    /// every round it owns there (~16 at n = 4, each block up to `Limits.maxBlockBytes`) made every honest node hold,
    /// log and execute all of them at once — memory, WAL bytes and CPU per height grew with what one validator chose
    /// to send (REVIEW-16 RISK 3).
    public static let maxProposalRoundsAhead: UInt32 = 1

    /// Whether `event` is a proposal beyond the proposal reach (`isWithinProposalReach`): one a driver does not log —
    /// and so the machine never handles, its block neither held nor validated — unlike `isRedundant`, handling it
    /// would change the state (the machine keeps what it is handed: a replay handles every logged event as the run
    /// that logged it did). Asked before an event is logged, never of one logged already: the proposals logged with a
    /// height's start (taken from the buffer, rounds 0 and 1) are handled even if the messages before them moved the
    /// round on, since a replay handles them too (REVIEW-17 b BUG B). It comes back with gossip in its round.
    public func isBeyondProposalReach(_ event: Event) -> Bool {
        guard case .proposalReceived(let proposal) = event else { return false }
        return !isWithinProposalReach(proposal)
    }

    /// Whether the driver may log `proposal` (`isBeyondProposalReach` is true otherwise; the future buffer drops it): at the
    /// height running, its round at most `maxProposalRoundsAhead` (never more than `config.maxRoundsAhead`) above
    /// round_p, and for a round below round_p only once the precommits of that round for its block carry more than f
    /// of the power — a past round's proposal serves only to decide that round (line 49), at least one honest validator
    /// then precommitted it, and those locked on it re-send it as their validRound (without this, a Byzantine proposer
    /// could withhold its proposals through a long stall and send them all at once at a high round: the same burst
    /// of blocks as before, only later — REVIEW-17 RISK 1). At a later height: rounds up to `maxProposalRoundsAhead`
    /// (the node starts there at round 0). So a height holds, logs and validates at most one block per round up to
    /// round_p + 1, and of the rounds below round_p only blocks honest validators precommitted.
    func isWithinProposalReach(_ proposal: Proposal) -> Bool {
        let reach = UInt64(min(Self.maxProposalRoundsAhead, config.maxRoundsAhead))
        guard phase != .waitingForHeight, proposal.height == height else { return UInt64(proposal.round) <= reach }
        guard UInt64(proposal.round) <= UInt64(round) + reach else { return false }
        guard proposal.round < round else { return true }
        return votes.votes(.precommit, round: proposal.round).power(for: proposal.body.blockID) >= skipPower
    }

    /// Blocks this machine holds at the height running, from the proposals it kept (diagnostics and the simulator's
    /// bound check: at most round_p + 1 + `maxProposalRoundsAhead`).
    public var heldBlocks: Int { blocks.count }

    /// Block validations this machine asked for at the height running (one per kept block; the same bound).
    public var requestedValidations: Int { validationRequested.count }

    /// The signature and, for a proposal, the machine's well-formedness checks.
    mutating func verifies(_ message: ConsensusMessage) -> Bool {
        if case .proposal(let proposal) = message {
            guard let schedule, Self.isWellFormed(proposal, schedule: schedule) else { return false }
        }
        return signatureVerifies(message)
    }

    /// Whether `message`'s signature verifies — known already when the driver checked it on the live path just before
    /// (`handle(_:signatureVerified:)`, the replica's intake); a WAL replay checks it again.
    mutating func signatureVerifies(_ message: ConsensusMessage) -> Bool {
        if signatureVerifiedByDriver { return true }
        signatureChecks += 1
        switch message {
        case .proposal(let proposal): return proposal.verify(chainID: config.chainID)
        case .vote(let vote): return vote.verify(chainID: config.chainID)
        }
    }

    /// The highest round above the window that validators with at least `power` have sent messages for (each at its
    /// noted round or above), if any: the rounds are sorted, so the answer does not depend on dictionary order.
    func farRound(withSenderPowerAtLeast power: UInt64) -> UInt32? {
        guard let set = validatorSet else { return nil }
        var reached: UInt64 = 0
        for (signer, r) in farRoundSenders.sorted(by: { ($0.value, $0.key) > ($1.value, $1.key) }) {
            reached += set.power(of: signer)
            if reached >= power { return r }
        }
        return nil
    }

    /// A proposal's checks before its signature, shared by the machine and the replica's intake (Replica+Intake): its
    /// signer is proposer(height, round), its block is for its height and is the one its body names, its pol round
    /// is below its round.
    public static func isWellFormed(_ proposal: Proposal, schedule: ProposerSchedule) -> Bool {
        proposal.body.proposer == schedule.proposer(height: proposal.height, round: proposal.round)
            && proposal.block.header.height == proposal.height
            && (proposal.body.polRound.map { $0 < proposal.round } ?? true)
            && proposal.block.hash == proposal.body.blockID
    }

    /// The most proposals one `messagesToGossip` holds: round_p's, validRound's and lockedRound's, one per block id
    /// (what a peer's byte limits must carry per gossip: NodeConfig checks `consensus.max_block_bytes` against them).
    public static let maxGossipedProposals = 3

    /// The messages a replica should re-send to its peers periodically (gossip), so that messages lost before the
    /// network stabilised still arrive — Algorithm 1 assumes every message of a correct process is eventually
    /// received. For the current height: the proposals of round_p and validRound_p, every vote of round_p, the
    /// precommits of round_p − 1 (the 2f + 1 that moved this node on let a peer still in round_p − 1 follow; from
    /// further behind, line 55 lifts it), and the prevotes of validRound_p and lockedRound_p (the proof-of-lock
    /// that line 28 needs). Votes first: a receiver then counts the precommits that make a past round's proposal
    /// worth logging before that proposal arrives (`isWithinProposalReach`). One proposal per block id (a re-proposal
    /// of validValue carries the block validRound's proposal does). Bounded by `maxGossipedProposals` proposals and 5
    /// votes per validator (×4 for equivocators); deterministic.
    public func messagesToGossip() -> [ConsensusMessage] {
        guard phase == .running else { return [] }
        var rounds = [round]
        for r in [validRound, lockedRound].compactMap({ $0 }) where !rounds.contains(r) { rounds.append(r) }
        var out: [ConsensusMessage] = votes.votes(.prevote, round: round).allVotes.map(ConsensusMessage.vote)
        out += votes.votes(.precommit, round: round).allVotes.map(ConsensusMessage.vote)
        if round > 0 { out += votes.votes(.precommit, round: round - 1).allVotes.map(ConsensusMessage.vote) }
        for r in rounds.dropFirst() { out += votes.votes(.prevote, round: r).allVotes.map(ConsensusMessage.vote) }
        var blockIDs: [Hash] = []
        for proposal in rounds.compactMap({ proposals[$0] }) where !blockIDs.contains(proposal.body.blockID) {
            blockIDs.append(proposal.body.blockID)
            out.append(.proposal(proposal))
        }
        return out
    }

    /// Whether handling `event` would certainly change nothing (and yield no effect — a replay handles such an event
    /// if it was logged before it became redundant): a message for a past height, or for this height
    /// once it is decided; a vote already counted; a proposal for a round that has one (the first wins, and its
    /// proposer's sender power is already noted); a message for a later height already buffered; a timeout of another
    /// height or round. Drivers skip such events before logging them, so gossip repeats do not grow the WAL.
    public func isRedundant(_ event: Event) -> Bool {
        let message: ConsensusMessage
        switch event {
        case .proposalReceived(let p): message = .proposal(p)
        case .voteReceived(let v): message = .vote(v)
        case .timeoutFired(let t): return phase != .running || t.height != height || t.round != round
        case .startHeight, .blockValidated, .proposalBlockBuilt: return false
        }
        guard phase != .waitingForHeight else { return futureMessages.contains(message) }
        if message.height < height { return true }
        guard message.height == height else { return futureMessages.contains(message) }
        if phase == .decided { return true }
        // Beyond the window only a validator's first message since round_p last changed is noted.
        if UInt64(message.round) > UInt64(round) + UInt64(config.maxRoundsAhead) { return farRoundSenders[message.signer] != nil }
        switch message {
        case .proposal(let p): return proposals[p.round] != nil
        case .vote(let v):
            let set = votes.votes(v.body.type, round: v.body.round)
            // Counted already for this block — the same vote, or the same body signed again (a signer can make any
            // number of valid signatures of one message): `VoteSet.add` changes nothing and records no evidence.
            if set.hasVote(of: v.body.validator, for: v.body.blockID) { return true }
            // A validator's further vote that `addVote` would not count (its block not proposed here, or the
            // validator at its cap) only yields evidence: with that evidence pending (or no room for more), nothing.
            // Once its block is proposed here the same vote counts, so it is not redundant then.
            guard let first = set.vote(of: v.body.validator) else { return false }
            let countable = v.body.blockID.map { blocks[$0] != nil } ?? true
            if countable && isClaimed(v.body.blockID, round: v.body.round) { return false }  // counted past the cap
            guard !countable || set.voteCount(of: v.body.validator) >= VoteSet.maxVotesPerValidator else { return false }
            guard DuplicateVoteEvidence(first, v) != nil else { return false }
            return !mayRecordEvidence(against: v.body.validator, height: v.body.height)
        }
    }

    /// Whether the WAL's bound may refuse `event`, a received message the machine would not ignore (`isRedundant` is
    /// false): a message liveness can do without — one for a later height (buffered; at that height gossip repeats
    /// it), or a validator's further vote at a (round, type) where it has one already, unless claimed (`isClaimed`: a
    /// rule may need it). Never refusable: the node's own events, and at the height running a round's first proposal,
    /// each validator's first vote per (round, type), its claimed votes and its note of a round beyond the window —
    /// what the rules need, which ≤ f Byzantine validators cannot crowd out however many extra votes they send (before,
    /// their countable equivocations over the window filled the log and it refused every later message, honest first
    /// votes included: the height was never decided — review 15). Those grow only with the rounds reached: with n
    /// validators, one proposal per round up to round_p + 1, per round up to round_p + maxRoundsAhead 2n first votes, 6n claimed votes on
    /// average over those rounds (nil and the round's block, per type, plus one per later proposal naming the round as
    /// its proof-of-lock round), n far-round notes per round change, and a validator's first equivocation a height that
    /// yields kept evidence (≤ n a height). In bytes too: every entry is a vote or an own event of a few hundred bytes
    /// except a proposal, which carries its block (≤ `Limits.maxBlockBytes`), and proposals are logged only within the
    /// proposal reach (`isWithinProposalReach`) — one per round up to round_p + 1, not per round of the window — plus
    /// the ≤ 2 × 2 taken from the buffer at the height's start (an equivocating proposer's second one is logged with
    /// the start and skipped).
    public func isRefusable(_ event: Event) -> Bool {
        let message: ConsensusMessage
        switch event {
        case .proposalReceived(let p): message = .proposal(p)
        case .voteReceived(let v): message = .vote(v)
        case .startHeight, .timeoutFired, .blockValidated, .proposalBlockBuilt: return false
        }
        guard phase == .running, message.height == height, let set = validatorSet else { return true }
        guard set.contains(message.signer) else { return true }
        // Beyond the window: a validator's one note per round change of this node (`isRedundant` refuses the rest).
        if UInt64(message.round) > UInt64(round) + UInt64(config.maxRoundsAhead) { return false }
        switch message {
        case .proposal(let p):
            // Not redundant: the first of its round.
            guard let schedule else { return true }
            return !Self.isWellFormed(p, schedule: schedule)
        case .vote(let v):
            guard let first = votes.votes(v.body.type, round: v.body.round).vote(of: v.body.validator) else { return false }
            let countable = v.body.blockID.map { blocks[$0] != nil } ?? true
            if countable && isClaimed(v.body.blockID, round: v.body.round) { return false }
            // A validator's first equivocation this height that the pool would keep: its evidence (≤ n entries a
            // height) — else ≤ f flooders filling the log would hide every other validator's equivocation.
            if !equivocatorsThisHeight.contains(v.body.validator), DuplicateVoteEvidence(first, v) != nil,
               mayRecordEvidence(against: v.body.validator, height: v.body.height) { return false }
            return true
        }
    }

    /// Keeps a verified proposal of proposer(h_p, r): the first one per round wins; asks for `valid(v)`.
    mutating func accept(_ proposal: Proposal, effects: inout [Effect]) {
        let r = proposal.round
        if let set = validatorSet {
            votes.noteSender(proposal.body.proposer, round: r, power: set.power(of: proposal.body.proposer))
        }
        guard proposals[r] == nil else { return }  // a second, different proposal is the proposer equivocating
        proposals[r] = proposal
        let id = proposal.body.blockID
        blocks[id] = proposal.block
        if !validationRequested.contains(id) {
            validationRequested.insert(id)
            effects.append(.validateBlock(proposal.block))
        }
    }

    /// Counts a verified vote; a conflicting second vote becomes evidence.
    mutating func addVote(_ vote: Vote, effects: inout [Effect]) {
        guard let set = validatorSet else { return }
        // A conflicting vote counts only for nil or a block proposed at this height (no other id satisfies a rule).
        let countable = vote.body.blockID.map { blocks[$0] != nil } ?? true
        let claimed = isClaimed(vote.body.blockID, round: vote.body.round)
        switch votes.add(vote, power: set.power(of: vote.body.validator), countConflicting: countable, claimed: claimed) {
        case .added, .duplicate:
            break
        case .conflict(let existing, _):
            guard let evidence = DuplicateVoteEvidence(existing, vote) else { return }
            recordEvidence(evidence, effects: &effects)
        }
    }

    /// Whether a vote of `round` for `blockID` may be one a rule needs, so its validator's cap of counted votes does not
    /// apply to it (VoteSet's header): nil (lines 44, 34, 47 count it), the block of round's proposal (lines 36, 49),
    /// or the block a proposal of a later round names with `round` as its proof-of-lock round (line 28). A Byzantine
    /// validator that used up its cap on other proposed blocks could otherwise hide its vote for the polka a correct
    /// node needs — and with f + 1 correct nodes needing it, stop the chain (PRE-2). Bounded: a height has one
    /// proposal per round, so at most one claim per proposal besides its own round's.
    func isClaimed(_ blockID: Hash?, round r: UInt32) -> Bool {
        guard let id = blockID else { return true }
        if proposals[r]?.body.blockID == id { return true }
        return proposals.values.contains { $0.body.polRound == r && $0.body.blockID == id }
    }

    /// Keeps `evidence` for the next blocks this node proposes: one per validator and height — enough to punish it
    /// (a second pair proves nothing more), so one validator's equivocations over many rounds and both vote types
    /// cannot fill the bounded pool (before, 64 pairs of one validator at one height filled it for good). Across
    /// heights a full pool drops the oldest pair of the validator holding the most, when that is more than the new
    /// pair's validator holds (`evidenceToDrop`): one validator equivocating at every height towards a node that
    /// rarely proposes (the pool drains only when its blocks commit) fills the pool with its own pairs, but cannot keep
    /// another validator's out (review 15, RISK 2).
    mutating func recordEvidence(_ evidence: DuplicateVoteEvidence, effects: inout [Effect]) {
        guard keepEvidence(evidence) else { return }
        equivocatorsThisHeight.insert(evidence.validator)
        effects.append(.recordEvidence(evidence))
    }

    /// Keeps evidence a peer gossiped (Replica+Evidence `receiveEvidence`, which checked it against the validator set
    /// of its height and the chain) under the pool's rules; false when the pool would not keep it. Outside the log:
    /// pending evidence never changes a vote (only which votes the machine may skip unlogged, those it would not count),
    /// and the pool is stored and put back before a replay, as `restorePendingEvidence` says.
    mutating func keepGossipedEvidence(_ evidence: DuplicateVoteEvidence) -> Bool {
        keepEvidence(evidence)
    }

    private mutating func keepEvidence(_ evidence: DuplicateVoteEvidence) -> Bool {
        guard mayRecordEvidence(against: evidence.validator, height: evidence.height) else { return false }
        if pendingEvidence.count >= config.maxPendingEvidence {
            guard let index = evidenceToDrop(for: evidence.validator) else {
                preconditionFailure("invalid state: a full evidence pool with nothing to drop for \(evidence.validator)")
            }
            pendingEvidence.remove(at: index)
        }
        pendingEvidence.append(evidence)
        return true
    }

    /// Puts back the pending evidence a previous life stored (Replica+Recovery `start`, before the WAL's replay or a fresh
    /// start): one pair per (validator, height), at most `maxPendingEvidence` — the newest kept if the bound shrank.
    /// Pending evidence never changes a vote, so the replay derives the same signatures; a pair the replay finds again
    /// is already pending (kept once), and its validator's further votes are redundant as in the live run.
    mutating func restorePendingEvidence(_ stored: [DuplicateVoteEvidence]) {
        precondition(pendingEvidence.isEmpty, "invalid state: evidence restored into a pool holding \(pendingEvidence.count) pairs")
        for pair in stored where !hasPendingEvidence(against: pair.validator, height: pair.height) { pendingEvidence.append(pair) }
        if pendingEvidence.count > config.maxPendingEvidence { pendingEvidence.removeFirst(pendingEvidence.count - config.maxPendingEvidence) }
    }

    /// Whether `recordEvidence` would keep a new pair against `validator` at `h` (`isRedundant` asks the same).
    func mayRecordEvidence(against validator: PublicKey, height h: UInt64) -> Bool {
        guard !hasPendingEvidence(against: validator, height: h) else { return false }
        return pendingEvidence.count < config.maxPendingEvidence || evidenceToDrop(for: validator) != nil
    }

    /// Whether evidence against `validator` at `height` is pending.
    func hasPendingEvidence(against validator: PublicKey, height h: UInt64) -> Bool {
        pendingEvidence.contains { $0.validator == validator && $0.height == h }
    }

    /// The pool is full: the index of the pair to drop for a new one against `validator` — the oldest pair of the
    /// validator holding the most (the first in pool order among equals: no dictionary order decides), if it holds more
    /// than `validator` does; nil: the new pair is refused (its validator already holds a largest share).
    func evidenceToDrop(for validator: PublicKey) -> Int? {
        var counts: [PublicKey: Int] = [:]
        for pending in pendingEvidence { counts[pending.validator, default: 0] += 1 }
        let largest = counts.values.max() ?? 0
        guard largest > counts[validator, default: 0] else { return nil }
        return pendingEvidence.firstIndex { counts[$0.validator] == largest }
    }

    /// Drops evidence against a (validator, height) that a committed block punished — with this pair or another (the
    /// ledger records one per validator and height and refuses a second). The replica calls it for every block it
    /// commits, decided here or synced (pending evidence never changes a vote: a replay needs nothing).
    mutating func pruneEvidence(committedIn block: Block) {
        pendingEvidence.removeAll { pending in block.evidence.contains { $0.validator == pending.validator && $0.height == pending.height } }
    }

    /// Drops the pending pairs `isPunished` says the chain recorded (Replica+Evidence, before gossiping the pool).
    mutating func pruneEvidence(where isPunished: (DuplicateVoteEvidence) -> Bool) {
        pendingEvidence.removeAll(where: isPunished)
    }

    mutating func bufferFutureMessage(_ message: ConsensusMessage) {
        guard phase == .waitingForHeight || message.height <= height &+ config.maxFutureHeights else {
            droppedMessages += 1
            return
        }
        // Only proposals of the rounds the node starts a height with (a fresh start buffers what the log held for this
        // height and later — an earlier build's log too).
        if case .proposal(let p) = message, !isWithinProposalReach(p) {
            droppedMessages += 1
            return
        }
        guard !futureMessages.contains(message) else { return }
        futureMessages.append(message)
        if futureMessages.count > config.maxBufferedFutureMessages {
            futureMessages.remove(at: oldestOfTheLargestSigner())
            droppedMessages += 1
        }
    }

    /// The buffer is full: the index of the message to drop — the oldest of the signer holding the most (the first in
    /// buffer order among equals, so no dictionary order decides). Each signer keeps its share (the bound over the
    /// signers present) whatever the others send: a flood, even of several Byzantine validators, only pushes out its
    /// own messages, never an honest validator's early proposal or votes for the next height (before, one global
    /// queue dropped the oldest message whoever sent it).
    func oldestOfTheLargestSigner() -> Int {
        var counts: [PublicKey: Int] = [:]
        for message in futureMessages { counts[message.signer, default: 0] += 1 }
        let largest = counts.values.max() ?? 0
        guard let index = futureMessages.firstIndex(where: { counts[$0.signer] == largest }) else {
            preconditionFailure("invalid state: an empty future buffer over its bound \(config.maxBufferedFutureMessages)")
        }
        return index
    }
}
