// Simulation.swift — N validators in one process, driven by one seed: simulated clock, network, disks, faults.
//
// Fault model: up to f Byzantine validators (equivocating proposer, double votes, withheld votes, invalid
// proposals, replays), message loss/delay/duplication/reordering, symmetric and asymmetric partitions, crashes
// (also mid-step) and restarts, all during a fault phase after which the network is reliable and every node is
// up. The invariants of InvariantChecker are checked after every step; liveness is checked after the heal.
// Determinism: every choice comes from SimRandom(seed); ties in time are broken by scheduling order; no
// dictionary iteration order reaches any decision or output.
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

/// The outcome of one seed.
public struct SimulationResult: Sendable {
    public let seed: UInt64
    public let violations: [Violation]
    /// Committed height per node, at the end.
    public let committedHeights: [UInt64]
    public let simulatedMilliseconds: UInt64
    public let processedEvents: Int
    public let evidenceRecorded: Int
    /// Received messages the WAL's bound refused at honest nodes (`ReplicaReport.walFull`).
    public let walFullReports: Int
    /// Byzantine validators (node indices) an honest node committed a block punishing — the evidence got on chain.
    public let punishedOnChain: Set<Int>
    /// The Byzantine validators (node indices) of the run.
    public let byzantine: Set<Int>
    public var passed: Bool { violations.isEmpty }
}

enum SimEvent {
    case deliver(to: Int, from: Int, NetMessage)
    /// A timer a replica scheduled (discarded when the node crashed since).
    case timer(node: Int, incarnation: Int, ReplicaTimer)
    case fault(FaultAction)
    case syncTick(node: Int)
}

struct TwinKey: Hashable {
    let height: UInt64
    let round: UInt32
}

/// One simulated run.
public struct Simulation {
    public let seed: UInt64
    public let config: SimulationConfig
    let chainID = "trellis-sim"
    var random: SimRandom
    var now: UInt64 = 0
    var queue: EventQueue<SimEvent>
    var network: SimNetwork
    var nodes: [SimNode] = []
    var checker: InvariantChecker
    /// Honest node indices, ascending.
    var honest: [Int] = []
    var nodeOfKey: [PublicKey: Int] = [:]
    /// Colluding Byzantine validators' shared split: (height, round) → (block for group A, block for group B).
    var twins: [TwinKey: (Hash?, Hash?)] = [:]
    /// `floodWindow`: the proposals Byzantine proposers sent ahead of time, per (height, round) — signed once, re-sent
    /// every tick (looked up only, never iterated).
    var aheadProposals: [TwinKey: TrellisConsensus.Proposal] = [:]
    /// `floodProposals`: the large proposals Byzantine proposers sent ahead of time, per (height, round) — signed once,
    /// re-sent every tick, dropped once their height is past (looked up or filtered, never iterated in order).
    var largeProposals: [TwinKey: TrellisConsensus.Proposal] = [:]
    var processedEvents = 0
    var evidenceRecorded = 0
    var walFullReports = 0
    /// Validators whose evidence an honest node committed (SimulationResult.punishedOnChain).
    var punishedOnChain: Set<Int> = []
    /// Nodes crashed for good (`FaultAction.retire`): never restarted, left out of the liveness check.
    var retired: Set<Int> = []
    /// `evidenceWitness`: whether the witness's retirement is scheduled.
    var witnessRetirementScheduled = false
    /// Set at the end of the fault phase.
    var livenessDeadline: UInt64?
    var livenessTarget: UInt64 = 0
    let log: ((String) -> Void)?

    /// Runs `seed` under `config`; `log` receives a readable trace when given.
    public static func run(seed: UInt64, config: SimulationConfig, log: ((String) -> Void)? = nil) -> SimulationResult {
        var simulation = Simulation(seed: seed, config: config, log: log)
        return simulation.run()
    }

