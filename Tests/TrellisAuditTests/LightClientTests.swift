// LightClientTests.swift — the light client (docs/LIGHT-CLIENT.md) on a real ledger chain (a validator joins at
// height 4) and on synthetic header chains: a whole-set rotation that needs bisection, forged headers, sets,
// certificates and proofs that must be caught, and witnesses that agree, fork, lie or are down.
import Foundation
import Testing
import TrellisAudit
import TrellisCodec
import TrellisCrypto
import TrellisLedger

/// A chain of headers only (no execution): heights 1…count, certified by `keys(h)`, with state roots that depend on
/// `variant` from `forkHeight` on (two variants with the same keys are two certified forks of one genesis).
struct SyntheticLightChain: LightBlockProvider {
    let label: String
    var blocks: [UInt64: LightBlock] = [:]

    /// The set of `keys`, power 1 each; a key of the genesis set keeps its genesis entry (so the genesis keys make
    /// exactly the genesis set).
    static func set(_ keys: [SigningKey]) -> ValidatorSet {
        let known = (try? AuditTestChain.makeGenesis().validatorSet.validators) ?? []
        let validators = keys.map { key in known.first { $0.publicKey == key.publicKey } ?? Validator(publicKey: key.publicKey, votingPower: 1, p2pAddress: "127.0.0.1:1") }
        do { return try ValidatorSet(validators) } catch {
            preconditionFailure("distinct keys make a valid set: \(error)")
        }
    }

    init(genesis: GenesisDocument, count: UInt64, keys: (UInt64) -> [SigningKey], variant: String = "a", forkHeight: UInt64 = 1, label: String = "synthetic") {
        self.label = label
        var previous = genesis.hash
        for h in 1...count {
            let signers = keys(h)
            let state = SHA256.hash(Array("\(h >= forkHeight ? variant : "a")/\(h)".utf8))
            let header = BlockHeader(chainID: genesis.chainID, height: h, round: 0, time: genesis.genesisTime + Int64(h) * 5, appVersion: 1,
                                     previousBlockHash: previous, txCount: 0, txRoot: MerkleTree.root(leaves: []), receiptsRoot: MerkleTree.root(leaves: []),
                                     stateRoot: state, validatorSetHash: Self.set(signers).hash, nextValidatorSetHash: Self.set(keys(h + 1)).hash,
                                     proposer: signers[0].publicKey, lastCommitHash: SHA256.hash([]),
                                     evidenceHash: SHA256.hash([0, 0, 0, 0]))
            blocks[h] = LightBlock(header: header, certificate: Self.certify(header, keys: signers, chainID: genesis.chainID), validators: Self.set(signers))
            previous = header.hash
        }
    }

    static func certify(_ header: BlockHeader, keys: [SigningKey], chainID: String) -> CommitCertificate {
        let votes = keys.map { Vote.signed(VoteBody(type: .precommit, height: header.height, round: 0, blockID: header.hash, validator: $0.publicKey), chainID: chainID, key: $0) }
        return CommitCertificate(height: header.height, round: 0, blockID: header.hash, precommits: votes)
    }

    func latestCertifiedHeight() throws(AuditError) -> UInt64 { UInt64(blocks.count) }

    func lightBlock(atHeight height: UInt64) throws(AuditError) -> LightBlock {
        guard let block = blocks[height] else { throw .notFound("\(label) has no block \(height)") }
        return block
    }
}

/// A provider that is down.
struct UnreachableProvider: LightBlockProvider {
    let label = "http://127.0.0.1:9/"
    func latestCertifiedHeight() throws(AuditError) -> UInt64 { throw .source("connection refused") }
    func lightBlock(atHeight height: UInt64) throws(AuditError) -> LightBlock { throw .source("connection refused") }
}

@Suite struct LightClientTests {
    static let original = (1...4).map { auditKey("validator\($0)") }
    static let rotated = (1...4).map { auditKey("rotated\($0)") }
    /// The genesis set until height 5, then a set with no validator in common.
    static func rotation(_ h: UInt64) -> [SigningKey] { h <= 5 ? original : rotated }

