// ReceivablesCodecTests.swift — every receivables and green-asset payload (and stored record) round-trips through
// its canonical bytes; JSON ↔ canonical is lossless; each payload type has a fixed byte vector, so any change of
// format shows up here; snake_case JSON field names are as DOMAIN.md names them.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

/// Fixed inputs shared by the codec tests.
enum CodecSamples {
    static let docHash = SHA256.hash(Array("doc".utf8))
    static let tradeRef = TradeRef(contractNo: "PO-7", invoiceKeys: ["INV-1", "INV-2"], docHash: docHash)

    /// (kind, payload) for every receivables kind.
    static let receivables: [(String, any TransactionPayload)] = [
        ("credit_line.set", CreditLineSetPayload(lineID: "line1", core: "core1", limit: 1_000_000, expiry: 1_767_225_600)),
        ("certificate.issue", CertificateIssuePayload(creditLineID: "line1", holder: "sup1", face: 100_000, maturity: 1_743_465_600, tradeRef: tradeRef)),
        ("certificate.accept", CertificateRefPayload(certID: "cert-1")),
        ("certificate.reject", CertificateRejectPayload(certID: "cert-1", reason: "wrong amount")),
        ("certificate.reclaim", CertificateRefPayload(certID: "cert-1")),
        ("certificate.split_transfer", CertificateSplitTransferPayload(certID: "cert-1", outputs: [SplitOutput(to: "sup2", amount: 60_000), SplitOutput(to: "sup1", amount: 40_000)])),
        ("financing.request", FinancingRequestPayload(certID: "cert-1", financier: "bank1", advance: 95_000, rateBps: 450, kind: .factoring, recourse: true)),
        ("financing.approve", FinancingRefPayload(finID: "fin-1")),
        ("financing.cancel", FinancingRefPayload(finID: "fin-1")),
        ("financing.release", FinancingRefPayload(finID: "fin-1")),
        ("financing.repay", FinancingRefPayload(finID: "fin-1")),
        ("certificate.settle", RootRefPayload(rootID: "cert-1")),
        ("certificate.mark_overdue", RootRefPayload(rootID: "cert-1")),
        ("asset.freeze", AssetFreezePayload(assetType: .creditBlock, assetID: "cblock-1", reason: "court order")),
        ("asset.unfreeze", AssetFreezePayload(assetType: .certificate, assetID: "cert-1", reason: "lifted")),
    ]

    /// (kind, payload) for every green-assets kind.
    static let green: [(String, any TransactionPayload)] = [
        ("program.register", ProgramRegisterPayload(programID: "CCER", unit: .mwh)),
        ("methodology.register", MethodologyRegisterPayload(methodologyID: "AM0001", version: "1.2", title: "Renewable power", active: true)),
        ("project.register", ProjectRegisterPayload(projectID: "wind-7", programID: "CCER", methodologyID: "AM0001", methodologyVersion: "1.2", country: "CN", location: "Gansu", deviceIDs: ["T-1", "T-2"], sector: "energy", creditingStart: 1_704_067_200, creditingEnd: 2_019_686_400, externalIDs: ["VCS-99"])),
        ("verification.submit", VerificationSubmitPayload(projectID: "wind-7", periodStart: 1_704_067_200, periodEnd: 1_719_792_000, quantity: 12_345, reportHash: docHash)),
        ("credits.issue", CreditsIssuePayload(verificationID: "ver-1", quantity: 12_345, bufferQuantity: 345)),
        ("credits.transfer", CreditsTransferPayload(blockID: "cblock-1", outputs: [CreditsOutput(to: "buyer1", quantity: 300), CreditsOutput(to: "prop1", quantity: 12_000)])),
        ("credits.retire", CreditsRetirePayload(ranges: [RetireRange(blockID: "cblock-1", serialStart: 101, serialEnd: 200), RetireRange(blockID: "cblock-2")], beneficiary: "Acme", purpose: "2024 claim", claimPeriodStart: 1_704_067_200, claimPeriodEnd: 1_735_689_599)),
        ("credits.cancel", CreditsBlockActionPayload(blockID: "cblock-1", reason: "reversal")),
        ("credits.lock", CreditsBlockActionPayload(blockID: "cblock-1", reason: "export")),
        ("credits.unlock", CreditsBlockActionPayload(blockID: "cblock-1", reason: "back")),
    ]

