// ReceivablesScenarioTests.swift — full supply-chain-finance paths: issue → accept → split to tier 2 → tier 3 →
// finance → settle, pledge release, reject and reclaim after the accept window, overdue, freeze; and what the
// lineage, holdings and exposure queries answer along the way.
import Foundation
import Testing
import TrellisCrypto
@testable import TrellisLedger

@Suite struct ReceivablesScenarioTests {
    @Test func issueSplitDownTheChainFinanceAndSettle() throws {
        let h = try ContractHarness.receivablesWorld()
        let issueIDs = try h.ok("certificate.issue", CertificateIssuePayload(creditLineID: "line1", holder: "sup1", face: 100_000, maturity: h.time + 90 * ContractHarness.day, tradeRef: h.tradeRef(["INV-1", "INV-2"])), by: "core1")
        let root = try #require(issueIDs.first)
        #expect(try h.certificate(root).status == .pendingAccept)
        #expect(try h.certificate(root).pendingTo == "sup1")
        #expect(try h.state.read(CreditLine.self, ReceivablesKeys.creditLine("line1"))?.used == 100_000)

        try h.ok("certificate.accept", CertificateRefPayload(certID: root), by: "sup1")
        #expect(try h.certificate(root).holder == "sup1")
        #expect(try h.certificate(root).status == .active)

        // Tier 1 → tier 2 (60,000) with a 40,000 remainder to self.
        h.advance(seconds: ContractHarness.day)
        let tier2 = try h.ok("certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "sup2", amount: 60_000), SplitOutput(to: "sup1", amount: 40_000)]), by: "sup1")
        #expect(tier2.count == 2)
        #expect(try h.certificate(root).status == .consumed)
        #expect(try h.certificate(tier2[0]).status == .pendingAccept)
        #expect(try h.certificate(tier2[1]).status == .active)
        try h.ok("certificate.accept", CertificateRefPayload(certID: tier2[0]), by: "sup2")

        // Tier 2 → tier 3.
        let tier3 = try h.ok("certificate.split_transfer", CertificateSplitTransferPayload(certID: tier2[0], outputs: [SplitOutput(to: "sup3", amount: 25_000), SplitOutput(to: "sup2", amount: 35_000)]), by: "sup2")
        try h.ok("certificate.accept", CertificateRefPayload(certID: tier3[0]), by: "sup3")
        let leaf3 = try h.certificate(tier3[0])
        #expect(leaf3.depth == 2)
        #expect(leaf3.maturity == (try h.certificate(root)).maturity)
        #expect(leaf3.debtor == "core1")
        #expect(leaf3.tradeRef.invoiceKeys == ["INV-1", "INV-2"])

        // Tier 3 factors its piece with bank1.
        let finID = try #require(try h.ok("financing.request", FinancingRequestPayload(certID: tier3[0], financier: "bank1", advance: 24_000, rateBps: 450, kind: .factoring, recourse: false), by: "sup3").first)
        try h.ok("financing.approve", FinancingRefPayload(finID: finID), by: "bank1")
        #expect(try h.certificate(tier3[0]).holder == "bank1")
        #expect(try h.certificate(tier3[0]).status == .financed)

        let exposure = try ReceivablesQueries.exposure(in: h.state)
        #expect(exposure.cores.map(\.core) == ["core1"])
        #expect(exposure.cores.first?.outstanding == 100_000)
        #expect(exposure.financiers.first?.factoredFace == 25_000)
        #expect(exposure.financiers.first?.advanced == 24_000)
        #expect(exposure.creditLines.first?.available == 900_000)

        let lineage = try #require(try ReceivablesQueries.lineage(certID: tier3[0], in: h.state))
        #expect(lineage.ancestors.map(\.certID) == [tier2[0], root])
        #expect(lineage.root.face == 100_000)
        #expect(lineage.financings.map(\.finID) == [finID])
        #expect(lineage.transactions.first?.event.kind == "certificate.issue")
        let rootLineage = try #require(try ReceivablesQueries.lineage(certID: root, in: h.state))
        #expect(Set(rootLineage.liveLeaves.map(\.certID)) == Set([tier2[1], tier3[0], tier3[1]]))
        #expect(rootLineage.liveLeaves.reduce(0) { $0 + $1.face } == 100_000)
        #expect(rootLineage.descendants.count == 4)

        // Settlement at maturity pays the live leaves: sup1 40,000, bank1 25,000, sup2 35,000.
        h.advance(seconds: 90 * ContractHarness.day)
        let paid = try h.ok("certificate.settle", RootRefPayload(rootID: root), by: "clear1")
        #expect(Set(paid) == Set([tier2[1], tier3[0], tier3[1]]))
        let settled = try #require(try h.state.read(CertificateRoot.self, ReceivablesKeys.root(root)))
        #expect(settled.status == .settled)
        #expect(settled.payouts.reduce(0) { $0 + $1.amount } == 100_000)
        #expect(settled.payouts.first { $0.certID == tier3[0] }?.to == "bank1")
        #expect(try h.state.read(CreditLine.self, ReceivablesKeys.creditLine("line1"))?.used == 0)
        #expect(try h.state.read(Financing.self, ReceivablesKeys.financing(finID))?.status == .settled)
        for id in paid { #expect(try h.certificate(id).status == .settled) }
        #expect(try h.receivablesViolations() == [])

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let exposureJSON = String(decoding: try encoder.encode(try ReceivablesQueries.exposure(in: h.state)), as: UTF8.self)
        #expect(exposureJSON.contains(#""credit_lines":[{"available":1000000,"line":{"core":"core1","expiry":"#))
        #expect(exposureJSON.contains(#""cores":[]"#))
        let lineageJSON = String(decoding: try encoder.encode(lineage), as: UTF8.self)
        #expect(lineageJSON.contains(#""live_leaves":["#) && lineageJSON.contains(#""tx_hash":""#) && lineageJSON.contains(#""rate_bps":450"#))

        let holdings = try ReceivablesQueries.holdings(member: "sup2", in: h.state)
        #expect(holdings.certificates.map(\.certID) == [tier3[1]])
        #expect(holdings.certificateTotals == [StatusTotal(status: "settled", count: 1, amount: 35_000)])
    }

    @Test func pledgeLocksThenReleaseFrees() throws {
        let h = try ContractHarness.receivablesWorld()
        let root = try h.issueAccepted(face: 50_000, invoices: ["INV-P"])
        let finID = try #require(try h.ok("financing.request", FinancingRequestPayload(certID: root, financier: "bank2", advance: 40_000, rateBps: 300, kind: .pledge, recourse: true), by: "sup1").first)
        try h.ok("financing.approve", FinancingRefPayload(finID: finID), by: "bank2")
        #expect(try h.certificate(root).status == .pledged)
        #expect(try h.certificate(root).holder == "sup1")
        try h.rejects("certificate_financed", "certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "sup2", amount: 50_000)]), by: "sup1")
        try h.rejects("not_financier", "financing.release", FinancingRefPayload(finID: finID), by: "bank1")
        try h.ok("financing.repay", FinancingRefPayload(finID: finID), by: "bank2")
        #expect(try h.certificate(root).status == .active)
        #expect(try h.state.read(Financing.self, ReceivablesKeys.financing(finID))?.status == .repaid)
        try h.ok("certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "sup2", amount: 50_000)]), by: "sup1")
        #expect(try h.receivablesViolations() == [])
    }

    @Test func rejectedRootReleasesTheCreditLineAndKeepsTheInvoiceIndexed() throws {
        let h = try ContractHarness.receivablesWorld()
        let root = try #require(try h.ok("certificate.issue", CertificateIssuePayload(creditLineID: "line1", holder: "sup1", face: 10_000, maturity: h.time + 30 * ContractHarness.day, tradeRef: h.tradeRef(["INV-R"])), by: "core1").first)
        try h.rejects("not_recipient", "certificate.reject", CertificateRejectPayload(certID: root, reason: "not mine"), by: "sup2")
        try h.ok("certificate.reject", CertificateRejectPayload(certID: root, reason: "wrong amount"), by: "sup1")
        #expect(try h.certificate(root).status == .rejected)
        #expect(try h.state.read(CreditLine.self, ReceivablesKeys.creditLine("line1"))?.used == 0)
        try h.rejects("invoice_already_indexed", "certificate.issue", CertificateIssuePayload(creditLineID: "line1", holder: "sup1", face: 10_000, maturity: h.time + 30 * ContractHarness.day, tradeRef: h.tradeRef(["INV-R"])), by: "core1")
        #expect(try h.receivablesViolations() == [])
    }

    @Test func unacceptedTransferReturnsToTheSenderAfterTheWindow() throws {
        let h = try ContractHarness.receivablesWorld()
        let root = try h.issueAccepted(face: 30_000, invoices: ["INV-W"])
        let child = try #require(try h.ok("certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "sup2", amount: 30_000)]), by: "sup1").first)
        try h.rejects("accept_window_open", "certificate.reclaim", CertificateRefPayload(certID: child), by: "sup1")
        h.advance(seconds: h.parameters.acceptWindowSeconds)
        try h.rejects("accept_window_expired", "certificate.accept", CertificateRefPayload(certID: child), by: "sup2")
        try h.rejects("not_holder", "certificate.reclaim", CertificateRefPayload(certID: child), by: "sup2")
        try h.ok("certificate.reclaim", CertificateRefPayload(certID: child), by: "sup1")
        let returned = try h.certificate(child)
        #expect(returned.status == .active)
        #expect(returned.holder == "sup1")
        #expect(returned.pendingTo == nil)
        #expect(try h.receivablesViolations() == [])
    }

    @Test func overdueAfterGraceThenLateSettlement() throws {
        let h = try ContractHarness.receivablesWorld()
        let root = try h.issueAccepted(face: 20_000, maturityDays: 10, invoices: ["INV-O"])
        h.advance(seconds: 10 * ContractHarness.day)
        try h.rejects("not_overdue_yet", "certificate.mark_overdue", RootRefPayload(rootID: root), by: "sup2")
        h.advance(seconds: h.parameters.gracePeriodSeconds)
        try h.ok("certificate.mark_overdue", RootRefPayload(rootID: root), by: "sup2")
        #expect(try h.certificate(root).status == .overdue)
        try h.rejects("already_overdue", "certificate.mark_overdue", RootRefPayload(rootID: root), by: "sup2")
        #expect(try ReceivablesQueries.exposure(in: h.state).cores.first?.overdue == 20_000)
        try h.rejects("not_debtor", "certificate.settle", RootRefPayload(rootID: root), by: "core2")
        try h.ok("certificate.settle", RootRefPayload(rootID: root), by: "core1")
        #expect(try h.certificate(root).status == .settled)
        try h.rejects("already_settled", "certificate.settle", RootRefPayload(rootID: root), by: "clear1")
        #expect(try h.receivablesViolations() == [])
    }

    @Test func regulatorFreezeBlocksMovesAndSettlementUntilUnfrozen() throws {
        let h = try ContractHarness.receivablesWorld()
        let root = try h.issueAccepted(face: 8_000, maturityDays: 5, invoices: ["INV-F"])
        try h.rejects("role_not_allowed", "asset.freeze", AssetFreezePayload(assetType: .certificate, assetID: root, reason: "court order"), by: "sup2")
        try h.ok("asset.freeze", AssetFreezePayload(assetType: .certificate, assetID: root, reason: "court order"), by: "reg1")
        try h.rejects("already_frozen", "asset.freeze", AssetFreezePayload(assetType: .certificate, assetID: root, reason: "again"), by: "reg1")
        try h.rejects("asset_frozen", "certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "sup2", amount: 8_000)]), by: "sup1")
        try h.rejects("asset_frozen", "financing.request", FinancingRequestPayload(certID: root, financier: "bank1", advance: 1, rateBps: 1, kind: .pledge, recourse: false), by: "sup1")
        h.advance(seconds: 5 * ContractHarness.day)
        try h.rejects("asset_frozen", "certificate.settle", RootRefPayload(rootID: root), by: "clear1")
        try h.ok("asset.unfreeze", AssetFreezePayload(assetType: .certificate, assetID: root, reason: "lifted"), by: "reg1")
        #expect(try h.certificate(root).status == .active)
        try h.ok("certificate.settle", RootRefPayload(rootID: root), by: "clear1")
        #expect(try h.receivablesViolations() == [])
    }
}
