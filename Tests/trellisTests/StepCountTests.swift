// StepCountTests.swift — what a step of `trellis bench cluster` counts: the transactions of the blocks that arrived in
// its last three quarters, of which some were admitted before the step (earlier steps' backlog); the rate it reports
// as sustained at its offered load is never above that load, and a saturated step keeps its whole window's rate.
import Foundation
import Testing
import TrellisCrypto
@testable import trellis

@Suite struct StepCountTests {
    private static let second: UInt64 = 1_000_000_000

    /// A block of `admitted.count` load transactions (admitted at those seconds) arriving at `arrival` seconds.
    private static func block(_ height: UInt64, at arrival: Double, admitted: [Double]) -> SeenBlock {
        SeenBlock(height: height, transactions: admitted.count, rejected: 0, arrivedAt: UInt64(arrival * 1e9),
                  admittedAt: admitted.map { UInt64($0 * 1e9) })
    }

    /// `count` admissions spread evenly over [from, to) seconds.
    private static func spread(_ count: Int, from: Double, to: Double) -> [Double] {
        (0..<count).map { from + (to - from) * Double($0) / Double(count) }
    }

    /// A step of 8 s offering 1,000 tx/s from t = 10 s, kept up with: each second's 1,000 transactions arrive in one
    /// block 0.5 s after that second ends. Blocks before the step and after it are not its own.
    private static func keptUpStep(backlogInFirstBlockOfWindow backlog: Int) -> [SeenBlock] {
        var blocks = [block(1, at: 9.9, admitted: spread(900, from: 8.5, to: 9.5))]
        for s in 0..<8 {
            let from = 10.0 + Double(s)
            var admitted = spread(1_000, from: from, to: from + 1)
            // The earlier step's backlog, committed in the first block of the window (it arrives at 12.5 s).
            if s == 1 { admitted += spread(backlog, from: 7, to: 9) }
            blocks.append(block(UInt64(2 + s), at: from + 1.5, admitted: admitted))
        }
        return blocks
    }

    @Test func aKeptUpStepCountsItsOfferedRate() {
        let count = StepCount.count(blocks: Self.keptUpStep(backlogInFirstBlockOfWindow: 0), offered: 1_000, from: 10 * Self.second, to: 18 * Self.second)
        #expect(count.windowSeconds == 6)
        // The window [12, 18) holds the blocks arriving at 12.5 … 17.5: six seconds' 1,000 each.
        #expect(count.committed == 6_000)
        #expect(count.windowRate == 1_000)
        #expect(count.rateWithinOffered == 1_000)
        #expect(count.admittedBeforeStep == 0)
        #expect(count.admittedInFirstQuarter == 1_000, "the block arriving at 12.5 s carries the second [11, 12): the step's first quarter ends at 12 s")
    }

    @Test func aBacklogDrainedInTheWindowIsCountedButNeverAboveTheOfferedRate() {
        // The ramp step of 2026-12-07 09:53: 1,734 tx/s at 1,500 offered. Here 2,400 transactions an earlier step
        // left admitted and uncommitted arrive in the window of a step that offers 1,000 tx/s.
        let count = StepCount.count(blocks: Self.keptUpStep(backlogInFirstBlockOfWindow: 2_400), offered: 1_000, from: 10 * Self.second, to: 18 * Self.second)
        #expect(count.committed == 8_400)
        #expect(count.windowRate == 1_400, "as counted before the twenty-first session: the backlog counted as the step's")
        #expect(count.admittedBeforeStep == 2_400)
        #expect(count.rateWithinOffered == 1_000, "a load of 1,000 tx/s is kept up with at 1,000 tx/s, whatever else the window drained")
        #expect(count.fields["committed"] == 1_400)
        #expect(count.fields["committed_within_offered"] == 1_000)
        #expect(count.fields["window_admitted_before_step"] == 2_400)
    }

    @Test func aSaturatedStepKeepsItsWindowRateWhateverItDrained() {
        // Offered 3,000 tx/s; the cluster commits 1,200 a second, first an earlier step's 1,500, then the step's own.
        var blocks: [SeenBlock] = []
        var backlog = Self.spread(1_500, from: 5, to: 10), own = Self.spread(24_000, from: 10, to: 18)
        for s in 0..<8 {
            let take = min(1_200, backlog.count)
            var admitted = Array(backlog.prefix(take))
            backlog.removeFirst(take)
            admitted += own.prefix(1_200 - take)
            own.removeFirst(1_200 - take)
            blocks.append(Self.block(UInt64(s + 1), at: 10.9 + Double(s), admitted: admitted))
        }
        let count = StepCount.count(blocks: blocks, offered: 3_000, from: 10 * Self.second, to: 18 * Self.second)
        // Blocks at 12.9 … 17.9: six of 1,200.
        #expect(count.committed == 7_200)
        #expect(count.windowRate == 1_200)
        #expect(count.rateWithinOffered == 1_200, "saturated: the cluster's rate, not reduced by what it drained")
        #expect(count.admittedBeforeStep == 0, "the backlog was committed in the first quarter")
    }

    @Test func theMonitorRecordsWhenEachCommittedTransactionWasAdmitted() {
        let sentAt = LockedBox<[Hash: UInt64]>([:]), firstSentAt = LockedBox<[Hash: UInt64]>([:])
        let monitor = BlockMonitor(sentAt: sentAt, firstSentAt: firstSentAt)
        let refusedThenSent = SHA256.hash(Array("a".utf8)), sentOnce = SHA256.hash(Array("b".utf8)), notOurs = SHA256.hash(Array("c".utf8))
        firstSentAt.withLock { $0 = [refusedThenSent: 1_000, sentOnce: 2_000] }
        sentAt.withLock { $0 = [refusedThenSent: 5_000, sentOnce: 2_000] }
        let hashes = [refusedThenSent, sentOnce, notOurs].map { "\"\($0.hex)\"" }.joined(separator: ",")
        monitor.received(Data("event: block\ndata: {\"height\": 4, \"transactions\": [\(hashes)]}\n\n".utf8))
        let block = monitor.blocks.withLock { $0.first }
        #expect(block?.transactions == 3)
        #expect(block?.admittedAt.sorted() == [2_000, 5_000], "admitted at the last send (the re-send after a refusal); a transaction the generator did not send has none")
    }
}
