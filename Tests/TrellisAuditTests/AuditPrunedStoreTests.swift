// AuditPrunedStoreTests.swift — exporting from a node's store that pruned old state (its proof window) still
// names every validator-set change, exactly as from an archive.
import Foundation
import Testing
import TrellisLedger
@testable import TrellisAudit

@Suite struct AuditPrunedStoreTests {
    @Test func validatorSetChangesReadTheSameFromAPrunedStore() throws {
        let path = try temporaryDirectory("audit-pruned") + "/data"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let pruned = try AuditTestChain.build(store: try RocksChainStore(path: path, retention: .window(heights: 2)))
        let archive = try AuditTestChain.build()
        let last = pruned.engine.currentHeight
        #expect(last == archive.engine.currentHeight && last > 3)
        #expect(try pruned.store.oldestStateHeight() == last - 1)  // the early heights really are pruned
        let fromPruned = StoreChainSource(genesis: pruned.genesis, store: pruned.store)
        let fromArchive = StoreChainSource(genesis: archive.genesis, store: archive.store)
        var changes = 0
        for h in 0..<last {
            let a = try fromArchive.validatorSetChange(afterHeight: h)
            #expect(try fromPruned.validatorSetChange(afterHeight: h) == a, "height \(h)")
            if a != nil { changes += 1 }
        }
        #expect(changes == 1)
    }
}
