// ExecutionFuzzWorld.swift — the valid world the execution fuzzer starts from: a genesis with a member of every role
// (some with boundary accreditation windows), and setup blocks that register programs, a methodology, credit lines
// (one with a limit of 2⁶⁴−1), projects (one crediting over all of Int64), verifications, an issued batch with a
// buffer and accepted certificates. It runs on the real LedgerEngine over a MemoryChainStore (`TestChain`).
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

enum FuzzWorld {
    static let day: Int64 = 86_400
    static let genesisTime: Int64 = 1_767_225_600  // 2026-01-01

    static let governors = ["gov1", "gov2", "gov3"]
    /// Member id → roles. "multi" holds several roles at once (a verifier that is also a proponent, …).
    static let roster: [(String, [Role])] = [
        ("gov1", [.governor]), ("gov2", [.governor]), ("gov3", [.governor]),
        ("core1", [.coreEnterprise]), ("core2", [.coreEnterprise]),
        ("sup1", [.supplier]), ("sup2", [.supplier]), ("sup3", [.supplier]),
        ("bank1", [.financier]), ("bank2", [.financier]),
        ("clear1", [.clearingAgent]), ("reg1", [.regulator]),
        ("prop1", [.proponent]), ("prop2", [.proponent]),
        ("ver1", [.verifier]), ("ver2", [.verifier]),
        ("registry", [.registryOperator]), ("buyer1", [.participant]),
        ("multi", [.supplier, .financier, .proponent, .verifier, .participant]),
    ]
    static let members = roster.map(\.0)

    static func accreditations(_ id: String) -> [AccreditationSpec] {
        switch id {
        case "ver1": return [AccreditationSpec(Accreditation(scheme: "CNAS", sectoralScopes: ["energy", "forestry"], validFrom: genesisTime - 365 * day, validTo: genesisTime + 3650 * day, active: true))]
        case "ver2", "multi": return [AccreditationSpec(Accreditation(scheme: "ALL-TIME", sectoralScopes: ["energy", "forestry", "transport"], validFrom: .min, validTo: .max, active: true))]
        default: return []
        }
    }

    static let validatorNames = ["fuzz-val1", "fuzz-val2", "fuzz-val3", "fuzz-val4"]
    /// Validators governance may add: their keys are known, so the test can still certify blocks.
    static let spareValidatorNames = ["fuzz-val5", "fuzz-val6"]

    /// `requireDocumentAttestation`: the genesis turns `require_document_attestation` on (every other episode), so
    /// issues and verifications run through the attestation check from the first block. `minUpgradeLeadBlocks`:
    /// episodes under rules version 2 schedule it in their first blocks, so they need a short lead.
    static func net(requireDocumentAttestation: Bool = false, minUpgradeLeadBlocks: UInt64 = Parameters.defaultMinUpgradeLeadBlocks) throws -> TestNet {
        let specs = roster.map { id, roles in
            MemberSpec(memberID: id, legalName: "\(id) Ltd", registrationNo: id == "multi" ? "USCC-prop1" : "USCC-\(id)", publicKeys: [testKey(id).publicKey], roles: roles, accreditations: accreditations(id))
        }
        let validators = validatorNames.enumerated().map { i, name in
            GenesisValidator(name: name, validator: Validator(publicKey: testKey(name).publicKey, votingPower: 10, p2pAddress: "127.0.0.1:\(27656 + i)"))
        }
        let genesis = try GenesisDocument(chainID: TestNet.chainID, genesisTime: genesisTime, members: specs, validators: validators,
                                          parameters: Parameters(governanceQuorum: 2, proposalTTLBlocks: 100, maxTxLifetimeBlocks: 100,
                                                                 minUpgradeLeadBlocks: minUpgradeLeadBlocks, requireDocumentAttestation: requireDocumentAttestation))
        return TestNet(genesis: genesis, validatorNames: validatorNames)
    }

    /// An unsigned transaction carrying the signers' registered keys and zero signatures: the fuzzer executes with
    /// `SignaturePolicy.allVerified` (signatures are not under test here; EnvelopeTests covers them).
    static func tx(_ signer: String, _ kind: String, payload: [UInt8], nonce: UInt64, expires: UInt64, cosigners: [String] = []) -> Transaction {
        let body = TransactionBody(chainID: TestNet.chainID, kind: kind, payload: payload, signer: signer, nonce: nonce, expiresAtHeight: expires, cosigners: cosigners)
        let zero = (try? Signature(bytes: [UInt8](repeating: 0, count: 64)))!
        let signatures = ([signer] + cosigners).map { TransactionSignature(memberID: $0, publicKey: testKey($0).publicKey, signature: zero) }
        return Transaction(body: body, signatures: signatures)
    }

