// DocumentAttestationRequirementTests.swift — the governance parameter `require_document_attestation`
// (docs/TRANSACTIONS.md §E "Documents that back certificates and verifications"): off by default (nothing checked),
// on it refuses `certificate.issue` and `verification.submit` with each precise code, a co-attestation by the signer
// suffices, and lineage/provenance show the attestation record of the backing hash.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

@Suite struct DocumentAttestationRequirementTests {
    static let attest = EvidenceContract.attest
    static let revoke = EvidenceContract.revoke

    func setRequirement(_ on: Bool, in h: ContractHarness) {
        var parameters = Parameters.default
        parameters.requireDocumentAttestation = on
        h.put(Parameters.stateKey, parameters.canonicalBytes)
    }

    func issue(_ h: ContractHarness, invoice: String) -> CertificateIssuePayload {
        CertificateIssuePayload(creditLineID: "line1", holder: "sup1", face: 1_000, maturity: h.time + 90 * ContractHarness.day, tradeRef: h.tradeRef([invoice]))
    }

    func attestation(_ hash: Hash, _ kind: DocumentKind, title: String = "document", metadata: [EvidenceMetadataEntry] = []) -> AttestPayload {
        AttestPayload(docHash: hash, docKind: kind, title: title, metadata: metadata)
    }

    @Test func offByDefaultNothingIsCheckedAndLineageShowsNoAttestation() throws {
        let h = try ContractHarness.receivablesWorld()
        #expect(try h.state.read(Parameters.self, Parameters.stateKey)?.requireDocumentAttestation == false)
        let root = try #require(try h.ok("certificate.issue", issue(h, invoice: "INV-1"), by: "core1").first)
        let lineage = try #require(try ReceivablesQueries.lineage(certID: root, in: h.state))
        #expect(lineage.documentAttestation == nil)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(lineage)) as? [String: Any]
        #expect(json?["document_attestation"] == nil)

        let g = try ContractHarness.greenWorld()
        _ = try g.projectWithIssuance("wind-1", device: "T1", quantity: 100)
        let provenance = try #require(try GreenAssetsQueries.provenance(programID: "CCER", serial: 1, in: g.state))
        #expect(provenance.reportAttestation == nil)
    }

    @Test func certificateIssueNeedsTheIssuersStandingAttestationOfTheTradeDocuments() throws {
        let h = try ContractHarness.receivablesWorld()
        setRequirement(true, in: h)
        let payload = issue(h, invoice: "INV-1")
        let docHash = payload.tradeRef.docHash
        try h.rejects("document_not_attested", "certificate.issue", payload, by: "core1")
        // Attested by the supplier only: the issuer's own attestation is needed.
        try h.ok(Self.attest, attestation(docHash, .invoice, title: "Invoice INV-1"), by: "sup1")
        try h.rejects("document_not_attested_by_signer", "certificate.issue", payload, by: "core1")
        // The core enterprise co-attests, then withdraws: a withdrawn attestation backs nothing.
        try h.ok(Self.attest, attestation(docHash, .invoice, title: "our purchase invoice"), by: "core1")
        try h.ok(Self.revoke, RevokeAttestationPayload(docHash: docHash, reason: "wrong file"), by: "core1")
        try h.rejects("document_attestation_withdrawn", "certificate.issue", payload, by: "core1")

        // Another document, attested by the issuer (any trade document kind) and still standing: accepted.
        let other = issue(h, invoice: "INV-2")
        try h.ok(Self.attest, attestation(other.tradeRef.docHash, .contract, title: "Purchase order PO-INV-2"), by: "core1")
        let root = try #require(try h.ok("certificate.issue", other, by: "core1").first)
        let lineage = try #require(try ReceivablesQueries.lineage(certID: root, in: h.state))
        let record = try #require(lineage.documentAttestation)
        #expect(record.docHash == other.tradeRef.docHash)
        #expect(record.attestations.map(\.attester) == ["core1"])
        // Every piece of the root shows the same record: split the accepted root and read a child's lineage.
        try h.ok("certificate.accept", CertificateRefPayload(certID: root), by: "sup1")
        let children = try h.ok("certificate.split_transfer", CertificateSplitTransferPayload(certID: root, outputs: [SplitOutput(to: "sup2", amount: 400), SplitOutput(to: "sup1", amount: 600)]), by: "sup1")
        let childID = try #require(children.first)
        let child = try #require(try ReceivablesQueries.lineage(certID: childID, in: h.state))
        #expect(child.documentAttestation == record)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(child)) as? [String: Any]
        let shown = try #require(json?["document_attestation"] as? [String: Any])
        #expect(shown["doc_hash"] as? String == other.tradeRef.docHash.hex)
        #expect(shown["attester"] as? String == "core1")
        #expect(shown["status"] as? String == "active")
    }

