// CodecVectorTests.swift — canonical encodings of the ledger types: round trips and fixed byte vectors, so any
// change of a consensus-critical format fails here first (DESIGN.md §3). Small values are pinned byte for byte;
// large ones by the SHA-256 of their bytes.
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

enum Fixture {
    static let key1 = testKey("fixture-1")
    static let key2 = testKey("fixture-2")
    static let hashA = SHA256.hash(Array("a".utf8))
    static let hashB = SHA256.hash(Array("b".utf8))

    static let member = Member(memberID: "m1", legalName: "M", registrationNo: "R", publicKeys: [key1.publicKey], roles: [.supplier, .governor],
                               accreditations: [Accreditation(scheme: "S", sectoralScopes: ["x"], validFrom: 1, validTo: 2, active: true)])
    static let validatorSet: ValidatorSet = {
        do { return try ValidatorSet([Validator(publicKey: key1.publicKey, votingPower: 3, p2pAddress: "h:1")]) } catch { preconditionFailure("\(error)") }
    }()
    static let voteBody = VoteBody(type: .precommit, height: 7, round: 1, blockID: hashA, validator: key1.publicKey)
    static let vote = Vote.signed(voteBody, chainID: "c", key: key1)
    static let certificate = CommitCertificate(height: 7, round: 1, blockID: hashA, precommits: [vote, Vote.signed(VoteBody(type: .precommit, height: 7, round: 1, blockID: hashA, validator: key2.publicKey), chainID: "c", key: key2)])
    static let transaction = Transaction.signed(TransactionBody(chainID: "c", kind: MembershipContract.rotateKeys,
                                                                payload: RotateKeysPayload(addKeys: [key2.publicKey], removeKeys: []).canonicalBytes,
                                                                signer: "m1", nonce: 1, expiresAtHeight: 10, cosigners: ["m2"]),
                                                by: [("m1", key1), ("m2", key2)])
    static let header = BlockHeader(chainID: "c", height: 8, round: 0, time: 1_767_225_605, appVersion: AppVersion.initial,
                                    previousBlockHash: hashA, txCount: 1, txRoot: hashB, receiptsRoot: hashB, stateRoot: hashA,
                                    validatorSetHash: validatorSet.hash, nextValidatorSetHash: validatorSet.hash, proposer: key1.publicKey,
                                    lastCommitHash: certificate.hash, evidenceHash: Block.evidenceHash([]))
    static let block = Block(header: header, transactions: [transaction], lastCommit: certificate)
    static let okReceipt = Receipt(txHash: hashA, index: 2, nonceConsumed: true, outcome: .ok(createdIDs: ["id-1"]))
    static let rejectedReceipt = Receipt(txHash: hashB, index: 3, nonceConsumed: false, outcome: .rejected(code: "bad_nonce", message: "m"))
    static let proof = StateProof(siblings: [hashA, .zero], terminal: .leaf(keyHash: hashB, valueHash: hashA))
    static let proposal = Proposal(proposalID: "prop-1", proposer: "gov1", action: .suspendMember(memberID: "m1"), summary: "s", createdHeight: 3,
                                   expiresAtHeight: 9, approvals: [ProposalApproval(governor: "gov2", height: 4), ProposalApproval(governor: "gov1", height: 3)],
                                   status: .open, executedHeight: 0)
    static let actions: [GovernanceAction] = [
        .addMember(member), .suspendMember(memberID: "m1"), .reinstateMember(memberID: "m1"), .revokeMember(memberID: "m1"),
        .setRoles(memberID: "m1", roles: [.financier]), .grantAccreditation(memberID: "m1", accreditation: member.accreditations[0]),
        .revokeAccreditation(memberID: "m1", scheme: "S"), .addValidator(Validator(publicKey: key2.publicKey, votingPower: 1, p2pAddress: "h:2")),
        .removeValidator(publicKey: key1.publicKey), .setParameters(.default), .approveCreditCancellation(blockID: "b1", reason: "r"),
        .scheduleUpgrade(version: 2, activationHeight: 100, description: "paged settlement"),
        .addObserver(publicKey: key2.publicKey, name: "auditor node"), .removeObserver(publicKey: key2.publicKey),
    ]
}

