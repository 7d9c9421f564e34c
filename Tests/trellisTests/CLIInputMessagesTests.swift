// CLIInputMessagesTests.swift — bad command-line input is refused with a message that says what is wrong, before any
// network access: a negative amount is "must not be negative" (not "Missing value", as when "-3" was taken for a flag),
// a negative time is a time like any other, and an unknown enum value in a payload lists the values there are. A
// negative height (`query block -1`) is named as such, not as a missing argument; a payload integer written 1e3 is
// refused naming its field; an unknown payload field gets one message whichever kind it is; and the audit reports
// refuse --node saying how to ask a running node (before asking for their subject); the audit commands' heights and
// times are numbers like any other. An address that answers no HTTP (a p2p port) says which to give.
import Foundation
import Testing
import TrellisSpawn
#if canImport(Glibc)
import Glibc
#endif

@Suite struct CLIInputMessagesTests {
    /// `tx certificate issue` with the given face and maturity, a node nobody listens on and a key file that does
    /// not exist: parsing comes first, then the key file (so a parsed command fails on the key, never the network).
    private func issue(face: String, maturity: String) throws -> CLIResult {
        try CLI.run(["tx", "certificate", "issue", "--credit-line", "line1", "--holder", "supplier1", "--face", face, "--maturity", maturity,
                     "--contract-no", "C-1", "--invoices", "INV-1", "--doc-hash", String(repeating: "ab", count: 32),
                     "--node", "http://127.0.0.1:1", "--key", "/nonexistent/core.key"])
    }

    @Test func aNegativeAmountMustBePositive() throws {
        let negative = try issue(face: "-3", maturity: "1900000000")
        #expect(negative.status == 2)
        #expect(negative.stderr.contains("The value '-3' is invalid for '--face <face>': the value must not be negative"), "\(negative.stderr)")
        #expect(!negative.stderr.contains("Missing value"), "\(negative.stderr)")
        let word = try issue(face: "3x", maturity: "1900000000")
        #expect(word.status == 2 && word.stderr.contains("'3x' is invalid for '--face <face>': not a whole number"), "\(word.stderr)")
        let huge = try issue(face: "18446744073709551616", maturity: "1900000000")
        #expect(huge.status == 2 && huge.stderr.contains("out of range: the value must be from 0 to 18446744073709551615"), "\(huge.stderr)")
        // The same for an optional option and one with a default.
        let nonce = try CLI.run(["tx", "send", "--kind", "credit_line.set", "--payload", "{}", "--nonce", "-1", "--expires-in", "-2",
                                 "--node", "http://127.0.0.1:1", "--key", "/nonexistent/bank.key"])
        #expect(nonce.status == 2 && nonce.stderr.contains("'-1' is invalid for '--nonce <nonce>': the value must not be negative"), "\(nonce.stderr)")
    }

    @Test func aNegativeTimeIsAValueNotAFlag() throws {
        // Times are signed: -5 parses (the ledger judges it), so the command goes on to read the key file.
        let result = try issue(face: "5", maturity: "-5")
        #expect(result.status == 2)
        #expect(!result.stderr.contains("--maturity") && result.stderr.contains("/nonexistent/core.key"), "\(result.stderr)")
    }

    /// USER-FINDINGS #22: "-1" was taken for an option, and the parser then said the height was missing.
    @Test func aNegativeHeightIsNamedNotMissing() throws {
        let negative = try CLI.run(["query", "block", "-1", "--node", "http://127.0.0.1:1"])
        #expect(negative.status == 2)
        #expect(negative.stderr.hasPrefix("error: <height> is never negative: \"-1\" was read as an option"), "\(negative.stderr)")
        #expect(!negative.stderr.contains("Missing expected argument"), "\(negative.stderr)")
        #expect(negative.stderr.contains("Usage: trellis query block <height>"), "\(negative.stderr)")
        let exponent = try CLI.run(["query", "block", "1e3", "--node", "http://127.0.0.1:1"])
        #expect(exponent.status == 2 && exponent.stderr.contains(#"height "1e3" must be a non-negative integer or latest"#), "\(exponent.stderr)")
        // After a flag (which takes no value) the number is the argument all the same; after an option it may be
        // the option's value, and the parser's message stands.
        let afterFlag = try CLI.run(["query", "block", "--json", "-1", "--node", "http://127.0.0.1:1"])
        #expect(afterFlag.status == 2)
        #expect(afterFlag.stderr.hasPrefix("error: <height> is never negative: \"-1\" was read as an option"), "\(afterFlag.stderr)")
        let afterOption = try CLI.run(["query", "block", "--node", "-1"])
        #expect(afterOption.status == 2 && afterOption.stderr.hasPrefix("Error: Missing value for '--node <node>'"), "\(afterOption.stderr)")
        // Without a number the parser's own message stands.
        let missing = try CLI.run(["query", "block", "--node", "http://127.0.0.1:1"])
        #expect(missing.status == 2 && missing.stderr.contains("Missing expected argument '<height>'"), "\(missing.stderr)")
    }

