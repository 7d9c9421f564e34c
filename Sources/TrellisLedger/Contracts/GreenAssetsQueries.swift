// GreenAssetsQueries.swift — read-only queries over green-asset state (DOMAIN.md §C): provenance of a serial,
// retirement statements, supply reconciliation, blocks per owner. Pure functions of a `StateReader`; output
// order never depends on dictionary iteration. Errors are `StateError` (unreadable or corrupt state).
import TrellisCodec

/// Queries auditors, regulators and members run against green-asset state.
public enum GreenAssetsQueries {
    /// The live (non-consumed) blocks `owner` holds, by (status, program, serial start).
    public static func blocks(owner: String, in state: StateReader) throws -> [CreditBlock] {
        let prefix = GreenAssetsKeys.blocks(owner: owner)
        var blocks: [CreditBlock] = []
        for entry in try state.scan(prefix: prefix) {
            blocks.append(try AssetState.required(CreditBlock.self, GreenAssetsKeys.block(AssetState.keySuffix(entry.key, after: prefix)), state))
        }
        return blocks.sorted { a, b in
            if a.status.tag != b.status.tag { return a.status.tag < b.status.tag }
            if a.programID != b.programID { return a.programID.utf8.lexicographicallyPrecedes(b.programID.utf8) }
            return a.serialStart < b.serialStart
        }
    }

    /// The provenance of `serial` in `programID` (with the attestation record of the verification's `report_hash`,
    /// nil when nobody attested it); nil when the serial was never issued.
    public static func provenance(programID: String, serial: UInt64, in state: StateReader) throws -> Provenance? {
        guard let program = try state.read(Program.self, GreenAssetsKeys.program(programID)) else { return nil }
        let serialsPrefix = GreenAssetsKeys.batchSerials(program: programID)
        var batchID: String?
        for entry in try state.scan(prefix: serialsPrefix) {
            guard let start = UInt64(AssetState.keySuffix(entry.key, after: serialsPrefix)), start <= serial else { break }
            batchID = String(decoding: entry.value, as: UTF8.self)
        }
        guard let batchID else { return nil }
        let batch = try AssetState.required(Batch.self, GreenAssetsKeys.batch(batchID), state)
        guard serial <= batch.serialEnd else { return nil }
        let blocksPrefix = GreenAssetsKeys.liveBlocks(batch: batchID)
        var holding: CreditBlock?
        for entry in try state.scan(prefix: blocksPrefix) {
            let block = try AssetState.required(CreditBlock.self, GreenAssetsKeys.block(AssetState.keySuffix(entry.key, after: blocksPrefix)), state)
            if block.serialStart <= serial && serial <= block.serialEnd { holding = block }
        }
        guard let block = holding else {
            throw StateError.corruptValue(key: StateKey.describe(blocksPrefix), reason: "no live block of batch \(batchID) holds serial \(serial)")
        }
        var history: [CreditBlock] = []
        var cursor = block.parentID
        while let parentID = cursor {
            let parent = try AssetState.required(CreditBlock.self, GreenAssetsKeys.block(parentID), state)
            history.append(parent)
            cursor = parent.parentID
        }
        history.reverse()  // oldest first; appending then reversing stays linear however deep the chain
        let verification = try AssetState.required(Verification.self, GreenAssetsKeys.verification(batch.verID), state)
        let project = try AssetState.required(Project.self, GreenAssetsKeys.project(batch.projectID), state)
        let methodology = try state.read(Methodology.self, GreenAssetsKeys.methodology(project.methodologyID, version: project.methodologyVersion))
        let verifier = try AssetMembers.find(verification.verifier, in: state)
        let accreditations = (verifier?.accreditations ?? []).filter { $0.scheme == verification.accreditationScheme }.map(AccreditationView.init)
        let transfers = (history + [block]).flatMap { b in b.events.map { BlockEvent(blockID: b.blockID, event: $0) } }
        let text = CreditSerial.text(program: program, country: project.country, projectID: project.projectID, vintage: batch.vintage, start: block.serialStart, end: block.serialEnd)
        let reportAttestation = try EvidenceQueries.evidence(docHash: verification.reportHash, in: state)
        return Provenance(programID: programID, serial: serial, block: block, serialText: text, history: history, batch: batch, verification: verification, verifierAccreditations: accreditations, project: project, methodology: methodology, transfers: transfers, reportAttestation: reportAttestation)
    }