    @Test func followsARealChainAcrossAValidatorJoiningAndProvesState() throws {
        let chain = try AuditTestChain.build()
        let source = StoreChainSource(genesis: chain.genesis, store: chain.store)
        let tip = try source.latestCertifiedHeight()
        #expect(tip == 7)

        // Skipping: the genesis set signs the tip (4 of the 5 validators), so one step suffices.
        var skipping = LightClient(trusted: .genesis(chain.genesis))
        let jump = try skipping.verify(to: tip, provider: source)
        #expect(jump.map(\.block.height) == [7] && jump[0].kind == .skipping && jump[0].validatorSetChanged)

        // Sequential: every header, and the change is seen where it takes effect (height 4: 5 validators).
        var sequential = LightClient(trusted: .genesis(chain.genesis))
        var steps: [LightStep] = []
        while sequential.trusted.height < tip { steps += try sequential.verify(to: sequential.trusted.height + 1, provider: source) }
        #expect(steps.map(\.block.height) == Array(1...7))
        #expect(steps.allSatisfy { $0.kind == .adjacent })
        #expect(steps.filter(\.validatorSetChanged).map(\.block.height) == [4])
        #expect(steps[3].block.validators.count == 5)
        #expect(sequential.trusted.blockHash == skipping.trusted.blockHash)

        // A state proof against the verified header; a forged value or a proof of another height is caught.
        let verified = try #require(jump.last?.block)
        let key = Array("cert/\(chain.certRoot)".utf8)
        let read = try source.reader.read(key, atHeight: tip, prove: true)
        let proof = try #require(read.proof)
        try LightClient.checkState(key: key, value: read.value, proof: proof, against: verified)
        var forged = try #require(read.value)
        forged[forged.count - 1] ^= 1
        #expect(throws: AuditError.self) { try LightClient.checkState(key: key, value: forged, proof: proof, against: verified) }
        #expect(throws: AuditError.self) { try LightClient.checkState(key: key, value: nil, proof: proof, against: verified) }
        let older = try source.reader.read(Array("nonce/bank1".utf8), atHeight: 1, prove: true)
        let now = try source.reader.read(Array("nonce/bank1".utf8), atHeight: tip, prove: true)
        #expect(older.value == now.value)  // bank1 sent one transaction, in block 1
        let stale = try source.reader.read(Array("nonce/sup1".utf8), atHeight: 2, prove: true)  // before sup1's first transaction
        #expect(stale.value == nil)
        #expect(throws: AuditError.self) { try LightClient.checkState(key: Array("nonce/sup1".utf8), value: nil, proof: try #require(stale.proof), against: verified) }

        // Trusting a block by height and hash: the right hash is accepted and followed; another is refused.
        var fromBlock = try LightClient.trusting(height: 3, hash: steps[2].block.hash, chainID: AuditTestChain.chainID, provider: source)
        #expect(try fromBlock.verify(to: tip, provider: source).last?.block.hash == verified.hash)
        #expect(throws: AuditError.self) { _ = try LightClient.trusting(height: 3, hash: steps[3].block.hash, chainID: AuditTestChain.chainID, provider: source) }
    }

    @Test func bisectsWhenTheWholeSetRotates() throws {
        let genesis = try AuditTestChain.makeGenesis()
        let chain = SyntheticLightChain(genesis: genesis, count: 10, keys: Self.rotation)
        var client = LightClient(trusted: .genesis(genesis))
        let steps = try client.verify(to: 10, provider: chain)
        // 10 is signed by none of the genesis set: the client verifies 5 (the last height the genesis set signs; it
        // announces the rotated set), then skips from 5 to 10 with the rotated set it fetched at 6 and hash-checked.
        #expect(steps.map(\.block.height) == [5, 10])
        #expect(steps.map(\.validatorSetChanged) == [false, true])
        #expect(client.trusted.height == 10 && client.trusted.blockHash == chain.blocks[10]?.hash)
        // One by one, the rotation is seen at height 6, where it takes effect.
        var sequential = LightClient(trusted: .genesis(genesis))
        var all: [LightStep] = []
        while sequential.trusted.height < 10 { all += try sequential.verify(to: sequential.trusted.height + 1, provider: chain) }
        #expect(all.filter(\.validatorSetChanged).map(\.block.height) == [6])
        #expect(sequential.trusted == client.trusted)
        #expect(LightVerifier.exceedsTrustLevel(2, of: 5) && !LightVerifier.exceedsTrustLevel(1, of: 3) && LightVerifier.exceedsTrustLevel(2, of: 4))
    }

