// DomainInvariants.swift — one decoded view of a state (`DomainSnapshot`), the DOMAIN.md invariants A1–A4 and B1–B5
// checked on it in linear time (indexed by id, so they scale to the execution fuzzer's thousands of records; the
// property tests' ContractHarness checks delegate here), and a pass over every domain query so that query code also
// meets fuzzed state. Sums are 128-bit so a broken invariant is reported, never trapped on.
import TrellisCodec
@testable import TrellisLedger

struct DomainSnapshot {
    let state: any StateReader
    var members: [String: Member] = [:]
    var certs: [String: Certificate] = [:]
    var roots: [String: CertificateRoot] = [:]
    var financings: [String: Financing] = [:]
    var lines: [String: CreditLine] = [:]
    var programs: [String: Program] = [:]
    var projects: [String: Project] = [:]
    var verifications: [String: Verification] = [:]
    var batches: [String: Batch] = [:]
    var blocks: [String: CreditBlock] = [:]
    var retirements: [String: Retirement] = [:]
    var proposals: [String: Proposal] = [:]
    /// Attestation records by document hash (hex).
    var evidence: [String: EvidenceRecord] = [:]

    init(_ state: any StateReader) throws {
        self.state = state
        func load<T: CanonicalDecodable>(_ type: T.Type, _ prefix: [UInt8], _ id: (T) -> String) throws -> [String: T] {
            var out: [String: T] = [:]
            for entry in try state.scan(prefix: prefix) {
                let value = try CanonicalDecoder.decode(T.self, from: entry.value)
                out[id(value)] = value
            }
            return out
        }
        members = try load(Member.self, LedgerKeys.memberPrefix) { $0.memberID }
        certs = try load(Certificate.self, StateKey.prefix("cert")) { $0.certID }
        roots = try load(CertificateRoot.self, ReceivablesKeys.allRoots) { $0.rootID }
        financings = try load(Financing.self, ReceivablesKeys.allFinancings) { $0.finID }
        lines = try load(CreditLine.self, ReceivablesKeys.allCreditLines) { $0.lineID }
        programs = try load(Program.self, GreenAssetsKeys.allPrograms) { $0.programID }
        projects = try load(Project.self, StateKey.prefix("project")) { $0.projectID }
        verifications = try load(Verification.self, StateKey.prefix("verification")) { $0.verID }
        batches = try load(Batch.self, GreenAssetsKeys.allBatches) { $0.batchID }
        blocks = try load(CreditBlock.self, StateKey.prefix("cblock")) { $0.blockID }
        retirements = try load(Retirement.self, StateKey.prefix("retirement")) { $0.retID }
        proposals = try load(Proposal.self, LedgerKeys.proposalPrefix) { $0.proposalID }
        evidence = try load(EvidenceRecord.self, EvidenceKeys.allRecords) { $0.docHash.hex }
    }

    /// Ids sorted (dictionary order must never leak into what the fuzzer generates).
    func ids<T>(_ map: [String: T], where keep: (T) -> Bool = { _ in true }) -> [String] {
        map.filter { keep($0.value) }.keys.sorted()
    }

    /// Unpaid live pieces per open or overdue root (the fuzzer aims version 2's paged settlement at large roots).
    func unpaidPiecesByRoot() -> [String: Int] {
        var unpaid: [String: Int] = [:]
        for cert in certs.values where cert.status.isLive && cert.status != .settled {
            if let root = roots[cert.rootID], root.status == .open || root.status == .overdue { unpaid[cert.rootID, default: 0] += 1 }
        }
        return unpaid
    }

    // MARK: invariants

    /// Every violation of the evidence rules: a record is keyed by its hash, has 1…max attestations by distinct
    /// members in height order, and the `attestby` index lists exactly each (member, hash) pair of the records.
    func evidenceViolations() throws -> [String] {
        var problems: [String] = []
        var expected = Set<[UInt8]>()
        for (hex, record) in evidence {
            let attesters = record.attestations.map(\.attester)
            if attesters.isEmpty || attesters.count > EvidenceLimits.maxAttestations { problems.append("E: record \(hex) has \(attesters.count) attestations") }
            if Set(attesters).count != attesters.count { problems.append("E: record \(hex) has two attestations by one member") }
            if zip(record.attestations, record.attestations.dropFirst()).contains(where: { $0.height > $1.height }) { problems.append("E: record \(hex) attestations out of height order") }
            for a in record.attestations {
                if let w = a.withdrawal, w.height < a.height { problems.append("E: \(a.attester) withdrew \(hex) before attesting it") }
                expected.insert(EvidenceKeys.attested(by: a.attester, record.docHash))
            }
        }
        let indexed = Set(try state.scan(prefix: StateKey.prefix("attestby")).map(\.key))
        if indexed != expected { problems.append("E: attestby index has \(indexed.subtracting(expected).count) extra and \(expected.subtracting(indexed).count) missing entries") }
        return problems
    }

