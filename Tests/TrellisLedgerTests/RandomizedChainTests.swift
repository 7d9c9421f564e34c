// RandomizedChainTests.swift — random (seeded) transaction sequences: both backends agree block by block, the flat
// state always equals the tree's leaves, and restarts at random heights change nothing.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

@Suite struct RandomizedChainTests {
    /// A random block: rotations (some valid, some not), bad nonces, and governance proposals/approvals.
    func randomBlock(_ rng: inout SplitMix64, nonces: inout [String: UInt64], proposals: [String], height: UInt64) -> [Transaction] {
        let members = ["alice", "bob", "core", "verifier", "regulator"]
        let governors = ["gov1", "gov2", "gov3"]
        var txs: [Transaction] = []
        for _ in 0..<rng.below(6) {
            switch rng.below(5) {
            case 0, 1:
                let m = members[rng.below(members.count)]
                let n = (nonces[m] ?? 0) + 1
                let add = "k-\(rng.below(20))"  // collisions make some rotations fail with key_in_use
                txs.append(TestNet.rotate(m, add: add, nonce: n, expires: height + 10))
                nonces[m] = n
            case 2:
                let m = members[rng.below(members.count)]
                txs.append(TestNet.rotate(m, add: "stale", nonce: (nonces[m] ?? 0) + 5, expires: height + 10))  // bad nonce: dropped
            case 3:
                let g = governors[rng.below(governors.count)]
                let n = (nonces[g] ?? 0) + 1
                let target = members[rng.below(members.count)]
                let action: GovernanceAction = rng.below(2) == 0 ? .suspendMember(memberID: target) : .reinstateMember(memberID: target)
                txs.append(TestNet.tx(g, GovernanceContract.propose, ProposePayload(action: action), nonce: n, expires: height + 10))
                nonces[g] = n
            default:
                guard let p = proposals.isEmpty ? nil : proposals[rng.below(proposals.count)] else { continue }
                let g = governors[rng.below(governors.count)]
                let n = (nonces[g] ?? 0) + 1
                txs.append(TestNet.tx(g, GovernanceContract.approve, ApprovePayload(proposalID: p), nonce: n, expires: height + 10))
                nonces[g] = n
            }
        }
        return txs
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func backendsAgreeAndFlatStateMatchesTheTree(seed: UInt64) throws {
        let path = temporaryPath("random-\(seed)")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var rng = SplitMix64(seed: seed)
        let memory = try TestChain(net: TestNet())
        var rocks: TestChain? = try TestChain(net: TestNet(), store: try RocksChainStore(path: path))
        var nonces: [String: UInt64] = [:]
        var proposals: [String] = []
        var applied = 0, rejected = 0, dropped = 0
        for _ in 0..<25 {
            let height = memory.engine.currentHeight + 1
            let built = try memory.makeBlock(randomBlock(&rng, nonces: &nonces, proposals: proposals, height: height))
            try memory.commit(built.block)
            applied += built.result.receipts.filter(\.isOK).count
            rejected += built.result.receipts.filter { !$0.isOK }.count
            dropped += built.dropped.count
            // Nonces of dropped or envelope-rejected transactions were not used: resync from state.
            for m in ["alice", "bob", "core", "verifier", "regulator", "gov1", "gov2", "gov3"] {
                nonces[m] = try memory.engine.reader.nonce(of: m).value ?? 0
            }
            for case .ok(let ids) in built.result.receipts.map(\.outcome) { proposals += ids }
            if rng.below(5) == 0 { rocks = nil; rocks = try TestChain(net: TestNet(), store: try RocksChainStore(path: path)) }  // restart
            let r = try #require(rocks)
            try r.commit(built.block)
            #expect(r.engine.stateRoot == memory.engine.stateRoot)
        }
        let r = try #require(rocks)
        for chain in [memory, r] {
            let flat = try chain.store.stateScan(prefix: [])
            let tree = try TreeState(root: chain.engine.stateRoot, height: chain.engine.currentHeight, source: chain.store).scan(prefix: [])
            #expect(flat.map(\.key) == tree.map(\.key))
            #expect(flat.map(\.value) == tree.map(\.value))
        }
        #expect(memory.engine.currentHeight == 25)
        #expect(applied > 0 && rejected > 0 && dropped > 0)  // the run exercised every path
    }
}
