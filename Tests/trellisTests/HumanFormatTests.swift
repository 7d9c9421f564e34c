// HumanFormatTests.swift — the terminal layout of JSON answers (HumanOutput.swift): aligned fields, tables for
// lists of records, "(none)" for empty lists, yes/no for booleans, control characters shown escaped, canonical hex
// left to --json.
import Foundation
import Testing
@testable import trellis
import TrellisAudit

private func layout(_ json: String) throws -> String {
    HumanFormat.render(try JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]))
}

@Suite struct HumanFormatTests {
    /// A proof (hundreds of bytes of hex) would fill a table row: it is summarised; hashes and signatures stay whole.
    @Test func longHexIsSummarisedAndHashesAndSignaturesStayWhole() throws {
        let proof = String(repeating: "ab", count: 450), hash = String(repeating: "c", count: 64), signature = String(repeating: "d", count: 128)
        let text = try layout(#"{"proofs":[{"key":"cert/x","proof_hex":"\#(proof)"}],"hash":"\#(hash)","signature":"\#(signature)","note":"\#(String(repeating: "z", count: 200))"}"#)
        #expect(!text.contains(proof) && text.contains("abababababababab…abababab (450 bytes; --json prints it whole)"), "\(text)")
        #expect(text.contains(hash) && text.contains(signature))
        #expect(text.contains(String(repeating: "z", count: 200)), "only hex is summarised")
        #expect(text.split(separator: "\n").allSatisfy { $0.count < 150 || $0.contains("z") }, "\(text)")
    }

    /// A rejected transaction at a terminal shows its error once (the receipt repeats it); --json keeps both.
    @Test func aRejectionShowsItsErrorOnceAtATerminal() throws {
        let error: [String: Any] = ["code": "bad_nonce", "message": "nonce 3, expected 2"]
        let answer: [String: Any] = ["status": "rejected", "error": error, "receipt": ["status": "rejected", "error": error, "index": 0]]
        let shown = TxSubmitOptions.answerForTerminal(answer)
        #expect((shown["receipt"] as? [String: Any])?["error"] == nil)
        #expect((shown["error"] as? [String: Any])?["code"] as? String == "bad_nonce")
        let text = HumanFormat.render(shown)
        #expect(text.components(separatedBy: "nonce 3, expected 2").count == 2, "the message once: \(text)")
        // A receipt error that differs from the top-level one is kept.
        let other: [String: Any] = ["status": "rejected", "error": error, "receipt": ["error": ["code": "other", "message": "x"]]]
        #expect((TxSubmitOptions.answerForTerminal(other)["receipt"] as? [String: Any])?["error"] != nil)
    }

    @Test func fieldsAlignWithImportantKeysFirstAndEmptyListsSaySo() throws {
        let text = try layout(#"{"zeta":1,"height":7,"cores":[],"peers":["a","b"],"catching_up":false,"halt_reason":null}"#)
        #expect(text == """
            height       7
            catching_up  no
            cores        (none)
            halt_reason  -
            peers        a, b
            zeta         1

            """)
    }

    @Test func listsOfRecordsBecomeTablesAndNestedObjectsIndent() throws {
        let text = try layout(#"{"result":{"credit_lines":[{"line_id":"l1","limit":1000},{"line_id":"l22","limit":5,"used":2}]},"canonical_hex":"00ff"}"#)
        #expect(text == """
            result:
              credit_lines:
                LIMIT  LINE_ID  USED
                -----  -------  ----
                1000   l1
                5      l22      2

            """)
        #expect(!text.contains("00ff"), "canonical hex is for --json")
    }

    @Test func controlCharactersInValuesCannotMoveTheCursor() throws {
        let text = try layout(#"{"legal_name":"ACME\u001b[2J\nFake: line"}"#)
        #expect(!text.contains("\u{1b}") && text.split(separator: "\n").count == 1, "a value wrote raw control characters: \(text.debugDescription)")
        #expect(text.contains(#"\u{1b}[2J\u{a}Fake: line"#))
    }

    @Test func recordsWithNestedValuesAreBlocksNotTables() throws {
        let text = try layout(#"[{"a":1,"b":{"c":2}},{"a":3,"b":{"c":4}}]"#)
        #expect(text == """
            [1]
              a  1
              b:
                c  2
            [2]
              a  3
              b:
                c  4

            """)
    }

    /// Block times, maturities and periods are Unix seconds in JSON; a person at a terminal gets the UTC date beside
    /// them, and a query's open period end (Int64.min / Int64.max) reads "(any)", not -9223372036854775808.
    @Test func timesShowTheirDateAndOpenPeriodEndsReadAny() throws {
        let text = try layout(#"{"maturity":1796617944,"period_from":-9223372036854775808,"period_to":9223372036854775807,"face":1796617944,"time":0}"#)
        #expect(text.contains("maturity     1796617944 (2026-12-07 04:32:24 UTC)"), "\(text)")
        #expect(text.contains("period_from  (any)") && text.contains("period_to    (any)"), "\(text)")
        #expect(text.contains("face         1796617944\n"), "an amount is not a time: \(text)")
        #expect(text.contains("time         0 (1970-01-01 00:00:00 UTC)"), "\(text)")
        let table = try layout(#"[{"event":"issue","time":951782400},{"event":"split","time":-1}]"#)
        #expect(table.contains("issue  951782400 (2000-02-29 00:00:00 UTC)") && table.contains("split  -1 (1969-12-31 23:59:59 UTC)"), "\(table)")
        #expect(try layout(#"{"time":true}"#).contains("time  yes"), "a boolean under a time key stays a boolean")
    }

    @Test func unixTimeTextCoversTheYearsAReaderMeansAndNothingElse() {
        #expect(UnixTimeText.utc(253_402_300_799) == "9999-12-31 23:59:59 UTC")
        #expect(UnixTimeText.utc(253_402_300_800) == nil)
        #expect(UnixTimeText.utc(-62_135_596_800) == "0001-01-01 00:00:00 UTC")
        #expect(UnixTimeText.utc(-62_135_596_801) == nil)
        #expect(UnixTimeText.labelled(253_402_300_800) == "253402300800")
        #expect(UnixTimeText.labelled(.min) == "(any)" && UnixTimeText.labelled(.max) == "(any)")
    }
}
