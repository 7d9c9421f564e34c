// MempoolTests.swift — admission checks, bounds, per-signer nonce ordering and eviction.
import NIOConcurrencyHelpers
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisLedger
@testable import TrellisNode

/// A ledger view over a fixed member table.
final class FakeLedger: MempoolLedgerView, @unchecked Sendable {
    let chainID = "mempool-test"
    private let lock = NIOLock()
    private var height: UInt64 = 10
    private var lifetime: UInt64 = 1_000
    private var members: [String: Member] = [:]
    private var nonces: [String: UInt64] = [:]
    var rejectKinds: Set<String> = []
    /// Called at each `account` read, after it read (outside the view's lock): a test's commit landing between an
    /// admission's reads and its insertion.
    var onAccountRead: (() -> Void)?

    var committedHeight: UInt64 { lock.withLock { height } }
    var maxTxLifetimeBlocks: UInt64 { lock.withLock { lifetime } }
    func setHeight(_ h: UInt64) { lock.withLock { height = h } }
    func setLifetime(_ blocks: UInt64) { lock.withLock { lifetime = blocks } }
    func add(_ m: Member, nextNonce: UInt64 = 1) { lock.withLock { members[m.memberID] = m; nonces[m.memberID] = nextNonce } }
    func setNonce(_ id: String, _ n: UInt64) { lock.withLock { nonces[id] = n } }

    /// Ledger reads so far: `account` (member record and nonce) and `nextNonce` (the nonce alone).
    private(set) var accountReads = 0
    private(set) var nonceReads = 0

    func account(_ memberID: String) -> MempoolAccount? {
        let read = lock.withLock {
            accountReads += 1
            return members[memberID].map { MempoolAccount(member: $0, nextNonce: nonces[memberID] ?? 1) }
        }
        onAccountRead?()
        return read
    }

    func nextNonce(_ memberID: String) -> UInt64? {
        lock.withLock {
            nonceReads += 1
            return members[memberID] == nil ? nil : nonces[memberID] ?? 1
        }
    }

    func resetReadCounts() { lock.withLock { accountReads = 0; nonceReads = 0 } }

    func precheck(_ transaction: Transaction) throws(TxRejection) {
        if rejectKinds.contains(transaction.body.kind) { throw TxRejection("unknown_kind", "no such kind") }
    }
}

struct Fixture {
    let ledger = FakeLedger()
    let alice = SigningKey.generate(), bob = SigningKey.generate(), carol = SigningKey.generate()

    init() {
        ledger.add(Member(memberID: "alice", legalName: "Alice Co", registrationNo: "1", publicKeys: [alice.publicKey], roles: [.supplier]))
        ledger.add(Member(memberID: "bob", legalName: "Bob Co", registrationNo: "2", publicKeys: [bob.publicKey], roles: [.supplier]))
        ledger.add(Member(memberID: "carol", legalName: "Carol Co", registrationNo: "3", publicKeys: [carol.publicKey], roles: [.supplier], status: .suspended))
    }

    func tx(_ signer: String, key: SigningKey, nonce: UInt64, chain: String? = nil, expires: UInt64 = 100, kind: String = "test.kind") -> Transaction {
        let body = TransactionBody(chainID: chain ?? ledger.chainID, kind: kind, payload: [UInt8(truncatingIfNeeded: nonce)], signer: signer, nonce: nonce, expiresAtHeight: expires)
        return Transaction.signed(body, by: [(signer, key)])
    }

    /// `tx` with bit `mask` of byte `index` of its (only) signature flipped: a forgery.
    func forged(_ tx: Transaction, byte index: Int, mask: UInt8) throws -> Transaction {
        var sig = tx.signatures[0]
        var bytes = sig.signature.bytes
        bytes[index] ^= mask
        sig.signature = try Signature(bytes: bytes)
        return Transaction(body: tx.body, signatures: [sig])
    }
}

@Suite struct MempoolAdmissionTests {
    @Test func admitsOnceAndRemembersVerification() throws {
        let f = Fixture(), pool = Mempool()
        let t = f.tx("alice", key: f.alice, nonce: 1)
        let hash = try pool.add(t.canonicalBytes, ledger: f.ledger)
        #expect(hash == t.hash)
        #expect(pool.count == 1 && pool.contains(hash) && pool.isVerified(hash))
        #expect(throws: MempoolError.duplicate(hash)) { try pool.add(t.canonicalBytes, ledger: f.ledger) }
    }

