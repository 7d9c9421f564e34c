// PeerList.swift — `p2p.persistent_peers` entries ("public_key_hex@host:port") parsed strictly, and the peers a node
// would dial from a genesis and its config before any block (the running node follows the validator set on chain
// through `PeerPolicy`; this is the same rule applied to the genesis set). A persistent entry replaces the genesis
// address for the same key (a private network, a moved host) or adds a peer that is not a validator. One entry per
// key; the node's own key is never dialled.
import TrellisCrypto
import TrellisLedger

public enum PeerList {
    /// Parses `persistent_peers`; the first malformed entry is named in the error.
    public static func parse(_ entries: [String]) throws(NodeStartError) -> [PeerAddress] {
        var peers: [PeerAddress] = []
        for entry in entries {
            let parts = entry.split(separator: "@", maxSplits: 1).map(String.init)
            guard parts.count == 2, let key = try? PublicKey(hex: parts[0]), let address = PeerAddress(key: key, address: parts[1]) else {
                throw NodeStartError("p2p.persistent_peers entry \"\(entry)\" is not public_key_hex@host:port")
            }
            peers.append(address)
        }
        return peers
    }

    /// The peers to dial at genesis, sorted by key.
    public static func resolve(genesis: GenesisDocument, persistentPeers: [String], ownKey: PublicKey) throws(NodeStartError) -> [PeerAddress] {
        PeerPolicy(persistentPeers: try parse(persistentPeers)).following([genesis.validatorSet]).dialTargets.filter { $0.key != ownKey }
    }
}
