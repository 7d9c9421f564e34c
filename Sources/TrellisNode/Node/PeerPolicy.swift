// PeerPolicy.swift — which peers a node accepts and which it keeps dialing, following the validator set on chain.
//
// Allowed: the validators in force at the next two heights (a governance change executed in block h schedules the
// set for h+2, so a validator being added is accepted as soon as the change commits, and one being removed stays
// until its removal takes effect), the keys named in `p2p.persistent_peers`, and the observers governance registered
// (`observer/<key>` in the committed state, read by `Node.allowsPeer`; other member keys are refused: blocks and
// consensus traffic are not a side door around the API's read scopes). Dialed: those validators (at their on-chain
// p2p address) and the persistent peers. The node recomputes this after every commit, so membership and observer
// changes need no restart.
import TrellisCrypto
import TrellisLedger

struct PeerPolicy: Sendable, Equatable {
    /// Public key hex → "host:port", in key order: the validators of the next two heights.
    private(set) var validators: [PublicKey: String] = [:]
    /// From config.toml; always allowed and dialed.
    let persistentPeers: [PeerAddress]

    init(persistentPeers: [PeerAddress]) {
        self.persistentPeers = persistentPeers
    }

    /// The policy after `sets` (the validator sets in force at the next heights).
    func following(_ sets: [ValidatorSet]) -> PeerPolicy {
        var next = PeerPolicy(persistentPeers: persistentPeers)
        for set in sets {
            for v in set.validators where next.validators[v.publicKey] == nil { next.validators[v.publicKey] = v.p2pAddress }
        }
        return next
    }

    /// True when `key` may connect without looking at member keys in state.
    func allowsWithoutState(_ key: PublicKey) -> Bool {
        validators[key] != nil || persistentPeers.contains { $0.key == key }
    }

    /// Who to keep connected to: the validators with a parseable address, then the persistent peers (a persistent
    /// entry wins for a key that is both, since the operator wrote it).
    var dialTargets: [PeerAddress] {
        var byKey: [PublicKey: PeerAddress] = [:]
        for (key, address) in validators {
            if let peer = PeerAddress(key: key, address: address) { byKey[key] = peer }
        }
        for peer in persistentPeers { byKey[peer.key] = peer }
        return byKey.values.sorted { $0.key < $1.key }
    }
}
