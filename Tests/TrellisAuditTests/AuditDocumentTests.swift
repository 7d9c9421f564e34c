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
        #expect(example.count == 17)
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

        // Two more receipts, and the roots of two and three leaves (§4's split: 3 leaves split at 2).
        let rejected = Receipt(txHash: try #require(Hash(bytes: [UInt8](repeating: 0x11, count: 32))), index: 1, nonceConsumed: true,
                               outcome: .rejected(code: "credit_line_exceeded", message: "limit 1000000 would be exceeded"))
        let created = Receipt(txHash: try #require(Hash(bytes: [UInt8](repeating: 0x22, count: 32))), index: 2, nonceConsumed: true, outcome: .ok(createdIDs: ["cert-1"]))
        #expect(example["receipt_1"] == Hex.encode(rejected.canonicalBytes))
        #expect(example["receipt_2"] == Hex.encode(created.canonicalBytes))
        #expect(example["receipts_root_2"] == Receipt.root([receipt, rejected]).hex)
        #expect(example["receipts_root_3"] == Receipt.root([receipt, rejected, created]).hex)
        // The document's own arithmetic: the three-leaf root is node(receipts_root_2, L₂).
        let leaf2 = SHA256.hash([0x00] + SHA256.hash(created.canonicalBytes).bytes)
        let twoLeafRoot = try Hex.decode(try #require(example["receipts_root_2"]))
        #expect(example["receipts_root_3"] == SHA256.hash([0x01] + twoLeafRoot + leaf2.bytes).hex)

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

        cases += byteTamperings(rows)
        let rejected = try expectAgreement(cases)
        #expect(rejected >= cases.count / 2, "\(rejected) of \(cases.count) tamperings rejected")
    }

    /// Byte by byte: 16 positions spread over every line, each character replaced by a neighbour of its class.
    func byteTamperings(_ rows: [String]) -> [(name: String, data: Data)] {
        var cases: [(name: String, data: Data)] = []
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
        return cases
    }

    /// Runs the independent verifier on every case (the first must be the untampered export) and expects it to
    /// accept exactly the cases `trellis audit verify` accepts. Returns how many both rejected.
    @discardableResult
    func expectAgreement(_ cases: [(name: String, data: Data)]) throws -> Int {
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
        let original = try #require(verdicts.keys.min())
        #expect(verdicts[original] == true && python[original] == "ok", "\(original): \(python[original] ?? "(no answer)")")
        return rejected
    }

    // MARK: what a proposer bypassing its mempool can commit

    /// Block 1, by a proposer that bypasses its mempool, executed by honest validators: every transaction validly
    /// signed by an active member of a role its kind allows, so each reaches the payload's decoding. Each is
    /// paired with whether its payload has a view (§9: it decodes by the layout; the stateless checks do not count).
    /// Block 2 records duplicate-vote evidence of both vote types (so the independent verifier's evidence checks run).
    static func bypassingChain() throws -> (chain: AuditTestChain, shown: [Bool]) {
        let c = try AuditTestChain()
        let doc = SHA256.hash(Array("doc-a".utf8))
        // Keys that differ as bytes but that Unicode calls equal ("e" + U+0301, U+00E9), digits and case that a
        // collating sort would order otherwise, escapes: a view must keep and byte-sort every one.
        let metadata = [("B", "1"), ("a", "2"), ("a10", "3"), ("a9", "4"), ("e\u{301}", "5"), ("\u{e9}", "6"), ("k\u{0}\u{1F}\"\\/", "7\n\u{2028}")]
            .map { EvidenceMetadataEntry(key: $0.0, value: $0.1) }
        let suspended = Member(memberID: "new9", legalName: "New Nine", registrationNo: "R-9", publicKeys: [auditKey("new9").publicKey], roles: [.supplier],
                               status: .suspended)
        let outputs = (0...AssetLimits.maxOutputs).map { SplitOutput(to: "sup\($0)", amount: 1) }
        let keys = (0...Limits.maxKeysPerMember).map { auditKey("rotate-\($0)").publicKey }
        let items: [(Transaction, Bool)] = [
            // Decodes, fails its stateless checks (empty title; metadata keys outside [A-Za-z0-9._:-]): shown.
            (c.tx("sup1", EvidenceContract.attest, AttestPayload(docHash: doc, docKind: .invoice, title: "", metadata: metadata,
                                                                  refs: [EvidenceRef(kind: .certificate, id: "cert 1")])), true),
            // A title of 2,000 bytes (execution allows 256; decoding bounds it only by the payload): shown.
            (c.tx("sup2", EvidenceContract.attest, AttestPayload(docHash: doc, docKind: .other, title: String(repeating: "é", count: 1_000))), true),
            // member.add of a suspended member: the hidden status is not 0, so no view.
            (c.tx("gov1", GovernanceContract.propose, ProposePayload(action: .addMember(suspended), summary: "admit")), false),
            // 65 outputs, over max=64: does not decode.
            (c.tx("sup1", "certificate.split_transfer", CertificateSplitTransferPayload(certID: "c", outputs: outputs)), false),
            // A line id of 129 bytes, over max=128: does not decode. Of 128 bytes that are no id (64 × "é"): shown.
            (c.tx("bank1", "credit_line.set", CreditLineSetPayload(lineID: String(repeating: "x", count: 129), core: "core1", limit: 1, expiry: 1),
                  cosigners: ["core1"]), false),
            (c.tx("bank1", "credit_line.set", CreditLineSetPayload(lineID: String(repeating: "é", count: 64), core: "core1", limit: 1, expiry: 1),
                  cosigners: ["core1"]), true),
            // 17 keys to add, over max=16: does not decode.
            (c.tx("buyer1", "member.rotate_keys", RotateKeysPayload(addKeys: keys, removeKeys: [])), false),
            // A kind no contract owns: no layout, so no view (rejected in the envelope, its nonce unused).
            (c.rawTx("auditor1", "no.such_kind", payload: [1, 2, 3]), false),
            (c.tx("registry", "program.register", ProgramRegisterPayload(programID: "CCER", unit: .tCO2e)), true),
        ]
        let receipts = try c.commitAsProposer(items.map(\.0), signatures: .verify)
        let registry = ContractRegistry.standard
        // What execution made of each: the stateless checks' codes where the payload decodes, `malformed_payload`
        // where it does not (the hidden status decodes, and the checks refuse it).
        let codes = ["missing_field", "title_too_long", "invalid_member", "malformed_payload", "malformed_payload", "invalid_id",
                     "malformed_payload", "unknown_kind", nil]
        for (i, ((tx, shown), receipt)) in zip(items, receipts).enumerated() {
            let spec = registry.spec(for: tx.body.kind)
            #expect(((try? spec?.decodeLayout(tx.body.payload)) != nil) == shown, "transaction \(i)")
            switch receipt.outcome {
            case .ok: #expect(codes[i] == nil, "transaction \(i) executed")
            case .rejected(let code, _): #expect(code == codes[i], "transaction \(i): \(receipt.outcome)")
            }
        }
        let block1 = c.engine.lastBlockHash
        try c.commit([], evidence: [try c.equivocation("validator1", type: .prevote, height: 1, blockID: block1),
                                    try c.equivocation("validator2", type: .precommit, height: 1, blockID: block1)])
        try c.commit([])
        return (c, items.map(\.1))
    }

    @Test func payloadsThatDecodeHaveTheirViewWhateverTheStatelessChecksSay() throws {
        let (chain, shown) = try Self.bypassingChain()
        let data = try exportBytes(chain)
        let line = try JSONDecoder().decode(BlockLine.self, from: Data(lines(data)[1].utf8))
        #expect(line.transactions.map { $0.payloadJSON != nil } == shown)
        // Every metadata key is kept, sorted by its UTF-8 bytes, escaped as §6.1 says.
        #expect(line.transactions[0].payloadJSON == #"{"doc_hash":"\#(SHA256.hash(Array("doc-a".utf8)).hex)","doc_kind":"invoice","metadata":{"B":"1","a":"2","a10":"3","a9":"4","e\#u{301}":"5","k\u0000\u001f\"\\/":"7\n\#u{2028}","\#u{e9}":"6"},"refs":[{"id":"cert 1","kind":"certificate"}],"title":""}"#)
        #expect(verifyError(data) == nil, "\(String(describing: verifyError(data)))")
        #expect(try fastVerify(data) != nil, "the fast path must confirm the chain")
        let (file, _) = try rawRows(data)
        #expect(try ChainVerifier.verifyReference(file, lines: try file.decodedLines(), progress: nil).summary.blocks == 3)
    }

    @Test(.enabled(if: RepositoryFiles.pythonWithCryptography, Comment(rawValue: skipWithoutPython)))
    func independentVerifierAgreesOnWhatAProposerBypassingItsMempoolCommits() throws {
        let (chain, shown) = try Self.bypassingChain()
        let data = try exportBytes(chain)
        let rows = lines(data)
        var cases: [(name: String, data: Data)] = [("original", data)]
        // The view of each transaction taken away or given: both verifiers refuse each one.
        for (i, isShown) in shown.enumerated() {
            cases.append(("view-\(i)", try editLine(data, height: 1) { $0.transactions[i].payloadJSON = isShown ? nil : "{}" }))
        }
        // What JSONEncoder would have written for the first payload: two keys Unicode calls equal, merged.
        cases.append(("view-merged-keys", try editLine(data, height: 1) { line in
            line.transactions[0].payloadJSON = line.transactions[0].payloadJSON?.replacingOccurrences(of: "\"e\u{301}\":\"5\",", with: "")
        }))
        cases += byteTamperings(rows)
        let rejected = try expectAgreement(cases)
        #expect(rejected >= shown.count + 1)
    }

    /// §3.1's edge cases, each refused by libsodium (what Trellis verifies with) and by the independent verifier.
    /// Made with Python from the example key (seed 32 bytes 0x07, its scalar a = clamp(SHA-512(seed)[0..<32])) over
    /// the message "trellis ed25519 edge vector": `small_order_r` is R = the identity's encoding (01 00…00) with
    /// S = k·a mod L, k = SHA-512(R ‖ A ‖ M) mod L, so [S]B − [k]A is the identity and the cofactorless equation
    /// holds; `small_order_a` is A = R = the identity with S = 0 (holds for any message); both verify under RFC 8032
    /// alone (OpenSSL says valid), only rules 2 and 3 refuse them. `s_not_below_l` is the valid signature with
    /// S + L; `noncanonical_a` is the valid signature under A = p + 3 little-endian (y = 3 is on the curve and of
    /// large order; its canonical encoding is 03 00…00).
    static let ed25519Vectors: [(name: String, key: String, signature: String, valid: Bool, rfc8032Alone: Bool)] = [
        ("valid", "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c",
         "e55df68714bd2f6a87cc04081d48f5cc1a3f48dd08fd5b3fb922f1c1d048e46beee079948b491da2c3474bdafda8c5e9c5c2efe6572f2f6b3d70843780480e0a", true, true),
        ("small_order_r", "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c",
         "010000000000000000000000000000000000000000000000000000000000000098a21b44dfe3b01f2843416c80d285777333082508d741b7e371f19e19e33107", false, true),
        ("small_order_a", "0100000000000000000000000000000000000000000000000000000000000000",
         "01000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", false, true),
        ("s_not_below_l", "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c",
         "e55df68714bd2f6a87cc04081d48f5cc1a3f48dd08fd5b3fb922f1c1d048e46bdbb46ff1a5ac2ffa99e4427ddca2a4fec5c2efe6572f2f6b3d70843780480e1a", false, false),
        ("noncanonical_a", "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
         "e55df68714bd2f6a87cc04081d48f5cc1a3f48dd08fd5b3fb922f1c1d048e46beee079948b491da2c3474bdafda8c5e9c5c2efe6572f2f6b3d70843780480e0a", false, false),
    ]
    static let ed25519Message = Array("trellis ed25519 edge vector".utf8)

    @Test func libsodiumRefusesEveryEd25519EdgeCaseOfTheDocument() throws {
        for v in Self.ed25519Vectors {
            let key = try PublicKey(bytes: try Hex.decode(v.key))
            let signature = try Signature(bytes: try Hex.decode(v.signature))
            #expect(key.verify(signature, message: Self.ed25519Message) == v.valid, "\(v.name)")
        }
    }

    @Test(.enabled(if: RepositoryFiles.pythonWithCryptography, Comment(rawValue: skipWithoutPython)))
    func independentVerifierRefusesEveryEd25519EdgeCaseOfTheDocument() throws {
        let dir = try temporaryDirectory("ed25519")
        let text = Self.ed25519Vectors.map { "\($0.name) \($0.key) \($0.signature) \(Hex.encode(Self.ed25519Message))" }.joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/vectors.txt"))
        let run = try #require(RepositoryFiles.python([RepositoryFiles.script, "--ed25519", dir + "/vectors.txt"]))
        let expected = Self.ed25519Vectors.map { "\($0.name): \($0.valid ? "valid" : "invalid") (rfc8032 alone: \($0.rfc8032Alone ? "valid" : "invalid"))" }
        #expect(run.output.split(separator: "\n").map(String.init) == expected, "\(run.output)")
    }

    /// Runs the independent verifier on `cases` and returns its answer per case name ("ok" or "exit N: …").
    func pythonAnswers(_ cases: [(name: String, data: Data)]) throws -> [String: String] {
        let dir = try temporaryDirectory("answers")
        for c in cases { try c.data.write(to: URL(fileURLWithPath: "\(dir)/\(c.name).jsonl")) }
        let run = try #require(RepositoryFiles.python([RepositoryFiles.script, "--batch", dir]))
        var answers: [String: String] = [:]
        for line in run.output.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].hasSuffix(".jsonl") { answers[String(parts[0].dropLast(6))] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return answers
    }

    /// A chain whose rules version changes: `app_version` 1, then 2 from the activation height on (§6.3 step 2).
    @Test(.enabled(if: RepositoryFiles.pythonWithCryptography, Comment(rawValue: skipWithoutPython)))
    func bothVerifiersAcceptAChainAcrossARulesUpgrade() throws {
        let c = try AuditTestChain(parameters: Parameters(governanceQuorum: 2, minUpgradeLeadBlocks: 1))
        let r1 = try c.commit([c.tx("gov1", GovernanceContract.propose, ProposePayload(action: .scheduleUpgrade(version: 2, activationHeight: 4, description: "paged settlement")))])
        try c.commit([c.tx("gov2", GovernanceContract.approve, ApprovePayload(proposalID: try #require(c.created(r1[0]).first)))])
        for _ in 3...5 { try c.commit([]) }
        let data = try exportBytes(c)
        let versions = try lines(data).dropFirst().map { try JSONDecoder().decode(BlockLine.self, from: Data($0.utf8)).header.appVersion }
        #expect(versions == [1, 1, 1, 2, 2])
        #expect(verifyError(data) == nil, "\(String(describing: verifyError(data)))")
        #expect(try pythonAnswers([("upgraded", data)])["upgraded"] == "ok")
    }

    /// §6.4: the exit code of hex that is not hex and of a genesis_json that is not a genesis, the same in both.
    @Test(.enabled(if: RepositoryFiles.pythonWithCryptography, Comment(rawValue: skipWithoutPython)))
    func bothVerifiersGiveTheSameExitCodeForBadHexAndBadGenesis() throws {
        let data = try exportBytes(try AuditTestChain.build())
        let rows = lines(data)
        func genesis(_ edit: (String) -> String) throws -> Data {
            var header = try JSONDecoder().decode(ExportHeader.self, from: Data(rows[0].utf8))
            header.genesisJSON = edit(header.genesisJSON)
            var r = rows
            r[0] = try ExportJSON.line(header)
            return join(r)
        }
        /// The genesis JSON with `edit` applied to its object (members and validators as arrays of objects).
        func object(_ edit: @escaping (inout [String: Any]) -> Void) -> (String) -> String {
            { text in
                guard var g = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else { Issue.record("genesis_json"); return text }
                edit(&g)
                return String(decoding: (try? JSONSerialization.data(withJSONObject: g)) ?? Data(), as: UTF8.self)
            }
        }
        func member(_ id: String, _ edit: @escaping (inout [String: Any]) -> Void) -> (String) -> String {
            object { g in
                var members = g["members"] as? [[String: Any]] ?? []
                for i in members.indices where members[i]["member_id"] as? String == id { edit(&members[i]) }
                g["members"] = members
            }
        }
        let cases: [(name: String, data: Data, exit: Int32)] = [
            ("block-hex-uppercase", try editLine(data, height: 3) { $0.blockHex = $0.blockHex.uppercased() }, 0),
            ("block-hex-space", try editLine(data, height: 3) { $0.blockHex = String($0.blockHex.prefix(10)) + " " + String($0.blockHex.dropFirst(10)) }, 2),
            ("block-hex-odd", try editLine(data, height: 3) { $0.blockHex = String($0.blockHex.dropLast()) }, 2),
            ("certificate-hex-letter", try editLine(data, height: 2) { $0.certificateHex = "g" + String($0.certificateHex.dropFirst()) }, 2),
            ("receipt-hex-space", try editLine(data, height: 4) { $0.receipts[0].canonicalHex = " " + $0.receipts[0].canonicalHex }, 1),
            ("genesis-not-json", try genesis { _ in "{" }, 2),
            ("genesis-unknown-key", try genesis { "{\"zzz\":1," + $0.dropFirst() }, 2),
            ("genesis-empty-legal-name", try genesis(member("auditor1") { $0["legal_name"] = "" }), 2),
            ("genesis-zero-power", try genesis(object { g in
                var validators = g["validators"] as? [[String: Any]] ?? []
                validators[0]["voting_power"] = 0
                g["validators"] = validators
            }), 2),
            ("genesis-quorum-over-governors", try genesis(object { g in
                var parameters = g["parameters"] as? [String: Any] ?? [:]
                parameters["governance_quorum"] = 3
                g["parameters"] = parameters
            }), 2),
            // Two scopes distinct as bytes that Unicode calls equal: a duplicate to `trellis`.
            ("genesis-scope-twice", try genesis(member("ver1") { m in
                var accreditations = m["accreditations"] as? [[String: Any]] ?? []
                accreditations[0]["sectoral_scopes"] = ["\u{e9}", "e\u{301}"]
                m["accreditations"] = accreditations
            }), 2),
            ("genesis-other-hash", try genesis(object { $0["genesis_time"] = AuditTestChain.genesisTime + 1 }), 1),
        ]
        let answers = try pythonAnswers(cases.map { ($0.name, $0.data) })
        for c in cases {
            let swift = verifyError(c.data)?.exitCode ?? 0
            #expect(swift == c.exit, "\(c.name): trellis audit verify exits \(swift): \(String(describing: verifyError(c.data)))")
            let python = answers[c.name] ?? "(no answer)"
            #expect(c.exit == 0 ? python == "ok" : python.hasPrefix("exit \(c.exit):"), "\(c.name): the independent verifier says \(python)")
        }
    }

    @Test(.enabled(if: RepositoryFiles.pythonWithCryptography, Comment(rawValue: skipWithoutPython)))
    func everyBoundOfTheLayoutsIsTheDecodersBound() throws {
        // Every kind's samples, plus a green-backed issue (its optional GreenRef reached).
        let registry = ContractRegistry.standard
        var samples = PayloadSamples.all(validatorKey: FuzzWorld.validatorKeys[0].publicKey.hex)
        samples.append(("certificate.issue", #"{"credit_line_id":"line1","face":1,"holder":"sup1","maturity":1,"trade_ref":{"contract_no":"PO-7","doc_hash":"\#(String(repeating: "ab", count: 32))","green_ref":{"id":"wind-7","kind":"project"},"invoice_keys":["INV-1"]}}"#))
        var lines: [String] = []
        for sample in samples {
            let spec = try #require(registry.spec(for: sample.kind))
            struct Item: Encodable { let kind: String; let payload_hex: String }
            lines.append(try ExportJSON.line(Item(kind: sample.kind, payload_hex: Hex.encode(try spec.canonicalPayload(fromJSON: Data(sample.json.utf8))))))
        }
        let dir = try temporaryDirectory("bounds")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/samples.jsonl"))
        let run = try #require(RepositoryFiles.python([RepositoryFiles.script, "--bounds", dir + "/samples.jsonl"]))
        #expect(run.status == 0, "\(run.output.prefix(2_000))")
        struct Variant: Decodable { let what: String; let kind: String; let payload_hex: String; let decodes: Bool; let payload_json: String? }
        let variants = try run.output.split(separator: "\n").map { try JSONDecoder().decode(Variant.self, from: Data($0.utf8)) }
        var bounded = Set<String>()
        for v in variants {
            let spec = try #require(registry.spec(for: v.kind))
            let bytes = try Hex.decode(v.payload_hex)
            let decodes = (try? spec.decodeLayout(bytes)) != nil
            #expect(decodes == v.decodes, "\(v.what): the document says it \(v.decodes ? "decodes" : "does not"), the decoder says otherwise")
            if decodes && v.decodes {
                #expect(PayloadJSON.text(kind: v.kind, payload: bytes, registry: registry) == v.payload_json, "\(v.what)")
                #expect(String(decoding: try spec.jsonPayload(fromCanonical: bytes), as: UTF8.self) == v.payload_json, "\(v.what)")
            }
            if !v.decodes { bounded.insert(String(v.what.prefix { $0 != "=" })) }
        }
        // Every `max=` of §9 was reached by some sample (a max inside a union case or a struct counts once per path).
        let document = try String(contentsOf: RepositoryFiles.document, encoding: .utf8)
        let layouts = try #require(document.components(separatedBy: "```layouts\n").dropFirst().first?.components(separatedBy: "```").first)
        let maxima = layouts.components(separatedBy: " max=").count - 1
        #expect(bounded.count >= maxima, "\(bounded.count) bounds tested, the layouts give \(maxima): \(bounded.sorted())")
        #expect(variants.count > 2 * maxima)
    }
}
