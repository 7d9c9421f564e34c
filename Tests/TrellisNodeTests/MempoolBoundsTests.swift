// MempoolBoundsTests.swift — admission at the edges of heights and nonces (issue 14): an expiry beyond the lifetime
// limit is refused at the door instead of waiting to expire, and nonces near 2⁶⁴ never trap.
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisLedger
@testable import TrellisNode

@Suite struct MempoolBoundsTests {
    /// Issue 14 finding 4: a transaction whose expires_at_height exceeded the lifetime limit was answered 202 and
    /// never included (the executor refuses it at every height).
    @Test func refusesAnExpiryBeyondTheLifetimeLimit() throws {
        let f = Fixture(), pool = Mempool()
        f.ledger.setLifetime(50)  // committed height 10: the next block is 11, the latest allowed expiry 61
        #expect(throws: MempoolError.expiryTooFar(expiresAt: 62, latest: 61, lifetime: 50)) { try pool.add(f.tx("alice", key: f.alice, nonce: 1, expires: 62), ledger: f.ledger) }
        #expect(throws: MempoolError.expiryTooFar(expiresAt: .max, latest: 61, lifetime: 50)) { try pool.add(f.tx("alice", key: f.alice, nonce: 1, expires: .max), ledger: f.ledger) }
        #expect(MempoolError.expiryTooFar(expiresAt: 62, latest: 61, lifetime: 50).code == EnvelopeRejection.expiryTooFar)
        try pool.add(f.tx("alice", key: f.alice, nonce: 1, expires: 61), ledger: f.ledger)
        try pool.add(f.tx("alice", key: f.alice, nonce: 2, expires: 11), ledger: f.ledger)
        // The batch path refuses it alike, without affecting its neighbours.
        let results = pool.addBatch([f.tx("bob", key: f.bob, nonce: 1, expires: 1_000).canonicalBytes, f.tx("bob", key: f.bob, nonce: 2, expires: 20).canonicalBytes], ledger: f.ledger)
        #expect(results.count == 2)
        if case .failure(let e) = results[0] { #expect(e.code == "expiry_too_far") } else { Issue.record("expected expiry_too_far, got \(results[0])") }
        if case .failure(let e) = results[1] { Issue.record("expected admission, got \(e)") }
        #expect(pool.count == 3)
    }

    @Test func aLifetimeReachingPastTheLastHeightBoundsNothing() throws {
        let f = Fixture(), pool = Mempool()
        f.ledger.setLifetime(.max)
        try pool.add(f.tx("alice", key: f.alice, nonce: 1, expires: .max), ledger: f.ledger)
        #expect(pool.count == 1)
    }

    @Test func noncesAtTheTopOfUInt64NeverTrap() throws {
        let f = Fixture(), pool = Mempool()
        f.ledger.setNonce("alice", .max - 1)
        try pool.add(f.tx("alice", key: f.alice, nonce: .max - 1), ledger: f.ledger)
        try pool.add(f.tx("alice", key: f.alice, nonce: .max), ledger: f.ledger)
        let reaped = pool.reap(maxCount: 10, maxBytes: 1 << 20, ledger: f.ledger)
        #expect(reaped.map(\.body.nonce) == [.max - 1, .max])
    }
}
