// EnvelopeTests.swift — the executor's envelope and nonce rules (DOMAIN.md §D.6, §D.10): each attack is rejected
// with its stable code, and the ones before the nonce leave no state change at all.
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

@Suite struct EnvelopeTests {
    func code(_ receipt: Receipt) -> String? { receipt.rejectionCode }

    @Test func validTransactionIsAppliedAndConsumesItsNonce() throws {
        let chain = try TestChain(net: TestNet())
        let (_, receipts, _) = try chain.commitNext([TestNet.rotate("alice", add: "alice-2", nonce: 1)])
        #expect(receipts.count == 1 && receipts[0].isOK && receipts[0].nonceConsumed)
        #expect(try chain.engine.reader.nonce(of: "alice").value == 1)
        #expect(try chain.engine.reader.member("alice").value?.publicKeys.contains(testKey("alice-2").publicKey) == true)
    }

    @Test func reusedNonceIsRejectedInTheSameBlockAndLater() throws {
        let chain = try TestChain(net: TestNet())
        let first = TestNet.rotate("alice", add: "a2", nonce: 1)
        let replay = TestNet.rotate("alice", add: "a3", nonce: 1)
        let receipts = try chain.dryRun([first, replay, first])
        #expect(receipts[0].isOK)
        #expect(code(receipts[1]) == EnvelopeRejection.badNonce && !receipts[1].nonceConsumed)
        #expect(code(receipts[2]) == EnvelopeRejection.badNonce)
        try chain.commitNext([first])
        #expect(code(try chain.dryRun([replay])[0]) == EnvelopeRejection.badNonce)
        #expect(code(try chain.dryRun([TestNet.rotate("alice", add: "a4", nonce: 3)])[0]) == EnvelopeRejection.badNonce)  // a gap
    }

    @Test func otherChainIsRejected() throws {
        let chain = try TestChain(net: TestNet())
        let tx = TestNet.tx("alice", MembershipContract.rotateKeys, RotateKeysPayload(addKeys: [testKey("x").publicKey], removeKeys: []), nonce: 1, chainID: "other-chain")
        #expect(code(try chain.dryRun([tx])[0]) == EnvelopeRejection.wrongChain)
    }

    @Test func expiredAndTooDistantExpiryAreRejected() throws {
        let chain = try TestChain(net: TestNet(maxTxLifetimeBlocks: 50))
        try chain.commitNext([])
        try chain.commitNext([])  // next block is height 3
        #expect(code(try chain.dryRun([TestNet.rotate("alice", add: "x", nonce: 1, expires: 2)])[0]) == EnvelopeRejection.expired)
        #expect(try chain.dryRun([TestNet.rotate("alice", add: "x", nonce: 1, expires: 3)])[0].isOK)
        #expect(try chain.dryRun([TestNet.rotate("alice", add: "x", nonce: 1, expires: 53)])[0].isOK)
        #expect(code(try chain.dryRun([TestNet.rotate("alice", add: "x", nonce: 1, expires: 54)])[0]) == EnvelopeRejection.expiryTooFar)
    }

    @Test func unknownSignerAndUnknownKindAreRejected() throws {
        let chain = try TestChain(net: TestNet())
        #expect(code(try chain.dryRun([TestNet.rotate("mallory", add: "x", nonce: 1)])[0]) == EnvelopeRejection.unknownSigner)
        let unknownKind = TestNet.tx("alice", "certificate.teleport", ApprovePayload(proposalID: "p"), nonce: 1)
        #expect(code(try chain.dryRun([unknownKind])[0]) == EnvelopeRejection.unknownKind)
    }

