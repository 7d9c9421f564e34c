// WalkedTreeCommitsTests.swift — the node's warning when its store committed a block's tree by the walk instead of the
// recorded positions (`WalkedTreeCommits`): logged the first time, then at most once per `logEvery` more, never per block.
import Testing
@testable import TrellisNode

@Suite struct WalkedTreeCommitsTests {
    @Test func logsTheFirstWalkedCommitThenAtMostOncePerLogEvery() {
        var log = WalkedTreeCommits()
        let every = WalkedTreeCommits.logEvery
        let none = log.shouldLog(total: 0), first = log.shouldLog(total: 1), again = log.shouldLog(total: 1)
        #expect(!none, "nothing walked, nothing logged")
        #expect(first)
        #expect(!again, "the same total again (a commit that took the positions)")
        // A walk on every block after it: one line per `logEvery` blocks.
        var lines = 0
        for total in 2...(1 + 3 * every) {
            if log.shouldLog(total: total) { lines += 1 }
        }
        #expect(lines == 3)
        #expect(log.logged == 1 + 3 * every)
        // A jump (many walked commits between two checks) logs once.
        let jump = log.shouldLog(total: 10 * every), next = log.shouldLog(total: 10 * every + 1)
        #expect(jump && !next)
    }
}
