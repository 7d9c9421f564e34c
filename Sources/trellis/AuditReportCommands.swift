// AuditReportCommands.swift — `trellis audit lineage|provenance|retirements`: DOMAIN.md §C reports from a node
// home or a verified export, as tables (default) or JSON, each naming the height it is true at.
import ArgumentParser
import Foundation
import TrellisAudit
import TrellisLedger

/// Where a report reads its state: --home DIR or an export FILE (verified first).
struct ReportSource: ParsableArguments {
    @Option(help: "Node home directory (the node must be stopped).")
    var home: String?

    @Option(name: .customLong("export"), help: "A chain export file (verified and re-executed first).")
    var exportFile: String?

    @Flag(help: "Print JSON.")
    var json = false

    /// Accepted only to be refused with what to do instead: a report reads a stopped node's home or a verified
    /// export, never a running node (`trellis query … --node` answers the same question from one, with proofs).
    @Option(help: .hidden)
    var node: String?

    /// Refuses --node, naming `query`: the `trellis query` command line that asks a running node the same question.
    /// A report calls this before checking its own arguments, so that `audit retirements --node URL` without
    /// --beneficiary is told what to run instead, not what else is missing from a command that cannot work.
    func refuseNode(query: String) throws {
        guard node != nil else { return }
        throw badInput("audit reports read a stopped node's home (--home DIR) or a verified export (--export FILE), not a running node: "
            + "ask the node with `trellis query \(query) --node URL --key KEY --prove` (the answer comes with state proofs), "
            + "or write an export from it first with `trellis audit export --node URL --key KEY --out FILE`")
    }

    /// The state the report reads (after `refuseNode(query:)`).
    func state(query: String) throws -> ReportState {
        try refuseNode(query: query)
        switch (home, exportFile) {
        case (let home?, nil): return try auditing { () throws(AuditError) in try ReportState(home: try HomeChainSource(path: home).source) }
        case (nil, let file?): return try auditing { () throws(AuditError) in try ReportState(export: file) }
        default: throw badInput("give exactly one of --home DIR or --export FILE")
        }
    }

    func emit<T: Encodable & Sendable>(_ answer: ReportAnswer<T>, table: [[String]], headers: [String], title: String) throws {
        if json { return try printJSON(answer) }
        print("\(title) — true at height \(answer.height) (state root \(answer.stateRoot))")
        printTable(headers: headers, rows: table)
    }
}

func printTable(headers: [String], rows: [[String]]) {
    var widths = headers.map(\.count)
    for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, c in c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(separator: "  ")
    }
    print(line(headers))
    print(line(widths.map { String(repeating: "-", count: $0) }))
    for row in rows { print(line(row)) }
    if rows.isEmpty { print("(none)") }
}

struct AuditLineage: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lineage", abstract: "A certificate piece's ancestors, descendants, live leaves, financings and events.")

    @Argument(help: "Certificate piece id (cert-…).")
    var piece: String?

    @Option(help: "The same id as a flag, as `trellis query lineage --cert` spells it.")
    var cert: String?

    @OptionGroup var source: ReportSource

    func run() throws {
        try source.refuseNode(query: "lineage --cert \(piece ?? cert ?? "CERT")")
        guard let certID = piece ?? cert, piece == nil || cert == nil else {
            throw badInput(piece == nil ? "give the certificate piece id (cert-…), as an argument or with --cert" : "give the certificate piece id once: as an argument or with --cert")
        }
        let state = try source.state(query: "lineage --cert \(certID)")
        let answer = try auditing { () throws(AuditError) in try Reports.lineage(certID, in: state) }
        let l = answer.result
        let pieces = [("self", l.certificate)] + l.ancestors.map { ("ancestor", $0) } + l.descendants.map { ("descendant", $0) }
        var rows = pieces.map { role, c in [role, c.certID, c.holder, "\(c.face)", "\(c.status)", "\(c.depth)"] }
        rows += l.financings.map { ["financing", $0.finID, $0.financier, "\($0.advance)", "\($0.status)", ""] }
        rows += l.transactions.map { ["event", $0.certID, $0.event.actor, $0.event.kind, "height \($0.event.height)", $0.event.txHash.hex] }
        rows += (l.documentAttestation?.attestations ?? []).map { a in
            ["attestation", l.certificate.tradeRef.docHash.hex.prefix(16) + "…", a.attester, a.title, a.isActive ? "active" : "withdrawn", "height \(a.height)"]
        }
        if l.documentAttestation == nil { rows.append(["attestation", l.certificate.tradeRef.docHash.hex.prefix(16) + "…", "-", "(trade documents not attested)", "-", "-"]) }
        try source.emit(answer, table: rows, headers: ["role", "id", "holder/actor", "face/kind", "status", "depth/tx"],
                        title: "Lineage of \(certID) (root \(l.root.rootID), debtor \(l.certificate.debtor), live leaves \(l.liveLeaves.map(\.certID).joined(separator: ", ")))")
    }
}

