// SyncProgressTests.swift — when a node catching up logs how far it is (SyncProgress): not in step with its peers,
// every 100 blocks while behind, once when caught up; silent in ordinary consensus (one block behind is normal).
import Testing
import TrellisNode

@Suite struct SyncProgressTests {
    @Test func inStepOrOneBehindIsSilent() {
        var progress = SyncProgress()
        for height in UInt64(1)...300 {
            #expect(progress.committed(height: height, target: height + 1) == nil)
            #expect(progress.committed(height: height, target: nil) == nil)
        }
        #expect(progress.startedAt == nil)
    }

    @Test func aCatchUpReportsItsStartEveryHundredBlocksAndItsEnd() {
        var progress = SyncProgress()
        var reports: [SyncReport] = []
        for height in UInt64(11)...460 {
            if let report = progress.committed(height: height, target: 450) { reports.append(report) }
        }
        #expect(reports == [
            .behind(height: 11, target: 450, startedAt: 11), .behind(height: 111, target: 450, startedAt: 11),
            .behind(height: 211, target: 450, startedAt: 11), .behind(height: 311, target: 450, startedAt: 11),
            .behind(height: 411, target: 450, startedAt: 11), .caughtUp(height: 449, startedAt: 11),
        ])
        #expect(progress.startedAt == nil)
        // A later catch-up starts its own count.
        #expect(progress.committed(height: 461, target: 700) == .behind(height: 461, target: 700, startedAt: 461))
    }

    @Test func anUnknownTargetNeitherReportsNorEndsACatchUp() {
        var progress = SyncProgress()
        #expect(progress.committed(height: 5, target: 50) == .behind(height: 5, target: 50, startedAt: 5))
        // No peer report (e.g. peers reconnecting): no line, and the catch-up is not declared over.
        #expect(progress.committed(height: 6, target: nil) == nil)
        #expect(progress.startedAt == 5)
        #expect(progress.committed(height: 49, target: 50) == .caughtUp(height: 49, startedAt: 5))
    }
}
