// Simulation+Replica.swift — how the simulation runs each node's `Replica` (the node's own code) and carries out
// what it did: every input is one step of one replica; after the step its outbox is drained in order — signed
// messages checked by the invariant checker and sent through the simulated network, timers put on the event queue,
// commits checked for agreement, validity and state roots.
//
// Crash model: a crash discards the replica and the WAL's unsynced tail; a mid-step crash lets the step perform a
// random number of I/O operations first (SimHost). A restart builds a new replica over the same disk and ledger,
// and `Replica.start` replays the durable WAL.
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

/// What nodes send each other: consensus messages and block-sync traffic.
enum NetMessage: Sendable {
    case consensus(ConsensusMessage)
    case sync(SyncMessage)
}

/// A (validator, height) that pending evidence punishes.
struct EvidenceSlot: Hashable {
    let validator: PublicKey
    let height: UInt64
}

extension Simulation {
    /// Replica settings of a simulated node.
    var replicaSettings: ReplicaSettings {
        ReplicaSettings(commitDelayMilliseconds: config.commitDelayMilliseconds, syncRetryMilliseconds: config.syncIntervalMilliseconds,
                        gossipEveryTicks: config.gossipEveryTicks, gossipOnlyWhenStalled: config.gossipOnlyWhenStalled, gossipsEvidence: true)
    }

    /// Runs one step of node `i`'s replica, then carries out its outputs; a planned crash strikes during the step.
    mutating func step(_ i: Int, _ body: (inout SimReplica) -> Void) {
        guard var replica = nodes[i].replica else { return }
        nodes[i].replica = nil  // one reference while the step mutates it (no copy-on-write of its state)
        let host = replica.host
        host.now = now
        let crashes = nodes[i].crashMidStep
        if crashes { host.operationsBeforeCrash = random.int(in: 0...6) }
        body(&replica)
        nodes[i].replica = replica
        drain(host, node: i)
        if crashes || host.crashed {
            trace("n\(i) crashes mid-step")
            crash(i)
        }
    }

    /// Carries out a replica's outputs in the order it produced them.
    mutating func drain(_ host: SimHost, node i: Int) {
        let outputs = host.outbox
        host.outbox.removeAll()
        let incarnation = nodes[i].incarnation
        for output in outputs {
            switch output {
            case .broadcast(let message, let durable):
                if let behaviour = nodes[i].byzantine {
                    byzantineBroadcast(message, from: i, behaviour: behaviour)
                } else {
                    checker.noteRelease(node: i, message: message, durable: durable)
                    trace("n\(i) → all: \(summary(message))")
                    for j in nodes.indices where j != i { send(.consensus(message), from: i, to: j) }
                }
            case .gossip(var messages):
                guard nodes[i].byzantine?.contains(.withholdVotes) != true else { continue }
                if let behaviour = nodes[i].byzantine { messages = byzantineGossip(messages, from: i, behaviour: behaviour) }
                for j in nodes.indices where j != i {
                    for message in messages { send(.consensus(message), from: i, to: j) }
                }
            case .syncAll(let message):
                for j in nodes.indices where j != i { send(.sync(message), from: i, to: j) }
            case .sync(let message, let j):
                if case .blockResponse = message, nodes[i].byzantine?.contains(.withholdVotes) == true { continue }
                send(.sync(message), from: i, to: j)
            case .timer(let timer, let milliseconds):
                schedule(.timer(node: i, incarnation: incarnation, timer), after: milliseconds)
            case .committed(let block, let certificate, let set, let source):
                let h = block.header.height
                trace("n\(i) COMMIT h=\(h) \(short(block.hash)) round \(certificate.round) (\(source))")
                if nodes[i].isHonest {
                    checker.noteCommit(node: i, block: block, certificate: certificate, validatorSet: set, stateRoot: nodes[i].app.stateRoot(at: h))
                    for evidence in block.evidence { if let j = nodeOfKey[evidence.validator] { punishedOnChain.insert(j) } }
                }
            case .halted(let reason):
                trace("n\(i) HALTED: \(reason)")
                guard nodes[i].isHonest else { continue }
                switch reason {
                case .divergence(let h, let committed, let other, _): checker.report(.agreement(height: h, node: i, block: other, otherBlock: committed))
                case .applicationFailed(let why): checker.report(.invalidCommit(height: nodes[i].app.committedHeight + 1, node: i, reason: why))
                case .persistFailed(let why): checker.report(.resourceBound("n\(i) halted: \(why)"))
                }
            case .evidence(let evidence):
                evidenceRecorded += 1
                if config.evidenceWitness, !witnessRetirementScheduled, i == honest.first {
                    // Two gossip intervals: the witness's pool goes out once (with evidence gossip) before it is gone.
                    witnessRetirementScheduled = true
                    schedule(.fault(.retire(node: i)), after: 2 * config.syncIntervalMilliseconds * UInt64(config.gossipEveryTicks) + 50)
                }
                trace("n\(i) evidence: n\(nodeOfKey[evidence.validator] ?? -1) double-voted at h=\(evidence.height) r=\(evidence.first.body.round)")
            case .report(let text):
                trace("n\(i) \(text)")
            case .walFull:
                if nodes[i].isHonest { walFullReports += 1 }
            }
        }
        if nodes[i].isHonest, let machine = nodes[i].replica?.machine { checkBounds(machine, node: i) }
    }