@Suite struct CodecVectorTests {
    func roundTrip<T: CanonicalCodable & Equatable>(_ value: T) throws {
        let bytes = value.canonicalBytes
        #expect(try CanonicalDecoder.decode(T.self, from: bytes) == value)
        #expect(throws: CodecError.self) { try CanonicalDecoder.decode(T.self, from: bytes + [0]) }
        #expect(throws: CodecError.self) { try CanonicalDecoder.decode(T.self, from: Array(bytes.dropLast())) }
    }

    func pinned<T: CanonicalCodable & Equatable>(_ value: T, hex expected: String) throws {
        try roundTrip(value)
        #expect(Hex.encode(value.canonicalBytes) == expected)
    }

    func pinned<T: CanonicalCodable & Equatable>(_ value: T, sha256 expected: String) throws {
        try roundTrip(value)
        #expect(SHA256.hash(value.canonicalBytes).hex == expected)
    }

    @Test func smallValuesByteForByte() throws {
        try pinned(Fixture.validatorSet, hex: "00000001f58b218797364e5e8f68ce3855c9c2a07aeb62064cf95297a691809c67be4ea4000000000000000300000003683a31")
        try pinned(Fixture.voteBody, hex: "0200000000000000070000000101ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bbf58b218797364e5e8f68ce3855c9c2a07aeb62064cf95297a691809c67be4ea4")
        try pinned(Fixture.member, hex: "000000026d31000000014d000000015200000001f58b218797364e5e8f68ce3855c9c2a07aeb62064cf95297a691809c67be4ea4000000020003000000000100000001530000000100000001780000000000000001000000000000000201")
        try pinned(Fixture.okReceipt, hex: "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb000000020100000000010000000469642d31")
        try pinned(Fixture.rejectedReceipt, hex: "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d000000030001000000096261645f6e6f6e6365000000016d")
        try pinned(Fixture.proof, hex: "00000002ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb0000000000000000000000000000000000000000000000000000000000000000013e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009dca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb")
        // Stored inner nodes: an empty child's 32 zero bytes are not stored (tag 3: right empty, 2: left empty).
        try pinned(TreeNode.inner(left: Fixture.hashA, right: .zero), hex: "03ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb")
        try pinned(TreeNode.inner(left: .zero, right: Fixture.hashA), hex: "02ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb")
        try pinned(TreeNode.inner(left: Fixture.hashA, right: Fixture.hashA), hex: "01ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bbca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb")
        // Store format 2: a stored leaf holds its key and the value's hash (format 1 held the value itself).
        try pinned(TreeNode.leaf(TreeLeaf(key: [1], value: [2, 3])), hex: "000000000101ee9040f65c341855e070ff438eb0ea9d5b831b2a2c270fb7ef592d750408e3b3")
        try pinned(ApprovePayload(proposalID: "prop-1"), hex: "0000000670726f702d31")
        try pinned(CreditCancellationApproval(blockID: "b1", proposalID: "p", reason: "r", approvedHeight: 5), hex: "000000026231000000017000000001720000000000000005")
        try pinned(Parameters.default, hex: "0000000001e133800000000000278d000000000200000000000186a000000000000027100000000000093a80000000000000006400")
    }

    @Test func chainTypesBySHA256() throws {
        try pinned(Fixture.vote, sha256: "a300140bda7d1d7f95a6fde133d9478f47646ca44d3a5aa278283316d40ea038")
        try pinned(Fixture.certificate, sha256: "fa4de60513244bf3f8e196daf1223535fc21518bc4e5a4faa3295218273f6291")
        try pinned(Fixture.transaction, sha256: "040866a149d9619fcd182be7537eb300051085ad7c46c5aa0c3aba5b4d89ab41")
        try pinned(Fixture.header, sha256: "f022bdaac1df491fd124b98d44d049fd0d42ca973ddad5ed38b3d0774a8ba656")
        try pinned(Fixture.block, sha256: "58757ff840b1e6875ea8abfb8bb9a2c23895dfa362ce79f97b64978c88d55310")
        try pinned(TxRecord(height: 8, index: 2, receipt: Fixture.okReceipt), sha256: "b893dd57cb55c6325c8a385a07ee77350490e8d9cba9659942f39f7bd01e5365")
        try pinned(Fixture.proposal, sha256: "f1a222449bb3320488eed87acb8ff07055cb5e417229de1c9d08545d24a83f08")
        try pinned(ProposePayload(action: .setParameters(.default), summary: "s"), sha256: "88aca8a96799e6204b6de283a9380008f60802c74d4e4fc5e1ecb7f9adb88447")
        try pinned(RotateKeysPayload(addKeys: [Fixture.key1.publicKey], removeKeys: [Fixture.key2.publicKey]), sha256: "317db8269f4b0481ccae0089ece78b22dd8bb1a0d0c3e8fef00cc47de5b686c2")
    }

