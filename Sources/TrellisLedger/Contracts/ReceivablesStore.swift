// ReceivablesStore.swift — typed reads and index-maintaining writes of receivables records over a state overlay.
//
// Every certificate write goes through `save(_:previous:)`, which derives the live-leaf, holder and incoming
// indexes from the record itself (old entries removed, new ones added), so the indexes can never drift from the
// records whatever path a transaction takes.
import TrellisCodec

struct ReceivablesStore {
    let state: StateOverlay

    func certificate(_ id: String) throws -> Certificate {
        try AssetState.existing(Certificate.self, ReceivablesKeys.certificate(id), in: state, "unknown_certificate", "no certificate \(id)")
    }

    func root(_ id: String) throws -> CertificateRoot {
        try AssetState.existing(CertificateRoot.self, ReceivablesKeys.root(id), in: state, "unknown_certificate", "no issued certificate root \(id)")
    }

    func creditLine(_ id: String) throws -> CreditLine {
        try AssetState.existing(CreditLine.self, ReceivablesKeys.creditLine(id), in: state, "unknown_credit_line", "no credit line \(id)")
    }

    func financing(_ id: String) throws -> Financing {
        try AssetState.existing(Financing.self, ReceivablesKeys.financing(id), in: state, "unknown_financing", "no financing \(id)")
    }

    /// The live pieces of `rootID`, in key order.
    func liveLeaves(of rootID: String) throws -> [Certificate] {
        try state.scan(prefix: ReceivablesKeys.liveLeaves(root: rootID)).map { entry in
            let certID = String(decoding: entry.key.dropFirst(ReceivablesKeys.liveLeaves(root: rootID).count), as: UTF8.self)
            return try certificate(certID)
        }
    }

    /// Writes `cert` and moves its index entries from what `previous` implied to what `cert` implies.
    func save(_ cert: Certificate, previous: Certificate?) {
        if let previous { setIndexes(previous, present: false) }
        setIndexes(cert, present: true)
        state.write(cert, at: ReceivablesKeys.certificate(cert.certID))
    }

    private func setIndexes(_ cert: Certificate, present: Bool) {
        guard cert.status.isLive else { return }
        setIndex(ReceivablesKeys.liveLeaf(root: cert.rootID, cert: cert.certID), present: present)
        setIndex(ReceivablesKeys.held(by: cert.holder, cert: cert.certID), present: present)
        if let to = cert.pendingTo { setIndex(ReceivablesKeys.incoming(to: to, cert: cert.certID), present: present) }
    }

    private func setIndex(_ key: [UInt8], present: Bool) {
        if present { state.put(key, []) } else { state.delete(key) }
    }

    func save(_ root: CertificateRoot) { state.write(root, at: ReceivablesKeys.root(root.rootID)) }

    func save(_ line: CreditLine) { state.write(line, at: ReceivablesKeys.creditLine(line.lineID)) }

    func save(_ fin: Financing) {
        state.write(fin, at: ReceivablesKeys.financing(fin.finID))
        state.put(ReceivablesKeys.financingBy(financier: fin.financier, fin: fin.finID), [])
        state.put(ReceivablesKeys.financingOf(cert: fin.certID, fin: fin.finID), [])
    }
}

extension Certificate {
    /// Appends an audit event; rejects when the record's trail is full.
    mutating func record(_ kind: String, _ context: ExecutionContext) throws(TxRejection) {
        guard events.count < AssetLimits.maxEvents else {
            throw TxRejection("too_many_events", "certificate \(certID) has reached \(AssetLimits.maxEvents) events")
        }
        events.append(AssetEvent(kind, context))
    }
}
