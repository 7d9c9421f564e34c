// NodeConfig.swift — a node's `config.toml`: listen addresses, consensus timeouts, mempool and block bounds.
//
// Decoding is strict: unknown keys and out-of-range values are errors naming the key, so a typo never silently
// falls back to a default. Every field has a default, so a minimal file is valid.
import Foundation
import TrellisConsensus
import TrellisLedger

public struct NodeConfig: Codable, Sendable, Equatable {
    public struct Node: Codable, Sendable, Equatable {
        /// A human name for logs ("bank", "node0").
        public var name: String = "node"
        /// "trace" … "critical".
        public var logLevel: String = "info"

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let defaults = Self()
            name = try c.value(.name, defaults.name)
            logLevel = try c.value(.logLevel, defaults.logLevel)
        }

        enum CodingKeys: String, CodingKey {
            case name
            case logLevel = "log_level"
        }
    }

    public struct P2P: Codable, Sendable, Equatable {
        /// Where to accept peer connections, "host:port".
        public var listen: String = "127.0.0.1:26656"
        /// Peers "key_hex@host:port": extra peers beyond the validators listed in genesis, or another address for
        /// one of them (this entry wins; see `PeerList`).
        public var persistentPeers: [String] = []
        public var maxFrameBytes: Int = 80 << 20
        /// Connection caps, handshake deadline, per-peer rate limits and bans (`P2PLimits` says what each does).
        public var handshakeTimeoutMilliseconds: Int64 = P2PLimits().handshakeTimeoutMilliseconds
        public var maxInboundConnections: Int = P2PLimits().maxInboundConnections
        public var maxHandshakingConnections: Int = P2PLimits().maxHandshakingConnections
        public var maxConnectionsPerIP: Int = P2PLimits().maxConnectionsPerAddress
        public var peerMessagesPerSecond: Int = P2PLimits().peerMessagesPerSecond
        public var peerMessageBurst: Int = P2PLimits().peerMessageBurst
        public var peerBytesPerSecond: Int = P2PLimits().peerBytesPerSecond
        public var peerByteBurst: Int = P2PLimits().peerByteBurst
        public var misbehavingPeerBanMilliseconds: Int64 = P2PLimits().misbehavingPeerBanMilliseconds
        /// A consensus message more than this many heights above this node's and the sender's reported height
        /// disconnects the sender (`PeerMessageScreen`).
        public var maxConsensusHeightsAhead: UInt64 = 100

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let defaults = Self()
            listen = try c.value(.listen, defaults.listen)
            persistentPeers = try c.value(.persistentPeers, defaults.persistentPeers)
            maxFrameBytes = try c.value(.maxFrameBytes, defaults.maxFrameBytes)
            handshakeTimeoutMilliseconds = try c.value(.handshakeTimeoutMilliseconds, defaults.handshakeTimeoutMilliseconds)
            maxInboundConnections = try c.value(.maxInboundConnections, defaults.maxInboundConnections)
            maxHandshakingConnections = try c.value(.maxHandshakingConnections, defaults.maxHandshakingConnections)
            maxConnectionsPerIP = try c.value(.maxConnectionsPerIP, defaults.maxConnectionsPerIP)
            peerMessagesPerSecond = try c.value(.peerMessagesPerSecond, defaults.peerMessagesPerSecond)
            peerMessageBurst = try c.value(.peerMessageBurst, defaults.peerMessageBurst)
            peerBytesPerSecond = try c.value(.peerBytesPerSecond, defaults.peerBytesPerSecond)
            peerByteBurst = try c.value(.peerByteBurst, defaults.peerByteBurst)
            misbehavingPeerBanMilliseconds = try c.value(.misbehavingPeerBanMilliseconds, defaults.misbehavingPeerBanMilliseconds)
            maxConsensusHeightsAhead = try c.value(.maxConsensusHeightsAhead, defaults.maxConsensusHeightsAhead)
        }

        enum CodingKeys: String, CodingKey {
            case listen
            case persistentPeers = "persistent_peers"
            case maxFrameBytes = "max_frame_bytes"
            case handshakeTimeoutMilliseconds = "handshake_timeout_ms"
            case maxInboundConnections = "max_inbound_connections"
            case maxHandshakingConnections = "max_handshaking_connections"
            case maxConnectionsPerIP = "max_connections_per_ip"
            case peerMessagesPerSecond = "peer_messages_per_second"
            case peerMessageBurst = "peer_message_burst"
            case peerBytesPerSecond = "peer_bytes_per_second"
            case peerByteBurst = "peer_byte_burst"
            case misbehavingPeerBanMilliseconds = "misbehaving_peer_ban_ms"
            case maxConsensusHeightsAhead = "max_consensus_heights_ahead"
        }

        /// The transport's limits from these settings (the inbound cap before the descriptor budget lowers it).
        public var limits: P2PLimits {
            var l = P2PLimits()
            l.handshakeTimeoutMilliseconds = handshakeTimeoutMilliseconds
            l.maxInboundConnections = maxInboundConnections
            l.maxHandshakingConnections = maxHandshakingConnections
            l.maxConnectionsPerAddress = maxConnectionsPerIP
            l.peerMessagesPerSecond = peerMessagesPerSecond
            l.peerMessageBurst = peerMessageBurst
            l.peerBytesPerSecond = peerBytesPerSecond
            l.peerByteBurst = peerByteBurst
            l.misbehavingPeerBanMilliseconds = misbehavingPeerBanMilliseconds
            return l
        }
    }

    public struct API: Codable, Sendable, Equatable {
        /// Where the HTTP API listens, "host:port".
        public var listen: String = "127.0.0.1:8080"
        public var maxBodyBytes: Int = 1 << 20
        /// How long `POST /v1/tx?wait=commit` waits for the block.
        public var commitWaitMilliseconds: Int = 30_000
        /// A connection that has not sent a whole request head this long after opening (or after its last answer)
        /// is closed; so is one whose request body has not fully arrived this long after its head.
        public var headerTimeoutMilliseconds: Int64 = 10_000
        public var bodyTimeoutMilliseconds: Int64 = 30_000
        /// Connections served at once (the descriptor budget may lower it); beyond it a connection gets 503 and is closed.
        public var maxConnections: Int = 256
        /// Who may read what (docs/ACCESS.md): `consortium` (signed requests, per-member scopes) or `open` (anyone
        /// reads everything: demos only).
        public var readPolicy: ReadPolicy = .consortium
        /// A signed request's timestamp may differ from the node's clock by at most this much (either way); its
        /// nonce is remembered for twice as long.
        public var requestSkewSeconds: Int64 = 300
        /// Signed-request nonces remembered at once (bounded memory); when full of unexpired nonces, signed
        /// requests are answered 503 until some expire.
        public var maxRequestNonces: Int = 100_000
        /// Of those, remembered for one member at once: beyond, that member's signed requests are answered 429
        /// until some expire, so one member cannot fill the window for everyone.
        public var maxRequestNoncesPerMember: Int = 10_000
        /// A refused per-object read (another member's object, or one that does not exist) is answered at the first
        /// multiple of this since the request arrived, so its timing does not tell whether the object exists.
        public var refusalFloorMilliseconds: Int64 = 50
        /// A file (relative to the node's home unless absolute; mode 0600) holding a bearer token: `GET /metrics`
        /// with `Authorization: Bearer <token>` is served as to the operator — that route only (docs/ACCESS.md).
        /// Empty: none. `node init` and `testnet up` write `metrics.token` and set it.
        public var metricsTokenFile: String = ""
        /// A `read_policy` value the file set that names no policy (refused by `check`).
        var unknownReadPolicy: String?

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let defaults = Self()
            listen = try c.value(.listen, defaults.listen)
            maxBodyBytes = try c.value(.maxBodyBytes, defaults.maxBodyBytes)
            commitWaitMilliseconds = try c.value(.commitWaitMilliseconds, defaults.commitWaitMilliseconds)
            headerTimeoutMilliseconds = try c.value(.headerTimeoutMilliseconds, defaults.headerTimeoutMilliseconds)
            bodyTimeoutMilliseconds = try c.value(.bodyTimeoutMilliseconds, defaults.bodyTimeoutMilliseconds)
            maxConnections = try c.value(.maxConnections, defaults.maxConnections)
            let policy = try c.value(.readPolicy, defaults.readPolicy.rawValue)
            // An unknown name is kept and refused by `check`, whose message names the key and its line.
            readPolicy = ReadPolicy(rawValue: policy) ?? defaults.readPolicy
            unknownReadPolicy = ReadPolicy(rawValue: policy) == nil ? policy : nil
            requestSkewSeconds = try c.value(.requestSkewSeconds, defaults.requestSkewSeconds)
            maxRequestNonces = try c.value(.maxRequestNonces, defaults.maxRequestNonces)
            maxRequestNoncesPerMember = try c.value(.maxRequestNoncesPerMember, defaults.maxRequestNoncesPerMember)
            refusalFloorMilliseconds = try c.value(.refusalFloorMilliseconds, defaults.refusalFloorMilliseconds)
            metricsTokenFile = try c.value(.metricsTokenFile, defaults.metricsTokenFile)
        }

        enum CodingKeys: String, CodingKey {
            case listen
            case maxBodyBytes = "max_body_bytes"
            case commitWaitMilliseconds = "commit_wait_ms"
            case headerTimeoutMilliseconds = "header_timeout_ms"
            case bodyTimeoutMilliseconds = "body_timeout_ms"
            case maxConnections = "max_connections"
            case readPolicy = "read_policy"
            case requestSkewSeconds = "request_skew_s"
            case maxRequestNonces = "max_request_nonces"
            case maxRequestNoncesPerMember = "max_request_nonces_per_member"
            case refusalFloorMilliseconds = "refusal_floor_ms"
            case metricsTokenFile = "metrics_token_file"
        }
    }

    public struct Consensus: Codable, Sendable, Equatable {
        public var timeoutProposeMilliseconds: UInt64 = 1_000
        public var timeoutProposeDeltaMilliseconds: UInt64 = 500
        public var timeoutPrevoteMilliseconds: UInt64 = 500
        public var timeoutPrevoteDeltaMilliseconds: UInt64 = 250
        public var timeoutPrecommitMilliseconds: UInt64 = 500
        public var timeoutPrecommitDeltaMilliseconds: UInt64 = 250
        /// Pause after a height is decided before the next height starts, so transactions can gather (the decided block
        /// is stored during it).
        public var timeoutCommitMilliseconds: UInt64 = 1_000
        /// Propose blocks even when the mempool is empty (keeps heights moving; useful for liveness checks). false: a
        /// height starts only once a transaction is waiting or a peer has started it.
        public var createEmptyBlocks: Bool = true
        /// Send pending evidence (equivocations' vote pairs) to peers, so any proposer can put it on chain. Off by
        /// default in this release: a build before it disconnects and bans a peer that sends it (docs/OPERATIONS.md
        /// §12 says when to turn it on). Receiving is always on.
        public var evidenceGossip: Bool = false
        public var maxBlockTransactions: Int = 5_000
        public var maxBlockBytes: Int = 16 << 20

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let defaults = Self()
            timeoutProposeMilliseconds = try c.value(.timeoutProposeMilliseconds, defaults.timeoutProposeMilliseconds)
            timeoutProposeDeltaMilliseconds = try c.value(.timeoutProposeDeltaMilliseconds, defaults.timeoutProposeDeltaMilliseconds)
            timeoutPrevoteMilliseconds = try c.value(.timeoutPrevoteMilliseconds, defaults.timeoutPrevoteMilliseconds)
            timeoutPrevoteDeltaMilliseconds = try c.value(.timeoutPrevoteDeltaMilliseconds, defaults.timeoutPrevoteDeltaMilliseconds)
            timeoutPrecommitMilliseconds = try c.value(.timeoutPrecommitMilliseconds, defaults.timeoutPrecommitMilliseconds)
            timeoutPrecommitDeltaMilliseconds = try c.value(.timeoutPrecommitDeltaMilliseconds, defaults.timeoutPrecommitDeltaMilliseconds)
            timeoutCommitMilliseconds = try c.value(.timeoutCommitMilliseconds, defaults.timeoutCommitMilliseconds)
            createEmptyBlocks = try c.value(.createEmptyBlocks, defaults.createEmptyBlocks)
            evidenceGossip = try c.value(.evidenceGossip, defaults.evidenceGossip)
            maxBlockTransactions = try c.value(.maxBlockTransactions, defaults.maxBlockTransactions)
            maxBlockBytes = try c.value(.maxBlockBytes, defaults.maxBlockBytes)
        }

        enum CodingKeys: String, CodingKey {
            case timeoutProposeMilliseconds = "timeout_propose_ms"
            case timeoutProposeDeltaMilliseconds = "timeout_propose_delta_ms"
            case timeoutPrevoteMilliseconds = "timeout_prevote_ms"
            case timeoutPrevoteDeltaMilliseconds = "timeout_prevote_delta_ms"
            case timeoutPrecommitMilliseconds = "timeout_precommit_ms"
            case timeoutPrecommitDeltaMilliseconds = "timeout_precommit_delta_ms"
            case timeoutCommitMilliseconds = "timeout_commit_ms"
            case createEmptyBlocks = "create_empty_blocks"
            case evidenceGossip = "evidence_gossip"
            case maxBlockTransactions = "max_block_transactions"
            case maxBlockBytes = "max_block_bytes"
        }
    }

    public struct Mempool: Codable, Sendable, Equatable {
        public var maxTransactions: Int = 50_000
        public var maxBytes: Int = 128 << 20
        public var maxPerSigner: Int = 2_000
        /// Admission control: clients get 429 while more than this many blocks' worth (`consensus.max_block_*`)
        /// is pending.
        public var admissionBlocks: Int = 2
        /// Admission control: a signer with this many pending transactions gets 429 for the next.
        public var admissionSignerRun: Int = 1_000

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let defaults = Self()
            maxTransactions = try c.value(.maxTransactions, defaults.maxTransactions)
            maxBytes = try c.value(.maxBytes, defaults.maxBytes)
            maxPerSigner = try c.value(.maxPerSigner, defaults.maxPerSigner)
            admissionBlocks = try c.value(.admissionBlocks, defaults.admissionBlocks)
            admissionSignerRun = try c.value(.admissionSignerRun, defaults.admissionSignerRun)
        }

        enum CodingKeys: String, CodingKey {
            case maxTransactions = "max_transactions"
            case maxBytes = "max_bytes"
            case maxPerSigner = "max_per_signer"
            case admissionBlocks = "admission_blocks"
            case admissionSignerRun = "admission_signer_run"
        }
    }

    /// `[state]`: how much tree history the node keeps for proofs (docs/LEDGER.md, "Storage of the tree").
    public struct State: Codable, Sendable, Equatable {
        /// Heights whose state stays readable and provable (the latest included); older tree nodes are pruned.
        public var proofHistoryHeights: UInt64 = StateRetention.defaultProofHistoryHeights
        /// Keep every height (no pruning): an archive node answers proofs at any height.
        public var archive: Bool = false

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let defaults = Self()
            proofHistoryHeights = try c.value(.proofHistoryHeights, defaults.proofHistoryHeights)
            archive = try c.value(.archive, defaults.archive)
        }

        /// What the chain store keeps.
        public var retention: StateRetention { archive ? .archive : .window(heights: proofHistoryHeights) }

        enum CodingKeys: String, CodingKey {
            case proofHistoryHeights = "proof_history_heights"
            case archive
        }
    }

    /// `[storage]`: RocksDB settings an operator may change (docs/OPERATIONS.md, "Memory").
    public struct Storage: Codable, Sendable, Equatable {
        /// RocksDB's compactions at nice 19 (`StoreOptions.lowPriorityCompactions`): for validators that share a host,
        /// where a compaction at normal priority takes a core from the others' heights (the cluster benchmark's
        /// half-load p99 2.2–2.4 s → 0.6–0.8 s). Off: a node that keeps its cores busy starves them — L0 files pile up
        /// past RocksDB's write slowdown (docs/PERFORMANCE.md, "(twenty-third, compaction)").
        public var lowPriorityCompactions: Bool = false

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let defaults = Self()
            lowPriorityCompactions = try c.value(.lowPriorityCompactions, defaults.lowPriorityCompactions)
        }

        enum CodingKeys: String, CodingKey {
            case lowPriorityCompactions = "low_priority_compactions"
        }
    }

    public var node = Node()
    public var p2p = P2P()
    public var api = API()
    public var consensus = Consensus()
    public var mempool = Mempool()
    public var state = State()
    public var storage = Storage()

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Self()
        node = try c.value(.node, defaults.node)
        p2p = try c.value(.p2p, defaults.p2p)
        api = try c.value(.api, defaults.api)
        consensus = try c.value(.consensus, defaults.consensus)
        mempool = try c.value(.mempool, defaults.mempool)
        state = try c.value(.state, defaults.state)
        storage = try c.value(.storage, defaults.storage)
    }

    enum CodingKeys: String, CodingKey {
        case node, p2p, api, consensus, mempool, state, storage
    }
}

