// AuditInvalidSignatureTests.swift — a transaction whose signature does not verify, put in a block by a proposer
// that bypassed the mempool, is committed by an honest chain as an `invalid_signature` rejection with its nonce
// unused. `audit verify` (fast path, reference passes, a home), the transaction proof checker and the independent
// verifier accept that chain, and reject the chains a dishonest majority would certify instead: the transaction
// executed (ok), or rejected by its contract with its nonce consumed. The blocks are built with the real keys and
// executor, as such a proposer would build them.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisLedger
@testable import TrellisAudit

@Suite struct AuditInvalidSignatureTests {
    static let t = AuditTestChain.genesisTime
    static let trade = TradeRef(contractNo: "PO-9", invoiceKeys: ["INV-9"], docHash: SHA256.hash(Array("invoice 9".utf8)))
    static let issue = CertificateIssuePayload(creditLineID: "line1", holder: "sup1", face: 50_000, maturity: t + 90 * AuditTestChain.day, tradeRef: trade)

    /// Block 1: a credit line for core1. Block 2, by a proposer bypassing the mempool: core1's certificate.issue with
    /// a bad signature, then a valid program.register — executed with `signatures`. Block 3 (honest chain only): core1
    /// issues again with the same nonce, validly signed, which only works if block 2 left the nonce unused.
    static func chain(block2 signatures: SignaturePolicy, forged: (AuditTestChain) -> Transaction) throws -> (chain: AuditTestChain, block2: [Receipt]) {
        let c = try AuditTestChain()
        try c.commit([c.tx("bank1", "credit_line.set", CreditLineSetPayload(lineID: "line1", core: "core1", limit: 1_000_000, expiry: t + 730 * AuditTestChain.day), cosigners: ["core1"])])
        let bad = forged(c)
        let receipts = try c.commitAsProposer([bad, c.tx("registry", "program.register", ProgramRegisterPayload(programID: "CCER", unit: .tCO2e))], signatures: signatures)
        return (c, receipts)
    }

    static func honest() throws -> (chain: AuditTestChain, block2: [Receipt]) {
        let (c, receipts) = try chain(block2: .verify) { $0.forgedTx("core1", "certificate.issue", Self.issue) }
        c.unuseNonce("core1")
        let r3 = try c.commit([c.tx("core1", "certificate.issue", issue)])
        #expect(r3[0].isOK && r3[0].nonceConsumed)
        return (c, receipts)
    }

    @Test func theExecutorRejectsTheTransactionWithItsNonceUnused() throws {
        let (_, receipts) = try Self.honest()
        #expect(receipts.count == 2)
        #expect(receipts[0].outcome == .rejected(code: EnvelopeRejection.invalidSignature, message: "a signature does not verify over the transaction's sign bytes"))
        #expect(!receipts[0].nonceConsumed)
        #expect(receipts[1].isOK)
    }

    @Test func anHonestChainWithTheRejectedTransactionVerifiesOnEveryPath() throws {
        let (c, _) = try Self.honest()
        let data = try exportBytes(c)
        #expect(verifyError(data) == nil, "\(String(describing: verifyError(data)))")
        let fast = try #require(try fastVerify(data), "the fast path must confirm the honest chain")
        #expect(fast.finalStateRoot == c.engine.stateRoot.hex)
        #expect(fast.blocks == 3 && fast.transactions == 4)
        let (file, _) = try rawRows(data)
        #expect(try ChainVerifier.verifyReference(file, lines: try file.decodedLines(), progress: nil).summary == fast)
        let home = try ChainVerifier.verify(home: StoreChainSource(genesis: c.genesis, store: c.store))
        #expect(home.finalStateRoot == fast.finalStateRoot)
        let line2 = try JSONDecoder().decode(BlockLine.self, from: Data(lines(data)[2].utf8))
        #expect(line2.receipts[0].code == EnvelopeRejection.invalidSignature && line2.receipts[0].nonceConsumed == false)
    }

    @Test func aChainThatExecutedTheTransactionFails() throws {
        let (c, receipts) = try Self.chain(block2: .allVerified) { $0.forgedTx("core1", "certificate.issue", Self.issue) }
        #expect(receipts[0].isOK)
        try c.commit([])
        let data = try exportBytes(c)
        #expect(try fastVerify(data) == nil)
        guard let error = verifyError(data) else { Issue.record("audit verify accepted it"); return }
        #expect(error.failedHeight == 2 && error.exitCode == 1)
        #expect(error.description.contains("transaction 0") && error.description.contains("a signature does not verify, yet its receipt is ok"), "\(error)")
    }

