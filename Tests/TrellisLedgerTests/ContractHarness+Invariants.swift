// ContractHarness+Invariants.swift — checks of DOMAIN.md invariants A1–A4 and B1–B5 computed from the records
// themselves (full scans, not the contracts' indexes), plus consistency of those indexes with the records.
// Each returns the list of violations (empty = holds), so a property test can print the first failing step.
import TrellisCodec
@testable import TrellisLedger

extension ContractHarness {
    func all<T: CanonicalDecodable>(_ type: T.Type, _ prefix: [UInt8]) throws -> [T] {
        try state.scan(prefix: prefix).map { try CanonicalDecoder.decode(T.self, from: $0.value) }
    }

    func keys(_ prefix: [UInt8]) throws -> Set<[UInt8]> { Set(try state.scan(prefix: prefix).map(\.key)) }

    /// A1–A4, credit-line accounting and receivables index consistency.
    func receivablesViolations() throws -> [String] {
        var problems: [String] = []
        let certs = try all(Certificate.self, StateKey.prefix("cert"))
        let byID = Dictionary(uniqueKeysWithValues: certs.map { ($0.certID, $0) })
        let roots = try all(CertificateRoot.self, ReceivablesKeys.allRoots)
        let fins = try all(Financing.self, ReceivablesKeys.allFinancings)
        var usedByLine: [String: UInt64] = [:]
        for root in roots {
            let live = certs.filter { $0.rootID == root.rootID && $0.status.isLive }
            let sum = live.reduce(UInt64(0)) { $0 + $1.face }
            if root.status == .rejected {
                if !live.isEmpty { problems.append("A1: rejected root \(root.rootID) has live pieces") }
            } else {
                if sum != root.face { problems.append("A1: root \(root.rootID) live pieces sum to \(sum), face \(root.face)") }
                if root.status != .settled { usedByLine[root.creditLineID, default: 0] += root.face }
            }
        }
        for line in try all(CreditLine.self, ReceivablesKeys.allCreditLines) where line.used != usedByLine[line.lineID, default: 0] {
            problems.append("credit line \(line.lineID) used \(line.used), unsettled roots \(usedByLine[line.lineID, default: 0])")
        }
        for cert in certs {
            guard let root = byID[cert.rootID] else { problems.append("A2: \(cert.certID) root missing"); continue }
            if cert.maturity != root.maturity { problems.append("A2: \(cert.certID) maturity differs from its root") }
            if cert.debtor != root.debtor || cert.tradeRef != root.tradeRef { problems.append("A2: \(cert.certID) debtor/trade_ref differ from root") }
            if let parentID = cert.parentID {
                guard let parent = byID[parentID] else { problems.append("A2: parent of \(cert.certID) lost"); continue }
                if parent.status != .consumed || !parent.children.contains(cert.certID) { problems.append("A2: parent \(parentID) does not link \(cert.certID)") }
                if cert.depth != parent.depth + 1 { problems.append("A2: depth of \(cert.certID)") }
            }
            if cert.status == .consumed {
                let childSum = cert.children.compactMap { byID[$0]?.face }.reduce(UInt64(0), +)
                if cert.children.isEmpty || childSum != cert.face { problems.append("A1: consumed \(cert.certID) children sum \(childSum) != \(cert.face)") }
            } else if !cert.children.isEmpty {
                problems.append("A4: non-consumed \(cert.certID) (\(cert.status.rawValue)) has children")
            }
            if let finID = cert.financingID {
                let fin = fins.first { $0.finID == finID }
                if fin?.status.isOpen != true || fin?.certID != cert.certID { problems.append("A3: \(cert.certID) points to non-open financing \(finID)") }
            }
            if (cert.status == .financed || cert.status == .pledged) && cert.financingID == nil {
                problems.append("A3: \(cert.certID) is \(cert.status.rawValue) without an open financing")
            }
            // Index consistency.
            let live = cert.status.isLive
            if try (state.get(ReceivablesKeys.liveLeaf(root: cert.rootID, cert: cert.certID)) != nil) != live { problems.append("index certlive for \(cert.certID)") }
            if try (state.get(ReceivablesKeys.held(by: cert.holder, cert: cert.certID)) != nil) != live { problems.append("index certby for \(cert.certID)") }
        }
        var openPerCert: [String: Int] = [:]
        for fin in fins where fin.status.isOpen { openPerCert[fin.certID, default: 0] += 1 }
        for (certID, count) in openPerCert.sorted(by: { $0.key < $1.key }) where count > 1 { problems.append("A3: \(certID) has \(count) open financings") }
        let liveIndexCount = try state.scan(prefix: StateKey.prefix("certlive")).count
        if liveIndexCount != certs.filter(\.status.isLive).count { problems.append("index certlive has stale entries") }
        let heldIndexCount = try state.scan(prefix: StateKey.prefix("certby")).count
        if heldIndexCount != certs.filter(\.status.isLive).count { problems.append("index certby has stale entries") }
        return problems
    }

