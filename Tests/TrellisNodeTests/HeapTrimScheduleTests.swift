// HeapTrimScheduleTests.swift — when the node trims its heap: in the pause after a commit once it grew by the slack,
// at once only when it grew by the larger slack and is a slack past the floor (made-up resident sizes; no real trim).
import Testing
@testable import TrellisNode

@Suite struct HeapTrimScheduleTests {
    static let mib = 1 << 20

    func policy(baseline: Int = 100 * mib) -> HeapTrimPolicy {
        HeapTrimPolicy(slackBytes: 32 * Self.mib, forcedSlackBytes: 64 * Self.mib, minimumPauseMilliseconds: 30, baseline: baseline)
    }

    /// The policy's answers to (resident MiB, pause ms) in order, trimming to `trimmedTo` MiB after each yes.
    static func decisions(_ p: inout HeapTrimPolicy, _ steps: [(Int, UInt64)], trimmedTo: Int? = nil) -> [Bool] {
        steps.map { resident, pause in
            let trim = p.shouldTrim(resident: resident * mib, pauseMilliseconds: pause)
            if trim, let trimmedTo { p.trimmed(resident: trimmedTo * mib) }
            return trim
        }
    }

    @Test func growthPastTheSlackTrimsOnlyInALongEnoughPause() {
        var p = policy()
        // within the slack; grown 40 MiB but no pause; a pause too short for a trim; a pause of 30 ms
        let answers = Self.decisions(&p, [(120, 100), (140, 0), (140, 29), (140, 30)], trimmedTo: 90)
        #expect(answers == [false, false, false, true])
        #expect(p.baseline == 90 * Self.mib)
        let after = Self.decisions(&p, [(121, 100), (123, 100)])  // 31 MiB, then 33 MiB over the new baseline
        #expect(after == [false, true])
    }

    @Test func growthPastTheForcedSlackTrimsWithoutAPause() {
        var p = policy()
        let answers = Self.decisions(&p, [(164, 0), (165, 0)])  // exactly 64 MiB over 100 is not over it
        #expect(answers == [false, true])
    }

    @Test func noTrimAtOrBelowTheFloor() {
        var p = HeapTrimPolicy(slackBytes: 32 * Self.mib, forcedSlackBytes: 64 * Self.mib, minimumPauseMilliseconds: 30,
                               floorBytes: 256 * Self.mib, baseline: 100 * Self.mib)
        // 156 MiB over the baseline but at the floor; then past it, in a pause
        let answers = Self.decisions(&p, [(256, 100), (257, 100)], trimmedTo: 200)
        #expect(answers == [false, true])
        // under the floor; past it by 63 MiB over the baseline of 200, no pause; 70 MiB over it in a pause
        #expect(Self.decisions(&p, [(250, 0), (263, 0), (270, 100)]) == [false, false, true])
    }

    @Test func justPastTheFloorALargeGrowthWaitsForAPause() {
        var p = HeapTrimPolicy(slackBytes: 32 * Self.mib, forcedSlackBytes: 64 * Self.mib, minimumPauseMilliseconds: 30,
                               floorBytes: 320 * Self.mib, baseline: 210 * Self.mib)
        // 110 MiB over the baseline, 10 past the floor, no pause: wait; the same in a pause: trim
        #expect(Self.decisions(&p, [(330, 0), (340, 10), (330, 45)], trimmedTo: 210) == [false, false, true])
        // without a pause only once more than 32 MiB past the floor
        #expect(Self.decisions(&p, [(350, 0), (352, 0), (353, 0)], trimmedTo: 215) == [false, false, true])
    }

    @Test func aSmallerProcessLowersTheBaseline() {
        var p = policy()
        let answers = Self.decisions(&p, [(80, 100), (113, 100)])  // then 33 MiB over 80, not over 100
        #expect(answers == [false, true])
        #expect(p.baseline == 80 * Self.mib)
    }

    @Test func theScheduleTrimsAndTakesTheResidentSizeAfterwardsAsItsBaseline() {
        final class Process {
            var resident = 100 * HeapTrimScheduleTests.mib
            var trims = 0
        }
        let process = Process()
        let schedule = HeapTrimSchedule(floorBytes: 0, resident: { process.resident }, trim: {
            process.trims += 1
            process.resident = 95 * HeapTrimScheduleTests.mib
        })
        process.resident = 150 * Self.mib
        #expect(schedule.committed(pauseMilliseconds: 10) == nil)
        #expect(process.trims == 0)
        #expect(schedule.committed(pauseMilliseconds: 60)?.before == 150 * Self.mib)
        #expect(process.trims == 1 && schedule.trims == 1)
        process.resident = 128 * Self.mib                                           // 33 MiB over the 95 after the trim
        #expect(schedule.committed(pauseMilliseconds: 60)?.after == 95 * Self.mib)
        #expect(process.trims == 2)
    }

    @Test func noResidentSizeNoTrim() {
        var trimmed = false
        let schedule = HeapTrimSchedule(floorBytes: 0, resident: { nil }, trim: { trimmed = true })
        #expect(schedule.committed(pauseMilliseconds: 1_000) == nil)
        #expect(!trimmed)
    }
}
