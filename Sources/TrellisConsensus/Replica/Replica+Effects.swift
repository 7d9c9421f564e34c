// Replica+Effects.swift — the event loop: WAL append, state machine, effects in order, commit and next height.
//
// DURABILITY RULES enforced here: (1) an event reaches the state machine only after it was appended to the WAL;
// (2) `.persistSigningState` syncs the WAL and fsyncs the guard before the next effect — the broadcast of what
// was signed; a failure halts the replica before anything is sent. Events the state machine would ignore
// (`ConsensusState.isRedundant`) are neither logged nor handled, so gossip repeats cannot grow the WAL.
import TrellisCrypto
import TrellisLedger

extension Replica {
    /// Feeds `event` (and the answers it causes) through WAL → state machine → effects; `followers` are fed right
    /// after `event`, ahead of the answers its effects queue, and logged with it in one write (a crash keeps the
    /// `.startHeight` entry and the messages taken for its height together, or neither).
    /// `intakeVerified`: `event` is a received message whose signature the intake just checked (Replica+Intake), so the
    /// machine does not check it again.
    mutating func deliver(_ event: Event, followedBy followers: [Event] = [], intakeVerified: Bool = false) {
        guard haltReason == nil else { return }
        // How many pending events precede `event` (its signature was checked by the intake), nil: none was.
        var beforeVerified: Int? = intakeVerified ? pending.count : nil
        // Events already in the WAL: the first `preLogged` ones taken from `pending` (it is empty when a height
        // starts — every input enters here from outside — else the followers are logged one by one as usual).
        var preLogged = 0
        if !followers.isEmpty && pending.isEmpty {
            do { try host.appendWAL(contentsOf: [event] + followers) } catch { return halt(.persistFailed("\(error)")) }
            preLogged = 1 + followers.count
        }
        pending.append(event)
        pending.append(contentsOf: followers)
        while haltReason == nil, !pending.isEmpty {
            let next = pending.removeFirst()
            let verified = beforeVerified == 0
            beforeVerified = beforeVerified.map { $0 - 1 }
            let logged = preLogged > 0
            if logged { preLogged -= 1 }
            // A logged event the machine now ignores changes nothing in a replay either (isRedundant's contract).
            if machine.isRedundant(next) { continue }
            if logged { perform(machine.handle(next, signatureVerified: verified)); continue }
            // Not logged yet: a proposal beyond the proposal reach is not logged, so never handled (a logged one is, as
            // its replay will: the proposals logged with a height's start).
            if machine.isBeyondProposalReach(next) { continue }
            // Rule 1: the WAL holds the event before the state machine acts on it.
            do { try host.appendWAL(next, refusable: machine.isRefusable(next)) } catch {
                if case .full(let limit) = error {
                    // A flood of distinct messages within one height: the full log refuses only what liveness can do
                    // without (`isRefusable`) — a lost message, which the protocol tolerates; halting would let a
                    // Byzantine peer stop us.
                    host.replicaReported(.walFull(limit: limit))
                    continue
                }
                return halt(.persistFailed("\(error)"))
            }
            perform(machine.handle(next, signatureVerified: verified))
        }
    }

    /// Performs `effects` strictly in order; stops at a halt.
    mutating func perform(_ effects: [Effect]) {
        for effect in effects {
            guard haltReason == nil else { return }
            perform(effect)
        }
    }

    private mutating func perform(_ effect: Effect) {
        switch effect {
        case .persistSigningState(let signingGuard):
            // Rule 2 (CometBFT: "write to disk before sending signed messages"): the events that led to this
            // signature and the guard that records it are durable before the broadcast that follows.
            do {
                try host.syncWAL()
                try host.saveSigningState(signingGuard)
            } catch let error as PersistenceError {
                halt(.persistFailed(error.description))
            } catch {
                halt(.persistFailed("\(error)"))
            }
        case .broadcast(let message):
            host.broadcast(message)
        case .scheduleTimeout(let timeout, let milliseconds):
            host.schedule(.consensus(timeout), afterMilliseconds: milliseconds)
        case .buildProposalBlock(let request):
            do {
                let block = try application.buildBlock(request, time: host.unixSeconds)
                pending.append(.proposalBlockBuilt(height: request.height, round: request.round, block: block))
            } catch {
                if case .storage(let reason) = error { return halt(.persistFailed("building a proposal: \(reason)")) }
                if case .unsupportedRules(let reason) = error { return halt(.applicationFailed(reason)) }
                host.replicaReported(.buildFailed(height: request.height, round: request.round, reason: error.description))
            }
        case .validateBlock(let block):
            var valid = true
            do { try application.validate(block) } catch {
                if case .storage(let reason) = error { return halt(.persistFailed("validating a proposal: \(reason)")) }
                if case .unsupportedRules(let reason) = error { return halt(.applicationFailed(reason)) }
                valid = false
                host.replicaReported(.proposalInvalid(height: block.header.height, block: block.hash, reason: error.description))
            }
            pending.append(.blockValidated(blockID: block.hash, valid: valid))
        case .commit(let block, let certificate):
            // timeout_commit counts from the decision, as CometBFT's does (start time = commit time + timeout_commit):
            // the synced store write of the block (and the host's commit work) runs inside the pause, not before it.
            // Only when the next height starts moves; rule 4 holds — the start is scheduled after the commit landed.
            let decided = host.monotonicMilliseconds
            if commit(block, certificate: certificate, source: .consensus) {
                let spent = host.monotonicMilliseconds >= decided ? host.monotonicMilliseconds - decided : 0
                host.schedule(.startHeight(block.header.height + 1), afterMilliseconds: settings.commitDelayMilliseconds - min(spent, settings.commitDelayMilliseconds))
            }
        case .recordEvidence(let evidence):
            host.replicaRecordedEvidence(evidence)
            // Durable with the next WAL sync — at the latest before this node's next signature, as the votes that
            // made the pair (a crash before it loses both: a replay of the log records the pair again).
            persistEvidence(sync: false)
        }
    }

