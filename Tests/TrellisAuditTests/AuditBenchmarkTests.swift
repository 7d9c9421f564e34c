// AuditBenchmarkTests.swift — `trellis bench audit` runs end to end on a small chain (it had broken unnoticed when
// block 1 began to link to the genesis hash): the export verifies and the figures are consistent; its rounds
// alternate the passes' order and report the median ratio with every round.
import Foundation
import Testing
@testable import TrellisAudit

@Suite struct AuditBenchmarkTests {
    @Test func theBenchmarkRunsOnASmallChain() throws {
        let dir = try temporaryDirectory("bench")
        var tick = 0.0
        let result = try AuditBenchmark.run(transactions: 30, perBlock: 10, rounds: 1, directory: dir, now: { tick += 1; return tick })
        #expect(result.transactions == 30 && result.blocks == 3)
        #expect(result.signatures == 30 + 3 * 4)
        #expect(result.verifySeconds > 0 && result.rawVerifySeconds > 0)
        #expect(result.rounds.count == 1)
    }

    /// The clock is read twice per pass (start, end): a scripted clock gives each pass a known length, so the
    /// rounds show which pass ran first and the result is the median of the rounds' own ratios.
    @Test func roundsAlternateTheOrderAndTheRatioIsTheirMedian() throws {
        let dir = try temporaryDirectory("bench-rounds")
        // Pass lengths in the order the passes run: round 0 raw 1, verify 4; round 1 verify 2, raw 3; round 2 raw 1, verify 1.
        let lengths: [Double] = [1, 4, 2, 3, 1, 1]
        var readings: [Double] = []
        var t = 0.0
        for length in lengths {
            readings.append(t)
            t += length
            readings.append(t)
            t += 100  // time between passes is never counted
        }
        var next = 0
        let result = try AuditBenchmark.run(transactions: 20, perBlock: 10, rounds: 3, directory: dir, now: {
            defer { next += 1 }
            return readings[next]
        })
        #expect(next == readings.count)
        #expect(result.rounds == [
            AuditBenchmarkRound(rawFirst: true, rawVerifySeconds: 1, verifySeconds: 4),
            AuditBenchmarkRound(rawFirst: false, rawVerifySeconds: 3, verifySeconds: 2),
            AuditBenchmarkRound(rawFirst: true, rawVerifySeconds: 1, verifySeconds: 1),
        ])
        // Ratios 0.25, 1.5, 1: the median is 1 (the ratio of the medians, 1 / 2, is not what is reported).
        #expect(result.ratio == 1)
        #expect(result.rawVerifySeconds == 1 && result.verifySeconds == 2)
        #expect(result.verifyTransactionsPerSecond == 10 && result.rawTransactionsPerSecond == 20)
    }

    @Test func theMedianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
        #expect(AuditBenchmarkResult.median([3, 1, 2]) == 2)
        #expect(AuditBenchmarkResult.median([4, 1, 3, 2]) == 2.5)
        #expect(AuditBenchmarkResult.median([7]) == 7)
    }

    @Test func theJSONNamesEveryRound() throws {
        let result = AuditBenchmarkResult(transactions: 10, blocks: 1, signatures: 14, exportBytes: 100, rounds: [
            AuditBenchmarkRound(rawFirst: true, rawVerifySeconds: 1, verifySeconds: 2),
            AuditBenchmarkRound(rawFirst: false, rawVerifySeconds: 3, verifySeconds: 4),
        ])
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(result)) as? [String: Any]
        let rounds = try #require(object?["rounds"] as? [[String: Any]])
        #expect(rounds.count == 2)
        #expect(rounds.map { $0["raw_first"] as? Bool } == [true, false])
        #expect(rounds.map { $0["raw_verify_seconds"] as? Double } == [1, 3])
        #expect(rounds.map { $0["verify_seconds"] as? Double } == [2, 4])
        #expect(rounds.map { $0["ratio"] as? Double } == [0.5, 0.75])
        #expect(object?["ratio"] as? Double == 0.625)
    }
}
