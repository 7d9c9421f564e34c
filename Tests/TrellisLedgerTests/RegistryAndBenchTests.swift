// RegistryAndBenchTests.swift — the contract registry, the signature cache and the benchmark entry point.
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
    }
}
