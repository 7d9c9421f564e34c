// LedgerKeys.swift — the state keys owned by the ledger core, Membership and Governance (docs/LEDGER.md lists
// every prefix and its value type). Heights inside keys are 20-digit zero-padded decimals so that byte order is
// numeric order.
import TrellisCrypto

public enum LedgerKeys {
    /// `member/<id>` → `Member`.
    public static func member(_ id: String) -> [UInt8] { StateKey.make("member", id) }
    public static let memberPrefix = StateKey.prefix("member")
    /// `member_key/<public key hex>` → member id (UTF-8 string, canonical): one key belongs to one member.
    public static func memberKey(_ key: PublicKey) -> [UInt8] {
        var out = memberKeyPrefix  // the bytes of StateKey.make("member_key", key.hex), built without strings
        Hex.append(key.bytes, to: &out)
        return out
    }
    static let memberKeyPrefix = StateKey.prefix("member_key")
    /// `nonce/<member id>` → UInt64, the member's last accepted nonce (absent = 0).
    public static func nonce(_ id: String) -> [UInt8] { StateKey.make("nonce", id) }
    /// `params` → `Parameters`.
    public static var parameters: [UInt8] { Parameters.stateKey }
    /// `validators/<effective height>` → `ValidatorSet` in force from that height on.
    public static func validatorSet(effectiveFrom height: UInt64) -> [UInt8] { StateKey.make("validators", padded(height)) }
    public static let validatorSetPrefix = StateKey.prefix("validators")
    /// `evidence/<validator key hex>/<height>` → `Hash` (SHA-256 of the canonical `DuplicateVoteEvidence`): the
    /// validator equivocated at that height; recorded once, by the block that carried the evidence.
    public static func evidence(validator: PublicKey, height: UInt64) -> [UInt8] { StateKey.make("evidence", validator.hex, padded(height)) }
    /// `chain/genesis` → `Hash`, the genesis document hash.
    public static let genesisHash = StateKey.make("chain", "genesis")
    /// `governance/proposal/<id>` → `Proposal`.
    public static func proposal(_ id: String) -> [UInt8] { StateKey.make("governance", "proposal", id) }
    public static let proposalPrefix = StateKey.prefix("governance", "proposal")
    /// `governance/credit_cancel/<credit block id>` → `CreditCancellationApproval`: governance's consent that the
    /// registry operator may cancel that credit block (`credits.cancel`, DOMAIN.md §B.7). The GreenAssets contract
    /// reads it and deletes it when the cancellation is applied.
    public static func creditCancellationApproval(_ blockID: String) -> [UInt8] { StateKey.make("governance", "credit_cancel", blockID) }

    /// `observer/<node public key hex>` → name (UTF-8 string, canonical): a non-validator node governance lets sync
    /// blocks and follow consensus over P2P (`observer.add` / `observer.remove`; docs/ACCESS.md).
    public static func observer(_ key: PublicKey) -> [UInt8] { StateKey.make("observer", key.hex) }
    public static let observerPrefix = StateKey.prefix("observer")

    /// A height as 20 zero-padded decimal digits.
    public static func padded(_ height: UInt64) -> String {
        let digits = String(height)
        return String(repeating: "0", count: 20 - digits.count) + digits
    }
}
