// ReceivablesCertificates.swift — credit lines and the certificate lifecycle up to settlement: issue, accept,
// reject, reclaim after the accept window, and split-transfer (spend-and-replace with derived child ids).
//
// Value conservation: issue adds a root whose face is charged to the credit line; a split replaces one live piece
// by children summing exactly to its face; reject/reclaim only change who holds a piece (or, for a root, release
// the credit line and end the root as rejected). Nothing here creates or destroys value otherwise.
import TrellisCodec

extension ReceivablesContract {
    func setCreditLine(_ p: CreditLineSetPayload, _ context: ExecutionContext, _ store: ReceivablesStore) throws -> [String] {
        _ = try AssetMembers.active(p.core, in: store.state, roles: [.coreEnterprise], field: "core")
        guard context.cosigned(by: p.core) else {
            throw TxRejection("missing_cosignature", "credit_line.set must be co-signed by the core enterprise \(p.core)")
        }
        guard p.expiry > context.blockTime else {
            throw TxRejection("invalid_expiry", "expiry \(p.expiry) is not after the block time \(context.blockTime)")
        }
        var line = CreditLine(lineID: p.lineID, financier: context.signer.memberID, core: p.core, limit: p.limit, used: 0, expiry: p.expiry)
        if let existing = try store.state.read(CreditLine.self, ReceivablesKeys.creditLine(p.lineID)) {
            guard existing.financier == context.signer.memberID else {
                throw TxRejection("not_line_financier", "credit line \(p.lineID) belongs to financier \(existing.financier)")
            }
            guard existing.core == p.core else {
                throw TxRejection("credit_line_core_mismatch", "credit line \(p.lineID) is for core \(existing.core), not \(p.core)")
            }
            line.used = existing.used
        }
        store.save(line)
        return [p.lineID]
    }

    func issue(_ p: CertificateIssuePayload, _ context: ExecutionContext, _ store: ReceivablesStore) throws -> [String] {
        let debtor = context.signer.memberID
        var line = try store.creditLine(p.creditLineID)
        guard line.core == debtor else {
            throw TxRejection("not_credit_line_core", "credit line \(line.lineID) is for core \(line.core), not \(debtor)")
        }
        guard context.blockTime < line.expiry else {
            throw TxRejection("credit_line_expired", "credit line \(line.lineID) expired at \(line.expiry)")
        }
        guard p.holder != debtor else { throw TxRejection("self_transfer", "a core enterprise cannot issue a certificate to itself") }
        _ = try AssetMembers.active(p.holder, in: store.state, roles: [.supplier], field: "holder")
        let newUsed = try AssetCheck.add(line.used, p.face, "credit line used + face")
        guard newUsed <= line.limit else {
            throw TxRejection("credit_line_exceeded", "credit line \(line.lineID) has \(line.limit - min(line.used, line.limit)) available; face is \(p.face)")
        }
        guard context.blockTime < p.maturity else {
            throw TxRejection("maturity_in_past", "maturity \(p.maturity) is not after the block time \(context.blockTime)")
        }
        let latest = try AssetCheck.addTime(context.blockTime, context.parameters.maxMaturitySeconds, "block time + max maturity")
        guard p.maturity <= latest else {
            throw TxRejection("maturity_too_far", "maturity \(p.maturity) is beyond the maximum \(latest) (max_maturity_seconds \(context.parameters.maxMaturitySeconds))")
        }
        for key in p.tradeRef.invoiceKeys {
            if let rootBytes = try store.state.get(ReceivablesKeys.invoice(key)) {
                throw TxRejection("invoice_already_indexed", "invoice \(key) already backs certificate \(String(decoding: rootBytes, as: UTF8.self))")
            }
        }
        if let greenRef = p.tradeRef.greenRef {
            switch greenRef.kind {
            case .project:
                guard try store.state.get(GreenAssetsKeys.project(greenRef.id)) != nil else {
                    throw TxRejection("unknown_green_ref", "trade_ref.green_ref names no project \(greenRef.id)")
                }
            case .retirement:
                guard try store.state.get(GreenAssetsKeys.retirement(greenRef.id)) != nil else {
                    throw TxRejection("unknown_green_ref", "trade_ref.green_ref names no retirement \(greenRef.id)")
                }
                if let backed = try store.state.get(ReceivablesKeys.retirementBacking(greenRef.id)) {
                    throw TxRejection("green_ref_already_used", "retirement \(greenRef.id) already backs certificate \(String(decoding: backed, as: UTF8.self))")
                }
            }
        }
        try EvidenceRequirement.check(p.tradeRef.docHash, field: "trade_ref.doc_hash", attester: debtor, context: context, state: store.state)
        let rootID = context.derivedID("cert", index: 0)
        guard try store.state.get(ReceivablesKeys.certificate(rootID)) == nil else {
            throw TxRejection("duplicate_id", "certificate id \(rootID) already exists")
        }
        var cert = Certificate(certID: rootID, rootID: rootID, parentID: nil, debtor: debtor, holder: debtor, face: p.face, issueTime: context.blockTime, maturity: p.maturity, tradeRef: p.tradeRef, status: .pendingAccept, pendingTo: p.holder, pendingSince: context.blockTime, depth: 0)
        try cert.record("certificate.issue", context)
        store.save(cert, previous: nil)
        store.save(CertificateRoot(rootID: rootID, debtor: debtor, creditLineID: line.lineID, face: p.face, issueTime: context.blockTime, maturity: p.maturity, status: .open))
        store.state.put(ReceivablesKeys.rootBy(debtor: debtor, root: rootID), [])
        for key in p.tradeRef.invoiceKeys { store.state.put(ReceivablesKeys.invoice(key), Array(rootID.utf8)) }
        if let greenRef = p.tradeRef.greenRef {
            store.state.put(ReceivablesKeys.greenBacked(root: rootID), [])
            if greenRef.kind == .retirement { store.state.put(ReceivablesKeys.retirementBacking(greenRef.id), Array(rootID.utf8)) }
        }
        line.used = newUsed
        store.save(line)
        return [rootID]
    }

