// BlockBudget.swift — how much a proposer takes from the mempool so that building its block fits in the propose
// timeout, and the monotonic milliseconds the node paces itself by (neither is part of consensus).
import NIOConcurrencyHelpers

/// How many transactions a proposal may carry so that building it takes about `seconds`: a proposer that takes
/// longer than timeout_propose makes every other validator prevote nil, and the round is lost. The cost per
/// transaction is a moving average of this node's own block executions (builds and validations of ≥ 50
/// transactions). Not part of consensus: only the proposer's choice of how much to take from the mempool.
final class BlockBudget: Sendable {
    /// The share of timeout_propose a proposal's execution may take.
    static let shareOfProposeTimeout = 0.4
    static let minimumTransactions = 100
    let maxTransactions: Int
    let seconds: Double
    /// Starts at a cautious 0.5 ms per transaction and follows the measured cost.
    private let secondsPerTransaction = NIOLockedValueBox<Double?>(0.000_5)
    /// Told the new block size after every measurement (the mempool's admission control counts in it).
    private let onChange: (@Sendable (Int) -> Void)?

    init(maxTransactions: Int, seconds: Double, onChange: (@Sendable (Int) -> Void)? = nil) {
        self.maxTransactions = maxTransactions
        self.seconds = seconds
        self.onChange = onChange
        onChange?(transactions)
    }

    func record(transactions: Int, nanoseconds: UInt64) {
        guard transactions >= 50 else { return }
        let sample = Double(nanoseconds) / 1e9 / Double(transactions)
        secondsPerTransaction.withLockedValue { $0 = $0.map { 0.7 * $0 + 0.3 * sample } ?? sample }
        onChange?(self.transactions)
    }

    /// The most transactions the next proposal should take.
    var transactions: Int {
        guard let perTransaction = secondsPerTransaction.withLockedValue({ $0 }), perTransaction > 0 else { return maxTransactions }
        return max(Self.minimumTransactions, min(maxTransactions, Int(seconds / perTransaction)))
    }
}

/// Monotonic milliseconds (not part of consensus: only paces sync requests).
enum DispatchTimeMilliseconds {
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds / 1_000_000 }
}

import Dispatch