    @Test func everyGovernanceActionRoundTripsWithItsOwnTag() throws {
        var tags = Set<UInt8>()
        for action in Fixture.actions {
            try roundTrip(action)
            tags.insert(action.canonicalBytes[0])
        }
        #expect(tags == Set(0...13))
        #expect(throws: CodecError.self) { try CanonicalDecoder.decode(GovernanceAction.self, from: [14]) }
        try pinned(GovernanceAction.removeValidator(publicKey: Fixture.key1.publicKey), sha256: "8b85dccaa7baa8fc85cf51ae390d388a17ae215ac3ffacba74fab4a3a49731cb")
    }

    @Test func longRejectionsAreCutSoStoredReceiptsAlwaysDecode() throws {
        let receipt = Receipt(txHash: Fixture.hashA, index: 0, nonceConsumed: true,
                              outcome: .rejected(code: String(repeating: "c", count: 100), message: String(repeating: "债", count: 600)))
        guard case .rejected(let code, let message) = receipt.outcome else { Issue.record("not rejected"); return }
        #expect(code.utf8.count == Limits.maxKindBytes)
        #expect(message.utf8.count <= Receipt.maxMessageBytes && message.utf8.count > Receipt.maxMessageBytes - 3)
        #expect(message.allSatisfy { $0 == "债" })
        #expect(try CanonicalDecoder.decode(Receipt.self, from: receipt.canonicalBytes) == receipt)
    }

    @Test func decodersRejectNonCanonicalInput() throws {
        // Unsorted set of commit signatures.
        var encoder = CanonicalEncoder()
        encoder.encode(UInt64(7)); encoder.encode(UInt32(1)); encoder.encode(Fixture.hashA)
        encoder.encode(UInt32(2))
        let sigs = Fixture.certificate.signatures
        encoder.encode(sigs[1]); encoder.encode(sigs[0])
        #expect(throws: CodecError.self) { try CanonicalDecoder.decode(CommitCertificate.self, from: encoder.bytes) }
        // An inner tree node with two empty children does not exist.
        #expect(throws: CodecError.self) { try CanonicalDecoder.decode(TreeNode.self, from: [1] + Hash.zero.bytes + Hash.zero.bytes) }
        // One encoding per node: an empty child under tag 1 (tags 2/3 encode it), or tag 2/3 naming an empty child.
        #expect(throws: CodecError.self) { try CanonicalDecoder.decode(TreeNode.self, from: [1] + Fixture.hashA.bytes + Hash.zero.bytes) }
        #expect(throws: CodecError.self) { try CanonicalDecoder.decode(TreeNode.self, from: [1] + Hash.zero.bytes + Fixture.hashA.bytes) }
        #expect(throws: CodecError.self) { try CanonicalDecoder.decode(TreeNode.self, from: [2] + Hash.zero.bytes) }
        #expect(throws: CodecError.self) { try CanonicalDecoder.decode(TreeNode.self, from: [3] + Hash.zero.bytes) }
        #expect(throws: CodecError.self) { try CanonicalDecoder.decode(TreeNode.self, from: [4] + Fixture.hashA.bytes) }
        // Unknown receipt outcome tag.
        var receipt = Fixture.okReceipt.canonicalBytes
        receipt[32 + 4 + 1] = 9
        #expect(throws: CodecError.self) { try CanonicalDecoder.decode(Receipt.self, from: receipt) }
        // A transaction whose signer lists itself as co-signer.
        let body = TransactionBody(chainID: "c", kind: "k", payload: [], signer: "m1", nonce: 1, expiresAtHeight: 1, cosigners: ["m1"])
        #expect(throws: CodecError.self) { try CanonicalDecoder.decode(TransactionBody.self, from: body.canonicalBytes) }
    }
}
