// AttestationTests.swift — `evidence.attest` / `evidence.revoke` (docs/TRANSACTIONS.md §E): every rejection code, the
// co-attestation and withdrawal history, the JSON form's precise codes, and the two queries.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

@Suite struct AttestationTests {
    static let attest = EvidenceContract.attest
    static let revoke = EvidenceContract.revoke

    static func docHash(_ text: String) -> Hash { SHA256.hash(Array(text.utf8)) }

    func harness() -> ContractHarness {
        let h = ContractHarness()
        h.putMember("sup1", [.supplier])
        h.putMember("bank1", [.financier])
        h.putMember("reg1", [.regulator])
        h.putMember("gone", [.supplier], status: .suspended)
        return h
    }

    func invoice(_ text: String = "invoice INV-1", title: String = "Invoice INV-1", metadata: [EvidenceMetadataEntry] = [], refs: [EvidenceRef] = []) -> AttestPayload {
        AttestPayload(docHash: Self.docHash(text), docKind: .invoice, title: title, metadata: metadata, refs: refs)
    }

    @Test func firstAttestationRecordsAttesterAndTimeAndCoAttestationsAppend() throws {
        let h = harness()
        try h.ok(Self.attest, invoice(metadata: [EvidenceMetadataEntry(key: "invoice_no", value: "INV-1")]), by: "sup1")
        let firstTime = h.time
        h.advance(seconds: 60)
        try h.ok(Self.attest, invoice(title: "the same invoice, seen by the bank"), by: "bank1")
        let record = try #require(try EvidenceQueries.evidence(docHash: Self.docHash("invoice INV-1"), in: h.state))
        #expect(record.attestations.map(\.attester) == ["sup1", "bank1"])
        #expect(record.original?.time == firstTime)
        #expect(record.original?.title == "Invoice INV-1")
        #expect(record.original?.metadata == [EvidenceMetadataEntry(key: "invoice_no", value: "INV-1")])
        #expect(record.attestations[1].time == firstTime + 60)
        #expect(record.isActive)
        // Indexed for both members; the supplier's is the original.
        let bySupplier = try EvidenceQueries.attested(by: "sup1", in: h.state).attestations
        #expect(bySupplier.map(\.original) == [true])
        #expect(try EvidenceQueries.attested(by: "bank1", in: h.state).attestations.map(\.original) == [false])
        #expect(try EvidenceQueries.attested(by: "reg1", in: h.state).attestations.isEmpty)
    }

    @Test func sameMemberTwiceIsAlreadyAttestedEvenAfterWithdrawing() throws {
        let h = harness()
        try h.ok(Self.attest, invoice(), by: "sup1")
        try h.rejects("already_attested", Self.attest, invoice(title: "again"), by: "sup1")
        try h.ok(Self.revoke, RevokeAttestationPayload(docHash: Self.docHash("invoice INV-1"), reason: "issued in error"), by: "sup1")
        try h.rejects("already_attested", Self.attest, invoice(), by: "sup1")
    }

    @Test func coAttestationMustKeepTheDocumentKind() throws {
        let h = harness()
        try h.ok(Self.attest, invoice(), by: "sup1")
        try h.rejects("kind_mismatch", Self.attest, AttestPayload(docHash: Self.docHash("invoice INV-1"), docKind: .contract, title: "a contract?"), by: "bank1")
    }

    @Test func revokeWithdrawsOnlyTheSignersAttestationAndKeepsHistory() throws {
        let h = harness()
        let hash = Self.docHash("invoice INV-1")
        try h.rejects("unknown_evidence", Self.revoke, RevokeAttestationPayload(docHash: hash, reason: ""), by: "sup1")
        try h.ok(Self.attest, invoice(), by: "sup1")
        try h.ok(Self.attest, invoice(), by: "bank1")
        try h.rejects("not_attester", Self.revoke, RevokeAttestationPayload(docHash: hash, reason: "not mine"), by: "reg1")
        h.advance(seconds: 10)
        try h.ok(Self.revoke, RevokeAttestationPayload(docHash: hash, reason: "superseded"), by: "sup1")
        try h.rejects("already_revoked", Self.revoke, RevokeAttestationPayload(docHash: hash, reason: ""), by: "sup1")
        var record = try #require(try EvidenceQueries.evidence(docHash: hash, in: h.state))
        #expect(record.attestations.count == 2)
        #expect(record.attestations[0].withdrawal?.reason == "superseded")
        #expect(record.attestations[0].withdrawal?.height == h.height)
        #expect(record.attestations[1].isActive)
        #expect(record.isActive, "the bank still vouches")
        try h.ok(Self.revoke, RevokeAttestationPayload(docHash: hash, reason: ""), by: "bank1")
        record = try #require(try EvidenceQueries.evidence(docHash: hash, in: h.state))
        #expect(!record.isActive, "every attester withdrew: the record is revoked")
        #expect(record.attestations.map(\.attester) == ["sup1", "bank1"], "withdrawn attestations stay in the record")
    }

