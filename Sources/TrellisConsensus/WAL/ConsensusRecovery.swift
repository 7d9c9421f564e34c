// ConsensusRecovery.swift — rebuilds a state machine after a restart from its signing guard and WAL.
//
// Guarantee: the rebuilt state is the state the node had after the last durable WAL entry, for the height the
// application expects next; replayed signatures are identical to the released ones (the guard refuses anything
// else). The returned effects re-arm timeouts, re-request validation and re-send the node's own messages; a
// `.commit` among them is for a block the application may already hold (the replica compares and skips it then).
import TrellisCrypto
import TrellisLedger

/// Restart logic for `ConsensusState`.
public enum ConsensusRecovery {
    /// Rebuilds the state for `height` (the application's committed height + 1) with `validatorSet`, replaying the
    /// WAL entries that follow the last `.startHeight` for that height, over the pending evidence stored beside the log
    /// (`ConsensusWAL.evidence()`). Without such entries, starts the height afresh. Returns the state and the effects
    /// to perform, in order.
    public static func recover(config: ConsensusConfig, signingKey: SigningKey, signingGuard: SigningGuard,
                               height: UInt64, validatorSet: ValidatorSet, wal: [Event],
                               pendingEvidence: [DuplicateVoteEvidence]) -> (state: ConsensusState, effects: [Effect]) {
        var state = ConsensusState(config: config, signingKey: signingKey, signingGuard: signingGuard)
        state.restorePendingEvidence(pendingEvidence)
        var effects = state.handle(.startHeight(height: height, validatorSet: validatorSet))
        let start = wal.lastIndex { event in
            if case .startHeight(let h, _) = event { return h == height }
            return false
        }
        if let start {
            for event in wal[(start + 1)...] { effects += state.handle(event) }
        }
        return (state, effects)
    }
}
