// SimulationConfig.swift — the knobs of one simulated run; everything else is derived from the seed.
import TrellisConsensus

/// Byzantine behaviours a faulty validator may combine (chosen per seed unless fixed here).
public struct ByzantineBehaviour: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// As proposer, send one block to half of the honest validators and another to the rest (also instead of
    /// re-proposing a locked value with its proof-of-lock).
    public static let equivocateProposals = ByzantineBehaviour(rawValue: 1 << 0)
    /// Sign conflicting votes and send each half of the honest validators a different one (colluding with the
    /// other Byzantine validators on the same split).
    public static let doubleVote = ByzantineBehaviour(rawValue: 1 << 1)
    /// Drop most outgoing votes.
    public static let withholdVotes = ByzantineBehaviour(rawValue: 1 << 2)
    /// As proposer, propose a block whose state root is wrong.
    public static let invalidProposals = ByzantineBehaviour(rawValue: 1 << 3)
    /// Resend old messages (past rounds and heights) to random peers.
    public static let replayOld = ByzantineBehaviour(rawValue: 1 << 4)

    /// Vote nil in every vote it sends (broadcast and gossip): with 2f + 1 others present the rounds advance, but
    /// no block gets a quorum without every honest validator. Not in the random mix (`all`); a scenario sets it.
    public static let voteNil = ByzantineBehaviour(rawValue: 1 << 5)

    /// Every sync tick, send every other validator a burst of distinct validly signed votes: for later rounds of the
    /// running height (within the window and beyond it), for the next height, and conflicting ones at the running
    /// round over the blocks proposed there and phantom ones — what fills bounded buffers, the evidence pool and the
    /// WAL if a bound is per node rather than per signer. Not in the random mix (`all`); a scenario sets it.
    public static let flood = ByzantineBehaviour(rawValue: 1 << 6)

    /// Every sync tick, fill the round window of the running height with votes: as proposer of a round in
    /// [round_p, round_p + maxRoundsAhead], send that round's proposal ahead of time (once per round), and for every
    /// round of the window and both vote types send 4 votes for the blocks so proposed — what filled the per-height WAL
    /// bound with ≤ f Byzantine validators and froze the height (review 15; run with `smallBounds()`, whose WAL bound
    /// it fills within a round). Since proposals are kept only for rounds ≤ round_p + 1, only the votes for the blocks
    /// proposed there count (the others are one equivocation, then redundant). Not in the random mix (`all`).
    public static let floodWindow = ByzantineBehaviour(rawValue: 1 << 7)

    /// Every sync tick, as proposer of a round of the running height's window ([round_p, round_p + maxRoundsAhead]) or
    /// of rounds 0…maxRoundsAhead of the next height, send that round's proposal ahead of time with a large block
    /// (`Simulation.floodProposalBlockBytes` of padding transactions; signed once per round, re-sent every tick) — what
    /// made every honest node hold, log and execute one block per round it owns in the window (memory, WAL bytes and CPU
    /// per height growing with what one validator sends) until proposals were kept only for rounds ≤ round_p + 1.
    /// Its blocks are invalid (the padding is not in the header's tx root): where one is kept, it is validated and
    /// refused. Not in the random mix (`all`); a scenario sets it.
    public static let floodProposals = ByzantineBehaviour(rawValue: 1 << 8)

    /// The behaviours a seed draws its random mix from.
    public static let all: ByzantineBehaviour = [.equivocateProposals, .doubleVote, .withholdVotes, .invalidProposals, .replayOld]
}

/// Parameters of a simulation run.
public struct SimulationConfig: Sendable {
    /// Validators (4…10).
    public var validators: Int
    /// The application every validator runs: the real ledger and contracts (default) or the synthetic test ledger.
    public var application: SimApplicationKind = .ledger
    /// Byzantine validators among them (must be ≤ f for the checks to be expected to pass).
    public var byzantine: Int
    /// Fixed Byzantine behaviours; nil: a random non-empty mix per node, from the seed.
    public var byzantineBehaviour: ByzantineBehaviour?
    /// Inject network faults, crashes and restarts during the fault phase.
    public var faults: Bool
    /// Length of the fault phase; every fault heals at its end.
    public var faultPhaseMilliseconds: UInt64
    /// After the heal, every honest node must commit `livenessBlocks` new blocks within this time.
    public var livenessWindowMilliseconds: UInt64
    public var livenessBlocks: UInt64
    public var timeouts: TimeoutConfig
    /// Pause between committing a height and starting the next (CometBFT's timeout_commit).
    public var commitDelayMilliseconds: UInt64
    /// Block sync: how often each node announces its committed height.
    public var syncIntervalMilliseconds: UInt64
    /// Validator-set changes (0: never). Synthetic app: every this many heights one honest validator's power toggles
    /// 1 ↔ 2. Ledger app (without Byzantine validators): governance removes and re-adds honest validators (see
    /// `LedgerSimApplication.membership`).
    public var powerChangeInterval: UInt64
    /// Planted bugs (checker tests only).
    public var plantedBug: TestOnlyFaults
    /// Planted replica-host bug (checker tests only): never sync the WAL, so a crash loses the events behind signatures.
    public var plantedUnsyncedWAL: Bool
    /// Twins (DiemBFT): the first Byzantine validator runs as two instances with one key, each with its own signing
    /// guard and WAL and each in a different partition at the start (healed within the fault phase) — equivocation
    /// by real replica code. Use with `byzantineBehaviour: []` for pure twins.
    public var twins = false
    /// Laggard: the first honest validator is cut off from the others for the whole fault phase (it heals with
    /// everything at its end) — with a `voteNil` Byzantine validator the others run rounds without deciding, and the
    /// laggard must catch up rounds beyond `maxRoundsAhead` to let the chain go on.
    public var laggard = false
    /// Evidence witness (with `doubleVote`): a double-voting Byzantine validator sends its conflicting vote — for a
    /// block nobody proposed, which no node counts or relays — to one honest validator only, the witness (the first
    /// honest one), which crashes for good (never restarts; left out of the liveness check) two gossip intervals after
    /// it first recorded a pair: only evidence gossip can get the equivocation on chain (`SimulationResult
    /// .punishedOnChain`). Needs f ≥ 2 (7 validators or more) with one Byzantine validator — it and the witness are two
    /// faults — and no fault plan (a crash or partition of the witness before its gossip would lose the pair without a
    /// bug). The witness's power never changes.
    public var evidenceWitness = false
    /// The state machine's bounds (ConsensusConfig, whose defaults they start from): small values reach the paths
    /// that only a long stall or a flood reaches with the defaults (`smallBounds()`).
    public var maxRoundsAhead = ConsensusConfig.defaultMaxRoundsAhead
    public var maxBufferedFutureMessages = ConsensusConfig.defaultMaxBufferedFutureMessages
    public var maxFutureHeights = ConsensusConfig.defaultMaxFutureHeights
    public var maxPendingEvidence = ConsensusConfig.defaultMaxPendingEvidence
    /// Each node's WAL bound (`InMemoryWAL.maxEntries`, the node's default unless set).
    public var maxWALEntries = InMemoryWAL.defaultMaxEntries
    /// Gossip every this many sync ticks, and only when no block was committed since the last check (ReplicaSettings);
    /// the simulator's default gossips at every tick, the node every 4 ticks while stalled (`nodeCadence()`).
    public var gossipEveryTicks = 1
    public var gossipOnlyWhenStalled = false
    /// Bounds: pending simulator events, and events processed per run.
    public var maxQueuedEvents: Int
    public var maxProcessedEvents: Int

