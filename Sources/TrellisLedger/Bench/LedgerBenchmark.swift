// LedgerBenchmark.swift — measures block execution and state-root updates, for `trellis bench ledger`.
//
// Builds a throwaway chain (memory or RocksDB store) with `members` members, then builds and commits blocks of
// `transactionsPerBlock` transactions (key rotations: each one touches 3 state keys) with signatures pre-verified,
// timing execution and the tree update separately. Benchmarks, not tests: numbers depend on the machine.
import Foundation
import TrellisCodec
import TrellisCrypto

public struct LedgerBenchmarkResult: Sendable, CustomStringConvertible {
    public let blocks: Int
    public let transactionsPerBlock: Int
    /// Median seconds to build (execute) one block, tree update included.
    public let buildSecondsMedian: Double
    /// Median seconds of the state-root update alone per block.
    public let stateRootSecondsMedian: Double
    /// Median seconds to commit one block (synced batch).
    public let commitSecondsMedian: Double
    /// Seconds to commit each block, in height order.
    public let commitSeconds: [Double]
    public let stateKeysChangedPerBlock: Int
    /// Over the whole run: state keys changed, tree nodes written and tree nodes replaced, per transaction.
    public let stateKeysPerTransaction: Double
    public let treeNodesWrittenPerTransaction: Double
    public let treeNodesReplacedPerTransaction: Double
    public let transactionsPerSecond: Double
    /// Canonical bytes of all committed transactions.
    public let transactionBytes: Int

    /// The `p`-th percentile (0…100, nearest rank) of the blocks' commit seconds.
    public func commitSecondsPercentile(_ p: Double) -> Double { LedgerBenchmark.percentile(commitSeconds, p) }

    public var description: String {
        String(format: "%d blocks × %d txs: build %.1f ms/block (state root %.1f ms for %d keys), commit %.1f ms/block, %.0f tx/s; per transaction %.2f state keys, %.2f tree nodes written, %.2f replaced",
               blocks, transactionsPerBlock, buildSecondsMedian * 1000, stateRootSecondsMedian * 1000, stateKeysChangedPerBlock,
               commitSecondsMedian * 1000, transactionsPerSecond, stateKeysPerTransaction, treeNodesWrittenPerTransaction, treeNodesReplacedPerTransaction)
    }
}

public enum LedgerBenchmark {
    /// Builds and commits `blocks` blocks of `transactionsPerBlock` transactions on `store` (a fresh store).
    /// `committed` is called after each committed height (progress for long runs and crash tests).
    public static func run(transactionsPerBlock: Int, blocks: Int, store: any ChainStore, committed: ((UInt64) -> Void)? = nil) throws -> LedgerBenchmarkResult {
        precondition(transactionsPerBlock > 0 && blocks > 0, "benchmark sizes must be positive")
        let validatorKey = try SigningKey(seed: [UInt8](repeating: 7, count: 32))
        let members = try (0..<transactionsPerBlock).map { i in
            (id: "m\(i)", key: try SigningKey(seed: SHA256.hash(Array("bench-member-\(i)".utf8)).bytes))
        }
        let governor = try SigningKey(seed: [UInt8](repeating: 9, count: 32))
        var specs = members.map { MemberSpec(memberID: $0.id, legalName: "Member \($0.id)", registrationNo: "", publicKeys: [$0.key.publicKey], roles: [.participant]) }
        specs.append(MemberSpec(memberID: "gov", legalName: "Governor", registrationNo: "", publicKeys: [governor.publicKey], roles: [.governor]))
        let genesis = try GenesisDocument(chainID: "bench", genesisTime: 1_700_000_000, members: specs,
                                          validators: [GenesisValidator(name: "v1", validator: Validator(publicKey: validatorKey.publicKey, votingPower: 1, p2pAddress: "127.0.0.1:1"))],
                                          parameters: Parameters(governanceQuorum: 1))
        let engine = try LedgerEngine(genesis: genesis, store: store)
        var builds: [Double] = [], roots: [Double] = [], commits: [Double] = []
        var keysChanged = 0
        var totalKeys = 0, totalNodes = 0, totalReplaced = 0
        var transactionBytes = 0
        var lastCommit: CommitCertificate? = nil
        let clock = ContinuousClock()
        for b in 1...blocks {
            let height = engine.currentHeight + 1
            var txs: [Transaction] = []
            txs.reserveCapacity(members.count)
            for m in members {
                // Each transaction adds a fresh key and removes the previous block's: 3 keys change (member, key
                // index, nonce) and the member keeps two keys.
                let fresh = try SigningKey(seed: SHA256.hash(Array("bench-\(m.id)-\(b)".utf8)).bytes).publicKey
                let previous = try SigningKey(seed: SHA256.hash(Array("bench-\(m.id)-\(b - 1)".utf8)).bytes).publicKey
                let payload = RotateKeysPayload(addKeys: [fresh], removeKeys: b > 1 ? [previous] : [])
                let body = TransactionBody(chainID: "bench", kind: MembershipContract.rotateKeys, payload: payload.canonicalBytes, signer: m.id,
                                           nonce: UInt64(b), expiresAtHeight: height + 10)
                txs.append(Transaction.signed(body, by: [(m.id, m.key)]))
            }
            transactionBytes += txs.reduce(0) { $0 + $1.canonicalBytes.count }
            let start = clock.now
            let built = try engine.proposeBlock(height: height, round: 0, time: engine.lastBlockTime + 1, proposer: validatorKey.publicKey,
                                                lastCommit: lastCommit, transactions: txs, signatures: .allVerified)
            builds.append(seconds(clock.now - start))
            keysChanged = built.result.stateChanges.count
            totalKeys += keysChanged
            totalNodes += built.result.treeNodes.count
            totalReplaced += built.result.staleNodes.count
            let changes = built.result.stateChanges.map { (key: $0.key, value: $0.value) }
            let rootStart = clock.now
            _ = try SparseMerkleTree.update(root: engine.stateRoot, changes: changes, source: store)
            roots.append(seconds(clock.now - rootStart))
            let body = VoteBody(type: .precommit, height: height, round: 0, blockID: built.block.hash, validator: validatorKey.publicKey)
            let certificate = CommitCertificate(height: height, round: 0, blockID: built.block.hash, precommits: [Vote.signed(body, chainID: "bench", key: validatorKey)])
            let commitStart = clock.now
            try engine.commit(built.block, certificate: certificate)
            commits.append(seconds(clock.now - commitStart))
            lastCommit = certificate
            committed?(height)
        }
        let build = median(builds), root = median(roots), commit = median(commits)
        let transactions = Double(blocks * transactionsPerBlock)
        return LedgerBenchmarkResult(blocks: blocks, transactionsPerBlock: transactionsPerBlock, buildSecondsMedian: build, stateRootSecondsMedian: root,
                                     commitSecondsMedian: commit, commitSeconds: commits, stateKeysChangedPerBlock: keysChanged,
                                     stateKeysPerTransaction: Double(totalKeys) / transactions, treeNodesWrittenPerTransaction: Double(totalNodes) / transactions,
                                     treeNodesReplacedPerTransaction: Double(totalReplaced) / transactions,
                                     transactionsPerSecond: Double(transactionsPerBlock) / (build + commit), transactionBytes: transactionBytes)
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    /// The `p`-th percentile (0…100) of `values` by nearest rank: the smallest value with at least p % of the values
    /// at or below it.
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        precondition(!values.isEmpty && (0...100).contains(p), "a percentile of no values or out of 0…100")
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[max(rank, 1) - 1]
    }
}