    /// Every violation of A1–A4 and of the credit lines' accounting.
    func receivablesViolations() throws -> [String] {
        var problems: [String] = []
        var liveSum: [String: UInt128] = [:]
        var liveCount: [String: Int] = [:]
        for cert in certs.values where cert.status.isLive {
            liveSum[cert.rootID, default: 0] += UInt128(cert.face)
            liveCount[cert.rootID, default: 0] += 1
        }
        var usedByLine: [String: UInt128] = [:]
        let settledFinancings = Set(financings.values.filter { $0.status == .settled }.map { "\($0.certID)/\($0.financier)" })
        for root in roots.values {
            if root.status == .rejected {
                if liveCount[root.rootID, default: 0] > 0 { problems.append("A1: rejected root \(root.rootID) has live pieces") }
            } else {
                if liveSum[root.rootID, default: 0] != UInt128(root.face) { problems.append("A1: root \(root.rootID) live pieces sum to \(liveSum[root.rootID, default: 0]), face \(root.face)") }
                if root.status != .settled { usedByLine[root.creditLineID, default: 0] += UInt128(root.face) }
            }
            if root.status == .settled, root.payouts.reduce(UInt128(0), { $0 + UInt128($1.amount) }) != UInt128(root.face) {
                problems.append("A1: settled root \(root.rootID) payouts do not sum to its face")
            }
            for payout in root.payouts {
                if let financier = payout.financier, !settledFinancings.contains("\(payout.certID)/\(financier)") {
                    problems.append("A.7: payout of \(payout.certID) names \(financier) without an approved financing")
                }
            }
        }
        problems += settlementViolations()
        for line in lines.values where UInt128(line.used) != usedByLine[line.lineID, default: 0] {
            problems.append("credit line \(line.lineID) used \(line.used), unsettled roots \(usedByLine[line.lineID, default: 0])")
        }
        var openPerCert: [String: Int] = [:]
        for fin in financings.values where fin.status.isOpen { openPerCert[fin.certID, default: 0] += 1 }
        for (certID, count) in openPerCert where count > 1 { problems.append("A3: \(certID) has \(count) open financings") }
        for cert in certs.values {
            guard let root = certs[cert.rootID] else { problems.append("A2: \(cert.certID) root missing"); continue }
            if cert.maturity != root.maturity { problems.append("A2: \(cert.certID) maturity differs from its root") }
            if cert.debtor != root.debtor || cert.tradeRef != root.tradeRef { problems.append("A2: \(cert.certID) debtor/trade_ref differ from root") }
            if let parentID = cert.parentID {
                guard let parent = certs[parentID] else { problems.append("A2: parent of \(cert.certID) lost"); continue }
                if parent.status != .consumed || !parent.children.contains(cert.certID) { problems.append("A2: parent \(parentID) does not link \(cert.certID)") }
                if UInt64(cert.depth) != UInt64(parent.depth) + 1 { problems.append("A2: depth of \(cert.certID)") }
            }
            if cert.status == .consumed {
                let childSum = cert.children.compactMap { certs[$0] }.reduce(UInt128(0)) { $0 + UInt128($1.face) }
                if cert.children.isEmpty || childSum != UInt128(cert.face) { problems.append("A1: consumed \(cert.certID) children sum \(childSum) != \(cert.face)") }
            } else if !cert.children.isEmpty {
                problems.append("A4: non-consumed \(cert.certID) (\(cert.status.rawValue)) has children")
            }
            if let finID = cert.financingID {
                let fin = financings[finID]
                if fin?.status.isOpen != true || fin?.certID != cert.certID { problems.append("A3: \(cert.certID) points to non-open financing \(finID)") }
            } else if openPerCert[cert.certID, default: 0] > 0 {
                problems.append("A3: \(cert.certID) has an open financing it does not link")
            }
            if (cert.status == .financed || cert.status == .pledged) && cert.financingID == nil {
                problems.append("A3: \(cert.certID) is \(cert.status.rawValue) without an open financing")
            }
            let live = cert.status.isLive
            if try (state.get(ReceivablesKeys.liveLeaf(root: cert.rootID, cert: cert.certID)) != nil) != live { problems.append("index certlive for \(cert.certID)") }
            if try (state.get(ReceivablesKeys.held(by: cert.holder, cert: cert.certID)) != nil) != live { problems.append("index certby for \(cert.certID)") }
        }
        let liveCertificates = certs.values.filter(\.status.isLive).count
        if try state.scan(prefix: StateKey.prefix("certlive")).count != liveCertificates { problems.append("index certlive has stale entries") }
        if try state.scan(prefix: StateKey.prefix("certby")).count != liveCertificates { problems.append("index certby has stale entries") }
        return problems
    }

