// PeerList.swift — whom a node dials: every other validator of genesis at its genesis p2p address, where
// `p2p.persistent_peers` in config.toml may give another address for the same key (a private network, a moved
// host) or add peers that are not validators. One entry per key; the node's own key is never dialled.
import TrellisCrypto
import TrellisLedger

public enum PeerList {
    /// The peers to dial, validators in genesis order first, then extra persistent peers in config order.
    public static func resolve(genesis: GenesisDocument, persistentPeers: [String], ownKey: PublicKey) throws(NodeStartError) -> [PeerAddress] {
        var peers: [PeerAddress] = genesis.validators.compactMap { v in
            v.validator.publicKey == ownKey ? nil : PeerAddress(key: v.validator.publicKey, address: v.validator.p2pAddress)
        }
        for entry in persistentPeers {
            let parts = entry.split(separator: "@", maxSplits: 1).map(String.init)
            guard parts.count == 2, let key = try? PublicKey(hex: parts[0]), let address = PeerAddress(key: key, address: parts[1]) else {
                throw NodeStartError("p2p.persistent_peers entry \"\(entry)\" is not public_key_hex@host:port")
            }
            guard key != ownKey else { continue }
            if let i = peers.firstIndex(where: { $0.key == key }) {
                peers[i] = address
            } else {
                peers.append(address)
            }
        }
        return peers
    }
}
