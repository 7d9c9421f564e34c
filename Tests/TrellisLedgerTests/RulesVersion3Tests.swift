// RulesVersion3Tests.swift — rules version 3: a member not entitled to an object learns nothing about it from its
// own receipt (docs/TRANSACTIONS.md §M "Rule versions", docs/ACCESS.md "What a rejection tells"). Under version 3
// certificate.accept/reject answer a non-offeree, and reclaim a non-sender, before any check of the piece's state;
// mark_overdue is for a clearing agent or the root's debtor; evidence.attest's refs to party-readable objects need
// the signer to be a party, absent and not-a-party giving one code. The entitled member still gets the precise
// code, and versions 1 and 2 answer exactly as before (receipts are consensus data: old chains replay unchanged).
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

@Suite struct RulesVersion3Tests {
    static let day = ContractHarness.day

    /// The outcome's code and, for a rejection, its message.
    func answer<P: TransactionPayload>(_ h: ContractHarness, _ kind: String, _ payload: P, by signer: String, cosigners: [String] = []) throws -> (code: String?, message: String?) {
        h.lastRejection = nil
        let before = h.snapshot
        let outcome = try h.submit(kind, payload, by: signer, cosigners: cosigners)
        if outcome.code != nil { #expect(h.snapshot == before, "a rejected \(kind) by \(signer) changed the state") }
        return (outcome.code, outcome.code == nil ? nil : h.lastRejection?.message)
    }

    /// A message that names nothing of the object but its id: no status, no party, no time.
    func namesNoState(_ message: String?, _ words: [String]) -> Bool {
        guard let message else { return false }
        return !words.contains { message.contains($0) }
    }

    // MARK: L1, L2: accept / reject / reclaim

    @Test func acceptRejectAndReclaimAnswerANonPartyBeforeThePiecesState() throws {
        for version: UInt32 in [1, 2, 3] {
            let h = try ContractHarness.receivablesWorld()
            h.rulesVersion = version
            // A root issued by core1 and offered to sup1, then frozen by a regulator.
            let pending = try #require(try h.ok("certificate.issue", CertificateIssuePayload(creditLineID: "line1", holder: "sup1", face: 1_000, maturity: h.time + 30 * Self.day, tradeRef: h.tradeRef(["INV-F"])), by: "core1").first)
            try h.ok("asset.freeze", AssetFreezePayload(assetType: .certificate, assetID: pending, reason: "court"), by: "reg1")
            // An accepted (active) piece held by sup1.
            let active = try h.issueAccepted(face: 500, invoices: ["INV-A"])
            let stateWords = ["frozen", "pending", "active", "sup1", "core1"]

            for kind in ["certificate.accept", "certificate.reject"] {
                func payload(_ id: String) -> any TransactionPayload {
                    kind == "certificate.accept" ? CertificateRefPayload(certID: id) : CertificateRejectPayload(certID: id, reason: "x")
                }
                let frozen = try answer(h, kind, payload(pending), by: "sup2")
                let notPending = try answer(h, kind, payload(active), by: "sup2")
                if version < 3 {
                    // Exactly today's receipts: the state before the offeree.
                    #expect(frozen.code == "asset_frozen" && frozen.message == "certificate \(pending) is frozen by a regulator", "v\(version) \(kind): \(frozen)")
                    #expect(notPending.code == "not_pending" && notPending.message == "certificate \(active) is active, not pending acceptance", "v\(version) \(kind): \(notPending)")
                } else {
                    for a in [frozen, notPending] {
                        #expect(a.code == "not_recipient" && namesNoState(a.message, stateWords), "v3 \(kind): \(a)")
                    }
                }
                // The offeree still learns the precise reason; an absent id is unknown for everyone.
                let offeree = try answer(h, kind, payload(pending), by: "sup1")
                #expect(offeree.code == "asset_frozen" && offeree.message == "certificate \(pending) is frozen by a regulator", "v\(version) \(kind): \(offeree)")
                #expect(try answer(h, kind, payload("cert-404"), by: "sup2").code == "unknown_certificate")
            }

            // reclaim: the sender (holder) is checked first under version 3.
            let frozen = try answer(h, "certificate.reclaim", CertificateRefPayload(certID: pending), by: "sup2")
            let notPending = try answer(h, "certificate.reclaim", CertificateRefPayload(certID: active), by: "sup2")
            if version < 3 {
                #expect(frozen.code == "asset_frozen" && frozen.message == "certificate \(pending) is frozen by a regulator", "v\(version): \(frozen)")
                #expect(notPending.code == "not_pending" && notPending.message == "certificate \(active) is active, not pending acceptance", "v\(version): \(notPending)")
            } else {
                for a in [frozen, notPending] {
                    #expect(a.code == "not_holder" && namesNoState(a.message, stateWords), "v3 reclaim: \(a)")
                }
            }
            #expect(try answer(h, "certificate.reclaim", CertificateRefPayload(certID: pending), by: "core1").code == "asset_frozen")
            #expect(try answer(h, "certificate.reclaim", CertificateRefPayload(certID: active), by: "sup1").code == "not_pending")

            // After unfreezing, the offeree accepts as before, in every version.
            try h.ok("asset.unfreeze", AssetFreezePayload(assetType: .certificate, assetID: pending, reason: "lifted"), by: "reg1")
            try h.ok("certificate.accept", CertificateRefPayload(certID: pending), by: "sup1")
        }
    }

    // MARK: L4: mark_overdue

    @Test func markOverdueIsForAClearingAgentOrTheDebtorFromVersion3() throws {
        for version: UInt32 in [1, 2, 3] {
            let h = try ContractHarness.receivablesWorld()
            h.rulesVersion = version
            let root = try h.issueAccepted(face: 1_000, maturityDays: 30, invoices: ["INV-O"])
            let maturity = try h.certificate(root).maturity
            let due = maturity + Parameters.default.gracePeriodSeconds
            let early = try answer(h, "certificate.mark_overdue", RootRefPayload(rootID: root), by: "sup2")
            if version < 3 {
                #expect(early.code == "not_overdue_yet" && early.message?.contains("\(due)") == true, "v\(version): \(early)")
            } else {
                #expect(early.code == "not_debtor" && namesNoState(early.message, ["\(due)", "\(maturity)", "core1", "overdue at"]), "v3: \(early)")
                // The holder is not entitled either (as for settle); the debtor and a clearing agent are, and get
                // the precise reason.
                #expect(try answer(h, "certificate.mark_overdue", RootRefPayload(rootID: root), by: "sup1").code == "not_debtor")
            }
            #expect(try answer(h, "certificate.mark_overdue", RootRefPayload(rootID: root), by: "core1").code == "not_overdue_yet")
            #expect(try answer(h, "certificate.mark_overdue", RootRefPayload(rootID: root), by: "clear1").code == "not_overdue_yet")
            #expect(try answer(h, "certificate.mark_overdue", RootRefPayload(rootID: "cert-404"), by: "sup2").code == "unknown_certificate")

            h.advance(seconds: 61 * Self.day)
            let late = try answer(h, "certificate.mark_overdue", RootRefPayload(rootID: root), by: "sup2")
            if version < 3 {
                // Any member marks it and is told its live pieces.
                #expect(late.code == nil, "v\(version): \(late)")
                #expect(try h.certificate(root).status == .overdue)
            } else {
                #expect(late.code == "not_debtor", "v3: \(late)")
                #expect(try h.certificate(root).status == .active)
                #expect(try h.ok("certificate.mark_overdue", RootRefPayload(rootID: root), by: "core1") == [root])
                #expect(try h.certificate(root).status == .overdue)
            }
            #expect(try answer(h, "certificate.mark_overdue", RootRefPayload(rootID: root), by: "clear1").code == "already_overdue")
            let again = try answer(h, "certificate.mark_overdue", RootRefPayload(rootID: root), by: "sup2")
            #expect(again.code == (version < 3 ? "already_overdue" : "not_debtor"), "v\(version): \(again)")
        }
    }

    // MARK: L5: evidence.attest refs

    func attest(_ text: String, _ refs: [EvidenceRef]) -> AttestPayload {
        AttestPayload(docHash: SHA256.hash(Array(text.utf8)), docKind: .other, title: text, refs: refs)
    }

    @Test func attestationRefsToPartyReadableObjectsNeedTheSignerToBeAParty() throws {
        for version: UInt32 in [1, 2, 3] {
            let h = try ContractHarness.receivablesWorld()
            h.rulesVersion = version
            let cert = try h.issueAccepted(face: 1_000, invoices: ["INV-E"])
            let fin = try #require(try h.ok("financing.request", FinancingRequestPayload(certID: cert, financier: "bank1", advance: 900, rateBps: 300, kind: .factoring, recourse: false), by: "sup1").first)
            h.put(GreenAssetsKeys.project("wind-9"), [1])  // a kind with no party rule: existence only
            let objects: [(ref: EvidenceRef, party: String, absent: EvidenceRef)] = [
                (EvidenceRef(kind: .certificate, id: cert), "core1", EvidenceRef(kind: .certificate, id: "cert-404")),
                (EvidenceRef(kind: .financing, id: fin), "bank1", EvidenceRef(kind: .financing, id: "fin-404")),
                (EvidenceRef(kind: .creditLine, id: "line1"), "core1", EvidenceRef(kind: .creditLine, id: "line-404")),
            ]
            for (i, o) in objects.enumerated() {
                let other = try answer(h, EvidenceContract.attest, attest("doc-\(i)", [o.ref]), by: "sup2")
                let absent = try answer(h, EvidenceContract.attest, attest("doc-absent-\(i)", [o.absent]), by: "sup2")
                #expect(absent.code == "unknown_ref")
                if version < 3 {
                    #expect(other.code == nil, "v\(version) \(o.ref): \(other)")
                } else {
                    // One answer for absent and not a party: the same code, the same message but for the id.
                    #expect(other.code == "unknown_ref", "v3 \(o.ref): \(other)")
                    #expect(other.message?.replacingOccurrences(of: o.ref.id, with: "ID") == absent.message?.replacingOccurrences(of: o.absent.id, with: "ID"), "v3: \(other) vs \(absent)")
                }
                #expect(try answer(h, EvidenceContract.attest, attest("doc-party-\(i)", [o.ref]), by: o.party).code == nil, "v\(version) \(o.ref) by \(o.party)")
            }
            #expect(try answer(h, EvidenceContract.attest, attest("doc-holder", [EvidenceRef(kind: .certificate, id: cert)]), by: "sup1").code == nil)
            #expect(try answer(h, EvidenceContract.attest, attest("doc-applicant", [EvidenceRef(kind: .financing, id: fin)]), by: "sup1").code == nil)
            #expect(try answer(h, EvidenceContract.attest, attest("doc-project", [EvidenceRef(kind: .project, id: "wind-9")]), by: "sup2").code == nil)
        }
    }

    @Test func attestationRefsToCreditBlocksAndRetirementsNeedTheOwnerOrRetirer() throws {
        for version: UInt32 in [1, 2, 3] {
            let h = try ContractHarness.greenWorld()
            h.rulesVersion = version
            let issued = try h.projectWithIssuance("wind-1", device: "T1", quantity: 100)
            let block = try #require(issued.block)
            let ids = try h.ok("credits.retire", CreditsRetirePayload(ranges: [RetireRange(blockID: block, serialStart: nil, serialEnd: nil)], beneficiary: "B", purpose: "P", claimPeriodStart: 0, claimPeriodEnd: 1), by: "prop1")
            let retirement = try #require(ids.first)
            for (i, ref) in [EvidenceRef(kind: .creditBlock, id: block), EvidenceRef(kind: .retirement, id: retirement)].enumerated() {
                let other = try answer(h, EvidenceContract.attest, attest("g-\(i)", [ref]), by: "buyer1")
                #expect(other.code == (version < 3 ? nil : "unknown_ref"), "v\(version) \(ref): \(other)")
                #expect(try answer(h, EvidenceContract.attest, attest("g-own-\(i)", [ref]), by: "prop1").code == nil, "v\(version) \(ref)")
            }
        }
    }
}