    /// Every violation of settlement's bookkeeping, under both rules versions (version 2 pays a root in pages, so a
    /// root may be open or overdue with some payouts): a root's payouts name distinct pieces of that root, each
    /// settled and paid its face, and exactly its settled pieces; a settled root has no unpaid piece left; an open or
    /// overdue root was paid less than its face (the page that pays the rest settles it).
    func settlementViolations() -> [String] {
        var problems: [String] = []
        var settledByRoot: [String: Set<String>] = [:]
        var unpaidByRoot: [String: Int] = [:]
        for cert in certs.values {
            if cert.status == .settled { settledByRoot[cert.rootID, default: []].insert(cert.certID) }
            else if cert.status.isLive { unpaidByRoot[cert.rootID, default: 0] += 1 }
        }
        for root in roots.values {
            let paid = root.payouts.map(\.certID)
            if Set(paid).count != paid.count { problems.append("settle: root \(root.rootID) pays a piece twice") }
            for payout in root.payouts {
                guard let cert = certs[payout.certID] else { problems.append("settle: root \(root.rootID) pays unknown piece \(payout.certID)"); continue }
                if cert.rootID != root.rootID { problems.append("settle: root \(root.rootID) pays \(payout.certID) of root \(cert.rootID)") }
                if cert.status != .settled { problems.append("settle: paid piece \(payout.certID) is \(cert.status.rawValue)") }
                if payout.amount != cert.face { problems.append("settle: piece \(payout.certID) of face \(cert.face) paid \(payout.amount)") }
            }
            if Set(paid) != settledByRoot[root.rootID, default: []] {
                problems.append("settle: root \(root.rootID) settled pieces \(settledByRoot[root.rootID, default: []].count) differ from its \(paid.count) payouts")
            }
            let sum = root.payouts.reduce(UInt128(0)) { $0 + UInt128($1.amount) }
            switch root.status {
            case .settled:
                if unpaidByRoot[root.rootID, default: 0] > 0 { problems.append("settle: settled root \(root.rootID) has \(unpaidByRoot[root.rootID]!) unpaid live pieces") }
            case .open, .overdue:
                if sum >= UInt128(root.face) { problems.append("settle: \(root.status) root \(root.rootID) was paid \(sum) of face \(root.face) yet is not settled") }
            case .rejected:
                if !paid.isEmpty { problems.append("settle: rejected root \(root.rootID) has payouts") }
            }
        }
        return problems
    }

    /// Every violation of B1–B5 and of supply reconciliation.
    func greenViolations() throws -> [String] {
        var problems: [String] = []
        let report = try GreenAssetsQueries.supplyReconciliation(in: state)
        if !report.balanced { problems.append("B1: supply reconciliation unbalanced") }
        var liveByBatch: [String: [CreditBlock]] = [:]
        for block in blocks.values where block.status.isLive { liveByBatch[block.batchID, default: []].append(block) }
        for batch in batches.values {
            var next = UInt128(batch.serialStart)
            for block in (liveByBatch[batch.batchID] ?? []).sorted(by: { $0.serialStart < $1.serialStart }) {
                if UInt128(block.serialStart) != next { problems.append("B1: gap or overlap at \(block.blockID) in \(batch.batchID)") }
                next = UInt128(block.serialEnd) + 1
            }
            if next != UInt128(batch.serialEnd) + 1 { problems.append("B1: batch \(batch.batchID) live blocks end at \(next - 1), range ends \(batch.serialEnd)") }
            if batch.serialEnd > CreditSerial.maxSerial { problems.append("B2: batch \(batch.batchID) passes the last serial") }
        }
        var batchesByProgram: [String: [Batch]] = [:]
        for batch in batches.values { batchesByProgram[batch.programID, default: []].append(batch) }
        for program in programs.values {
            var next: UInt128 = 1
            for batch in (batchesByProgram[program.programID] ?? []).sorted(by: { $0.serialStart < $1.serialStart }) {
                if UInt128(batch.serialStart) != next { problems.append("B2: batch \(batch.batchID) starts at \(batch.serialStart), expected \(next)") }
                next = UInt128(batch.serialEnd) + 1
            }
            if next - 1 != UInt128(program.serialCounter) { problems.append("B2: program \(program.programID) counter \(program.serialCounter) != last serial \(next - 1)") }
        }
        for block in blocks.values {
            switch block.status {
            case .retired, .cancelled, .active, .locked, .buffer:
                if !block.children.isEmpty { problems.append("B3: \(block.status.rawValue) block \(block.blockID) was an input") }
            case .consumed:
                let childUnits = block.children.compactMap { blocks[$0] }.reduce(UInt128(0)) { $0 + UInt128($1.quantity) }
                if childUnits != UInt128(block.quantity) { problems.append("B1: consumed \(block.blockID) children hold \(childUnits) of \(block.quantity)") }
            }
            if block.status == .retired && block.retirementID == nil { problems.append("retired \(block.blockID) without retirement") }
            let live = block.status.isLive
            if try (state.get(GreenAssetsKeys.liveBlock(batch: block.batchID, block: block.blockID)) != nil) != live { problems.append("index batchblock for \(block.blockID)") }
            if try (state.get(GreenAssetsKeys.block(owner: block.owner, block: block.blockID)) != nil) != live { problems.append("index cblockby for \(block.blockID)") }
        }
        var periodsByProject: [String: [Verification]] = [:]
        for verification in verifications.values { periodsByProject[verification.projectID, default: []].append(verification) }
        for (_, periods) in periodsByProject {
            let sorted = periods.sorted { $0.periodStart != $1.periodStart ? $0.periodStart < $1.periodStart : $0.verID < $1.verID }
            for (a, b) in zip(sorted, sorted.dropFirst()) where b.periodStart < a.periodEnd {
                problems.append("B4: verifications \(a.verID) and \(b.verID) overlap")
            }
        }
        var batchesByVerification: [String: [Batch]] = [:]
        for batch in batches.values { batchesByVerification[batch.verID, default: []].append(batch) }
        for verification in verifications.values {
            let issued = batchesByVerification[verification.verID] ?? []
            if issued.count > 1 { problems.append("B4: verification \(verification.verID) backs \(issued.count) batches") }
            if let batch = issued.first, batch.quantity > verification.quantity { problems.append("B4: batch \(batch.batchID) exceeds verified quantity") }
        }
        return problems
    }

