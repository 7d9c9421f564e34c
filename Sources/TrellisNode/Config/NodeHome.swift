// NodeHome.swift — the layout of a node's home directory.
//
//   <home>/config.toml   settings (NodeConfig)
//   <home>/node.key      the node's Ed25519 key (mode 0600; signs votes, proposals and the p2p handshake)
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

    /// Creates the directory, a new node key (refusing to replace an existing one) and `config.toml`.
    /// Returns the node's public key.
    @discardableResult
    public func initialize(config: NodeConfig, key: SigningKey = .generate()) throws(HomeError) -> PublicKey {
        let fm = FileManager.default
        try Self.createPrivateDirectory(path)
        if fm.fileExists(atPath: keyPath) {
            throw HomeError(message: "\(keyPath) already exists: this home is already initialised (use another --home)")
        }
        do { try KeyFile.write(key, to: keyPath) } catch { throw HomeError(message: error.description) }
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
