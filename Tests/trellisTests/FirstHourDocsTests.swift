// FirstHourDocsTests.swift — the commands of README and docs/OPERATIONS.md keep working when copied on a later day: no
// literal Unix time stands where the ledger refuses one that has passed (a credit line's `expiry`, a certificate's
// `maturity`); each is computed from `date +%s`.
import Foundation
import Testing

@Suite struct FirstHourDocsTests {
    /// USER-FINDINGS (twenty-first) #1: README's first transaction set `"expiry":1798761600`, refused `invalid_expiry`
    /// from 2027-01-01 on — and with it every later step of the first hour, which uses that credit line.
    @Test func commandsComputeTheTimesTheLedgerRefusesOncePast() throws {
        for document in ["README.md", "docs/OPERATIONS.md"] {
            let text = try String(contentsOfFile: CLI.repositoryRoot + "/" + document, encoding: .utf8)
            let fixed = text.matches(of: /"(expiry|maturity)":\s*[0-9]+|--(expiry|maturity)[ =][0-9]+/).map { String(text[$0.range]) }
            #expect(fixed.isEmpty, "\(document): fixed times in commands, refused once they have passed: \(fixed)")
        }
    }
}
