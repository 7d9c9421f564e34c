// ProposerSchedule.swift — proposer(h, r): round-robin weighted by voting power, deterministic.
//
// CometBFT's priority algorithm ("smooth weighted round robin"): every step each validator's priority grows by its
// voting power, the validator with the highest priority (ties: smallest public key) proposes, and its priority
// drops by the total power. Starting from all-zero priorities the sequence repeats with period total/g (g the gcd
// of the powers), each validator proposing exactly power/g times per period. We precompute one period and define
// proposer(h, r) = schedule[(h + r) mod period], a pure function of (validator set, height, round) that every node
// computes alike, with no priorities to persist. (CometBFT carries priorities across heights in its state; we
// restart the schedule from the set itself, which gives the same proportions.) Powers are scaled down so that a
// period never exceeds `maxPeriod` steps; scaling keeps every validator at least one slot.
import TrellisCrypto
import TrellisLedger

/// The proposer sequence of one validator set.
public struct ProposerSchedule: Sendable, Hashable {
    /// The longest period precomputed; larger total powers are scaled down proportionally.
    public static let maxPeriod: UInt64 = 4096

    /// Validator indices (into the set) in proposing order.
    public let order: [Int]
    public let validatorSet: ValidatorSet

    public init(validatorSet: ValidatorSet) {
        self.validatorSet = validatorSet
        var weights = validatorSet.validators.map(\.votingPower)
        let g = weights.reduce(0) { Self.gcd($0, $1) }
        weights = weights.map { $0 / max(g, 1) }
        var total = weights.reduce(0, +)
        if total > Self.maxPeriod {
            let scaledTotal = total
            weights = weights.map { w in
                // w · (maxPeriod / 2) / total without overflow; the quotient fits since w ≤ total.
                let product = w.multipliedFullWidth(by: Self.maxPeriod / 2)
                return max(1, scaledTotal.dividingFullWidth(product).quotient)
            }
            let g2 = weights.reduce(0) { Self.gcd($0, $1) }
            weights = weights.map { $0 / max(g2, 1) }
            total = weights.reduce(0, +)
        }
        var priorities = [Int64](repeating: 0, count: weights.count)
        var order: [Int] = []
        order.reserveCapacity(Int(total))
        for _ in 0..<total {
            var best = 0
            for i in weights.indices {
                priorities[i] += Int64(weights[i])
                // Validators are sorted by key, so the first maximum has the smallest key.
                if priorities[i] > priorities[best] { best = i }
            }
            priorities[best] -= Int64(total)
            order.append(best)
        }
        self.order = order
    }

    /// proposer(height, round).
    public func proposer(height: UInt64, round: UInt32) -> PublicKey {
        let period = UInt64(order.count)
        let slot = (height % period + UInt64(round) % period) % period
        return validatorSet.validators[order[Int(slot)]].publicKey
    }

    private static func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var (x, y) = (a, b)
        while y != 0 { (x, y) = (y, x % y) }
        return x
    }
}
