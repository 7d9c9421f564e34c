// BlockBudget.swift — how much a proposer takes from the mempool so that building its block fits in the propose
// timeout, and the monotonic milliseconds the node paces itself by (neither is part of consensus).
import NIOConcurrencyHelpers

/// How many transactions a proposal may carry so that building it ends within `shareOfProposeTimeout` of the other
/// validators' propose timeout: a proposal that reaches them after it makes them prevote nil, and the round — the
/// proposer's build and every validator's validation of it — is lost. Not part of consensus: only the proposer's
/// choice of how much to take from the mempool.
///
/// Two things decide the size (issue 16, docs/PERFORMANCE.md "… on store format 5"):
/// - the cost per transaction of this node's own **builds** (a moving average of their wall time, ≥ 50
///   transactions). Validations (the same execution on the validators' side) are only the prior until the first
///   build is measured: at saturation a build took ~3 × a validation's wall time per transaction (0.44 against
///   0.14 ms; the proposer builds while the other nodes store, on the same cores), and a budget counted in
///   validations made blocks that arrived after the 1 s propose timeout in 6 of 23 overloaded heights;
/// - how **late** the build starts: every validator's propose timer runs from its own height start, at the
///   earliest `timeout_commit` after the decision; a proposer whose synced store ran longer than that starts
///   building that much later, and the time is taken from the build's share;
/// - a **steady size** for round 0 once a store is measured: a block of n transactions stored in s·n seconds makes the
///   next proposer start s·n − timeout_commit late, which leaves it (share · timeout_propose − s·n + timeout_commit) / b
///   transactions at b seconds each. When s > b that map overshoots: after a large block the next one fell to the
///   minimum, after the minimum the next one was large again — blocks alternated ~1,600 / ~100 transactions above
///   saturation (docs/PERFORMANCE.md "No collapse above saturation (sixteenth, exec)"). Round-0 blocks are now at most
///   the size whose own store leaves time to build the same size again, n* = (share · timeout_propose +
///   timeout_commit) / (b + s): a block of n* is followed by n* (the late start's own answer at n*), a smaller one by
///   n* (capped), a larger one by one below n* and then n* (docs/PERFORMANCE.md "… (eighteenth, exec)");
/// - the **height's block path**: every validator validates the block and then stores it (the synced commit), one
///   after the other on its consensus thread. A block whose validation + store (this node's moving averages per
///   transaction, wall time) would take longer than round 0's timeout_propose is cut to that size (since the
///   thirteenth session): builds are ~4× cheaper than validation + store, so the build's share alone let blocks grow
///   to 3,000–5,000 transactions above saturation, whose store cost twice as much CPU per transaction as blocks of
///   500–3,000 and ran 2–4 s (docs/PERFORMANCE.md "Overload on a grown state (thirteenth)").
final class BlockBudget: Sendable {
    /// The share of timeout_propose a proposal's execution may take (from the earliest the other validators' timers
    /// can have started).
    static let shareOfProposeTimeout = 0.4
    /// The share of round 0's timeout_propose a block's validation + synced store may take.
    static let shareOfHeight = 1.0
    static let minimumTransactions = 100
    let maxTransactions: Int
    /// timeout_propose of round 0 and its growth per round, and timeout_commit, in seconds (nil: a late start is not
    /// counted — without empty blocks a height waits for transactions, and the validators' timers with it).
    let proposeBase: Double
    let proposeDelta: Double
    let commitDelay: Double?

    private struct Measured {
        /// Seconds per transaction of this node's validations (the prior) and of its builds.
        var validation: Double? = 0.000_5
        var build: Double?
        /// Seconds per transaction of this node's synced stores (the commit of a decided block; nil until measured).
        var store: Double?
        /// When this node's last decision was taken, and the round being built (monotonic seconds; nil: none yet).
        var decidedAt: Double?
        var buildRound: UInt32 = 0
    }

    private let measured = NIOLockedValueBox(Measured())
    private let now: @Sendable () -> Double
    /// Told the new block size after every measurement (the mempool's admission control counts in it).
    private let onChange: (@Sendable (Int) -> Void)?

