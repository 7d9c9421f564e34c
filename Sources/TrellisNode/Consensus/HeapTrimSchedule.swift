// HeapTrimSchedule.swift — when the node gives the C heap's free pages back to the system (`HeapTrim`, glibc's
// malloc_trim): only once the process is past a floor, and in the pause between a commit and the next height's start
// (timeout_commit) rather than inside the commit.
//
// docs/PERFORMANCE.md, "Half-load latency on format 5 (tenth)": trimming at the end of every commit that left the
// process 32 MiB larger trimmed every ~1 s at 400 tx/s — the heights' own working memory, which the next heights
// faulted back in (~11,000 page faults and ~2,400 madvise calls a second per node; a trim 8–150 ms on the consensus
// queue) — and p50/p99 were 425–486 / 1,521–1,541 ms against 271–302 / 1,076–1,202 ms without trimming. Under the
// floor the free pages are that working memory; past it a trim gives back what an overloaded height left. A trim
// that fits in the wait for timeout_commit costs no height any time; without a wait (the store running past
// timeout_commit, or block sync) a larger growth trims at once, so memory stays bounded — once the process is more than
// the slack past the floor (since 2026-12-06: until then the first commit past the floor trimmed at once, on the
// height's path, in half of the trims at half load; docs/PERFORMANCE.md "The fixed cost of a height (twelfth)").
// Not part of consensus: memory only; nothing here is hashed, signed or replicated.
import TrellisStore

/// The decision, apart from the process (tests drive it with made-up resident sizes).
struct HeapTrimPolicy: Equatable {
    /// Trim in a pause when resident memory grew by more than this since the last trim.
    let slackBytes: Int
    /// Trim even without a pause when it grew by more than this.
    let forcedSlackBytes: Int
    /// The shortest pause a trim is started in.
    let minimumPauseMilliseconds: UInt64
    /// No trim while the process is at most this large: below it the heap's free pages are the next heights'
    /// working memory, which a trim would only make them fault in again.
    let floorBytes: Int
    /// Resident bytes just after the last trim (or at the start), lowered when the process shrinks.
    private(set) var baseline: Int

    init(slackBytes: Int, forcedSlackBytes: Int, minimumPauseMilliseconds: UInt64, floorBytes: Int = 0, baseline: Int) {
        precondition(slackBytes >= 0 && forcedSlackBytes >= slackBytes, "slacks out of order")
        self.slackBytes = slackBytes
        self.forcedSlackBytes = forcedSlackBytes
        self.minimumPauseMilliseconds = minimumPauseMilliseconds
        self.floorBytes = floorBytes
        self.baseline = baseline
    }

    /// Whether to trim now, with the process at `resident` bytes and `pauseMilliseconds` before the next height
    /// starts (0: no pause). Past the floor it trims in a pause once grown by the slack; at once only when grown by
    /// the forced slack AND more than the slack past the floor: the first commit past the floor has usually grown by
    /// more than the forced slack since the last trim (the baseline after a trim is well under the floor), and a trim
    /// then (11–118 ms) delayed that height; between the floor and a slack past it the trim waits for a pause.
    /// Without a trim, a smaller resident size becomes the baseline.
    mutating func shouldTrim(resident: Int, pauseMilliseconds: UInt64) -> Bool {
        let grown = resident - baseline
        let inPause = grown > slackBytes && pauseMilliseconds >= minimumPauseMilliseconds
        let atOnce = grown > forcedSlackBytes && resident > floorBytes + slackBytes
        if resident > floorBytes, inPause || atOnce { return true }
        baseline = min(baseline, resident)
        return false
    }

    /// A trim left the process at `resident` bytes.
    mutating func trimmed(resident: Int) { baseline = resident }
}

/// The node's heap trims (confined to the consensus queue, which calls it after each commit). The store is opened
/// with `trimsHeap: false`: this replaces its trim at the end of every commit.
final class HeapTrimSchedule {
    /// 32 MiB in a pause (the store's own `RocksChainStore.heapTrimSlack`), 64 MiB at once.
    static let slackBytes = 32 << 20
    static let forcedSlackBytes = 64 << 20
    /// A trim took 8–50 ms on the benchmark's cluster (up to 150 after a larger growth); a shorter pause would push
    /// the next height's start.
    static let minimumPauseMilliseconds: UInt64 = 30
    /// At 400 tx/s a node's resident size, trimmed every ~1 s, swung between ~170 and ~260 MB, and reached ~310 MB
    /// between the trims over 320 MiB; peaks at saturation stayed at 375–404 MB with this floor (target < 500 MB).
    static let floorBytes = 320 << 20

    private var policy: HeapTrimPolicy
    private let resident: () -> Int?
    private let trim: () -> Void
    private(set) var trims = 0

    init(floorBytes: Int? = nil, resident: @escaping () -> Int? = { HeapTrim.residentBytes() }, trim: @escaping () -> Void = { HeapTrim.releaseFreeMemory() }) {
        self.resident = resident
        self.trim = trim
        policy = HeapTrimPolicy(slackBytes: Self.slackBytes, forcedSlackBytes: Self.forcedSlackBytes,
                                minimumPauseMilliseconds: Self.minimumPauseMilliseconds,
                                floorBytes: floorBytes ?? Self.floorBytes,
                                baseline: resident() ?? 0)
    }

    /// A block was committed and the next height starts in `pauseMilliseconds` (0: at once, or not known). Returns
    /// the resident bytes before and after a trim, nil when it did not trim.
    @discardableResult
    func committed(pauseMilliseconds: UInt64) -> (before: Int, after: Int)? {
        guard let now = resident(), policy.shouldTrim(resident: now, pauseMilliseconds: pauseMilliseconds) else { return nil }
        trim()
        trims += 1
        let after = resident() ?? now
        policy.trimmed(resident: after)
        return (now, after)
    }
}