    @Test func signatureByAKeyNotInTheMemberRecordIsRejected() throws {
        let chain = try TestChain(net: TestNet())
        let body = TransactionBody(chainID: TestNet.chainID, kind: MembershipContract.rotateKeys,
                                   payload: RotateKeysPayload(addKeys: [testKey("x").publicKey], removeKeys: []).canonicalBytes,
                                   signer: "alice", nonce: 1, expiresAtHeight: 40)
        let forged = Transaction.signed(body, by: [("alice", testKey("mallory"))])  // valid signature, wrong key
        #expect(code(try chain.dryRun([forged])[0]) == EnvelopeRejection.keyNotAuthorized)
        let bobsKey = Transaction.signed(body, by: [("alice", testKey("bob"))])     // another member's key
        #expect(code(try chain.dryRun([bobsKey])[0]) == EnvelopeRejection.keyNotAuthorized)
    }

    @Test func badSignatureIsRejectedWhenVerifyingAndByTheCallerPolicy() throws {
        let chain = try TestChain(net: TestNet())
        let good = TestNet.rotate("alice", add: "x", nonce: 1)
        var sig = good.signatures[0].signature.bytes
        sig[0] ^= 1
        let bad = Transaction(body: good.body, signatures: [TransactionSignature(memberID: "alice", publicKey: good.signatures[0].publicKey, signature: try Signature(bytes: sig))])
        #expect(code(try chain.dryRun([bad], signatures: .verify)[0]) == EnvelopeRejection.invalidSignature)
        let badHash = bad.hash
        #expect(code(try chain.dryRun([bad], signatures: .verified({ $0 == badHash ? false : true }))[0]) == EnvelopeRejection.invalidSignature)
        #expect(try chain.dryRun([good], signatures: .verified({ $0 == badHash ? false : true }))[0].isOK)
        // Unknown to the caller: the executor verifies it (a node that never saw a transaction must agree).
        #expect(code(try chain.dryRun([bad], signatures: .verified({ _ in nil }))[0]) == EnvelopeRejection.invalidSignature)
        #expect(try chain.dryRun([good], signatures: .verified({ _ in nil }))[0].isOK)
        let cache = SignatureCache()
        #expect(try chain.dryRun([good, bad], signatures: cache.policy).map(\.rejectionCode) == [nil, EnvelopeRejection.invalidSignature])
    }

    @Test func missingCosignerAndExtraSignerAreRejected() throws {
        let chain = try TestChain(net: TestNet())
        let body = TransactionBody(chainID: TestNet.chainID, kind: MembershipContract.rotateKeys,
                                   payload: RotateKeysPayload(addKeys: [testKey("x").publicKey], removeKeys: []).canonicalBytes,
                                   signer: "alice", nonce: 1, expiresAtHeight: 40, cosigners: ["bob"])
        let onlyAlice = Transaction.signed(body, by: [("alice", testKey("alice"))])
        #expect(code(try chain.dryRun([onlyAlice])[0]) == EnvelopeRejection.missingSignature)
        let plain = TestNet.rotate("alice", add: "x", nonce: 1)
        let extra = Transaction(body: plain.body, signatures: plain.signatures + Transaction.signed(plain.body, by: [("bob", testKey("bob"))]).signatures)
        #expect(code(try chain.dryRun([extra])[0]) == EnvelopeRejection.missingSignature)
        let both = Transaction.signed(body, by: [("alice", testKey("alice")), ("bob", testKey("bob"))])
        #expect(try chain.dryRun([both])[0].isOK)
    }

    @Test func suspendedAndRevokedMembersAndCosignersAreRejected() throws {
        let chain = try TestChain(net: TestNet(quorum: 1))
        let r = try chain.commitNext([TestNet.propose("gov1", .suspendMember(memberID: "alice"), nonce: 1),
                                      TestNet.propose("gov2", .revokeMember(memberID: "bob"), nonce: 1)]).receipts
        #expect(r.allSatisfy { $0.isOK })
        #expect(code(try chain.dryRun([TestNet.rotate("alice", add: "x", nonce: 1)])[0]) == EnvelopeRejection.signerInactive)
        #expect(code(try chain.dryRun([TestNet.rotate("bob", add: "x", nonce: 1)])[0]) == EnvelopeRejection.signerInactive)
        let cosignedByBob = TestNet.tx("core", MembershipContract.rotateKeys, RotateKeysPayload(addKeys: [testKey("y").publicKey], removeKeys: []),
                                       nonce: 1, cosigners: ["bob"])
        #expect(code(try chain.dryRun([cosignedByBob])[0]) == EnvelopeRejection.cosignerInactive)
        let cosignedByGhost = TestNet.tx("core", MembershipContract.rotateKeys, RotateKeysPayload(addKeys: [testKey("y").publicKey], removeKeys: []),
                                         nonce: 1, cosigners: ["ghost"])
        #expect(code(try chain.dryRun([cosignedByGhost])[0]) == EnvelopeRejection.unknownCosigner)
    }