    init(seed: UInt64, config: SimulationConfig, log: ((String) -> Void)?) {
        precondition(config.validators >= 1 && config.validators <= 10, "validators must be 1…10, got \(config.validators)")
        precondition(config.byzantine >= 0 && config.byzantine <= config.validators, "byzantine must be 0…validators")
        self.seed = seed
        self.config = config
        self.log = log
        random = SimRandom(seed: seed)
        queue = EventQueue(capacity: config.maxQueuedEvents)
        precondition(!config.twins || config.byzantine >= 1, "twins need a Byzantine validator")
        network = SimNetwork(nodes: config.validators + (config.twins ? 1 : 0), minDelayMilliseconds: 5, maxDelayMilliseconds: 40)
        checker = InvariantChecker(chainID: chainID)
        setUpNodes()
    }

    private mutating func setUpNodes() {
        var keys: [SigningKey] = []
        for _ in 0..<config.validators {
            var seedBytes: [UInt8] = []
            for _ in 0..<4 { withUnsafeBytes(of: random.next().bigEndian) { seedBytes += $0 } }
            do { keys.append(try SigningKey(seed: seedBytes)) } catch { preconditionFailure("32-byte seed rejected: \(error)") }
        }
        var byzantineNodes = Set<Int>()
        while byzantineNodes.count < config.byzantine { byzantineNodes.insert(random.int(in: 0...(config.validators - 1))) }
        honest = (0..<config.validators).filter { !byzantineNodes.contains($0) }
        let validators = keys.enumerated().map { Validator(publicKey: $0.element.publicKey, votingPower: 1, p2pAddress: "sim-\($0.offset)") }
        let genesis: ValidatorSet
        do { genesis = try ValidatorSet(validators) } catch { preconditionFailure("simulated validator set rejected: \(error)") }
        precondition(!config.evidenceWitness || (config.byzantine == 1 && config.tolerated >= 2 && !config.faults),
                     "the evidence witness needs one Byzantine validator, f ≥ 2 and no faults (a crash or partition of the witness before its gossip loses the pair without a bug)")
        let eligible = config.evidenceWitness ? Array(honest.dropFirst()) : honest  // the witness's power never changes
        let testApp = TestApplication(chainID: chainID, genesis: genesis, eligibleForPowerChange: eligible.map { keys[$0].publicKey },
                                      powerChangeInterval: config.powerChangeInterval)
        let ledgerGenesis: GenesisDocument?
        do { ledgerGenesis = config.application == .ledger ? try LedgerSimApplication.genesis(validators: genesis) : nil } catch {
            preconditionFailure("simulated genesis rejected: \(error)")
        }
        for (i, key) in keys.enumerated() {
            // Each validator has its own ledger and "disk" (a MemoryChainStore); the test ledger is a value.
            let app: SimApplication
            if let ledgerGenesis {
                // Removing an honest validator while one of four is Byzantine would leave the model (f < n/3), so
                // governance changes the set only in runs without Byzantine validators.
                let candidates = config.byzantine == 0 && config.powerChangeInterval > 0 ? honest.map { keys[$0].publicKey } : []
                do { app = .ledger(try LedgerSimApplication(genesis: ledgerGenesis, membershipCandidates: candidates)) } catch { preconditionFailure("simulated ledger rejected: \(error)") }
            } else {
                app = .test(testApp)
            }
            nodeOfKey[key.publicKey] = i
            var behaviour: ByzantineBehaviour? = nil
            if byzantineNodes.contains(i) {
                behaviour = config.byzantineBehaviour ?? ByzantineBehaviour(rawValue: UInt16(random.int(in: 1...Int(ByzantineBehaviour.all.rawValue))))
            }
            // Byzantine validators keep their signing guard: their lies are signed on the way out
            // (Simulation+Byzantine), so no planted fault is needed to model them and release builds run them too.
            let consensusConfig = ConsensusConfig(chainID: chainID, timeouts: config.timeouts, maxRoundsAhead: config.maxRoundsAhead,
                                                  maxBufferedFutureMessages: config.maxBufferedFutureMessages, maxFutureHeights: config.maxFutureHeights,
                                                  maxPendingEvidence: config.maxPendingEvidence, testOnlyFaults: config.plantedBug)
            nodes.append(SimNode(index: i, key: key, byzantine: behaviour, config: consensusConfig, replica: nil, parkedApp: app,
                                 disk: SimDisk(maxWALEntries: config.maxWALEntries)))
        }
        if config.twins, let original = byzantineNodes.min() {
            // The twin: the same key and configuration, its own ledger, disk and guard (index `validators`).
            let app: SimApplication
            if let ledgerGenesis {
                do { app = .ledger(try LedgerSimApplication(genesis: ledgerGenesis)) } catch { preconditionFailure("simulated ledger rejected: \(error)") }
            } else {
                app = .test(testApp)
            }
            let twin = nodes[original]
            nodes.append(SimNode(index: nodes.count, key: twin.key, byzantine: twin.byzantine, config: twin.config, replica: nil, parkedApp: app,
                                 disk: SimDisk(maxWALEntries: config.maxWALEntries)))
        }
    }

