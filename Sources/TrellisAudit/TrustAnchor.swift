// TrustAnchor.swift — the genesis an auditor trusts, pinned before an export or a home is read.
//
// A chain export carries its own genesis, so an export of another consortium's chain (even with the same chain id)
// verifies as a valid chain of *that* genesis. Pinning the genesis (`trellis audit verify --genesis FILE` or
// `--genesis-hash HEX`) makes any other genesis a failure before anything else is checked; without a pin, the
// verdict names the genesis hash it took from the file so the auditor can compare it with the published one.
import TrellisCrypto
import TrellisLedger

/// The genesis an auditor trusts.
public enum TrustAnchor: Sendable, Equatable {
    /// A genesis document the auditor holds (its hash is what is pinned).
    case genesis(GenesisDocument)
    /// A genesis hash published by the consortium.
    case genesisHash(Hash)

    /// The pinned genesis hash.
    public var hash: Hash {
        switch self {
        case .genesis(let document): return document.hash
        case .genesisHash(let hash): return hash
        }
    }

    /// Refuses a chain whose genesis hash is not the pinned one (exit 1), naming both hashes.
    func check(genesisHash: String, chainID: String, what: String) throws(AuditError) {
        guard genesisHash == hash.hex else {
            throw .verificationFailed(height: nil, message: "\(what) is of genesis \(genesisHash) (chain \(chainID)), not the trusted genesis \(hash.hex)")
        }
    }
}