    @Test func aChainWhereTheTransactionConsumedItsNonceFails() throws {
        // sup1 accepts a certificate that does not exist: the contract rejects it, but only after the nonce is used.
        let (c, receipts) = try Self.chain(block2: .allVerified) { $0.forgedTx("sup1", "certificate.accept", CertificateRefPayload(certID: "no-such-cert")) }
        #expect(!receipts[0].isOK && receipts[0].nonceConsumed)
        let data = try exportBytes(c)
        guard let error = verifyError(data) else { Issue.record("audit verify accepted it"); return }
        #expect(error.failedHeight == 2 && error.description.contains("consumed its nonce"), "\(error)")
    }

    @Test func aReceiptWithAnotherEnvelopeCodeFailsReExecution() throws {
        // The receipt a verifier without re-execution cannot pin (an envelope code before the signature check):
        // the block's receipts_root commits to "expired" instead of "invalid_signature"; re-execution tells.
        let (c, _) = try Self.honest()
        let data = try editLine(try exportBytes(c), height: 2) { line in
            var block = try Block.decode(try Hex.decode(line.blockHex))
            let r = try CanonicalDecoder.decode(Receipt.self, from: try Hex.decode(line.receipts[0].canonicalHex))
            let forged = Receipt(txHash: r.txHash, index: r.index, nonceConsumed: false, outcome: .rejected(code: EnvelopeRejection.expired, message: "m"))
            line.receipts[0] = ReceiptView(forged)
            let all = try line.receipts.map { try CanonicalDecoder.decode(Receipt.self, from: try Hex.decode($0.canonicalHex)) }
            block.header.receiptsRoot = Receipt.root(all)
            line.blockHex = Hex.encode(block.canonicalBytes)
        }
        guard let error = verifyError(data) else { Issue.record("audit verify accepted it"); return }
        #expect(error.failedHeight == 2, "\(error)")
    }

    @Test func aTransactionProofOfTheRejectionChecksAndOfAnExecutionDoesNot() throws {
        let (c, _) = try Self.honest()
        let badHash = c.txHashes[1]
        let proof = try ProofBuilder.transaction(badHash, home: StoreChainSource(genesis: c.genesis, store: c.store))
        let fact = try ProofChecker.check(proof, genesis: c.genesis)
        #expect(fact.statement.contains("rejected: \(EnvelopeRejection.invalidSignature)"), "\(fact.statement)")

        let (d, _) = try Self.chain(block2: .allVerified) { $0.forgedTx("core1", "certificate.issue", Self.issue) }
        let executed = try ProofBuilder.transaction(d.txHashes[1], home: StoreChainSource(genesis: d.genesis, store: d.store))
        #expect(throws: AuditError.self) { _ = try ProofChecker.check(executed, genesis: d.genesis) }
        do { _ = try ProofChecker.check(executed, genesis: d.genesis) } catch {
            #expect(error.description.contains("yet its receipt is ok"), "\(error)")
        }
    }

    @Test(.enabled(if: RepositoryFiles.pythonWithCryptography, Comment(rawValue: "SKIPPED: python3 with the 'cryptography' package is not available")))
    func theIndependentVerifierAgrees() throws {
        let dir = try temporaryDirectory("invalid-signature")
        try exportBytes(try Self.honest().chain).write(to: URL(fileURLWithPath: dir + "/honest.jsonl"))
        let (executed, _) = try Self.chain(block2: .allVerified) { $0.forgedTx("core1", "certificate.issue", Self.issue) }
        try exportBytes(executed).write(to: URL(fileURLWithPath: dir + "/executed.jsonl"))
        let (consumed, _) = try Self.chain(block2: .allVerified) { $0.forgedTx("sup1", "certificate.accept", CertificateRefPayload(certID: "no-such-cert")) }
        try exportBytes(consumed).write(to: URL(fileURLWithPath: dir + "/consumed.jsonl"))
        let run = try #require(RepositoryFiles.python([RepositoryFiles.script, "--batch", dir]))
        let answers = Dictionary(uniqueKeysWithValues: run.output.split(separator: "\n").compactMap { line -> (String, String)? in
            let parts = line.split(separator: ":", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces)) : nil
        })
        #expect(answers["honest.jsonl"] == "ok", "\(run.output)")
        #expect(answers["executed.jsonl"]?.hasPrefix("exit 1: height 2:") == true, "\(run.output)")
        #expect(answers["executed.jsonl"]?.contains("receipt") == true, "\(run.output)")
        #expect(answers["consumed.jsonl"]?.hasPrefix("exit 1: height 2:") == true, "\(run.output)")
        #expect(answers["consumed.jsonl"]?.contains("nonce") == true, "\(run.output)")
    }
}
