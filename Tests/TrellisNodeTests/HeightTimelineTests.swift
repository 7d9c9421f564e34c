// HeightTimelineTests.swift — the debug log's per-height timeline (HeightTimelineRecorder): each height is logged once,
// when the next one starts, with its marks measured from the height's start; nothing is recorded above debug level,
// and marks for another height than the current one are ignored.
import Logging
import Foundation
import Testing
import TrellisConsensus
@testable import TrellisNode

/// Log records (message and metadata), behind a lock.
private final class Records: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [(message: String, metadata: Logger.Metadata)] = []
    func append(_ record: (message: String, metadata: Logger.Metadata)) { lock.withLock { values.append(record) } }
    var all: [(message: String, metadata: Logger.Metadata)] { lock.withLock { values } }
}

/// Keeps every log record in memory.
private struct CapturingLogHandler: LogHandler {
    let records: Records
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level

    init(level: Logger.Level, records: Records) {
        self.logLevel = level
        self.records = records
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        records.append((event.message.description, event.metadata ?? [:]))
    }
}

/// A clock the test moves by hand (milliseconds, returned as nanoseconds).
private final class ManualClock: @unchecked Sendable {
    var milliseconds: UInt64 = 1_000
    func now() -> UInt64 { milliseconds * 1_000_000 }
}

/// Scheduler counters the test moves by hand (milliseconds on a CPU and in the run queue); nil: none available.
private final class ManualSchedule: @unchecked Sendable {
    var cpuMilliseconds: UInt64 = 5_000
    var waitMilliseconds: UInt64 = 700
    var available = true
    var reads = 0
    func now() -> ThreadSchedule? {
        reads += 1
        return available ? ThreadSchedule(cpuNanoseconds: cpuMilliseconds * 1_000_000, waitNanoseconds: waitMilliseconds * 1_000_000) : nil
    }
}

@Suite struct HeightTimelineTests {
    private func recorder(level: Logger.Level, schedule: ManualSchedule = ManualSchedule()) -> (HeightTimelineRecorder, ManualClock, Records) {
        let records = Records()
        let logger = Logger(label: "timeline") { _ in CapturingLogHandler(level: level, records: records) }
        let clock = ManualClock()
        return (HeightTimelineRecorder(logger: logger, now: { clock.now() }, schedule: { schedule.now() }), clock, records)
    }

    @Test func aHeightIsLoggedWhenTheNextStartsWithItsMarksFromItsStart() {
        let (timeline, clock, records) = recorder(level: .debug)
        timeline.heightStarted(7)
        clock.milliseconds += 30
        timeline.proposalArrived(height: 7, round: 0, builtHere: false)
        clock.milliseconds += 20
        timeline.validated(height: 7, nanoseconds: 18_000_000)
        clock.milliseconds += 2
        timeline.walSynced(nanoseconds: 400_000)
        timeline.signatureDurable(SigningPosition(height: 7, round: 0, step: .prevote), guardNanoseconds: 600_000)
        clock.milliseconds += 10
        timeline.walSynced(nanoseconds: 300_000)
        timeline.signatureDurable(SigningPosition(height: 7, round: 0, step: .precommit), guardNanoseconds: 500_000)
        clock.milliseconds += 8
        timeline.decided(height: 7, transactions: 42)
        clock.milliseconds += 60
        timeline.stored(height: 7)
        clock.milliseconds += 5
        timeline.published(height: 7)
        // A mark for another height (a late answer) changes nothing.
        timeline.validated(height: 6, nanoseconds: 99_000_000)
        #expect(records.all.isEmpty)
        clock.milliseconds += 35
        timeline.heightStarted(8)

        let logged = records.all
        #expect(logged.count == 1)
        let fields = logged.first?.metadata ?? [:]
        #expect(logged.first?.message == "height timeline")
        #expect(fields["height"] == "7")
        #expect(fields["txs"] == "42")
        #expect(fields["rounds"] == "1")
        #expect(fields["proposer"] == "false")
        #expect(fields["proposal_ms"] == "30.0")
        #expect(fields["validate_ms"] == "18.0")
        #expect(fields["validated_ms"] == "50.0")
        #expect(fields["prevote_synced_ms"] == "52.0")
        #expect(fields["precommit_synced_ms"] == "62.0")
        #expect(fields["decided_ms"] == "70.0")
        #expect(fields["stored_ms"] == "130.0")
        #expect(fields["published_ms"] == "135.0")
        #expect(fields["next_start_ms"] == "170.0")
        #expect(fields["wal_syncs"] == "2")
        #expect(fields["wal_sync_ms"] == "0.7")
        #expect(fields["guard_saves"] == "2")
        #expect(fields["guard_save_ms"] == "1.1")
        #expect(fields["build_ms"] == "0.0")
        #expect(fields["timeouts"] == "-")
        // No scheduler counters were handed in: those fields are not measured.
        #expect(fields["validate_cpu_ms"] == "-")
        #expect(fields["store_runq_ms"] == "-")
        #expect(fields["build_cpu_ms"] == "-")
    }

