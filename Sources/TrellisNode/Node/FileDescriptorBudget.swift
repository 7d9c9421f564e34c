// FileDescriptorBudget.swift — how many descriptors the node may spend on connections, decided at start.
//
// At start the node raises its soft RLIMIT_NOFILE to the hard limit, then reserves descriptors for what it cannot
// do without — RocksDB (its `max_open_files` plus its WAL, manifest and log files), the signing state, the consensus
// WAL, outbound peer connections and the process itself (standard streams, event loops, libraries) — and divides
// what is left between inbound P2P connections and API connections, never more than their configured caps. Both
// listeners refuse connections beyond their share, so a flood of connections can never take the descriptor the
// signing state needs to be saved (issue 14: ~1,050 idle connections used to stop consensus on a node started with
// the common 1,024 limit). A limit too small for the reserve plus a minimum of connections stops the start.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct FileDescriptorBudget: Sendable, Equatable, CustomStringConvertible {
    /// The process itself: standard streams, event loops' epoll/eventfd/timerfd, libsodium, the pid file, logs.
    public static let processReserve = 64
    /// RocksDB beyond `max_open_files`: WAL, manifest, LOCK, LOG, CURRENT, files being compacted.
    public static let storeOverhead = 32
    /// The signing state (temporary file and directory, fsynced on every save).
    public static let signingStateReserve = 4
    /// The consensus WAL. It is a column family of the chain store today (its descriptors are RocksDB's); these
    /// are headroom for a WAL in files of its own.
    public static let consensusWALReserve = 8
    /// Outbound peer connections (the validators of the next two heights and persistent peers).
    public static let outboundPeerReserve = 64
    /// Fewest descriptors each listener must get, or the node does not start.
    public static let minimumPerListener = 16

    /// The soft limit in force after raising it, and the hard limit.
    public let softLimit: Int
    public let hardLimit: Int
    /// RocksDB's `max_open_files`.
    public let storeMaxOpenFiles: Int
    /// Everything reserved before connections.
    public let reserved: Int
    /// Inbound P2P connections and API connections the node will hold at most.
    public let p2pInboundConnections: Int
    public let apiConnections: Int

    /// Divides `softLimit` (after reserving) between the two listeners, each at most its configured cap.
    public init(softLimit: Int, hardLimit: Int, storeMaxOpenFiles: Int, maxP2PInbound: Int, maxAPI: Int) throws(NodeStartError) {
        precondition(storeMaxOpenFiles > 0, "RocksDB max_open_files must be bounded, got \(storeMaxOpenFiles)")
        precondition(maxP2PInbound > 0 && maxAPI > 0, "connection caps must be positive")
        self.softLimit = softLimit
        self.hardLimit = hardLimit
        self.storeMaxOpenFiles = storeMaxOpenFiles
        reserved = Self.processReserve + storeMaxOpenFiles + Self.storeOverhead + Self.signingStateReserve + Self.consensusWALReserve + Self.outboundPeerReserve
        let available = softLimit - reserved
        guard available >= 2 * Self.minimumPerListener else {
            throw NodeStartError("""
                the open-file limit (RLIMIT_NOFILE) is \(softLimit) (hard limit \(hardLimit)): the node reserves \(reserved) descriptors \
                (RocksDB max_open_files \(storeMaxOpenFiles) + \(Self.storeOverhead), signing state, WAL, outbound peers, process) and needs \
                \(2 * Self.minimumPerListener) more for connections; raise it (`ulimit -n \(reserved + 2 * Self.minimumPerListener)` or more, \
                or LimitNOFILE= in the systemd unit)
                """)
        }
        // P2P first (consensus needs it), but never more than half of what is left while the API wants more.
        p2pInboundConnections = min(maxP2PInbound, max(available / 2, available - maxAPI))
        apiConnections = min(maxAPI, available - p2pInboundConnections)
    }

    /// Raises the soft RLIMIT_NOFILE to the hard limit (at most `ceiling`); returns the limits in force afterwards.
    public static func raiseSoftLimit(ceiling: Int = 1 << 20) -> (soft: Int, hard: Int) {
        var limits = rlimit()
        guard getrlimit(Self.resource, &limits) == 0 else { return (1024, 1024) }
        let hard = limits.rlim_max == Self.infinity ? ceiling : Int(min(limits.rlim_max, rlim_t(ceiling)))
        if Int(limits.rlim_cur) < hard || limits.rlim_cur == Self.infinity {
            var raised = limits
            raised.rlim_cur = rlim_t(hard)
            if setrlimit(Self.resource, &raised) == 0 { limits = raised }
        }
        let soft = limits.rlim_cur == Self.infinity ? ceiling : Int(min(limits.rlim_cur, rlim_t(ceiling)))
        return (soft, hard)
    }

    /// RLIM_INFINITY (all ones; Swift cannot import the C macro's `-1`).
    private static let infinity = rlim_t.max

    #if canImport(Glibc)
    private static var resource: __rlimit_resource_t { __rlimit_resource_t(UInt32(RLIMIT_NOFILE.rawValue)) }
    #else
    private static var resource: Int32 { RLIMIT_NOFILE }
    #endif

    public var description: String {
        "descriptors: limit \(softLimit) (hard \(hardLimit)), reserved \(reserved) (RocksDB max_open_files \(storeMaxOpenFiles)), "
            + "p2p inbound \(p2pInboundConnections), api \(apiConnections)"
    }
}
