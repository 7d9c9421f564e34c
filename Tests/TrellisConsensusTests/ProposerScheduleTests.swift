// ProposerScheduleTests.swift — proposer rotation weighted by voting power, deterministic.
import Testing
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

@Suite("Proposer rotation")
struct ProposerScheduleTests {
    func counts(_ t: Harness, heights: Range<UInt64>, round: UInt32 = 0) -> [Int] {
        var c = [Int](repeating: 0, count: t.keys.count)
        for h in heights { c[t.proposerIndex(height: h, round: round)] += 1 }
        return c
    }

    @Test("Equal powers: plain round robin over heights and rounds")
    func equalPowers() throws {
        let t = try Harness()
        #expect(counts(t, heights: 0..<4) == [1, 1, 1, 1])
        #expect(counts(t, heights: 0..<400) == [100, 100, 100, 100])
        let firstRounds = (0..<4).map { t.proposerIndex(height: 10, round: UInt32($0)) }
        #expect(Set(firstRounds).count == 4)
    }

    @Test("Weighted powers: each validator proposes in proportion to its power, smoothly")
    func weights() throws {
        let t = try Harness(powers: [1, 2, 3, 4])
        var expected = [UInt64](repeating: 0, count: 4)
        for (i, key) in t.keys.enumerated() { expected[i] = t.set.power(of: key.publicKey) }
        #expect(counts(t, heights: 0..<10).map(UInt64.init) == expected)
        #expect(counts(t, heights: 0..<1000).map(UInt64.init) == expected.map { $0 * 100 })
        // Smooth: the heaviest validator never proposes more than twice in a row within one period.
        let sequence = (0..<10).map { t.proposerIndex(height: UInt64($0), round: 0) }
        let heaviest = expected.firstIndex(of: 4) ?? 0
        #expect(!zip(sequence, zip(sequence.dropFirst(), sequence.dropFirst(2))).contains { $0 == heaviest && $1.0 == heaviest && $1.1 == heaviest })
    }

    @Test("Deterministic and independent of construction order; huge powers are scaled, not dropped")
    func determinism() throws {
        let t = try Harness(powers: [5, 1, 1])
        let again = ProposerSchedule(validatorSet: try ValidatorSet(t.set.validators.reversed()))
        #expect(again.order == t.schedule.order)
        let big = try ValidatorSet(t.set.validators.enumerated().map { Validator(publicKey: $0.element.publicKey, votingPower: UInt64($0.offset + 1) * 1_000_000_007, p2pAddress: "") })
        let schedule = ProposerSchedule(validatorSet: big)
        #expect(UInt64(schedule.order.count) <= ProposerSchedule.maxPeriod)
        #expect(Set(schedule.order).count == 3)
    }
}
