// ArithmeticRegressionTests.swift — the hostile-input findings of issue 14 on the contracts, each a named
// regression: values at the edge of their integer types are rejected with a typed code (or handled exactly), never
// trapped; settlement never pays through a financing that was only requested; exposure and supply totals are exact.
import Foundation
import Testing
import TrellisCodec
@testable import TrellisLedger

@Suite struct ArithmeticRegressionTests {
    let day = ContractHarness.day

    /// A project crediting over `[start, end)` and one verification of `[periodStart, now)` for `quantity`; returns
    /// the verification id.
    func verified(_ h: ContractHarness, _ id: String, quantity: UInt64, start: Int64? = nil, periodStart: Int64? = nil) throws -> String {
        try h.ok("project.register", h.projectPayload(id, devices: ["dev-\(id)"], location: "site-\(id)", start: start ?? h.time - 365 * day, end: h.time + 365 * day), by: "prop1", cosigners: ["registry"])
        let submit = VerificationSubmitPayload(projectID: id, periodStart: periodStart ?? h.time - 30 * day, periodEnd: h.time, quantity: quantity, reportHash: ContractHarness.hash("report-\(id)"))
        return try #require(try h.ok("verification.submit", submit, by: "ver1").first)
    }

    /// Issue 14 finding 1a: `credits.issue` whose last serial would be 2⁶⁴−1 trapped in `serialStart + quantity − 1`.
    @Test func issueWhoseLastSerialReachesTheTopOfUInt64IsRejected() throws {
        let h = try ContractHarness.greenWorld()
        let all = try verified(h, "p-max", quantity: UInt64.max)
        try h.rejects("serial_overflow", "credits.issue", CreditsIssuePayload(verificationID: all, quantity: UInt64.max), by: "registry")
        try h.rejects("serial_overflow", "credits.issue", CreditsIssuePayload(verificationID: all, quantity: UInt64.max, bufferQuantity: 1), by: "registry")
        try h.rejects("serial_overflow", "credits.issue", CreditsIssuePayload(verificationID: all, quantity: UInt64.max, bufferQuantity: UInt64.max), by: "registry")
        // The largest issuance that fits: serials 1 … 2⁶⁴−2, split into an owned block and a one-unit buffer.
        let ids = try h.ok("credits.issue", CreditsIssuePayload(verificationID: all, quantity: UInt64.max - 1, bufferQuantity: 1), by: "registry")
        #expect(ids.count == 3)
        let owned = try h.block(ids[1]), buffer = try h.block(ids[2])
        #expect(owned.serialStart == 1 && owned.serialEnd == UInt64.max - 2)
        #expect(buffer.serialStart == UInt64.max - 1 && buffer.serialEnd == UInt64.max - 1)
        #expect(try h.greenViolations().isEmpty)
        // The program is full: even one more unit has no serial.
        let one = try verified(h, "p-one", quantity: 1, start: h.time - 100 * day)
        try h.rejects("serial_overflow", "credits.issue", CreditsIssuePayload(verificationID: one, quantity: 1), by: "registry")
        // The full owned block moves and retires at its edges.
        try h.ok("credits.transfer", CreditsTransferPayload(blockID: owned.blockID, outputs: [CreditsOutput(to: "buyer1", quantity: UInt64.max - 3), CreditsOutput(to: "prop1", quantity: 1)]), by: "prop1")
        let children = try h.block(owned.blockID).children
        try h.ok("credits.retire", CreditsRetirePayload(ranges: [RetireRange(blockID: children[0], serialStart: UInt64.max - 3, serialEnd: UInt64.max - 3)], beneficiary: "B", purpose: "P", claimPeriodStart: .min, claimPeriodEnd: .max), by: "buyer1")
        try h.rejects("range_not_owned", "credits.retire", CreditsRetirePayload(ranges: [RetireRange(blockID: children[1], serialStart: UInt64.max - 2, serialEnd: UInt64.max)], beneficiary: "B", purpose: "P", claimPeriodStart: 0, claimPeriodEnd: 0), by: "prop1")
        #expect(try h.greenViolations().isEmpty)
        let supply = try GreenAssetsQueries.supplyReconciliation(in: h.state)
        #expect(supply.balanced)
        #expect(supply.programs.first.map { UInt128($0.issued) } == UInt128(UInt64.max - 1))
    }

    /// Issue 14 finding 1b: a verification whose period starts at Int64.min trapped in the calendar arithmetic when
    /// its batch was issued.
    @Test func verificationFromTheStartOfTimeIssuesWithAnExactVintage() throws {
        let h = try ContractHarness.greenWorld()
        let verID = try verified(h, "p-min", quantity: 10, start: .min, periodStart: .min)
        let ids = try h.ok("credits.issue", CreditsIssuePayload(verificationID: verID, quantity: 10), by: "registry")
        let batch = try #require(try h.state.read(Batch.self, GreenAssetsKeys.batch(ids[0])))
        #expect(batch.vintage == AssetCalendar.year(of: .min))
        #expect(try h.greenViolations().isEmpty)
    }

    @Test func calendarIsTotalOverInt64() {
        // The limits of 64-bit Unix time in astronomical years (year 0 = 1 BCE), checked against an independent count of
        // proleptic Gregorian days before each year: −292,277,022,657 and 292,277,026,596.
        #expect(AssetCalendar.year(of: .min) == -292_277_022_657)
        #expect(AssetCalendar.year(of: .min + 1) == -292_277_022_657)
        #expect(AssetCalendar.year(of: .max) == 292_277_026_596)
        #expect(AssetCalendar.year(of: .max - 1) == 292_277_026_596)
        #expect(AssetCalendar.year(of: -86_400) == 1969)
        #expect(AssetCalendar.year(of: -86_401) == 1969)
        #expect(AssetCalendar.year(of: -62_167_219_200) == 0)  // 0000-01-01
        #expect(AssetCalendar.year(of: -62_167_219_201) == -1)
    }