struct AuditProvenance: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "provenance", abstract: "Where a credit serial came from: block, batch, verification, project, methodology, transfers.")

    @Argument(help: "Serial text PROGRAM-UNIT-COUNTRY-PROJECT-VINTAGE-START-END, or a serial number with --program.")
    var serialText: String?

    @Option(help: "The same serial as a flag, as `trellis query provenance --serial` spells it.")
    var serial: String?

    @Option(help: "Program id, when SERIAL is a number.")
    var program: String?

    @OptionGroup var source: ReportSource

    func run() throws {
        try source.refuseNode(query: "provenance --serial SERIAL --program PROGRAM")
        guard let serial = serialText ?? serial, serialText == nil || self.serial == nil else {
            throw badInput(serialText == nil ? "give the serial, as an argument or with --serial" : "give the serial once: as an argument or with --serial")
        }
        let state = try source.state(query: "provenance --serial SERIAL --program PROGRAM")
        let answer = try auditing { () throws(AuditError) in try Reports.provenance(serial, program: program, in: state) }
        let p = answer.result
        var rows: [[String]] = [
            ["block", p.block.blockID, "owner \(p.block.owner), \(p.block.status), serials \(p.block.serialStart)…\(p.block.serialEnd)"],
            ["batch", p.batch.batchID, "vintage \(p.batch.vintage), serials \(p.batch.serialStart)…\(p.batch.serialEnd)"],
            ["verification", p.verification.verID, "verifier \(p.verification.verifier), report \(p.verification.reportHash.hex)"],
            ["project", p.project.projectID, "proponent \(p.project.proponent), \(p.project.location), \(p.project.country)"],
            ["methodology", p.methodology?.methodologyID ?? "-", p.methodology.map { "v\($0.version) \($0.title)" } ?? "-"],
        ]
        rows += p.verifierAccreditations.map { ["accreditation", $0.scheme, "scopes \($0.sectoralScopes.joined(separator: ",")), \($0.validFrom)…\($0.validTo), active \($0.active)"] }
        rows += (p.reportAttestation?.attestations ?? []).map { a in
            ["attestation", a.attester, "report \(a.isActive ? "attested" : "attestation withdrawn") (\(p.reportAttestation?.docKind.rawValue ?? "")) at height \(a.height): \(a.title)"]
        }
        if p.reportAttestation == nil { rows.append(["attestation", "-", "report \(p.verification.reportHash.hex) not attested"]) }
        rows += p.transfers.map { ["event", $0.blockID, "\($0.event.kind) by \($0.event.actor) at height \($0.event.height), tx \($0.event.txHash.hex)"] }
        try source.emit(answer, table: rows, headers: ["what", "id", "details"], title: "Provenance of \(p.serialText) (serial \(p.serial))")
    }
}

struct AuditRetirements: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "retirements", abstract: "A beneficiary's retirement statement: serial ranges, project, vintage, purpose, tx hashes.")

    /// Required, and checked in `run()` rather than by the parser: after --node is refused (see `refuseNode`).
    @Option(help: "Beneficiary name, exactly as retired for (required).")
    var beneficiary: String?

    @Option(parsing: .unconditional, help: "Earliest retirement time (Unix seconds).", transform: NumberArgument.parse)
    var from: Int64 = 0

    @Option(parsing: .unconditional, help: "Latest retirement time (Unix seconds).", transform: NumberArgument.parse)
    var to: Int64 = Int64.max

    @OptionGroup var source: ReportSource

    func run() throws {
        try source.refuseNode(query: "retirements --beneficiary NAME")
        guard let beneficiary else { throw badInput("give the beneficiary: --beneficiary NAME, exactly as retired for") }
        let state = try source.state(query: "retirements --beneficiary NAME")
        let answer = try auditing { () throws(AuditError) in try Reports.retirements(beneficiary: beneficiary, from: from, to: to, in: state) }
        let rows = answer.result.retirements.flatMap { r in
            r.ranges.map { [r.retID, $0.serialText, $0.projectID, "\($0.vintage)", "\($0.serialEnd - $0.serialStart + 1)", r.purpose, "height \(r.height)", r.txHash.hex] }
        }
        try source.emit(answer, table: rows, headers: ["retirement", "serials", "project", "vintage", "quantity", "purpose", "at", "tx"],
                        title: "Retirements for \(beneficiary): \(answer.result.totalQuantity) units")
    }
}