    /// The build, the validations (summed) and the store carry the thread's CPU time and run-queue wait between the
    /// reading taken at their start and their end.
    @Test func theWorkCarriesTheThreadsCPUTimeAndRunQueueWait() {
        let schedule = ManualSchedule()
        let (timeline, clock, records) = recorder(level: .debug, schedule: schedule)
        timeline.heightStarted(9)
        var start = timeline.threadSchedule()
        schedule.cpuMilliseconds += 12
        schedule.waitMilliseconds += 30
        timeline.built(height: 9, nanoseconds: 45_000_000, from: start)
        start = timeline.threadSchedule()
        schedule.cpuMilliseconds += 20
        schedule.waitMilliseconds += 5
        timeline.validated(height: 9, nanoseconds: 26_000_000, from: start)
        start = timeline.threadSchedule()  // a second validation (a later round) adds to the first
        schedule.cpuMilliseconds += 4
        timeline.validated(height: 9, nanoseconds: 4_000_000, from: start)
        start = timeline.threadSchedule()
        schedule.cpuMilliseconds += 50
        schedule.waitMilliseconds += 70
        clock.milliseconds += 200
        timeline.stored(height: 9, from: start)
        timeline.heightStarted(10)
        let fields = records.all.first?.metadata ?? [:]
        #expect(fields["build_cpu_ms"] == "12.0")
        #expect(fields["build_runq_ms"] == "30.0")
        #expect(fields["validate_cpu_ms"] == "24.0")
        #expect(fields["validate_runq_ms"] == "5.0")
        #expect(fields["store_cpu_ms"] == "50.0")
        #expect(fields["store_runq_ms"] == "70.0")
    }

    /// Where the kernel gives no counters the fields are "-", and above debug level the counters are never read.
    @Test func withoutCountersTheFieldsAreDashesAndAboveDebugNothingIsRead() {
        let missing = ManualSchedule()
        missing.available = false
        let (timeline, _, records) = recorder(level: .debug, schedule: missing)
        timeline.heightStarted(2)
        let start = timeline.threadSchedule()
        #expect(start == nil)
        timeline.validated(height: 2, nanoseconds: 1_000_000, from: start)
        timeline.stored(height: 2, from: start)
        timeline.heightStarted(3)
        let fields = records.all.first?.metadata ?? [:]
        #expect(fields["validate_cpu_ms"] == "-")
        #expect(fields["store_cpu_ms"] == "-")
        #expect(fields["validate_ms"] == "1.0")

        let counted = ManualSchedule()
        let (quiet, _, _) = recorder(level: .info, schedule: counted)
        #expect(quiet.threadSchedule() == nil)
        quiet.stored(height: 1, from: nil)
        #expect(counted.reads == 0)
    }

    /// /proc/thread-self/schedstat: `<cpu ns> <wait ns> <slices>\n`; a malformed reading is nil, never a crash.
    @Test func theSchedstatLineIsParsedAndBadInputRefused() {
        #expect(ThreadSchedule.parse(Array("325886202 6277960 69\n".utf8)) == ThreadSchedule(cpuNanoseconds: 325_886_202, waitNanoseconds: 6_277_960))
        #expect(ThreadSchedule.parse(Array("0 0 1".utf8)) == ThreadSchedule(cpuNanoseconds: 0, waitNanoseconds: 0))
        #expect(ThreadSchedule.parse(Array("".utf8)) == nil)
        #expect(ThreadSchedule.parse(Array("12\n".utf8)) == nil)
        #expect(ThreadSchedule.parse(Array("12 -3 1\n".utf8)) == nil)
        #expect(ThreadSchedule.parse(Array("12 x 1".utf8)) == nil)
        #expect(ThreadSchedule.parse(Array("99999999999999999999 1 1".utf8)) == nil)  // 20 digits: refused, not wrapped
        let before = ThreadSchedule(cpuNanoseconds: 10, waitNanoseconds: 50)
        #expect(ThreadSchedule(cpuNanoseconds: 25, waitNanoseconds: 40).since(before) == ThreadSchedule(cpuNanoseconds: 15, waitNanoseconds: 0))
        #if os(Linux)
        // This thread's own counters, read twice: they never go back.
        if let first = ThreadSchedule.current(), let second = ThreadSchedule.current() {
            #expect(second.cpuNanoseconds >= first.cpuNanoseconds)
        }
        #endif
    }

    /// The timeouts that fired in a height are listed with their step, round and time; one of another height is not.
    @Test func theTimeoutsOfAHeightAreListed() {
        let (timeline, clock, records) = recorder(level: .debug)
        timeline.heightStarted(5)
        clock.milliseconds += 3_000
        timeline.timeoutFired(Timeout(height: 5, round: 0, step: .propose))
        clock.milliseconds += 1_000
        timeline.timeoutFired(Timeout(height: 5, round: 0, step: .prevote))
        timeline.timeoutFired(Timeout(height: 4, round: 2, step: .precommit))
        timeline.heightStarted(6)
        let fields = records.all.first?.metadata ?? [:]
        #expect(fields["timeouts"] == "propose0@3000,prevote0@4000")
    }

    @Test func aMarkNotReachedIsADashAndALaterRoundIsCounted() {
        let (timeline, clock, records) = recorder(level: .debug)
        timeline.heightStarted(3)
        clock.milliseconds += 10
        timeline.proposalArrived(height: 3, round: 1, builtHere: true)
        timeline.built(height: 3, nanoseconds: 4_000_000)
        timeline.heightStarted(4)
        let fields = records.all.first?.metadata ?? [:]
        #expect(fields["rounds"] == "2")
        #expect(fields["proposer"] == "true")
        #expect(fields["build_ms"] == "4.0")
        #expect(fields["decided_ms"] == "-")
        #expect(fields["prevote_synced_ms"] == "-")
    }

    @Test func aboveDebugNothingIsRecordedOrLogged() {
        let (timeline, clock, records) = recorder(level: .info)
        #expect(!timeline.enabled)
        timeline.heightStarted(1)
        clock.milliseconds += 10
        timeline.decided(height: 1, transactions: 1)
        timeline.heightStarted(2)
        #expect(timeline.current == nil)
        #expect(records.all.isEmpty)
    }
}
