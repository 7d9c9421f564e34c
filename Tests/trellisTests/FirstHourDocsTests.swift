// FirstHourDocsTests.swift — the commands and examples of README, docs/OPERATIONS.md and docs/TRANSACTIONS.md keep
// working when copied on a later day: no literal Unix time stands where the ledger refuses one that has passed (a
// credit line's `expiry`, a certificate's `maturity`); each is computed from `date +%s`.
import Foundation
import Testing

@Suite struct FirstHourDocsTests {
    /// USER-FINDINGS (twenty-first) #1: README's first transaction set `"expiry":1798761600`, refused `invalid_expiry`
    /// from 2027-01-01 on — and with it every later step of the first hour, which uses that credit line.
    @Test func commandsComputeTheTimesTheLedgerRefusesOncePast() throws {
        // USER-FINDINGS (twenty-first) #3: docs/TRANSACTIONS.md's credit line example had `"expiry": 1767225600`
        // (2026-01-01) and its certificate `"maturity": 1743465600` (2025-04-01): both refused when pasted.
        for document in ["README.md", "docs/OPERATIONS.md", "docs/TRANSACTIONS.md"] {
            let text = try String(contentsOfFile: CLI.repositoryRoot + "/" + document, encoding: .utf8)
            let fixed = text.matches(of: /"(expiry|maturity)":\s*[0-9]+|--(expiry|maturity)[ =][0-9]+/).map { String(text[$0.range]) }
            #expect(fixed.isEmpty, "\(document): fixed times in commands, refused once they have passed: \(fixed)")
        }
    }

    /// Twenty-second first-hour pass: OPERATIONS §11's `trellis query evidence_by --member supplier1 … --node …` had
    /// no `--key` and answered 401. Every documented `trellis query` of a signed read (docs/ACCESS.md: all but
    /// status, block, tx's public parts and evidence) carries a key in the commands people copy.
    @Test func documentedSignedQueriesCarryAKey() throws {
        let signed = ["member", "lineage", "holdings", "exposure", "green_backed", "credit_blocks", "provenance", "retirements", "supply", "evidence_by"]
        var checked = 0
        for document in ["README.md", "docs/OPERATIONS.md", "docs/TRANSACTIONS.md"] {
            let text = try String(contentsOfFile: CLI.repositoryRoot + "/" + document, encoding: .utf8)
            // Fenced code blocks only: the commands a reader copies (prose may name a query without its flags).
            for block in text.components(separatedBy: "```").enumerated().filter({ $0.offset % 2 == 1 }).map(\.element) {
                for command in block.split(separator: "\n").flatMap({ $0.components(separatedBy: ";") }) {
                    guard let name = signed.first(where: { command.contains(" query \($0) ") }) else { continue }
                    checked += 1
                    #expect(command.contains("--key"), "\(document): `query \(name)` without --key is refused 401: \(command)")
                }
            }
        }
        #expect(checked >= 3, "the documents' signed queries were found (\(checked))")
    }
}