    @Test func evidenceByIsPagedInHashOrder() throws {
        let h = harness()
        let hashes = (0..<7).map { Self.docHash("page \($0)") }
        for (i, hash) in hashes.enumerated() { try h.ok(Self.attest, AttestPayload(docHash: hash, docKind: .other, title: "doc \(i)"), by: "sup1") }
        try h.ok(Self.attest, AttestPayload(docHash: Self.docHash("the bank's own"), docKind: .other, title: "not sup1's"), by: "bank1")
        let sorted = hashes.sorted { ByteOrder.less(Array($0.hex.utf8), Array($1.hex.utf8)) }
        var pages: [[Hash]] = []
        var after: Hash? = nil
        repeat {
            let page = try EvidenceQueries.attested(by: "sup1", after: after, limit: 3, in: h.state)
            #expect(page.member == "sup1")
            pages.append(page.attestations.map(\.docHash))
            #expect(page.next == (page.attestations.count == 3 && pages.joined().count < 7 ? page.attestations.last?.docHash : nil))
            after = page.next
        } while after != nil && pages.count < 10
        #expect(pages.map(\.count) == [3, 3, 1])
        #expect(Array(pages.joined()) == sorted)
        // A page that ends exactly at the last entry has no next; after the last hash nothing follows.
        let exact = try EvidenceQueries.attested(by: "sup1", limit: 7, in: h.state)
        #expect(exact.attestations.count == 7 && exact.next == nil)
        #expect(try EvidenceQueries.attested(by: "sup1", after: sorted.last, in: h.state).attestations.isEmpty)
        // The JSON form: next as hex while more follow, absent on the last page.
        let first = try JSONSerialization.jsonObject(with: JSONEncoder().encode(try EvidenceQueries.attested(by: "sup1", limit: 1, in: h.state))) as? [String: Any]
        #expect(first?["next"] as? String == sorted[0].hex)
        let whole = try JSONSerialization.jsonObject(with: JSONEncoder().encode(exact)) as? [String: Any]
        #expect(whole?["next"] == nil && (whole?["attestations"] as? [Any])?.count == 7)
    }

