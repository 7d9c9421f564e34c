// AuditHarnesses.swift — fuzz harnesses of what `trellis audit` reads from files someone else produced: chain
// export lines and whole export files (TrellisAudit's strict reader and the verifier's per-line checks), and
// proof files (`audit check-proof`).
//
// Contract: refusals are `AuditError`s (typed); a line or proof the strict reader accepts is exactly the JSON the
// writer produces for the decoded value (`ExportJSON.line`), so one value has one accepted text; nothing traps,
// whatever the hex fields inside decode to.
import Foundation
import TrellisAudit
import TrellisCodec
import TrellisLedger

enum AuditHarnesses {
    /// One block line (no newline): the strict reader, then the verifier's local checks of the line.
    static func exportLine(_ data: [UInt8]) throws(FuzzViolation) {
        var height: UInt64 = 1
        if let text = String(validating: data, as: UTF8.self), let line = try? ExportJSON.decode(BlockLine.self, Substring(text), line: 2, what: "block line") {
            try expectWritten(line, text, .exportLine)
            height = line.height
        }
        _ = ChainVerifier.lineChecksPass(data, height: height, chainID: FuzzWorld.chainID)
    }

    /// A whole export file: `ExportFile.parse` (shape, header, genesis), then every block line decoded strictly.
    static func exportFile(_ data: [UInt8]) throws(FuzzViolation) {
        guard let file = try? ExportFile.parse(Data(data)) else { return }
        guard let lines = try? file.decodedLines() else { return }
        guard UInt64(lines.count) == file.header.toHeight - file.header.fromHeight + 1 else {
            throw FuzzViolation(.exportFile, "\(lines.count) block lines accepted for heights \(file.header.fromHeight)…\(file.header.toHeight)")
        }
        for (offset, entry) in lines.enumerated() where entry.line.height != file.header.fromHeight + UInt64(offset) {
            throw FuzzViolation(.exportFile, "line \(entry.number) has height \(entry.line.height), not \(file.header.fromHeight + UInt64(offset))")
        }
    }

    /// A proof file: strict parsing, then the full check against the fuzz world's genesis.
    static func proofFile(_ data: [UInt8]) throws(FuzzViolation) {
        guard let file = try? ProofChecker.parse(Data(data)) else { return }
        guard let text = String(validating: data.dropLast(), as: UTF8.self) else { throw FuzzViolation(.proofFile, "a proof that is not UTF-8 was accepted") }
        try expectWritten(file, text, .proofFile)
        _ = try? ProofChecker.check(file, genesis: FuzzWorld.genesis)
    }

    /// Throws unless the writer produces exactly `text` for `value`.
    static func expectWritten<T: Encodable>(_ value: T, _ text: String, _ target: FuzzTarget) throws(FuzzViolation) {
        guard let written = try? ExportJSON.line(value) else { throw FuzzViolation(target, "an accepted \(T.self) cannot be written back") }
        guard written == text else { throw FuzzViolation(target, "an accepted \(T.self) is written back as other text") }
    }
}