    @Test func forgedHeadersSetsAndCertificatesAreCaught() throws {
        let genesis = try AuditTestChain.makeGenesis()
        let honest = SyntheticLightChain(genesis: genesis, count: 10, keys: Self.rotation)
        func refused(_ chain: SyntheticLightChain, at height: UInt64, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
            var client = LightClient(trusted: .genesis(genesis))
            do {
                _ = try client.verify(to: 10, provider: chain)
                Issue.record("a forged chain was accepted", sourceLocation: sourceLocation)
            } catch {
                #expect(error.description.contains(expected), "\(error)", sourceLocation: sourceLocation)
                #expect(error.description.hasPrefix("height \(height):"), "\(error)", sourceLocation: sourceLocation)
            }
        }
        // Another state root under the honest certificate: the certificate is for another block.
        var forgedRoot = honest
        var header = try #require(honest.blocks[10]).header
        header.stateRoot = SHA256.hash(Array("forged".utf8))
        forgedRoot.blocks[10] = LightBlock(header: header, certificate: honest.blocks[10]!.certificate, validators: honest.blocks[10]!.validators)
        refused(forgedRoot, at: 10, "certificate is for block")

        // A validator set that is not the header's.
        var forgedSet = honest
        forgedSet.blocks[10] = LightBlock(header: honest.blocks[10]!.header, certificate: honest.blocks[10]!.certificate, validators: SyntheticLightChain.set(Self.original))
        refused(forgedSet, at: 10, "the validator set served hashes to")

        // One signature altered.
        var forgedSignature = honest
        let original = honest.blocks[10]!.certificate
        var signatures = original.signatures
        var bytes = signatures[0].signature.bytes
        bytes[0] ^= 1
        signatures[0] = CommitSignature(validator: signatures[0].validator, signature: try Signature(bytes: bytes))
        let certificate = CommitCertificate(height: original.height, round: original.round, blockID: original.blockID, signatures: signatures)
        forgedSignature.blocks[10] = LightBlock(header: honest.blocks[10]!.header, certificate: certificate, validators: honest.blocks[10]!.validators)
        refused(forgedSignature, at: 10, "does not verify")

        // Too few signers of the header's own set (2 of 4 < quorum 3).
        var underSigned = honest
        let block10 = honest.blocks[10]!
        underSigned.blocks[10] = LightBlock(header: block10.header, certificate: SyntheticLightChain.certify(block10.header, keys: Array(Self.rotated.prefix(2)), chainID: genesis.chainID),
                                            validators: block10.validators)
        refused(underSigned, at: 10, "needs voting power 3")

        // A whole chain made up by outsiders (self-consistent, certified by their own set): bisection walks down to
        // height 1, whose set is not the genesis set.
        let outsiders = (1...4).map { auditKey("outsider\($0)") }
        let madeUp = SyntheticLightChain(genesis: genesis, count: 10, keys: { _ in outsiders })
        refused(madeUp, at: 1, "validator_set_hash")

        // A header that does not link to the trusted block (adjacent step).
        var unlinked = honest
        var first = honest.blocks[1]!.header
        first.previousBlockHash = SHA256.hash(Array("another genesis".utf8))
        unlinked.blocks[1] = LightBlock(header: first, certificate: SyntheticLightChain.certify(first, keys: Self.original, chainID: genesis.chainID), validators: honest.blocks[1]!.validators)
        var client = LightClient(trusted: .genesis(genesis))
        #expect(throws: AuditError.self) { _ = try client.verify(to: 1, provider: unlinked) }
    }

    @Test func witnessesAgreeForkLieOrAreDown() throws {
        let genesis = try AuditTestChain.makeGenesis()
        let primary = SyntheticLightChain(genesis: genesis, count: 10, keys: Self.rotation, label: "primary")
        var client = LightClient(trusted: .genesis(genesis))
        let origin = client.trusted
        let verified = try #require(try client.verify(to: 10, provider: primary).last?.block)

        #expect(LightClient.crossCheck(verified, origin: origin, witness: SyntheticLightChain(genesis: genesis, count: 10, keys: Self.rotation, label: "twin")) == .agrees(witness: "twin"))

        // The same validators also certified another chain from height 7 (they equivocated): a fork, with both headers.
        let conflicting = SyntheticLightChain(genesis: genesis, count: 10, keys: Self.rotation, variant: "b", forkHeight: 7, label: "witness")
        guard case .fork(let name, let ours, let theirs) = LightClient.crossCheck(verified, origin: origin, witness: conflicting) else {
            Issue.record("the conflicting certified header was not reported as a fork")
            return
        }
        #expect(name == "witness" && ours == verified && theirs == conflicting.blocks[10])
        #expect(ours.header.stateRoot != theirs.header.stateRoot)

        // A witness serving a conflicting header nobody certified is faulty, not a fork.
        var liar = primary
        var header = primary.blocks[10]!.header
        header.stateRoot = SHA256.hash(Array("lie".utf8))
        liar.blocks[10] = LightBlock(header: header, certificate: primary.blocks[10]!.certificate, validators: primary.blocks[10]!.validators)
        guard case .faulty(_, let reason) = LightClient.crossCheck(verified, origin: origin, witness: liar) else {
            Issue.record("an uncertified conflicting header was not reported as faulty")
            return
        }
        #expect(reason.contains("does not verify"))

        guard case .unavailable = LightClient.crossCheck(verified, origin: origin, witness: UnreachableProvider()) else {
            Issue.record("a witness that is down was not reported as unavailable")
            return
        }
    }
}
