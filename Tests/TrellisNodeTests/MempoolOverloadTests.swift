// MempoolOverloadTests.swift — admission control: past the next blocks' worth of pending transactions (or a long
// run of one signer) client submissions are refused with `overloaded` / `signer_backlog` and a retry delay, before
// any signature is verified; gossip from peers is still admitted up to the hard bounds.
import Testing
import TrellisCrypto
import TrellisLedger
@testable import TrellisNode

@Suite struct MempoolOverloadTests {
    func pool(pending: Int, signerRun: Int) -> Mempool {
        var c = MempoolConfiguration()
        c.admissionMaxPending = pending
        c.admissionMaxSignerRun = signerRun
        c.blockTransactions = 2
        return Mempool(configuration: c)
    }

    @Test func clientsAreRefusedPastTheAdmissionLimitsAndPeersAreNot() throws {
        let f = Fixture(), pool = pool(pending: 3, signerRun: 2)
        try pool.add(f.tx("alice", key: f.alice, nonce: 1).canonicalBytes, ledger: f.ledger)
        try pool.add(f.tx("alice", key: f.alice, nonce: 2).canonicalBytes, ledger: f.ledger)
        // alice's run is 2 long: her third is refused, bob's first is not.
        do {
            try pool.add(f.tx("alice", key: f.alice, nonce: 3).canonicalBytes, ledger: f.ledger)
            Issue.record("a third pending transaction of one signer was admitted")
        } catch let error {
            guard case .signerBacklog("alice", 2, 2, let retry) = error else { throw error }
            #expect(retry >= 1 && error.code == "signer_backlog" && error.retryAfterSeconds == retry)
        }
        try pool.add(f.tx("bob", key: f.bob, nonce: 1).canonicalBytes, ledger: f.ledger)
        // 3 pending = the limit: every client submission is now refused, even a forged one — before its
        // signature is checked (no CPU spent on work the node cannot finish soon).
        let forged = try f.forged(f.tx("bob", key: f.bob, nonce: 2), byte: 3, mask: 0x10)
        for tx in [f.tx("bob", key: f.bob, nonce: 2), forged] {
            do {
                try pool.add(tx.canonicalBytes, ledger: f.ledger)
                Issue.record("admitted past the admission limit")
            } catch let error {
                guard case .overloaded(3, 3, let retry) = error else { throw error }
                #expect(retry >= 1 && retry <= 60 && error.code == "overloaded")
            }
        }
        let batch = pool.addBatch([f.tx("bob", key: f.bob, nonce: 2).canonicalBytes, [0xFF]], ledger: f.ledger)
        #expect(batch.allSatisfy { if case .failure(.overloaded) = $0 { return true } else { return false } })
        #expect(pool.count == 3)
        // A peer's gossip is admitted: it is already in the cluster.
        let gossip = pool.addBatch([f.tx("bob", key: f.bob, nonce: 2)], ledger: f.ledger)
        #expect((try? gossip[0].get()) != nil)
        #expect(pool.count == 4)
        // Once blocks take transactions out, clients are admitted again.
        f.ledger.setHeight(11)
        f.ledger.setNonce("alice", 3)
        pool.update(afterCommitting: [f.tx("alice", key: f.alice, nonce: 1), f.tx("alice", key: f.alice, nonce: 2)], ledger: f.ledger)
        #expect(pool.count == 2)
        try pool.add(f.tx("alice", key: f.alice, nonce: 3).canonicalBytes, ledger: f.ledger)
    }