    @Test func refusesEveryBadEnvelope() throws {
        let f = Fixture(), pool = Mempool()
        #expect(throws: MempoolError.wrongChain(expected: "mempool-test", actual: "other")) { try pool.add(f.tx("alice", key: f.alice, nonce: 1, chain: "other"), ledger: f.ledger) }
        #expect(throws: MempoolError.expired(expiresAt: 10, height: 10)) { try pool.add(f.tx("alice", key: f.alice, nonce: 1, expires: 10), ledger: f.ledger) }
        #expect(throws: MempoolError.unknownSigner("dave")) { try pool.add(f.tx("dave", key: f.alice, nonce: 1), ledger: f.ledger) }
        #expect(throws: MempoolError.inactiveMember("carol")) { try pool.add(f.tx("carol", key: f.carol, nonce: 1), ledger: f.ledger) }
        #expect(throws: MempoolError.keyNotRegistered(member: "alice", key: f.bob.publicKey)) { try pool.add(f.tx("alice", key: f.bob, nonce: 1), ledger: f.ledger) }
        f.ledger.setNonce("alice", 5)
        #expect(throws: MempoolError.staleNonce(expected: 5, actual: 4)) { try pool.add(f.tx("alice", key: f.alice, nonce: 4), ledger: f.ledger) }
        #expect(throws: MempoolError.nonceTooFarAhead(expected: 5, actual: 5 + 2_000)) { try pool.add(f.tx("alice", key: f.alice, nonce: 5 + 2_000), ledger: f.ledger) }
        f.ledger.rejectKinds = ["bad.kind"]
        #expect(throws: MempoolError.rejected(TxRejection("unknown_kind", "no such kind"))) { try pool.add(f.tx("bob", key: f.bob, nonce: 1, kind: "bad.kind"), ledger: f.ledger) }
        #expect(pool.count == 0)
    }

    @Test func refusesForgedSignaturesAndMissingSigners() throws {
        let f = Fixture(), pool = Mempool()
        let t = try f.forged(f.tx("alice", key: f.alice, nonce: 1), byte: 0, mask: 1)
        #expect(throws: MempoolError.badSignature(member: "alice")) { try pool.add(t, ledger: f.ledger) }
        let unsigned = Transaction(body: t.body, signatures: [])
        #expect(throws: MempoolError.missingSignatures) { try pool.add(unsigned, ledger: f.ledger) }
        // A co-signer listed but not signing.
        let body = TransactionBody(chainID: f.ledger.chainID, kind: "k", payload: [], signer: "alice", nonce: 1, expiresAtHeight: 50, cosigners: ["bob"])
        #expect(throws: MempoolError.missingSignatures) { try pool.add(Transaction.signed(body, by: [("alice", f.alice)]), ledger: f.ledger) }
        #expect(throws: Never.self) { try pool.add(Transaction.signed(body, by: [("alice", f.alice), ("bob", f.bob)]), ledger: f.ledger) }
        #expect(pool.count == 1)
    }

    @Test func refusesMalformedAndOversizeBytes() throws {
        let f = Fixture(), pool = Mempool()
        let good = f.tx("alice", key: f.alice, nonce: 1).canonicalBytes
        #expect(throws: MempoolError.self) { try pool.add(good + [0], ledger: f.ledger) }
        #expect(throws: MempoolError.self) { try pool.add(Array(good.dropLast()), ledger: f.ledger) }
        #expect(throws: MempoolError.tooLarge(bytes: Limits.maxTransactionBytes + 1, limit: Limits.maxTransactionBytes)) {
            try pool.add([UInt8](repeating: 0, count: Limits.maxTransactionBytes + 1), ledger: f.ledger)
        }
        #expect(pool.count == 0)
    }

    @Test func fullPoolRefusesInsteadOfGrowing() throws {
        let f = Fixture()
        var config = MempoolConfiguration()
        config.maxTransactions = 3
        let pool = Mempool(configuration: config)
        for n in 1...3 { try pool.add(f.tx("alice", key: f.alice, nonce: UInt64(n)), ledger: f.ledger) }
        #expect(throws: MempoolError.full(transactions: 3, bytes: pool.byteCount)) { try pool.add(f.tx("bob", key: f.bob, nonce: 1), ledger: f.ledger) }
        #expect(MempoolError.full(transactions: 3, bytes: 0).code == "mempool_full")
        #expect(pool.count == 3)
    }

    @Test func oneTransactionPerSignerNonce() throws {
        let f = Fixture(), pool = Mempool()
        try pool.add(f.tx("alice", key: f.alice, nonce: 1, kind: "a"), ledger: f.ledger)
        #expect(throws: MempoolError.nonceTaken(signer: "alice", nonce: 1)) { try pool.add(f.tx("alice", key: f.alice, nonce: 1, kind: "b"), ledger: f.ledger) }
    }
}

