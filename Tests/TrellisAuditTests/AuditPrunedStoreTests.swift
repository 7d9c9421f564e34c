// AuditPrunedStoreTests.swift — exporting from a node's store that pruned old state (its proof window) still
// names every validator-set change, exactly as from an archive; and what an export, a light client and a report
// read from a store's latest state comes from its flat column family, never a walk through the tree.
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

    /// Per exported height the validator schedule was read by a prefix scan through that height's tree (or, pruned,
    /// the latest one): every node of the tree, once per height. The schedule's keys are final two heights on, so the
    /// flat latest state answers the same, with no tree node looked up.
    @Test func exportLightAndReportReadsLookUpNoTreeNode() throws {
        let path = try temporaryDirectory("audit-flat") + "/data"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RocksChainStore(path: path, retention: .window(heights: 2))
        let chain = try AuditTestChain.build(store: store)
        let source = StoreChainSource(genesis: chain.genesis, store: store)
        let last = chain.engine.currentHeight
        let walk = store.latestTreeNodesLookedUp
        _ = try ValidatorSchedule.set(forHeight: last, in: source.reader.state().reader)
        #expect(store.latestTreeNodesLookedUp > walk, "the counter does not see a walk through the tree")

        let before = store.latestTreeNodesLookedUp
        var changes = 0
        for h in 0..<last where try source.validatorSetChange(afterHeight: h) != nil { changes += 1 }
        for h in 1...last { _ = try source.lightBlock(atHeight: h) }
        let report = try ReportState(home: source)
        #expect(try Reports.lineage(chain.certChildren[0], in: report).result.ancestors.map(\.certID) == [chain.certRoot])
        _ = try Reports.provenance("150", program: "CCER", in: report)
        #expect(store.latestTreeNodesLookedUp == before, "\(store.latestTreeNodesLookedUp - before) tree nodes looked up")
        #expect(changes == 1)
        #expect(report.height == last && report.stateRoot == chain.engine.stateRoot)
    }

}