    /// The machine's bounds on what a flood can make it keep, checked after every step of an honest node: pending
    /// evidence holds at most one pair per (validator, height) and at most `maxPendingEvidence`, the future buffer at
    /// most `maxBufferedFutureMessages`, the proposed blocks held and validated at most one per round up to round_p + 1.
    mutating func checkBounds(_ machine: ConsensusState, node i: Int) {
        let evidence = machine.pendingEvidence
        if evidence.count > machine.config.maxPendingEvidence {
            checker.report(.resourceBound("n\(i) holds \(evidence.count) pending evidence, more than \(machine.config.maxPendingEvidence)"))
        }
        var seen = Set<EvidenceSlot>()
        for pair in evidence where !seen.insert(EvidenceSlot(validator: pair.validator, height: pair.height)).inserted {
            checker.report(.resourceBound("n\(i) holds two pending evidence pairs against n\(nodeOfKey[pair.validator] ?? -1) at height \(pair.height)"))
        }
        // Proposals are kept only within the proposal reach: one block per round up to round_p + 1, whatever a
        // Byzantine proposer sends ahead (`floodProposals`), so what the node holds and executes is bounded in bytes.
        let reach = Int(machine.round) + 1 + Int(min(ConsensusState.maxProposalRoundsAhead, machine.config.maxRoundsAhead))
        if machine.heldBlocks > reach {
            checker.report(.resourceBound("n\(i) holds \(machine.heldBlocks) proposed blocks at round \(machine.round), more than one per round up to round_p + 1"))
        }
        if machine.requestedValidations > reach {
            checker.report(.resourceBound("n\(i) asked for \(machine.requestedValidations) block validations at round \(machine.round), more than one per round up to round_p + 1"))
        }
        if machine.bufferedFutureMessages > machine.config.maxBufferedFutureMessages {
            checker.report(.resourceBound("n\(i) buffers \(machine.bufferedFutureMessages) future messages, more than \(machine.config.maxBufferedFutureMessages)"))
        }
    }

    mutating func crash(_ i: Int) {
        nodes[i].crashMidStep = false
        guard let replica = nodes[i].replica else { return }
        trace("n\(i) CRASH (unsynced WAL entries lost)")
        nodes[i].parkedApp = replica.application.app
        nodes[i].replica = nil
        nodes[i].disk.wal.crash()
        nodes[i].incarnation += 1
    }

    /// Boots node `i` from its disk and ledger (first start and every restart).
    mutating func restart(_ i: Int) {
        if nodes[i].crashMidStep { crash(i) }
        guard nodes[i].replica == nil, !retired.contains(i) else { return }
        nodes[i].incarnation += 1
        let host = SimHost(disk: nodes[i].disk, skipWALSync: config.plantedUnsyncedWAL)
        host.now = now
        var replica = SimReplica(config: nodes[i].config, signingKey: nodes[i].key, signingGuard: nodes[i].disk.durableGuard,
                                 application: SimNodeApplication(app: nodes[i].parkedApp, host: host), host: host, settings: replicaSettings)
        do { try replica.start() } catch {
            return checker.report(.resourceBound("n\(i) cannot start: \(error)"))
        }
        trace("n\(i) START at h=\(replica.machine.height), replayed \(replica.replayedEntries) WAL entries, now round \(replica.machine.round) \(replica.machine.step)")
        nodes[i].replica = replica
        drain(host, node: i)
    }

    /// The periodic tick of node `i`: status and gossip (the replica's), and a Byzantine node's replays.
    mutating func syncTick(_ i: Int) {
        guard nodes[i].isUp else { return }
        step(i) { $0.tick() }
        if nodes[i].byzantine?.contains(.flood) == true { flood(from: i) }
        if nodes[i].byzantine?.contains(.floodWindow) == true { floodWindow(from: i) }
        if nodes[i].byzantine?.contains(.floodProposals) == true { floodProposals(from: i) }
        if nodes[i].byzantine?.contains(.replayOld) == true, !nodes[i].replayBuffer.isEmpty {
            for _ in 0..<3 {
                let message = random.pick(nodes[i].replayBuffer)
                var target = random.int(in: 0...(nodes.count - 1))
                if target == i { target = (target + 1) % nodes.count }
                trace("n\(i) replays \(summary(message)) to n\(target)")
                send(.consensus(message), from: i, to: target)
            }
        }
    }

    // MARK: Network

    mutating func send(_ message: NetMessage, from i: Int, to j: Int) {
        for delay in network.deliveries(from: i, to: j, random: &random) {
            schedule(.deliver(to: j, from: i, message), after: delay)
        }
    }

    mutating func receive(_ message: NetMessage, at i: Int, from j: Int) {
        guard nodes[i].isUp else { return }
        switch message {
        case .consensus(let m):
            nodes[i].remember(m)
            step(i) { $0.receive(m) }
        case .sync(let s):
            step(i) { $0.receiveSync(s, from: j) }
        }
    }

    func summary(_ message: ConsensusMessage) -> String {
        switch message {
        case .proposal(let p):
            return "PROPOSAL h=\(p.height) r=\(p.round) \(short(p.body.blockID)) pol=\(p.body.polRound.map(String.init) ?? "-") by n\(nodeOfKey[p.body.proposer] ?? -1)"
        case .vote(let v):
            return "\(v.body.type == .prevote ? "PREVOTE" : "PRECOMMIT") h=\(v.body.height) r=\(v.body.round) \(v.body.blockID.map(short) ?? "nil") by n\(nodeOfKey[v.body.validator] ?? -1)"
        }
    }

    func short(_ hash: Hash) -> String { String(hash.hex.prefix(8)) }
}