@Suite struct MempoolOrderingTests {
    @Test func reapTakesGapFreeNonceRunsInArrivalOrder() throws {
        let f = Fixture(), pool = Mempool()
        try pool.add(f.tx("bob", key: f.bob, nonce: 2), ledger: f.ledger)   // bob arrives first but nonce 1 is missing…
        try pool.add(f.tx("alice", key: f.alice, nonce: 2), ledger: f.ledger)
        try pool.add(f.tx("alice", key: f.alice, nonce: 1), ledger: f.ledger)
        try pool.add(f.tx("alice", key: f.alice, nonce: 4), ledger: f.ledger) // gap at 3
        var reaped = pool.reap(maxCount: 100, maxBytes: 1 << 20, ledger: f.ledger)
        #expect(reaped.map { "\($0.body.signer)/\($0.body.nonce)" } == ["alice/1", "alice/2"])
        try pool.add(f.tx("bob", key: f.bob, nonce: 1), ledger: f.ledger)
        reaped = pool.reap(maxCount: 100, maxBytes: 1 << 20, ledger: f.ledger)
        #expect(reaped.map { "\($0.body.signer)/\($0.body.nonce)" } == ["bob/1", "bob/2", "alice/1", "alice/2"])
        #expect(pool.reap(maxCount: 3, maxBytes: 1 << 20, ledger: f.ledger).count == 3)
        let oneTx = reaped[0].canonicalBytes.count
        #expect(pool.reap(maxCount: 100, maxBytes: oneTx, ledger: f.ledger).count == 1)
    }

    @Test func updateEvictsIncludedStaleAndExpired() throws {
        let f = Fixture(), pool = Mempool()
        let a1 = f.tx("alice", key: f.alice, nonce: 1), a2 = f.tx("alice", key: f.alice, nonce: 2)
        let b1 = f.tx("bob", key: f.bob, nonce: 1, expires: 11), b2 = f.tx("bob", key: f.bob, nonce: 2, expires: 50)
        for t in [a1, a2, b1, b2] { try pool.add(t, ledger: f.ledger) }
        // Block 11 includes a1; another node's block already used alice's nonce 2 for a different transaction.
        f.ledger.setHeight(11)
        f.ledger.setNonce("alice", 3)
        pool.update(afterCommitting: [a1], ledger: f.ledger)
        #expect(!pool.contains(a1.hash) && !pool.contains(a2.hash))
        #expect(!pool.isVerified(a1.hash))
        // b1 expires at 11: it can no longer be included in block 12.
        #expect(!pool.contains(b1.hash))
        #expect(pool.contains(b2.hash))
        #expect(pool.count == 1)
        #expect(pool.byteCount == b2.canonicalBytes.count)
    }

    /// A batch reads each signer's record and nonce once, however many of its transactions the signer has.
    @Test func batchAdmissionReadsEachSignerOnce() throws {
        let f = Fixture(), pool = Mempool()
        let batch = (1...4 as ClosedRange<UInt64>).flatMap { n in [f.tx("alice", key: f.alice, nonce: n), f.tx("bob", key: f.bob, nonce: n)] }
        f.ledger.resetReadCounts()
        let results = pool.addBatch(batch.map(\.canonicalBytes), ledger: f.ledger)
        #expect(results.allSatisfy { if case .success = $0 { return true } else { return false } })
        #expect(f.ledger.accountReads == 2)
        #expect(pool.readyCount == 8)
        // A refusal by the cached reads is the same as by fresh ones: a stale nonce in the batch is refused.
        f.ledger.setNonce("alice", 6)
        f.ledger.resetReadCounts()
        let late = pool.addBatch([f.tx("alice", key: f.alice, nonce: 5).canonicalBytes, f.tx("alice", key: f.alice, nonce: 7).canonicalBytes], ledger: f.ledger)
        #expect(late[0] == .failure(.staleNonce(expected: 6, actual: 5)))
        #expect((try? late[1].get()) != nil)
        #expect(f.ledger.accountReads == 1)
    }

