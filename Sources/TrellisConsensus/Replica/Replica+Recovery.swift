// Replica+Recovery.swift — start and restart: replay the durable WAL of the height in progress.
//
// The height to run is the one after the ledger's last committed block. If the WAL holds a `.startHeight` entry
// for it, the entries after it are replayed through the state machine with the durable signing guard: locks and
// valid values come back, and every message this replica signed is re-signed byte for byte (the guard reuses the
// stored signature) and re-sent — a restarted validator repeats its votes instead of staying silent. Without such
// an entry the WAL belongs to a committed height and the height starts afresh. A WAL for a later height than the
// ledger's next one refuses the start. The pending evidence stored beside the log (ConsensusWAL `saveEvidence`) is
// put back first — before the replay or the fresh start — less the pairs the last committed block punished.
import TrellisCrypto
import TrellisLedger

extension Replica {
    /// Recovers from the durable state and starts consensus. Call once, before any other input.
    public mutating func start() throws(ReplicaStartError) {
        precondition(!started, "replica started twice")
        let height = application.committedHeight + 1
        let set: ValidatorSet
        do { set = try application.validatorSet(forHeight: height) } catch { throw .application(error) }
        let entries: [Event]
        do { entries = try host.walEntries() } catch { throw .wal(error) }
        let stored: [DuplicateVoteEvidence]
        do { stored = try host.storedEvidence() } catch { throw .wal(error) }
        savedEvidence = stored
        // Less the pairs the last committed block punished: a crash between the ledger's synced commit and the synced
        // store of the pruned pool (Replica+Effects `commit`) left them stored, and no later block would prune them.
        let punished = application.committedBlock(at: application.committedHeight)?.block.evidence ?? []
        let evidence = stored.filter { pair in !punished.contains { $0.validator == pair.validator && $0.height == pair.height } }
        for entry in entries {
            if case .startHeight(let h, _) = entry, h > height { throw .walAhead(walHeight: h, expectedHeight: height) }
        }
        let resumes = !machine.config.testOnlyFaults.skipWALReplay && entries.contains { entry in
            if case .startHeight(let h, _) = entry { return h == height }
            return false
        }
        started = true
        if !resumes {
            machine.restorePendingEvidence(evidence)
            persistEvidence(sync: false)
            // The WAL's messages for this height and later (received while the previous height was finishing) go
            // into the new machine's buffer, in order and through its bound (a machine waiting for its first height
            // buffers any height), so they are not lost. The start below takes this height's ones out and logs them
            // with the `.startHeight` entry, which truncates the log to itself: the log then holds exactly what this
            // machine handles (before, the log kept every such message after the entry, so a replay could handle one the
            // live run never did — an early proposal of a Byzantine proposer dropped by the bound or accepted only by
            // the replay — derive another vote than the one signed, and the guard's refusal silenced this validator
            // at that height: sim seed 4000877).
            for entry in entries where !machine.config.testOnlyFaults.skipWALReplay {
                switch entry {
                case .proposalReceived(let p) where p.height >= height: _ = machine.handle(entry)
                case .voteReceived(let v) where v.body.height >= height: _ = machine.handle(entry)
                default: continue
                }
            }
            if !settings.createEmptyBlocks && !host.hasPendingTransactions {
                waitingToStart = height
                return
            }
            // Starting afresh: the WAL's old entries are truncated by this entry (ConsensusWAL).
            return startHeightIfStill(height, waited: true)
        }
        let (state, effects) = ConsensusRecovery.recover(config: machine.config, signingKey: machine.signingKey, signingGuard: machine.signingGuard,
                                                         height: height, validatorSet: set, wal: entries, pendingEvidence: evidence)
        machine = state
        persistEvidence(sync: false)
        replayedEntries = entries.count
        host.replicaReported(.recovered(height: height, replayedEntries: entries.count, round: machine.round))
        // The replayed effects re-arm timers, re-request validation and re-send what this replica signed (after
        // syncing the guard again, as rule 2 requires); `.commit` of a block already held is compared and skipped.
        perform(effects)
        if haltReason == nil, !pending.isEmpty { deliver(pending.removeFirst()) }
    }
}
