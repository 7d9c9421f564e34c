// RegistryAndBenchTests.swift — the contract registry, the signature cache and the benchmark entry point.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

@Suite struct RegistryAndBenchTests {
    @Test func standardRegistryListsMembershipAndGovernanceKinds() {
        let kinds = ContractRegistry.standard.kinds.map(\.kind)
        #expect(kinds == kinds.sorted())
        #expect(Set(["governance.approve", "governance.propose", "member.rotate_keys"]).isSubset(of: kinds))
        #expect(ContractRegistry.standard.contract(for: "governance.propose")?.name == "governance")
        #expect(ContractRegistry.standard.spec(for: "nope") == nil)
    }

    @Test func aKindClaimedTwiceStopsTheProcess() async {
        await #expect(processExitsWith: .failure) {
            _ = ContractRegistry([MembershipContract(), MembershipContract()])
        }
    }

    @Test func signatureCacheRemembersOnlyValidTransactions() throws {
        let cache = SignatureCache(capacity: 4)
        let good = TestNet.rotate("alice", add: "x", nonce: 1)
        var sig = good.signatures[0].signature.bytes
        sig[5] ^= 1
        let bad = Transaction(body: good.body, signatures: [TransactionSignature(memberID: "alice", publicKey: good.signatures[0].publicKey, signature: try Signature(bytes: sig))])
        #expect(cache.verify([good, bad]) == [true, false])
        #expect(cache.isVerified(good.hash) && !cache.isVerified(bad.hash))
        let more = (2...9).map { TestNet.rotate("alice", add: "x", nonce: UInt64($0)) }
        #expect(cache.verify(more).allSatisfy { $0 })
        #expect(!cache.isVerified(good.hash))  // forgotten once the cache overflowed
        #expect(cache.isVerified(more.last?.hash ?? .zero))
    }

    @Test func benchmarkBuildsAndCommitsBlocks() throws {
        let store = MemoryChainStore()
        let result = try LedgerBenchmark.run(transactionsPerBlock: 5, blocks: 3, store: store)
        #expect(result.blocks == 3)
        #expect(result.stateKeysChangedPerBlock == 5 * 3)  // member, key index, nonce per tx (the receipts root is in the header)
        #expect(try store.lastHeight() == 3)
        #expect(try store.block(atHeight: 3)?.transactions.count == 5)
    }
}

@Suite struct SplitTransferBenchmarkTests {
    /// The benchmark's block really is N accepted split transfers (a benchmark of rejections would measure nothing).
    @Test func everySplitInTheBenchmarkBlockIsAccepted() throws {
        let result = try SplitTransferBenchmark.run(transactions: 50)
        #expect(result.transactions == 50)
        #expect(result.accepted == 50)
        #expect(result.stateKeysChanged > 50 * 3)
        #expect(result.chained.accepted == 50)
    }

    /// Keys written per split: 10 for an independent split (two children with their live-leaf and holder indexes and
    /// the recipient's incoming entry, the consumed input and its two index deletions), plus the signer's nonce once
    /// per block. In a chain the remainder created and spent in the same block leaves only its consumed record (its
    /// index entries are added and removed: no net change, so not written).
    @Test func chainedSplitsWriteOnlyTheirNetChanges() throws {
        let result = try SplitTransferBenchmark.run(transactions: 40, chainLength: 10)
        #expect(result.stateKeysChanged == 40 * 10 + 1)
        // Per chain of 10: the first split consumes a stored certificate (its record + 2 index deletions), every split
        // creates a pending child (4 keys) and a remainder (its record; the last one's 2 index entries stay); one nonce.
        #expect(result.chained.stateKeysChanged == 4 * (3 + 10 * 5 + 2) + 1)
    }
}

@Suite struct GrownStateBenchmarkTests {
    /// The grown-state benchmark commits accepted chained splits (it throws on a rejection), its state really grows,
    /// every measured size is sampled at every point, and the store's split of each commit adds up to at most the
    /// commit's own time.
    @Test func theStateGrowsAndEveryMeasuredCommitIsSplitIntoPhases() throws {
        let path = temporaryPath("grown-bench")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RocksChainStore(path: path, retention: .window(heights: 3))
        let result = try GrownStateBenchmark.run(growTransactions: 120, measureEvery: 60, sizes: [4, 12], measureBlocks: 2, chains: 4,
                                                 growBlockSize: 30, store: store)
        #expect(result.samples.map(\.grownTransactions) == [0, 0, 60, 60, 120, 120])
        #expect(result.samples.map(\.blockSize) == [4, 12, 4, 12, 4, 12])
        let first = result.samples[0].liveStateKeys, last = result.samples[4].liveStateKeys
        #expect(last > first + 120 * 3, "live keys \(first) → \(last): every split leaves new live keys")
        for sample in result.samples {
            #expect(sample.commitSeconds.count == 2)
            #expect(sample.phases.commits == 2)
            #expect(sample.stateKeysPerBlock > sample.blockSize)
            #expect(sample.phases.totalSeconds <= sample.commitSeconds.reduce(0, +))
            #expect(sample.phases.batchOperations > sample.blockSize * 2)
            // Drawn like the growth: the next transaction of each of the 4 chains in turn.
            #expect(sample.signersPerBlock == min(4, sample.blockSize))
        }
        // The window of 3 heights prunes from the fourth height on: later commits pay a prune.
        #expect(result.samples[5].phases.pruneSeconds > 0)
        #expect(result.stretches.map(\.toTransactions) == [60, 120])
        #expect(result.fits.count == 3)
        let heights = try #require(try store.lastHeight())
        // Setup (3 blocks), 3 measurements of 2 × 2 blocks, 120 grown in blocks of 30.
        #expect(heights == 3 + 12 + 4)
        // The grown store is whole: every kept height reads and proves, nothing unneeded is left.
        let check = try store.checkState()
        #expect(check.liveKeys > last)
        #expect(check.unneededHistoryEntries == 0)
    }

    /// With `measureSigners` every measured block holds one transaction per signer (the latency phase's composition):
    /// more distinct state keys per transaction than the same block size drawn as chained runs of fewer signers; the
    /// growth is unchanged, and every measured block reports its CPU and the tree update's time.
    @Test func measuredBlocksOfOneTransactionPerSigner() throws {
        func run(measureSigners: Int?) throws -> GrownStateResult {
            let path = temporaryPath("grown-bench-signers")
            defer { try? FileManager.default.removeItem(atPath: path) }
            let store = try RocksChainStore(path: path, retention: .window(heights: 3))
            return try GrownStateBenchmark.run(growTransactions: 40, measureEvery: 40, sizes: [6, 12], measureBlocks: 2, chains: 4,
                                               growBlockSize: 20, measureSigners: measureSigners, store: store)
        }
        let spread = try run(measureSigners: 12)
        let chained = try run(measureSigners: nil)
        #expect(spread.samples.map(\.blockSize) == [6, 12, 6, 12])
        for sample in spread.samples {
            #expect(sample.signersPerBlock == sample.blockSize)
            #expect(sample.buildCPUSeconds > 0 && sample.commitCPUSeconds > 0 && sample.processCPUSeconds > 0)
            #expect(sample.treeUpdateSecondsMedian > 0)
        }
        for (one, runs) in zip(spread.samples, chained.samples) where one.blockSize == 12 {
            #expect(runs.signersPerBlock == 4)
            #expect(one.stateKeysPerBlock > runs.stateKeysPerBlock, "one tx per signer: \(one.stateKeysPerBlock) keys, chained runs: \(runs.stateKeysPerBlock)")
        }
        #expect(spread.stretches.map(\.toTransactions) == [40])
    }
}
