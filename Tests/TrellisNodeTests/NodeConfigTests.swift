// NodeConfigTests.swift — config.toml: defaults, round trip of what `node init` writes, strict errors.
import Foundation
import Testing
import TrellisCrypto
@testable import TrellisNode

@Suite struct NodeConfigTests {
    @Test func emptyFileMeansDefaults() throws {
        #expect(try NodeConfig.parse("") == NodeConfig())
    }

    @Test func partialSectionsKeepOtherDefaults() throws {
        let c = try NodeConfig.parse("""
        [api]
        listen = "0.0.0.0:9000"
        [consensus]
        timeout_commit_ms = 50
        """)
        #expect(c.api.listen == "0.0.0.0:9000")
        #expect(c.api.maxBodyBytes == NodeConfig().api.maxBodyBytes)
        #expect(c.consensus.timeoutCommitMilliseconds == 50)
        #expect(c.consensus.timeoutProposeMilliseconds == NodeConfig().consensus.timeoutProposeMilliseconds)
    }

    @Test func writtenTextRoundTrips() throws {
        var c = NodeConfig()
        c.node.name = "bank"
        c.p2p.listen = "10.0.0.2:26656"
        c.p2p.persistentPeers = ["ab@10.0.0.3:26656"]
        c.mempool.maxPerSigner = 7
        c.consensus.createEmptyBlocks = false
        c.consensus.evidenceGossip = true  // off by default: a writer that leaves it out turns it off (REVIEW-19-node-b BUG 1)
        c.api.maxRequestNoncesPerMember = 77
        c.api.refusalFloorMilliseconds = 0
        c.storage.lowPriorityCompactions = true
        #expect(try NodeConfig.parse(c.toml()) == c)
    }

    /// `[storage] low_priority_compactions`: off unless written, read when written (what the node opens its store with:
    /// StoreSpreadTests).
    @Test func lowPriorityCompactionsIsOffUnlessTheConfigSaysSo() throws {
        #expect(NodeConfig().storage.lowPriorityCompactions == false)
        #expect(try NodeConfig.parse("[storage]\nlow_priority_compactions = true").storage.lowPriorityCompactions)
        #expect(NodeConfig().toml().contains("[storage]\n") && NodeConfig().toml().contains("low_priority_compactions = false\n"))
        #expect(throws: NodeConfigError.self) { try NodeConfig.parse("[storage]\nlow_priority_compaction = true") }
        #expect(throws: NodeConfigError.self) { try NodeConfig.parse("[storage]\nlow_priority_compactions = 1") }
    }

    @Test func unknownKeysAreErrorsNamingThem() {
        #expect(throws: NodeConfigError.self) { try NodeConfig.parse("[api]\nlisten_addr = \"x:1\"") }
        do {
            _ = try NodeConfig.parse("[api]\nlisten_addr = \"x:1\"")
        } catch {
            #expect(error.reason.contains("listen_addr"))
        }
    }

    @Test(arguments: [
        ("[api]\nlisten = \"nohost\"", "api.listen"),
        ("[p2p]\nlisten = \"h:99999\"", "p2p.listen"),
        ("[consensus]\nmax_block_transactions = 0", "max_block_transactions"),
        ("[node]\nlog_level = \"loud\"", "log_level"),
        ("[api]\nmax_body_bytes = \"big\"", "max_body_bytes"),
        ("[api\nlisten = 1", "syntax"),
        ("[consensus]\ntimeout_propose_ms = -5", "consensus.timeout_propose_ms (line 2)"),
        ("[consensus]\n\ntimeout_commit_ms = 9223372036854775807", "consensus.timeout_commit_ms (line 3)"),
        ("[consensus]\ntimeout_propose_ms = 0", "consensus.timeout_propose_ms (line 2)"),
        ("[mempool]\nmax_transactions = -1", "mempool.max_transactions (line 2)"),
        ("[api]\ncommit_wait_ms = 99999999999", "api.commit_wait_ms (line 2)"),
        ("[p2p]\npersistent_peers = \"x\"", "p2p.persistent_peers (line 2): expected an array"),
        ("[p2p]\npersistent_peers = [1]", "p2p.persistent_peers[0] (line 2): expected a string"),
        ("[consensus]\ncreate_empty_blocks = 1", "expected true or false"),
        ("p2p = 1", "p2p (line 1): expected a table"),
        ("[consensus]\ntimeout_propose_ms = 1.5", "line 2"),
        ("[mempol]\nmax_transactions = 1", "unknown table [mempol]"),
        ("\n[api]\nlisten_addr = \"x:1\"", "api.listen_addr (line 3)"),
        ("[api]\nmax_request_nonces = 10\nmax_request_nonces_per_member = 11", "api.max_request_nonces_per_member (line 3): must be 1 … api.max_request_nonces (10)"),
        ("[api]\nmax_request_nonces_per_member = 0", "api.max_request_nonces_per_member"),
        ("[api]\nrefusal_floor_ms = 10001", "api.refusal_floor_ms (line 2)"),
        ("[api]\nrefusal_floor_ms = -1", "api.refusal_floor_ms"),
        ("[api]\nmetrics_token_file = \" metrics.token\"", "api.metrics_token_file (line 2)"),
        ("[api]\nmetrics_token_file = 1", "api.metrics_token_file (line 2)"),
    ])
    func badValuesAreRefused(text: String, mention: String) {
        do {
            _ = try NodeConfig.parse(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.reason.contains(mention) || error.description.contains(mention), "\(error)")
        }
    }

