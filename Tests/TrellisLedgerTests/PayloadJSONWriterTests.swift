// PayloadJSONWriterTests.swift — every direct payload JSON writer (PayloadJSON+Writers.swift) writes exactly the
// bytes JSONEncoder writes through the payload's Encodable conformance (sorted keys, "/" unescaped), for the codec
// samples of every kind and for strings with every kind of character: printable ASCII with the escaped characters
// is written, anything else (control characters, DEL, non-ASCII) makes the writer decline (`ok` false) — never
// different bytes.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

@Suite struct PayloadJSONWriterTests {
    static let key1 = try! PublicKey(bytes: (0..<32).map { UInt8($0) })
    static let key2 = try! PublicKey(bytes: (0..<32).map { UInt8(255 - $0) })

    /// Every sample payload: the codec samples of every receivables and green kind, and a key rotation.
    static var samples: [(String, any TransactionPayload)] {
        CodecSamples.receivables + CodecSamples.green + [
            ("member.rotate_keys", RotateKeysPayload(addKeys: [key1, key2], removeKeys: [])),
            ("member.rotate_keys", RotateKeysPayload(addKeys: [], removeKeys: [key2])),
            ("evidence.attest", AttestPayload(docHash: CodecSamples.docHash, docKind: .invoice, title: "Invoice 1",
                                              metadata: [EvidenceMetadataEntry(key: "seller", value: "sup1"), EvidenceMetadataEntry(key: "no", value: "INV-1")],
                                              refs: [EvidenceRef(kind: .certificate, id: "cert-1")])),
            ("evidence.attest", AttestPayload(docHash: CodecSamples.docHash, docKind: .other, title: "t")),
        ]
    }

    /// The kinds that have a direct writer; the rest take the Encodable path (a change here is deliberate).
    static let kindsWithWriters: Set<String> = [
        "member.rotate_keys", "credit_line.set", "certificate.issue", "certificate.accept", "certificate.reject",
        "certificate.reclaim", "certificate.split_transfer", "financing.request", "financing.approve", "financing.cancel",
        "financing.release", "financing.repay", "certificate.settle", "certificate.mark_overdue", "asset.freeze", "asset.unfreeze",
        "program.register", "methodology.register", "project.register", "verification.submit", "credits.issue",
        "credits.transfer", "credits.retire", "credits.cancel", "credits.lock", "credits.unlock", "evidence.attest",
    ]

