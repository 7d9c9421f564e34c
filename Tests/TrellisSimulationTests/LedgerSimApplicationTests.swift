// LedgerSimApplicationTests.swift — the real ledger behind the consensus application interface: four replicas
// build, validate and commit the same domain workload to identical state roots, with accepted and rejected
// receipts, and a restarted replica resumes from its store.
import Testing
import TrellisConsensus
import TrellisCrypto
import TrellisLedger
@testable import TrellisSimulation

@Suite struct LedgerSimApplicationTests {
    @Test func replicasAgreeOnTheRealExecutorAndSurviveRestart() throws {
        let keys = (0..<4).map { i in try! SigningKey(seed: SHA256.hash([UInt8(i), 7]).bytes) }
        let set = try ValidatorSet(keys.map { Validator(publicKey: $0.publicKey, votingPower: 1, p2pAddress: "sim:\($0.publicKey.hex.prefix(4))") })
        let genesis = try LedgerSimApplication.genesis(validators: set)
        var apps = try (0..<4).map { _ in try LedgerSimApplication(genesis: genesis) }
        var accepted = 0, rejected = 0
        for h in UInt64(1)...12 {
            let proposer = Int(h % 4)
            let block = try apps[proposer].buildBlock(BuildRequest(height: h, round: 0, proposer: keys[proposer].publicKey, evidence: []),
                                                      time: LedgerSimApplication.genesisTime + Int64(h))
            let votes = keys.map { Vote.signed(VoteBody(type: .precommit, height: h, round: 0, blockID: block.hash, validator: $0.publicKey), chainID: LedgerSimApplication.chainID, key: $0) }
            let certificate = CommitCertificate(height: h, round: 0, blockID: block.hash, precommits: votes)
            for i in apps.indices {
                if i != proposer { try apps[i].validate(block) }
                try apps[i].commit(block, certificate: certificate)
            }
            let roots = Set(apps.map { $0.stateRoot(at: h) })
            #expect(roots.count == 1, "replicas disagree at height \(h)")
            #expect(block.header.stateRoot == apps[0].stateRoot(at: h))
            for tx in block.transactions {
                let record = try #require(try apps[0].store.transactionRecord(tx.hash))
                if record.receipt.isOK { accepted += 1 } else { rejected += 1 }
            }
        }
        #expect(accepted > 10, "the workload should mostly succeed")
        #expect(rejected > 0, "the workload should exceed the credit line sometimes and be rejected by the contract")
        // A restarted replica resumes at the same height and root.
        let restarted = try apps[2].restarted()
        #expect(restarted.committedHeight == 12)
        #expect(restarted.stateRoot(at: 12) == apps[0].stateRoot(at: 12))
        apps[2] = restarted
        #expect(apps[2].committedBlock(at: 12)?.block.hash == apps[0].committedBlock(at: 12)?.block.hash)
    }

    /// With membership candidates, governance removes a validator and adds it back through the real contracts; the
    /// replicas agree on every set, and blocks are certified by the set in force at their height.
    @Test func governanceRemovesAndReAddsValidators() throws {
        let keys = (0..<4).map { i in try! SigningKey(seed: SHA256.hash([UInt8(i), 9]).bytes) }
        let set = try ValidatorSet(keys.map { Validator(publicKey: $0.publicKey, votingPower: 1, p2pAddress: "sim:\($0.publicKey.hex.prefix(4))") })
        let genesis = try LedgerSimApplication.genesis(validators: set)
        var apps = try (0..<4).map { _ in try LedgerSimApplication(genesis: genesis, membershipCandidates: keys.map(\.publicKey)) }
        var sizes: [Int] = []
        for h in UInt64(1)...24 {
            let inForce = try apps[0].validatorSet(forHeight: h)
            sizes.append(inForce.validators.count)
            for app in apps { #expect(try app.validatorSet(forHeight: h) == inForce, "replicas disagree on the set of height \(h)") }
            let signers = keys.filter { inForce.contains($0.publicKey) }
            let proposer = keys.firstIndex { $0.publicKey == signers[Int(h) % signers.count].publicKey } ?? 0
            let block = try apps[proposer].buildBlock(BuildRequest(height: h, round: 0, proposer: keys[proposer].publicKey, evidence: []),
                                                      time: LedgerSimApplication.genesisTime + Int64(h))
            let votes = signers.map { Vote.signed(VoteBody(type: .precommit, height: h, round: 0, blockID: block.hash, validator: $0.publicKey), chainID: LedgerSimApplication.chainID, key: $0) }
            let certificate = CommitCertificate(height: h, round: 0, blockID: block.hash, precommits: votes)
            for i in apps.indices {
                if i != proposer { try apps[i].validate(block) }
                try apps[i].commit(block, certificate: certificate)
            }
            #expect(Set(apps.map { $0.stateRoot(at: h) }).count == 1, "replicas disagree at height \(h)")
        }
        // Removed at 3 (effective 5), re-added at 9 (effective 11), removed again at 15, back at 21.
        #expect(sizes[4] == 3 && sizes[10] == 4 && sizes[16] == 3 && sizes[22] == 4, "set sizes by height: \(sizes)")
    }
}
