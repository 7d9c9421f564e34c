// HeightTimeline.swift — where one height's time goes on this node, for the debug log ("height timeline"): from the
// height's start to its proposal, validation, the synced signatures (WAL sync + signing-guard fsync before each
// prevote and precommit), the decision, the synced store write, the commit's fan-out (mempool, event stream) and the
// start of the next height (timeout_commit).
//
// Observation only: monotonic nanoseconds fed by the consensus queue's host and application, read by nothing but the
// log. Nothing here reaches consensus, execution or anything hashed. Queue-confined like the replica it watches.
import Logging
import TrellisConsensus

/// Marks of one height, in monotonic nanoseconds, and the durations spent inside it.
struct HeightTimeline: Equatable {
    let height: UInt64
    let startedAt: UInt64
    /// The first proposal this node built or received for the height.
    var proposalAt: UInt64?
    /// True when this node built it.
    var proposedHere = false
    var buildNanoseconds: UInt64 = 0
    var validateNanoseconds: UInt64 = 0
    /// When the block was validated (the last validation of the height).
    var validatedAt: UInt64?
    /// When this node's prevote and precommit were durable (WAL synced, guard fsynced), highest round.
    var prevoteSyncedAt: UInt64?
    var precommitSyncedAt: UInt64?
    var highestRound: UInt32 = 0
    /// Synced writes of signatures: WAL syncs and guard saves, how many and how long in all.
    var walSyncs = 0
    var walSyncNanoseconds: UInt64 = 0
    var guardSaves = 0
    var guardSaveNanoseconds: UInt64 = 0
    /// The decision (the commit's start), the store write's end, and the end of the commit's fan-out.
    var decidedAt: UInt64?
    var storedAt: UInt64?
    var publishedAt: UInt64?
    var transactions = 0
    /// The timeouts that fired in this height, in order: `<step><round>@<ms from the height's start>` (a round lost to
    /// a timeout shows which step ran out, e.g. `propose0@3001`).
    var timeouts: [String] = []

    init(height: UInt64, startedAt: UInt64) {
        self.height = height
        self.startedAt = startedAt
    }

    /// Milliseconds from the height's start to `mark` (nil when it was not reached).
    func sinceStart(_ mark: UInt64?) -> Double? {
        guard let mark, mark >= startedAt else { return nil }
        return Double(mark - startedAt) / 1e6
    }

    /// The log's fields; `nextStartedAt` closes the height (the wait after the store is what timeout_commit adds).
    func metadata(nextStartedAt: UInt64) -> Logger.Metadata {
        func ms(_ x: Double?) -> Logger.MetadataValue { .string(x.map { String(format: "%.1f", $0) } ?? "-") }
        func ms(nanoseconds: UInt64) -> Logger.MetadataValue { .string(String(format: "%.1f", Double(nanoseconds) / 1e6)) }
        return [
            "height": "\(height)", "rounds": "\(highestRound + 1)", "txs": "\(transactions)", "proposer": "\(proposedHere)",
            "proposal_ms": ms(sinceStart(proposalAt)), "build_ms": ms(nanoseconds: buildNanoseconds), "validate_ms": ms(nanoseconds: validateNanoseconds),
            "validated_ms": ms(sinceStart(validatedAt)), "prevote_synced_ms": ms(sinceStart(prevoteSyncedAt)),
            "precommit_synced_ms": ms(sinceStart(precommitSyncedAt)), "decided_ms": ms(sinceStart(decidedAt)),
            "stored_ms": ms(sinceStart(storedAt)), "published_ms": ms(sinceStart(publishedAt)), "next_start_ms": ms(sinceStart(nextStartedAt)),
            "wal_syncs": "\(walSyncs)", "wal_sync_ms": ms(nanoseconds: walSyncNanoseconds),
            "guard_saves": "\(guardSaves)", "guard_save_ms": ms(nanoseconds: guardSaveNanoseconds),
            "timeouts": .string(timeouts.isEmpty ? "-" : timeouts.joined(separator: ",")),
        ]
    }
}

/// Collects `HeightTimeline`s on the consensus queue and logs each one at debug level when the next height starts.
/// Does nothing unless the logger is at debug level or lower (no clock reads, no allocation per event).
final class HeightTimelineRecorder {
    // Confined to the consensus queue (the host and the timed application call it from there only).
    private let logger: Logger
    let enabled: Bool
    private(set) var current: HeightTimeline?
    private let now: () -> UInt64

    init(logger: Logger, now: @escaping () -> UInt64 = { DispatchTimeNanoseconds.now() }) {
        self.logger = logger
        self.enabled = logger.logLevel <= .debug
        self.now = now
    }

    /// A height started (its start-of-height event reached the WAL): logs the previous one, starts `height`'s.
    func heightStarted(_ height: UInt64) {
        guard enabled else { return }
        let at = now()
        if let done = current, done.height < height {
            logger.debug("height timeline", metadata: done.metadata(nextStartedAt: at))
        }
        if current?.height != height { current = HeightTimeline(height: height, startedAt: at) }
    }

    func proposalArrived(height: UInt64, round: UInt32, builtHere: Bool) {
        update(height) { t, at in
            t.highestRound = max(t.highestRound, round)
            if t.proposalAt == nil {
                t.proposalAt = at
                t.proposedHere = builtHere
            }
        }
    }

    func built(height: UInt64, nanoseconds: UInt64) { update(height) { t, _ in t.buildNanoseconds += nanoseconds } }

    func validated(height: UInt64, nanoseconds: UInt64) {
        update(height) { t, at in
            t.validateNanoseconds += nanoseconds
            t.validatedAt = at
        }
    }

    func walSynced(nanoseconds: UInt64) {
        guard enabled, current != nil else { return }
        current?.walSyncs += 1
        current?.walSyncNanoseconds += nanoseconds
    }

    /// The guard recording `position` is durable: what was signed there may leave now.
    func signatureDurable(_ position: SigningPosition, guardNanoseconds: UInt64) {
        update(position.height) { t, at in
            t.guardSaves += 1
            t.guardSaveNanoseconds += guardNanoseconds
            t.highestRound = max(t.highestRound, position.round)
            switch position.step {
            case .propose: break
            case .prevote: t.prevoteSyncedAt = at
            case .precommit: t.precommitSyncedAt = at
            }
        }
    }

    /// A timeout of this height fired (a stale one of an earlier height is not recorded).
    func timeoutFired(_ timeout: Timeout) {
        update(timeout.height) { t, at in
            t.timeouts.append("\(timeout.step)\(timeout.round)@" + String(format: "%.0f", t.sinceStart(at) ?? 0))
        }
    }

    func decided(height: UInt64, transactions: Int) {
        update(height) { t, at in
            t.decidedAt = at
            t.transactions = transactions
        }
    }

    func stored(height: UInt64) { update(height) { t, at in t.storedAt = at } }

    func published(height: UInt64) { update(height) { t, at in t.publishedAt = at } }

    private func update(_ height: UInt64, _ body: (inout HeightTimeline, UInt64) -> Void) {
        guard enabled, current?.height == height, var t = current else { return }
        body(&t, now())
        current = t
    }
}
