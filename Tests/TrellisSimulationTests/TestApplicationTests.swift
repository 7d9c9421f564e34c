// TestApplicationTests.swift — the simulator's ledger validates what a real ledger validates and changes the
// validator set at h + 2.
import Testing
import TrellisConsensus
import TrellisCrypto
import TrellisLedger
import TrellisSimulation

@Suite("Test application")
struct TestApplicationTests {
    let keys: [SigningKey]
    let genesis: ValidatorSet

    init() throws {
        keys = try (1...4).map { try SigningKey(seed: [UInt8](repeating: UInt8($0), count: 32)) }
        genesis = try ValidatorSet(keys.map { Validator(publicKey: $0.publicKey, votingPower: 1, p2pAddress: "") })
    }

    func certificate(for block: Block, set: ValidatorSet) -> CommitCertificate {
        let votes = keys.map { Vote.signed(VoteBody(type: .precommit, height: block.header.height, round: 0, blockID: block.hash, validator: $0.publicKey), chainID: "c", key: $0) }
        return CommitCertificate(height: block.header.height, round: 0, blockID: block.hash, precommits: votes)
    }

    @Test("Built blocks validate and commit; tampered ones are rejected with the reason")
    func validation() throws {
        var app = TestApplication(chainID: "c", genesis: genesis, eligibleForPowerChange: [keys[0].publicKey], powerChangeInterval: 1)
        let request = BuildRequest(height: 1, round: 0, proposer: keys[0].publicKey, evidence: [])
        let block = try app.buildBlock(request, time: 100)
        try app.validate(block)
        var badRoot = block
        badRoot.header.stateRoot = .zero
        #expect(throws: ApplicationError.invalidBlock("state root does not match execution")) { try app.validate(badRoot) }
        var badHeight = block
        badHeight.header.height = 2
        #expect(throws: ApplicationError.self) { try app.validate(badHeight) }
        try app.commit(block, certificate: certificate(for: block, set: genesis))
        #expect(app.committedHeight == 1)
        #expect(app.committedBlock(at: 1)?.block == block)
        // Height 2 must carry a valid certificate of height 1 and a time not before the parent's.
        var next = try app.buildBlock(BuildRequest(height: 2, round: 0, proposer: keys[1].publicKey, evidence: []), time: 50)
        #expect(next.header.time == 100)
        try app.validate(next)
        next.lastCommit = nil
        #expect(throws: ApplicationError.self) { try app.validate(next) }
    }

    @Test("Governance: committing height h changes the set of height h + 2, not h + 1")
    func powerChange() throws {
        var app = TestApplication(chainID: "c", genesis: genesis, eligibleForPowerChange: [keys[0].publicKey], powerChangeInterval: 1)
        let block = try app.buildBlock(BuildRequest(height: 1, round: 0, proposer: keys[0].publicKey, evidence: []), time: 1)
        try app.commit(block, certificate: certificate(for: block, set: genesis))
        #expect(try app.validatorSet(forHeight: 2) == genesis)
        let changed = try app.validatorSet(forHeight: 3)
        #expect(changed.power(of: keys[0].publicKey) == 2)
        #expect(changed.totalPower == 5)
        #expect(throws: ApplicationError.unknownHeight(4)) { try app.validatorSet(forHeight: 4) }
    }
}
