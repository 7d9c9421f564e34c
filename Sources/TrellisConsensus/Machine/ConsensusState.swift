// ConsensusState.swift — Tendermint consensus, Algorithm 1 of Buchman, Kwon, Milosevic, "The latest gossip on BFT
// consensus" (arXiv:1807.04938), as a pure value-type state machine: `mutating func handle(_:) -> [Effect]`.
//
// Fault model: n validators with voting power, of which Byzantine ones hold less than 1/3 of the total; messages
// may be lost, delayed, duplicated and reordered; the process may crash and restart from its durable signing
// guard and WAL. Guarantees: an honest validator never signs two different messages for one (height, round, step)
// (SigningGuard), and two honest validators never decide different blocks at one height (the locking rules below,
// lines 22–54). Liveness needs eventual synchrony: timeouts grow with the round.
//
// No sockets, threads, clocks or randomness: time arrives as `.timeoutFired`, `valid(v)` as `.blockValidated`,
// `getValue()` as `.proposalBlockBuilt`. The paper's `−1` is `nil` here (`lockedRound`, `validRound`, `vr`).
// The upon-rules live in ConsensusState+Rules.swift, message intake in ConsensusState+Messages.swift.
import TrellisCrypto
import TrellisLedger

/// Where the state machine is between heights.
public enum ConsensusPhase: Sendable, Hashable {
    /// No `.startHeight` yet.
    case waitingForHeight
    /// Running height `h_p`.
    case running
    /// `decision_p[h_p]` is set; waiting for the replica to commit and send `.startHeight(h_p + 1)`.
    case decided
}

/// One validator's Tendermint state machine.
public struct ConsensusState: Sendable {
    public let config: ConsensusConfig
    let signingKey: SigningKey
    /// The durable record of the last signature (persisted through `Effect.persistSigningState`).
    public internal(set) var signingGuard: SigningGuard

    // Lines 1–9: initialization.
    /// `h_p`, the height being decided.
    public internal(set) var height: UInt64 = 0
    /// `round_p`.
    public internal(set) var round: UInt32 = 0
    /// `step_p`.
    public internal(set) var step: Step = .propose
    public internal(set) var phase: ConsensusPhase = .waitingForHeight
    /// `decision_p[h_p]`, with the certificate that proves it.
    public internal(set) var decision: (block: Block, certificate: CommitCertificate)?
    /// `lockedValue_p` / `lockedRound_p` (nil = −1).
    public internal(set) var lockedValue: Block?
    public internal(set) var lockedRound: UInt32?
    /// `validValue_p` / `validRound_p` (nil = −1).
    public internal(set) var validValue: Block?
    public internal(set) var validRound: UInt32?

    // Per-height bookkeeping.
    var validatorSet: ValidatorSet?
    var schedule: ProposerSchedule?
    var votes = HeightVotes(height: 0)
    /// The first correctly signed proposal of proposer(h_p, r) per round r.
    var proposals: [UInt32: Proposal] = [:]
    /// Blocks seen in this height's proposals, by id.
    var blocks: [Hash: Block] = [:]
    /// `valid(v)` answers by block id; absent = not yet known.
    var validity: [Hash: Bool] = [:]
    var validationRequested: Set<Hash> = []
    /// The round whose block this node (as proposer) asked the application to build.
    var buildRequestedRound: UInt32?

    // "for the first time" flags of round_p (lines 34, 36, 47); reset by StartRound.
    var prevoteTimeoutScheduled = false
    var polkaRuleFired = false
    var precommitTimeoutScheduled = false
    /// Round catch-up beyond the window: per validator, the round of the first verified message it sent for a round
    /// above `round_p + maxRoundsAhead` since round_p last changed (one entry per validator: bounded by the set).
    /// Reset by StartRound; line 55 moves to the highest round that validators with more than f of the power have
    /// reached (ConsensusState+Rules `skipRoundIfPossible`).
    var farRoundSenders: [PublicKey: UInt32] = [:]