    /// Stores the machine's pending evidence if it changed since it was last stored (ConsensusWAL `saveEvidence`), so
    /// a restart keeps the equivocations this node saw — the log holds one height, and nothing rebuilds an earlier
    /// height's pair (REVIEW-16 b RISK 1: a restart of the only node that saw a second vote lost it for good).
    /// `sync`: make it durable now (a commit that pruned the pool: else a crash could bring back pairs already punished,
    /// which no later block would prune).
    mutating func persistEvidence(sync: Bool) {
        guard haltReason == nil, machine.pendingEvidence != savedEvidence else { return }
        do {
            try host.saveEvidence(machine.pendingEvidence)
            if sync { try host.syncWAL() }
        } catch {
            return halt(.persistFailed("\(error)"))
        }
        savedEvidence = machine.pendingEvidence
    }

    /// Commits a decided or synced block. A block for a height already committed must be the same block, or the
    /// replica halts naming both hashes (divergence). Returns true when the block was newly committed.
    @discardableResult
    mutating func commit(_ block: Block, certificate: CommitCertificate, source: CommitSource) -> Bool {
        let h = block.header.height
        let committed = application.committedHeight
        if h <= committed {
            if let held = application.committedBlock(at: h)?.block.hash, held != block.hash {
                halt(.divergence(height: h, committed: held, other: block.hash, source: source))
            }
            return false
        }
        guard h == committed + 1 else { return false }  // sync checks heights; consensus runs committed + 1
        let set: ValidatorSet
        do {
            set = try application.validatorSet(forHeight: h)
            // The ledger writes block, certificate and state in one synced batch before returning.
            try application.commit(block, certificate: certificate)
        } catch {
            switch error {
            case .storage(let reason): halt(.persistFailed("committing block \(h): \(reason)"))
            case .unsupportedRules(let reason): halt(.applicationFailed(reason))
            default: halt(.applicationFailed("the application refused certified block \(block.hash.hex) at height \(h): \(error)"))
            }
            return false
        }
        // Evidence the block punished leaves the pool whether the block was decided here or synced (a node that
        // commits by sync never reaches `decide`, which prunes too).
        machine.pruneEvidence(committedIn: block)
        host.replicaCommitted(block, certificate: certificate, validatorSet: set, source: source)
        persistEvidence(sync: true)
        return true
    }

    /// Starts `height` unless it is no longer the next one; without empty blocks and with nothing to propose, the
    /// start waits (`transactionsArrived`, or a peer's message for that height) unless `waited` says it already did.
    mutating func startHeightIfStill(_ height: UInt64, waited: Bool = false) {
        guard application.committedHeight + 1 == height else {
            if let waiting = waitingToStart, waiting <= application.committedHeight { waitingToStart = nil }  // passed by sync
            return
        }
        guard machine.phase == .waitingForHeight || machine.height < height else { return }  // already running it
        if !settings.createEmptyBlocks && !waited && !host.hasPendingTransactions {
            waitingToStart = height
            return
        }
        waitingToStart = nil
        let set: ValidatorSet
        do { set = try application.validatorSet(forHeight: height) } catch {
            // Rules this build does not implement start at this height: stop before voting on it.
            if case .unsupportedRules(let reason) = error { return halt(.applicationFailed(reason)) }
            return halt(.applicationFailed("no validator set for height \(height): \(error)"))
        }
        // This WAL entry is the end-of-height marker of height − 1 and truncates the WAL to itself (ConsensusWAL).
        // The messages for this height that the machine buffered are taken out, logged right after it in the same
        // write, and delivered after the start: the log then holds exactly what the machine handles at this height,
        // in order — what the bounded buffer dropped (oldest first, or beyond maxFutureHeights) is in neither, and
        // a crash cannot keep the entry without them.
        let early = machine.takeBufferedMessages(forHeight: height)
        pruneIntake(below: height)
        deliver(.startHeight(height: height, validatorSet: set), followedBy: early.map(Event.received))
    }
}