    @Test func verificationSubmitNeedsTheVerifiersStandingAttestationOfTheReport() throws {
        let h = try ContractHarness.greenWorld()
        try h.ok("project.register", h.projectPayload("wind-1", devices: ["T1"], start: h.time - 365 * ContractHarness.day, end: h.time + 3650 * ContractHarness.day), by: "prop1", cosigners: ["registry"])
        setRequirement(true, in: h)
        let report = ContractHarness.hash("monitoring report wind-1 2024")
        let payload = VerificationSubmitPayload(projectID: "wind-1", periodStart: h.time - 90 * ContractHarness.day, periodEnd: h.time, quantity: 500, reportHash: report)
        try h.rejects("document_not_attested", "verification.submit", payload, by: "ver1")
        // The proponent attesting its own report is not the verifier vouching for it.
        try h.ok(Self.attest, attestation(report, .verificationReport), by: "prop1")
        try h.rejects("document_not_attested_by_signer", "verification.submit", payload, by: "ver1")
        try h.ok(Self.attest, attestation(report, .verificationReport, title: "verified"), by: "ver1")
        try h.ok(Self.revoke, RevokeAttestationPayload(docHash: report, reason: ""), by: "ver1")
        try h.rejects("document_attestation_withdrawn", "verification.submit", payload, by: "ver1")

        // A report attested as another kind of document is not a verification report.
        let misfiled = ContractHarness.hash("monitoring report wind-1, filed as other")
        try h.ok(Self.attest, attestation(misfiled, .other), by: "ver1")
        var wrongKind = payload
        wrongKind.reportHash = misfiled
        try h.rejects("document_kind_mismatch", "verification.submit", wrongKind, by: "ver1")

        let good = ContractHarness.hash("monitoring report wind-1, final")
        try h.ok(Self.attest, attestation(good, .verificationReport, title: "Verification report wind-1 2024"), by: "ver1")
        var accepted = payload
        accepted.reportHash = good
        let verID = try #require(try h.ok("verification.submit", accepted, by: "ver1").first)
        let ids = try h.ok("credits.issue", CreditsIssuePayload(verificationID: verID, quantity: 500, bufferQuantity: 0), by: "registry")
        #expect(ids.count == 2)
        let provenance = try #require(try GreenAssetsQueries.provenance(programID: "CCER", serial: 1, in: h.state))
        let record = try #require(provenance.reportAttestation)
        #expect(record.docHash == good)
        #expect(record.docKind == .verificationReport)
        #expect(record.original?.attester == "ver1")
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(provenance)) as? [String: Any]
        #expect((json?["report_attestation"] as? [String: Any])?["attester"] as? String == "ver1")
    }

    @Test func turningTheParameterOffAgainAcceptsUnattestedDocuments() throws {
        let h = try ContractHarness.receivablesWorld()
        setRequirement(true, in: h)
        try h.rejects("document_not_attested", "certificate.issue", issue(h, invoice: "INV-9"), by: "core1")
        setRequirement(false, in: h)
        try h.ok("certificate.issue", issue(h, invoice: "INV-9"), by: "core1")
    }

    @Test func theParameterIsCanonicalAndOptionalInJSON() throws {
        // Absent in JSON = false (every genesis written before the parameter existed keeps its meaning).
        let json = #"{"max_maturity_seconds":31536000,"grace_period_seconds":2592000,"governance_quorum":2,"proposal_ttl_blocks":100000,"max_tx_lifetime_blocks":10000,"accept_window_seconds":604800}"#
        let absent = try JSONDecoder().decode(StrictParameters.self, from: Data(json.utf8)).value
        #expect(absent == Parameters.default)
        #expect(absent.requireDocumentAttestation == false)
        let on = try JSONDecoder().decode(StrictParameters.self, from: Data((json.dropLast() + #","require_document_attestation":true}"#).utf8)).value
        #expect(on.requireDocumentAttestation)
        // Written last, as one bool byte; decoding rejects anything but 0/1 there.
        var bytes = on.canonicalBytes
        #expect(bytes.last == 1)
        #expect(Parameters.default.canonicalBytes.last == 0)
        #expect(try CanonicalDecoder.decode(Parameters.self, from: bytes) == on)
        bytes[bytes.count - 1] = 2
        #expect(throws: CodecError.self) { try CanonicalDecoder.decode(Parameters.self, from: bytes) }
        // The JSON form of Parameters round-trips the flag.
        let encoded = try JSONEncoder().encode(on)
        #expect(try JSONDecoder().decode(StrictParameters.self, from: encoded).value == on)
    }
}
