// StepCount.swift — what one step of `trellis bench cluster` (a ramp step, a 1× step, an overload step) committed,
// and the rate it reports as sustained at its offered load (docs/PERFORMANCE.md, "Method", item 6).
//
// A step's window is its last three quarters (the first lets the pipeline fill); the window's committed rate counts
// the transactions of node 1's blocks that arrived in it. Those include transactions admitted before the window: the
// step's own first quarter's, and whatever earlier steps left admitted and not yet committed. So a step whose
// window drains a backlog commits more than it offers (run of 2026-12-07 09:53 UTC: 1,734 tx/s at 1,500 offered in
// the ramp, 1,812 in the 1× step after the saturated 2,000 step). What a load of L tx/s is kept up with cannot
// exceed L for longer than a backlog lasts, so the rate a step reports as sustained at its offered load is the
// window's rate, at most L; below L (the cluster saturated) it is the window's rate, whatever the window drained —
// at saturation the cluster commits at its capacity whichever transactions it takes. The window's rate as counted
// before 2026-12-07 (twenty-first session) stays in the report beside it, with how many of the window's transactions
// were admitted before the step and in its first quarter.

/// The transactions one step's window committed, and the two rates counted from them.
struct StepCount: Equatable {
    /// The step's offered load, tx/s.
    var offered: Double
    /// The window's length, seconds: the step's last three quarters.
    var windowSeconds: Double
    /// Transactions in the blocks that arrived in the window.
    var committed: Int
    /// Of those, the load generator's transactions admitted (last sent) before the step began: earlier steps' backlog.
    var admittedBeforeStep: Int
    /// Of those, the load generator's transactions admitted in the step's first quarter.
    var admittedInFirstQuarter: Int

    /// Committed tx/s over the window, everything that arrived in it (the step's figure until the twenty-first session).
    var windowRate: Double { Double(committed) / windowSeconds }

    /// Committed tx/s sustained at the offered load: the window's rate, at most the offered rate (an excess is backlog
    /// admitted before the window, drained in it).
    var rateWithinOffered: Double { min(windowRate, offered) }

    /// Counts the step that offered `offered` tx/s from `start` to `end` (monotonic nanoseconds) in node 1's blocks as
    /// the monitor saw them arrive.
    static func count(blocks: [SeenBlock], offered: Double, from start: UInt64, to end: UInt64) -> StepCount {
        precondition(end > start, "a step ends after it starts: \(start)…\(end)")
        precondition(offered > 0, "a step offers a positive load: \(offered)")
        let windowStart = start + (end - start) / 4
        var committed = 0, beforeStep = 0, inFirstQuarter = 0
        for block in blocks where block.arrivedAt >= windowStart && block.arrivedAt < end {
            committed += block.transactions
            for admitted in block.admittedAt {
                if admitted < start { beforeStep += 1 } else if admitted < windowStart { inFirstQuarter += 1 }
            }
        }
        return StepCount(offered: offered, windowSeconds: Double(end - windowStart) / 1e9, committed: committed,
                         admittedBeforeStep: beforeStep, admittedInFirstQuarter: inFirstQuarter)
    }

    /// The report's fields for this step (`committed` keeps its meaning before the twenty-first session: the window's rate).
    var fields: [String: Double] {
        ["committed": round1(windowRate), "committed_within_offered": round1(rateWithinOffered), "window_seconds": round2(windowSeconds),
         "window_transactions": Double(committed), "window_admitted_before_step": Double(admittedBeforeStep),
         "window_admitted_in_first_quarter": Double(admittedInFirstQuarter)]
    }
}
