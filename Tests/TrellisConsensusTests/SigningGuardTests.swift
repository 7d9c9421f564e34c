// SigningGuardTests.swift — the guard refuses conflicts and regressions, survives "restarts", and every signed
// message leaves the state machine only after a persist effect that covers it.
import Testing
import TrellisCodec
import TrellisConsensus
import TrellisCrypto
import TrellisLedger

@Suite("Signing guard and durability")
struct SigningGuardTests {
    let key: SigningKey

    init() throws { key = try SigningKey(seed: [UInt8](repeating: 7, count: 32)) }

    @Test("Sign, reuse identical bytes, refuse different bytes at the same position, refuse regressions")
    func decisions() throws {
        var g = SigningGuard()
        let p = SigningPosition(height: 5, round: 1, step: .prevote)
        let a = Array("a".utf8), b = Array("b".utf8)
        #expect(try g.mayShouldSign(at: p, signBytes: a) == .sign)
        let sig = key.sign(a)
        g.record(sig, at: p, signBytes: a)
        #expect(try g.mayShouldSign(at: p, signBytes: a) == .reuse(sig))
        #expect(throws: SigningGuardError.conflict(at: p)) { try g.mayShouldSign(at: p, signBytes: b) }
        let earlier = SigningPosition(height: 5, round: 0, step: .precommit)
        #expect(throws: SigningGuardError.regression(requested: earlier, last: p)) { try g.mayShouldSign(at: earlier, signBytes: a) }
        #expect(try g.mayShouldSign(at: SigningPosition(height: 5, round: 1, step: .precommit), signBytes: b) == .sign)
        #expect(try g.mayShouldSign(at: SigningPosition(height: 6, round: 0, step: .propose), signBytes: b) == .sign)
    }

    @Test("A new height forgets the previous height's records; the guard round-trips through its encoding")
    func encoding() throws {
        var g = SigningGuard()
        g.record(key.sign([1]), at: SigningPosition(height: 1, round: 0, step: .prevote), signBytes: [1])
        g.record(key.sign([2]), at: SigningPosition(height: 1, round: 0, step: .precommit), signBytes: [2])
        #expect(g.records.count == 2)
        let decoded = try CanonicalDecoder.decode(SigningGuard.self, from: g.canonicalBytes)
        #expect(decoded == g)
        g.record(key.sign([3]), at: SigningPosition(height: 2, round: 0, step: .propose), signBytes: [3])
        #expect(g.records.count == 1)
        #expect(g.last == SigningPosition(height: 2, round: 0, step: .propose))
    }

    @Test("After a restart with the persisted guard, the node refuses to prevote nil where it prevoted v")
    func restartRefusesConflict() throws {
        let t = try Harness()
        let n = t.nonProposer(height: 1)
        let v = t.block(height: 1)
        var before = t.machine(n)
        let effects = t.feed(&before, [.startHeight(height: 1, validatorSet: t.set), .proposalReceived(t.proposal(height: 1, round: 0, block: v)),
                                       .blockValidated(blockID: v.hash, valid: true)])
        let persisted = try #require(effects.compactMap { if case .persistSigningState(let g) = $0 { return g } else { return nil } }.last)
        #expect(effects.broadcastVotes.map(\.body.blockID) == [v.hash])

        // "Restart" without the WAL: only the guard survived. The proposal is not re-received; the timeout fires.
        var after = t.machine(n, signingGuard: persisted)
        let replay = t.feed(&after, [.startHeight(height: 1, validatorSet: t.set), .timeoutFired(Timeout(height: 1, round: 0, step: .propose))])
        #expect(replay.broadcastVotes.isEmpty)
        #expect(after.refusedSignatures == 1)
        #expect(after.step == .prevote)  // the protocol moves on; only the conflicting message is withheld

        // With the same inputs it re-sends the identical vote (same signature).
        var again = t.machine(n, signingGuard: persisted)
        let same = t.feed(&again, [.startHeight(height: 1, validatorSet: t.set), .proposalReceived(t.proposal(height: 1, round: 0, block: v)),
                                   .blockValidated(blockID: v.hash, valid: true)])
        #expect(same.broadcastVotes == effects.broadcastVotes)

        // The planted bug skipSigningGuard signs the conflicting vote anyway.
        let buggy = ConsensusConfig(chainID: t.chainID, testOnlyFaults: TestOnlyFaults(skipSigningGuard: true))
        var bad = t.machine(n, signingGuard: persisted, config: buggy)
        let conflict = t.feed(&bad, [.startHeight(height: 1, validatorSet: t.set), .timeoutFired(Timeout(height: 1, round: 0, step: .propose))])
        #expect(conflict.broadcastVotes.map(\.body.blockID) == [nil])
    }

    @Test("Every broadcast of a signed message is preceded by a persist effect covering it")
    func persistBeforeBroadcast() throws {
        let t = try Harness()
        for n in t.keys.indices {
            var s = t.machine(n)
            var events: [Event] = [.startHeight(height: 1, validatorSet: t.set)]
            let v = t.block(height: 1)
            if t.proposerIndex(height: 1, round: 0) == n {
                events.append(.proposalBlockBuilt(height: 1, round: 0, block: v))
            } else {
                events += [.proposalReceived(t.proposal(height: 1, round: 0, block: v)), .blockValidated(blockID: v.hash, valid: true)]
            }
            for i in t.keys.indices where i != n { events.append(.voteReceived(t.vote(.prevote, height: 1, round: 0, v.hash, by: i))) }
            events += [.timeoutFired(Timeout(height: 1, round: 0, step: .precommit)), .timeoutFired(Timeout(height: 1, round: 1, step: .propose))]
            var broadcasts = 0
            for event in events {
                var durable: SigningPosition? = nil
                for effect in s.handle(event) {
                    switch effect {
                    case .persistSigningState(let g): durable = g.last
                    case .broadcast(let m):
                        broadcasts += 1
                        let step: Step
                        switch m {
                        case .proposal: step = .propose
                        case .vote(let v): step = v.body.type == .prevote ? .prevote : .precommit
                        }
                        let position = SigningPosition(height: m.height, round: m.round, step: step)
                        let covered = durable.map { $0 >= position } ?? false
                        #expect(covered, "broadcast at \(position) without a preceding persist (durable: \(String(describing: durable)))")
                    default: break
                    }
                }
            }
            #expect(broadcasts >= 3)
        }
    }
}
