// TransactionDocsTests.swift — docs/TRANSACTIONS.md and `trellis tx kinds` cannot drift: every kind the code knows
// has a section in the document, and every kind the document describes exists.
import Foundation
import Testing

@Suite struct TransactionDocsTests {
    @Test func everyKindIsDocumentedAndEveryDocumentedKindExists() throws {
        let listed = try CLI.run(["tx", "kinds", "--json"])
        #expect(listed.status == 0)
        let kinds = Set(((try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]) ?? []).compactMap { $0["kind"] as? String })
        #expect(kinds.count >= 25)

        // The repository root is five levels above the test binary (.build/<triple>/debug/…) — search upwards.
        var dir = CLI.binary.deletingLastPathComponent()
        var doc: String?
        for _ in 0..<6 {
            if let text = try? String(contentsOf: dir.appendingPathComponent("docs/TRANSACTIONS.md"), encoding: .utf8) { doc = text; break }
            dir = dir.deletingLastPathComponent()
        }
        let text = try #require(doc, "docs/TRANSACTIONS.md not found above \(CLI.binary.path)")
        // Headings look like: ### `certificate.issue`  or  ### `financing.release` / `financing.repay` (…)
        var documented = Set<String>()
        for line in text.split(separator: "\n") where line.hasPrefix("### `") {
            for part in line.split(separator: "`").enumerated() where part.offset % 2 == 1 { documented.insert(String(part.element)) }
        }
        #expect(kinds.subtracting(documented).isEmpty, "kinds without a section in docs/TRANSACTIONS.md: \(kinds.subtracting(documented).sorted())")
        #expect(documented.subtracting(kinds).isEmpty, "documented kinds the code does not know: \(documented.subtracting(kinds).sorted())")

        // "Receipt ids": one row per kind saying what its receipt's `created` lists (caller-chosen, derived, touched
        // or nothing), every kind exactly once.
        let lines = text.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "### Receipt ids"), "docs/TRANSACTIONS.md has no \"### Receipt ids\" table")
        let rows = lines[(start + 1)...].drop { !$0.hasPrefix("| kind |") }.dropFirst(2).prefix { $0.hasPrefix("|") }
        var inTable: [String] = []
        for row in rows {
            let first = row.split(separator: "|").first ?? ""
            for part in first.split(separator: "`").enumerated() where part.offset % 2 == 1 { inTable.append(String(part.element)) }
        }
        #expect(Set(inTable) == kinds, "Receipt ids table: missing \(kinds.subtracting(inTable).sorted()), unknown \(Set(inTable).subtracting(kinds).sorted())")
        #expect(inTable.count == Set(inTable).count, "a kind has two rows in the Receipt ids table: \(inTable.sorted())")
    }
}
