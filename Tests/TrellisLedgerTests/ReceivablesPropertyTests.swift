// ReceivablesPropertyTests.swift — random sequences (seeded SplitMix64) of valid and invalid receivables
// operations by random members. After every step: a rejected transaction left the state unchanged, and A1–A4,
// credit-line accounting and index consistency hold. A failure names the seed and step, reproducible by rerun.
import Testing
@testable import TrellisLedger

@Suite struct ReceivablesPropertyTests {
    static let actors = ["core1", "core2", "sup1", "sup2", "sup3", "bank1", "bank2", "clear1", "reg1", "susp"]
    static let recipients = ["sup1", "sup2", "sup3", "bank1", "bank2", "susp", "reg1", "core1"]

    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func invariantsHoldOverRandomOperations(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let h = try ContractHarness.receivablesWorld()
        try h.ok("credit_line.set", CreditLineSetPayload(lineID: "line2", core: "core2", limit: 300_000, expiry: h.time + 400 * ContractHarness.day), by: "bank2", cosigners: ["core2"])
        let accepted = try h.runRandomSteps(seed: seed, steps: 250, step: { try randomStep(h, &rng) }, violations: { try h.receivablesViolations() })
        guard let accepted else { return }
        #expect(accepted > 40, "seed \(seed): too few accepted operations (\(accepted)) for the test to mean much")
    }

    @Test func theSameSeedGivesByteIdenticalState() throws {
        func run() throws -> [[UInt8]: [UInt8]] {
            var rng = SplitMix64(seed: 99)
            let h = try ContractHarness.receivablesWorld()
            for _ in 0..<150 { _ = try randomStep(h, &rng) }
            return h.snapshot
        }
        let first = try run()
        #expect(first.count > 30)
        #expect(try run() == first)
    }

    private func randomStep(_ h: ContractHarness, _ rng: inout SplitMix64) throws -> (String, Outcome) {
        let certs = try h.all(Certificate.self, StateKey.prefix("cert"))
        let fins = try h.all(Financing.self, ReceivablesKeys.allFinancings)
        let roots = try h.all(CertificateRoot.self, ReceivablesKeys.allRoots)
        let actor = rng.pick(Self.actors) ?? "sup1"
        switch rng.below(12) {
        case 0, 1:
            let core = rng.chance(70) ? "core1" : "core2"
            let line = rng.chance(85) ? (core == "core1" ? "line1" : "line2") : "line1"
            let face = rng.chance(5) ? UInt64.max - rng.below(3) : 1 + rng.below(120_000)
            let maturity = h.time + Int64(20 + rng.below(rng.chance(90) ? 100 : 400)) * ContractHarness.day - (rng.chance(5) ? 400 * ContractHarness.day : 0)
            let invoices = ["INV-\(rng.below(60))"] + (rng.chance(20) ? ["INV-\(rng.below(60))"] : [])
            let payload = CertificateIssuePayload(creditLineID: line, holder: rng.chance(75) ? "sup\(1 + rng.below(3))" : (rng.pick(Self.recipients) ?? "sup1"), face: face, maturity: maturity, tradeRef: h.tradeRef(invoices))
            return ("issue", try h.submit("certificate.issue", payload, by: rng.chance(90) ? core : actor))
        case 2, 3:
            guard let cert = rng.pick(certs.filter { $0.status == .pendingAccept || rng.chance(10) }) else { return ("noop", .rejected("none")) }
            let recipient = rng.chance(80) ? (cert.pendingTo ?? actor) : actor
            switch rng.below(3) {
            case 0: return ("accept", try h.submit("certificate.accept", CertificateRefPayload(certID: cert.certID), by: recipient))
            case 1: return ("reject", try h.submit("certificate.reject", CertificateRejectPayload(certID: cert.certID, reason: "no"), by: recipient))
            default: return ("reclaim", try h.submit("certificate.reclaim", CertificateRefPayload(certID: cert.certID), by: rng.chance(80) ? cert.holder : actor))
            }
        case 4, 5, 11:
            guard let cert = rng.pick(certs.filter { $0.status == .active || rng.chance(15) }) else { return ("noop", .rejected("none")) }
            var outputs: [SplitOutput] = []
            var left = cert.face
            let parts = 1 + rng.below(3)
            for i in 0..<parts {
                let amount = i == parts - 1 ? left : (left > 1 ? 1 + rng.below(left - 1) : left)
                left -= min(amount, left)
                outputs.append(SplitOutput(to: rng.chance(40) ? cert.holder : (rng.pick(Self.recipients) ?? "sup2"), amount: amount))
            }
            if rng.chance(15), let last = outputs.indices.last { outputs[last].amount = rng.chance(50) ? outputs[last].amount + 1 : outputs[last].amount &- 1 }
            outputs = outputs.filter { $0.amount > 0 || rng.chance(50) }
            return ("split", try h.submit("certificate.split_transfer", CertificateSplitTransferPayload(certID: cert.certID, outputs: outputs), by: rng.chance(85) ? cert.holder : actor))
        case 6:
            guard let cert = rng.pick(certs.filter { $0.status == .active || rng.chance(10) }) else { return ("noop", .rejected("none")) }
            let payload = FinancingRequestPayload(certID: cert.certID, financier: rng.chance(50) ? "bank1" : "bank2", advance: 1 + rng.below(cert.face + 2), rateBps: UInt32(rng.below(900)), kind: rng.chance(50) ? .factoring : .pledge, recourse: rng.chance(50))
            return ("finance", try h.submit("financing.request", payload, by: rng.chance(85) ? cert.holder : actor))
        case 7:
            guard let fin = rng.pick(fins) else { return ("noop", .rejected("none")) }
            let kinds = ["financing.approve", "financing.cancel", "financing.release", "financing.repay"]
            let kind = rng.pick(kinds) ?? kinds[0]
            let signer = rng.chance(70) ? fin.financier : (rng.chance(50) ? fin.applicant : actor)
            return (kind, try h.submit(kind, FinancingRefPayload(finID: fin.finID), by: signer))
        case 8:
            let due = roots.filter { $0.maturity <= h.time && ($0.status == .open || $0.status == .overdue) }
            guard let root = rng.chance(70) ? (rng.pick(due) ?? rng.pick(roots)) : rng.pick(roots) else { return ("noop", .rejected("none")) }
            if rng.chance(50) {
                return ("settle", try h.submit("certificate.settle", RootRefPayload(rootID: root.rootID), by: rng.chance(50) ? "clear1" : (rng.chance(50) ? root.debtor : actor)))
            }
            return ("overdue", try h.submit("certificate.mark_overdue", RootRefPayload(rootID: root.rootID), by: actor))
        case 9:
            guard let cert = rng.pick(certs) else { return ("noop", .rejected("none")) }
            let kind = rng.chance(50) ? "asset.freeze" : "asset.unfreeze"
            return (kind, try h.submit(kind, AssetFreezePayload(assetType: .certificate, assetID: cert.certID, reason: "check"), by: rng.chance(85) ? "reg1" : actor))
        default:
            // Mostly short steps (within accept windows), sometimes past maturities and grace periods.
            let days = rng.chance(15) ? 20 + rng.below(60) : rng.below(3)
            h.advance(seconds: Int64(days) * ContractHarness.day + Int64(rng.below(86_400)))
            return ("advance", .accepted([]))
        }
    }
}
