// AuditBenchmarkTests.swift — `trellis bench audit` runs end to end on a small chain (it had broken unnoticed when
// block 1 began to link to the genesis hash): the export verifies and the figures are consistent.
import Foundation
import Testing
@testable import TrellisAudit

@Suite struct AuditBenchmarkTests {
    @Test func theBenchmarkRunsOnASmallChain() throws {
        let dir = try temporaryDirectory("bench")
        var tick = 0.0
        let result = try AuditBenchmark.run(transactions: 30, perBlock: 10, directory: dir, now: { tick += 1; return tick })
        #expect(result.transactions == 30 && result.blocks == 3)
        #expect(result.signatures == 30 + 3 * 4)
        #expect(result.verifySeconds > 0 && result.rawVerifySeconds > 0)
    }
}
