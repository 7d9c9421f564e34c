// Reports.swift — provenance reports (DOMAIN.md §C) over a node home or a verified export, each naming the height
// it is true at.
//
// From an export the chain is first verified and re-executed in memory (`ChainVerifier`), so a report from an
// export never rests on an unverified file. The answers come from the contracts' own query functions.
import Foundation
import TrellisCrypto
import TrellisLedger

/// The state a report reads: a height, its certified state root, and a reader of that state.
public struct ReportState {
    public let height: UInt64
    public let stateRoot: Hash
    public let reader: any StateReader

    /// The latest state of a node home (a stopped node's: nothing commits while the report reads), from the flat
    /// `state` column family: the queries' prefix scans through the tree would visit every node of it.
    public init(home: StoreChainSource) throws(AuditError) {
        do {
            height = try home.reader.latestHeight()
            stateRoot = try home.reader.stateRoot(atHeight: height)
            reader = CommittedState(store: home.reader.store)
        } catch { throw .source("cannot read the state of \(home.label): \(error)") }
    }

    /// The state after the last block of a verified export.
    public init(export path: String) throws(AuditError) {
        let replay = try ChainVerifier.verify(try ExportFile.read(path: path)).replay
        height = replay.engine.currentHeight
        stateRoot = replay.engine.stateRoot
        reader = CommittedState(store: replay.store)
    }
}

/// A report answer with the height and state root it is true at (the `--json` shape).
public struct ReportAnswer<Result: Encodable & Sendable>: Encodable, Sendable {
    public var query: String
    public var height: UInt64
    public var stateRoot: String
    public var result: Result

    enum CodingKeys: String, CodingKey {
        case query, height
        case stateRoot = "state_root"
        case result
    }
}

public enum Reports {
    /// The lineage of certificate piece `certID`.
    public static func lineage(_ certID: String, in state: ReportState) throws(AuditError) -> ReportAnswer<CertificateLineage> {
        let lineage: CertificateLineage?
        do { lineage = try ReceivablesQueries.lineage(certID: certID, in: state.reader) } catch { throw .source("lineage query failed: \(error)") }
        guard let lineage else { throw .notFound("certificate \(certID) does not exist at height \(state.height)") }
        return ReportAnswer(query: "lineage \(certID)", height: state.height, stateRoot: state.stateRoot.hex, result: lineage)
    }

    /// The provenance of one serial: `serial` is a number with `program`, or a serial text
    /// "PROGRAM-UNIT-COUNTRY-PROJECT-VINTAGE-START-END" (its program is the text before the first "-", its serial START).
    public static func provenance(_ serial: String, program: String?, in state: ReportState) throws(AuditError) -> ReportAnswer<Provenance> {
        let (programID, number) = try parseSerial(serial, program: program)
        let answer: Provenance?
        do { answer = try GreenAssetsQueries.provenance(programID: programID, serial: number, in: state.reader) } catch { throw .source("provenance query failed: \(error)") }
        guard let answer else { throw .notFound("serial \(number) of program \(programID) was never issued (height \(state.height))") }
        return ReportAnswer(query: "provenance \(programID) \(number)", height: state.height, stateRoot: state.stateRoot.hex, result: answer)
    }

    /// Retirements for `beneficiary` with time in [from, to].
    public static func retirements(beneficiary: String, from: Int64, to: Int64, in state: ReportState) throws(AuditError) -> ReportAnswer<RetirementStatement> {
        do {
            let statement = try GreenAssetsQueries.retirementStatement(beneficiary: beneficiary, from: from, to: to, in: state.reader)
            return ReportAnswer(query: "retirements \(beneficiary)", height: state.height, stateRoot: state.stateRoot.hex, result: statement)
        } catch { throw .source("retirement query failed: \(error)") }
    }

    static func parseSerial(_ text: String, program: String?) throws(AuditError) -> (String, UInt64) {
        if let program {
            guard let n = UInt64(text) else { throw .malformed(line: 0, message: "with --program, the serial must be a number, not \"\(text)\"") }
            return (program, n)
        }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, let start = UInt64(parts[parts.count - 2]), UInt64(parts[parts.count - 1]) != nil, !parts[0].isEmpty else {
            throw .malformed(line: 0, message: "\"\(text)\" is not a serial text PROGRAM-…-START-END (or pass --program P with a number)")
        }
        return (String(parts[0]), start)
    }
}