    /// The post-commit update and the proposer's reap run on the consensus queue: the update reads only the committed
    /// transactions' signers' nonces (it read every pending signer's before 2026-12-07), reap none — it takes the ready
    /// runs the updates keep (it read every pending signer's nonce per proposal before 2026-12-07) — and neither reads
    /// a member record.
    @Test func updateReadsTheCommittedSignersNoncesAndReapNone() throws {
        let f = Fixture(), pool = Mempool()
        for n in 1...3 as ClosedRange<UInt64> {
            try pool.add(f.tx("alice", key: f.alice, nonce: n), ledger: f.ledger)
            try pool.add(f.tx("bob", key: f.bob, nonce: n), ledger: f.ledger)
        }
        f.ledger.resetReadCounts()
        #expect(pool.reap(maxCount: 100, maxBytes: 1 << 20, ledger: f.ledger).count == 6)
        #expect(f.ledger.nonceReads == 0 && f.ledger.accountReads == 0)
        f.ledger.resetReadCounts()
        f.ledger.setHeight(11)
        f.ledger.setNonce("alice", 3)
        pool.update(afterCommitting: [f.tx("alice", key: f.alice, nonce: 1), f.tx("alice", key: f.alice, nonce: 2)], ledger: f.ledger)
        #expect(f.ledger.nonceReads == 1 && f.ledger.accountReads == 0)
        #expect(pool.count == 4 && pool.readyCount == 4)
        f.ledger.resetReadCounts()
        #expect(pool.reap(maxCount: 100, maxBytes: 1 << 20, ledger: f.ledger).map { "\($0.body.signer)/\($0.body.nonce)" } == ["bob/1", "bob/2", "bob/3", "alice/3"])
        #expect(f.ledger.nonceReads == 0)
    }

    /// An insertion whose ledger reads came before a commit (admission reads outside the pool's lock) may have read a
    /// nonce that commit moved: reap reads that signer's nonce again rather than trust the run it started from.
    @Test func reapReadsASignerInsertedWithReadsOlderThanACommit() throws {
        let f = Fixture(), pool = Mempool()
        let alice2 = f.tx("alice", key: f.alice, nonce: 2)
        // While alice/2's admission reads alice (next nonce 1), another node's alice/1 commits.
        f.ledger.onAccountRead = { [pool] in
            f.ledger.onAccountRead = nil
            f.ledger.setHeight(11)
            f.ledger.setNonce("alice", 2)
            pool.update(afterCommitting: [f.tx("alice", key: f.alice, nonce: 1, kind: "test.other")], ledger: f.ledger)
        }
        try pool.add(alice2, ledger: f.ledger)
        #expect(pool.readyCount == 0, "the run was started from the nonce read before the commit")
        f.ledger.resetReadCounts()
        #expect(pool.reap(maxCount: 100, maxBytes: 1 << 20, ledger: f.ledger).map(\.hash) == [alice2.hash])
        #expect(f.ledger.nonceReads == 1)
        pool.update(afterCommitting: [], ledger: f.ledger)  // the next update settles it
        #expect(pool.readyCount == 1)
        f.ledger.resetReadCounts()
        #expect(pool.reap(maxCount: 100, maxBytes: 1 << 20, ledger: f.ledger).map(\.hash) == [alice2.hash])
        #expect(f.ledger.nonceReads == 0)
    }
}