    /// B1–B5, supply reconciliation and green index consistency.
    func greenViolations() throws -> [String] {
        var problems: [String] = []
        let report = try GreenAssetsQueries.supplyReconciliation(in: state)
        if !report.balanced { problems.append("B1: supply reconciliation unbalanced: \(report)") }
        let blocks = try all(CreditBlock.self, StateKey.prefix("cblock"))
        let batches = try all(Batch.self, GreenAssetsKeys.allBatches)
        for batch in batches {
            let live = blocks.filter { $0.batchID == batch.batchID && $0.status.isLive }.sorted { $0.serialStart < $1.serialStart }
            var next = batch.serialStart
            for block in live {
                if block.serialStart != next { problems.append("B1: gap or overlap at \(block.blockID) in \(batch.batchID)") }
                next = block.serialEnd + 1
            }
            if next != batch.serialEnd + 1 { problems.append("B1: batch \(batch.batchID) live blocks end at \(next - 1), range ends \(batch.serialEnd)") }
        }
        for program in try all(Program.self, GreenAssetsKeys.allPrograms) {
            let ranges = batches.filter { $0.programID == program.programID }.sorted { $0.serialStart < $1.serialStart }
            var next: UInt64 = 1
            for batch in ranges {
                if batch.serialStart != next { problems.append("B2: batch \(batch.batchID) starts at \(batch.serialStart), expected \(next)") }
                next = batch.serialEnd + 1
            }
            if next - 1 != program.serialCounter { problems.append("B2: program \(program.programID) counter \(program.serialCounter) != last serial \(next - 1)") }
        }
        for block in blocks {
            switch block.status {
            case .retired, .cancelled, .active, .locked, .buffer:
                if !block.children.isEmpty { problems.append("B3: \(block.status.rawValue) block \(block.blockID) was an input") }
            case .consumed:
                let childUnits = block.children.compactMap { id in blocks.first { $0.blockID == id }?.quantity }.reduce(UInt64(0), +)
                if childUnits != block.quantity { problems.append("B1: consumed \(block.blockID) children hold \(childUnits) of \(block.quantity)") }
            }
            if block.status == .retired && block.retirementID == nil { problems.append("retired \(block.blockID) without retirement") }
            let live = block.status.isLive
            if try (state.get(GreenAssetsKeys.liveBlock(batch: block.batchID, block: block.blockID)) != nil) != live { problems.append("index batchblock for \(block.blockID)") }
            if try (state.get(GreenAssetsKeys.block(owner: block.owner, block: block.blockID)) != nil) != live { problems.append("index cblockby for \(block.blockID)") }
        }
        let verifications = try all(Verification.self, StateKey.prefix("verification"))
        for project in try all(Project.self, StateKey.prefix("project")) {
            let periods = verifications.filter { $0.projectID == project.projectID }.sorted { $0.periodStart < $1.periodStart }
            for (a, b) in zip(periods, periods.dropFirst()) where b.periodStart < a.periodEnd {
                problems.append("B4: verifications \(a.verID) and \(b.verID) overlap")
            }
        }
        for verification in verifications {
            let issued = batches.filter { $0.verID == verification.verID }
            if issued.count > 1 { problems.append("B4: verification \(verification.verID) backs \(issued.count) batches") }
            if let batch = issued.first, batch.quantity > verification.quantity { problems.append("B4: batch \(batch.batchID) exceeds verified quantity") }
            let verifier = try member(verification.verifier)
            let project = try state.read(Project.self, GreenAssetsKeys.project(verification.projectID))
            let accredited = verifier?.accreditations.contains { $0.scheme == verification.accreditationScheme && $0.covers(sector: project?.sector ?? "", at: verification.verifiedAt) } ?? false
            if !accredited { problems.append("B5: verifier of \(verification.verID) was not accredited at verification time") }
        }
        return problems
    }
}