    static func encoderBytes(_ payload: any TransactionPayload) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(payload))
    }

    /// The direct writer's bytes, nil when the kind has none, or "declined" when it could not promise a string.
    static func direct(_ payload: any TransactionPayload) -> (wrote: Bool, ok: Bool, bytes: [UInt8]) {
        var writer = PayloadJSONWriter()
        let wrote = payload.writeJSON(into: &writer)
        return (wrote, writer.ok, writer.bytes)
    }

    @Test func everySampleIsWrittenAsJSONEncoderWritesIt() throws {
        var written = Set<String>()
        for (kind, payload) in Self.samples {
            let d = Self.direct(payload)
            guard d.wrote else {
                #expect(d.bytes.isEmpty, "\(kind): a kind without a writer writes nothing")
                continue
            }
            #expect(d.ok, "\(kind)")
            #expect(d.bytes == (try Self.encoderBytes(payload)), "\(kind): \(String(decoding: d.bytes, as: UTF8.self))")
            written.insert(kind)
        }
        #expect(written == Self.kindsWithWriters)
    }

    /// Texts with every class of character JSON treats differently.
    static let texts: [(text: String, printable: Bool)] = [
        ("", true), ("plain-id_1", true), ("a/b", true), ("q\"uote", true), ("back\\slash", true), ("\"\\\"", true),
        (" ~!#$%&'()*+,-.:;<=>?@[]^`{|}", true),
        ("tab\there", false), ("line\nbreak", false), ("nul\u{0}", false), ("del\u{7F}", false), ("\u{1F}", false),
        ("é", false), ("中文", false), ("emoji 🙂", false), ("\u{2028}", false),
    ]

    @Test func stringsAreWrittenExactlyOrDeclined() throws {
        for (text, printable) in Self.texts {
            let variants: [any TransactionPayload] = [
                CreditLineSetPayload(lineID: text, core: "core1", limit: 1, expiry: -1),
                CertificateIssuePayload(creditLineID: "l", holder: text, face: 1, maturity: 2,
                                        tradeRef: TradeRef(contractNo: text, invoiceKeys: [text, "b"], docHash: CodecSamples.docHash, greenRef: GreenRef(kind: .retirement, id: text))),
                CertificateRefPayload(certID: text),
                CertificateRejectPayload(certID: "c", reason: text),
                CertificateSplitTransferPayload(certID: "c", outputs: [SplitOutput(to: text, amount: 5)]),
                FinancingRequestPayload(certID: text, financier: text, advance: 1, rateBps: 2, kind: .pledge, recourse: false),
                FinancingRefPayload(finID: text),
                RootRefPayload(rootID: text),
                AssetFreezePayload(assetType: .certificate, assetID: "a", reason: text),
                ProgramRegisterPayload(programID: text, unit: .tCO2e),
                MethodologyRegisterPayload(methodologyID: "m", version: text, title: text, active: false),
                ProjectRegisterPayload(projectID: text, programID: "p", methodologyID: "m", methodologyVersion: text, country: text, location: text,
                                       deviceIDs: [text], sector: text, creditingStart: -1, creditingEnd: 1, externalIDs: [text, text]),
                VerificationSubmitPayload(projectID: text, periodStart: 0, periodEnd: 1, quantity: 2, reportHash: CodecSamples.docHash),
                CreditsIssuePayload(verificationID: text, quantity: 1, bufferQuantity: 0),
                CreditsTransferPayload(blockID: text, outputs: [CreditsOutput(to: text, quantity: 3)]),
                CreditsRetirePayload(ranges: [RetireRange(blockID: text, serialStart: 1), RetireRange(blockID: "b", serialEnd: 9)], beneficiary: text,
                                     purpose: text, claimPeriodStart: .min, claimPeriodEnd: .max),
                CreditsBlockActionPayload(blockID: "b", reason: text),
            ]
            for payload in variants {
                let d = Self.direct(payload)
                #expect(d.wrote)
                #expect(d.ok == printable, "\(text.debugDescription) in \(type(of: payload))")
                if d.ok {
                    #expect(d.bytes == (try Self.encoderBytes(payload)), "\(text.debugDescription) in \(type(of: payload))")
                }
            }
        }
    }

    /// The attestation's writer never declines (`PayloadJSONWriter.text`): for every class of character it writes
    /// JSONEncoder's bytes — metadata keys included, sorted by their UTF-8 bytes.
    @Test func attestationsAreWrittenForEveryStringAsJSONEncoderWritesThem() throws {
        for (text, _) in Self.texts {
            let payload = AttestPayload(docHash: CodecSamples.docHash, docKind: .billOfLading, title: text,
                                        metadata: [EvidenceMetadataEntry(key: text, value: text), EvidenceMetadataEntry(key: "B" + text, value: "1"),
                                                   EvidenceMetadataEntry(key: "a10", value: text), EvidenceMetadataEntry(key: "a9", value: "")],
                                        refs: [EvidenceRef(kind: .project, id: text), EvidenceRef(kind: .attestation, id: "x")])
            let d = Self.direct(payload)
            #expect(d.wrote && d.ok, "\(text.debugDescription)")
            #expect(d.bytes == (try Self.encoderBytes(payload)), "\(text.debugDescription): \(String(decoding: d.bytes, as: UTF8.self))")
        }
        // Keys distinct as bytes that Unicode calls equal: JSONEncoder keeps one, the view keeps both, byte-sorted.
        let both = AttestPayload(docHash: CodecSamples.docHash, docKind: .invoice, title: "t",
                                 metadata: [EvidenceMetadataEntry(key: "\u{e9}", value: "1"), EvidenceMetadataEntry(key: "e\u{301}", value: "2")])
        let d = Self.direct(both)
        #expect(String(decoding: d.bytes, as: UTF8.self).contains(#""metadata":{"e\#u{301}":"2","\#u{e9}":"1"}"#), "\(String(decoding: d.bytes, as: UTF8.self))")
    }

    @Test func numbersAndOptionalsAreWrittenAsJSONEncoderWritesThem() throws {
        let payloads: [any TransactionPayload] = [
            CreditLineSetPayload(lineID: "l", core: "c", limit: .max, expiry: .min),
            CreditLineSetPayload(lineID: "l", core: "c", limit: 0, expiry: .max),
            CreditLineSetPayload(lineID: "l", core: "c", limit: 10, expiry: -10),
            CertificateIssuePayload(creditLineID: "l", holder: "h", face: 9, maturity: 0,
                                    tradeRef: TradeRef(contractNo: "", invoiceKeys: [], docHash: CodecSamples.docHash)),
            CertificateSplitTransferPayload(certID: "c", outputs: []),
            CertificateSplitTransferPayload(certID: "c", outputs: [SplitOutput(to: "a", amount: .max), SplitOutput(to: "b", amount: 0)]),
            FinancingRequestPayload(certID: "c", financier: "f", advance: 100, rateBps: .max, kind: .factoring, recourse: true),
            RotateKeysPayload(addKeys: [], removeKeys: []),
            ProjectRegisterPayload(projectID: "p", programID: "q", methodologyID: "m", methodologyVersion: "1", country: "", location: "",
                                   deviceIDs: [], sector: "", creditingStart: .min, creditingEnd: .max, externalIDs: []),
            CreditsRetirePayload(ranges: [], beneficiary: "", purpose: "", claimPeriodStart: 0, claimPeriodEnd: 0),
            CreditsRetirePayload(ranges: [RetireRange(blockID: "b"), RetireRange(blockID: "c", serialStart: .max, serialEnd: 0)], beneficiary: "x",
                                 purpose: "y", claimPeriodStart: -5, claimPeriodEnd: 5),
            CreditsTransferPayload(blockID: "b", outputs: []),
        ]
        for payload in payloads {
            let d = Self.direct(payload)
            #expect(d.wrote && d.ok)
            #expect(d.bytes == (try Self.encoderBytes(payload)), "\(String(decoding: d.bytes, as: UTF8.self))")
        }
    }
}
