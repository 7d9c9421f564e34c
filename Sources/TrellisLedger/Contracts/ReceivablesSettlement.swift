// ReceivablesSettlement.swift — settlement at maturity and marking overdue.
//
// Settlement pays every live piece of a root to its holder (a piece still pending acceptance pays its sender), in
// live-leaf key order; the payouts sum to the root's face (A1) or execution stops on a corrupt state; the credit
// line is released by the root's face. Only an approved (active) financing takes part in a payout: it ends
// `settled` and its financier is named. A financing still `requested` at settlement ends `cancelled` and names no
// one — the bank never advanced money against the piece.
//
// Rules version 2 (`RuleVersions`): one settle pays at most `AssetLimits.settlementPageSize` unpaid live pieces, in
// key order. A root with more stays `open` (or `overdue`) with the payouts made so far; each later settle pays the
// next page, and the one that pays the last piece checks that all payouts sum to the face, releases the credit
// line and marks the root `settled`. Under version 1 every live piece is paid at once (a root with more live
// pieces than a receipt may list created ids, 256, can never be settled: the defect version 2 fixes).
//
// Rules version 3: `certificate.mark_overdue` is for those `certificate.settle` is for (a clearing agent, or the
// root's debtor): others get `not_debtor` before any check of the root's state, and never its live pieces' ids.
import TrellisCodec

extension ReceivablesContract {
    func settle(_ p: RootRefPayload, _ context: ExecutionContext, _ store: ReceivablesStore) throws -> [String] {
        var root = try store.root(p.rootID)
        let signer = context.signer
        guard signer.has(.clearingAgent) || signer.memberID == root.debtor else {
            throw TxRejection("not_debtor", "only a clearing agent or the debtor \(root.debtor) may settle \(p.rootID)")
        }
        switch root.status {
        case .open, .overdue: break
        case .settled: throw TxRejection("already_settled", "root \(p.rootID) was settled at \(root.settledAt ?? 0)")
        case .rejected: throw TxRejection("certificate_not_active", "root \(p.rootID) was rejected by its first holder")
        }
        guard context.blockTime >= root.maturity else {
            throw TxRejection("before_maturity", "root \(p.rootID) matures at \(root.maturity); block time is \(context.blockTime)")
        }
        // Pieces a previous page paid are settled already (only under version 2 can an unsettled root have any).
        let unpaid = try store.liveLeaves(of: p.rootID).filter { $0.status != .settled }
        if let frozen = unpaid.first(where: { $0.status == .frozen }) {
            throw TxRejection("asset_frozen", "piece \(frozen.certID) of root \(p.rootID) is frozen; settlement waits for unfreeze")
        }
        let page = context.rulesVersion >= 2 ? Array(unpaid.prefix(AssetLimits.settlementPageSize)) : unpaid
        var payouts: [Payout] = []
        for previous in page {
            var financier: String? = nil
            if let finID = previous.financingID {
                var fin = try store.financing(finID)
                switch fin.status {
                case .active:
                    // Approved: the factor holds the piece (and is paid as holder), or the pledgee is named beside
                    // the holder so the clearing agent routes the money to it.
                    financier = fin.financier
                    fin.status = .settled
                case .requested:
                    // Never approved: the bank advanced nothing and has no claim; the request lapses at maturity.
                    fin.status = .cancelled
                case .cancelled, .released, .repaid, .settled:
                    throw StateError.corruptValue(key: StateKey.describe(ReceivablesKeys.financing(finID)), reason: "piece \(previous.certID) links financing \(finID), which is \(fin.status.rawValue), not open")
                }
                fin.closedAt = context.blockTime
                store.save(fin)
            }
            payouts.append(Payout(certID: previous.certID, to: previous.holder, amount: previous.face, financier: financier))
            var cert = previous
            cert.status = .settled
            cert.pendingTo = nil
            cert.pendingSince = nil
            cert.financingID = nil
            try cert.record("certificate.settle", context)
            store.save(cert, previous: previous)
        }
        if page.count < unpaid.count {
            // Version 2, more pages to come: the root stays open/overdue with the payouts made so far.
            root.payouts += payouts
            store.save(root)
            return payouts.map(\.certID)
        }
        let paid = try AssetCheck.sum((root.payouts + payouts).map(\.amount), "settlement payouts")
        guard paid == root.face else {
            throw StateError.corruptValue(key: StateKey.describe(ReceivablesKeys.root(p.rootID)), reason: "live pieces sum to \(paid), face is \(root.face)")
        }
        var line = try store.creditLine(root.creditLineID)
        guard line.used >= root.face else {
            throw StateError.corruptValue(key: StateKey.describe(ReceivablesKeys.creditLine(line.lineID)), reason: "used \(line.used) is below the face \(root.face) of root \(root.rootID)")
        }
        line.used -= root.face
        store.save(line)
        root.status = .settled
        root.settledAt = context.blockTime
        root.payouts += payouts
        store.save(root)
        return payouts.map(\.certID)
    }

    func markOverdue(_ p: RootRefPayload, _ context: ExecutionContext, _ store: ReceivablesStore) throws -> [String] {
        var root = try store.root(p.rootID)
        // Rules version 3: only those who may settle the root (a clearing agent or its debtor) may mark it overdue,
        // checked before anything about its state; versions 1 and 2 let any member do it.
        if context.rulesVersion >= 3, !(context.signer.has(.clearingAgent) || context.signer.memberID == root.debtor) {
            throw TxRejection("not_debtor", "only a clearing agent or the root's debtor may mark \(p.rootID) overdue")
        }
        switch root.status {
        case .open: break
        case .settled: throw TxRejection("already_settled", "root \(p.rootID) was settled at \(root.settledAt ?? 0)")
        case .overdue: throw TxRejection("already_overdue", "root \(p.rootID) is already overdue")
        case .rejected: throw TxRejection("certificate_not_active", "root \(p.rootID) was rejected by its first holder")
        }
        let due = try AssetCheck.addTime(root.maturity, context.parameters.gracePeriodSeconds, "maturity + grace")
        guard context.blockTime >= due else {
            throw TxRejection("not_overdue_yet", "root \(p.rootID) becomes overdue at \(due) (maturity + grace); block time is \(context.blockTime)")
        }
        var marked: [String] = []
        // Pieces a settlement page already paid (rules version 2) stay settled.
        for previous in try store.liveLeaves(of: p.rootID) where previous.status != .settled {
            var cert = previous
            if cert.status == .frozen {
                cert.frozenFrom = .overdue
            } else {
                cert.status = .overdue
            }
            cert.pendingTo = nil
            cert.pendingSince = nil
            try cert.record("certificate.mark_overdue", context)
            store.save(cert, previous: previous)
            marked.append(cert.certID)
        }
        root.status = .overdue
        store.save(root)
        return marked
    }
}