    /// Retirements for `beneficiary` whose time is in [from, to], by (time, id).
    public static func retirementStatement(beneficiary: String, from: Int64, to: Int64, in state: StateReader) throws -> RetirementStatement {
        let prefix = GreenAssetsKeys.retirements(beneficiary: beneficiary)
        var retirements: [Retirement] = []
        for entry in try state.scan(prefix: prefix) {
            let retirement = try AssetState.required(Retirement.self, GreenAssetsKeys.retirement(AssetState.keySuffix(entry.key, after: prefix)), state)
            if retirement.beneficiary == beneficiary && from <= retirement.time && retirement.time <= to { retirements.append(retirement) }
        }
        retirements.sort { a, b in a.time != b.time ? a.time < b.time : a.retID.utf8.lexicographicallyPrecedes(b.retID.utf8) }
        return RetirementStatement(beneficiary: beneficiary, periodFrom: from, periodTo: to, retirements: retirements, totalQuantity: total(retirements))
    }

    /// The statement of one retirement; nil when it does not exist.
    public static func retirementStatement(retirementID: String, in state: StateReader) throws -> RetirementStatement? {
        guard let retirement = try state.read(Retirement.self, GreenAssetsKeys.retirement(retirementID)) else { return nil }
        return RetirementStatement(beneficiary: retirement.beneficiary, periodFrom: nil, periodTo: nil, retirements: [retirement], totalQuantity: total([retirement]))
    }

    private static func total(_ retirements: [Retirement]) -> UInt128 {
        retirements.reduce(0) { sum, r in r.ranges.reduce(sum) { $0 + UInt128($1.quantity) } }
    }

    /// Issued = active + locked + buffer + retired + cancelled, per batch and per program (issued == the program's
    /// serial counter), with a check that each batch's live blocks partition its range exactly.
    public static func supplyReconciliation(in state: StateReader) throws -> SupplyReport {
        var batchLines: [SupplyLine] = []
        var programLines: [String: SupplyLine] = [:]
        for entry in try state.scan(prefix: GreenAssetsKeys.allBatches) {
            let batch = try AssetState.decode(Batch.self, entry, state)
            var line = SupplyLine(id: batch.batchID, issued: UInt128(batch.quantity), active: 0, locked: 0, buffer: 0, retired: 0, cancelled: 0, frozen: 0, balanced: true)
            let prefix = GreenAssetsKeys.liveBlocks(batch: batch.batchID)
            var blocks: [CreditBlock] = []
            for blockEntry in try state.scan(prefix: prefix) {
                blocks.append(try AssetState.required(CreditBlock.self, GreenAssetsKeys.block(AssetState.keySuffix(blockEntry.key, after: prefix)), state))
            }
            blocks.sort { $0.serialStart < $1.serialStart }
            // "One past the end" in 128 bits: exact even for a range ending at 2⁶⁴ − 1.
            var next = UInt128(batch.serialStart)
            for block in blocks {
                if UInt128(block.serialStart) != next || block.batchID != batch.batchID || !block.status.isLive { line.balanced = false }
                next = UInt128(block.serialEnd) + 1
                let units = UInt128(block.quantity)
                switch block.status {
                case .active: line.active += units
                case .locked: line.locked += units
                case .buffer: line.buffer += units
                case .retired: line.retired += units
                case .cancelled: line.cancelled += units
                case .consumed: line.balanced = false
                }
                if block.frozen { line.frozen += units }
            }
            if next != UInt128(batch.serialEnd) + 1 { line.balanced = false }
            if line.active + line.locked + line.buffer + line.retired + line.cancelled != line.issued { line.balanced = false }
            batchLines.append(line)
            var program = programLines[batch.programID] ?? SupplyLine(id: batch.programID, issued: 0, active: 0, locked: 0, buffer: 0, retired: 0, cancelled: 0, frozen: 0, balanced: true)
            program.issued += line.issued
            program.active += line.active
            program.locked += line.locked
            program.buffer += line.buffer
            program.retired += line.retired
            program.cancelled += line.cancelled
            program.frozen += line.frozen
            program.balanced = program.balanced && line.balanced
            programLines[batch.programID] = program
        }
        var programs: [SupplyLine] = []
        for entry in try state.scan(prefix: GreenAssetsKeys.allPrograms) {
            let program = try AssetState.decode(Program.self, entry, state)
            var line = programLines[program.programID] ?? SupplyLine(id: program.programID, issued: 0, active: 0, locked: 0, buffer: 0, retired: 0, cancelled: 0, frozen: 0, balanced: true)
            if line.issued != UInt128(program.serialCounter) { line.balanced = false }
            programs.append(line)
        }
        let balanced = batchLines.allSatisfy(\.balanced) && programs.allSatisfy(\.balanced)
        return SupplyReport(batches: batchLines, programs: programs, balanced: balanced)
    }
}
