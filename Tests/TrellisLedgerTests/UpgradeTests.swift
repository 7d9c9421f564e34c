// UpgradeTests.swift — rule versions activated at a height: `upgrade.schedule` and each of its rejections, the
// header's app_version switching exactly at the activation height, old blocks replaying under old rules after a
// restart, a version this build does not support stopping execution at its activation height, and version 2's
// paged settlement against version 1's all-at-once settlement.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

@Suite struct UpgradeTests {
    /// A chain with quorum 1 (a proposal executes at once) and `min_upgrade_lead_blocks` = 3.
    func chain() throws -> TestChain {
        let chain = try TestChain(net: TestNet(quorum: 1))
        let params = Parameters(governanceQuorum: 1, proposalTTLBlocks: 100, maxTxLifetimeBlocks: 50, minUpgradeLeadBlocks: 3)
        #expect(try chain.commitNext([TestNet.propose("gov1", .setParameters(params), nonce: 1)]).receipts[0].isOK)
        return chain
    }

    func schedule(_ chain: TestChain, version: UInt32, at height: UInt64, nonce: UInt64, by governor: String = "gov2") throws -> Receipt {
        try chain.commitNext([TestNet.propose(governor, .scheduleUpgrade(version: version, activationHeight: height, description: "v\(version)"), nonce: nonce)]).receipts[0]
    }

    @Test func everyRejectionOfUpgradeSchedule() throws {
        let chain = try chain()  // height 1
        // Blocks at height 2, 3, …: each schedule attempt is one block.
        #expect(try schedule(chain, version: 2, at: 1, nonce: 1).rejectionCode == "activation_in_past")  // h2
        #expect(try schedule(chain, version: 2, at: 3, nonce: 2).rejectionCode == "activation_in_past")  // h3: not after 3
        #expect(try schedule(chain, version: 2, at: 6, nonce: 3).rejectionCode == "activation_too_soon")  // h4: earliest 7
        #expect(try schedule(chain, version: 3, at: 20, nonce: 4).rejectionCode == "unknown_version")  // h5: next is 2
        #expect(try schedule(chain, version: 7, at: 20, nonce: 5).rejectionCode == "unknown_version")  // h6
        #expect(try schedule(chain, version: 1, at: 20, nonce: 6).rejectionCode == "unknown_version")  // h7: stateless
        #expect(try schedule(chain, version: 2, at: 20, nonce: 7).isOK)  // h8
        #expect(try schedule(chain, version: 3, at: 20, nonce: 8).rejectionCode == "upgrade_height_taken")  // h9
        #expect(try schedule(chain, version: 2, at: 30, nonce: 9).rejectionCode == "unknown_version")  // h10: 2 is scheduled, next is 3
        #expect(try schedule(chain, version: 3, at: 15, nonce: 10).rejectionCode == "activation_out_of_order")  // h11
        #expect(try schedule(chain, version: 3, at: UInt64.max, nonce: 11).isOK)  // h12
        let upgrades = try RulesSchedule.all(in: CommittedState(store: chain.store))
        #expect(upgrades.map(\.version) == [2, 3])
        #expect(upgrades.map(\.activationHeight) == [20, UInt64.max])
        // An empty description is refused before the state is read.
        let noDescription = try chain.commitNext([TestNet.propose("gov2", .scheduleUpgrade(version: 4, activationHeight: 40, description: ""), nonce: 12)]).receipts[0]
        #expect(noDescription.rejectionCode == "missing_field")
    }

    @Test func appVersionSwitchesExactlyAtTheActivationHeightAndOldBlocksReplayUnderOldRules() throws {
        let chain = try chain()  // height 1
        #expect(try schedule(chain, version: 2, at: 6, nonce: 1).isOK)  // height 2 (earliest 5)
        var versions: [UInt64: UInt32] = [:]
        while chain.engine.currentHeight < 8 {
            let block = try chain.commitNext([]).block
            versions[block.header.height] = block.header.appVersion
        }
        #expect(versions == [3: 1, 4: 1, 5: 1, 6: 2, 7: 2, 8: 2])
        // A header claiming the wrong version is refused by validators.
        var built = try chain.makeBlock([]).block
        built.header.appVersion = 1
        #expect(throws: LedgerError.self) { try chain.engine.validate(built) }
        // Restart: the engine reads the schedule from the store; the next block is still version 2.
        try chain.reopen()
        #expect(try chain.commitNext([]).block.header.appVersion == 2)
    }

    @Test func aVersionThisBuildDoesNotSupportStopsExecutionAtItsActivationHeight() throws {
        let chain = try chain()  // height 1
        // Versions are consecutive: schedule every supported one after 1, then the first this build lacks. The one
        // scheduled at height 2 + i activates at 5 + i (min_upgrade_lead_blocks 3).
        let unsupported = RuleVersions.supported.upperBound + 1
        for (i, version) in (2...unsupported).enumerated() {
            #expect(try schedule(chain, version: version, at: UInt64(5 + i), nonce: UInt64(i + 1)).isOK)
        }
        let activation = UInt64(5 + Int(unsupported) - 2)
        while chain.engine.currentHeight < activation - 1 { try chain.commitNext([]) }
        #expect(chain.engine.currentHeight == activation - 1)
        do {
            _ = try chain.makeBlock([])
            Issue.record("block \(activation) was built under rules version \(unsupported), which this build does not have")
        } catch let error as LedgerError {
            #expect(error == .execution(.unsupportedRules(version: unsupported, height: activation)))
            #expect(error.description.contains("rules version \(unsupported)") && error.description.contains("height \(activation)"), "\(error)")
        }
        #expect(chain.engine.currentHeight == activation - 1, "nothing was committed at the activation height")
    }