    static func spec(_ kind: String) -> KindSpec? {
        (ReceivablesContract().kinds + GreenAssetsContract().kinds).first { $0.kind == kind }
    }
}

@Suite struct ReceivablesCodecTests {
    @Test func everyKindIsDeclaredOnceWithAPayloadSample() {
        let kinds = (ReceivablesContract().kinds + GreenAssetsContract().kinds).map(\.kind)
        #expect(Set(kinds).count == kinds.count)
        #expect(Set(kinds) == Set((CodecSamples.receivables + CodecSamples.green).map(\.0)))
    }

    /// The JSON form is strict: a field the kind does not have — at the top or nested, as a misspelt optional field
    /// would be — is refused by name instead of dropped, and a number that does not fit its field is named.
    @Test(arguments: (CodecSamples.receivables + CodecSamples.green).map(\.0))
    func jsonWithAFieldTheKindDoesNotHaveIsRefusedByName(kind: String) throws {
        let payload = try #require((CodecSamples.receivables + CodecSamples.green).first { $0.0 == kind }?.1)
        let spec = try #require(CodecSamples.spec(kind))
        let json = try spec.jsonPayload(fromCanonical: payload.canonicalBytes)
        var object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        object["bogus_field"] = 1
        let extra = try JSONSerialization.data(withJSONObject: object)
        #expect { try spec.canonicalPayload(fromJSON: extra) } throws: { ($0 as? TxRejection)?.message.contains("no field \"bogus_field\"") == true }
        // Nested: every object-valued field gets an unknown key too.
        for (key, value) in object where value is [String: Any] {
            var inner = value as! [String: Any]
            inner["green_reff"] = ["kind": "project", "id": "wind-7"]
            var nested = object
            nested.removeValue(forKey: "bogus_field")
            nested[key] = inner
            let data = try JSONSerialization.data(withJSONObject: nested)
            #expect { try spec.canonicalPayload(fromJSON: data) } throws: { ($0 as? TxRejection)?.message.contains("\(key).green_reff") == true }
        }
        // An explicit null for a field is not an unknown field.
        object.removeValue(forKey: "bogus_field")
        object["bogus_null"] = NSNull()
        #expect(try spec.canonicalPayload(fromJSON: JSONSerialization.data(withJSONObject: object)) == payload.canonicalBytes)
    }

    @Test func aNumberOutsideItsFieldIsNamed() throws {
        let spec = try #require(CodecSamples.spec("credit_line.set"))
        for bad in ["-5", "18446744073709551616", "1.5"] {
            let json = Data(#"{"line_id":"line1","core":"core","limit":\#(bad),"expiry":1798761600}"#.utf8)
            #expect { try spec.canonicalPayload(fromJSON: json) } throws: {
                ($0 as? TxRejection)?.message.contains("\"limit\" = ") == true && ($0 as? TxRejection)?.code == "malformed_payload"
            }
        }
        #expect(throws: Never.self) { try spec.canonicalPayload(fromJSON: Data(#"{"line_id":"line1","core":"core","limit":5,"expiry":1798761600}"#.utf8)) }
    }

    @Test(arguments: (CodecSamples.receivables + CodecSamples.green).map(\.0))
    func canonicalAndJSONRoundTrip(kind: String) throws {
        let payload = try #require((CodecSamples.receivables + CodecSamples.green).first { $0.0 == kind }?.1)
        let spec = try #require(CodecSamples.spec(kind))
        let bytes = payload.canonicalBytes
        let decoded = try spec.decodePayload(bytes)
        #expect(decoded.canonicalBytes == bytes)
        #expect(type(of: decoded) == type(of: payload))
        let json = try spec.jsonPayload(fromCanonical: bytes)
        #expect(try spec.canonicalPayload(fromJSON: json) == bytes)
        #expect(try spec.jsonPayload(fromCanonical: spec.canonicalPayload(fromJSON: json)) == json)
        #expect(throws: TxRejection.self) { try spec.decodePayload(bytes + [0]) }
        #expect(throws: TxRejection.self) { try spec.decodePayload(Array(bytes.dropLast())) }
    }