    /// Messages for later heights, oldest first, bounded by `config.maxBufferedFutureMessages` (ConsensusState+Messages
    /// `bufferFutureMessage`: the signer holding the most loses its oldest).
    var futureMessages: [ConsensusMessage] = []
    /// How many messages for later heights are buffered (diagnostics, and the simulator's bound check).
    public var bufferedFutureMessages: Int { futureMessages.count }
    /// Evidence not yet seen committed, oldest first, bounded by `config.maxPendingEvidence`.
    public internal(set) var pendingEvidence: [DuplicateVoteEvidence] = []
    /// Validators whose evidence this machine recorded at h_p (the WAL never refuses a validator's first such vote a
    /// height: ConsensusState+Messages `isRefusable`); reset by a height start, bounded by the set.
    var equivocatorsThisHeight: Set<PublicKey> = []
    /// Counters for diagnostics: messages dropped as invalid, and signatures refused by the guard.
    public internal(set) var droppedMessages = 0
    public internal(set) var refusedSignatures = 0
    /// Signatures of received messages this machine checked itself (diagnostics: on the live path the replica's intake
    /// checked them already; a replay checks each).
    public internal(set) var signatureChecks = 0
    /// True only inside `handle(_:signatureVerified: true)`: the received message's signature was checked by the driver.
    var signatureVerifiedByDriver = false

    /// A state machine for the validator holding `signingKey`, resuming from `signingGuard` (empty for a new node).
    public init(config: ConsensusConfig, signingKey: SigningKey, signingGuard: SigningGuard = SigningGuard()) {
        self.config = config
        self.signingKey = signingKey
        self.signingGuard = signingGuard
    }

    /// This validator's public key.
    public var publicKey: PublicKey { signingKey.publicKey }

    /// Feeds one event; returns the effects to perform, in order (see Effect.swift for the durability rule).
    public mutating func handle(_ event: Event) -> [Effect] {
        var effects: [Effect] = []
        switch event {
        case .startHeight(let h, let set):
            startHeight(h, validatorSet: set, effects: &effects)
        case .proposalReceived(let proposal):
            receive(.proposal(proposal), effects: &effects)
        case .voteReceived(let vote):
            receive(.vote(vote), effects: &effects)
        case .timeoutFired(let timeout):
            onTimeout(timeout, effects: &effects)
        case .blockValidated(let id, let valid):
            if phase == .running && validationRequested.contains(id) { validity[id] = valid }
        case .proposalBlockBuilt(let h, let r, let block):
            onBlockBuilt(height: h, round: r, block: block, effects: &effects)
        }
        applyRules(effects: &effects)
        assertInvariants()
        return effects
    }

    /// `handle(event)` for a received message whose signature the driver has just checked (the replica's intake, under
    /// this machine's chain id): the machine does not check it again — one Ed25519 verification per message instead of
    /// two. Everything else is checked as usual; a WAL replay calls `handle(_:)`, which checks the signature.
    mutating func handle(_ event: Event, signatureVerified: Bool) -> [Effect] {
        signatureVerifiedByDriver = signatureVerified
        defer { signatureVerifiedByDriver = false }
        return handle(event)
    }

    /// Facts that hold after every event whatever the input (a broken one is a bug in this file, never bad input):
    /// locks and valid values are set together with their rounds and never from a later round than round_p, a lock
    /// is never newer than the valid value, and a decision exists exactly in the decided phase. (The signing guard
    /// may be ahead of h_p: a validator resyncing an empty data directory keeps its guard.)
    func assertInvariants() {
        precondition((lockedValue == nil) == (lockedRound == nil), "invalid state: lockedValue and lockedRound set apart (lockedRound \(String(describing: lockedRound)))")
        precondition((validValue == nil) == (validRound == nil), "invalid state: validValue and validRound set apart (validRound \(String(describing: validRound)))")
        precondition(lockedRound.map { $0 <= round } ?? true, "invalid state: lockedRound \(String(describing: lockedRound)) > round \(round)")
        precondition(validRound.map { $0 <= round } ?? true, "invalid state: validRound \(String(describing: validRound)) > round \(round)")
        precondition(lockedRound.map { locked in validRound.map { locked <= $0 } ?? false } ?? true,
                     "invalid state: lockedRound \(String(describing: lockedRound)) without a validRound at or after it (\(String(describing: validRound)))")
        precondition((phase == .decided) == (decision != nil), "invalid state: phase \(phase) with decision \(decision == nil ? "unset" : "set")")
    }

