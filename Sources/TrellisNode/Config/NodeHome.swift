// NodeHome.swift — the layout of a node's home directory.
//
//   <home>/config.toml   settings (NodeConfig)
//   <home>/node.key      the node's Ed25519 key (mode 0600; signs votes, proposals and the p2p handshake)
//   <home>/metrics.token the bearer token for GET /metrics (mode 0600; `[api] metrics_token_file`, docs/ACCESS.md)
//   <home>/genesis.json  the chain's genesis document (identical on every node)
//   <home>/data/         RocksDB (blocks, certificates, state, consensus signing state)
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TrellisCrypto

public struct NodeHome: Sendable {
    public let path: String

    public init(path: String) {
        self.path = (path as NSString).standardizingPath
    }

    public var configPath: String { path + "/config.toml" }
    public var keyPath: String { path + "/node.key" }
    public var genesisPath: String { path + "/genesis.json" }
    public var dataPath: String { path + "/data" }
    /// The signing guard (what this validator last signed), kept outside `data/` so a restored or lost data
    /// directory cannot roll it back.
    public var signingStatePath: String { path + "/signing_state" }

    /// Errors preparing a home.
    public struct HomeError: Error, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Where `[api] metrics_token_file` points (relative paths are inside the home); nil when it is empty.
    public func metricsTokenPath(_ config: NodeConfig) -> String? {
        let file = config.api.metricsTokenFile
        if file.isEmpty { return nil }
        return file.hasPrefix("/") ? file : path + "/" + file
    }

    /// The `/metrics` bearer token of `config` (nil when none is configured), its file checked like a key file.
    public func loadMetricsToken(_ config: NodeConfig) throws(HomeError) -> String? {
        guard let tokenPath = metricsTokenPath(config) else { return nil }
        do { return try TokenFile.read(from: tokenPath) } catch { throw HomeError(message: "api.metrics_token_file: \(error.description)") }
    }

    /// Creates the directory, a new node key (refusing to replace an existing one), the `/metrics` token when
    /// `config` names a token file that does not exist yet, and `config.toml`.
    /// Returns the node's public key.
    @discardableResult
    public func initialize(config: NodeConfig, key: SigningKey = .generate()) throws(HomeError) -> PublicKey {
        let fm = FileManager.default
        try Self.createPrivateDirectory(path)
        if fm.fileExists(atPath: keyPath) {
            throw HomeError(message: "\(keyPath) already exists: this home is already initialised (use another --home)")
        }
        do { try KeyFile.write(key, to: keyPath) } catch { throw HomeError(message: error.description) }
        if let tokenPath = metricsTokenPath(config), !fm.fileExists(atPath: tokenPath) {
            do { try TokenFile.write(TokenFile.generate(), to: tokenPath) } catch { throw HomeError(message: error.description) }
        }
        do { try config.toml().write(toFile: configPath, atomically: true, encoding: .utf8) } catch {
            throw HomeError(message: "cannot write \(configPath): \(error.localizedDescription)")
        }
        return key.publicKey
    }

    /// Creates `path` (and missing parents) and narrows it to mode 0700 — also when it already existed, since it
    /// is about to hold a private key: only the owner may list, read or enter it.
    public static func createPrivateDirectory(_ path: String) throws(HomeError) {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) } catch {
            throw HomeError(message: "cannot create \(path): \(error.localizedDescription)")
        }
        guard chmod(path, 0o700) == 0 else {
            throw HomeError(message: "cannot restrict \(path) to mode 0700: \(String(cString: strerror(errno)))")
        }
    }

    /// The node's signing key.
    public func loadKey() throws(KeyFileError) -> SigningKey { try KeyFile.read(from: keyPath) }

    /// The node's configuration (defaults when the file is absent).
    public func loadConfig() throws(NodeConfigError) -> NodeConfig {
        FileManager.default.fileExists(atPath: configPath) ? try NodeConfig.load(path: configPath) : NodeConfig()
    }
}