    /// - Parameters:
    ///   - proposeBase / proposeDelta / commitDelay: timeout_propose (round 0, growth per round) and timeout_commit,
    ///     in seconds.
    init(maxTransactions: Int, proposeBase: Double, proposeDelta: Double = 0, commitDelay: Double? = nil,
         now: @escaping @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 },
         onChange: (@Sendable (Int) -> Void)? = nil) {
        self.maxTransactions = maxTransactions
        self.proposeBase = proposeBase
        self.proposeDelta = proposeDelta
        self.commitDelay = commitDelay
        self.now = now
        self.onChange = onChange
        onChange?(expectedTransactions)
    }

    /// A validation (`build` false) or a build of `transactions` took `nanoseconds` of wall time.
    func record(transactions: Int, nanoseconds: UInt64, build: Bool = false) {
        guard transactions >= 50 else { return }
        let sample = Double(nanoseconds) / 1e9 / Double(transactions)
        measured.withLockedValue { m in
            if build {
                m.build = m.build.map { 0.7 * $0 + 0.3 * sample } ?? sample
            } else {
                m.validation = m.validation.map { 0.7 * $0 + 0.3 * sample } ?? sample
            }
        }
        onChange?(expectedTransactions)
    }

    /// A synced store (the commit of a decided block) of `transactions` took `nanoseconds` of wall time.
    func recordStore(transactions: Int, nanoseconds: UInt64) {
        guard transactions >= 50 else { return }
        let sample = Double(nanoseconds) / 1e9 / Double(transactions)
        measured.withLockedValue { m in m.store = m.store.map { 0.7 * $0 + 0.3 * sample } ?? sample }
    }

    /// This node decided a height (its commit starts): the other validators start the next height's timers at the
    /// earliest `commitDelay` from now.
    func decided() {
        let at = now()
        measured.withLockedValue { $0.decidedAt = at }
    }

    /// A proposal for `round` is about to be built (the transactions are reaped inside the build).
    func building(round: UInt32) { measured.withLockedValue { $0.buildRound = round } }

    /// The most transactions the proposal being built now should take: its round's share of timeout_propose, less
    /// how late the build starts in round 0, at the measured build cost per transaction; in round 0 no more than the
    /// steady size (`steadyFit`); and no more than the height's block path (validation + store) fits in round 0's
    /// timeout_propose.
    var transactions: Int {
        let at = now()
        let (perTransaction, seconds, height) = measured.withLockedValue { m -> (Double?, Double, Int) in
            var seconds = Self.shareOfProposeTimeout * (proposeBase + proposeDelta * Double(m.buildRound))
            var height = heightFit(m)
            if m.buildRound == 0, let commitDelay {
                if let decided = m.decidedAt { seconds -= max(0, at - decided - commitDelay) }
                height = min(height, steadyFit(m, commitDelay: commitDelay))
            }
            return (m.build ?? m.validation, seconds, height)
        }
        return min(Self.size(perTransaction: perTransaction, seconds: seconds, maxTransactions: maxTransactions), height)
    }

    /// The size of a round-0 block built on time at the measured cost (what admission control counts in). Not cut
    /// to the height's block path: the pool must hold more work than the blocks the proposers take in the shortest
    /// pause admission control asks a refused client for (Retry-After is whole seconds, at least 1 s; with heights of
    /// ~0.5 s, two capped blocks drained before the refused clients came back and the 3× step's blocks ran empty).
    var expectedTransactions: Int {
        let perTransaction = measured.withLockedValue { $0.build ?? $0.validation }
        return Self.size(perTransaction: perTransaction, seconds: Self.shareOfProposeTimeout * proposeBase, maxTransactions: maxTransactions)
    }

    /// The most transactions whose validation + synced store (per transaction: this node's validations, its stores)
    /// fit in `shareOfHeight` of round 0's timeout_propose; no limit until a store is measured.
    private func heightFit(_ m: Measured) -> Int {
        guard let store = m.store else { return maxTransactions }
        return Self.size(perTransaction: (m.validation ?? 0) + store, seconds: Self.shareOfHeight * proposeBase, maxTransactions: maxTransactions)
    }

    /// The round-0 size whose own synced store, past `commitDelay`, leaves the next proposer the time to build the same
    /// size again: (share · timeout_propose + timeout_commit) / (build + store per transaction). No limit until a
    /// store is measured.
    private func steadyFit(_ m: Measured, commitDelay: Double) -> Int {
        guard let store = m.store else { return maxTransactions }
        return Self.size(perTransaction: (m.build ?? m.validation ?? 0) + store, seconds: Self.shareOfProposeTimeout * proposeBase + commitDelay,
                         maxTransactions: maxTransactions)
    }

    private static func size(perTransaction: Double?, seconds: Double, maxTransactions: Int) -> Int {
        guard let perTransaction, perTransaction > 0 else { return maxTransactions }
        let fit = seconds / perTransaction
        guard fit.isFinite else { return maxTransactions }
        // Clamped as a Double first: a fit beyond Int's range (a tiny cost sample) must not trap in the conversion.
        return max(minimumTransactions, Int(min(max(0, fit), Double(maxTransactions))))
    }
}

/// Monotonic milliseconds (not part of consensus: only paces sync requests).
enum DispatchTimeMilliseconds {
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds / 1_000_000 }
}

import Dispatch