    /// USER-FINDINGS #9: `"limit":1e3` was taken as 1000, and an unknown field read differently by kind.
    @Test func payloadIntegersAreDigitsAndUnknownFieldsReadAlike() throws {
        func send(_ kind: String, _ payload: String) throws -> CLIResult {
            try CLI.run(["tx", "send", "--kind", kind, "--payload", payload, "--node", "http://127.0.0.1:1", "--key", "/nonexistent/k.key"])
        }
        for written in ["1e3", "1E3", "1000.0"] {
            let result = try send("credit_line.set", #"{"line_id":"l","core":"c","limit":\#(written),"expiry":5}"#)
            #expect(result.status == 2, "\(written): \(result.stderr)")
            #expect(result.stderr.contains(#"error: JSON payload of credit_line.set is invalid: "limit" is written with a fraction or an exponent (\#(written)); a whole number is written in digits only"#),
                    "\(written): \(result.stderr)")
        }
        // Whole numbers in digits go on (to the key file) — the 64-bit extremes too, which Foundation reads as
        // floating point (PoisonedTransactionEndToEndTests sends them on purpose); and digits inside a string are text.
        let digits = try send("credit_line.set", #"{"line_id":"l","core":"c","limit":1000,"expiry":-5}"#)
        #expect(digits.status == 2 && digits.stderr.contains("/nonexistent/k.key"), "\(digits.stderr)")
        let extremes = try send("project.register", """
            {"project_id":"p1.5e3","program_id":"P","methodology_id":"M","methodology_version":"1.0","country":"CN","location":"L",\
            "device_ids":["D"],"sector":"energy","crediting_start":\(Int64.min),"crediting_end":\(Int64.max),"external_ids":[]}
            """)
        #expect(extremes.status == 2 && extremes.stderr.contains("/nonexistent/k.key"), "\(extremes.stderr)")

        let hash = String(repeating: "ab", count: 32)
        let unknown = [
            ("credit_line.set", #"{"line_id":"l","core":"c","limit":1,"expiry":5,"extra":1}"#, "extra"),
            ("evidence.attest", #"{"doc_hash":"\#(hash)","doc_kind":"invoice","title":"t","kind":1}"#, "kind"),
            ("evidence.attest", #"{"doc_hash":"\#(hash)","doc_kind":"invoice","title":"t","refs":[{"kind":"project","id":"p","zz":1}]}"#, "refs[0].zz"),
        ]
        for (kind, payload, field) in unknown {
            let result = try send(kind, payload)
            #expect(result.status == 2)
            #expect(result.stderr == "error: JSON payload of \(kind) has no field \"\(field)\" (docs/TRANSACTIONS.md lists each kind's fields)\n", "\(result.stderr)")
        }
    }

    /// USER-FINDINGS #21: `audit retirements --node` was "Unknown option '--node'. Did you mean '--home'?".
    @Test func auditReportsRefuseANodeSayingHowToAskOne() throws {
        let cases = [
            (["audit", "retirements", "--beneficiary", "Acme", "--node", "http://127.0.0.1:1"], "trellis query retirements --beneficiary NAME --node URL"),
            (["audit", "lineage", "cert-1", "--node", "http://127.0.0.1:1"], "trellis query lineage --cert cert-1 --node URL"),
            (["audit", "provenance", "CCER-MWh-CN-p-2025-1-10", "--node", "http://127.0.0.1:1"], "trellis query provenance --serial SERIAL --program PROGRAM --node URL"),
        ]
        for (arguments, query) in cases {
            let result = try CLI.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("audit reports read a stopped node's home (--home DIR) or a verified export (--export FILE), not a running node"), "\(result.stderr)")
            #expect(result.stderr.contains(query), "\(result.stderr)")
        }
    }

    /// A report given --node and not its subject (`audit retirements --node URL` without --beneficiary) is told the
    /// query to run instead, not first what else to add to a command that cannot work; without --node, the missing
    /// subject is named.
    @Test func auditReportsRefuseANodeBeforeAskingForTheirSubject() throws {
        for report in ["retirements", "lineage", "provenance"] {
            let result = try CLI.run(["audit", report, "--node", "http://127.0.0.1:1"])
            #expect(result.status == 2, "\(report): \(result.stderr)")
            #expect(result.stderr.hasPrefix("error: audit reports read a stopped node's home (--home DIR) or a verified export (--export FILE), not a running node: "
                                            + "ask the node with `trellis query \(report) --"), "\(report): \(result.stderr)")
        }
        let noBeneficiary = try CLI.run(["audit", "retirements", "--home", "/nonexistent/home"])
        #expect(noBeneficiary.status == 2)
        #expect(noBeneficiary.stderr == "error: give the beneficiary: --beneficiary NAME, exactly as retired for\n", "\(noBeneficiary.stderr)")
    }

    /// Heights and times given to the audit and light commands are refused like every other number: a negative
    /// height or one written 1e3 says why, a negative time is a time (USER-FINDINGS #22's shapes, on every command).
    @Test func auditNumbersAreRefusedSayingWhy() throws {
        let node = ["--node", "http://127.0.0.1:1"]
        let heights: [([String], String)] = [
            (["audit", "export", "--out", "/nonexistent/x.jsonl", "--from"] , "--from <from>"),
            (["audit", "export", "--out", "/nonexistent/x.jsonl", "--to"], "--to <to>"),
            (["audit", "prove", "--out", "/nonexistent/p.json", "--state", "k", "--height"], "--height <height>"),
            (["audit", "certificate", "retirement", "ret-1", "--out", "/nonexistent/c.json", "--height"], "--height <height>"),
            (["light", "--trust", "/nonexistent/genesis.json", "--height"], "--height <height>"),
        ]
        for (arguments, option) in heights {
            let negative = try CLI.run(arguments + ["-1"] + node)
            #expect(negative.status == 2)
            #expect(negative.stderr.contains("The value '-1' is invalid for '\(option)': the value must not be negative"), "\(arguments): \(negative.stderr)")
            let exponent = try CLI.run(arguments + ["1e3"] + node)
            #expect(exponent.status == 2)
            #expect(exponent.stderr.contains("The value '1e3' is invalid for '\(option)': not a whole number"), "\(arguments): \(exponent.stderr)")
        }
        for option in ["--from", "--to"] {
            let time = try CLI.run(["audit", "retirements", "--beneficiary", "Acme", option, "-5"])
            #expect(time.status == 2 && time.stderr == "error: give exactly one of --home DIR or --export FILE\n", "\(option): \(time.stderr)")
            let exponent = try CLI.run(["audit", "retirements", "--beneficiary", "Acme", option, "1e3"])
            #expect(exponent.status == 2)
            #expect(exponent.stderr.contains("The value '1e3' is invalid for '\(option) <\(option.dropFirst(2))>': not a whole number"), "\(exponent.stderr)")
        }
    }

    /// USER-FINDINGS #13: a node's p2p port (it reads the request and closes) gave a bare "Empty reply from server".
    @Test func aPortThatDoesNotSpeakHTTPSaysWhichAddressToGive() throws {
        let script = """
        import socket
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
        print(s.getsockname()[1], flush=True)
        while True:
            c, _ = s.accept(); c.recv(65536); c.shutdown(socket.SHUT_WR); c.close()
        """
        let (stub, url) = try startPythonHTTPStub(script, [])
        defer { stub.send(SIGKILL); stub.waitUntilExit() }
        let result = try CLI.run(["query", "status", "--node", url])
        #expect(result.status == 2)
        #expect(result.stderr.contains("Empty reply from server. Something listens there but does not answer HTTP — a node's p2p port? "
                                       + "The URL must be the node's [api] listen address, not its [p2p] one"), "\(result.stderr)")
    }

    @Test func aNodeURLWithV1SaysToGiveTheBase() throws {
        let result = try CLI.run(["query", "status", "--node", "http://127.0.0.1:1/v1/"])
        #expect(result.status == 2 && result.stderr.contains("ends with /v1: give the API's base URL, such as http://127.0.0.1:1"), "\(result.stderr)")
    }

    @Test func anUnknownDocumentKindListsTheKinds() throws {
        let payload = #"{"doc_hash":"\#(String(repeating: "ab", count: 32))","doc_kind":"receipt","title":"x"}"#
        let result = try CLI.run(["tx", "send", "--kind", "evidence.attest", "--payload", payload, "--node", "http://127.0.0.1:1", "--key", "/nonexistent/k.key"])
        #expect(result.status == 2)
        #expect(result.stderr.contains(#""receipt" is not one of contract, invoice, bill_of_lading, verification_report, delivery_note, other"#), "\(result.stderr)")
        #expect(!result.stderr.contains("Cannot initialize"), "\(result.stderr)")
    }

    /// `--payload @FILE`: a file that cannot be read says why; bytes that are not UTF-8 say so (not "not valid JSON").
    @Test func aPayloadFileThatCannotBeReadSaysWhy() throws {
        func send(_ payload: String) throws -> CLIResult {
            try CLI.run(["tx", "send", "--kind", "evidence.attest", "--payload", payload, "--node", "http://127.0.0.1:1", "--key", "/nonexistent/k.key"])
        }
        let missing = try send("@/nonexistent/payload.json")
        #expect(missing.status == 2 && missing.stderr.contains("cannot read /nonexistent/payload.json: No such file or directory"), "\(missing.stderr)")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("latin1-\(getpid()).json")
        try Data([0x7B, 0x22, 0x74, 0x69, 0x74, 0x6C, 0x65, 0x22, 0x3A, 0x22, 0xE9, 0x22, 0x7D]).write(to: file)  // {"title":"é"} in Latin-1
        defer { try? FileManager.default.removeItem(at: file) }
        let latin1 = try send("@" + file.path)
        #expect(latin1.status == 2 && latin1.stderr.contains("\(file.path) is not UTF-8 text"), "\(latin1.stderr)")
        #expect(!latin1.stderr.contains("not valid JSON"), "\(latin1.stderr)")
    }
}

