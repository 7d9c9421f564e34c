// ReceivablesGreenBackedTests.swift — the bridge between the two families: a certificate's trade reference may
// cite a green project or a retirement (which then backs at most one certificate), and financiers can list
// green-backed certificates with what backs them.
import Foundation
import Testing
@testable import TrellisLedger

@Suite struct ReceivablesGreenBackedTests {
    let day = ContractHarness.day

    /// Receivables members plus a registry, a proponent that is also a supplier, and an accredited verifier.
    static func bridgeWorld() throws -> ContractHarness {
        let h = try ContractHarness.receivablesWorld()
        h.putMember("registry", [.registryOperator])
        h.putMember("prop1", [.proponent, .supplier])
        h.putMember("ver1", [.verifier], accreditations: [ContractHarness.accreditation])
        try h.ok("program.register", ProgramRegisterPayload(programID: "CCER", unit: .tCO2e), by: "registry")
        try h.ok("methodology.register", MethodologyRegisterPayload(methodologyID: "AM0001", version: "1", title: "Renewable power", active: true), by: "registry")
        return h
    }

    @Test func certificatesCitingProjectsAndRetirements() throws {
        let h = try Self.bridgeWorld()
        let issued = try h.projectWithIssuance("wind-g", device: "WG-1", quantity: 100)
        let block = try #require(issued.block)
        let retID = try #require(try h.ok("credits.retire", CreditsRetirePayload(ranges: [RetireRange(blockID: block, serialStart: 1, serialEnd: 10)], beneficiary: "core1", purpose: "green supply contract", claimPeriodStart: 0, claimPeriodEnd: h.time), by: "prop1").first)

        func issue(_ ref: GreenRef, invoice: String) -> CertificateIssuePayload {
            var tradeRef = h.tradeRef([invoice])
            tradeRef.greenRef = ref
            return CertificateIssuePayload(creditLineID: "line1", holder: "prop1", face: 5_000, maturity: h.time + 60 * day, tradeRef: tradeRef)
        }
        let byProject = try #require(try h.ok("certificate.issue", issue(GreenRef(kind: .project, id: "wind-g"), invoice: "INV-G1"), by: "core1").first)
        let byRetirement = try #require(try h.ok("certificate.issue", issue(GreenRef(kind: .retirement, id: retID), invoice: "INV-G2"), by: "core1").first)
        try h.rejects("green_ref_already_used", "certificate.issue", issue(GreenRef(kind: .retirement, id: retID), invoice: "INV-G3"), by: "core1")
        try h.rejects("unknown_green_ref", "certificate.issue", issue(GreenRef(kind: .project, id: "nowhere"), invoice: "INV-G4"), by: "core1")
        try h.rejects("unknown_green_ref", "certificate.issue", issue(GreenRef(kind: .retirement, id: "ret-none"), invoice: "INV-G5"), by: "core1")
        _ = try h.issueAccepted(face: 1_000, invoices: ["INV-PLAIN"])

        let backed = try ReceivablesQueries.greenBacked(in: h.state)
        #expect(Set(backed.map(\.root.rootID)) == Set([byProject, byRetirement]))
        #expect(backed.allSatisfy { $0.project?.projectID == "wind-g" })
        #expect(backed.first { $0.root.rootID == byRetirement }?.retirement?.retID == retID)

        // Children inherit the citation with the rest of the trade reference.
        try h.ok("certificate.accept", CertificateRefPayload(certID: byProject), by: "prop1")
        let child = try #require(try h.ok("certificate.split_transfer", CertificateSplitTransferPayload(certID: byProject, outputs: [SplitOutput(to: "sup2", amount: 5_000)]), by: "prop1").first)
        #expect(try h.certificate(child).tradeRef.greenRef == GreenRef(kind: .project, id: "wind-g"))
        #expect(try h.receivablesViolations() == [])
        #expect(try h.greenViolations() == [])
    }

    @Test func greenRefJSONRoundTrip() throws {
        let spec = try #require(CodecSamples.spec("certificate.issue"))
        let json = #"{"credit_line_id":"line1","face":1,"holder":"sup1","maturity":2,"trade_ref":{"contract_no":"C","doc_hash":"\#(CodecSamples.docHash.hex)","green_ref":{"id":"ret-1","kind":"retirement"},"invoice_keys":["I"]}}"#
        let bytes = try spec.canonicalPayload(fromJSON: Data(json.utf8))
        #expect(String(decoding: try spec.jsonPayload(fromCanonical: bytes), as: UTF8.self) == json)
    }
}
