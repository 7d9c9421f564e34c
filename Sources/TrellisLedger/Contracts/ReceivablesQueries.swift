// ReceivablesQueries.swift — read-only queries over receivables state (DOMAIN.md §C): lineage, holdings,
// exposure. Pure functions of a `StateReader`; they never write and their output order never depends on
// dictionary iteration. Errors are `StateError` (unreadable or corrupt state).
import TrellisCodec

/// Queries auditors, regulators and members run against receivables state.
public enum ReceivablesQueries {
    /// The lineage of `certID`: parent chain to the root, descendants, live leaves, financings, every event, and the
    /// attestation record of its `trade_ref.doc_hash` (nil when nobody attested it). Nil when no such certificate
    /// exists.
    public static func lineage(certID: String, in state: StateReader) throws -> CertificateLineage? {
        guard let cert = try state.read(Certificate.self, ReceivablesKeys.certificate(certID)) else { return nil }
        var ancestors: [Certificate] = []
        var cursor = cert.parentID
        while let parentID = cursor {
            let parent = try AssetState.required(Certificate.self, ReceivablesKeys.certificate(parentID), state)
            ancestors.append(parent)
            cursor = parent.parentID
        }
        let root = try AssetState.required(CertificateRoot.self, ReceivablesKeys.root(cert.rootID), state)
        var descendants: [Certificate] = []
        var leaves: [Certificate] = []
        // Depth-first in output order with an explicit stack: a holder can split to itself once per transaction, so
        // lineages may be arbitrarily deep and recursion could exhaust the thread's stack.
        var stack = [cert]
        while let piece = stack.popLast() {
            if piece.certID != cert.certID { descendants.append(piece) }
            if piece.children.isEmpty && piece.status.isLive { leaves.append(piece) }
            var children: [Certificate] = []
            for childID in piece.children { children.append(try AssetState.required(Certificate.self, ReceivablesKeys.certificate(childID), state)) }
            stack.append(contentsOf: children.reversed())
        }
        let pieces = [cert] + ancestors + descendants
        var financings: [Financing] = []
        for piece in pieces {
            let prefix = ReceivablesKeys.financings(cert: piece.certID)
            for entry in try state.scan(prefix: prefix) {
                financings.append(try AssetState.required(Financing.self, ReceivablesKeys.financing(AssetState.keySuffix(entry.key, after: prefix)), state))
            }
        }
        financings.sort { $0.finID.utf8.lexicographicallyPrecedes($1.finID.utf8) }
        var events: [(event: CertificateEvent, position: Int)] = []
        for piece in pieces {
            for (position, event) in piece.events.enumerated() { events.append((CertificateEvent(certID: piece.certID, event: event), position)) }
        }
        events.sort { a, b in
            if a.event.event.height != b.event.event.height { return a.event.event.height < b.event.event.height }
            if a.event.certID != b.event.certID { return a.event.certID.utf8.lexicographicallyPrecedes(b.event.certID.utf8) }
            return a.position < b.position
        }
        // Every piece of a root carries the root's trade_ref, so one document hash backs the whole lineage.
        let attestation = try EvidenceQueries.evidence(docHash: cert.tradeRef.docHash, in: state)
        return CertificateLineage(certificate: cert, ancestors: ancestors, root: root, descendants: descendants, liveLeaves: leaves, financings: financings, transactions: events.map(\.event), documentAttestation: attestation)
    }

    /// What `member` holds: live certificate pieces, incoming offers and credit blocks, with totals per status.
    public static func holdings(member: String, in state: StateReader) throws -> Holdings {
        var held: [Certificate] = []
        let heldPrefix = ReceivablesKeys.held(by: member)
        for entry in try state.scan(prefix: heldPrefix) {
            held.append(try AssetState.required(Certificate.self, ReceivablesKeys.certificate(AssetState.keySuffix(entry.key, after: heldPrefix)), state))
        }
        held.sort { a, b in
            if a.status.tag != b.status.tag { return a.status.tag < b.status.tag }
            if a.maturity != b.maturity { return a.maturity < b.maturity }
            return a.certID.utf8.lexicographicallyPrecedes(b.certID.utf8)
        }
        var incoming: [Certificate] = []
        let incomingPrefix = ReceivablesKeys.incoming(to: member)
        for entry in try state.scan(prefix: incomingPrefix) {
            incoming.append(try AssetState.required(Certificate.self, ReceivablesKeys.certificate(AssetState.keySuffix(entry.key, after: incomingPrefix)), state))
        }
        incoming.sort { a, b in a.maturity != b.maturity ? a.maturity < b.maturity : a.certID.utf8.lexicographicallyPrecedes(b.certID.utf8) }
        let blocks = try GreenAssetsQueries.blocks(owner: member, in: state)
        var creditTotals = totals(blocks.map { ($0.status.rawValue, $0.quantity) })
        let frozen = blocks.filter(\.frozen)
        if !frozen.isEmpty {
            creditTotals.append(StatusTotal(status: "frozen", count: UInt64(frozen.count), amount: frozen.reduce(0) { $0 + UInt128($1.quantity) }))
            creditTotals.sort { $0.status < $1.status }
        }
        return Holdings(member: member, certificates: held, incoming: incoming, certificateTotals: totals(held.map { ($0.status.rawValue, $0.face) }), creditBlocks: blocks, creditTotals: creditTotals)
    }