    /// Twins: the two instances start in different partitions, each with part of the honest validators.
    private mutating func twinPartition() -> [(time: UInt64, action: FaultAction)] {
        guard config.twins, let original = nodes.indices.first(where: { nodes[$0].byzantine != nil }) else { return [] }
        let side = Set([original] + honest.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
        let healAt = random.uint(in: 1_000...max(1_000, config.faultPhaseMilliseconds - 1))
        return [(0, .partition(side, asymmetric: false)), (healAt, .heal)]
    }

    /// Laggard: the first honest validator is cut off until the end of the fault phase — through the fault plan's
    /// partitions and heals too (before, with faults on, the first random heal reconnected it).
    private func laggardPartition() -> [(time: UInt64, action: FaultAction)] {
        guard config.laggard, let laggard = honest.first else { return [] }
        return [(0, .isolate([laggard]))]
    }

    mutating func run() -> SimulationResult {
        for (i, node) in nodes.enumerated() {
            trace("n\(i) is \(node.byzantine.map { "Byzantine \(describe($0))" } ?? "honest") key \(node.key.publicKey.hex.prefix(8))")
            schedule(.syncTick(node: i), after: config.syncIntervalMilliseconds + UInt64(i))
        }
        for (time, action) in twinPartition() + laggardPartition() + FaultPlan.make(config: config, random: &random) { schedule(.fault(action), at: time) }
        for i in nodes.indices { restart(i) }
        while checker.violations.isEmpty, let (time, event) = queue.pop() {
            now = time
            if let deadline = livenessDeadline {
                if live.allSatisfy({ nodes[$0].app.committedHeight >= livenessTarget }) { break }
                if now > deadline { break }
            }
            processedEvents += 1
            if processedEvents > config.maxProcessedEvents {
                checker.report(.resourceBound("more than \(config.maxProcessedEvents) simulator events"))
                break
            }
            process(event)
        }
        if checker.violations.isEmpty, let deadline = livenessDeadline {
            for i in live where nodes[i].app.committedHeight < livenessTarget {
                checker.report(.liveness(node: i, committedHeight: nodes[i].app.committedHeight, needed: livenessTarget, deadlineMilliseconds: deadline))
            }
        }
        // The evidence witness recorded the equivocation and is gone: only evidence gossip can have put it on chain.
        if checker.violations.isEmpty, config.evidenceWitness, witnessRetirementScheduled {
            for i in nodes.indices where !nodes[i].isHonest && !punishedOnChain.contains(i) { checker.report(.evidenceLost(node: i)) }
        }
        for node in nodes {
            if let s = node.replica?.machine {
                trace("END n\(node.index): committed \(node.app.committedHeight), consensus h=\(s.height) r=\(s.round) \(s.step) \(s.phase) locked=\(s.lockedRound.map(String.init) ?? "-") valid=\(s.validRound.map(String.init) ?? "-") dropped=\(s.droppedMessages) refused=\(s.refusedSignatures)")
            } else {
                trace("END n\(node.index): committed \(node.app.committedHeight), down")
            }
        }
        return SimulationResult(seed: seed, violations: checker.violations, committedHeights: nodes.map(\.app.committedHeight),
                                simulatedMilliseconds: now, processedEvents: processedEvents, evidenceRecorded: evidenceRecorded,
                                walFullReports: walFullReports, punishedOnChain: punishedOnChain,
                                byzantine: Set(nodes.indices.filter { !nodes[$0].isHonest }))
    }

    /// The honest nodes the liveness check waits for (all but the retired).
    var live: [Int] { honest.filter { !retired.contains($0) } }

    mutating func schedule(_ event: SimEvent, after delay: UInt64) { schedule(event, at: now + delay) }

    mutating func schedule(_ event: SimEvent, at time: UInt64) {
        if !queue.push(event, at: time) { checker.report(.resourceBound("more than \(config.maxQueuedEvents) pending simulator events")) }
    }

    private mutating func process(_ event: SimEvent) {
        switch event {
        case .deliver(let to, let from, let message):
            receive(message, at: to, from: from)
        case .timer(let i, let incarnation, let timer):
            guard nodes[i].incarnation == incarnation, let state = nodes[i].replica?.machine else { return }
            if case .consensus(let timeout) = timer, state.height == timeout.height && state.round == timeout.round { trace("n\(i) timeout \(timeout)") }
            step(i) { $0.timerFired(timer) }
        case .fault(let action):
            apply(action)
        case .syncTick(let i):
            syncTick(i)
            schedule(.syncTick(node: i), after: config.syncIntervalMilliseconds)
        }
    }

    private mutating func apply(_ action: FaultAction) {
        trace("FAULT \(action)")
        switch action {
        case .partition(let group, let asymmetric): network.partition(group, asymmetric: asymmetric)
        case .flakyLinks(let p): network.blockRandomLinks(permille: p, random: &random)
        case .heal: network.heal()
        case .isolate(let group): network.isolated.formUnion(group)
        case .setLoss(let p): network.lossPermille = p
        case .setDuplicate(let p): network.duplicatePermille = p
        case .crash(let i, let midStep):
            if midStep { nodes[i].crashMidStep = true } else { crash(i) }
        case .restart(let i): restart(i)
        case .crashTogether(let group): for i in group.sorted() { crash(i) }
        case .restartTogether(let group): for i in group.sorted() { restart(i) }
        case .retire(let i):
            crash(i)
            retired.insert(i)
        case .healAll:
            network.isolated = []
            network.heal()
            network.lossPermille = 0
            network.duplicatePermille = 0
            for i in nodes.indices { restart(i) }
            livenessTarget = (live.map { nodes[$0].app.committedHeight }.max() ?? 0) + config.livenessBlocks
            livenessDeadline = now + config.livenessWindowMilliseconds
            trace("liveness: every honest node must reach height \(livenessTarget) by t=\(now + config.livenessWindowMilliseconds)ms")
        }
    }

    func trace(_ line: @autoclosure () -> String) {
        guard let log else { return }
        log("[t=\(String(now).leftPadded(7))ms] \(line())")
    }

    func describe(_ behaviour: ByzantineBehaviour) -> String {
        let names: [(ByzantineBehaviour, String)] = [(.equivocateProposals, "equivocate-proposals"), (.doubleVote, "double-vote"),
            (.withholdVotes, "withhold-votes"), (.invalidProposals, "invalid-proposals"), (.replayOld, "replay-old"), (.voteNil, "vote-nil"), (.flood, "flood"),
            (.floodWindow, "flood-window"), (.floodProposals, "flood-proposals")]
        return names.filter { behaviour.contains($0.0) }.map(\.1).joined(separator: ",")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