    @Test func fixedByteVectors() throws {
        for (kind, payload) in CodecSamples.receivables + CodecSamples.green {
            let expected = try #require(CodecVectors.hex[kind], "no vector for \(kind): \(Hex.encode(payload.canonicalBytes))")
            #expect(Hex.encode(payload.canonicalBytes) == expected, "vector of \(kind) changed")
        }
    }

    @Test func jsonUsesTheDomainFieldNames() throws {
        let issue = try #require(CodecSamples.spec("certificate.issue"))
        let json = try issue.jsonPayload(fromCanonical: CodecSamples.receivables[1].1.canonicalBytes)
        let text = String(decoding: json, as: UTF8.self)
        #expect(text == #"{"credit_line_id":"line1","face":100000,"holder":"sup1","maturity":1743465600,"trade_ref":{"contract_no":"PO-7","doc_hash":"\#(CodecSamples.docHash.hex)","invoice_keys":["INV-1","INV-2"]}}"#)
        let split = try #require(CodecSamples.spec("certificate.split_transfer"))
        let splitJSON = #"{"cert_id":"c-1","outputs":[{"to":"sup2","amount":5},{"amount":7,"to":"sup1"}]}"#
        let bytes = try split.canonicalPayload(fromJSON: Data(splitJSON.utf8))
        #expect(bytes == CertificateSplitTransferPayload(certID: "c-1", outputs: [SplitOutput(to: "sup2", amount: 5), SplitOutput(to: "sup1", amount: 7)]).canonicalBytes)
        let freeze = try #require(CodecSamples.spec("asset.freeze"))
        #expect(throws: TxRejection.self) { try freeze.canonicalPayload(fromJSON: Data(#"{"asset_type":"house","asset_id":"x","reason":"r"}"#.utf8)) }
        let verification = try #require(CodecSamples.spec("verification.submit"))
        #expect(throws: TxRejection.self) { try verification.canonicalPayload(fromJSON: Data(#"{"project_id":"p","period_start":1,"period_end":2,"quantity":1,"report_hash":"zz"}"#.utf8)) }
        let upper = #"{"project_id":"p","period_start":1,"period_end":2,"quantity":1,"report_hash":"\#(CodecSamples.docHash.hex.uppercased())"}"#
        #expect(try verification.canonicalPayload(fromJSON: Data(upper.utf8)) == VerificationSubmitPayload(projectID: "p", periodStart: 1, periodEnd: 2, quantity: 1, reportHash: CodecSamples.docHash).canonicalBytes)
        let retire = try #require(CodecSamples.spec("credits.retire"))
        let retireJSON = String(decoding: try retire.jsonPayload(fromCanonical: CodecSamples.green[6].1.canonicalBytes), as: UTF8.self)
        #expect(retireJSON.contains(#"{"block_id":"cblock-2"}"#))
        #expect(retireJSON.contains(#""claim_period_start":1704067200"#))
    }

    @Test func strictDecodingRejectsUnknownTagsAndBadBooleans() throws {
        let spec = try #require(CodecSamples.spec("financing.request"))
        var bytes = CodecSamples.receivables[6].1.canonicalBytes
        // Layout ends with: kind tag (u8), recourse (bool).
        bytes[bytes.count - 2] = 7
        #expect(throws: TxRejection.self) { try spec.decodePayload(bytes) }
        bytes[bytes.count - 2] = 0
        bytes[bytes.count - 1] = 2
        #expect(throws: TxRejection.self) { try spec.decodePayload(bytes) }
    }

