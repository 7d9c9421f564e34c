// ReceivablesContract.swift — supply-chain finance (DOMAIN.md §A): credit lines, payable certificates, financing,
// settlement, and regulator freezes (of certificates and green credit blocks).
//
// Guarantees, for every accepted transaction (A1–A4): a root's live pieces always sum to its face; children keep
// the root's maturity, debtor and trade reference and link to their parent; a piece has at most one open financing
// and never moves while financed, pledged, pending a financing, frozen or pending acceptance; consumed, settled,
// rejected and overdue pieces never move again. Rejections carry stable snake_case codes (docs/TRANSACTIONS.md).
// The executor has already checked envelope, signatures, nonce, that the signer is active and holds a role listed
// in the kind's spec, and that listed co-signers signed and are active.
import TrellisCodec

/// The receivables contract: see the kinds below and docs/TRANSACTIONS.md.
public struct ReceivablesContract: Contract {
    public init() {}

    public var name: String { "receivables" }

    /// Roles that may hold (and so accept, split and finance) certificate pieces.
    static let holderRoles: [Role] = [.supplier, .financier]

    public var kinds: [KindSpec] {
        [
            KindSpec("credit_line.set", payload: CreditLineSetPayload.self, signerRoles: [.financier], cosigners: "the core enterprise named in the payload", summary: "Create or update a credit line capping a core enterprise's outstanding certificates."),
            KindSpec("certificate.issue", payload: CertificateIssuePayload.self, signerRoles: [.coreEnterprise], summary: "Issue a payable certificate to a supplier against a credit line (pending acceptance)."),
            KindSpec("certificate.accept", payload: CertificateRefPayload.self, signerRoles: Self.holderRoles, summary: "The intended recipient accepts a pending certificate piece within the accept window."),
            KindSpec("certificate.reject", payload: CertificateRejectPayload.self, signerRoles: Self.holderRoles, summary: "The intended recipient refuses a pending piece; its value returns to the sender."),
            KindSpec("certificate.reclaim", payload: CertificateRefPayload.self, signerRoles: [.coreEnterprise, .supplier, .financier], summary: "After the accept window, the sender takes back a piece never accepted."),
            KindSpec("certificate.split_transfer", payload: CertificateSplitTransferPayload.self, signerRoles: Self.holderRoles, summary: "Consume a piece and create children whose faces sum exactly to it."),
            KindSpec("financing.request", payload: FinancingRequestPayload.self, signerRoles: Self.holderRoles, summary: "The holder asks a financier to factor or pledge-finance a piece."),
            KindSpec("financing.approve", payload: FinancingRefPayload.self, signerRoles: [.financier], summary: "The named financier approves a requested financing."),
            KindSpec("financing.cancel", payload: FinancingRefPayload.self, signerRoles: Self.holderRoles, summary: "The applicant withdraws, or the financier declines, a financing not yet approved."),
            KindSpec("financing.release", payload: FinancingRefPayload.self, signerRoles: [.financier], summary: "The financier releases a pledge; the piece becomes active."),
            KindSpec("financing.repay", payload: FinancingRefPayload.self, signerRoles: [.financier], summary: "The financier confirms a pledge loan repaid; the piece becomes active."),
            KindSpec("certificate.settle", payload: RootRefPayload.self, signerRoles: [.clearingAgent, .coreEnterprise], summary: "At or after maturity, pay every live piece of a root; release the credit line."),
            KindSpec("certificate.mark_overdue", payload: RootRefPayload.self, signerRoles: [], summary: "After maturity plus grace, mark an unsettled root and its live pieces overdue."),
            KindSpec("asset.freeze", payload: AssetFreezePayload.self, signerRoles: [.regulator], summary: "A regulator freezes a certificate piece or a credit block."),
            KindSpec("asset.unfreeze", payload: AssetFreezePayload.self, signerRoles: [.regulator], summary: "A regulator lifts a freeze."),
        ]
    }

    public func apply(kind: String, payload: any TransactionPayload, context: ExecutionContext, state: StateOverlay) throws -> [String] {
        let store = ReceivablesStore(state: state)
        switch kind {
        case "credit_line.set": return try setCreditLine(AssetState.payload(payload, CreditLineSetPayload.self, kind: kind), context, store)
        case "certificate.issue": return try issue(AssetState.payload(payload, CertificateIssuePayload.self, kind: kind), context, store)
        case "certificate.accept": return try accept(AssetState.payload(payload, CertificateRefPayload.self, kind: kind), context, store)
        case "certificate.reject":
            let p = try AssetState.payload(payload, CertificateRejectPayload.self, kind: kind)
            return try reject(certID: p.certID, context, store)
        case "certificate.reclaim": return try reclaim(AssetState.payload(payload, CertificateRefPayload.self, kind: kind), context, store)
        case "certificate.split_transfer": return try splitTransfer(AssetState.payload(payload, CertificateSplitTransferPayload.self, kind: kind), context, store)
        case "financing.request": return try requestFinancing(AssetState.payload(payload, FinancingRequestPayload.self, kind: kind), context, store)
        case "financing.approve": return try approveFinancing(AssetState.payload(payload, FinancingRefPayload.self, kind: kind), context, store)
        case "financing.cancel": return try cancelFinancing(AssetState.payload(payload, FinancingRefPayload.self, kind: kind), context, store)
        case "financing.release": return try closePledge(AssetState.payload(payload, FinancingRefPayload.self, kind: kind), to: .released, context, store)
        case "financing.repay": return try closePledge(AssetState.payload(payload, FinancingRefPayload.self, kind: kind), to: .repaid, context, store)
        case "certificate.settle": return try settle(AssetState.payload(payload, RootRefPayload.self, kind: kind), context, store)
        case "certificate.mark_overdue": return try markOverdue(AssetState.payload(payload, RootRefPayload.self, kind: kind), context, store)
        case "asset.freeze": return try freeze(AssetState.payload(payload, AssetFreezePayload.self, kind: kind), context, state)
        case "asset.unfreeze": return try unfreeze(AssetState.payload(payload, AssetFreezePayload.self, kind: kind), context, state)
        default: throw TxRejection("unknown_kind", "the receivables contract does not own kind \(kind)")
        }
    }

    /// Rejects unless `cert` is active and free to move or be financed (A3, A4), with the specific reason.
    static func requireMovable(_ cert: Certificate) throws(TxRejection) {
        switch cert.status {
        case .active:
            if let fin = cert.financingID {
                throw TxRejection("financing_open", "certificate \(cert.certID) has open financing \(fin) and cannot move")
            }
        case .financed, .pledged:
            throw TxRejection("certificate_financed", "certificate \(cert.certID) is \(cert.status.rawValue) and cannot move")
        case .frozen:
            throw TxRejection("asset_frozen", "certificate \(cert.certID) is frozen by a regulator")
        case .pendingAccept:
            throw TxRejection("certificate_pending", "certificate \(cert.certID) awaits acceptance by \(cert.pendingTo ?? "?")")
        case .consumed, .settled, .overdue, .rejected:
            throw TxRejection("certificate_not_active", "certificate \(cert.certID) is \(cert.status.rawValue)")
        }
    }

    static func requireBeforeMaturity(_ cert: Certificate, _ context: ExecutionContext) throws(TxRejection) {
        guard context.blockTime < cert.maturity else {
            throw TxRejection("after_maturity", "certificate \(cert.certID) matured at \(cert.maturity); block time is \(context.blockTime)")
        }
    }
}