    /// Admission control counts only ready transactions (per signer the gap-free nonce run from its next nonce).
    /// Regression: a 4-node cluster bench deadlocked when every pool held more gapped transactions (a signer's later
    /// batch gossiped everywhere, its earlier one refused) than the limit — the gap-fillers were refused as
    /// `overloaded` for ever, and blocks were empty.
    @Test func transactionsBehindANonceGapDoNotCountAndTheGapFillerIsAdmitted() throws {
        let f = Fixture(), pool = pool(pending: 3, signerRun: 2)
        // Peers gossip alice 2…5 and bob 2…3: six pending, none ready (both signers' next nonce is 1).
        let gossip = pool.addBatch((2...5).map { f.tx("alice", key: f.alice, nonce: $0) } + (2...3).map { f.tx("bob", key: f.bob, nonce: $0) }, ledger: f.ledger)
        #expect(gossip.allSatisfy { (try? $0.get()) != nil })
        #expect(pool.count == 6 && pool.readyCount == 0)
        #expect(pool.reap(maxCount: 100, maxBytes: 1 << 20, ledger: f.ledger).isEmpty)
        // The client's alice 1 fills the gap: admitted although 6 ≥ the limit of 3 are pending; her run is now 5.
        try pool.add(f.tx("alice", key: f.alice, nonce: 1).canonicalBytes, ledger: f.ledger)
        #expect(pool.readyCount == 5)
        #expect(pool.reap(maxCount: 100, maxBytes: 1 << 20, ledger: f.ledger).map(\.body.nonce) == [1, 2, 3, 4, 5])
        // Ready work is what is counted: now 5 ≥ 3, so bob's gap-filler waits (in a batch too), and alice is past
        // her run limit.
        do {
            try pool.add(f.tx("bob", key: f.bob, nonce: 1).canonicalBytes, ledger: f.ledger)
            Issue.record("admitted with 5 ready past the limit of 3")
        } catch let error {
            guard case .overloaded(5, 3, _) = error else { throw error }
        }
        let batch = pool.addBatch([f.tx("bob", key: f.bob, nonce: 1).canonicalBytes], ledger: f.ledger)
        guard case .failure(.overloaded(5, 3, _)) = batch[0] else { Issue.record("bob 1 in a batch: \(batch[0])"); return }
        // A commit of alice 1…4 recomputes the runs: alice 5 is ready, bob still waits behind his gap → 1 ready, and
        // bob's gap-filler is admitted from a batch, making his run 3 long.
        f.ledger.setHeight(11)
        f.ledger.setNonce("alice", 5)
        pool.update(afterCommitting: (1...4).map { f.tx("alice", key: f.alice, nonce: $0) }, ledger: f.ledger)
        #expect(pool.count == 3 && pool.readyCount == 1)
        let filler = pool.addBatch([f.tx("bob", key: f.bob, nonce: 1).canonicalBytes], ledger: f.ledger)
        #expect((try? filler[0].get()) != nil)
        #expect(pool.readyCount == 4)
        #expect(pool.reap(maxCount: 100, maxBytes: 1 << 20, ledger: f.ledger).map { "\($0.body.signer)\($0.body.nonce)" }.sorted() == ["alice5", "bob1", "bob2", "bob3"])
    }

    /// Inside one client batch, a signer's transactions past its run limit are refused as `signer_backlog` before
    /// any signature is verified (a forged one among them is refused for the backlog, not for its signature), and
    /// the batch's own admissions count towards the pending limit.
    @Test func aBatchIsRefusedPerTransactionBeforeItsSignaturesAreChecked() throws {
        let f = Fixture(), pool = pool(pending: 4, signerRun: 2)
        let forged = try f.forged(f.tx("alice", key: f.alice, nonce: 3), byte: 3, mask: 0x10)
        let batch = pool.addBatch([f.tx("alice", key: f.alice, nonce: 1), f.tx("alice", key: f.alice, nonce: 2), forged,
                                   f.tx("bob", key: f.bob, nonce: 1), f.tx("bob", key: f.bob, nonce: 2), f.tx("bob", key: f.bob, nonce: 3)].map(\.canonicalBytes),
                                  ledger: f.ledger)
        #expect((try? batch[0].get()) != nil && (try? batch[1].get()) != nil)
        guard case .failure(.signerBacklog("alice", 2, 2, _)) = batch[2] else { Issue.record("forged third of alice: \(batch[2])"); return }
        #expect((try? batch[3].get()) != nil && (try? batch[4].get()) != nil)
        // 4 pending = the limit: bob's third is refused as overload, with its retry hint.
        guard case .failure(let refusal) = batch[5], case .overloaded(4, 4, _) = refusal else { Issue.record("bob's third: \(batch[5])"); return }
        #expect(refusal.retryAfterSeconds != nil)
        #expect(pool.count == 4)
    }