    @Test func storedRecordsRoundTrip() throws {
        let event = AssetEvent(kind: "certificate.issue", height: 7, time: 1_735_689_600, txHash: CodecSamples.docHash, actor: "core1")
        let cert = Certificate(certID: "cert-1", rootID: "cert-1", parentID: nil, debtor: "core1", holder: "core1", face: 5, issueTime: 1, maturity: 2, tradeRef: CodecSamples.tradeRef, status: .frozen, pendingTo: "sup1", pendingSince: 1, depth: 0, frozenFrom: .pendingAccept, financingID: "fin-1", children: ["a", "b"], events: [event])
        #expect(try CanonicalDecoder.decode(Certificate.self, from: cert.canonicalBytes) == cert)
        let json = try JSONEncoder().encode(cert)
        #expect(try JSONDecoder().decode(Certificate.self, from: json) == cert)
        let root = CertificateRoot(rootID: "cert-1", debtor: "core1", creditLineID: "line1", face: 5, issueTime: 1, maturity: 2, status: .settled, settledAt: 3, payouts: [Payout(certID: "a", to: "sup1", amount: 5, financier: "bank1")])
        #expect(try CanonicalDecoder.decode(CertificateRoot.self, from: root.canonicalBytes) == root)
        let fin = Financing(finID: "fin-1", certID: "cert-1", financier: "bank1", applicant: "sup1", advance: 4, rateBps: 10, kind: .pledge, recourse: false, status: .active, requestedAt: 1, approvedAt: 2)
        #expect(try CanonicalDecoder.decode(Financing.self, from: fin.canonicalBytes) == fin)
        let block = CreditBlock(blockID: "b", batchID: "batch", programID: "CCER", serialStart: 1, serialEnd: 10, owner: "o", status: .retired, frozen: true, parentID: "p", children: [], retirementID: "r", events: [event])
        #expect(try CanonicalDecoder.decode(CreditBlock.self, from: block.canonicalBytes) == block)
        let batch = Batch(batchID: "batch", programID: "CCER", projectID: "p", verID: "v", vintage: 2024, serialStart: 1, serialEnd: 10, bufferQuantity: 1, issuedBy: "registry", issuedAt: 5, height: 6)
        #expect(try CanonicalDecoder.decode(Batch.self, from: batch.canonicalBytes) == batch)
        var inverted = batch
        inverted.serialStart = 11
        #expect(throws: CodecError.self) { try CanonicalDecoder.decode(Batch.self, from: inverted.canonicalBytes) }
        let retirement = Retirement(retID: "r", ranges: [RetiredRange(blockID: "b", batchID: "batch", projectID: "p", vintage: 2024, serialStart: 1, serialEnd: 10, serialText: "CCER-MWh-CN-p-2024-1-10")], retiredBy: "o", beneficiary: "B", purpose: "P", claimPeriodStart: 0, claimPeriodEnd: 1, time: 2, height: 3, txHash: CodecSamples.docHash)
        #expect(try CanonicalDecoder.decode(Retirement.self, from: retirement.canonicalBytes) == retirement)
        #expect(try JSONDecoder().decode(Retirement.self, from: JSONEncoder().encode(retirement)) == retirement)
        let verification = Verification(verID: "v", projectID: "p", verifier: "ver1", accreditationScheme: "CNAS", periodStart: 1, periodEnd: 2, quantity: 3, reportHash: CodecSamples.docHash, verifiedAt: 4, height: 5, batchID: "batch")
        #expect(try CanonicalDecoder.decode(Verification.self, from: verification.canonicalBytes) == verification)
    }

    @Test func utcYearsAtBoundaries() {
        #expect(AssetCalendar.year(of: 0) == 1970)
        #expect(AssetCalendar.year(of: -1) == 1969)
        #expect(AssetCalendar.year(of: 1_704_067_199) == 2023)
        #expect(AssetCalendar.year(of: 1_704_067_200) == 2024)
        #expect(AssetCalendar.year(of: 951_782_400) == 2000) // 2000-02-29
        #expect(AssetCalendar.year(of: 4_102_444_800) == 2100)
    }
}
