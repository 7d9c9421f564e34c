// ConsensusConfig.swift — everything the state machine is parameterised by: chain id, timeouts and bounds.
//
// Every queue the state machine keeps is bounded by a value here, so a Byzantine peer cannot grow its memory
// without limit. `TestOnlyFaults` exists so tests can plant known bugs and check that the simulator's checker
// finds them; production configurations must leave it at `.none`.

/// Parameters of one validator's consensus state machine.
public struct ConsensusConfig: Sendable, Hashable {
    /// The chain id every signature is bound to.
    public var chainID: String
    public var timeouts: TimeoutConfig
    /// Messages for rounds above `round_p + maxRoundsAhead` are dropped (bounds vote storage per height).
    public var maxRoundsAhead: UInt32
    /// Messages for a height above the current one are kept, at most this many (when full, the signer holding the
    /// most loses its oldest: each signer keeps its share whatever the others send).
    public var maxBufferedFutureMessages: Int
    /// Messages for heights above `h_p + maxFutureHeights` are dropped; block sync catches the node up instead.
    public var maxFutureHeights: UInt64
    /// Evidence waiting to be included in a block, at most this many (when full, the validator holding the most loses
    /// its oldest pair, if it holds more than the new pair's validator; else the new pair is dropped), and at most one
    /// per validator and height. At most `EvidenceGossip.maxPairsPerMessage`: the pool is gossiped in one message.
    public var maxPendingEvidence: Int
    /// Planted bugs for checker tests. Never set outside tests.
    public var testOnlyFaults: TestOnlyFaults

    /// The bounds' defaults (the simulator starts from them too).
    public static let defaultMaxRoundsAhead: UInt32 = 64
    public static let defaultMaxBufferedFutureMessages = 1024
    public static let defaultMaxFutureHeights: UInt64 = 1
    public static let defaultMaxPendingEvidence = 64

    public init(chainID: String, timeouts: TimeoutConfig = TimeoutConfig(), maxRoundsAhead: UInt32 = Self.defaultMaxRoundsAhead,
                maxBufferedFutureMessages: Int = Self.defaultMaxBufferedFutureMessages, maxFutureHeights: UInt64 = Self.defaultMaxFutureHeights,
                maxPendingEvidence: Int = Self.defaultMaxPendingEvidence, testOnlyFaults: TestOnlyFaults = .none) {
        self.chainID = chainID
        self.timeouts = timeouts
        self.maxRoundsAhead = maxRoundsAhead
        self.maxBufferedFutureMessages = maxBufferedFutureMessages
        self.maxFutureHeights = maxFutureHeights
        precondition(maxPendingEvidence >= 1 && maxPendingEvidence <= EvidenceGossip.maxPairsPerMessage,
                     "maxPendingEvidence must be 1…\(EvidenceGossip.maxPairsPerMessage) (the pool is gossiped in one message), got \(maxPendingEvidence)")
        self.maxPendingEvidence = maxPendingEvidence
        self.testOnlyFaults = testOnlyFaults
    }
}

/// Known bugs that tests may plant to prove that the simulator's checker detects them.
///
/// The faults exist only in builds compiled with `TRELLIS_TEST_FAULTS` (Package.swift defines it for debug builds,
/// which is what `swift test` runs): in a release build every fault reads `false`, no initialiser can set one, and
/// the code paths they guard are compiled as dead code — a shipped node cannot be configured into a planted bug.
public struct TestOnlyFaults: Sendable, Hashable {
    #if TRELLIS_TEST_FAULTS
    /// Lines 23 and 29: prevote for any valid proposal, ignoring lockedRound/lockedValue.
    public var skipLockCheck: Bool
    /// Sign whatever the state machine asks, ignoring the signing guard's refusal.
    public var skipSigningGuard: Bool
    /// A replica that ignores its WAL at restart: it rejoins its height at round 0 with no lock (the node before
    /// the WAL existed).
    public var skipWALReplay: Bool

    public init(skipLockCheck: Bool = false, skipSigningGuard: Bool = false, skipWALReplay: Bool = false) {
        self.skipLockCheck = skipLockCheck
        self.skipSigningGuard = skipSigningGuard
        self.skipWALReplay = skipWALReplay
    }

    /// Whether this build can plant faults (debug builds).
    public static let available = true
    #else
    public var skipLockCheck: Bool { false }
    public var skipSigningGuard: Bool { false }
    public var skipWALReplay: Bool { false }

    public init() {}

    /// Whether this build can plant faults (never in a release build).
    public static let available = false
    #endif

    /// No planted bug.
    public static let none = TestOnlyFaults()
}