    /// A proposal carries its whole block in one frame and a stalled round's gossip sends a peer up to three proposals
    /// every two seconds: a block size the frame or the peer byte limits cannot carry would make peers with the same
    /// configuration cut an honest proposer off. Each such configuration is refused naming the key; the defaults and
    /// the largest block the defaults' limits carry are accepted.
    @Test func blockSizeMustFitTheFrameAndThePeerByteLimits() throws {
        let refused: [(String, String)] = [
            ("[consensus]\nmax_block_bytes = 67108865", "consensus.max_block_bytes (line 2)"),        // over the decoder's 64 MiB
            ("[p2p]\nmax_frame_bytes = 8388608", "p2p.max_frame_bytes (line 2)"),                    // 8 MiB < 16 MiB + 64 KiB
            ("[p2p]\npeer_byte_burst = 50000000\nmax_frame_bytes = 20000000", "p2p.peer_byte_burst (line 2)"),
            ("[p2p]\npeer_bytes_per_second = 25000000", "p2p.peer_bytes_per_second (line 2)"),
            ("[consensus]\nmax_block_bytes = 33554432", "p2p.peer_byte_burst"),                     // 3 × 32 MiB > 96 MiB
        ]
        for (text, mention) in refused {
            do {
                _ = try NodeConfig.parse(text)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.reason.contains(mention), "\(error)")
            }
        }
        let defaults = try NodeConfig.parse("")
        let frame = defaults.consensus.maxBlockBytes + NodeConfig.proposalFrameOverhead
        #expect(defaults.p2p.maxFrameBytes >= frame && defaults.p2p.peerByteBurst >= 3 * frame)
        // The largest block the default byte burst carries three of.
        let largest = defaults.p2p.peerByteBurst / 3 - NodeConfig.proposalFrameOverhead
        let wide = try NodeConfig.parse("[consensus]\nmax_block_bytes = \(largest)\n[p2p]\npeer_bytes_per_second = 100663296")
        #expect(wide.consensus.maxBlockBytes == largest)
        #expect(throws: NodeConfigError.self) {
            try NodeConfig.parse("[consensus]\nmax_block_bytes = \(largest + 1)\n[p2p]\npeer_bytes_per_second = 100663296")
        }
    }

    @Test func anExistingOpenHomeDirectoryIsNarrowedTo0700() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-home-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try NodeHome(path: dir).initialize(config: NodeConfig())
        let homeMode = (try FileManager.default.attributesOfItem(atPath: dir)[.posixPermissions] as? NSNumber)?.intValue
        #expect(homeMode == 0o700)
    }

    @Test func homeInitialisationWritesKeyAndConfigOnce() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-home-\(UUID().uuidString)").path
        let home = NodeHome(path: dir)
        let key = try home.initialize(config: NodeConfig())
        #expect(try home.loadKey().publicKey == key)
        #expect(try home.loadConfig() == NodeConfig())
        let mode = (try FileManager.default.attributesOfItem(atPath: home.keyPath)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        let homeMode = (try FileManager.default.attributesOfItem(atPath: dir)[.posixPermissions] as? NSNumber)?.intValue
        #expect(homeMode == 0o700)
        #expect(throws: NodeHome.HomeError.self) { try home.initialize(config: NodeConfig()) }
        #expect(try home.loadKey().publicKey == key, "a second init must not replace the key")
    }

    /// `[api] metrics_token_file`: `initialize` writes a 0600 token when the config names one, the node reads it
    /// back, and a token file readable by others, missing or too short is refused with a message naming the key.
    @Test func theMetricsTokenFileIsWrittenPrivateAndCheckedOnLoad() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-home-\(UUID().uuidString)").path
        let home = NodeHome(path: dir)
        var config = NodeConfig()
        #expect(try home.loadMetricsToken(config) == nil, "no token file configured: no token")
        config.api.metricsTokenFile = "metrics.token"
        try home.initialize(config: config)
        #expect(try home.loadConfig().api.metricsTokenFile == "metrics.token")
        let path = try #require(home.metricsTokenPath(config))
        #expect(path == dir + "/metrics.token")
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        let token = try #require(try home.loadMetricsToken(config))
        #expect(token.count == 64 && token.allSatisfy(\.isHexDigit))
        chmod(path, 0o644)
        #expect { try home.loadMetricsToken(config) } throws: { "\($0)".contains("api.metrics_token_file") && "\($0)".contains("chmod 600") }
        try "short\n".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o600)
        #expect { try home.loadMetricsToken(config) } throws: { "\($0)".contains("16") }
        try FileManager.default.removeItem(atPath: path)
        #expect { try home.loadMetricsToken(config) } throws: { "\($0)".contains("does not exist") }
        config.api.metricsTokenFile = dir + "/own.token"
        try TokenFile.write("  my-own-token-0123456789  ", to: dir + "/own.token")
        #expect(try home.loadMetricsToken(config) == "my-own-token-0123456789", "an absolute path, surrounding spaces trimmed")
    }
}
