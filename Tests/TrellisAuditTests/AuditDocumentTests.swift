// AuditDocumentTests.swift — docs/EXPORT-FORMAT.md cannot drift from the code, and it is enough on its own:
// - every worked example of §8 is rebuilt here with the Trellis types from the numbers the document gives;
// - the independent verifier (Fixtures/verify_export.py, written from the document and reading §9's payload layouts
//   from it) prints the same examples, decodes every kind's sample payload to the JSON the exporter writes, agrees
//   with the exporter on the JSON rules of §6.1 for every class of character, accepts real exports, and rejects
//   every tampering of them that `trellis audit verify` rejects (and accepts the rest).
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisLedger
import TrellisSpawn
#if canImport(Glibc)
import Glibc
#endif
import TrellisTesting
@testable import TrellisAudit
@testable import TrellisFuzzing

enum RepositoryFiles {
    /// The repository root, from this file's path (Tests/TrellisAuditTests/<file>).
    static var root: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
    static var script: String { root.appendingPathComponent("Tests/TrellisAuditTests/Fixtures/verify_export.py").path }
    static var document: URL { root.appendingPathComponent("docs/EXPORT-FORMAT.md") }

    /// Runs `python3 args`, returning (status, output); nil when python3 cannot be started.
    static func python(_ args: [String]) -> (status: Int32, output: String)? {
        // Output and errors on one pipe, in the order written: the pipe's write end is the child's 1 and 2.
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return nil }
        // Close-on-exec, so no other child started meanwhile inherits the write end (and holds the read open).
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let reader = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
        let process: ChildProcess
        do {
            defer { close(fds[1]) }
            process = try ChildProcess("/usr/bin/env", ["python3"] + args, standardOutput: .descriptor(fds[1]), standardError: .descriptor(fds[1]))
        } catch { return nil }
        let data = PipeRead.readToEnd(reader)
        return (process.waitUntilExit().status, String(decoding: data, as: UTF8.self))
    }

    /// True when python3 with the `cryptography` package runs.
    static let pythonWithCryptography: Bool = python(["-c", "import cryptography"])?.status == 0
}

private let skipWithoutPython = "SKIPPED: python3 with the 'cryptography' package is not available, so the independent verifier did not run"

