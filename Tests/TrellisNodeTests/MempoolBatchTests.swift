// MempoolBatchTests.swift — batch admission: same checks as one-by-one, one refusal never refuses the others,
// signatures verified once for the whole batch, nonce order kept.
import Testing
import TrellisCrypto
import TrellisLedger
@testable import TrellisNode

@Suite struct MempoolBatchTests {
    @Test func admitsValidEntriesAndRefusesEachBadOneAlone() throws {
        let f = Fixture(), pool = Mempool()
        let good1 = f.tx("alice", key: f.alice, nonce: 1), good2 = f.tx("alice", key: f.alice, nonce: 2)
        let forged = try f.forged(f.tx("bob", key: f.bob, nonce: 1), byte: 5, mask: 0x40)
        let unknown = f.tx("dave", key: f.alice, nonce: 1)
        let batch: [[UInt8]] = [good1.canonicalBytes, [0xff, 0x00], forged.canonicalBytes, unknown.canonicalBytes, good2.canonicalBytes, good1.canonicalBytes]
        let results = pool.addBatch(batch, ledger: f.ledger)
        #expect(results.count == batch.count)
        #expect(try results[0].get() == good1.hash)
        guard case .failure(.malformed) = results[1] else { Issue.record("undecodable entry must be malformed, got \(results[1])"); return }
        #expect(throws: MempoolError.badSignature(member: "bob")) { try results[2].get() }
        #expect(throws: MempoolError.unknownSigner("dave")) { try results[3].get() }
        #expect(try results[4].get() == good2.hash)
        #expect(throws: MempoolError.duplicate(good1.hash)) { try results[5].get() }
        #expect(pool.count == 2 && pool.isVerified(good1.hash) && pool.isVerified(good2.hash) && !pool.contains(forged.hash))
        #expect(pool.reap(maxCount: 10, maxBytes: 1 << 20, ledger: f.ledger).map(\.hash) == [good1.hash, good2.hash])
    }

    @Test func batchOfDecodedTransactionsMatchesSingleAdmission() throws {
        let f = Fixture(), single = Mempool(), batched = Mempool()
        var txs: [Transaction] = []
        for i in 1...20 {
            let even = i % 2 == 0
            txs.append(f.tx(even ? "alice" : "bob", key: even ? f.alice : f.bob, nonce: UInt64((i + 1) / 2)))
        }
        for t in txs { try single.add(t, ledger: f.ledger) }
        let results = batched.addBatch(txs, ledger: f.ledger)
        let admitted = results.filter { (try? $0.get()) != nil }.count
        #expect(admitted == txs.count)
        #expect(batched.count == single.count)
        let fromBatch: [String] = batched.reap(maxCount: 100, maxBytes: 1 << 20, ledger: f.ledger).map { $0.hash.hex }.sorted()
        let fromSingle: [String] = single.reap(maxCount: 100, maxBytes: 1 << 20, ledger: f.ledger).map { $0.hash.hex }.sorted()
        #expect(fromBatch.count == 20)
        #expect(fromBatch == fromSingle)
    }

    @Test func oversizedEntryIsRefusedAsTooLarge() {
        let f = Fixture(), pool = Mempool()
        let results = pool.addBatch([[UInt8](repeating: 0, count: Limits.maxTransactionBytes + 1)], ledger: f.ledger)
        #expect(throws: MempoolError.tooLarge(bytes: Limits.maxTransactionBytes + 1, limit: Limits.maxTransactionBytes)) { try results[0].get() }
    }

    @Test func fullPoolRefusesTheRestOfTheBatch() {
        let f = Fixture()
        var config = MempoolConfiguration()
        config.maxTransactions = 2
        let pool = Mempool(configuration: config)
        let txs = (1...3).map { f.tx("alice", key: f.alice, nonce: UInt64($0)) }
        let results = pool.addBatch(txs.map(\.canonicalBytes), ledger: f.ledger)
        #expect((try? results[0].get()) != nil && (try? results[1].get()) != nil)
        guard case .failure(.full) = results[2] else { Issue.record("third must be refused as full, got \(results[2])"); return }
    }
}