/// A seeded generator (SplitMix64): the same sequence on every run.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct MempoolUpdateTests {
    /// After every commit the pool holds exactly the transactions a whole re-evaluation keeps — not included, nonce
    /// at or above the signer's next nonce, not expired — and its ready count is the gap-free runs from the next
    /// nonces, although the update looks only at the committed transactions' signers and at expired transactions.
    /// Blocks include pooled transactions, other nodes' transactions for the same nonces (which make pooled ones
    /// stale), or none; transactions expire while waiting behind gaps.
    @Test func anUpdateKeepsWhatAWholeReevaluationKeeps() throws {
        let f = Fixture(), pool = Mempool()
        var keys: [String: SigningKey] = ["alice": f.alice, "bob": f.bob]
        for i in 0..<4 {
            let key = SigningKey.generate()
            keys["m\(i)"] = key
            f.ledger.add(Member(memberID: "m\(i)", legalName: "M\(i)", registrationNo: "r\(i)", publicKeys: [key.publicKey], roles: [.supplier]))
        }
        let signers = keys.keys.sorted()
        var next: [String: UInt64] = Dictionary(uniqueKeysWithValues: signers.map { ($0, 1) })
        var model: [Hash: Transaction] = [:]
        var arrivals: [Hash: Int] = [:]  // admission order, for the order reap takes signers in
        var height: UInt64 = 10
        var random = SeededGenerator(state: 17)
        var commits = 0, staleDrops = 0, expiryDrops = 0
        for step in 0..<400 {
            if Int.random(in: 0..<3, using: &random) > 0 {
                let signer = signers.randomElement(using: &random)!
                let nonce = next[signer]! + UInt64.random(in: 0...5, using: &random)
                let tx = f.tx(signer, key: keys[signer]!, nonce: nonce, expires: height + UInt64.random(in: 1...8, using: &random))
                if (try? pool.add(tx, ledger: f.ledger)) != nil {
                    model[tx.hash] = tx
                    arrivals[tx.hash] = arrivals.count
                }
                continue
            }
            // A block: some signers' next nonces taken, by pooled transactions or by other nodes' for those nonces.
            var block: [Transaction] = []
            for signer in signers where Bool.random(using: &random) {
                for _ in 0..<Int.random(in: 1...3, using: &random) {
                    let nonce = next[signer]!
                    let pooled = model.values.first { $0.body.signer == signer && $0.body.nonce == nonce }
                    block.append(pooled.flatMap { Bool.random(using: &random) ? $0 : nil }
                                 ?? f.tx(signer, key: keys[signer]!, nonce: nonce, expires: height + 1, kind: "test.other"))
                    next[signer] = nonce + 1
                }
            }
            height += 1
            f.ledger.setHeight(height)
            for (signer, n) in next { f.ledger.setNonce(signer, n) }
            pool.update(afterCommitting: block, ledger: f.ledger)
            commits += 1
            // The whole re-evaluation.
            for tx in block { model[tx.hash] = nil }
            for (hash, tx) in model {
                if tx.body.nonce < next[tx.body.signer]! { model[hash] = nil; staleDrops += 1 } else if tx.body.expiresAtHeight < height + 1 { model[hash] = nil; expiryDrops += 1 }
            }
            var ready = 0
            for signer in signers {
                var nonce = next[signer]!
                while model.values.contains(where: { $0.body.signer == signer && $0.body.nonce == nonce }) { ready += 1; nonce += 1 }
            }
            // What a proposal takes: signers by their earliest pending transaction, each its run from its next nonce.
            let order = signers.compactMap { signer in
                model.values.filter { $0.body.signer == signer }.map { arrivals[$0.hash]! }.min().map { (signer, $0) }
            }.sorted { $0.1 < $1.1 }.map(\.0)
            var expectedReap: [Hash] = []
            for signer in order {
                var nonce = next[signer]!
                while let tx = model.values.first(where: { $0.body.signer == signer && $0.body.nonce == nonce }) { expectedReap.append(tx.hash); nonce += 1 }
            }
            f.ledger.resetReadCounts()
            #expect(pool.reap(maxCount: 10_000, maxBytes: 1 << 30, ledger: f.ledger).map(\.hash) == expectedReap, "step \(step)")
            #expect(f.ledger.nonceReads == 0, "step \(step)")
            #expect(pool.count == model.count, "step \(step)")
            #expect(model.keys.allSatisfy { pool.contains($0) }, "step \(step)")
            #expect(pool.readyCount == ready, "step \(step)")
            #expect(pool.byteCount == model.values.reduce(0) { $0 + $1.canonicalBytes.count }, "step \(step)")
        }
        // The run exercised what it is meant to.
        #expect(commits > 50 && staleDrops > 10 && expiryDrops > 10)
    }

    /// The update reads the nonces of the committed transactions' signers only, however many signers are pending.
    @Test func anUpdateReadsOnlyTheCommittedSigners() throws {
        let f = Fixture(), pool = Mempool()
        for n in 1...3 as ClosedRange<UInt64> {
            try pool.add(f.tx("alice", key: f.alice, nonce: n), ledger: f.ledger)
            try pool.add(f.tx("bob", key: f.bob, nonce: n), ledger: f.ledger)
        }
        f.ledger.resetReadCounts()
        f.ledger.setHeight(11)
        pool.update(afterCommitting: [], ledger: f.ledger)
        #expect(f.ledger.nonceReads == 0 && pool.count == 6 && pool.readyCount == 6)
        f.ledger.setNonce("bob", 2)
        pool.update(afterCommitting: [f.tx("bob", key: f.bob, nonce: 1)], ledger: f.ledger)
        #expect(f.ledger.nonceReads == 1 && pool.count == 5 && pool.readyCount == 5)
    }
}
