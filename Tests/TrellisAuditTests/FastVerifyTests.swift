// FastVerifyTests.swift — the fast verification path: LineJSON writes exactly what ExportJSON.line writes, a valid
// export is confirmed without the reference passes, a line the writer cannot reproduce is still confirmed (checked
// the slow way on its own), and a tampered line is never confirmed by the fast path.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisLedger
@testable import TrellisAudit

/// The raw block lines of export bytes.
func rawRows(_ data: Data) throws -> (ExportFile, [ArraySlice<UInt8>]) {
    let file = try ExportFile.parse(data)
    guard case .raw(let rows) = file.body else { throw AuditError.source("expected raw lines") }
    return (file, rows)
}

func fastVerify(_ data: Data) throws -> VerificationSummary? {
    let (file, rows) = try rawRows(data)
    return FastChainVerifier.verify(header: file.header, genesis: file.genesis, rows: rows, progress: nil)?.summary
}

@Suite struct FastVerifyTests {
    @Test func lineJSONWritesExactlyWhatTheExporterWrites() throws {
        let chain = try AuditTestChain.build()
        let data = try exportBytes(chain)
        let rows = lines(data)
        for height in 1...chain.engine.currentHeight {
            let block = try #require(try chain.engine.block(at: height))
            let line = try JSONDecoder().decode(BlockLine.self, from: Data(rows[Int(height)].utf8))
            var out = LineJSON()
            out.raw("{\"block_hash\":"); out.hex(block.hash.bytes)
            out.raw(",\"block_hex\":"); out.hex(block.canonicalBytes)
            out.raw(",\"certificate_hex\":"); out.string(line.certificateHex)
            out.raw(",\"header\":"); LineParts.header(block.header, into: &out)
            out.raw(",\"height\":"); out.number(height)
            out.raw(",\"receipts\":")
            let receipts = try block.transactions.map { tx in try #require(try chain.engine.receipt(tx.hash)).receipt }
            LineParts.receipts(receipts, into: &out)
            LineParts.transactions(block.transactions, hashes: block.transactions.map(\.hash), registry: .standard, into: &out)
            LineParts.validatorSetChange(line.validatorSetChange, into: &out)
            out.raw("}")
            #expect(out.ok)
            #expect(String(decoding: out.bytes, as: UTF8.self) == rows[Int(height)], "height \(height)")
        }
    }

    @Test func numbersAreWrittenAsTheEncoderWritesThem() throws {
        // Every digit count, both ends of each type, signs: the digits LineJSON writes in place against ExportJSON's.
        var unsigned: [UInt64] = [0, 1, 9, 10, 99, 100, UInt64.max, UInt64.max - 1]
        var signed: [Int64] = [0, -1, 1, -9, -10, Int64.max, Int64.min, Int64.min + 1]
        var power: UInt64 = 1
        for digits in 1...19 {
            power *= 10
            unsigned += [power - 1, power, power + 1]
            if digits < 19 { signed += [Int64(power) - 1, -Int64(power), -Int64(power) + 1] }
        }
        for n in unsigned {
            var out = LineJSON()
            out.number(n)
            #expect(String(decoding: out.bytes, as: UTF8.self) == (try ExportJSON.line(n)), "\(n)")
        }
        for n in signed {
            var out = LineJSON()
            out.number(n)
            #expect(String(decoding: out.bytes, as: UTF8.self) == (try ExportJSON.line(n)), "\(n)")
        }
        var small = LineJSON()
        small.number(UInt16(65_535)); small.raw(","); small.number(Int32(-7)); small.raw(","); small.number(0 as Int)
        #expect(String(decoding: small.bytes, as: UTF8.self) == "65535,-7,0")
    }

    @Test func receiptsAndEscapesMatchTheEncoder() throws {
        let hash = SHA256.hash(Array("tx".utf8))
        let receipts = [
            Receipt(txHash: hash, index: 0, nonceConsumed: true, outcome: .ok(createdIDs: ["a/b", "q\"uote", "back\\slash"])),
            Receipt(txHash: hash, index: 1, nonceConsumed: false, outcome: .rejected(code: "bad_nonce", message: "expected 2/3 \"x\" \\ y")),
            Receipt(txHash: hash, index: 2, nonceConsumed: true, outcome: .ok(createdIDs: [])),
        ]
        var out = LineJSON()
        LineParts.receipts(receipts, into: &out)
        #expect(out.ok)
        let expected = try ExportJSON.line(receipts.map(ReceiptView.init))
        #expect(String(decoding: out.bytes, as: UTF8.self) == expected)
        // Outside printable ASCII the writer gives up rather than guess the encoder's escaping.
        var odd = LineJSON()
        odd.string("Café")
        #expect(!odd.ok)
        var control = LineJSON()
        control.string("a\nb")
        #expect(!control.ok)
    }

    @Test func payloadEncoderWritesWhatJSONEncoderWrites() throws {
        let chain = try AuditTestChain.build()
        var kinds = Set<String>()
        for height in 1...chain.engine.currentHeight {
            for tx in try #require(try chain.engine.block(at: height)).transactions {
                let spec = try #require(ContractRegistry.standard.spec(for: tx.body.kind))
                let fast = try PayloadJSONEncoder.encode(try spec.decodePayload(tx.body.payload))
                let reference = Array(try spec.jsonPayload(fromCanonical: tx.body.payload))
                #expect(fast == reference, "\(tx.body.kind)")
                // What the line checks use: the kind's direct writer when it has one.
                #expect(PayloadJSON.utf8(kind: tx.body.kind, payload: tx.body.payload, registry: .standard) == reference, "\(tx.body.kind)")
                kinds.insert(tx.body.kind)
            }
        }
        #expect(kinds.count >= 12)
        // A string the direct writer declines (non-ASCII, a control character) still gives JSONEncoder's bytes.
        for reason in ["Café", "a\nb", "q\"/\\", "中文"] {
            let payload = CertificateRejectPayload(certID: "cert-1", reason: reason).canonicalBytes
            let spec = try #require(ContractRegistry.standard.spec(for: "certificate.reject"))
            #expect(PayloadJSON.utf8(kind: "certificate.reject", payload: payload, registry: .standard) == Array(try spec.jsonPayload(fromCanonical: payload)), "\(reason)")
        }
        // Shapes it cannot promise to write as JSONEncoder does are declined (the caller then uses JSONEncoder).
        struct Numeric: Encodable { var a9 = 1, a10 = 2 }
        struct Floating: Encodable { var x = 1.5 }
        struct Upper: Encodable { var Name = "x" }
        struct Accented: Encodable { var name = "é" }
        #expect(throws: PayloadJSONEncoder.Unsupported.self) { try PayloadJSONEncoder.encode(Numeric()) }
        #expect(throws: PayloadJSONEncoder.Unsupported.self) { try PayloadJSONEncoder.encode(Floating()) }
        #expect(throws: PayloadJSONEncoder.Unsupported.self) { try PayloadJSONEncoder.encode(Upper()) }
        #expect(throws: PayloadJSONEncoder.Unsupported.self) { try PayloadJSONEncoder.encode(Accented()) }
        struct Blob: Encodable { var data = Data([1, 2]) }
        #expect(throws: PayloadJSONEncoder.Unsupported.self) { try PayloadJSONEncoder.encode(Blob()) }
        #expect(throws: PayloadJSONEncoder.Unsupported.self) { try PayloadJSONEncoder.encode([Float(1)]) }
        #expect(throws: PayloadJSONEncoder.Unsupported.self) { try PayloadJSONEncoder.encode(["ok", "naïve"]) }
        struct Nested: Encodable {
            var list: [Int?] = [1, nil]; var flag = true; var inner = ["b": "x/y", "a": "q\""]
            var present: String? = "v"; var absent: Int? = nil; var wrapped: [String?] = ["w", nil]
            var small: UInt8 = 7, tiny: Int8 = -8, short: Int16 = -300, ushort: UInt16 = 60_000, word: Int32 = -5, uword: UInt32 = 4_000_000_000
            var big: UInt64 = .max, long: Int64 = .min, machine: UInt = 9
            var names: [String] = ["a/b", "q\"", "", "back\\slash"], none: [String] = [], lists: [[String]] = [["x"], []]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(try PayloadJSONEncoder.encode(Nested()) == Array(try encoder.encode(Nested())))
    }

    @Test func lineHexIsReadStrictly() {
        func read(_ bytes: [UInt8], from start: Int = 0) -> (value: [UInt8]?, end: Int) {
            var p = start
            let value = FastChainVerifier.lowerHex(bytes, &p)
            return (value, p)
        }
        let quote: UInt8 = 0x22
        #expect(read(Array("00ff7a\"".utf8)) == ([0x00, 0xFF, 0x7A], 6))
        #expect(read(Array("x\"0a1b\"".utf8), from: 2) == ([0x0A, 0x1B], 6))
        #expect(read([quote]) == ([], 0))
        #expect(read(Array("0F\"".utf8)).value == nil)   // uppercase
        #expect(read(Array("abc\"".utf8)).value == nil)  // odd number of digits
        #expect(read(Array("abcd".utf8)).value == nil)    // no closing quote
        #expect(read([]).value == nil)
        // Every byte value in either position: only 0-9 and a-f are digits; a refusal leaves the position alone.
        let digits = Set(Array("0123456789abcdef".utf8))
        for c in 0...255 {
            let byte = UInt8(c)
            for bytes in [[byte, 0x30, quote], [0x30, byte, quote]] {
                let (value, end) = read(bytes)
                if digits.contains(byte) {
                    #expect(value?.count == 1 && end == 2, "\(c)")
                } else if byte != quote {
                    #expect(value == nil && end == 0, "\(c)")
                }
            }
        }
    }

    @Test func exportLinesSplitAsTheStandardLibrarySplits() {
        let inputs: [[UInt8]] = [[], [0x0A], Array("a\nb\n".utf8), Array("a\nb".utf8), Array("\n\nx\n\n".utf8), Array("abc".utf8), Array("é\n\u{0}\n".utf8)]
        for input in inputs {
            #expect(ExportFile.splitLines(input).map(Array.init) == input.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init), "\(input)")
        }
    }

    @Test func aValidExportIsConfirmedByTheFastPath() throws {
        let chain = try AuditTestChain.build()
        let data = try exportBytes(chain)
        let summary = try #require(try fastVerify(data))
        #expect(summary.blocks == 7)
        #expect(summary.transactions == chain.txHashes.count)
        #expect(summary.finalStateRoot == chain.engine.stateRoot.hex)
        let (file, _) = try rawRows(data)
        #expect(try ChainVerifier.verifyReference(file, lines: try file.decodedLines(), progress: nil).summary == summary)
    }

    /// The fast form finds each line's transactions from its end (just before "}" or before the
    /// validator_set_change), compares them while the line is decoded, and leaves exactly the receipts before them
    /// and the change after them for re-execution — with or without a change; a line whose transactions differ is
    /// no longer passed by the line checks.
    @Test func aLinesTransactionsAreFoundAndComparedWhenItIsDecoded() throws {
        let data = try exportBytes(try AuditTestChain.build())
        let (file, rows) = try rawRows(data)
        var withChange = 0
        for (i, row) in rows.enumerated() {
            let line = try #require(FastChainVerifier.decode(row, number: i + 2, height: UInt64(i + 1), chainID: file.genesis.chainID,
                                                             registry: .standard, scratch: LineScratch()))
            guard case .fast(let receiptsAt, let transactionsAt, let transactionsEnd) = line.rest else {
                Issue.record("line \(i + 2) was not read in the fast form")
                continue
            }
            let bytes = Array(row)
            let decoded = try JSONDecoder().decode(BlockLine.self, from: Data(bytes))
            // The receipts are exactly the bytes up to the transactions; the transactions end where the change (or "}") starts.
            let receipts = String(decoding: bytes[receiptsAt..<transactionsAt], as: UTF8.self)
            #expect(try JSONDecoder().decode([ReceiptView].self, from: Data(receipts.utf8)) == decoded.receipts)
            #expect(String(decoding: bytes[transactionsAt..<min(transactionsAt + 17, bytes.count)], as: UTF8.self) == ",\"transactions\":[")
            let after = String(decoding: bytes[transactionsEnd...], as: UTF8.self)
            if decoded.validatorSetChange == nil {
                #expect(after == "}")
            } else {
                withChange += 1
                #expect(after.hasPrefix(",\"validator_set_change\":{"))
            }
            #expect(ChainVerifier.lineChecksPass(bytes, height: UInt64(i + 1), chainID: file.genesis.chainID))
        }
        #expect(withChange > 0)
        // A payload shown differently in a line (another JSON, the same length or not) fails that line's checks.
        for json in ["{}", String(repeating: " ", count: 2)] {
            let tampered = try editLine(data, height: 5) { $0.transactions[0].payloadJSON = json }
            let (_, tamperedRows) = try rawRows(tampered)
            #expect(!ChainVerifier.lineChecksPass(Array(tamperedRows[4]), height: 5, chainID: file.genesis.chainID))
        }
    }

    @Test func theReplayStoreHoldsTheSameStateAsTheNodeStore() throws {
        let chain = try AuditTestChain.build()
        let (file, rows) = try rawRows(try exportBytes(chain))
        let replay = try #require(FastChainVerifier.verify(header: file.header, genesis: file.genesis, rows: rows, progress: nil)).replay
        let all = try replay.store.stateScan(prefix: [])
        let expected = try chain.store.stateScan(prefix: [])
        #expect(all.map(\.key) == expected.map(\.key))
        #expect(all.map(\.value) == expected.map(\.value))
        let prefix = Array("member/".utf8)
        #expect(try replay.store.stateScan(prefix: prefix).map(\.key) == expected.map(\.key).filter { $0.starts(with: prefix) })
        #expect(try replay.store.block(atHeight: 3) == chain.engine.block(at: 3))
        #expect(try replay.store.stateRoot(atHeight: 7) == chain.engine.stateRoot)
    }

    @Test func theReplayStoreKeepsExactlyTheLatestTree() throws {
        // Each commit drops the nodes its height replaced: after the replay the store holds the nodes reachable
        // from the final root, every one of them, and nothing else (a replaced node kept would show in the count,
        // a live node dropped would fail the walk).
        let chain = try AuditTestChain.build()
        let (file, rows) = try rawRows(try exportBytes(chain))
        let replay = try #require(FastChainVerifier.verify(header: file.header, genesis: file.genesis, rows: rows, progress: nil)).replay
        var reachable = 0
        var stack = [chain.engine.stateRoot]
        while let hash = stack.popLast() {
            if hash == .zero { continue }
            let node = try #require(try replay.store.treeNode(hash))
            #expect(try chain.store.treeNode(hash) == node)
            reachable += 1
            if case .inner(let l, let r) = node { stack += [l, r] }
        }
        #expect(reachable > 20)
        #expect(replay.store.treeNodeCount == reachable)
        #expect(try replay.store.oldestStateHeight() == chain.engine.currentHeight)
        #expect(replay.store.stateRetention == .window(heights: 1))
        // Only the latest height can be read; an older one is pruned, not a damaged store.
        #expect(try replay.store.stateSource(atHeight: chain.engine.currentHeight) != nil)
        #expect(try replay.store.stateSource(atHeight: chain.engine.currentHeight - 1) == nil)
    }

    @Test func theReplayStoresTreeGrowsWithTheTreeNotWithTheBlocks() throws {
        // 30 blocks of 20 key rotations: the first block adds two state keys per member, every later block one. The
        // tree holds the latest tree alone and reuses the records of the nodes each block replaces, so its records
        // follow the nodes held (plus what one block replaces), not the ~8,000 nodes the blocks created.
        let chain = try BenchChain(members: 20)
        for _ in 0..<30 { try chain.commitBlock(count: 20) }
        let dir = try temporaryDirectory("replay-slots")
        let path = dir + "/chain.jsonl"
        try ChainExporter.export(from: StoreChainSource(genesis: chain.genesis, store: chain.store, label: "the test chain"), to: path)
        let (file, rows) = try rawRows(try Data(contentsOf: URL(fileURLWithPath: path)))
        let replay = try #require(FastChainVerifier.verify(header: file.header, genesis: file.genesis, rows: rows, progress: nil)).replay
        #expect(replay.engine.stateRoot == chain.engine.stateRoot)
        let nodes = replay.store.treeNodeCount, records = replay.store.treeRecords
        #expect(nodes > 1_000)
        #expect(records >= nodes && records <= nodes + nodes / 2, "\(records) records for \(nodes) nodes")
    }

    @Test func replayStoreScansFollowInsertsAndDeletes() throws {
        let chain = try AuditTestChain.build()
        let store = ReplayStore()
        let walked = WalkedTree()  // each commit's root, as the ledger computes it (the store checks it)
        func k(_ s: String) -> [UInt8] { Array(s.utf8) }
        let genesis = [StateChange(key: k("p/b"), value: [2]), StateChange(key: k("p/a"), value: [1]), StateChange(key: k("q/c"), value: [3])]
        try store.commit(BlockCommit(height: 0, block: nil, certificate: nil, stateChanges: genesis,
                                     treeNodes: [], stateRoot: try walked.apply(genesis), transactions: [], genesisHash: .zero))
        let block = try #require(try chain.engine.block(at: 1))
        let first = [StateChange(key: k("p/b"), value: nil), StateChange(key: k("p/aa"), value: [4]), StateChange(key: k("p/a"), value: [5])]
        try store.commit(BlockCommit(height: 1, block: block, certificate: nil, stateChanges: first,
                                     treeNodes: [], stateRoot: try walked.apply(first), transactions: [], genesisHash: nil))
        let scan = try store.stateScan(prefix: k("p/"))
        #expect(scan.map(\.key) == [k("p/a"), k("p/aa")])
        #expect(scan.map(\.value) == [[5], [4]])
        #expect(try store.stateScan(prefix: []).count == 3)
        #expect(try store.stateValue(k("p/b")) == nil)
        // Sorted, distinct keys (as blocks commit them) take the direct path: an update, an insert, a delete, and
        // the deletion of a key that is not there.
        let block2 = try #require(try chain.engine.block(at: 2))
        let second = [StateChange(key: k("p/a"), value: [6]), StateChange(key: k("p/ab"), value: [7]), StateChange(key: k("p/aa"), value: nil),
                      StateChange(key: k("p/zz"), value: nil)].sorted { $0.key.lexicographicallyPrecedes($1.key) }
        try store.commit(BlockCommit(height: 2, block: block2, certificate: nil, stateChanges: second,
                                     treeNodes: [], stateRoot: try walked.apply(second), transactions: [], genesisHash: nil))
        #expect(try store.stateScan(prefix: k("p/")).map(\.key) == [k("p/a"), k("p/ab")])
        #expect(try store.stateScan(prefix: k("p/")).map(\.value) == [[6], [7]])
        #expect(try store.stateScan(prefix: []).map(\.key) == [k("p/a"), k("p/ab"), k("q/c")])
        #expect(throws: ChainStoreError.self) {
            try store.commit(BlockCommit(height: 4, block: block, certificate: nil, stateChanges: [], treeNodes: [], stateRoot: .zero, transactions: [], genesisHash: nil))
        }
    }

    @Test func aLineTheWriterCannotReproduceIsCheckedTheSlowWay() throws {
        let chain = try AuditTestChain.build()
        // Non-ASCII in a payload (shown in payload_json): that line needs JSONDecoder.
        _ = try chain.commit([
            chain.tx("registry", "methodology.register", MethodologyRegisterPayload(methodologyID: "AM0002", version: "1", title: "Énergie éolienne", active: true)),
        ])
        let data = try exportBytes(chain)
        let row = lines(data)[8]
        #expect(row.utf8.contains { $0 >= 0x80 })
        let summary = try #require(try fastVerify(data))
        #expect(summary.blocks == 8)
        #expect(summary.finalStateRoot == chain.engine.stateRoot.hex)
        // Tampering with that line's receipts is still caught.
        let tampered = try editLine(data, height: 8) { $0.receipts[0].nonceConsumed.toggle() }
        #expect(try fastVerify(tampered) == nil)
        #expect(verifyError(tampered)?.description == "height 8: receipt 0: the decoded fields differ from canonical_hex")
    }

    /// The fast path verifies a block's last_commit signatures with the other signatures (re-execution is told
    /// so and skips them): a forged one still fails the export, at that height, with the reference message.
    @Test func aForgedLastCommitSignatureIsNeverConfirmed() throws {
        let chain = try AuditTestChain.build()
        try chain.forgeNextLastCommitSignature()
        _ = try chain.commit([chain.tx("buyer1", MembershipContract.rotateKeys, RotateKeysPayload(addKeys: [auditKey("buyer1-next").publicKey], removeKeys: []))])
        let data = try exportBytes(chain)
        #expect(try fastVerify(data) == nil)
        let error = try #require(verifyError(data))
        #expect(error.failedHeight == 8)
        #expect(error.description.contains("last commit: certificate signature of validator"), "\(error)")
    }

    /// A block's last_commit signature that is byte for byte one of the previous block's certificate (signer,
    /// signature, signed bytes) is verified once, with that certificate; every other check is verified. (A forged
    /// last_commit signature differs from the certificate's and is verified: the test above.)
    @Test func aLastCommitRepeatingThePreviousCertificateIsVerifiedOnce() throws {
        let chain = try AuditTestChain.build()
        let data = try exportBytes(chain)
        let (file, rows) = try rawRows(data)
        let chainID = file.genesis.chainID
        var checks = 0, repeated = 0
        var previousCertificate: [SignatureCheck] = []
        for entry in try file.decodedLines() {
            let block = try Block.decode(try Hex.decode(entry.line.blockHex))
            let certificate = try CanonicalDecoder.decode(CommitCertificate.self, from: try Hex.decode(entry.line.certificateHex))
            let certificateChecks = certificate.signatureChecks(chainID: chainID)
            checks += block.transactions.reduce(0) { $0 + $1.signatureChecks.count } + certificateChecks.count
            for c in block.lastCommit?.signatureChecks(chainID: chainID) ?? [] {
                checks += 1
                if previousCertificate.contains(where: { $0.publicKey == c.publicKey && $0.signature == c.signature && $0.message == c.message }) {
                    repeated += 1
                }
            }
            previousCertificate = certificateChecks
        }
        #expect(repeated >= 6 * 3)  // heights 2–7 each repeat a quorum of the 4 validators' signatures
        let result = try #require(FastChainVerifier.verify(header: file.header, genesis: file.genesis, rows: rows, progress: nil))
        #expect(result.verifications == checks - repeated)
        // The summary (the signatures counted included) is the reference passes'.
        #expect(try ChainVerifier.verifyReference(file, lines: try file.decodedLines(), progress: nil).summary == result.summary)
    }

    @Test func tamperedLinesAreNeverConfirmedByTheFastPath() throws {
        let data = try exportBytes(try AuditTestChain.build())
        let edits: [(UInt64, (inout BlockLine) throws -> Void)] = [
            (4, { $0.receipts[0].createdIDs = ["cert-forged"] }),
            (5, { $0.header.time += 1 }),
            (5, { $0.transactions[0].payloadJSON = "{}" }),
            (3, { $0.transactions[0].signatures[0].memberID = "someone" }),
            (2, { $0.validatorSetChange = nil }),
            (6, { $0.blockHash = String(repeating: "0", count: 64) }),
        ]
        for (i, (height, edit)) in edits.enumerated() {
            let tampered = try editLine(data, height: height, edit)
            #expect(try fastVerify(tampered) == nil, "edit \(i)")
            #expect(verifyError(tampered)?.failedHeight == height, "edit \(i)")
        }
        // Extra whitespace, a reordered key or a signature bit: the fast path says no, the reference passes say why.
        var rows = lines(data)
        rows[3] = rows[3].replacingOccurrences(of: "\"height\":3", with: "\"height\": 3")
        #expect(try fastVerify(join(rows)) == nil)
        #expect(verifyError(join(rows))?.exitCode == 2)
        let line = try JSONDecoder().decode(BlockLine.self, from: Data(lines(data)[2].utf8))
        var block = try Block.decode(try Hex.decode(line.blockHex))
        var sig = block.transactions[0].signatures[0].signature.bytes
        sig[0] ^= 1
        block.transactions[0].signatures[0] = TransactionSignature(memberID: block.transactions[0].signatures[0].memberID,
                                                                   publicKey: block.transactions[0].signatures[0].publicKey, signature: try Signature(bytes: sig))
        let forged = try editLine(data, height: 2) { $0.blockHex = Hex.encode(block.canonicalBytes) }
        #expect(try fastVerify(forged) == nil)
        #expect(verifyError(forged)?.failedHeight == 2)
    }
}