    /// B5 for the verifications created by the last block: the verifier held an accreditation under the recorded
    /// scheme covering the project's sector at the verification's block time — in the state before or after that
    /// block (governance in the same block may have granted or revoked it).
    func b5Violations(created: [String], before: DomainSnapshot) -> [String] {
        var problems: [String] = []
        for id in created {
            guard let verification = verifications[id] else { continue }
            let sector = projects[verification.projectID]?.sector ?? ""
            let holders = [members[verification.verifier], before.members[verification.verifier]].compactMap { $0 }
            let accredited = holders.contains { m in
                m.accreditations.contains { $0.scheme == verification.accreditationScheme && $0.covers(sector: sector, at: verification.verifiedAt) }
            }
            if !accredited { problems.append("B5: verifier of \(id) was not accredited for \(sector) at \(verification.verifiedAt)") }
        }
        return problems
    }

    /// B5 for every verification, against the verifiers' accreditations as they are now.
    func b5Violations() -> [String] { b5Violations(created: ids(verifications), before: self) }

    /// Runs every domain query once on this state (they must answer, never trap) and checks what they can be
    /// checked against. Returns problems found.
    func queryProblems() throws -> [String] {
        var problems: [String] = []
        let exposure = try ReceivablesQueries.exposure(in: state)
        var outstanding: [String: UInt128] = [:]
        for root in roots.values where root.status == .open || root.status == .overdue { outstanding[root.debtor, default: 0] += UInt128(root.face) }
        for core in exposure.cores where core.outstanding != outstanding[core.core, default: 0] {
            problems.append("exposure of \(core.core): \(core.outstanding), roots sum to \(outstanding[core.core, default: 0])")
        }
        for member in members.keys.sorted() {
            let holdings = try ReceivablesQueries.holdings(member: member, in: state)
            let expected = certs.values.filter { $0.holder == member && $0.status.isLive }.reduce(UInt128(0)) { $0 + UInt128($1.face) }
            if holdings.certificateTotals.reduce(UInt128(0), { $0 + $1.amount }) != expected { problems.append("holdings of \(member) do not add up") }
        }
        _ = try ReceivablesQueries.greenBacked(onlyOutstanding: false, in: state)
        for id in certs.keys.sorted().prefix(8) { _ = try ReceivablesQueries.lineage(certID: id, in: state) }
        for retirement in retirements.values.sorted(by: { $0.retID < $1.retID }).prefix(8) {
            _ = try GreenAssetsQueries.retirementStatement(beneficiary: retirement.beneficiary, from: .min, to: .max, in: state)
            _ = try GreenAssetsQueries.retirementStatement(retirementID: retirement.retID, in: state)
        }
        for program in programs.keys.sorted() {
            var serials: Set<UInt64> = [0, 1, .max - 1, .max]
            for block in blocks.values where block.programID == program {
                serials.formUnion([block.serialStart, block.serialEnd, block.serialStart &- 1, block.serialEnd &+ 1])
                if serials.count > 64 { break }
            }
            for serial in serials.sorted() { _ = try GreenAssetsQueries.provenance(programID: program, serial: serial, in: state) }
        }
        return problems
    }
}
