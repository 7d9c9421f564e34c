// HalfLoad.swift — what "half load" means in `trellis bench cluster`: half of the rate the latency phase's own
// workload is sustained at, found in the same run (docs/PERFORMANCE.md, "Method", item 6).
//
// Why not half of the sustained phase's rate: the saturating phases build a backlog, so each block holds every
// signer's chained run (a signer's transactions spend each other's outputs inside one block and their intermediate
// objects never reach the state tree), while the latency phase's client sends small batches round-robin over the
// signers, one transaction per signer per block: ~2× the nodes' CPU per transaction (run of 2026-12-06 19:13 UTC:
// 2.72 against 1.39 ms). Half of the sustained rate was then ~1.9 of the machine's 2 cores — a saturated queue.
// A saturation probe with the latency workload would drift the same way (its backlog makes the runs chained again),
// so the search below asks the other question: the highest rate at which that client, pacing small batches, is
// kept up with — the committed rate keeps pace with the offered one — with the block composition that rate
// produces. Half of it is the latency phase's rate; the old definition's figure is measured beside it.

/// One short step of the search: offered and committed tx/s (committed over the step's last three quarters).
struct KeepUpStep: Equatable {
    var offered: Double
    var committed: Double
    var keptUp: Bool { committed >= KeepUpSearch.keepUpShare * offered }
}

/// Bisection for the highest offered rate the cluster keeps up with, between 0 and `upperBound` (the sustained
/// phase's rate: the latency workload's small blocks cost more per transaction, so it is not kept up with above it).
struct KeepUpSearch {
    /// A step is kept up with when its committed rate is at least this share of its offered rate: below it a backlog
    /// grows by the difference every second. (Committed rates over a few seconds are exact to a block or two.)
    static let keepUpShare = 0.95

    let upperBound: Double
    let maxSteps: Int
    private(set) var steps: [KeepUpStep] = []
    /// The highest offered rate kept up with so far (0: none yet) and the lowest not kept up with (the upper bound
    /// until one is found).
    private(set) var low = 0.0
    private(set) var high: Double

    init(upperBound: Double, steps: Int) {
        precondition(upperBound > 0, "an upper bound above 0: \(upperBound)")
        precondition(steps >= 1, "at least one step: \(steps)")
        self.upperBound = upperBound
        self.maxSteps = steps
        self.high = upperBound
    }

    /// The next rate to offer, nil when the search is done. The first is half the upper bound (the old definition of
    /// half load), each next one halves the interval that holds the answer.
    var nextRate: Double? { steps.count < maxSteps ? (low + high) / 2 : nil }

    /// Records a step's result.
    mutating func record(_ step: KeepUpStep) {
        steps.append(step)
        if step.keptUp { low = max(low, step.offered) } else { high = min(high, step.offered) }
    }

    /// The workload's sustained rate: the highest rate kept up with; when no step was, the least the cluster
    /// committed while falling behind (the best lower bound the search has).
    var sustainedRate: Double {
        if low > 0 { return low }
        return steps.map(\.committed).min() ?? 0
    }

    /// The latency phase's rate: half the sustained rate (at least 1 tx/s).
    var halfLoadRate: Double { max(1, sustainedRate / 2) }
}

/// The latency phase's batches: each lane sends one every `intervalMilliseconds`, so at `rate` a batch carries
/// rate ÷ lanes × interval transactions (rounded up), at least 1 and at most `maxBatch`.
func latencyBatchSize(rate: Double, lanes: Int, intervalMilliseconds: Double, maxBatch: Int) -> Int {
    precondition(lanes >= 1 && maxBatch >= 1, "lanes \(lanes), maxBatch \(maxBatch)")
    return max(1, min(maxBatch, Int((rate / Double(lanes) * intervalMilliseconds / 1000).rounded(.up))))
}
