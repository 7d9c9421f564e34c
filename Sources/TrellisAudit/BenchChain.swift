// BenchChain.swift — a throwaway in-memory chain for `trellis bench audit`: `members` members rotating keys, four
// validators certifying every block. Deterministic keys (SHA-256 of a label), so runs are comparable.
import TrellisCrypto
import TrellisLedger

/// A chain built block by block in memory (export it through `StoreChainSource`).
final class BenchChain {
    static let chainID = "bench-audit"
    let genesis: GenesisDocument
    let store = MemoryChainStore()
    let engine: LedgerEngine
    private let validators: [SigningKey]
    private let members: [(id: String, key: SigningKey)]
    private var lastCommit: CommitCertificate?
    private var round = 0

    init(members count: Int) throws {
        validators = try (0..<4).map { try Self.key("validator-\($0)") }
        members = try (0..<count).map { (id: "m\($0)", key: try Self.key("member-\($0)")) }
        let specs = members.map { MemberSpec(memberID: $0.id, legalName: "Member \($0.id)", registrationNo: "", publicKeys: [$0.key.publicKey], roles: [.participant]) }
            + [MemberSpec(memberID: "gov", legalName: "Governor", registrationNo: "", publicKeys: [try Self.key("gov").publicKey], roles: [.governor])]
        genesis = try GenesisDocument(chainID: Self.chainID, genesisTime: 1_700_000_000, members: specs,
                                      validators: validators.enumerated().map { i, k in
                                          GenesisValidator(name: "v\(i)", validator: Validator(publicKey: k.publicKey, votingPower: 1, p2pAddress: "127.0.0.1:\(26656 + i)"))
                                      },
                                      parameters: Parameters(governanceQuorum: 1))
        engine = try LedgerEngine(genesis: genesis, store: store)
    }

    static func key(_ label: String) throws -> SigningKey { try SigningKey(seed: SHA256.hash(Array("bench-audit/\(label)".utf8)).bytes) }

    /// Commits one block of `count` key rotations (members in turn), certified by all four validators.
    func commitBlock(count: Int) throws {
        round += 1
        let height = engine.currentHeight + 1
        var txs: [Transaction] = []
        for i in 0..<count {
            let m = members[i]
            let fresh = try Self.key("\(m.id)-\(round)").publicKey
            let previous = try Self.key("\(m.id)-\(round - 1)").publicKey
            let payload = RotateKeysPayload(addKeys: [fresh], removeKeys: round > 1 ? [previous] : [])
            let body = TransactionBody(chainID: Self.chainID, kind: MembershipContract.rotateKeys, payload: payload.canonicalBytes, signer: m.id,
                                       nonce: UInt64(round), expiresAtHeight: height + 10)
            txs.append(Transaction.signed(body, by: [(m.id, m.key)]))
        }
        let built = try engine.proposeBlock(height: height, round: 0, time: engine.lastBlockTime + 1, proposer: validators[0].publicKey,
                                            lastCommit: lastCommit, transactions: txs, signatures: .allVerified)
        let votes = validators.map { Vote.signed(VoteBody(type: .precommit, height: height, round: 0, blockID: built.block.hash, validator: $0.publicKey), chainID: Self.chainID, key: $0) }
        let certificate = CommitCertificate(height: height, round: 0, blockID: built.block.hash, precommits: votes)
        try engine.commit(built.block, certificate: certificate, verifyCertificateSignatures: false, signatures: .allVerified)
        lastCommit = certificate
    }
}
