// BlockBudgetTests.swift — the proposer's block size: its builds' cost per transaction, its round's share of
// timeout_propose, less how late the build starts; at most what the height's validation + store take in one
// timeout_propose.
import NIOConcurrencyHelpers
import Testing
@testable import TrellisNode

@Suite struct BlockBudgetTests {
    final class Clock: @unchecked Sendable {
        private let lock = NIOLock()
        private var seconds = 100.0
        var now: Double { lock.withLock { seconds } }
        func advance(_ s: Double) { lock.withLock { seconds += s } }
    }

    /// timeout_propose 1 s (+0.5 s per round), timeout_commit 0.1 s, blocks of at most 5,000.
    func budget(_ clock: Clock, commitDelay: Double? = 0.1, sizes: NIOLockedValueBox<[Int]> = NIOLockedValueBox([])) -> BlockBudget {
        BlockBudget(maxTransactions: 5_000, proposeBase: 1.0, proposeDelta: 0.5, commitDelay: commitDelay, now: { clock.now },
                    onChange: { size in sizes.withLockedValue { $0.append(size) } })
    }

    @Test func buildsNotValidationsSizeTheProposalOnceOneIsMeasured() {
        let clock = Clock(), sizes = NIOLockedValueBox<[Int]>([])
        let b = budget(clock, sizes: sizes)
        #expect(b.transactions == 800)                                   // the 0.5 ms prior: 0.4 s / 0.5 ms
        b.record(transactions: 1_000, nanoseconds: 100_000_000)          // a validation at 0.1 ms: the average 0.38 ms
        #expect(b.transactions == 1_052)
        b.record(transactions: 1_000, nanoseconds: 300_000_000, build: true)  // a build at 0.3 ms: three times dearer
        #expect(b.transactions == 1_333)
        b.record(transactions: 1_000, nanoseconds: 50_000_000)           // later validations no longer size it
        #expect(b.transactions == 1_333)
        b.record(transactions: 10, nanoseconds: 900_000_000, build: true)  // under 50 transactions: not a sample
        #expect(b.transactions == 1_333)
        // Admission control counts in the on-time round-0 size.
        #expect(b.expectedTransactions == 1_333)
        #expect(sizes.withLockedValue { $0 } == [800, 1_052, 1_333, 1_333])
    }

    @Test func aLateStartInRoundZeroShrinksTheBlockALaterRoundGrowsIt() {
        let clock = Clock()
        let b = budget(clock)
        b.record(transactions: 1_000, nanoseconds: 300_000_000, build: true)  // 0.3 ms per transaction
        b.decided()
        clock.advance(0.1)                                                // the earliest start: timeout_commit after
        b.building(round: 0)
        #expect(b.transactions == 1_333)                                  // 0.4 s
        clock.advance(0.2)                                                // the store ran 0.2 s past timeout_commit
        #expect(b.transactions == 666)                                    // 0.2 s left
        clock.advance(0.5)
        #expect(b.transactions == BlockBudget.minimumTransactions)        // past the share: the minimum
        b.building(round: 1)                                              // round 1 starts together: 0.4 × 1.5 s
        #expect(b.transactions == 2_000)
        #expect(b.expectedTransactions == 1_333)
    }

    @Test func withoutEmptyBlocksALateStartIsNotCounted() {
        let clock = Clock()
        let b = budget(clock, commitDelay: nil)
        b.record(transactions: 1_000, nanoseconds: 300_000_000, build: true)
        b.decided()
        clock.advance(30)                                                 // the height waited for transactions
        b.building(round: 0)
        #expect(b.transactions == 1_333)
    }