    // MARK: Heights

    /// Line 10 (`upon start do StartRound(0)`) for the first height, lines 52–54 for every later one.
    mutating func startHeight(_ h: UInt64, validatorSet set: ValidatorSet, effects: inout [Effect]) {
        guard phase == .waitingForHeight || h > height else { return }  // stale or repeated start
        height = h
        phase = .running
        decision = nil
        // Line 53: reset lockedRound_p, lockedValue_p, validRound_p and validValue_p to initial values.
        lockedValue = nil
        lockedRound = nil
        validValue = nil
        validRound = nil
        validatorSet = set
        if schedule?.validatorSet != set { schedule = ProposerSchedule(validatorSet: set) }
        votes = HeightVotes(height: h)
        proposals = [:]
        blocks = [:]
        validity = [:]
        validationRequested = []
        buildRequestedRound = nil
        equivocatorsThisHeight = []
        startRound(0, effects: &effects)  // line 54
        // Buffered messages for this height are not handled here: the driver took them (`takeBufferedMessages`) and
        // delivers each as an event of its own, logged first. What it did not take is dropped with older heights' —
        // a lost message, never one handled without being in the WAL.
        futureMessages.removeAll { $0.height <= h }
    }

    /// Drops the buffered messages for heights below `h` and removes and returns those for `h`, oldest first. A driver
    /// calls it right before it delivers `.startHeight(h)`, logs the messages right after that entry (one atomic write
    /// with it: ConsensusWAL `append(contentsOf:)`) and delivers each as `.received` after the start — so the log holds
    /// exactly what the machine handles at h, in order. (The buffer itself is never logged: its bound drops the
    /// oldest, and messages beyond `maxFutureHeights` are never buffered.)
    public mutating func takeBufferedMessages(forHeight h: UInt64) -> [ConsensusMessage] {
        let buffered = futureMessages
        futureMessages = buffered.filter { $0.height > h }
        return buffered.filter { $0.height == h }
    }

    // MARK: Lines 11–21: StartRound

    mutating func startRound(_ r: UInt32, effects: inout [Effect]) {
        round = r                                                     // line 12
        step = .propose                                               // line 13
        prevoteTimeoutScheduled = false
        polkaRuleFired = false
        precommitTimeoutScheduled = false
        farRoundSenders = [:]
        if isProposer(round: r) {                                     // line 14
            if let value = validValue {                               // line 15
                propose(value, polRound: validRound, effects: &effects)  // lines 16, 19
            } else {                                                  // line 17
                buildRequestedRound = r                               // line 18: getValue(), answered by
                effects.append(.buildProposalBlock(BuildRequest(      // `.proposalBlockBuilt`, then line 19
                    height: height, round: r, proposer: publicKey, evidence: pendingEvidence)))
            }
        }
        // Line 21 for non-proposers. The proposer schedules it as well, so that a build answer that never comes
        // cannot stall it; OnTimeoutPropose does nothing once the proposer has prevoted.
        schedule(.propose, effects: &effects)
    }

    /// Line 19 for a value chosen by the application (getValue()).
    mutating func onBlockBuilt(height h: UInt64, round r: UInt32, block: Block, effects: inout [Effect]) {
        guard phase == .running, h == height, r == round, step == .propose, buildRequestedRound == r,
              proposals[r] == nil, block.header.height == h else { return }
        validationRequested.insert(block.hash)
        validity[block.hash] = true  // the application built it against its own state
        propose(block, polRound: nil, effects: &effects)
    }