    /// A pending piece addressed to the signer.
    /// Rules version 3 checks the offeree first, so a member it is not offered to learns nothing of its state (not
    /// whether it is frozen or pending, nor whom it is offered to); versions 1 and 2 checked the state first.
    private func pendingForSigner(_ certID: String, _ context: ExecutionContext, _ store: ReceivablesStore) throws -> Certificate {
        let cert = try store.certificate(certID)
        if context.rulesVersion >= 3, cert.pendingTo != context.signer.memberID {
            throw TxRejection("not_recipient", "certificate \(certID) is not offered to \(context.signer.memberID)")
        }
        if cert.status == .frozen { throw TxRejection("asset_frozen", "certificate \(certID) is frozen by a regulator") }
        guard cert.status == .pendingAccept, let to = cert.pendingTo else {
            throw TxRejection("not_pending", "certificate \(certID) is \(cert.status.rawValue), not pending acceptance")
        }
        guard to == context.signer.memberID else {
            throw TxRejection("not_recipient", "certificate \(certID) is offered to \(to), not \(context.signer.memberID)")
        }
        return cert
    }

    func accept(_ p: CertificateRefPayload, _ context: ExecutionContext, _ store: ReceivablesStore) throws -> [String] {
        let previous = try pendingForSigner(p.certID, context, store)
        let deadline = try AssetCheck.addTime(previous.pendingSince ?? previous.issueTime, context.parameters.acceptWindowSeconds, "accept deadline")
        guard context.blockTime < deadline else {
            throw TxRejection("accept_window_expired", "the accept window for \(p.certID) closed at \(deadline); the sender may reclaim it")
        }
        try Self.requireBeforeMaturity(previous, context)
        var cert = previous
        cert.holder = context.signer.memberID
        cert.status = .active
        cert.pendingTo = nil
        cert.pendingSince = nil
        try cert.record("certificate.accept", context)
        store.save(cert, previous: previous)
        return [cert.certID]
    }

    func reject(certID: String, _ context: ExecutionContext, _ store: ReceivablesStore) throws -> [String] {
        let previous = try pendingForSigner(certID, context, store)
        try returnToSender(previous, kind: "certificate.reject", context, store)
        return [certID]
    }