    // MARK: version 2: no whole transfer to oneself

    @Test func version2RefusesAWholeSplitTransferToItsOwnHolder() throws {
        for version: UInt32 in [1, 2] {
            let h = try ContractHarness.receivablesWorld()
            h.rulesVersion = version
            let root = try #require(try h.ok("certificate.issue", CertificateIssuePayload(creditLineID: "line1", holder: "sup1", face: 1_000, maturity: h.time + 30 * ContractHarness.day, tradeRef: h.tradeRef(["INV-S"])), by: "core1").first)
            try h.ok("certificate.accept", CertificateRefPayload(certID: root), by: "sup1")
            let toSelf = CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "sup1", amount: 1_000)])
            if version == 1 {
                // Version 1 (replayed as it was): the piece is consumed and re-issued under a new id to the same holder.
                let children = try h.ok("certificate.split_transfer", toSelf, by: "sup1")
                #expect(children.count == 1)
                #expect(try h.certificate(root).status == .consumed)
                #expect(try h.certificate(#require(children.first)).holder == "sup1")
            } else {
                try h.rejects("self_transfer", "certificate.split_transfer", toSelf, by: "sup1")
                #expect(try h.certificate(root).status == .active, "a refused self-transfer changed the piece")
                // Splitting into several pieces kept by the holder is still a real change, and allowed.
                let pieces = try h.ok("certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "sup1", amount: 400), SplitOutput(to: "sup1", amount: 600)]), by: "sup1")
                #expect(pieces.count == 2)
            }
        }
    }

    // MARK: version 2: paged settlement

    /// A root of `pieces` live pieces held by sup1 (split into 64 outputs per split), at maturity.
    func rootWithPieces(_ h: ContractHarness, pieces: Int) throws -> String {
        let root = try #require(try h.ok("certificate.issue", CertificateIssuePayload(creditLineID: "line1", holder: "sup1", face: UInt64(pieces) * 100, maturity: h.time + 30 * ContractHarness.day, tradeRef: h.tradeRef(["INV-P"])), by: "core1").first)
        try h.ok("certificate.accept", CertificateRefPayload(certID: root), by: "sup1")
        var remainder = root
        var left = pieces
        while left > 1 {
            let n = min(left, 64)
            let outputs = (0..<n).map { i in SplitOutput(to: "sup1", amount: i == n - 1 ? UInt64(left - n + 1) * 100 : 100) }
            let children = try h.ok("certificate.split_transfer", CertificateSplitTransferPayload(certID: remainder, outputs: outputs), by: "sup1")
            remainder = try #require(children.last)
            left -= n - 1
        }
        h.advance(seconds: 31 * ContractHarness.day)
        return root
    }

    @Test func version2SettlesALargeRootInPagesAndVersion1CannotSettleIt() throws {
        for version: UInt32 in [1, 2] {
            let h = try ContractHarness.receivablesWorld()
            h.rulesVersion = version
            let root = try rootWithPieces(h, pieces: 300)
            let lineage = try #require(try ReceivablesQueries.lineage(certID: root, in: h.state))
            #expect(lineage.liveLeaves.count == 300)
            if version == 1 {
                // One transaction would pay (and list) 300 pieces: more than a receipt may list; the executor
                // rejects it as internal on every node — here the contract's answer is checked directly.
                let ids = try h.ok("certificate.settle", RootRefPayload(rootID: root), by: "clear1")
                #expect(ids.count == 300, "version 1 pays everything at once")
                continue
            }
            var pages: [Int] = []
            while try h.state.read(CertificateRoot.self, ReceivablesKeys.root(root))?.status != .settled {
                let ids = try h.ok("certificate.settle", RootRefPayload(rootID: root), by: "clear1")
                pages.append(ids.count)
                #expect(try h.receivablesViolations() == [], "after page \(pages.count)")
                if pages.count > 10 { break }
            }
            #expect(pages == [64, 64, 64, 64, 44])
            let settled = try #require(try h.state.read(CertificateRoot.self, ReceivablesKeys.root(root)))
            #expect(settled.payouts.count == 300)
            #expect(settled.payouts.reduce(0) { $0 + $1.amount } == 30_000)
            #expect(try h.state.read(CreditLine.self, ReceivablesKeys.creditLine("line1"))?.used == 0)
            try h.rejects("already_settled", "certificate.settle", RootRefPayload(rootID: root), by: "clear1")
        }
    }

    @Test func version2MarkOverdueLeavesPaidPiecesSettled() throws {
        let h = try ContractHarness.receivablesWorld()
        h.rulesVersion = 2
        let root = try rootWithPieces(h, pieces: 100)
        #expect(try h.ok("certificate.settle", RootRefPayload(rootID: root), by: "clear1").count == 64)
        h.advance(seconds: 60 * ContractHarness.day)
        let marked = try h.ok("certificate.mark_overdue", RootRefPayload(rootID: root), by: "sup1")
        #expect(marked.count == 36)
        #expect(try h.receivablesViolations() == [])
        #expect(try h.ok("certificate.settle", RootRefPayload(rootID: root), by: "clear1").count == 36)
        #expect(try h.state.read(CertificateRoot.self, ReceivablesKeys.root(root))?.status == .settled)
    }
}
