// PruneCrashTests.swift — kill -9 while a store prunes: every commit past the window prunes in its own synced
// batch, so a process killed at any moment leaves a store that opens, keeps exactly its window, and verifies (every
// kept root's nodes present and hashing to their ids, every value readable, the flat state equal to the tree).
import Foundation
import Testing
import TrellisLedger
import TrellisTesting
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct PruneCrashTests {
    /// Reads the process's stdout until it reports `committed N` with N ≥ `height`; false on EOF or deadline.
    func waitForCommitted(_ running: CLI.Running, height: UInt64, budgetSeconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(budgetSeconds)
        var text = ""
        while Date() < deadline {
            let data = PipeRead.available(running.out)
            if data.isEmpty { return false }  // EOF: the process ended
            text += String(decoding: data, as: UTF8.self)
            let heights = text.split(separator: "\n").compactMap { line -> UInt64? in
                line.hasPrefix("committed ") ? UInt64(line.dropFirst("committed ".count)) : nil
            }
            if let last = heights.last, last >= height { return true }
        }
        return false
    }

    @Test func killNineDuringPruningLeavesAStoreThatOpensAndVerifies() async throws {
        try await OwnThread.run { try killNineDuringPruningLeavesAStoreThatOpensAndVerifiesBody() }
    }

    /// The test, synchronous (it blocks on processes): run on a thread of its own by `OwnThread`.
    func killNineDuringPruningLeavesAStoreThatOpensAndVerifiesBody() throws {
        let root = CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        for (round, target) in [6, 13, 21].enumerated() {
            let dir = root + "/store-\(round)"
            let running = try CLI.launch(CLI.binary, ["bench", "ledger", "--transactions", "1", "--blocks", "100000", "--per-block", "\(10 + 7 * round)",
                                                      "--proof-history-heights", "2", "--dir", dir, "--progress"])
            let reached = waitForCommitted(running, height: UInt64(target), budgetSeconds: 300)
            running.process.send(SIGKILL)
            running.process.waitUntilExit()
            #expect(reached, "the benchmark never reported height \(target)")
            guard reached else { return }
            let store = try RocksChainStore(path: dir, retention: .window(heights: 2))
            let last = try #require(try store.lastHeight())
            #expect(last >= UInt64(target))
            // The window, and nothing else, is kept (a commit and its prune are one batch).
            #expect(try store.oldestStateHeight() == last - 1)
            let check = try store.checkState()
            #expect(check.heights == (last - 1)...last)
            #expect(try store.storageStats().treePages == check.pages)  // the latest tree and no other node
            #expect(check.unneededHistoryEntries == 0)  // no history entry outside the window survived
            #expect(try store.stateRoot(atHeight: last) == (try store.block(atHeight: last))?.header.stateRoot)
        }
    }
}
