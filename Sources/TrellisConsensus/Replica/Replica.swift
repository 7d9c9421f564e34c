// Replica.swift — one validator's consensus replica: the state machine, the application and the order in which
// their effects are performed. The node (TrellisNode/Consensus/ConsensusRunner.swift) and the simulator
// (TrellisSimulation/Node) both run this code with their own `ReplicaHost` — TigerBeetle's
// `ReplicaType(StateMachine, MessageBus, Storage, Time)`: one replica, two worlds.
//
// Ordering rules (each stated again where it is enforced):
//   1. WAL first: every event is appended to the WAL before the state machine sees it (Replica+Effects `deliver`).
//   2. Persist before send: a `.persistSigningState` effect syncs the WAL and fsyncs the guard before any later
//      effect of the same list — the `.broadcast` of what was just signed (CometBFT wal.go: "write to disk before
//      sending signed messages").
//   3. Effects are performed strictly in order; answers of the application (`.blockValidated`,
//      `.proposalBlockBuilt`) queue behind the current event.
//   4. Commit: the ledger's synced batch lands before the host hears of the block and before the next height
//      starts (timeout_commit counts from the decision, so the write runs inside it); a `.startHeight(h + 1)` WAL
//      entry ends height h and truncates the WAL.
//   5. Fail-stop: a failed persist, a block that differs from the committed one at its height, or a certified
//      block the application refuses halts the replica for good; every later input is ignored.
// Recovery (Replica+Recovery `start`): the durable guard and WAL of the height after the last committed block are
// replayed; the replica resumes with its lock and valid value and re-sends its own signed messages.
import TrellisCrypto
import TrellisLedger

/// Settings of a replica that are not consensus rules.
public struct ReplicaSettings: Sendable, Hashable {
    /// Pause between deciding a height and starting the next (CometBFT's timeout_commit); the commit of the decided
    /// block runs inside it, so the next height starts this long after the decision or as soon as the commit is
    /// stored, whichever is later.
    public var commitDelayMilliseconds: UInt64
    /// Minimum pause between two block requests for the same height.
    public var syncRetryMilliseconds: UInt64
    /// Gossip is considered every this many ticks.
    public var gossipEveryTicks: Int
    /// true: gossip only when no block was committed since the last gossip check (saves bandwidth on a busy chain);
    /// false: gossip at every check.
    public var gossipOnlyWhenStalled: Bool
    /// false: after a commit, start the next height only when transactions wait or a peer moves on to it
    /// (`consensus.create_empty_blocks`). Only delays a start; never changes a vote.
    public var createEmptyBlocks: Bool
    /// Send the pending evidence to peers (Replica+Evidence; the node's `consensus.evidence_gossip`). Receiving is
    /// always on. Only delays a punishment; never changes a vote. Off unless asked for, as in the node (the simulator
    /// turns it on: all its replicas run one build).
    public var gossipsEvidence: Bool

    public init(commitDelayMilliseconds: UInt64, syncRetryMilliseconds: UInt64 = 1_000, gossipEveryTicks: Int = 1, gossipOnlyWhenStalled: Bool = true,
                createEmptyBlocks: Bool = true, gossipsEvidence: Bool = false) {
        precondition(gossipEveryTicks >= 1, "gossipEveryTicks must be ≥ 1, got \(gossipEveryTicks)")
        self.commitDelayMilliseconds = commitDelayMilliseconds
        self.syncRetryMilliseconds = syncRetryMilliseconds
        self.gossipEveryTicks = gossipEveryTicks
        self.gossipOnlyWhenStalled = gossipOnlyWhenStalled
        self.createEmptyBlocks = createEmptyBlocks
        self.gossipsEvidence = gossipsEvidence
    }
}

/// Why a replica refused to start.
public enum ReplicaStartError: Error, Equatable, CustomStringConvertible {
    /// The WAL could not be read (corrupt, or the store failed).
    case wal(WALError)
    /// The WAL holds a height later than the one after the last committed block: it belongs to another chain state.
    case walAhead(walHeight: UInt64, expectedHeight: UInt64)
    /// The application does not know the validator set of the height to start.
    case application(ApplicationError)

    public var description: String {
        switch self {
        case .wal(let error): return "\(error)"
        case .walAhead(let w, let e):
            return "the consensus WAL is for height \(w), but the chain store's next height is \(e): the WAL belongs to another chain state (restored data directory?); refusing to start"
        case .application(let error): return "cannot start consensus: \(error)"
        }
    }
}

/// One validator's consensus replica, generic over its application and its host (I/O).
public struct Replica<Application: ConsensusApplication, Host: ReplicaHost> {
    /// The Tendermint state machine.
    public internal(set) var machine: ConsensusState
    /// The ledger (owned by the replica: only it commits).
    public internal(set) var application: Application
    public let host: Host
    public let settings: ReplicaSettings
    /// Set once, when the replica halts; nil while it participates.
    public internal(set) var haltReason: HaltReason?
    /// WAL entries replayed at start.
    public internal(set) var replayedEntries = 0
    /// Received messages refused before the WAL (Replica+Intake): out of range, not a validator's, over the signer's
    /// allowance, or a signature that does not verify.
    public internal(set) var refusedMessages = 0
    /// Gossiped evidence pairs refused (Replica+Evidence), repeats of pending pairs included.
    public internal(set) var refusedEvidence = 0