    func reclaim(_ p: CertificateRefPayload, _ context: ExecutionContext, _ store: ReceivablesStore) throws -> [String] {
        let previous = try store.certificate(p.certID)
        // Rules version 3: the sender first, so another member learns nothing of the piece's state or holder.
        if context.rulesVersion >= 3, previous.holder != context.signer.memberID {
            throw TxRejection("not_holder", "\(context.signer.memberID) is not the sender of \(p.certID); only its sender may reclaim it")
        }
        if previous.status == .frozen { throw TxRejection("asset_frozen", "certificate \(p.certID) is frozen by a regulator") }
        guard previous.status == .pendingAccept else {
            throw TxRejection("not_pending", "certificate \(p.certID) is \(previous.status.rawValue), not pending acceptance")
        }
        guard previous.holder == context.signer.memberID else {
            throw TxRejection("not_holder", "only the sender \(previous.holder) may reclaim \(p.certID)")
        }
        let deadline = try AssetCheck.addTime(previous.pendingSince ?? previous.issueTime, context.parameters.acceptWindowSeconds, "accept deadline")
        guard context.blockTime >= deadline else {
            throw TxRejection("accept_window_open", "\(p.certID) may be accepted until \(deadline); reclaim is possible from then")
        }
        try returnToSender(previous, kind: "certificate.reclaim", context, store)
        return [p.certID]
    }

    /// Ends a pending transfer without acceptance. A child stays with its sender as an active piece; a root was
    /// never owned by anyone but its debtor, so it ends as rejected and its face is released from the credit line.
    private func returnToSender(_ previous: Certificate, kind: String, _ context: ExecutionContext, _ store: ReceivablesStore) throws {
        var cert = previous
        cert.pendingTo = nil
        cert.pendingSince = nil
        if cert.parentID == nil {
            cert.status = .rejected
            var root = try store.root(cert.rootID)
            root.status = .rejected
            store.save(root)
            var line = try store.creditLine(root.creditLineID)
            guard line.used >= root.face else {
                throw StateError.corruptValue(key: StateKey.describe(ReceivablesKeys.creditLine(line.lineID)), reason: "used \(line.used) is below the face \(root.face) of root \(root.rootID)")
            }
            line.used -= root.face
            store.save(line)
        } else {
            cert.status = .active
        }
        try cert.record(kind, context)
        store.save(cert, previous: previous)
    }

    func splitTransfer(_ p: CertificateSplitTransferPayload, _ context: ExecutionContext, _ store: ReceivablesStore) throws -> [String] {
        let previous = try store.certificate(p.certID)
        guard previous.holder == context.signer.memberID else {
            throw TxRejection("not_holder", "certificate \(p.certID) is held by \(previous.holder), not \(context.signer.memberID)")
        }
        try Self.requireMovable(previous)
        try Self.requireBeforeMaturity(previous, context)
        // Rules version 2: one output to the holder itself moves nothing and would only give the piece a new id.
        if context.rulesVersion >= 2, p.outputs.count == 1, p.outputs[0].to == previous.holder {
            throw TxRejection("self_transfer", "certificate \(p.certID) would go to its own holder \(previous.holder) whole: that moves nothing; name another recipient, or split it into several pieces")
        }
        let total = try AssetCheck.sum(p.outputs.map(\.amount), "sum of outputs")
        guard total == previous.face else {
            throw TxRejection("split_sum_mismatch", "outputs sum to \(total) but certificate \(p.certID) has face \(previous.face); put any remainder in an output to yourself")
        }
        for output in p.outputs where output.to != previous.holder {
            _ = try AssetMembers.active(output.to, in: store.state, roles: Self.holderRoles, field: "outputs[].to")
        }
        let (depth, overflow) = previous.depth.addingReportingOverflow(1)
        guard !overflow else { throw TxRejection("amount_overflow", "certificate depth overflows") }
        var childIDs: [String] = []
        for (index, output) in p.outputs.enumerated() {
            let childID = context.derivedID("cert", index: UInt32(index))
            guard try store.state.get(ReceivablesKeys.certificate(childID)) == nil else {
                throw TxRejection("duplicate_id", "certificate id \(childID) already exists")
            }
            let toSelf = output.to == previous.holder
            var child = Certificate(certID: childID, rootID: previous.rootID, parentID: previous.certID, debtor: previous.debtor, holder: previous.holder, face: output.amount, issueTime: context.blockTime, maturity: previous.maturity, tradeRef: previous.tradeRef, status: toSelf ? .active : .pendingAccept, pendingTo: toSelf ? nil : output.to, pendingSince: toSelf ? nil : context.blockTime, depth: depth)
            try child.record("certificate.split_transfer", context)
            store.save(child, previous: nil)
            childIDs.append(childID)
        }
        var spent = previous
        spent.status = .consumed
        spent.children = childIDs
        try spent.record("certificate.split_transfer", context)
        store.save(spent, previous: previous)
        return childIDs
    }
}