    /// Issue 14 finding 3a: settling a root whose live piece carried a financing that was only requested (never
    /// approved) marked it settled and named the bank as the payout's financier.
    @Test func settlementClosesARequestedFinancingAsCancelledAndPaysTheHolder() throws {
        let h = try ContractHarness.receivablesWorld()
        let root = try h.issueAccepted(face: 10_000, maturityDays: 30, invoices: ["INV-REQ"])
        let finID = try #require(try h.ok("financing.request", FinancingRequestPayload(certID: root, financier: "bank1", advance: 9_000, rateBps: 300, kind: .factoring, recourse: false), by: "sup1").first)
        h.advance(seconds: 31 * day)
        try h.ok("certificate.settle", RootRefPayload(rootID: root), by: "clear1")
        let fin = try #require(try h.state.read(Financing.self, ReceivablesKeys.financing(finID)))
        #expect(fin.status == .cancelled)
        #expect(fin.closedAt == h.time)
        let settled = try #require(try h.state.read(CertificateRoot.self, ReceivablesKeys.root(root)))
        #expect(settled.payouts == [Payout(certID: root, to: "sup1", amount: 10_000, financier: nil)])
        #expect(try h.certificate(root).financingID == nil)
        #expect(try h.receivablesViolations().isEmpty)
        let exposure = try ReceivablesQueries.exposure(in: h.state)
        #expect(exposure.financiers.isEmpty)
    }

    /// An approved pledge still names its financier at settlement, and its financing ends settled.
    @Test func settlementNamesTheFinancierOfAnActivePledge() throws {
        let h = try ContractHarness.receivablesWorld()
        let root = try h.issueAccepted(face: 10_000, maturityDays: 30, invoices: ["INV-PLEDGE"])
        let finID = try #require(try h.ok("financing.request", FinancingRequestPayload(certID: root, financier: "bank1", advance: 9_000, rateBps: 300, kind: .pledge, recourse: true), by: "sup1").first)
        try h.ok("financing.approve", FinancingRefPayload(finID: finID), by: "bank1")
        h.advance(seconds: 31 * day)
        try h.ok("certificate.settle", RootRefPayload(rootID: root), by: "core1")
        #expect(try h.state.read(Financing.self, ReceivablesKeys.financing(finID))?.status == .settled)
        #expect(try h.state.read(CertificateRoot.self, ReceivablesKeys.root(root))?.payouts == [Payout(certID: root, to: "sup1", amount: 10_000, financier: "bank1")])
    }

    /// Issue 14 finding 3b: exposure totals added with wrapping arithmetic, so a core owing more than 2⁶⁴ 分 showed
    /// almost nothing.
    @Test func exposureTotalsAreExactPast64Bits() throws {
        let h = try ContractHarness.receivablesWorld()
        try h.ok("credit_line.set", CreditLineSetPayload(lineID: "big1", core: "core1", limit: UInt64.max, expiry: h.time + 730 * day), by: "bank1", cosigners: ["core1"])
        try h.ok("credit_line.set", CreditLineSetPayload(lineID: "big2", core: "core1", limit: UInt64.max, expiry: h.time + 730 * day), by: "bank2", cosigners: ["core1"])
        var roots: [String] = []
        for (i, line) in ["big1", "big2"].enumerated() {
            let ids = try h.ok("certificate.issue", CertificateIssuePayload(creditLineID: line, holder: "sup1", face: UInt64.max, maturity: h.time + 30 * day, tradeRef: h.tradeRef(["INV-BIG-\(i)"])), by: "core1")
            let root = try #require(ids.first)
            try h.ok("certificate.accept", CertificateRefPayload(certID: root), by: "sup1")
            roots.append(root)
        }
        for (root, bank) in zip(roots, ["bank1", "bank2"]) {
            let finID = try #require(try h.ok("financing.request", FinancingRequestPayload(certID: root, financier: bank, advance: UInt64.max, rateBps: 0, kind: .pledge, recourse: false), by: "sup1").first)
            try h.ok("financing.approve", FinancingRefPayload(finID: finID), by: bank)
        }
        let twice = 2 * UInt128(UInt64.max)
        let exposure = try ReceivablesQueries.exposure(in: h.state)
        let core = try #require(exposure.cores.first { $0.core == "core1" })
        #expect(UInt128(core.outstanding) == twice)
        #expect(UInt128(core.openRoots) == 2)
        // The API answers with JSONEncoder: the exact total is a plain JSON integer, and reads back exactly.
        let json = String(decoding: try JSONEncoder().encode(exposure), as: UTF8.self)
        #expect(json.contains("\"outstanding\":36893488147419103230"), "\(json.prefix(300))")
        #expect(try JSONDecoder().decode(ExposureReport.self, from: Data(json.utf8)) == exposure)
        let holdings = try ReceivablesQueries.holdings(member: "sup1", in: h.state)
        #expect(holdings.certificateTotals.map { UInt128($0.amount) } == [twice])
        // Marked overdue, the same roots count in the overdue totals of the core and of each credit line.
        h.advance(seconds: 31 * day + h.parameters.gracePeriodSeconds)
        for root in roots { try h.ok("certificate.mark_overdue", RootRefPayload(rootID: root), by: "sup2") }
        let overdue = try ReceivablesQueries.exposure(in: h.state)
        #expect(UInt128(try #require(overdue.cores.first { $0.core == "core1" }).overdue) == twice)
        #expect(overdue.financiers.map { UInt128($0.overdueFace) } == [UInt128(UInt64.max), UInt128(UInt64.max)])
    }
}
