// LedgerApplicationTimeTests.swift — a block time from a peer is input too (issue 14): after a Byzantine proposer
// committed a block at Int64.max, an honest proposer trapped on `last block time + 1`; now it refuses to propose.
import Testing
import TrellisCrypto
import TrellisLedger
@testable import TrellisConsensus

@Suite struct LedgerApplicationTimeTests {
    @Test func aChainAtTheLastRepresentableTimeRefusesToProposeInsteadOfTrapping() throws {
        let key = try SigningKey(seed: [UInt8](repeating: 7, count: 32))
        let governor = MemberSpec(memberID: "gov1", legalName: "Gov", registrationNo: "1", publicKeys: [try SigningKey(seed: [UInt8](repeating: 8, count: 32)).publicKey], roles: [.governor])
        let genesis = try GenesisDocument(chainID: "time-test", genesisTime: 1_767_225_600, members: [governor],
                                          validators: [GenesisValidator(name: "v1", validator: Validator(publicKey: key.publicKey, votingPower: 1, p2pAddress: "127.0.0.1:1"))],
                                          parameters: Parameters(governanceQuorum: 1))
        let engine = try LedgerEngine(genesis: genesis, store: MemoryChainStore())
        let block = try engine.buildBlock(height: 1, round: 0, time: .max, proposer: key.publicKey, lastCommit: nil, transactions: [])
        let vote = Vote.signed(VoteBody(type: .precommit, height: 1, round: 0, blockID: block.hash, validator: key.publicKey), chainID: "time-test", key: key)
        try engine.commit(block, certificate: CommitCertificate(height: 1, round: 0, blockID: block.hash, precommits: [vote]))
        #expect(engine.lastBlockTime == .max)
        let app = LedgerApplication(engine: engine)
        #expect(throws: ApplicationError.self) { try app.buildBlock(BuildRequest(height: 2, round: 0, proposer: key.publicKey, evidence: []), time: 5) }
    }
}