    /// Exposure per core enterprise, per financier and per credit line (overdue included), each sorted by id.
    public static func exposure(in state: StateReader) throws -> ExposureReport {
        var cores: [String: CoreExposure] = [:]
        // 128-bit sums of 64-bit faces over fewer than 2⁶⁴ records cannot overflow.
        var overdueByLine: [String: UInt128] = [:]
        for entry in try state.scan(prefix: ReceivablesKeys.allRoots) {
            let root = try AssetState.decode(CertificateRoot.self, entry, state)
            guard root.status == .open || root.status == .overdue else { continue }
            var core = cores[root.debtor] ?? CoreExposure(core: root.debtor, outstanding: 0, overdue: 0, openRoots: 0, overdueRoots: 0)
            let face = UInt128(root.face)
            core.outstanding += face
            if root.status == .overdue {
                core.overdue += face
                core.overdueRoots += 1
                overdueByLine[root.creditLineID, default: 0] += face
            } else {
                core.openRoots += 1
            }
            cores[root.debtor] = core
        }
        var financiers: [String: FinancierExposure] = [:]
        for entry in try state.scan(prefix: ReceivablesKeys.allFinancings) {
            let fin = try AssetState.decode(Financing.self, entry, state)
            guard fin.status.isOpen else { continue }
            var exposure = financiers[fin.financier] ?? FinancierExposure(financier: fin.financier, advanced: 0, factoredFace: 0, pledgedFace: 0, overdueFace: 0, openFinancings: 0)
            exposure.openFinancings += 1
            if fin.status == .active {
                let cert = try AssetState.required(Certificate.self, ReceivablesKeys.certificate(fin.certID), state)
                let face = UInt128(cert.face)
                exposure.advanced += UInt128(fin.advance)
                if fin.kind == .factoring { exposure.factoredFace += face } else { exposure.pledgedFace += face }
                if cert.status == .overdue || cert.frozenFrom == .overdue { exposure.overdueFace += face }
            }
            financiers[fin.financier] = exposure
        }
        var lines: [CreditLineExposure] = []
        for entry in try state.scan(prefix: ReceivablesKeys.allCreditLines) {
            let line = try AssetState.decode(CreditLine.self, entry, state)
            lines.append(CreditLineExposure(line: line, available: line.limit > line.used ? line.limit - line.used : 0, overdue: overdueByLine[line.lineID] ?? 0))
        }
        func byKey<V>(_ map: [String: V]) -> [V] {
            map.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.compactMap { map[$0] }
        }
        return ExposureReport(cores: byKey(cores), financiers: byKey(financiers), creditLines: lines)
    }

    /// Green-backed certificates: every root whose trade reference cites a project or retirement, by root id, with
    /// the cited record. `onlyOutstanding` keeps open and overdue roots (what a financier still has at stake).
    public static func greenBacked(onlyOutstanding: Bool = true, in state: StateReader) throws -> [GreenBackedCertificate] {
        var out: [GreenBackedCertificate] = []
        for entry in try state.scan(prefix: ReceivablesKeys.allGreenBacked) {
            let rootID = AssetState.keySuffix(entry.key, after: ReceivablesKeys.allGreenBacked)
            let root = try AssetState.required(CertificateRoot.self, ReceivablesKeys.root(rootID), state)
            if onlyOutstanding && root.status != .open && root.status != .overdue { continue }
            let cert = try AssetState.required(Certificate.self, ReceivablesKeys.certificate(rootID), state)
            guard let greenRef = cert.tradeRef.greenRef else { continue }
            var project: Project?
            var retirement: Retirement?
            switch greenRef.kind {
            case .project:
                project = try state.read(Project.self, GreenAssetsKeys.project(greenRef.id))
            case .retirement:
                retirement = try state.read(Retirement.self, GreenAssetsKeys.retirement(greenRef.id))
                if let projectID = retirement?.ranges.first?.projectID { project = try state.read(Project.self, GreenAssetsKeys.project(projectID)) }
            }
            out.append(GreenBackedCertificate(root: root, tradeRef: cert.tradeRef, project: project, retirement: retirement))
        }
        return out
    }

    static func totals(_ items: [(String, UInt64)]) -> [StatusTotal] {
        var byStatus: [String: StatusTotal] = [:]
        for (status, amount) in items {
            var total = byStatus[status] ?? StatusTotal(status: status, count: 0, amount: 0)
            total.count += 1
            total.amount += UInt128(amount)
            byStatus[status] = total
        }
        return byStatus.values.sorted { $0.status < $1.status }
    }
}

extension AssetState {
    /// The record at `key`, which an index or link says must exist.
    static func required<T: CanonicalDecodable>(_ type: T.Type, _ key: [UInt8], _ state: StateReader) throws -> T {
        guard let value = try state.read(T.self, key) else {
            throw StateError.corruptValue(key: StateKey.describe(key), reason: "an index or link points to a missing \(T.self)")
        }
        return value
    }

    /// Decodes a scanned entry.
    static func decode<T: CanonicalDecodable>(_ type: T.Type, _ entry: (key: [UInt8], value: [UInt8]), _ state: StateReader) throws -> T {
        do { return try CanonicalDecoder.decode(T.self, from: entry.value) } catch {
            throw StateError.corruptValue(key: StateKey.describe(entry.key), reason: error.description)
        }
    }

    /// The key's text after `prefix` (an id, for index keys `<prefix><id>`).
    static func keySuffix(_ key: [UInt8], after prefix: [UInt8]) -> String {
        String(decoding: key.dropFirst(prefix.count), as: UTF8.self)
    }
}