    @Test func theHeightsValidationAndStoreCapTheBlockOnceAStoreIsMeasured() {
        let clock = Clock(), sizes = NIOLockedValueBox<[Int]>([])
        let b = budget(clock, sizes: sizes)
        b.record(transactions: 1_000, nanoseconds: 100_000_000, build: true)   // builds at 0.1 ms: 4,000 fit in 0.4 s
        b.record(transactions: 1_000, nanoseconds: 200_000_000)                // validations: 0.7 × 0.5 + 0.3 × 0.2 = 0.41 ms
        #expect(b.transactions == 4_000)                                      // no store measured: the build's share alone
        b.recordStore(transactions: 10, nanoseconds: 900_000_000)             // under 50 transactions: not a sample
        #expect(b.transactions == 4_000)
        b.recordStore(transactions: 2_000, nanoseconds: 1_000_000_000)        // stores at 0.5 ms: 1 s / (0.41 + 0.5 ms)
        #expect(b.transactions == 833, "in round 0 the steady size binds first: (0.4 + 0.1 s) / (0.1 + 0.5 ms)")
        #expect(b.expectedTransactions == 4_000, "admission control counts in the build's share: the pool holds more than the capped blocks")
        b.building(round: 1)                                                  // a later round's longer timeout: the height's cap
        #expect(b.transactions == 1_098)
        b.recordStore(transactions: 1_000, nanoseconds: 90_000_000)           // cheaper stores: 0.7 × 0.5 + 0.3 × 0.09 = 0.377 ms
        #expect(b.transactions == 1_270)                                      // 1 s / 0.787 ms
        #expect(sizes.withLockedValue { $0 } == [800, 4_000, 4_000], "stores do not move admission control's size")
    }

    /// A steady backlog above saturation, height after height: the proposer decides, stores the block (its store
    /// ending past timeout_commit makes its next build late), builds the next one from the budget, and every
    /// validator validates it. Stores cost more per transaction than builds (as on the cluster above saturation), so
    /// the late start's answer overshoots: before, blocks alternated between the build's share and the minimum
    /// (1,600 / 100 here, as the cluster's ~1,600 / ~100 in the sixteenth session's runs). Now they settle at the
    /// size whose store leaves time to build the same size again, and no block after the first is the minimum.
    @Test func aSteadyBacklogGetsBlocksOfOneSize() {
        let clock = Clock()
        let commitDelay = 0.1
        let b = BlockBudget(maxTransactions: 5_000, proposeBase: 1.0, proposeDelta: 0.5, commitDelay: commitDelay, now: { clock.now })
        let build = 0.000_25, validation = 0.000_15, store = 0.000_4  // seconds per transaction
        var sizes: [Int] = []
        var previous = 0  // the block decided last (none before the first height)
        for _ in 0..<20 {
            b.decided()
            let stored = store * Double(previous)
            clock.advance(stored)
            b.recordStore(transactions: previous, nanoseconds: UInt64(stored * 1e9))
            clock.advance(max(0, commitDelay - stored))  // the next height starts at the earliest timeout_commit after the decision
            b.building(round: 0)
            let size = b.transactions
            clock.advance(build * Double(size))
            b.record(transactions: size, nanoseconds: UInt64(build * Double(size) * 1e9), build: true)
            clock.advance(validation * Double(size))
            b.record(transactions: size, nanoseconds: UInt64(validation * Double(size) * 1e9))
            sizes.append(size)
            previous = size
        }
        // (0.4 × 1 s + 0.1 s) / (0.25 + 0.4 ms) = 769 once the costs are measured; the first block is the build's share
        // at the prior cost (0.4 s / 0.5 ms), the second what the first's late start leaves (0.4 − 0.22 s at 0.25 ms).
        // Before: 800, 720, 848, 643, 971, 446, 1,286, 100, 1,599, 100, 1,599, …
        let steady = 769
        #expect(sizes.prefix(2) == [800, 720])
        #expect(sizes.dropFirst(2).allSatisfy { abs($0 - steady) <= steady / 20 }, "\(sizes)")
        #expect(!sizes.contains(BlockBudget.minimumTransactions), "\(sizes)")
    }
}
