// ConsensusState+Rules.swift — the upon-rules of Algorithm 1 (lines 22–56), evaluated after every event.
//
// The paper's rules fire "atomically" whenever their condition holds. We evaluate them to a fixpoint after each
// event: decision (49) first, then the round skip (55), then the rules of round_p in the paper's order. `valid(v)`
// is the application's asynchronous answer: a rule that needs it waits until it is known (the timeouts still run).
import TrellisCrypto
import TrellisLedger

extension ConsensusState {
    mutating func applyRules(effects: inout [Effect]) {
        while phase == .running {
            if decideIfPossible(effects: &effects) { return }          // lines 49–54
            if skipRoundIfPossible(effects: &effects) { continue }      // lines 55–56
            if prevoteOnProposal(effects: &effects) { continue }        // lines 22–27 and 28–33
            if schedulePrevoteTimeout(effects: &effects) { continue }   // lines 34–35
            if lockOnPolka(effects: &effects) { continue }              // lines 36–43
            if precommitNilOnNilPolka(effects: &effects) { continue }   // lines 44–46
            if schedulePrecommitTimeout(effects: &effects) { continue } // lines 47–48
            return
        }
    }

    /// Lines 22–33, for the proposal of round_p while step_p = propose.
    mutating func prevoteOnProposal(effects: inout [Effect]) -> Bool {
        guard step == .propose, let proposal = proposals[round] else { return false }
        let v = proposal.body.blockID
        guard let isValid = validity[v] else { return false }  // wait for valid(v)
        let ignoreLock = config.testOnlyFaults.skipLockCheck
        if let vr = proposal.body.polRound {
            // Line 28: upon ⟨PROPOSAL, h_p, round_p, v, vr⟩ from proposer(h_p, round_p) AND 2f + 1
            // ⟨PREVOTE, h_p, vr, id(v)⟩ while step_p = propose ∧ (vr ≥ 0 ∧ vr < round_p).
            guard vr < round, votes.votes(.prevote, round: vr).power(for: v) >= quorum else { return false }
            // Line 29: if valid(v) ∧ (lockedRound_p ≤ vr ∨ lockedValue_p = v).
            let unlocked = lockedRound.map { $0 <= vr } ?? true
            if isValid && (unlocked || lockedValue?.hash == v || ignoreLock) {
                broadcastVote(.prevote, blockID: v, effects: &effects)      // line 30
            } else {
                broadcastVote(.prevote, blockID: nil, effects: &effects)    // line 32
            }
        } else {
            // Line 22: upon ⟨PROPOSAL, h_p, round_p, v, −1⟩ from proposer(h_p, round_p) while step_p = propose.
            // Line 23: if valid(v) ∧ (lockedRound_p = −1 ∨ lockedValue_p = v).
            if isValid && (lockedRound == nil || lockedValue?.hash == v || ignoreLock) {
                broadcastVote(.prevote, blockID: v, effects: &effects)      // line 24
            } else {
                broadcastVote(.prevote, blockID: nil, effects: &effects)    // line 26
            }
        }
        step = .prevote                                                     // lines 27, 33
        return true
    }

    /// Lines 34–35: upon 2f + 1 ⟨PREVOTE, h_p, round_p, ∗⟩ while step_p = prevote for the first time.
    mutating func schedulePrevoteTimeout(effects: inout [Effect]) -> Bool {
        guard step == .prevote, !prevoteTimeoutScheduled,
              votes.votes(.prevote, round: round).totalPower >= quorum else { return false }
        prevoteTimeoutScheduled = true
        schedule(.prevote, effects: &effects)
        return true
    }

