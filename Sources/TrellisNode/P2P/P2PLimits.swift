// P2PLimits.swift — what one node lets the network hold of it: connection caps, the handshake deadline, per-peer
// rate limits, and how long a misbehaving peer key stays refused.
//
// Fault model: anyone who can reach the P2P port may open connections and send bytes; a member key may complete
// the handshake and then send anything. None of it may exhaust this node's descriptors, memory or CPU:
// - an inbound connection is refused at accept (closed before any handler is set up) when the node already holds
//   `maxInboundConnections`, or `maxHandshakingConnections` that have not finished the handshake, or
//   `maxConnectionsPerAddress` from the same IP address;
// - a connection that has not finished the handshake within `handshakeTimeoutMilliseconds` is closed;
// - an authenticated peer that exceeds its message or byte rate (with a burst), or sends a malformed frame or
//   message or a consensus message far above every height it could know, is disconnected with the reason logged,
//   and its key is refused (and not dialled) for `misbehavingPeerBanMilliseconds`.
import TrellisCrypto

/// Limits of the P2P transport (`[p2p]` in config.toml; defaults in `NodeConfig.P2P`).
public struct P2PLimits: Sendable, Equatable {
    /// A connection (either direction) that has not completed the handshake by then is closed.
    public var handshakeTimeoutMilliseconds: Int64 = 5_000
    /// Inbound connections held at once, in any state (the node also lowers it to what its descriptors allow).
    public var maxInboundConnections: Int = 256
    /// Inbound connections still in the handshake, at once.
    public var maxHandshakingConnections: Int = 64
    /// Inbound connections from one IP address, in any state.
    public var maxConnectionsPerAddress: Int = 32
    /// Messages per second an authenticated peer may send on average, and how many more it may send in a burst.
    public var peerMessagesPerSecond: Int = 10_000
    public var peerMessageBurst: Int = 20_000
    /// Plaintext bytes per second an authenticated peer may send on average, and the burst (at least one largest frame).
    public var peerBytesPerSecond: Int = 32 << 20
    public var peerByteBurst: Int = 96 << 20
    /// How long a key disconnected for misbehaving is refused and not dialled.
    public var misbehavingPeerBanMilliseconds: Int64 = 60_000

    public init() {}
}

/// Why an authenticated peer was disconnected. The description is the logged reason.
public enum PeerMisbehaviour: Sendable, Equatable, CustomStringConvertible {
    case messageRateExceeded(perSecond: Int, burst: Int)
    case byteRateExceeded(perSecond: Int, burst: Int)
    case malformedFrame(String)
    case malformedMessage(String)
    case farFutureConsensus(height: UInt64, ourHeight: UInt64, peerHeight: UInt64, maxHeightsAhead: UInt64)

    public var description: String {
        switch self {
        case .messageRateExceeded(let rate, let burst): return "sent more than \(rate) messages/s (burst \(burst))"
        case .byteRateExceeded(let rate, let burst): return "sent more than \(rate) bytes/s (burst \(burst))"
        case .malformedFrame(let reason): return "malformed frame: \(reason)"
        case .malformedMessage(let reason): return "malformed message: \(reason)"
        case .farFutureConsensus(let height, let ours, let theirs, let ahead):
            return "consensus message for height \(height), more than \(ahead) above this node's \(ours) and the peer's own reported \(theirs)"
        }
    }
}

/// Why an inbound connection was refused at accept.
enum InboundRefusal: Error, Equatable, CustomStringConvertible {
    case tooManyConnections(limit: Int)
    case tooManyHandshaking(limit: Int)
    case tooManyFromAddress(address: String, limit: Int)
    case stopped

    var description: String {
        switch self {
        case .tooManyConnections(let limit): return "the node holds its maximum of \(limit) inbound connections (p2p.max_inbound_connections or the descriptor budget)"
        case .tooManyHandshaking(let limit): return "\(limit) inbound connections are already in the handshake (p2p.max_handshaking_connections)"
        case .tooManyFromAddress(let address, let limit): return "\(address) already holds \(limit) connections (p2p.max_connections_per_ip)"
        case .stopped: return "the transport is shutting down"
        }
    }
}

/// The inbound connections held now, by state and source address (pure bookkeeping; the transport owns one).
struct InboundConnectionTable: Sendable {
    private struct Entry: Sendable {
        let address: String
        var authenticated: Bool
    }

    private var entries: [ObjectIdentifier: Entry] = [:]
    private var perAddress: [String: Int] = [:]
    private(set) var handshaking = 0

    var count: Int { entries.count }

    /// Records a new connection, or throws why it must be refused (then nothing is recorded).
    mutating func admit(_ id: ObjectIdentifier, address: String, maxConnections: Int, limits: P2PLimits) throws(InboundRefusal) {
        precondition(entries[id] == nil, "connection admitted twice")
        guard entries.count < maxConnections else { throw .tooManyConnections(limit: maxConnections) }
        guard handshaking < limits.maxHandshakingConnections else { throw .tooManyHandshaking(limit: limits.maxHandshakingConnections) }
        guard perAddress[address, default: 0] < limits.maxConnectionsPerAddress else {
            throw .tooManyFromAddress(address: address, limit: limits.maxConnectionsPerAddress)
        }
        entries[id] = Entry(address: address, authenticated: false)
        perAddress[address, default: 0] += 1
        handshaking += 1
    }

    /// The connection finished the handshake (no-op for connections this table does not hold, e.g. outbound ones).
    mutating func authenticated(_ id: ObjectIdentifier) {
        guard var entry = entries[id], !entry.authenticated else { return }
        entry.authenticated = true
        entries[id] = entry
        handshaking -= 1
        assert(handshaking >= 0, "negative handshaking count")
    }

    /// The connection closed (no-op for connections this table does not hold).
    mutating func closed(_ id: ObjectIdentifier) {
        guard let entry = entries.removeValue(forKey: id) else { return }
        if !entry.authenticated { handshaking -= 1 }
        let left = perAddress[entry.address, default: 1] - 1
        perAddress[entry.address] = left > 0 ? left : nil
        assert(handshaking >= 0, "negative handshaking count")
    }

    /// Connections held from `address`.
    func count(from address: String) -> Int { perAddress[address, default: 0] }
}

/// Keys refused until a time (uptime nanoseconds) after misbehaving.
struct PeerBans: Sendable {
    private var until: [PublicKey: UInt64] = [:]

    mutating func ban(_ key: PublicKey, untilNanoseconds: UInt64) {
        until[key] = max(until[key] ?? 0, untilNanoseconds)
    }

    /// Nanoseconds left of `key`'s ban, or nil when it is not banned (expired bans are forgotten here).
    mutating func remaining(_ key: PublicKey, nowNanoseconds: UInt64) -> UInt64? {
        guard let end = until[key] else { return nil }
        guard end > nowNanoseconds else {
            until[key] = nil
            return nil
        }
        return end - nowNanoseconds
    }
}