    public init(validators: Int = 4, byzantine: Int = 0, byzantineBehaviour: ByzantineBehaviour? = nil, faults: Bool = true,
                faultPhaseMilliseconds: UInt64 = 6_000, livenessWindowMilliseconds: UInt64 = 40_000, livenessBlocks: UInt64 = 2,
                timeouts: TimeoutConfig = SimulationConfig.defaultTimeouts, syncIntervalMilliseconds: UInt64 = 500, commitDelayMilliseconds: UInt64 = 200,
                powerChangeInterval: UInt64 = 4, plantedBug: TestOnlyFaults = .none, plantedUnsyncedWAL: Bool = false,
                maxQueuedEvents: Int = 200_000, maxProcessedEvents: Int = 2_000_000, twins: Bool = false) {
        self.validators = validators
        self.byzantine = byzantine
        self.byzantineBehaviour = byzantineBehaviour
        self.faults = faults
        self.faultPhaseMilliseconds = faultPhaseMilliseconds
        self.livenessWindowMilliseconds = livenessWindowMilliseconds
        self.livenessBlocks = livenessBlocks
        self.timeouts = timeouts
        self.syncIntervalMilliseconds = syncIntervalMilliseconds
        self.commitDelayMilliseconds = commitDelayMilliseconds
        self.powerChangeInterval = powerChangeInterval
        self.plantedBug = plantedBug
        self.plantedUnsyncedWAL = plantedUnsyncedWAL
        self.maxQueuedEvents = maxQueuedEvents
        self.maxProcessedEvents = maxProcessedEvents
        self.twins = twins
    }

    /// Small bounds (`trellis sim --small-bounds`): 4 rounds ahead, 16 buffered future messages, 4 pending evidence
    /// and a WAL of 64 entries a height — a flood reaches each of them within a few rounds.
    public mutating func smallBounds() {
        maxRoundsAhead = 4
        maxBufferedFutureMessages = 16
        maxPendingEvidence = 4
        maxWALEntries = 64
    }

    /// The node's own cadence (`trellis sim --node-cadence`): its default timeouts (propose 1 s + 0.5 s a round,
    /// prevote and precommit 0.5 s + 0.25 s), timeout_commit of 1 s, a 500 ms tick with gossip every 4 ticks only
    /// while stalled, votes at every tick past round 0 (ConsensusRunner.Settings, Replica `tick`) — what the default simulator, with its shorter timeouts and gossip
    /// at every tick, does not exercise: how soon a node that reached a round late gets its proposal. The liveness
    /// window grows to 60 s with the longer timeouts.
    public mutating func nodeCadence() {
        timeouts = TimeoutConfig(proposeBaseMilliseconds: 1_000, proposeDeltaMilliseconds: 500,
                                 prevoteBaseMilliseconds: 500, prevoteDeltaMilliseconds: 250,
                                 precommitBaseMilliseconds: 500, precommitDeltaMilliseconds: 250)
        commitDelayMilliseconds = 1_000
        syncIntervalMilliseconds = 500
        gossipEveryTicks = 4
        gossipOnlyWhenStalled = true
        livenessWindowMilliseconds = 60_000
    }

    /// Short simulated timeouts: the network delays are tens of milliseconds.
    public static let defaultTimeouts = TimeoutConfig(
        proposeBaseMilliseconds: 300, proposeDeltaMilliseconds: 100,
        prevoteBaseMilliseconds: 150, prevoteDeltaMilliseconds: 100,
        precommitBaseMilliseconds: 150, precommitDeltaMilliseconds: 100)

    /// The largest number of Byzantine validators the protocol tolerates: f with n ≥ 3f + 1.
    public var tolerated: Int { (validators - 1) / 3 }
}