    /// Line 19: broadcast ⟨PROPOSAL, h_p, round_p, proposal, validRound_p⟩ (and count it as received).
    mutating func propose(_ block: Block, polRound: UInt32?, effects: inout [Effect]) {
        let body = ProposalBody(height: height, round: round, polRound: polRound, blockID: block.hash, proposer: publicKey)
        let signBytes = body.signBytes(chainID: config.chainID)
        guard let signature = sign(signBytes, at: SigningPosition(height: height, round: round, step: .propose), effects: &effects) else { return }
        let proposal = Proposal(body: body, block: block, signature: signature)
        effects.append(.broadcast(.proposal(proposal)))
        accept(proposal, effects: &effects)
    }

    // MARK: Lines 57–67: timeouts

    mutating func onTimeout(_ t: Timeout, effects: inout [Effect]) {
        guard phase == .running, t.height == height, t.round == round else { return }
        switch t.step {
        case .propose where step == .propose:                         // lines 57–60
            broadcastVote(.prevote, blockID: nil, effects: &effects)
            step = .prevote
        case .prevote where step == .prevote:                         // lines 61–64
            broadcastVote(.precommit, blockID: nil, effects: &effects)
            step = .precommit
        case .precommit:                                              // lines 65–67
            startRound(round + 1, effects: &effects)
        default:
            break
        }
    }

    mutating func schedule(_ timeoutStep: Step, effects: inout [Effect]) {
        let timeout = Timeout(height: height, round: round, step: timeoutStep)
        effects.append(.scheduleTimeout(timeout, afterMilliseconds: config.timeouts.duration(timeoutStep, round: round)))
    }

    // MARK: Signing

    /// Signs through the guard; appends `.persistSigningState` (which the replica performs BEFORE the broadcast
    /// that follows). Returns nil when the guard refuses: the node then stays silent for this step.
    mutating func sign(_ signBytes: [UInt8], at position: SigningPosition, effects: inout [Effect]) -> Signature? {
        guard let set = validatorSet, set.contains(publicKey) else { return nil }  // not a validator: never sign
        let signature: Signature
        do {
            switch try signingGuard.mayShouldSign(at: position, signBytes: signBytes) {
            case .reuse(let existing):
                signature = existing
            case .sign:
                signature = signingKey.sign(signBytes)
                signingGuard.record(signature, at: position, signBytes: signBytes)
            }
        } catch {
            refusedSignatures += 1
            guard config.testOnlyFaults.skipSigningGuard else { return nil }
            signature = signingKey.sign(signBytes)
        }
        effects.append(.persistSigningState(signingGuard))
        return signature
    }

    /// broadcast ⟨PREVOTE|PRECOMMIT, h_p, round_p, id⟩, counting the vote as received.
    mutating func broadcastVote(_ type: VoteType, blockID: Hash?, effects: inout [Effect]) {
        let body = VoteBody(type: type, height: height, round: round, blockID: blockID, validator: publicKey)
        let signBytes = body.signBytes(chainID: config.chainID)
        let step: Step = type == .prevote ? .prevote : .precommit
        guard let signature = sign(signBytes, at: SigningPosition(height: height, round: round, step: step), effects: &effects) else { return }
        let vote = Vote(body: body, signature: signature)
        effects.append(.broadcast(.vote(vote)))
        addVote(vote, effects: &effects)
    }

    // MARK: Helpers

    func isProposer(round r: UInt32) -> Bool {
        guard let schedule, schedule.validatorSet.contains(publicKey) else { return false }
        return schedule.proposer(height: height, round: r) == publicKey
    }

    /// 2f + 1: strictly more than two thirds of the voting power.
    var quorum: UInt64 { validatorSet?.quorumPower ?? UInt64.max }

    /// f + 1: more power than the Byzantine validators can hold, so at least one sender is honest.
    var skipPower: UInt64 {
        guard let set = validatorSet else { return UInt64.max }
        return set.totalPower - set.quorumPower + 1
    }
}
