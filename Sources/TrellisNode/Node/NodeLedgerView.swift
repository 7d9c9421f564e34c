// NodeLedgerView.swift — the mempool's view of the committed ledger: members, nonces, kinds (thread-safe reads of
// the latest flat state: admission needs the newest values, never a proof).
import TrellisCodec
import TrellisCrypto
import TrellisLedger

public struct NodeLedgerView: MempoolLedgerView {
    public let chainID: String
    let reader: LedgerReader
    let registry: ContractRegistry

    public init(chainID: String, reader: LedgerReader, registry: ContractRegistry = .standard) {
        self.chainID = chainID
        self.reader = reader
        self.registry = registry
    }

    public var committedHeight: UInt64 { (try? reader.latestHeight()) ?? 0 }

    /// The committed `max_tx_lifetime_blocks` (the default when the parameters cannot be read: the executor
    /// applies the real value anyway).
    public var maxTxLifetimeBlocks: UInt64 {
        (try? reader.latest(Parameters.self, Parameters.stateKey))?.maxTxLifetimeBlocks ?? Parameters.default.maxTxLifetimeBlocks
    }

    public func account(_ memberID: String) -> MempoolAccount? {
        guard Identifier.isValid(memberID),
              let member = try? reader.latest(Member.self, LedgerKeys.member(memberID)) else { return nil }
        let last = (try? reader.latest(UInt64.self, LedgerKeys.nonce(memberID))) ?? 0
        // A signer whose last nonce is 2⁶⁴−1 can never transact again; saturating keeps admission from trapping
        // (the executor rejects the nonce, and the lifetime bound evicts the transaction).
        return MempoolAccount(member: member, nextNonce: last == .max ? .max : last + 1)
    }

    /// The nonce alone (one point read, no member record decoded): for signers the pool already admitted, whose
    /// member record exists (a member is never deleted, only suspended or revoked). Nil when the read
    /// fails, as `account` is.
    public func nextNonce(_ memberID: String) -> UInt64? {
        guard Identifier.isValid(memberID) else { return nil }
        let last: UInt64
        do { last = try reader.latest(UInt64.self, LedgerKeys.nonce(memberID)) ?? 0 } catch { return nil }
        return last == .max ? .max : last + 1
    }

    /// True when `key` is listed now by an active member (a rotated-out or revoked key is not).
    public func isActiveMemberKey(_ key: PublicKey) -> Bool {
        guard let id = try? reader.latest(String.self, LedgerKeys.memberKey(key)),
              let member = try? reader.latest(Member.self, LedgerKeys.member(id)) else { return false }
        return member.status == .active && member.publicKeys.contains(key)
    }

    /// True when governance registered `key` as an observer (`observer/<key>` in the latest state).
    public func isObserver(_ key: PublicKey) -> Bool {
        (try? reader.latest(String.self, LedgerKeys.observer(key))) != nil
    }

    public func precheck(_ transaction: Transaction) throws(TxRejection) {
        guard let spec = registry.spec(for: transaction.body.kind) else {
            throw TxRejection("unknown_kind", "no contract owns the kind \"\(transaction.body.kind)\" (see `trellis tx kinds`)")
        }
        _ = try spec.decodePayload(transaction.body.payload)
    }
}
