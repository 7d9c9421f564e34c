// ValidatorSchedule.swift — which validator set is in force at a height, from state.
//
// Sets live at `validators/<effective height>`; the set in force at height H is the entry with the greatest
// effective height ≤ H. Genesis writes the first set at effective height 0; a governance change executed in block h
// writes (or rewrites) the entry for h+2, so the sets for h and h+1 are already fixed when block h is built:
// a header can name both `validator_set_hash` and `next_validator_set_hash` before execution.
import TrellisCodec

public enum ValidatorSchedule {
    /// The set in force at `height` according to `state`, or nil when no set is recorded at or below it.
    public static func set(forHeight height: UInt64, in state: any StateReader) throws(StateError) -> ValidatorSet? {
        let target = LedgerKeys.validatorSet(effectiveFrom: height)
        var best: [UInt8]? = nil
        for entry in try state.scan(prefix: LedgerKeys.validatorSetPrefix) {
            if entry.key.lexicographicallyPrecedes(target) || entry.key == target { best = entry.value } else { break }
        }
        guard let best else { return nil }
        do { return try CanonicalDecoder.decode(ValidatorSet.self, from: best) } catch {
            throw .corruptValue(key: "validator set for height \(height)", reason: error.description)
        }
    }

    /// Writes `set` as the set in force from `height` on.
    public static func schedule(_ set: ValidatorSet, from height: UInt64, in state: StateOverlay) {
        state.write(set, at: LedgerKeys.validatorSet(effectiveFrom: height))
    }
}
