// ReceivablesAttackTests.swift — DOMAIN.md §D attacks on supply-chain finance (1–6, 10): each is rejected with
// its specific code and leaves the state byte-for-byte unchanged. (Replays by nonce, chain id and expiry height
// are the executor's checks, tested with it; the role checks it shares with this harness are tested here.)
import Testing
@testable import TrellisLedger

@Suite struct ReceivablesAttackTests {
    let day = ContractHarness.day

    @Test func d1SplitsThatDoNotSumExactlyOrHaveAZeroOutput() throws {
        let h = try ContractHarness.receivablesWorld()
        let root = try h.issueAccepted(face: 1_000, invoices: ["INV-D1"])
        try h.rejects("split_sum_mismatch", "certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "sup2", amount: 600), SplitOutput(to: "sup1", amount: 401)]), by: "sup1")
        try h.rejects("split_sum_mismatch", "certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "sup2", amount: 600), SplitOutput(to: "sup1", amount: 399)]), by: "sup1")
        try h.rejects("zero_amount", "certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "sup2", amount: 1_000), SplitOutput(to: "sup1", amount: 0)]), by: "sup1")
        try h.rejects("missing_field", "certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: []), by: "sup1")
        try h.rejects("amount_overflow", "certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "sup2", amount: UInt64.max), SplitOutput(to: "sup1", amount: 1_001)]), by: "sup1")
    }

    @Test func d2DoubleSpendOfACertificate() throws {
        let h = try ContractHarness.receivablesWorld()
        let root = try h.issueAccepted(face: 1_000, invoices: ["INV-D2"])
        try h.ok("certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "sup2", amount: 1_000)]), by: "sup1")
        // Same block (same height) and a later block: the input is consumed either way.
        try h.rejects("certificate_not_active", "certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "sup3", amount: 1_000)]), by: "sup1")
        h.advance(seconds: 60)
        try h.rejects("certificate_not_active", "certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "sup3", amount: 1_000)]), by: "sup1")
        try h.rejects("certificate_not_active", "financing.request", FinancingRequestPayload(certID: root, financier: "bank1", advance: 1, rateBps: 0, kind: .pledge, recourse: false), by: "sup1")
    }

    @Test func d3MovingFinancedOrPledgedAndFinancingTwice() throws {
        let h = try ContractHarness.receivablesWorld()
        let pledged = try h.issueAccepted(face: 1_000, invoices: ["INV-D3a"])
        let pledge = try #require(try h.ok("financing.request", FinancingRequestPayload(certID: pledged, financier: "bank1", advance: 900, rateBps: 100, kind: .pledge, recourse: true), by: "sup1").first)
        // While only requested, the piece is already locked and cannot be financed elsewhere.
        try h.rejects("financing_open", "certificate.split_transfer", CertificateSplitTransferPayload(certID: pledged, outputs: [SplitOutput(to: "sup2", amount: 1_000)]), by: "sup1")
        try h.rejects("already_financed", "financing.request", FinancingRequestPayload(certID: pledged, financier: "bank2", advance: 900, rateBps: 100, kind: .factoring, recourse: false), by: "sup1")
        try h.rejects("not_financier", "financing.approve", FinancingRefPayload(finID: pledge), by: "bank2")
        try h.ok("financing.approve", FinancingRefPayload(finID: pledge), by: "bank1")
        try h.rejects("financing_not_requested", "financing.approve", FinancingRefPayload(finID: pledge), by: "bank1")
        try h.rejects("certificate_financed", "certificate.split_transfer", CertificateSplitTransferPayload(certID: pledged, outputs: [SplitOutput(to: "sup2", amount: 1_000)]), by: "sup1")
        try h.rejects("already_financed", "financing.request", FinancingRequestPayload(certID: pledged, financier: "bank2", advance: 500, rateBps: 100, kind: .pledge, recourse: false), by: "sup1")

        let factored = try h.issueAccepted(face: 2_000, invoices: ["INV-D3b"])
        try h.rejects("advance_exceeds_face", "financing.request", FinancingRequestPayload(certID: factored, financier: "bank2", advance: 2_001, rateBps: 100, kind: .factoring, recourse: false), by: "sup1")
        let factoring = try #require(try h.ok("financing.request", FinancingRequestPayload(certID: factored, financier: "bank2", advance: 1_900, rateBps: 100, kind: .factoring, recourse: false), by: "sup1").first)
        try h.ok("financing.approve", FinancingRefPayload(finID: factoring), by: "bank2")
        try h.rejects("not_holder", "certificate.split_transfer", CertificateSplitTransferPayload(certID: factored, outputs: [SplitOutput(to: "sup2", amount: 2_000)]), by: "sup1")
        try h.rejects("certificate_financed", "certificate.split_transfer", CertificateSplitTransferPayload(certID: factored, outputs: [SplitOutput(to: "sup2", amount: 2_000)]), by: "bank2")
        try h.rejects("already_financed", "financing.request", FinancingRequestPayload(certID: factored, financier: "bank1", advance: 100, rateBps: 100, kind: .pledge, recourse: false), by: "bank2")
        try h.rejects("not_pledge", "financing.release", FinancingRefPayload(finID: factoring), by: "bank2")
    }

    @Test func d4TransferAfterMaturityAndChildrenKeepTheRootMaturity() throws {
        let h = try ContractHarness.receivablesWorld()
        let root = try h.issueAccepted(face: 1_000, maturityDays: 10, invoices: ["INV-D4"])
        let children = try h.ok("certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "sup1", amount: 300), SplitOutput(to: "sup1", amount: 700)]), by: "sup1")
        for id in children { #expect(try h.certificate(id).maturity == (try h.certificate(root)).maturity) }
        h.advance(seconds: 10 * day)
        try h.rejects("after_maturity", "certificate.split_transfer", CertificateSplitTransferPayload(certID: children[0], outputs: [SplitOutput(to: "sup2", amount: 300)]), by: "sup1")
        try h.rejects("after_maturity", "financing.request", FinancingRequestPayload(certID: children[1], financier: "bank1", advance: 10, rateBps: 1, kind: .pledge, recourse: false), by: "sup1")
        // The payload has no maturity field for children: a child with another maturity cannot even be expressed.
        #expect(try h.receivablesViolations() == [])
    }

    @Test func d5IndexedInvoiceCreditLineAndMaximumMaturity() throws {
        let h = try ContractHarness.receivablesWorld()
        _ = try h.issueAccepted(face: 1_000, invoices: ["INV-D5"])
        func issue(face: UInt64, maturity: Int64, invoices: [String], line: String = "line1") -> CertificateIssuePayload {
            CertificateIssuePayload(creditLineID: line, holder: "sup1", face: face, maturity: maturity, tradeRef: h.tradeRef(invoices))
        }
        try h.rejects("invoice_already_indexed", "certificate.issue", issue(face: 1, maturity: h.time + day, invoices: ["INV-NEW", "INV-D5"]), by: "core1")
        try h.rejects("duplicate_entry", "certificate.issue", issue(face: 1, maturity: h.time + day, invoices: ["INV-X", "INV-X"]), by: "core1")
        try h.rejects("credit_line_exceeded", "certificate.issue", issue(face: 999_001, maturity: h.time + day, invoices: ["INV-BIG"]), by: "core1")
        try h.ok("certificate.issue", issue(face: 999_000, maturity: h.time + day, invoices: ["INV-EXACT"]), by: "core1")
        try h.rejects("credit_line_exceeded", "certificate.issue", issue(face: 1, maturity: h.time + day, invoices: ["INV-ONE"]), by: "core1")
        try h.rejects("amount_overflow", "certificate.issue", issue(face: UInt64.max, maturity: h.time + day, invoices: ["INV-MAX"]), by: "core1")

        let h2 = try ContractHarness.receivablesWorld()
        let max = h2.time + h2.parameters.maxMaturitySeconds
        try h2.rejects("maturity_too_far", "certificate.issue", CertificateIssuePayload(creditLineID: "line1", holder: "sup1", face: 1, maturity: max + 1, tradeRef: h2.tradeRef(["INV-M"])), by: "core1")
        try h2.rejects("maturity_in_past", "certificate.issue", CertificateIssuePayload(creditLineID: "line1", holder: "sup1", face: 1, maturity: h2.time, tradeRef: h2.tradeRef(["INV-M"])), by: "core1")
        try h2.rejects("zero_amount", "certificate.issue", CertificateIssuePayload(creditLineID: "line1", holder: "sup1", face: 0, maturity: max, tradeRef: h2.tradeRef(["INV-M"])), by: "core1")
        try h2.rejects("not_credit_line_core", "certificate.issue", CertificateIssuePayload(creditLineID: "line1", holder: "sup1", face: 1, maturity: max, tradeRef: h2.tradeRef(["INV-M"])), by: "core2")
        try h2.rejects("role_not_allowed", "certificate.issue", CertificateIssuePayload(creditLineID: "line1", holder: "bank1", face: 1, maturity: max, tradeRef: h2.tradeRef(["INV-M"])), by: "core1")
        try h2.ok("certificate.issue", CertificateIssuePayload(creditLineID: "line1", holder: "sup1", face: 1, maturity: max, tradeRef: h2.tradeRef(["INV-M"])), by: "core1")
    }

    @Test func d5CreditLineNeedsTheCoreCosignature() throws {
        let h = try ContractHarness.receivablesWorld()
        try h.rejects("missing_cosignature", "credit_line.set", CreditLineSetPayload(lineID: "line2", core: "core2", limit: 10, expiry: h.time + day), by: "bank1")
        try h.rejects("missing_cosignature", "credit_line.set", CreditLineSetPayload(lineID: "line2", core: "core2", limit: 10, expiry: h.time + day), by: "bank1", cosigners: ["core1"])
        try h.rejects("not_line_financier", "credit_line.set", CreditLineSetPayload(lineID: "line1", core: "core1", limit: 10_000_000, expiry: h.time + day), by: "bank2", cosigners: ["core1"])
        try h.ok("credit_line.set", CreditLineSetPayload(lineID: "line2", core: "core2", limit: 10, expiry: h.time + day), by: "bank1", cosigners: ["core2"])
    }

    @Test func d6RolesSubmittingKindsTheyMayNot() throws {
        let h = try ContractHarness.receivablesWorld()
        let root = try h.issueAccepted(face: 1_000, invoices: ["INV-D6"])
        try h.rejects("role_not_allowed", "certificate.issue", CertificateIssuePayload(creditLineID: "line1", holder: "sup2", face: 1, maturity: h.time + day, tradeRef: h.tradeRef(["INV-D6b"])), by: "sup1")
        try h.rejects("role_not_allowed", "credit_line.set", CreditLineSetPayload(lineID: "l9", core: "core1", limit: 1, expiry: h.time + day), by: "core1", cosigners: ["core1"])
        try h.rejects("role_not_allowed", "certificate.settle", RootRefPayload(rootID: root), by: "sup1")
        try h.rejects("role_not_allowed", "financing.approve", FinancingRefPayload(finID: "fin-x"), by: "core1")
        try h.rejects("role_not_allowed", "asset.freeze", AssetFreezePayload(assetType: .certificate, assetID: root, reason: "x"), by: "gov1")
    }

    @Test func d10SuspendedRevokedMembersAndRegulatorsMovingAssets() throws {
        let h = try ContractHarness.receivablesWorld()
        let root = try h.issueAccepted(face: 1_000, invoices: ["INV-D10"])
        try h.rejects("member_not_active", "certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "susp", amount: 1_000)]), by: "sup1")
        try h.rejects("member_not_active", "certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "revoked", amount: 1_000)]), by: "sup1")
        try h.rejects("unknown_member", "certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "nobody", amount: 1_000)]), by: "sup1")
        try h.rejects("role_not_allowed", "certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "reg1", amount: 1_000)]), by: "sup1")
        try h.rejects("member_not_active", "certificate.issue", CertificateIssuePayload(creditLineID: "line1", holder: "susp", face: 1, maturity: h.time + day, tradeRef: h.tradeRef(["INV-S"])), by: "core1")
        try h.rejects("signer_not_active", "certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "sup2", amount: 1_000)]), by: "susp")
        // The regulator may freeze but never move: it holds no role that may split, accept or finance.
        try h.rejects("role_not_allowed", "certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "sup2", amount: 1_000)]), by: "reg1")
        try h.rejects("role_not_allowed", "financing.request", FinancingRequestPayload(certID: root, financier: "bank1", advance: 1, rateBps: 1, kind: .pledge, recourse: false), by: "reg1")
        try h.rejects("role_not_allowed", "certificate.settle", RootRefPayload(rootID: root), by: "reg1")
        // A regulator that is also a supplier still cannot move someone else's piece.
        h.putMember("reg2", [.regulator, .supplier])
        try h.rejects("not_holder", "certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "reg2", amount: 1_000)]), by: "reg2")
    }
}
