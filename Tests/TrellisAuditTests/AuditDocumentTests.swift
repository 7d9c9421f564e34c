// AuditDocumentTests.swift — docs/EXPORT-FORMAT.md cannot drift: its worked example is recomputed here, and an
// independent Python verifier written from the document alone checks a real export's signatures and hashes.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisLedger
@testable import TrellisAudit

enum RepositoryFiles {
    /// The repository root, from this file's path (Tests/TrellisAuditTests/<file>).
    static var root: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
    static var script: String { root.appendingPathComponent("Tests/TrellisAuditTests/Fixtures/verify_export.py").path }

    /// Runs `python3 args`, returning (status, output); nil when python3 cannot be started.
    static func python(_ args: [String]) -> (status: Int32, output: String)? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + args
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// True when python3 with the `cryptography` package runs.
    static let pythonWithCryptography: Bool = python(["-c", "import cryptography"])?.status == 0
}

@Suite struct AuditDocumentTests {
    /// The document's "example.NAME: hex" lines.
    func documentExample() throws -> [String: String] {
        let text = try String(contentsOf: RepositoryFiles.root.appendingPathComponent("docs/EXPORT-FORMAT.md"), encoding: .utf8)
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("example.") {
            let parts = line.dropFirst("example.".count).split(separator: ":", maxSplits: 1)
            if parts.count == 2 { values[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return values
    }

    @Test func workedExampleMatchesTheImplementation() throws {
        let example = try documentExample()
        #expect(example.count == 6)
        let key = try SigningKey(seed: [UInt8](repeating: 7, count: 32))
        let body = TransactionBody(chainID: "example-chain", kind: "certificate.accept", payload: CertificateRefPayload(certID: "cert-1").canonicalBytes,
                                   signer: "sup1", nonce: 1, expiresAtHeight: 10)
        let tx = Transaction.signed(body, by: [("sup1", key)])
        #expect(example["public_key"] == key.publicKey.hex)
        #expect(example["body"] == Hex.encode(body.canonicalBytes))
        #expect(example["sign_bytes"] == Hex.encode(body.signBytes))
        #expect(example["signature"] == tx.signatures[0].signature.hex)
        #expect(example["transaction"] == Hex.encode(tx.canonicalBytes))
        #expect(example["transaction_hash"] == tx.hash.hex)
        #expect(try Transaction.decode(try Hex.decode(try #require(example["transaction"]))) == tx)
    }

    @Test(.enabled(if: RepositoryFiles.pythonWithCryptography, "SKIPPED: python3 with the 'cryptography' package is not available, so the independent verifier did not run"))
    func independentPythonVerifierAcceptsTheExportAndRejectsAForgery() throws {
        let chain = try AuditTestChain.build()
        let dir = try temporaryDirectory("python")
        let path = dir + "/chain.jsonl"
        try ChainExporter.export(from: StoreChainSource(genesis: chain.genesis, store: chain.store), to: path)
        let ok = try #require(RepositoryFiles.python([RepositoryFiles.script, path]))
        #expect(ok.status == 0, "\(ok.output)")
        #expect(ok.output.contains("ok: 7 blocks, \(chain.txHashes.count) transactions"))
        let example = try #require(RepositoryFiles.python([RepositoryFiles.script, "--example"]))
        #expect(example.output.split(separator: "\n").map(String.init).sorted() == (try documentExample()).map { "example.\($0.key): \($0.value)" }.sorted())

        // One flipped signature byte in a certificate: the Python verifier, knowing only the document, refuses it.
        var rows = lines(try Data(contentsOf: URL(fileURLWithPath: path)))
        var line = try JSONDecoder().decode(BlockLine.self, from: Data(rows[3].utf8))
        var cert = Array(line.certificateHex)
        cert[cert.count - 10] = cert[cert.count - 10] == "0" ? "1" : "0"
        line.certificateHex = String(cert)
        rows[3] = try ExportJSON.line(line)
        try join(rows).write(to: URL(fileURLWithPath: path))
        let forged = try #require(RepositoryFiles.python([RepositoryFiles.script, path]))
        #expect(forged.status == 1 && forged.output.contains("height 3: certificate signature"), "\(forged.output)")
    }
}
