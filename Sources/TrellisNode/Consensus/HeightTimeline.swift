// HeightTimeline.swift — where one height's time goes on this node, for the debug log ("height timeline"): from the
// height's start to its proposal, validation, the synced signatures (WAL sync + signing-guard fsync before each
// prevote and precommit), the decision, the synced store write, the commit's fan-out (mempool, event stream) and the
// start of the next height (timeout_commit).
//
// The build, the validations and the store also carry the consensus thread's own CPU time and its wait for a core
// (Linux's /proc/thread-self/schedstat: time on a CPU, time runnable in the run queue), so a long height shows whether
// it computed, waited for a core, or waited for the disk (the rest of the wall time: fsync, locks).
//
// Observation only: monotonic nanoseconds fed by the consensus queue's host and application, read by nothing but the
// log. Nothing here reaches consensus, execution or anything hashed. Queue-confined like the replica it watches.
#if canImport(Glibc)
import Glibc
#endif
import Logging
import TrellisConsensus

/// The calling thread's scheduler counters: nanoseconds on a CPU and nanoseconds runnable but waiting for one.
struct ThreadSchedule: Equatable {
    var cpuNanoseconds: UInt64
    var waitNanoseconds: UInt64

    /// What the thread did between `earlier` and this reading (same thread; counters never go back, else zero).
    func since(_ earlier: ThreadSchedule) -> ThreadSchedule {
        ThreadSchedule(cpuNanoseconds: cpuNanoseconds >= earlier.cpuNanoseconds ? cpuNanoseconds - earlier.cpuNanoseconds : 0,
                       waitNanoseconds: waitNanoseconds >= earlier.waitNanoseconds ? waitNanoseconds - earlier.waitNanoseconds : 0)
    }

    static func + (a: ThreadSchedule, b: ThreadSchedule) -> ThreadSchedule {
        ThreadSchedule(cpuNanoseconds: a.cpuNanoseconds &+ b.cpuNanoseconds, waitNanoseconds: a.waitNanoseconds &+ b.waitNanoseconds)
    }

    /// The calling thread's counters, or nil where the kernel gives none (no schedstat, not Linux, unreadable).
    static func current() -> ThreadSchedule? {
        #if os(Linux)
        let fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 96)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return parse(buffer[..<count])
        #else
        return nil
        #endif
    }

    /// `<cpu ns> <run-queue wait ns> <timeslices>\n`; anything else is nil (the file is the kernel's, still checked).
    static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> ThreadSchedule? {
        var fields: [UInt64] = []
        var value: UInt64 = 0, digits = 0
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                guard digits < 19 else { return nil }  // 19 digits always fit a UInt64
                value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
                digits += 1
            case UInt8(ascii: " "), UInt8(ascii: "\n"):
                if digits > 0 { fields.append(value) }
                value = 0
                digits = 0
            default:
                return nil
            }
        }
        if digits > 0 { fields.append(value) }
        guard fields.count >= 2 else { return nil }
        return ThreadSchedule(cpuNanoseconds: fields[0], waitNanoseconds: fields[1])
    }
}

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
    /// The consensus thread's CPU time and run-queue wait inside the builds, the validations and the store (nil: not
    /// measured — no schedstat — or no such work in this height).
    var buildSchedule: ThreadSchedule?
    var validateSchedule: ThreadSchedule?
    var storeSchedule: ThreadSchedule?
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
            "build_cpu_ms": ms(buildSchedule.map { Double($0.cpuNanoseconds) / 1e6 }), "build_runq_ms": ms(buildSchedule.map { Double($0.waitNanoseconds) / 1e6 }),
            "validate_cpu_ms": ms(validateSchedule.map { Double($0.cpuNanoseconds) / 1e6 }),
            "validate_runq_ms": ms(validateSchedule.map { Double($0.waitNanoseconds) / 1e6 }),
            "store_cpu_ms": ms(storeSchedule.map { Double($0.cpuNanoseconds) / 1e6 }), "store_runq_ms": ms(storeSchedule.map { Double($0.waitNanoseconds) / 1e6 }),
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
    private let schedule: () -> ThreadSchedule?

    init(logger: Logger, now: @escaping () -> UInt64 = { DispatchTimeNanoseconds.now() },
         schedule: @escaping () -> ThreadSchedule? = { ThreadSchedule.current() }) {
        self.logger = logger
        self.enabled = logger.logLevel <= .debug
        self.now = now
        self.schedule = schedule
    }

    /// The calling thread's scheduler counters, when the timeline records (nil otherwise: nothing read).
    func threadSchedule() -> ThreadSchedule? { enabled ? schedule() : nil }

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

    /// `from` is `threadSchedule()` read at the work's start, on this thread: its difference to now goes to the height.
    func built(height: UInt64, nanoseconds: UInt64, from start: ThreadSchedule? = nil) {
        let spent = start.flatMap { s in schedule().map { $0.since(s) } }
        update(height) { t, _ in
            t.buildNanoseconds += nanoseconds
            if let spent { t.buildSchedule = (t.buildSchedule.map { $0 + spent }) ?? spent }
        }
    }

    func validated(height: UInt64, nanoseconds: UInt64, from start: ThreadSchedule? = nil) {
        let spent = start.flatMap { s in schedule().map { $0.since(s) } }
        update(height) { t, at in
            t.validateNanoseconds += nanoseconds
            t.validatedAt = at
            if let spent { t.validateSchedule = (t.validateSchedule.map { $0 + spent }) ?? spent }
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

    func stored(height: UInt64, from start: ThreadSchedule? = nil) {
        let spent = start.flatMap { s in schedule().map { $0.since(s) } }
        update(height) { t, at in
            t.storedAt = at
            if let spent { t.storeSchedule = spent }
        }
    }

    func published(height: UInt64) { update(height) { t, at in t.publishedAt = at } }

    private func update(_ height: UInt64, _ body: (inout HeightTimeline, UInt64) -> Void) {
        guard enabled, current?.height == height, var t = current else { return }
        body(&t, now())
        current = t
    }
}
