// AuditCertificateTests.swift — offline certificates (`trellis audit certificate`, docs/EXPORT-FORMAT.md §7.1): a
// retirement, a holding and an attestation certified at the tip of a chain whose validator set changed after genesis
// verify with the genesis alone (their validator chain carries the set), state what they prove and at which height,
// refuse a claim the record does not support, and fail on every single-field tampering.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisLedger
@testable import TrellisAudit

@Suite struct AuditCertificateTests {
    static func certificate(_ subject: ProofSubject, chain: AuditTestChain, height: UInt64? = nil) throws -> ProofFile {
        let source = StoreChainSource(genesis: chain.genesis, store: chain.store)
        return try AuditCertificates.build(subject, genesis: chain.genesis, provider: source, height: height) { (key, h) throws(AuditError) in
            do {
                let read = try source.reader.read(key, atHeight: h, prove: true)
                guard let proof = read.proof else { throw AuditError.source("no proof") }
                return (read.value, proof)
            } catch let e as AuditError { throw e } catch { throw .source("\(error)") }
        }
    }

    @Test func retirementCertificateVerifiesWithTheGenesisAloneAndEveryTamperingFails() throws {
        let chain = try AuditTestChain.build()
        let file = try Self.certificate(ProofSubject(type: ProofSubject.retirement, id: chain.retirementID), chain: chain)
        #expect(file.height == 7 && file.validatorChain?.isEmpty == false)
        let data = try proofData(file)
        let fact = try ProofChecker.check(try ProofChecker.parse(data), genesis: chain.genesis)
        #expect(fact.height == 7)
        #expect(fact.statement.hasPrefix("Retirement \(chain.retirementID) is recorded on the ledger at height 7 "), "\(fact.statement)")
        #expect(fact.statement.contains("100 units retired by buyer1 for beneficiary Acme Foods Co."), "\(fact.statement)")

        // Without its validator chain the genesis set no longer matches the header (a fifth validator joined at 4).
        var bare = file
        bare.validatorChain = nil
        #expect(throws: AuditError.self) { _ = try ProofChecker.check(bare, genesis: chain.genesis) }
        // Another genesis is refused.
        let other = try GenesisDocument(chainID: AuditTestChain.chainID, genesisTime: AuditTestChain.genesisTime + 1, members: chain.genesis.members.map(MemberSpec.init),
                                        validators: chain.genesis.validators, parameters: chain.genesis.parameters)
        #expect(throws: AuditError.self) { _ = try ProofChecker.check(file, genesis: other) }

        let altered = try alterations(of: data)
        #expect(altered.count >= 15)
        for (field, bytes) in altered {
            #expect(throws: AuditError.self, "altering \(field) went unnoticed") {
                _ = try ProofChecker.check(try ProofChecker.parse(bytes), genesis: chain.genesis)
            }
        }
        // A light block no step needs, or a second copy of one, is refused too.
        var padded = file
        let source = StoreChainSource(genesis: chain.genesis, store: chain.store)
        padded.validatorChain = (padded.validatorChain ?? []) + [LightBlockFile(try source.lightBlock(atHeight: 2))]
        #expect(throws: AuditError.self) { _ = try ProofChecker.check(padded, genesis: chain.genesis) }
    }

    @Test func holdingCertificatesStateTheHolderAndRefuseOthers() throws {
        let chain = try AuditTestChain.build()
        // The split of block 4 kept 60,000 with sup1 (active) and sent 40,000 to sup2, who has not accepted it yet.
        let toSup2 = try #require(chain.certChildren.first), kept = try #require(chain.certChildren.dropFirst().first)
        let file = try Self.certificate(ProofSubject(type: ProofSubject.holding, id: kept, member: "sup1"), chain: chain, height: 5)
        let fact = try ProofChecker.check(try ProofChecker.parse(try proofData(file)), genesis: chain.genesis)
        #expect(fact.statement.hasPrefix("Member sup1 holds payable certificate \(kept) at height 5 "), "\(fact.statement)")
        #expect(fact.statement.contains("face 60000") && fact.statement.contains("status active"), "\(fact.statement)")

        // sup2 does not hold the piece it has not accepted, and sup1 no longer does (pending transfer); the split root
        // is consumed; an unknown id has no record.
        #expect(throws: AuditError.self) { _ = try Self.certificate(ProofSubject(type: ProofSubject.holding, id: toSup2, member: "sup2"), chain: chain) }
        #expect(throws: AuditError.self) { _ = try Self.certificate(ProofSubject(type: ProofSubject.holding, id: toSup2, member: "sup1"), chain: chain) }
        #expect(throws: AuditError.self) { _ = try Self.certificate(ProofSubject(type: ProofSubject.holding, id: chain.certRoot, member: "sup1"), chain: chain) }
        #expect(throws: AuditError.self) { _ = try Self.certificate(ProofSubject(type: ProofSubject.holding, id: "cert-none", member: "sup1"), chain: chain) }
        // A valid holding file whose subject is edited to name another member (or another certificate) fails offline.
        var otherMember = file
        otherMember.subject?.member = "sup2"
        #expect(throws: AuditError.self) { _ = try ProofChecker.check(otherMember, genesis: chain.genesis) }
        var otherID = file
        otherID.subject?.id = chain.certRoot
        #expect(throws: AuditError.self) { _ = try ProofChecker.check(otherID, genesis: chain.genesis) }
        var otherType = file
        otherType.subject?.type = ProofSubject.retirement
        #expect(throws: AuditError.self) { _ = try ProofChecker.check(otherType, genesis: chain.genesis) }
    }

    @Test func attestationCertificateSaysAttestedOrRevoked() throws {
        let chain = try AuditTestChain.build()
        let document = SHA256.hash(Array("bill of lading 42\n".utf8))
        try chain.commit([chain.tx("sup1", "evidence.attest", AttestPayload(docHash: document, docKind: .billOfLading, title: "B/L 42\nline two"))])
        let file = try Self.certificate(ProofSubject(type: ProofSubject.attestation, id: document.hex), chain: chain)
        let fact = try ProofChecker.check(try ProofChecker.parse(try proofData(file)), genesis: chain.genesis)
        #expect(fact.height == 8)
        #expect(fact.statement.hasPrefix("Document \(document.hex) (bill_of_lading) is ATTESTED at height 8 "), "\(fact.statement)")
        // The title's newline is shown escaped: one attestation, one line.
        #expect(fact.statement.contains("attested by sup1 at height 8") && fact.statement.contains("\"B/L 42\\u{a}line two\""), "\(fact.statement)")
        #expect(fact.statement.split(separator: "\n").count == 2)
        #expect(throws: AuditError.self) {
            _ = try Self.certificate(ProofSubject(type: ProofSubject.attestation, id: SHA256.hash(Array("never attested".utf8)).hex), chain: chain)
        }
        #expect(throws: AuditError.self) { _ = try Self.certificate(ProofSubject(type: ProofSubject.attestation, id: "not-a-hash"), chain: chain) }

        // A co-attestation, then each attester withdraws: ATTESTED while one stands, REVOKED once none does.
        let subject = ProofSubject(type: ProofSubject.attestation, id: document.hex)
        func statement() throws -> String {
            try ProofChecker.check(try ProofChecker.parse(try proofData(try Self.certificate(subject, chain: chain))), genesis: chain.genesis).statement
        }
        try chain.commit([chain.tx("sup2", "evidence.attest", AttestPayload(docHash: document, docKind: .billOfLading, title: "B/L 42 copy"))])
        try chain.commit([chain.tx("sup1", "evidence.revoke", RevokeAttestationPayload(docHash: document, reason: "superseded"))])
        let oneStands = try statement()
        #expect(oneStands.hasPrefix("Document \(document.hex) (bill_of_lading) is ATTESTED at height 10 "), "\(oneStands)")
        #expect(oneStands.contains("attested by sup1 at height 8") && oneStands.contains(": withdrawn"), "\(oneStands)")
        #expect(oneStands.contains("attested by sup2 at height 9") && oneStands.contains(": stands"), "\(oneStands)")
        try chain.commit([chain.tx("sup2", "evidence.revoke", RevokeAttestationPayload(docHash: document, reason: "void"))])
        let revoked = try statement()
        #expect(revoked.hasPrefix("Document \(document.hex) (bill_of_lading) is REVOKED (every attester withdrew) at height 11 "), "\(revoked)")
        #expect(revoked.split(separator: "\n").count == 3 && !revoked.contains(": stands"), "\(revoked)")
    }
}