    /// A client batch that overflows the admission limit: the transactions past the totals are refused as `overloaded`
    /// (with their retry hint) without being decoded, hashed or verified — the work a refusal saves is what grows with
    /// the offered load above saturation (docs/PERFORMANCE.md "No collapse above saturation (sixteenth, exec)"). The
    /// pool's `work` counters say what was done: only the admitted ones were decoded and verified; a gossiped batch
    /// (not subject to admission control) is counted as verified, never as decoded here.
    @Test func aBatchTailPastTheLimitIsRefusedWithoutBeingDecoded() throws {
        let f = Fixture(), pool = pool(pending: 3, signerRun: 100)
        let admitted = (1...3).map { f.tx("alice", key: f.alice, nonce: UInt64($0)) }
        // Past the limit: bob's run, a forged one and bytes that do not decode — none is looked at.
        let forged = try f.forged(f.tx("bob", key: f.bob, nonce: 3), byte: 3, mask: 0x10)
        let tail = (1...2).map { f.tx("bob", key: f.bob, nonce: UInt64($0)).canonicalBytes } + [forged.canonicalBytes, [0xFF, 0x00]]
        let results = pool.addBatch(admitted.map(\.canonicalBytes) + tail, ledger: f.ledger)
        #expect(results.prefix(3).allSatisfy { (try? $0.get()) != nil })
        for result in results.dropFirst(3) {
            guard case .failure(let refusal) = result, case .overloaded(3, 3, _) = refusal else { Issue.record("past the limit: \(result)"); continue }
            #expect(refusal.retryAfterSeconds != nil)
        }
        #expect(pool.work == Mempool.Work(decodedTransactions: 3, verifiedSignatures: 3))
        #expect(pool.count == 3 && pool.readyCount == 3)
        // Peers' gossip is admitted past the limit and verified; it arrives decoded.
        let gossip = pool.addBatch([f.tx("bob", key: f.bob, nonce: 1)], ledger: f.ledger)
        #expect((try? gossip[0].get()) != nil)
        #expect(pool.work == Mempool.Work(decodedTransactions: 3, verifiedSignatures: 4))
        // A whole batch refused (the pool over its limit before the batch) costs no decoding either.
        let refused = pool.addBatch(tail, ledger: f.ledger)
        #expect(refused.allSatisfy { if case .failure(.overloaded) = $0 { return true } else { return false } })
        #expect(pool.work == Mempool.Work(decodedTransactions: 3, verifiedSignatures: 4))
    }

    /// The limit counts in the block size the node measures, not the configured maximum: blocks of 2 with
    /// admission_blocks = 2 let 4 in, whatever admissionMaxPending allows; the measured size never exceeds the maximum.
    @Test func theAdmissionLimitFollowsTheMeasuredBlockSize() throws {
        let f = Fixture()
        var c = MempoolConfiguration()
        c.admissionMaxPending = 100
        c.admissionBlocks = 2
        c.blockTransactions = 50
        let pool = Mempool(configuration: c)
        #expect(pool.admissionLimit == 100)  // nothing measured yet: 2 × 50
        pool.setMeasuredBlockTransactions(2)
        #expect(pool.admissionLimit == 4)
        for nonce in 1...4 { try pool.add(f.tx("alice", key: f.alice, nonce: UInt64(nonce)).canonicalBytes, ledger: f.ledger) }
        do {
            try pool.add(f.tx("bob", key: f.bob, nonce: 1).canonicalBytes, ledger: f.ledger)
            Issue.record("admitted past two measured blocks")
        } catch let error {
            guard case .overloaded(4, 4, let retry) = error else { throw error }
            #expect(retry >= 1)
        }
        pool.setMeasuredBlockTransactions(1_000_000)
        #expect(pool.admissionLimit == 100)
        try pool.add(f.tx("bob", key: f.bob, nonce: 1).canonicalBytes, ledger: f.ledger)
    }

    @Test func retryAfterGrowsWithTheBacklogAndIsBounded() {
        var c = MempoolConfiguration()
        c.admissionMaxPending = 10_000
        c.blockTransactions = 5_000
        #expect(c.retryAfterSeconds(pending: 10_000) == 1)
        #expect(c.retryAfterSeconds(pending: 20_000) == 3)
        #expect(c.retryAfterSeconds(pending: 10_000_000) == 60)
        // Counted in measured blocks of 800 against a limit of 1,600: 3,200 pending are 4 s of backlog past half.
        #expect(c.retryAfterSeconds(pending: 3_200, limit: 1_600, blockTransactions: 800) == 3)
    }
}