    /// Lines 36–43: upon ⟨PROPOSAL, h_p, round_p, v, ∗⟩ from proposer(h_p, round_p) AND 2f + 1
    /// ⟨PREVOTE, h_p, round_p, id(v)⟩ while valid(v) ∧ step_p ≥ prevote for the first time.
    mutating func lockOnPolka(effects: inout [Effect]) -> Bool {
        guard step >= .prevote, !polkaRuleFired, let proposal = proposals[round] else { return false }
        let v = proposal.body.blockID
        guard validity[v] == true, votes.votes(.prevote, round: round).power(for: v) >= quorum else { return false }
        polkaRuleFired = true
        if step == .prevote {                                               // line 37
            lockedValue = proposal.block                                    // line 38
            lockedRound = round                                             // line 39
            broadcastVote(.precommit, blockID: v, effects: &effects)        // line 40
            step = .precommit                                               // line 41
        }
        validValue = proposal.block                                         // line 42
        validRound = round                                                  // line 43
        return true
    }

    /// Lines 44–46: upon 2f + 1 ⟨PREVOTE, h_p, round_p, nil⟩ while step_p = prevote.
    mutating func precommitNilOnNilPolka(effects: inout [Effect]) -> Bool {
        guard step == .prevote, votes.votes(.prevote, round: round).power(for: nil) >= quorum else { return false }
        broadcastVote(.precommit, blockID: nil, effects: &effects)          // line 45
        step = .precommit                                                   // line 46
        return true
    }

    /// Lines 47–48: upon 2f + 1 ⟨PRECOMMIT, h_p, round_p, ∗⟩ for the first time.
    mutating func schedulePrecommitTimeout(effects: inout [Effect]) -> Bool {
        guard !precommitTimeoutScheduled, votes.votes(.precommit, round: round).totalPower >= quorum else { return false }
        precommitTimeoutScheduled = true
        schedule(.precommit, effects: &effects)
        return true
    }

    /// Lines 49–54: upon ⟨PROPOSAL, h_p, r, v, ∗⟩ from proposer(h_p, r) AND 2f + 1 ⟨PRECOMMIT, h_p, r, id(v)⟩
    /// while decision_p[h_p] = nil. The block v may have arrived in the proposal of another round of this height
    /// (the id fixes the block), which lets a node that missed round r's proposal still decide.
    mutating func decideIfPossible(effects: inout [Effect]) -> Bool {
        guard decision == nil else { return false }
        for r in votes.precommitRounds {
            for id in votes.votes(.precommit, round: r).blocks(withPowerAtLeast: quorum) where blocks[id] != nil {
                if decide(round: r, blockID: id, effects: &effects) { return true }
            }
        }
        return false
    }

    private mutating func decide(round r: UInt32, blockID v: Hash, effects: inout [Effect]) -> Bool {
        let precommits = votes.votes(.precommit, round: r)
        guard precommits.power(for: v) >= quorum, let block = blocks[v] else { return false }
        guard validity[v] == true else { return false }                     // line 50: if valid(v)
        let certificate = CommitCertificate(height: height, round: r, blockID: v, precommits: precommits.votes(for: v))
        decision = (block, certificate)                                     // line 51
        phase = .decided                                                    // lines 52–54 follow on .startHeight
        pruneEvidence(committedIn: block)
        effects.append(.commit(block: block, certificate: certificate))
        return true
    }

    /// Lines 55–56: upon f + 1 ⟨∗, h_p, round, ∗, ∗⟩ with round > round_p do StartRound(round). Beyond the window
    /// (`farRoundSenders`, ConsensusState+Messages `noteFarRound`) the f + 1 may have sent different rounds: the node
    /// moves to the highest round that f + 1 have reached or passed — at least one of them honest, so no Byzantine
    /// minority can push it further than an honest validator went. (Skipping rounds never endangers safety: locks
    /// carry over; the f + 1 bound is what keeps liveness.)
    mutating func skipRoundIfPossible(effects: inout [Effect]) -> Bool {
        if let far = farRound(withSenderPowerAtLeast: skipPower) {
            precondition(far > round, "invalid state: far round \(far) not above round_p \(round)")
            startRound(far, effects: &effects)
            return true
        }
        guard let target = votes.roundsAbove(round, withSenderPowerAtLeast: skipPower).first else { return false }
        startRound(target, effects: &effects)
        return true
    }
}
