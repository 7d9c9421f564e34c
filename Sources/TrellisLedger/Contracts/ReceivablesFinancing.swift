// ReceivablesFinancing.swift — financing of certificate pieces: request, approve, cancel, and closing a pledge.
//
// A3: a piece carries at most one open financing (`financingID`), set on request and cleared only by cancel,
// release, repay or settlement; while it is set the piece cannot move or be financed again.
import TrellisCodec

extension ReceivablesContract {
    func requestFinancing(_ p: FinancingRequestPayload, _ context: ExecutionContext, _ store: ReceivablesStore) throws -> [String] {
        let previous = try store.certificate(p.certID)
        guard previous.holder == context.signer.memberID else {
            throw TxRejection("not_holder", "certificate \(p.certID) is held by \(previous.holder), not \(context.signer.memberID)")
        }
        if let open = previous.financingID {
            throw TxRejection("already_financed", "certificate \(p.certID) already has open financing \(open)")
        }
        try Self.requireMovable(previous)
        try Self.requireBeforeMaturity(previous, context)
        guard p.advance <= previous.face else {
            throw TxRejection("advance_exceeds_face", "advance \(p.advance) exceeds the face \(previous.face) of \(p.certID)")
        }
        guard p.financier != context.signer.memberID else {
            throw TxRejection("self_financing", "a holder cannot finance its own certificate")
        }
        _ = try AssetMembers.active(p.financier, in: store.state, roles: [.financier], field: "financier")
        let finID = context.derivedID("fin", index: 0)
        guard try store.state.get(ReceivablesKeys.financing(finID)) == nil else {
            throw TxRejection("duplicate_id", "financing id \(finID) already exists")
        }
        store.save(Financing(finID: finID, certID: p.certID, financier: p.financier, applicant: context.signer.memberID, advance: p.advance, rateBps: p.rateBps, kind: p.kind, recourse: p.recourse, status: .requested, requestedAt: context.blockTime))
        var cert = previous
        cert.financingID = finID
        try cert.record("financing.request", context)
        store.save(cert, previous: previous)
        return [finID]
    }

    func approveFinancing(_ p: FinancingRefPayload, _ context: ExecutionContext, _ store: ReceivablesStore) throws -> [String] {
        var fin = try store.financing(p.finID)
        guard fin.financier == context.signer.memberID else {
            throw TxRejection("not_financier", "financing \(p.finID) names financier \(fin.financier)")
        }
        guard fin.status == .requested else {
            throw TxRejection("financing_not_requested", "financing \(p.finID) is \(fin.status.rawValue)")
        }
        let previous = try store.certificate(fin.certID)
        if previous.status == .frozen { throw TxRejection("asset_frozen", "certificate \(fin.certID) is frozen by a regulator") }
        guard previous.status == .active, previous.financingID == fin.finID, previous.holder == fin.applicant else {
            throw TxRejection("certificate_not_active", "certificate \(fin.certID) is \(previous.status.rawValue) and cannot be financed")
        }
        try Self.requireBeforeMaturity(previous, context)
        var cert = previous
        switch fin.kind {
        case .factoring:
            cert.holder = fin.financier
            cert.status = .financed
        case .pledge:
            cert.status = .pledged
        }
        try cert.record("financing.approve", context)
        store.save(cert, previous: previous)
        fin.status = .active
        fin.approvedAt = context.blockTime
        store.save(fin)
        return [fin.finID]
    }

    func cancelFinancing(_ p: FinancingRefPayload, _ context: ExecutionContext, _ store: ReceivablesStore) throws -> [String] {
        var fin = try store.financing(p.finID)
        let signer = context.signer.memberID
        guard signer == fin.applicant || signer == fin.financier else {
            throw TxRejection("not_party", "only applicant \(fin.applicant) or financier \(fin.financier) may cancel \(p.finID)")
        }
        guard fin.status == .requested else {
            throw TxRejection("financing_not_requested", "financing \(p.finID) is \(fin.status.rawValue); only a requested financing can be cancelled")
        }
        let previous = try store.certificate(fin.certID)
        var cert = previous
        cert.financingID = nil
        try cert.record("financing.cancel", context)
        store.save(cert, previous: previous)
        fin.status = .cancelled
        fin.closedAt = context.blockTime
        store.save(fin)
        return [fin.finID]
    }

    /// `financing.release` / `financing.repay`: the financier ends an active pledge; the piece becomes active.
    func closePledge(_ p: FinancingRefPayload, to outcome: FinancingStatus, _ context: ExecutionContext, _ store: ReceivablesStore) throws -> [String] {
        var fin = try store.financing(p.finID)
        guard fin.financier == context.signer.memberID else {
            throw TxRejection("not_financier", "financing \(p.finID) names financier \(fin.financier)")
        }
        guard fin.status == .active else {
            throw TxRejection("financing_not_active", "financing \(p.finID) is \(fin.status.rawValue)")
        }
        guard fin.kind == .pledge else {
            throw TxRejection("not_pledge", "financing \(p.finID) is factoring; the financier holds the certificate until settlement")
        }
        let previous = try store.certificate(fin.certID)
        if previous.status == .frozen { throw TxRejection("asset_frozen", "certificate \(fin.certID) is frozen by a regulator") }
        guard previous.status == .pledged else {
            throw TxRejection("certificate_not_pledged", "certificate \(fin.certID) is \(previous.status.rawValue)")
        }
        var cert = previous
        cert.status = .active
        cert.financingID = nil
        try cert.record(outcome == .released ? "financing.release" : "financing.repay", context)
        store.save(cert, previous: previous)
        fin.status = outcome
        fin.closedAt = context.blockTime
        store.save(fin)
        return [fin.finID]
    }
}
