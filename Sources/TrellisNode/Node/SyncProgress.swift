// SyncProgress.swift — what a node catching up tells its operator: how far it is (height, the height a third of the
// validators report, how many blocks behind), when it starts, every `reportEveryBlocks` blocks, and when it has
// caught up. Pure: heights in, a report out (no clock, no I/O), so the node's log lines are tested without a network.
// Logs only: nothing here reaches consensus or anything hashed.

/// One line of catch-up progress.
public enum SyncReport: Equatable, Sendable {
    /// Behind by `target - height` blocks (first report of a catch-up, then every `reportEveryBlocks` blocks).
    case behind(height: UInt64, target: UInt64, startedAt: UInt64)
    /// Within a block of what peers report again, after catching up from `startedAt`.
    case caughtUp(height: UInt64, startedAt: UInt64)
}

/// Decides when a committed height is worth a progress line while the node catches up.
public struct SyncProgress: Sendable {
    /// A progress line every this many committed blocks while behind.
    public static let reportEveryBlocks: UInt64 = 100
    /// Behind means at least this many blocks below what peers report (one block behind is ordinary consensus).
    public static let behindThresholdBlocks: UInt64 = 2

    /// The height the current catch-up started from, nil while in step with the peers.
    public private(set) var startedAt: UInt64?
    private var lastReported: UInt64 = 0

    public init() {}

    /// The report for committing `height` while a third of the validators report `target` (nil: unknown), if any.
    public mutating func committed(height: UInt64, target: UInt64?) -> SyncReport? {
        // No peer report (none connected yet, or all reconnecting): nothing to say, and a catch-up is not over.
        guard let target else { return nil }
        let behind = target > height ? target - height : 0
        if let started = startedAt {
            if behind < Self.behindThresholdBlocks {
                startedAt = nil
                return .caughtUp(height: height, startedAt: started)
            }
            guard height >= lastReported + Self.reportEveryBlocks else { return nil }
            lastReported = height
            return .behind(height: height, target: target, startedAt: started)
        }
        guard behind >= Self.behindThresholdBlocks else { return nil }
        startedAt = height
        lastReported = height
        return .behind(height: height, target: target, startedAt: height)
    }
}