    static func hash(_ text: String) -> Hash { SHA256.hash(Array(text.utf8)) }

    /// The setup blocks, as (signer, kind, payload, co-signers). Every one of them must be accepted.
    /// With `requireDocumentAttestation` a first block attests the documents the setup's issues and verifications
    /// cite, each by the member the rule asks for.
    static func setup(requireDocumentAttestation: Bool = false) -> [[(String, String, any TransactionPayload, [String])]] {
        let t = genesisTime + 10
        let attestations: [[(String, String, any TransactionPayload, [String])]] = requireDocumentAttestation ? [[
            ("core1", "evidence.attest", AttestPayload(docHash: hash("INV-1"), docKind: .invoice, title: "INV-1"), []),
            ("core1", "evidence.attest", AttestPayload(docHash: hash("INV-2"), docKind: .invoice, title: "INV-2"), []),
            ("ver1", "evidence.attest", AttestPayload(docHash: hash("r1"), docKind: .verificationReport, title: "r1"), []),
            ("ver2", "evidence.attest", AttestPayload(docHash: hash("r-all"), docKind: .verificationReport, title: "r-all"), []),
        ]] : []
        return attestations + [
            [("registry", "program.register", ProgramRegisterPayload(programID: "CCER", unit: .tCO2e), []),
             ("registry", "methodology.register", MethodologyRegisterPayload(methodologyID: "AM0001", version: "1", title: "Grid power", active: true), []),
             ("bank1", "credit_line.set", CreditLineSetPayload(lineID: "line1", core: "core1", limit: 1_000_000_000, expiry: t + 730 * day), ["core1"]),
             ("bank2", "credit_line.set", CreditLineSetPayload(lineID: "line-max", core: "core1", limit: .max, expiry: .max), ["core1"]),
             ("multi", "credit_line.set", CreditLineSetPayload(lineID: "line-core2", core: "core2", limit: .max, expiry: t + 3650 * day), ["core2"])],
            [("registry", "program.register", ProgramRegisterPayload(programID: "REC", unit: .mwh), []),
             ("prop1", "project.register", ProjectRegisterPayload(projectID: "p1", programID: "CCER", methodologyID: "AM0001", methodologyVersion: "1", country: "CN", location: "Gansu", deviceIDs: ["dev1"], sector: "energy", creditingStart: genesisTime - 730 * day, creditingEnd: genesisTime + 3650 * day, externalIDs: ["EXT-1"]), ["registry"]),
             ("prop2", "project.register", ProjectRegisterPayload(projectID: "p-all", programID: "REC", methodologyID: "AM0001", methodologyVersion: "1", country: "DE", location: "Everywhere", deviceIDs: ["dev-all"], sector: "forestry", creditingStart: .min, creditingEnd: .max, externalIDs: []), ["registry"]),
             ("core1", "certificate.issue", CertificateIssuePayload(creditLineID: "line1", holder: "sup1", face: 1_000_000, maturity: t + 90 * day, tradeRef: TradeRef(contractNo: "PO-1", invoiceKeys: ["INV-1"], docHash: hash("INV-1"))), []),
             ("core1", "certificate.issue", CertificateIssuePayload(creditLineID: "line-max", holder: "sup2", face: .max, maturity: t + 30 * day, tradeRef: TradeRef(contractNo: "PO-2", invoiceKeys: ["INV-2"], docHash: hash("INV-2"))), [])],
            [("ver1", "verification.submit", VerificationSubmitPayload(projectID: "p1", periodStart: genesisTime - 365 * day, periodEnd: genesisTime, quantity: 1_000_000, reportHash: hash("r1")), []),
             ("ver2", "verification.submit", VerificationSubmitPayload(projectID: "p-all", periodStart: .min, periodEnd: genesisTime, quantity: .max, reportHash: hash("r-all")), [])],
        ]
    }
}

extension TestNet {
    /// A net with its own genesis (the fuzzer's roster) instead of the standard test roster.
    init(genesis: GenesisDocument, validatorNames: [String]) {
        self.validatorNames = validatorNames
        self.genesis = genesis
    }
}
