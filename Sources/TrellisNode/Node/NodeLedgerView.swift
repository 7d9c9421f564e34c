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

    public func account(_ memberID: String) -> MempoolAccount? {
        guard Identifier.isValid(memberID),
              let member = try? reader.latest(Member.self, LedgerKeys.member(memberID)) else { return nil }
        let last = (try? reader.latest(UInt64.self, LedgerKeys.nonce(memberID))) ?? 0
        return MempoolAccount(member: member, nextNonce: last + 1)
    }

    /// True when `key` is listed now by an active member (a rotated-out or revoked key is not).
    public func isActiveMemberKey(_ key: PublicKey) -> Bool {
        guard let id = try? reader.latest(String.self, LedgerKeys.memberKey(key)),
              let member = try? reader.latest(Member.self, LedgerKeys.member(id)) else { return false }
        return member.status == .active && member.publicKeys.contains(key)
    }

    public func precheck(_ transaction: Transaction) throws(TxRejection) {
        guard let spec = registry.spec(for: transaction.body.kind) else {
            throw TxRejection("unknown_kind", "no contract owns the kind \"\(transaction.body.kind)\" (see `trellis tx kinds`)")
        }
        _ = try spec.decodePayload(transaction.body.payload)
    }
}
