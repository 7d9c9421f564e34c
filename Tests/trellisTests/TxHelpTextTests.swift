// TxHelpTextTests.swift — the option help of every command that signs a transaction (`trellis tx …`, `trellis
// evidence attest|revoke`) tells a user enough to act: no one- or two-word help ("Why.", "The title."), and every
// free-text field (a reason, a summary, a title …) says its limit and where the text ends up. Read from the binary's
// own description of its commands (`--experimental-dump-help`), so a new option is checked the day it is added.
import Foundation
import Testing

@Suite struct TxHelpTextTests {
    /// Options whose value is free text a user writes for others to read.
    static let freeTextOptions: Set<String> = ["reason", "summary", "title", "purpose", "beneficiary", "location"]

    /// (command path, option name, help) of every argument under the commands that sign transactions.
    static func optionHelps() throws -> [(command: String, option: String, help: String)] {
        let result = try CLI.run(["--experimental-dump-help"])
        #expect(result.status == 0, "\(result.stderr)")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let command = try #require(root["command"] as? [String: Any])
        var found: [(String, String, String)] = []
        func walk(_ node: [String: Any], path: [String]) {
            let here = path + [node["commandName"] as? String ?? "?"]
            let signs = here.count >= 2 && (here[1] == "tx" || (here[1] == "evidence" && ["attest", "revoke"].contains(here.last)))
            if signs {
                for argument in node["arguments"] as? [[String: Any]] ?? [] {
                    let names = (argument["names"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                    let name = names.first ?? argument["valueName"] as? String ?? "?"
                    guard name != "help" else { continue }
                    found.append((here.joined(separator: " "), name, argument["abstract"] as? String ?? ""))
                }
            }
            for sub in node["subcommands"] as? [[String: Any]] ?? [] { walk(sub, path: here) }
        }
        walk(command, path: [])
        return found
    }

    @Test func everyTransactionOptionSaysMoreThanAWordOrTwo() throws {
        let helps = try Self.optionHelps()
        #expect(helps.count > 100, "the walk found the tx commands' options (\(helps.count))")
        #expect(helps.contains { $0.command == "trellis tx credit unlock" && $0.option == "reason" }, "credit unlock --reason is walked")
        let terse = helps.filter { $0.help.split(separator: " ").count < 3 }
        #expect(terse.isEmpty, "help a user cannot act on: \(terse.map { "\($0.command) --\($0.option): \"\($0.help)\"" })")
    }

    @Test func everyFreeTextOptionStatesItsLimitAndWhereItShowsUp() throws {
        let freeText = try Self.optionHelps().filter { Self.freeTextOptions.contains($0.option) }
        #expect(freeText.count >= 9, "reject, freeze/unfreeze, cancel/lock/unlock, retire, propose, methodology, project, evidence")
        for entry in freeText {
            #expect(entry.help.contains("bytes"), "\(entry.command) --\(entry.option) does not say its limit: \"\(entry.help)\"")
            #expect(entry.help.split(separator: " ").count >= 8, "\(entry.command) --\(entry.option) does not say what it is for or where it shows: \"\(entry.help)\"")
        }
    }

    /// A reason its asset's parties read in an answer's event_reasons (lineage: a piece's reject/freeze/unfreeze;
    /// provenance: a credit block's freeze/unfreeze) says so, not only `query tx` (which answers the signer alone):
    /// twenty-third session's F1 (B), and the provenance answer since the twenty-fourth.
    @Test func reasonsReadInEventReasonsSayWhere() throws {
        let helps = try Self.optionHelps().filter { $0.option == "reason" }
        for command in ["trellis tx asset freeze", "trellis tx asset unfreeze"] {
            let help = try #require(helps.first { $0.command == command }?.help, "\(command) --reason not walked")
            #expect(help.contains("`trellis query lineage --cert ID`") && help.contains("`trellis query provenance --program P --serial N`")
                    && help.contains("event_reasons"), "\(command) --reason: \"\(help)\"")
        }
        let reject = try #require(helps.first { $0.command == "trellis tx certificate reject" }?.help)
        #expect(reject.contains("`trellis query lineage --cert ID`") && reject.contains("event_reasons"), "\(reject)")
    }
}
