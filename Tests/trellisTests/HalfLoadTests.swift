// HalfLoadTests.swift — `trellis bench cluster`'s half load: half of the rate the latency workload itself is kept up
// with (a bisection of short steps below the sustained maximum), not half of the sustained phase's rate, and the
// latency phase's batch size at a rate.
import Testing
@testable import trellis

@Suite struct HalfLoadTests {
    /// Runs the search against a cluster that commits min(offered, capacity) of the workload.
    private static func search(capacity: Double, upperBound: Double, steps: Int) -> KeepUpSearch {
        var search = KeepUpSearch(upperBound: upperBound, steps: steps)
        while let rate = search.nextRate { search.record(KeepUpStep(offered: rate, committed: min(rate, capacity))) }
        return search
    }

    @Test func halfLoadIsHalfOfWhatTheWorkloadIsKeptUpWith() {
        // The sustained phase reached 1,400 tx/s, but the latency workload's blocks cost twice as much: it keeps up to 600.
        let search = Self.search(capacity: 600, upperBound: 1_400, steps: 5)
        #expect(search.steps.map(\.offered) == [700, 350, 525, 612.5, 656.25])
        #expect(search.steps.map(\.keptUp) == [false, true, true, true, false], "612.5 commits 98 % of itself: within the tolerance")
        #expect(search.sustainedRate == 612.5)
        #expect(search.halfLoadRate == 306.25, "not 700, half of the sustained phase's rate, which this workload cannot keep up with")
    }

    @Test func aStepIsKeptUpWithOnlyWhenItsCommittedRateKeepsPace() {
        #expect(KeepUpStep(offered: 1_000, committed: 950).keptUp)
        #expect(KeepUpStep(offered: 1_000, committed: 1_020).keptUp)
        #expect(!KeepUpStep(offered: 1_000, committed: 949).keptUp, "a backlog grows by 51 tx every second")
    }

    @Test func aWorkloadKeptUpWithEverywhereApproachesTheUpperBound() {
        let search = Self.search(capacity: 10_000, upperBound: 1_000, steps: 5)
        #expect(search.steps.allSatisfy { $0.keptUp })
        #expect(search.sustainedRate == 968.75, "1,000 × 31/32: the last step's rate")
        #expect(search.halfLoadRate == 484.375)
    }

    @Test func whenNoStepIsKeptUpWithTheLeastCommittedRateIsTheBound() {
        let search = Self.search(capacity: 40, upperBound: 1_000, steps: 3)
        #expect(search.steps.map(\.offered) == [500, 250, 125])
        #expect(search.steps.allSatisfy { !$0.keptUp })
        #expect(search.sustainedRate == 40)
        #expect(search.halfLoadRate == 20)
        #expect(Self.search(capacity: 0, upperBound: 100, steps: 2).halfLoadRate == 1, "at least 1 tx/s")
    }

    @Test func theLatencyBatchCarriesALanesShareOfOneInterval() {
        #expect(latencyBatchSize(rate: 306, lanes: 4, intervalMilliseconds: 50, maxBatch: 500) == 4)  // 3.825 rounded up
        #expect(latencyBatchSize(rate: 1, lanes: 4, intervalMilliseconds: 50, maxBatch: 500) == 1)
        #expect(latencyBatchSize(rate: 100_000, lanes: 4, intervalMilliseconds: 50, maxBatch: 500) == 500)
    }
}
