// Simulation+Driver.swift — the consensus driver of a simulated node: WAL first, then the state machine, then
// the effects in order (persist before broadcast), exactly as the real node's driver must.
//
// Crash model: a crash discards the state machine and the WAL's unsynced tail; a mid-step crash performs only a
// prefix of one step's effects first. A restart recovers from the durable guard and WAL (ConsensusRecovery).
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

extension Simulation {
    /// Appends `event` to node `i`'s WAL, feeds it to the state machine and performs the effects.
    mutating func deliverEvent(_ event: Event, to i: Int) {
        guard nodes[i].consensus != nil else { return }
        do { try nodes[i].wal.append(event) } catch {
            checker.report(.resourceBound("n\(i) WAL: \(error)"))
            return
        }
        guard let effects = nodes[i].consensus?.handle(event) else { return }
        perform(effects, node: i)
    }

    mutating func perform(_ effects: [Effect], node i: Int) {
        var performable = effects.count
        let crashAfter = nodes[i].crashMidStep && !effects.isEmpty
        if crashAfter { performable = random.int(in: 0...effects.count) }
        for effect in effects.prefix(performable) {
            guard nodes[i].consensus != nil else { return }
            perform(effect, node: i)
        }
        if crashAfter {
            trace("n\(i) crashes mid-step after \(performable) of \(effects.count) effects")
            crash(i)
        }
    }

    private mutating func perform(_ effect: Effect, node i: Int) {
        let incarnation = nodes[i].incarnation
        switch effect {
        case .persistSigningState(let signingGuard):
            // The durability rule: the guard and the WAL are synced before anything after this effect happens.
            nodes[i].durableGuard = signingGuard
            if config.plantedUnsyncedWAL { return }
            do { try nodes[i].wal.sync() } catch { checker.report(.resourceBound("n\(i) WAL sync: \(error)")) }
        case .broadcast(let message):
            if let behaviour = nodes[i].byzantine {
                byzantineBroadcast(message, from: i, behaviour: behaviour)
            } else {
                checker.noteRelease(node: i, message: message, durable: nodes[i].durableGuard)
                trace("n\(i) → all: \(summary(message))")
                for j in nodes.indices where j != i { send(.consensus(message), from: i, to: j) }
            }
        case .scheduleTimeout(let timeout, let milliseconds):
            schedule(.timer(node: i, incarnation: incarnation, timeout), after: milliseconds)
        case .buildProposalBlock(let request):
            do {
                let block = try nodes[i].app.buildBlock(request, time: Int64(now / 1000))
                schedule(.local(node: i, incarnation: incarnation, .proposalBlockBuilt(height: request.height, round: request.round, block: block)), after: 0)
            } catch {
                trace("n\(i) cannot build h=\(request.height): \(error)")
            }
        case .validateBlock(let block):
            var valid = true
            do { try nodes[i].app.validate(block) } catch {
                valid = false
                trace("n\(i) rejects block \(short(block.hash)) h=\(block.header.height): \(error)")
            }
            schedule(.local(node: i, incarnation: incarnation, .blockValidated(blockID: block.hash, valid: valid)), after: 0)
        case .commit(let block, let certificate):
            commitBlock(block, certificate: certificate, node: i, source: "consensus")
        case .recordEvidence(let evidence):
            evidenceRecorded += 1
            trace("n\(i) evidence: n\(nodeOfKey[evidence.validator] ?? -1) double-voted at h=\(evidence.height) r=\(evidence.first.body.round)")
        }
    }

    /// Commits through the application (which validates), records the commit, and starts the next height.
    mutating func commitBlock(_ block: Block, certificate: CommitCertificate, node i: Int, source: String) {
        let h = block.header.height
        if h <= nodes[i].app.committedHeight {
            if nodes[i].isHonest, let held = nodes[i].app.committedBlock(at: h)?.block.hash, held != block.hash {
                checker.report(.agreement(height: h, node: i, block: block.hash, otherBlock: held))
            }
            return
        }
        let set: ValidatorSet
        do {
            set = try nodes[i].app.validatorSet(forHeight: h)
            try nodes[i].app.commit(block, certificate: certificate)
        } catch {
            if nodes[i].isHonest { checker.report(.invalidCommit(height: h, node: i, reason: "\(error)")) }
            return
        }
        trace("n\(i) COMMIT h=\(h) \(short(block.hash)) round \(certificate.round) (\(source))")
        if nodes[i].isHonest {
            checker.noteCommit(node: i, block: block, certificate: certificate, validatorSet: set, stateRoot: nodes[i].app.stateRoot(at: h))
        }
        if let next = try? nodes[i].app.validatorSet(forHeight: h + 1) {
            schedule(.local(node: i, incarnation: nodes[i].incarnation, .startHeight(height: h + 1, validatorSet: next)), after: config.commitDelayMilliseconds)
        }
    }

    mutating func crash(_ i: Int) {
        nodes[i].crashMidStep = false
        guard nodes[i].consensus != nil else { return }
        trace("n\(i) CRASH (unsynced WAL entries lost)")
        nodes[i].consensus = nil
        nodes[i].wal.crash()
        nodes[i].incarnation += 1
    }

    mutating func restart(_ i: Int) {
        if nodes[i].crashMidStep { crash(i) }
        guard nodes[i].consensus == nil else { return }
        nodes[i].incarnation += 1
        let h = nodes[i].app.committedHeight + 1
        guard let set = try? nodes[i].app.validatorSet(forHeight: h) else {
            return checker.report(.resourceBound("n\(i) has no validator set for height \(h)"))
        }
        let entries: [Event]
        do { entries = try nodes[i].wal.entries() } catch { return checker.report(.resourceBound("n\(i) WAL: \(error)")) }
        let resumes = entries.contains { if case .startHeight(let eh, _) = $0 { return eh == h } else { return false } }
        if !resumes {
            do { try nodes[i].wal.append(.startHeight(height: h, validatorSet: set)) } catch { return checker.report(.resourceBound("n\(i) WAL: \(error)")) }
        }
        let (state, effects) = ConsensusRecovery.recover(config: nodes[i].config, signingKey: nodes[i].key, signingGuard: nodes[i].durableGuard,
                                                         height: h, validatorSet: set, wal: resumes ? entries : [])
        trace("n\(i) RESTART at h=\(h), replayed \(resumes ? entries.count : 0) WAL entries, now round \(state.round) \(state.step)")
        nodes[i].consensus = state
        perform(effects, node: i)
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
            deliverEvent(.received(m), to: i)
        case .status(let height):
            serveSync(to: j, theirHeight: height, from: i)
        case .blocks(let blocks):
            applySync(blocks, at: i, from: j)
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