    /// Events waiting behind the current one (application answers, starts), oldest first.
    var pending: [Event] = []
    var highestPeerHeight: UInt64 = 0
    var lastSyncRequest: (height: UInt64, atMilliseconds: UInt64)?
    var ticks = 0
    var lastGossipCheckHeight: UInt64 = .max
    /// The height whose start waits for transactions (only without empty blocks).
    var waitingToStart: UInt64?
    var started = false
    /// The pending evidence as this replica last stored it (`persistEvidence`).
    var savedEvidence: [DuplicateVoteEvidence] = []
    /// Messages logged per (height, round, signer) (Replica+Intake), and the validator set it last asked for.
    var intakeCounts: [IntakeKey: Int] = [:]
    var intakeSetCache: (height: UInt64, schedule: ProposerSchedule)?
    /// Gossiped evidence pairs checked per peer at this height (Replica+Evidence).
    var evidenceChecks: [Host.Peer: Int] = [:]
    /// Gossiped evidence pairs verified at this height, all peers together (Replica+Evidence).
    var evidenceVerifications = 0
    /// Gossiped evidence pairs looked up at this height, all peers together (Replica+Evidence).
    var evidenceNodeChecks = 0

    /// A replica for the validator holding `signingKey`, resuming from its durable `signingGuard`. Call `start()`.
    public init(config: ConsensusConfig, signingKey: SigningKey, signingGuard: SigningGuard, application: Application, host: Host,
                settings: ReplicaSettings) {
        self.machine = ConsensusState(config: config, signingKey: signingKey, signingGuard: signingGuard)
        self.application = application
        self.host = host
        self.settings = settings
    }

    /// Whether the replica halted.
    public var isHalted: Bool { haltReason != nil }
    /// True while a peer reported a higher committed height than ours.
    public var isCatchingUp: Bool { highestPeerHeight > application.committedHeight }

    // MARK: Inputs

    /// A proposal or vote from a peer.
    public mutating func receive(_ message: ConsensusMessage) {
        guard started, haltReason == nil else { return }
        if let waiting = waitingToStart, message.height >= waiting { startHeightIfStill(waiting, waited: true) }
        guard admit(message) else { return }
        deliver(.received(message), intakeVerified: true)  // admit checked its signature last
    }

    /// A timer scheduled through the host fired.
    public mutating func timerFired(_ timer: ReplicaTimer) {
        guard started, haltReason == nil else { return }
        switch timer {
        case .consensus(let timeout): deliver(.timeoutFired(timeout))
        case .startHeight(let height): startHeightIfStill(height)
        }
    }

    /// Transactions arrived: a height waiting for them starts now.
    public mutating func transactionsArrived() {
        guard started, haltReason == nil, let waiting = waitingToStart else { return }
        startHeightIfStill(waiting, waited: true)
    }

    /// The periodic tick: announces the committed height (block sync) and re-sends this height's messages
    /// (every `gossipEveryTicks` ticks; with `gossipOnlyWhenStalled`, only if no block was committed since the last
    /// check). Once the height is past round 0 its votes (a few hundred bytes each) go at every tick: a node that
    /// reached a round late needs the round's precommits and prevotes soon, and the node's cadence (4 ticks of 500 ms)
    /// would often come after its propose timeout (REVIEW-17 RISK 2). Proposals — a block each, up to 16 MiB by default
    /// — keep the cadence: at every tick, the two or three a locked height gossips would exceed a peer's byte rate
    /// (32 MiB/s) and get this node cut off and banned by honest peers (REVIEW-17 b BUG A).
    public mutating func tick() {
        guard started, haltReason == nil else { return }
        let height = application.committedHeight
        host.broadcastSync(.status(committedHeight: height))
        ticks += 1
        var withProposals = false
        if ticks % settings.gossipEveryTicks == 0 {
            withProposals = !settings.gossipOnlyWhenStalled || height == lastGossipCheckHeight
            lastGossipCheckHeight = height
            gossipEvidence()  // stalled or not: the chain runs, and a pair seen by a node that does not propose must get out
        }
        let votesOnly = !withProposals && machine.phase == .running && machine.round > 0
        guard withProposals || votesOnly else { return }
        var messages = machine.messagesToGossip()
        if votesOnly { messages.removeAll { if case .proposal = $0 { return true } else { return false } } }
        if !messages.isEmpty { host.gossip(messages) }
    }

    // MARK: Fail-stop

    /// Stops participation for good.
    mutating func halt(_ reason: HaltReason) {
        guard haltReason == nil else { return }
        haltReason = reason
        pending.removeAll()
        waitingToStart = nil
        host.replicaHalted(reason)
    }
}