    @Test func malformedHashIsRefusedWithItsCode() throws {
        let h = harness()
        try h.rejects("invalid_doc_hash", Self.attest, AttestPayload(docHash: Hash(bytes: [UInt8](repeating: 0, count: 32))!, docKind: .other, title: "zero"), by: "sup1")
        let spec = try #require(ContractRegistry.standard.spec(for: Self.attest))
        for bad in ["abc", String(repeating: "g", count: 64), String(repeating: "a", count: 63), String(repeating: "a", count: 66)] {
            let json = #"{"doc_hash":"\#(bad)","doc_kind":"invoice","title":"t"}"#
            #expect(throws: TxRejection.self) { try spec.canonicalPayload(fromJSON: Data(json.utf8)) }
            do { _ = try spec.canonicalPayload(fromJSON: Data(json.utf8)) } catch { #expect(error.code == "invalid_doc_hash", "\(bad): \(error)") }
        }
        let revokeSpec = try #require(ContractRegistry.standard.spec(for: Self.revoke))
        do { _ = try revokeSpec.canonicalPayload(fromJSON: Data(#"{"doc_hash":"xyz"}"#.utf8)); Issue.record("accepted") } catch { #expect(error.code == "invalid_doc_hash") }
        // A well-formed JSON payload converts, and unknown fields are refused.
        let good = #"{"doc_hash":"\#(Self.docHash("x").hex)","doc_kind":"bill_of_lading","title":"B/L 7","metadata":{"vessel":"Ever Given"},"refs":[]}"#
        #expect(throws: Never.self) { try spec.canonicalPayload(fromJSON: Data(good.utf8)) }
        do { _ = try spec.canonicalPayload(fromJSON: Data(#"{"doc_hash":"\#(Self.docHash("x").hex)","doc_kind":"invoice","title":"t","extra":1}"#.utf8)); Issue.record("accepted") } catch { #expect(error.code == "malformed_payload") }
    }

    @Test func oversizeTitleAndMetadataAreRefusedWithTheirCodes() throws {
        let h = harness()
        try h.rejects("missing_field", Self.attest, invoice(title: ""), by: "sup1")
        try h.ok(Self.attest, invoice("a", title: String(repeating: "t", count: EvidenceLimits.maxTitleBytes)), by: "sup1")
        try h.rejects("title_too_long", Self.attest, invoice("b", title: String(repeating: "t", count: EvidenceLimits.maxTitleBytes + 1)), by: "sup1")
        // Multi-byte characters count in bytes: 86 × 3 bytes = 258 > 256.
        try h.rejects("title_too_long", Self.attest, invoice("c", title: String(repeating: "票", count: 86)), by: "sup1")
        let many = (0...EvidenceLimits.maxMetadataEntries).map { EvidenceMetadataEntry(key: "k\($0)", value: "v") }
        try h.rejects("metadata_too_large", Self.attest, invoice("d", metadata: many), by: "sup1")
        try h.rejects("metadata_too_large", Self.attest, invoice("e", metadata: [EvidenceMetadataEntry(key: "note", value: String(repeating: "x", count: EvidenceLimits.maxMetadataBytes))]), by: "sup1")
        try h.ok(Self.attest, invoice("f", metadata: [EvidenceMetadataEntry(key: "note", value: String(repeating: "x", count: EvidenceLimits.maxMetadataBytes - 4))]), by: "sup1")
        try h.rejects("invalid_metadata_key", Self.attest, invoice("g", metadata: [EvidenceMetadataEntry(key: "bad key", value: "v")]), by: "sup1")
        try h.rejects("invalid_metadata_key", Self.attest, invoice("h", metadata: [EvidenceMetadataEntry(key: "", value: "v")]), by: "sup1")
        try h.rejects("field_too_long", Self.revoke, RevokeAttestationPayload(docHash: Self.docHash("a"), reason: String(repeating: "r", count: EvidenceLimits.maxReasonBytes + 1)), by: "sup1")
    }

    @Test func referencesMustBeWellFormedAndExist() throws {
        let h = harness()
        try h.rejects("unknown_ref", Self.attest, invoice(refs: [EvidenceRef(kind: .certificate, id: "cert-404")]), by: "sup1")
        try h.rejects("unknown_ref", Self.attest, invoice(refs: [EvidenceRef(kind: .attestation, id: Self.docHash("contract").hex)]), by: "sup1")
        try h.rejects("invalid_ref", Self.attest, invoice(refs: [EvidenceRef(kind: .attestation, id: "not-a-hash")]), by: "sup1")
        try h.rejects("invalid_ref", Self.attest, invoice(refs: [EvidenceRef(kind: .attestation, id: Self.docHash("contract").hex.uppercased())]), by: "sup1")
        try h.rejects("invalid_ref", Self.attest, invoice(refs: [EvidenceRef(kind: .project, id: "bad id")]), by: "sup1")
        try h.rejects("invalid_ref", Self.attest, invoice(refs: [EvidenceRef(kind: .attestation, id: Self.docHash("invoice INV-1").hex)]), by: "sup1")
        let tooMany = (0...EvidenceLimits.maxRefs).map { EvidenceRef(kind: .project, id: "p\($0)") }
        try h.rejects("too_many_refs", Self.attest, invoice(refs: tooMany), by: "sup1")
        // Existing objects: a contract attested first, a certificate and a project in state.
        try h.ok(Self.attest, AttestPayload(docHash: Self.docHash("contract"), docKind: .contract, title: "PO-7"), by: "sup1")
        h.put(ReceivablesKeys.certificate("cert-1"), [1])
        h.put(GreenAssetsKeys.project("wind-7"), [1])
        try h.ok(Self.attest, invoice(refs: [EvidenceRef(kind: .attestation, id: Self.docHash("contract").hex),
                                             EvidenceRef(kind: .certificate, id: "cert-1"), EvidenceRef(kind: .project, id: "wind-7")]), by: "sup1")
        let record = try #require(try EvidenceQueries.evidence(docHash: Self.docHash("invoice INV-1"), in: h.state))
        #expect(record.original?.refs.count == 3)
    }

    @Test func attestationsPerHashAreBounded() throws {
        let h = harness()
        for i in 0..<EvidenceLimits.maxAttestations {
            h.putMember("m\(i)", [.participant])
            try h.ok(Self.attest, invoice(), by: "m\(i)")
        }
        h.putMember("late", [.participant])
        try h.rejects("too_many_attestations", Self.attest, invoice(), by: "late")
        let record = try #require(try EvidenceQueries.evidence(docHash: Self.docHash("invoice INV-1"), in: h.state))
        #expect(record.attestations.count == EvidenceLimits.maxAttestations)
        #expect(record.canonicalBytes.count < 64 * 1024)
    }

    @Test func anyActiveMemberMayAttestButNotASuspendedOne() throws {
        let h = harness()
        try h.ok(Self.attest, invoice(), by: "reg1")
        try h.rejects("signer_not_active", Self.attest, invoice("other"), by: "gone")
    }

    @Test func payloadsAndRecordsRoundTripCanonicallyAndAsJSON() throws {
        let payload = invoice(metadata: [EvidenceMetadataEntry(key: "zz", value: "1"), EvidenceMetadataEntry(key: "a", value: "2")],
                              refs: [EvidenceRef(kind: .project, id: "wind-7"), EvidenceRef(kind: .certificate, id: "cert-1")])
        let bytes = payload.canonicalBytes
        #expect(try CanonicalDecoder.decode(AttestPayload.self, from: bytes) == payload)
        let spec = try #require(ContractRegistry.standard.spec(for: Self.attest))
        let json = try spec.jsonPayload(fromCanonical: bytes)
        #expect(try spec.canonicalPayload(fromJSON: json) == bytes)
        let revoke = RevokeAttestationPayload(docHash: Self.docHash("x"), reason: "r")
        #expect(try CanonicalDecoder.decode(RevokeAttestationPayload.self, from: revoke.canonicalBytes) == revoke)
        let record = EvidenceRecord(docHash: payload.docHash, docKind: .invoice, attestations: [
            Attestation(attester: "sup1", title: "t", metadata: payload.metadata, refs: payload.refs, height: 3, time: 9, txHash: Self.docHash("tx"),
                        withdrawal: EvidenceWithdrawal(height: 4, time: 10, txHash: Self.docHash("tx2"), reason: "why")),
        ])
        #expect(try CanonicalDecoder.decode(EvidenceRecord.self, from: record.canonicalBytes) == record)
    }

    /// Fixed canonical bytes (computed independently from docs/ARCHITECTURE.md's encoding rules): any change of the
    /// payload format shows up here.
    @Test func fixedByteVectors() {
        let doc = SHA256.hash(Array("doc".utf8))
        let attest = AttestPayload(docHash: doc, docKind: .invoice, title: "Invoice INV-1", metadata: [EvidenceMetadataEntry(key: "invoice_no", value: "INV-1")],
                                   refs: [EvidenceRef(kind: .certificate, id: "cert-1")])
        #expect(Hex.encode(attest.canonicalBytes) == "139d544b821b13ebea14f1b0fe18577222e415c2966e3a3511c4196055232202010000000d496e766f69636520494e562d31000000010000000a696e766f6963655f6e6f00000005494e562d31000000010100000006636572742d31")
        #expect(Hex.encode(RevokeAttestationPayload(docHash: doc, reason: "superseded").canonicalBytes) == "139d544b821b13ebea14f1b0fe18577222e415c2966e3a3511c41960552322020000000a73757065727365646564")
    }
}