extension KeyedDecodingContainer {
    /// The value at `key`, or `fallback` when the key is absent (a present key of the wrong type is an error).
    func value<T: Decodable>(_ key: Key, _ fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }
}

/// A configuration file that cannot be used, with the reason.
public struct NodeConfigError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "config \(path): \(reason)" }
}

extension NodeConfig {
    /// Reads and checks `config.toml` at `path`.
    public static func load(path: String) throws(NodeConfigError) -> NodeConfig {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw NodeConfigError(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try parse(text, path: path)
    }

    /// Parses TOML text (missing sections and keys take their defaults; unknown keys are errors). Every error
    /// names the key and its line.
    public static func parse(_ text: String, path: String = "config.toml") throws(NodeConfigError) -> NodeConfig {
        guard text.utf8.count <= TOMLReader.maxBytes else { throw NodeConfigError(path: path, reason: "file larger than 1 MiB") }
        let table: TOMLTable
        do { table = try TOMLReader.parse(text) } catch {
            throw NodeConfigError(path: path, reason: "TOML syntax error at \(error)")
        }
        let config: NodeConfig
        do { config = try TOMLValueDecoder.decode(NodeConfig.self, from: table) } catch {
            throw NodeConfigError(path: path, reason: error.description)
        }
        try config.check(path: path, lines: table)
        return config
    }

    /// Upper bound of every timeout: an hour. Larger values are surely mistakes, and bounding them keeps every
    /// conversion to nanoseconds far from overflow.
    public static let maxTimeoutMilliseconds: UInt64 = 3_600_000
    /// What a proposal's frame holds besides its block (the proposal's fields and signature, the message tag, the
    /// channel's framing), rounded well up.
    public static let proposalFrameOverhead = 64 << 10

    /// Range checks with messages naming the key (and its line when the file sets it).
    func check(path: String, lines table: TOMLTable = TOMLTable(line: 0, definedByHeader: true)) throws(NodeConfigError) {
        func fail(_ key: String, _ reason: String) -> NodeConfigError {
            let parts = key.split(separator: ".").map(String.init)
            var line = 0
            if parts.count == 2, case .table(let section)? = table[parts[0]]?.value, let entry = section[parts[1]] { line = entry.line }
            return NodeConfigError(path: path, reason: line > 0 ? "\(key) (line \(line)): \(reason)" : "\(key): \(reason)")
        }
        guard HostPort(p2p.listen) != nil else { throw fail("p2p.listen", "\"\(p2p.listen)\" is not host:port") }
        guard HostPort(api.listen) != nil else { throw fail("api.listen", "\"\(api.listen)\" is not host:port") }
        guard (1024...(1 << 30)).contains(p2p.maxFrameBytes) else { throw fail("p2p.max_frame_bytes", "must be 1 KiB … 1 GiB") }
        guard (1024...(64 << 20)).contains(api.maxBodyBytes) else { throw fail("api.max_body_bytes", "must be 1 KiB … 64 MiB") }
        guard (1...Int(Self.maxTimeoutMilliseconds)).contains(api.commitWaitMilliseconds) else { throw fail("api.commit_wait_ms", "must be 1 … \(Self.maxTimeoutMilliseconds)") }
        guard (100...600_000).contains(api.headerTimeoutMilliseconds) else { throw fail("api.header_timeout_ms", "must be 100 … 600000") }
        guard (100...3_600_000).contains(api.bodyTimeoutMilliseconds) else { throw fail("api.body_timeout_ms", "must be 100 … 3600000") }
        guard (1...1_000_000).contains(api.maxConnections) else { throw fail("api.max_connections", "must be 1 … 1000000") }
        if let name = api.unknownReadPolicy { throw fail("api.read_policy", "\"\(name)\" is not a read policy (consortium or open)") }
        guard (1...86_400).contains(api.requestSkewSeconds) else { throw fail("api.request_skew_s", "must be 1 … 86400") }
        guard (1...10_000_000).contains(api.maxRequestNonces) else { throw fail("api.max_request_nonces", "must be 1 … 10000000") }
        guard (1...api.maxRequestNonces).contains(api.maxRequestNoncesPerMember) else {
            throw fail("api.max_request_nonces_per_member", "must be 1 … api.max_request_nonces (\(api.maxRequestNonces))")
        }
        guard (0...10_000).contains(api.refusalFloorMilliseconds) else { throw fail("api.refusal_floor_ms", "must be 0 … 10000") }
        guard api.metricsTokenFile.utf8.count <= 4096, !api.metricsTokenFile.contains("\0"), api.metricsTokenFile.trimmingCharacters(in: .whitespaces) == api.metricsTokenFile else {
            throw fail("api.metrics_token_file", "must be a file path (at most 4096 bytes, no NUL, no surrounding spaces) or \"\" for none")
        }
        guard (100...600_000).contains(p2p.handshakeTimeoutMilliseconds) else { throw fail("p2p.handshake_timeout_ms", "must be 100 … 600000") }
        guard (1...1_000_000).contains(p2p.maxInboundConnections) else { throw fail("p2p.max_inbound_connections", "must be 1 … 1000000") }
        guard (1...p2p.maxInboundConnections).contains(p2p.maxHandshakingConnections) else {
            throw fail("p2p.max_handshaking_connections", "must be 1 … p2p.max_inbound_connections (\(p2p.maxInboundConnections))")
        }
        guard (1...p2p.maxInboundConnections).contains(p2p.maxConnectionsPerIP) else {
            throw fail("p2p.max_connections_per_ip", "must be 1 … p2p.max_inbound_connections (\(p2p.maxInboundConnections))")
        }
        guard (1...10_000_000).contains(p2p.peerMessagesPerSecond) else { throw fail("p2p.peer_messages_per_second", "must be 1 … 10000000") }
        guard (p2p.peerMessagesPerSecond...100_000_000).contains(p2p.peerMessageBurst) else {
            throw fail("p2p.peer_message_burst", "must be p2p.peer_messages_per_second (\(p2p.peerMessagesPerSecond)) … 100000000")
        }
        guard (1...(16 << 30)).contains(p2p.peerBytesPerSecond) else { throw fail("p2p.peer_bytes_per_second", "must be 1 … 16 GiB") }
        guard (p2p.maxFrameBytes...(16 << 30)).contains(p2p.peerByteBurst) else {
            throw fail("p2p.peer_byte_burst", "must be p2p.max_frame_bytes (\(p2p.maxFrameBytes)) … 16 GiB: one largest frame must fit")
        }
        guard (0...86_400_000).contains(p2p.misbehavingPeerBanMilliseconds) else { throw fail("p2p.misbehaving_peer_ban_ms", "must be 0 … 86400000") }
        guard (2...1_000_000_000).contains(p2p.maxConsensusHeightsAhead) else { throw fail("p2p.max_consensus_heights_ahead", "must be 2 … 1000000000") }
        let timeouts: [(String, UInt64, ClosedRange<UInt64>)] = [
            ("consensus.timeout_propose_ms", consensus.timeoutProposeMilliseconds, 1...Self.maxTimeoutMilliseconds),
            ("consensus.timeout_propose_delta_ms", consensus.timeoutProposeDeltaMilliseconds, 0...Self.maxTimeoutMilliseconds),
            ("consensus.timeout_prevote_ms", consensus.timeoutPrevoteMilliseconds, 1...Self.maxTimeoutMilliseconds),
            ("consensus.timeout_prevote_delta_ms", consensus.timeoutPrevoteDeltaMilliseconds, 0...Self.maxTimeoutMilliseconds),
            ("consensus.timeout_precommit_ms", consensus.timeoutPrecommitMilliseconds, 1...Self.maxTimeoutMilliseconds),
            ("consensus.timeout_precommit_delta_ms", consensus.timeoutPrecommitDeltaMilliseconds, 0...Self.maxTimeoutMilliseconds),
            ("consensus.timeout_commit_ms", consensus.timeoutCommitMilliseconds, 0...Self.maxTimeoutMilliseconds),
        ]
        for (key, value, range) in timeouts where !range.contains(value) {
            throw fail(key, "\(value) is out of range \(range.lowerBound) … \(range.upperBound) (milliseconds)")
        }
        guard (1...20_000).contains(consensus.maxBlockTransactions) else { throw fail("consensus.max_block_transactions", "must be 1 … 20000") }
        guard (1024...Limits.maxBlockBytes).contains(consensus.maxBlockBytes) else {
            throw fail("consensus.max_block_bytes", "must be 1 KiB … \(Limits.maxBlockBytes >> 20) MiB: every node's decoder refuses a larger block")
        }
        // A proposal carries its whole block in one frame, and a stalled round's gossip sends a peer up to three
        // proposals at once, every gossip interval: limits that cannot carry that make peers with this same
        // configuration cut an honest proposer off (and ban it) exactly when a round is slow.
        let proposalFrame = consensus.maxBlockBytes + Self.proposalFrameOverhead
        let frameText = "consensus.max_block_bytes + \(Self.proposalFrameOverhead >> 10) KiB"
        let gossiped = ConsensusState.maxGossipedProposals
        guard p2p.maxFrameBytes >= proposalFrame else {
            throw fail("p2p.max_frame_bytes", "must be at least \(frameText) (\(proposalFrame)): a proposal carries its whole block in one frame")
        }
        let gossipBurst = gossiped * proposalFrame
        guard p2p.peerByteBurst >= gossipBurst else {
            throw fail("p2p.peer_byte_burst", "must be at least \(gossiped) × (\(frameText)) = \(gossipBurst): a stalled round's gossip sends a peer up to \(gossiped) proposals at once, and a peer with this limit would cut this node off")
        }
        let intervalMilliseconds = Int(ConsensusRunner.Settings.defaultTickMilliseconds) * ConsensusRunner.Settings.defaultGossipEveryTicks
        let gossipRate = (gossipBurst * 1000 + intervalMilliseconds - 1) / intervalMilliseconds
        guard p2p.peerBytesPerSecond >= gossipRate else {
            throw fail("p2p.peer_bytes_per_second", "must be at least \(gossipRate) (\(gossiped) proposals of \(frameText) every \(intervalMilliseconds) ms of a stalled round's gossip), or a peer with this limit would cut this node off")
        }
        guard (1...10_000_000).contains(mempool.maxTransactions) else { throw fail("mempool.max_transactions", "must be 1 … 10000000") }
        guard (1...(16 << 30)).contains(mempool.maxBytes) else { throw fail("mempool.max_bytes", "must be 1 … 16 GiB") }
        guard (1...10_000_000).contains(mempool.maxPerSigner) else { throw fail("mempool.max_per_signer", "must be 1 … 10000000") }
        guard (1...100).contains(mempool.admissionBlocks) else { throw fail("mempool.admission_blocks", "must be 1 … 100") }
        guard (1...10_000_000).contains(mempool.admissionSignerRun) else { throw fail("mempool.admission_signer_run", "must be 1 … 10000000") }
        guard (1...1_000_000_000).contains(state.proofHistoryHeights) else { throw fail("state.proof_history_heights", "must be 1 … 1000000000") }
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(node.logLevel) else {
            throw fail("node.log_level", "\"\(node.logLevel)\" is not one of trace, debug, info, notice, warning, error, critical")
        }
    }

    /// The TOML text of this configuration (what `trellis node init` writes).
    public func toml() -> String {
        let quoted = Self.tomlBasicString
        func list(_ items: [String]) -> String { "[" + items.map(quoted).joined(separator: ", ") + "]" }
        return """
        # Trellis node configuration. Every key is optional; the values below are this node's settings.

        [node]
        name = \(quoted(node.name))
        log_level = \(quoted(node.logLevel))

        [p2p]
        listen = \(quoted(p2p.listen))
        # Peers as "public_key_hex@host:port": extra peers, or another address for a validator of genesis.json.
        persistent_peers = \(list(p2p.persistentPeers))
        max_frame_bytes = \(p2p.maxFrameBytes)
        # Limits (docs/OPERATIONS.md, "Connection limits").
        handshake_timeout_ms = \(p2p.handshakeTimeoutMilliseconds)
        max_inbound_connections = \(p2p.maxInboundConnections)
        max_handshaking_connections = \(p2p.maxHandshakingConnections)
        max_connections_per_ip = \(p2p.maxConnectionsPerIP)
        peer_messages_per_second = \(p2p.peerMessagesPerSecond)
        peer_message_burst = \(p2p.peerMessageBurst)
        peer_bytes_per_second = \(p2p.peerBytesPerSecond)
        peer_byte_burst = \(p2p.peerByteBurst)
        misbehaving_peer_ban_ms = \(p2p.misbehavingPeerBanMilliseconds)
        max_consensus_heights_ahead = \(p2p.maxConsensusHeightsAhead)

        [api]
        listen = \(quoted(api.listen))
        max_body_bytes = \(api.maxBodyBytes)
        commit_wait_ms = \(api.commitWaitMilliseconds)
        header_timeout_ms = \(api.headerTimeoutMilliseconds)
        body_timeout_ms = \(api.bodyTimeoutMilliseconds)
        max_connections = \(api.maxConnections)
        # Who may read what (docs/ACCESS.md): "consortium" (signed requests, scopes per member and role) or "open".
        read_policy = \(quoted(api.readPolicy.rawValue))
        request_skew_s = \(api.requestSkewSeconds)
        max_request_nonces = \(api.maxRequestNonces)
        max_request_nonces_per_member = \(api.maxRequestNoncesPerMember)
        refusal_floor_ms = \(api.refusalFloorMilliseconds)
        # GET /metrics with "Authorization: Bearer <this file's token>" (mode 0600; relative to the home) reads as the operator.
        metrics_token_file = \(quoted(api.metricsTokenFile))

        [consensus]
        timeout_propose_ms = \(consensus.timeoutProposeMilliseconds)
        timeout_propose_delta_ms = \(consensus.timeoutProposeDeltaMilliseconds)
        timeout_prevote_ms = \(consensus.timeoutPrevoteMilliseconds)
        timeout_prevote_delta_ms = \(consensus.timeoutPrevoteDeltaMilliseconds)
        timeout_precommit_ms = \(consensus.timeoutPrecommitMilliseconds)
        timeout_precommit_delta_ms = \(consensus.timeoutPrecommitDeltaMilliseconds)
        timeout_commit_ms = \(consensus.timeoutCommitMilliseconds)
        create_empty_blocks = \(consensus.createEmptyBlocks)
        # Send pending evidence to peers: only once no node of the consortium runs a release before the one that
        # receives it (it would disconnect and ban this one: docs/OPERATIONS.md §12).
        evidence_gossip = \(consensus.evidenceGossip)
        max_block_transactions = \(consensus.maxBlockTransactions)
        max_block_bytes = \(consensus.maxBlockBytes)

        [mempool]
        max_transactions = \(mempool.maxTransactions)
        max_bytes = \(mempool.maxBytes)
        max_per_signer = \(mempool.maxPerSigner)
        # Admission control: clients get 429 + Retry-After while more than admission_blocks blocks' worth is
        # pending, or when their signer already has admission_signer_run pending (docs/OPERATIONS.md).
        admission_blocks = \(mempool.admissionBlocks)
        admission_signer_run = \(mempool.admissionSignerRun)

        [state]
        # State proofs are served for the last proof_history_heights heights; older tree nodes are pruned.
        # archive = true keeps every height (docs/OPERATIONS.md, "State history").
        proof_history_heights = \(state.proofHistoryHeights)
        archive = \(state.archive)

        [storage]
        # true: RocksDB's compactions at nice 19 — for validators sharing a host only; a node that keeps its cores
        # busy then starves them and its writes slow down (docs/OPERATIONS.md, "Memory").
        low_priority_compactions = \(storage.lowPriorityCompactions)

        """
    }
}

extension NodeConfig {
    /// `text` as a TOML basic string that `TOMLReader` reads back as exactly `text`: quotes, backslashes and
    /// control characters escaped (written raw, a name holding a quote gave a config.toml that `parse` refuses —
    /// found by the `config_toml` fuzz target, which checks that every accepted config survives `toml()`).
    static func tomlBasicString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// "host:port" split and checked.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        let host = String(text[..<colon])
        guard !host.isEmpty, !host.contains(" ") else { return nil }
        self.host = host
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}

/// Who may read what through the HTTP API (docs/ACCESS.md).
public enum ReadPolicy: String, Sendable, Codable, Equatable, CaseIterable {
    /// Requests are signed by member keys; each route answers only what the caller's scope allows (the default).
    case consortium
    /// Anyone who reaches the API reads everything (demos; the behaviour before access control).
    case open
}