    @Test func roleNotAllowedIsRejectedButConsumesTheNonce() throws {
        let chain = try TestChain(net: TestNet())
        let receipts = try chain.commitNext([TestNet.propose("alice", .suspendMember(memberID: "bob"), nonce: 1)]).receipts
        #expect(code(receipts[0]) == EnvelopeRejection.roleNotAllowed)
        #expect(receipts[0].nonceConsumed)
        #expect(try chain.engine.reader.nonce(of: "alice").value == 1)
        #expect(try chain.engine.reader.member("bob").value?.status == .active)
    }

    @Test func ruleRejectionConsumesTheNonceButLeavesNoOtherTrace() throws {
        let chain = try TestChain(net: TestNet())
        let before = try chain.engine.reader.member("alice").value
        // bob's key is in use: the rotation is rejected by the membership rule.
        let tx = TestNet.tx("alice", MembershipContract.rotateKeys, RotateKeysPayload(addKeys: [testKey("bob").publicKey], removeKeys: []), nonce: 1)
        let receipts = try chain.commitNext([tx]).receipts
        #expect(code(receipts[0]) == "key_in_use" && receipts[0].nonceConsumed)
        #expect(try chain.engine.reader.member("alice").value == before)
        #expect(try chain.engine.reader.nonce(of: "alice").value == 1)
    }

    @Test func proposerDropsEnvelopeFailuresAndKeepsRuleFailures() throws {
        let chain = try TestChain(net: TestNet())
        let ok = TestNet.rotate("alice", add: "a2", nonce: 1)
        let badNonce = TestNet.rotate("bob", add: "b2", nonce: 7)
        let ruleFail = TestNet.tx("core", MembershipContract.rotateKeys, RotateKeysPayload(addKeys: [], removeKeys: [testKey("zzz").publicKey]), nonce: 1)
        let (block, receipts, dropped) = try chain.commitNext([ok, badNonce, ruleFail])
        #expect(block.transactions == [ok, ruleFail])
        #expect(receipts.map(\.index) == [0, 1])
        #expect(receipts[0].isOK && receipts[1].rejectionCode == "key_not_found")
        #expect(dropped.map(\.rejectionCode) == [EnvelopeRejection.badNonce])
        #expect(try chain.engine.receipt(ruleFail.hash)?.receipt == receipts[1])
        #expect(try chain.engine.receipt(badNonce.hash) == nil)
    }

    @Test func mempoolAdmissionMatchesExecution() throws {
        let chain = try TestChain(net: TestNet())
        #expect(try chain.engine.checkTransaction(TestNet.rotate("alice", add: "x", nonce: 1), signaturesValid: true) == nil)
        #expect(try chain.engine.checkTransaction(TestNet.rotate("alice", add: "x", nonce: 2), signaturesValid: true)?.code == EnvelopeRejection.badNonce)
        #expect(try chain.engine.checkTransaction(TestNet.rotate("alice", add: "x", nonce: 1), signaturesValid: false)?.code == EnvelopeRejection.invalidSignature)
        #expect(try chain.engine.checkTransaction(TestNet.propose("alice", .suspendMember(memberID: "bob"), nonce: 1), signaturesValid: true)?.code == EnvelopeRejection.roleNotAllowed)
    }
}
