// AuditCLITests.swift — the `trellis audit` commands as a user runs them, on a real RocksDB node home: exit codes
// (0 valid, 1 invalid with the height, 2 malformed with the line), output, proofs and reports.
import Foundation
import Testing
import TrellisCrypto
import TrellisLedger
import TrellisSpawn
import TrellisTesting
@testable import TrellisAudit

enum TrellisBinary {
    /// The `trellis` executable built beside this test bundle (or $TRELLIS_BIN).
    static var url: URL {
        if let override = ProcessInfo.processInfo.environment["TRELLIS_BIN"] { return URL(fileURLWithPath: override) }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("trellis")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("trellis")
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = try ChildProcess(url.path, arguments, standardOutput: .pipe, standardError: .pipe)
        let (o, e) = PipeRead.readToEnd(process.standardOutput!, process.standardError!)
        return (process.waitUntilExit().status, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}

@Suite struct AuditCLITests {
    /// A stopped node home holding the test chain.
    func makeHome() throws -> (home: String, chain: (certRoot: String, retirement: String, firstTx: Hash)) {
        let home = try temporaryDirectory("cli-home")
        let store = try RocksChainStore(path: home + "/data")
        let chain = try AuditTestChain.build(store: store)
        try chain.genesis.json().write(to: URL(fileURLWithPath: home + "/genesis.json"))
        return (home, (chain.certRoot, chain.retirementID, chain.txHashes[0]))
    }

    @Test func exportVerifyProveAndReportThroughTheCLI() throws {
        let (home, ids) = try makeHome()
        let out = home + "/chain.jsonl"
        let export = try TrellisBinary.run(["audit", "export", "--home", home, "--out", out])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.contains("exported 7 blocks"))
        let verify = try TrellisBinary.run(["audit", "verify", out])
        // The first line names the genesis trusted (taken from the file: nothing was pinned).
        let verdict = verify.stdout.split(separator: "\n").map(String.init)
        #expect(verify.status == 0 && verdict.count >= 2, "\(verify.stdout)\(verify.stderr)")
        #expect(verdict.first?.hasPrefix("genesis ") == true && verdict.first?.contains(": taken from the file, not pinned") == true, "\(verify.stdout)")
        #expect(verdict.dropFirst().first?.hasPrefix("valid: chain audit-test, heights 1…7: 7 blocks") == true, "\(verify.stdout)")
        let json = try TrellisBinary.run(["audit", "verify", "--home", home, "--json"])
        #expect(json.status == 0 && json.stdout.contains("\"valid\":true") && json.stdout.split(separator: "\n").count == 1)

        // Tampered: exit 1 naming the height; truncated: exit 2 naming the line.
        var rows = lines(try Data(contentsOf: URL(fileURLWithPath: out)))
        var line = try JSONDecoder().decode(BlockLine.self, from: Data(rows[5].utf8))
        line.header.time += 1
        rows[5] = try ExportJSON.line(line)
        try join(rows).write(to: URL(fileURLWithPath: home + "/bad.jsonl"))
        let bad = try TrellisBinary.run(["audit", "verify", home + "/bad.jsonl"])
        #expect(bad.status == 1 && bad.stderr.contains("error: height 5: "), "\(bad.stderr)")
        try join(Array(rows.prefix(4))).write(to: URL(fileURLWithPath: home + "/short.jsonl"))
        let short = try TrellisBinary.run(["audit", "verify", home + "/short.jsonl"])
        #expect(short.status == 2 && short.stderr.contains("error: line 5: ") && short.stderr.contains("truncated"), "\(short.stderr)")

        let proof = home + "/proof.json"
        let prove = try TrellisBinary.run(["audit", "prove", "--home", home, "--tx", ids.firstTx.hex, "--out", proof])
        #expect(prove.status == 0, "\(prove.stderr)")
        let check = try TrellisBinary.run(["audit", "check-proof", proof, "--genesis", home + "/genesis.json"])
        #expect(check.status == 0 && check.stdout.contains("valid at height 1"), "\(check.stdout)\(check.stderr)")
        let stateProof = home + "/state.json"
        #expect(try TrellisBinary.run(["audit", "prove", "--home", home, "--state", "cert/\(ids.certRoot)", "--out", stateProof]).status == 0)
        let noSet = try TrellisBinary.run(["audit", "check-proof", stateProof, "--genesis", home + "/genesis.json"])
        #expect(noSet.status == 1 && noSet.stderr.contains("--export"))
        let withSet = try TrellisBinary.run(["audit", "check-proof", stateProof, "--genesis", home + "/genesis.json", "--export", out])
        #expect(withSet.status == 0 && withSet.stdout.contains("valid at height 7"), "\(withSet.stderr)")

        let lineage = try TrellisBinary.run(["audit", "lineage", ids.certRoot, "--home", home])
        #expect(lineage.status == 0 && lineage.stdout.contains("true at height 7"), "\(lineage.stderr)")
        let provenance = try TrellisBinary.run(["audit", "provenance", "CCER-tCO2e-CN-wind-7-2025-150-150", "--export", out, "--json"])
        #expect(provenance.status == 0 && provenance.stdout.contains("\"height\":7"), "\(provenance.stderr)")
        let retirements = try TrellisBinary.run(["audit", "retirements", "--beneficiary", "Acme Foods Co.", "--home", home])
        #expect(retirements.status == 0 && retirements.stdout.contains(ids.retirement) && retirements.stdout.contains("100 units"), "\(retirements.stdout)")
        let missing = try TrellisBinary.run(["audit", "lineage", "cert-none", "--home", home])
        #expect(missing.status == 1 && missing.stderr.contains("does not exist at height 7"))
        // The ids as `trellis query` spells them (--cert, --serial) give the same reports; both forms at once, or
        // neither, is bad usage.
        let flagged = try TrellisBinary.run(["audit", "lineage", "--cert", ids.certRoot, "--home", home])
        #expect(flagged.status == 0 && flagged.stdout == lineage.stdout, "\(flagged.stderr)")
        let bySerialFlag = try TrellisBinary.run(["audit", "provenance", "--serial", "CCER-tCO2e-CN-wind-7-2025-150-150", "--export", out, "--json"])
        #expect(bySerialFlag.status == 0 && bySerialFlag.stdout == provenance.stdout, "\(bySerialFlag.stderr)")
        #expect(try TrellisBinary.run(["audit", "lineage", ids.certRoot, "--cert", ids.certRoot, "--home", home]).status == 2)
        let neither = try TrellisBinary.run(["audit", "lineage", "--home", home])
        #expect(neither.status == 2 && neither.stderr.contains("as an argument or with --cert"), "\(neither.stderr)")

        // An offline certificate of the retirement: checked with the genesis alone (its validator chain carries the set
        // that changed at height 4), with a text rendering; a holding by the wrong member is refused (exit 1).
        let certificate = home + "/retirement.json", rendering = home + "/retirement.txt"
        let written = try TrellisBinary.run(["audit", "certificate", "retirement", ids.retirement, "--home", home, "--out", certificate, "--text", rendering])
        #expect(written.status == 0, "\(written.stderr)")
        #expect(written.stdout.contains("Retirement \(ids.retirement) is recorded on the ledger at height 7"), "\(written.stdout)")
        #expect(try String(contentsOfFile: rendering, encoding: .utf8) == written.stdout)
        let offline = try TrellisBinary.run(["audit", "check-proof", certificate, "--genesis", home + "/genesis.json"])
        #expect(offline.status == 0 && offline.stdout.contains("valid at height 7") && offline.stdout.contains("for beneficiary Acme Foods Co."), "\(offline.stdout)\(offline.stderr)")
        var tampered = try String(contentsOfFile: certificate, encoding: .utf8)
        tampered = tampered.replacingOccurrences(of: "\"type\":\"retirement\"", with: "\"type\":\"holding\"")
        try tampered.write(toFile: certificate, atomically: true, encoding: .utf8)
        #expect(try TrellisBinary.run(["audit", "check-proof", certificate, "--genesis", home + "/genesis.json"]).status == 1)
        let notHeld = try TrellisBinary.run(["audit", "certificate", "holding", "sup2", ids.certRoot, "--home", home, "--out", home + "/holding.json"])
        #expect(notHeld.status == 1 && notHeld.stderr.contains("is held by"), "\(notHeld.stderr)")
        let notHeldJSON = try TrellisBinary.run(["audit", "certificate", "holding", "sup2", ids.certRoot, "--home", home, "--out", home + "/holding.json", "--json"])
        #expect(notHeldJSON.status == 1 && notHeldJSON.stdout.isEmpty, "the exit code does not change with --json: \(notHeldJSON.stdout)")
        // --json: one object naming the file, the subject, the height and the statement check-proof establishes.
        let asJSON = try TrellisBinary.run(["audit", "certificate", "retirement", ids.retirement, "--home", home, "--out", home + "/retirement2.json", "--json"])
        let answer = (try? JSONSerialization.jsonObject(with: Data(asJSON.stdout.utf8))) as? [String: Any] ?? [:]
        #expect(asJSON.status == 0 && asJSON.stdout.split(separator: "\n").count == 1, "\(asJSON.stdout) \(asJSON.stderr)")
        #expect(answer["file"] as? String == home + "/retirement2.json" && answer["height"] as? Int == 7 && (answer["block_hash"] as? String)?.count == 64, "\(answer)")
        #expect((answer["subject"] as? [String: Any])?["id"] as? String == ids.retirement && (answer["statement"] as? String ?? "").contains("Retirement \(ids.retirement)"), "\(answer)")
        #expect(try TrellisBinary.run(["audit", "check-proof", home + "/retirement2.json", "--genesis", home + "/genesis.json"]).status == 0)
    }
}