@Suite struct AuditDocumentTests {
    /// The document's "example.NAME: hex" lines.
    func documentExamples() throws -> [String: String] {
        let text = try String(contentsOf: RepositoryFiles.document, encoding: .utf8)
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("example.") {
            let parts = line.dropFirst("example.".count).split(separator: ":", maxSplits: 1)
            if parts.count == 2 { values[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return values
    }

    /// The kinds §9's layouts block lists.
    func documentKinds() throws -> Set<String> {
        let text = try String(contentsOf: RepositoryFiles.document, encoding: .utf8)
        return Set(text.split(separator: "\n").filter { $0.hasPrefix("kind ") }.compactMap { $0.dropFirst(5).split(separator: ":").first.map(String.init) })
    }

    @Test func workedExamplesAreRebuiltFromTheDocumentsNumbers() throws {
        let example = try documentExamples()
        #expect(example.count == 13)
        let key = try SigningKey(seed: [UInt8](repeating: 7, count: 32))
        let cosigner = try SigningKey(seed: [UInt8](repeating: 8, count: 32))
        #expect(example["public_key"] == key.publicKey.hex)
        #expect(example["cosigner_public_key"] == cosigner.publicKey.hex)

        // A transaction of a co-signed kind.
        let payload = CreditLineSetPayload(lineID: "line1", core: "core1", limit: 1_000_000, expiry: 1_767_225_600)
        #expect(example["payload"] == Hex.encode(payload.canonicalBytes))
        let body = TransactionBody(chainID: "example-chain", kind: "credit_line.set", payload: payload.canonicalBytes, signer: "bank1", nonce: 1,
                                   expiresAtHeight: 10, cosigners: ["core1"])
        let tx = Transaction.signed(body, by: [("bank1", key), ("core1", cosigner)])
        #expect(example["body"] == Hex.encode(body.canonicalBytes))
        #expect(example["sign_bytes"] == Hex.encode(body.signBytes))
        #expect(example["transaction"] == Hex.encode(tx.canonicalBytes))
        #expect(example["transaction_hash"] == tx.hash.hex)
        #expect(try Transaction.decode(try Hex.decode(try #require(example["transaction"]))) == tx)

        // Its receipt and a one-leaf receipts root.
        let receipt = Receipt(txHash: tx.hash, index: 0, nonceConsumed: true, outcome: .ok(createdIDs: []))
        #expect(example["receipt"] == Hex.encode(receipt.canonicalBytes))
        #expect(example["receipts_root"] == Receipt.root([receipt]).hex)

        // A certificate of a one-validator set.
        let blockID = try #require(Hash(bytes: [UInt8](repeating: 0xAB, count: 32)))
        let vote = Vote.signed(VoteBody(type: .precommit, height: 5, round: 0, blockID: blockID, validator: key.publicKey), chainID: "example-chain", key: key)
        #expect(example["precommit_sign_bytes"] == Hex.encode(vote.body.signBytes(chainID: "example-chain")))
        let certificate = CommitCertificate(height: 5, round: 0, blockID: blockID, precommits: [vote])
        #expect(example["certificate"] == Hex.encode(certificate.canonicalBytes))
        let set = try ValidatorSet([Validator(publicKey: key.publicKey, votingPower: 1, p2pAddress: "127.0.0.1:26656")])
        #expect(throws: Never.self) { try certificate.verify(chainID: "example-chain", validatorSet: set, height: 5, blockID: blockID) }

        // A genesis, from its JSON as the document writes it.
        let json = """
        {"chain_id":"example-chain","genesis_time":1767225600,"members":[{"accreditations":[],"legal_name":"Gov One","member_id":"gov1",\
        "public_keys":["\(key.publicKey.hex)"],"registration_no":"REG-1","roles":["governor","regulator"]}],"parameters":{"accept_window_seconds":604800,\
        "governance_quorum":1,"grace_period_seconds":2592000,"max_maturity_seconds":31536000,"max_tx_lifetime_blocks":10000,"proposal_ttl_blocks":100000},\
        "validators":[{"name":"v1","p2p_address":"127.0.0.1:26656","public_key":"\(key.publicKey.hex)","voting_power":1}]}
        """
        let genesis = try GenesisDocument.parse(Data(json.utf8))
        #expect(example["genesis"] == Hex.encode(genesis.canonicalBytes))
        #expect(example["genesis_hash"] == genesis.hash.hex)
    }

    @Test func theDocumentListsALayoutForEveryKindTheLedgerRuns() throws {
        let registered = Set(ContractRegistry.standard.kinds.map(\.kind))
        #expect(try documentKinds() == registered, "§9 must list exactly the registered kinds")
        let sampled = Set(PayloadSamples.all(validatorKey: FuzzWorld.validatorKeys[0].publicKey.hex).map(\.kind))
        #expect(registered.isSubset(of: sampled), "every kind needs a sample payload (TrellisFuzzing/PayloadSamples.swift)")
    }

    @Test(.enabled(if: RepositoryFiles.pythonWithCryptography, Comment(rawValue: skipWithoutPython)))
    func independentVerifierPrintsTheExamplesAndDecodesEveryKindByTheDocument() throws {
        let printed = try #require(RepositoryFiles.python([RepositoryFiles.script, "--examples"]))
        #expect(printed.status == 0, "\(printed.output)")
        #expect(printed.output.split(separator: "\n").map(String.init).sorted() == (try documentExamples()).map { "example.\($0.key): \($0.value)" }.sorted())

        // Every sample payload of every kind: canonical bytes → the JSON the exporter shows, decoded by §9 alone.
        let registry = ContractRegistry.standard
        var lines: [String] = []
        for sample in PayloadSamples.all(validatorKey: FuzzWorld.validatorKeys[0].publicKey.hex) {
            let spec = try #require(registry.spec(for: sample.kind))
            let canonical = try spec.canonicalPayload(fromJSON: Data(sample.json.utf8))
            let shown = try #require(PayloadJSON.text(kind: sample.kind, payload: canonical, registry: registry))
            struct Item: Encodable { let kind: String; let payload_hex: String; let payload_json: String }
            lines.append(try ExportJSON.line(Item(kind: sample.kind, payload_hex: Hex.encode(canonical), payload_json: shown)))
        }
        let dir = try temporaryDirectory("payloads")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/payloads.jsonl"))
        let decoded = try #require(RepositoryFiles.python([RepositoryFiles.script, "--payloads", dir + "/payloads.jsonl"]))
        #expect(decoded.status == 0 && decoded.output.contains("payloads: 0 mismatches"), "\(decoded.output)")
        #expect(lines.count >= ContractRegistry.standard.kinds.count)
    }

    @Test(.enabled(if: RepositoryFiles.pythonWithCryptography, Comment(rawValue: skipWithoutPython)))
    func theJSONRulesAreWhatTheExporterWritesForEveryClassOfCharacter() throws {
        // Every control character, the escaped ASCII ones, "/", DEL, Latin-1, the line/paragraph separators, a BOM,
        // CJK and an astral character: one receipt message each, written by the exporter's encoder.
        var texts: [String] = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }
        texts += ["\"", "\\", "/", "\u{7F}", "\u{80}", "é", "\u{2028}", "\u{2029}", "\u{FEFF}", "债权凭证", "😀", "a\"b\\c/d\ne\u{1}f"]
        let lines = try texts.map { text in
            try ExportJSON.line(ReceiptView(Receipt(txHash: .zero, index: 0, nonceConsumed: true, outcome: .rejected(code: "c", message: text))))
        }
        let dir = try temporaryDirectory("json-rules")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/lines.jsonl"))
        let checked = try #require(RepositoryFiles.python([RepositoryFiles.script, "--canonical", dir + "/lines.jsonl"]))
        #expect(checked.status == 0 && checked.output.contains("canonical: 0 mismatches"), "\(checked.output)")
    }

    @Test(.enabled(if: RepositoryFiles.pythonWithCryptography, Comment(rawValue: skipWithoutPython)))
    func independentVerifierAgreesWithAuditVerifyOnEveryTampering() throws {
        let chain = try AuditTestChain.build()
        let data = try exportBytes(chain)
        let rows = lines(data)
        var cases: [(name: String, data: Data)] = [("original", data)]
        func add(_ name: String, _ make: () throws -> Data) rethrows { cases.append((name, try make())) }

        // Field by field: views, receipts, header commitments, certificates, sets, lines, the header line.
        try add("header-view-time") { try editLine(data, height: 5) { $0.header.time += 1 } }
        try add("payload-json") { try editLine(data, height: 5) { $0.transactions[0].payloadJSON = "{}" } }
        try add("payload-json-dropped") { try editLine(data, height: 2) { $0.transactions[1].payloadJSON = nil } }
        try add("tx-view-nonce") { try editLine(data, height: 4) { $0.transactions[0].nonce += 1 } }
        try add("tx-view-signer") { try editLine(data, height: 4) { $0.transactions[0].signatures[0].memberID += "x" } }
        try add("receipt-forged-outcome") {
            try forgeReceipt(data, height: 4, index: 0) { Receipt(txHash: $0.txHash, index: $0.index, nonceConsumed: true, outcome: .rejected(code: "forged", message: "m")) }
        }
        try add("receipt-forged-ids") {
            try forgeReceipt(data, height: 4, index: 0) { Receipt(txHash: $0.txHash, index: $0.index, nonceConsumed: $0.nonceConsumed, outcome: .ok(createdIDs: ["cert-x"])) }
        }
        try add("receipt-view-only") { try editLine(data, height: 4) { $0.receipts[0].nonceConsumed.toggle() } }
        try add("receipt-dropped") { try editLine(data, height: 4) { $0.receipts.removeLast() } }
        try add("receipt-moved") { try forgeReceipt(data, height: 4, index: 0) { Receipt(txHash: $0.txHash, index: $0.index + 1, nonceConsumed: $0.nonceConsumed, outcome: $0.outcome) } }
        try add("tx-count") { try editBlock(data, height: 4) { $0.header.txCount += 1 } }
        try add("receipts-root") { try editBlock(data, height: 4) { $0.header.receiptsRoot = SHA256.hash(Array("x".utf8)) } }
        try add("app-version") { try editBlock(data, height: 3) { $0.header.appVersion = 2 } }
        try add("state-root") { try editBlock(data, height: 3) { $0.header.stateRoot = SHA256.hash(Array("x".utf8)) } }
        try add("tx-dropped") { try editBlock(data, height: 4) { $0.transactions.removeLast() } }
        try add("block-hash") { try editLine(data, height: 6) { $0.blockHash = String(repeating: "0", count: 64) } }
        try add("certificate-below-quorum") {
            try editLine(data, height: 5) { line in
                let c = try CanonicalDecoder.decode(CommitCertificate.self, from: try Hex.decode(line.certificateHex))
                line.certificateHex = Hex.encode(CommitCertificate(height: c.height, round: c.round, blockID: c.blockID, signatures: Array(c.signatures.prefix(1))).canonicalBytes)
            }
        }
        try add("certificate-signature-byte") {
            try editLine(data, height: 3) { line in
                var hex = Array(line.certificateHex)
                hex[hex.count - 10] = hex[hex.count - 10] == "0" ? "1" : "0"
                line.certificateHex = String(hex)
            }
        }
        try add("set-change-dropped") { try editLine(data, height: 2) { $0.validatorSetChange = nil } }
        try add("set-change-added") {
            let change = try JSONDecoder().decode(BlockLine.self, from: Data(rows[2].utf8)).validatorSetChange
            return try editLine(data, height: 3) { $0.validatorSetChange = change.map { var c = $0; c.effectiveHeight = 5; return c } }
        }
        add("lines-swapped") { var r = rows; r.swapAt(3, 4); return join(r) }
        add("line-dropped") { var r = rows; r.remove(at: 4); return join(r) }
        add("truncated") { join(Array(rows.dropLast())) }
        add("version-1") { var r = rows; r[0] = r[0].replacingOccurrences(of: "\"version\":2", with: "\"version\":1"); return join(r) }
        try add("genesis-swapped") {
            // Another genesis with the same validators and chain id, re-hashed consistently: only the link of block 1
            // to its genesis (and re-execution) can tell.
            var header = try JSONDecoder().decode(ExportHeader.self, from: Data(rows[0].utf8))
            let g = chain.genesis
            let other = try GenesisDocument(chainID: g.chainID, genesisTime: g.genesisTime - 1, members: g.members.map(MemberSpec.init),
                                            validators: g.validators, parameters: g.parameters)
            header.genesisJSON = String(decoding: try other.json(), as: UTF8.self)
            header.genesisHash = other.hash.hex
            var r = rows
            r[0] = try ExportJSON.line(header)
            return join(r)
        }
        add("extra-field") { var r = rows; r[4] = String(r[4].dropLast()) + ",\"zzz\":1}"; return join(r) }
        add("whitespace") { var r = rows; r[3] = r[3] + " "; return join(r) }

        // Byte by byte: 16 positions spread over every line, each character replaced by a neighbour of its class.
        for (i, row) in rows.enumerated() {
            let bytes = Array(row.utf8)
            for k in 0..<16 {
                let at = bytes.count * (2 * k + 1) / 32
                var mutated = bytes
                switch bytes[at] {
                case UInt8(ascii: "0")...UInt8(ascii: "8"), UInt8(ascii: "a")...UInt8(ascii: "e"): mutated[at] += 1
                case UInt8(ascii: "9"), UInt8(ascii: "f"): mutated[at] -= 1
                case UInt8(ascii: "g")...UInt8(ascii: "y"): mutated[at] += 1
                default: continue
                }
                var r = rows
                r[i] = String(decoding: mutated, as: UTF8.self)
                cases.append(("byte-\(i + 1)-\(at)", join(r)))
            }
        }

        let dir = try temporaryDirectory("tamper")
        var verdicts: [String: Bool] = [:]  // name → trellis audit verify accepts
        for (n, c) in cases.enumerated() {
            let name = String(format: "%03d-%@", n, c.name)
            try c.data.write(to: URL(fileURLWithPath: "\(dir)/\(name).jsonl"))
            verdicts[name] = verifyError(c.data) == nil
        }
        let run = try #require(RepositoryFiles.python([RepositoryFiles.script, "--batch", dir]))
        var python: [String: String] = [:]
        for line in run.output.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].hasSuffix(".jsonl") { python[String(parts[0].dropLast(6))] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        #expect(python.count == cases.count, "\(run.output)")
        var rejected = 0
        for (name, accepted) in verdicts.sorted(by: { $0.key < $1.key }) {
            let answer = python[name] ?? "(no answer)"
            if accepted {
                #expect(answer == "ok", "\(name): trellis audit verify accepts it, the independent verifier says \(answer)")
            } else {
                rejected += 1
                #expect(answer != "ok", "\(name): trellis audit verify rejects it, the independent verifier accepts it")
            }
        }
        #expect(verdicts["000-original"] == true && python["000-original"] == "ok")
        #expect(rejected >= cases.count / 2, "\(rejected) of \(cases.count) tamperings rejected")
    }
}
