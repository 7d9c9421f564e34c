// AuditExportVerifyTests.swift — export a real chain, verify it (memory and RocksDB homes), and prove that every kind
// of tampering is caught at the right height with the right exit code.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisLedger
@testable import TrellisAudit

/// Exports `chain` and returns the file's bytes.
func exportBytes(_ chain: AuditTestChain) throws -> Data {
    let dir = try temporaryDirectory("export")
    let path = dir + "/chain.jsonl"
    try ChainExporter.export(from: StoreChainSource(genesis: chain.genesis, store: chain.store), to: path)
    return try Data(contentsOf: URL(fileURLWithPath: path))
}

/// Verifies export bytes; returns the error (nil when valid).
func verifyError(_ data: Data) -> AuditError? {
    do {
        _ = try ChainVerifier.verify(try ExportFile.parse(data))
        return nil
    } catch { return error }
}

/// The export's lines (without the final empty one).
func lines(_ data: Data) -> [String] { String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init) }

func join(_ lines: [String]) -> Data { Data((lines.joined(separator: "\n") + "\n").utf8) }

/// Rewrites the block line at `height` through `edit`.
func editLine(_ data: Data, height: UInt64, _ edit: (inout BlockLine) throws -> Void) throws -> Data {
    var rows = lines(data)
    var line = try JSONDecoder().decode(BlockLine.self, from: Data(rows[Int(height)].utf8))
    try edit(&line)
    rows[Int(height)] = try ExportJSON.line(line)
    return join(rows)
}

@Suite struct AuditExportVerifyTests {
    @Test func exportThenVerifyPassesAndIsDeterministic() throws {
        let chain = try AuditTestChain.build()
        let data = try exportBytes(chain)
        #expect(try exportBytes(chain) == data)
        let (summary, replay) = try ChainVerifier.verify(try ExportFile.parse(data))
        #expect(summary.blocks == 7)
        #expect(summary.transactions == chain.txHashes.count)
        #expect(summary.finalStateRoot == chain.engine.stateRoot.hex)
        #expect(replay.engine.stateRoot == chain.engine.stateRoot)
        // Block 2 scheduled validator5 for height 4; the export says so and verification followed it.
        let line2 = try JSONDecoder().decode(BlockLine.self, from: Data(lines(data)[2].utf8))
        #expect(line2.validatorSetChange?.effectiveHeight == 4)
        #expect(line2.validatorSetChange?.validators.count == 5)
        #expect(line2.transactions[1].payloadJSON?.contains("\"project_id\":\"wind-7\"") == true)
        #expect(try replay.engine.validatorSet(forHeight: 4).count == 5)
    }

    @Test func aFileIsReadWhole() throws {
        let data = try exportBytes(try AuditTestChain.build())
        let dir = try temporaryDirectory("read")
        let path = dir + "/chain.jsonl"
        try data.write(to: URL(fileURLWithPath: path))
        #expect(try ExportFile.readBytes(path: path) == [UInt8](data))
        #expect(try ChainVerifier.verify(path: path) == ChainVerifier.verify(try ExportFile.parse(data)).summary)
        // A file whose size `fstat` does not tell (0 for /proc files): read on to its end all the same.
        let procFile = "/proc/self/cmdline"
        #expect(try ExportFile.readBytes(path: procFile) == [UInt8](try Data(contentsOf: URL(fileURLWithPath: procFile))))
        #expect(try ExportFile.readBytes(path: procFile).count > 1)
        // Empty, missing, a directory: typed errors, never a crash.
        try Data().write(to: URL(fileURLWithPath: dir + "/empty.jsonl"))
        #expect(try ExportFile.readBytes(path: dir + "/empty.jsonl") == [])
        for bad in [dir + "/absent.jsonl", dir] {
            #expect { _ = try ExportFile.readBytes(path: bad) } throws: { error in
                guard case AuditError.unreadable(let p, _) = error else { return false }
                return p == bad
            }
        }
    }

    @Test func aLargeFileIsReadByRangesAtOnceAndExactly() throws {
        let dir = try temporaryDirectory("read-parallel")
        let path = dir + "/large.jsonl"
        // Past the parallel read's threshold, and not a multiple of the ranges: every byte where it belongs.
        let size = ExportFile.parallelReadMinimum + 12_345
        var seed: UInt64 = 0x2545_f491_4f6c_dd1d
        let data = (0..<size).map { _ -> UInt8 in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: seed >> 56)
        }
        try Data(data).write(to: URL(fileURLWithPath: path))
        #expect(try ExportFile.readBytes(path: path) == data)
        let fd = open(path, O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        for parts in [2, 3, 8] {
            #expect(ExportFile.readInParallel(fd, size: size, parts: parts) == data)
            // A file that is not the size it was taken to be (it grew, or shrank) is not read this way.
            #expect(ExportFile.readInParallel(fd, size: size - 1, parts: parts) == nil)
            #expect(ExportFile.readInParallel(fd, size: size + 1, parts: parts) == nil)
        }
    }

    @Test func theFirstBadRowIsReportedWhenRowsAreCheckedOnAllCores() throws {
        // Enough rows for the checks to run in parallel chunks; the two bad rows in different chunks.
        func file(badAt first: Int, _ firstRow: [UInt8], then second: Int, _ secondRow: [UInt8]) -> [UInt8] {
            var bytes: [UInt8] = []
            for line in 1...400 {
                bytes += line == first ? firstRow : line == second ? secondRow : Array("{\"row\":\(line)}".utf8)
                bytes.append(0x0A)
            }
            return bytes
        }
        let notUTF8: [UInt8] = [0x7B, 0xFF, 0xFE, 0x7D]
        #expect(throws: AuditError.malformed(line: 150, message: "not UTF-8")) {
            try ExportFile.parse(bytes: file(badAt: 150, notUTF8, then: 370, []))
        }
        #expect(throws: AuditError.malformed(line: 150, message: "blank line")) {
            try ExportFile.parse(bytes: file(badAt: 150, [], then: 370, notUTF8))
        }
        #expect(throws: AuditError.malformed(line: 370, message: "not UTF-8")) {
            try ExportFile.parse(bytes: file(badAt: 370, notUTF8, then: 399, []))
        }
    }

    @Test func rowChecksLeftToTheVerifierReportWhatTheReaderReports() throws {
        let data = [UInt8](try exportBytes(try AuditTestChain.build()))
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        func variant(_ edit: (inout [[UInt8]]) -> Void) -> [UInt8] {
            var edited = lines
            edit(&edited)
            return Array(edited.joined(separator: [0x0A]))
        }
        let notUTF8 = variant { $0[2][10] = 0xFF }
        // Deferred: the parse passes over the bad block line, and `checkRows` reports it.
        let deferred = try ExportFile.parse(bytes: notUTF8, deferringRowChecks: true)
        #expect(deferred.rowChecksDeferred)
        #expect(throws: AuditError.malformed(line: 3, message: "not UTF-8")) { try deferred.checkRows() }
        try ExportFile.parse(bytes: data, deferringRowChecks: true).checkRows()  // nothing to report
        #expect(!(try ExportFile.parse(bytes: data)).rowChecksDeferred)
        let dir = try temporaryDirectory("deferred-rows")
        let cases: [(String, [UInt8], AuditError)] = [
            ("not-utf8", notUTF8, .malformed(line: 3, message: "not UTF-8")),
            ("blank", variant { $0.insert([], at: 3) }, .malformed(line: 4, message: "blank line")),
            // A bad header too: the bad block line is still what is reported (rows are checked before the header).
            ("bad-header", variant { $0[0] = Array("{\"format\":\"other\"}".utf8); $0[2][10] = 0xFF }, .malformed(line: 3, message: "not UTF-8")),
        ]
        for (name, bytes, expected) in cases {
            let path = dir + "/\(name).jsonl"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(throws: expected) { try ExportFile.read(path: path) }
            #expect(throws: expected) { try ChainVerifier.verify(path: path) }
        }
    }

    @Test func rocksHomeExportsTheSameBytesAndRefusesWhileLocked() throws {
        let home = try temporaryDirectory("home")
        var memoryExport = Data()
        do {
            let store = try RocksChainStore(path: home + "/data")
            let chain = try AuditTestChain.build(store: store)
            try chain.genesis.json().write(to: URL(fileURLWithPath: home + "/genesis.json"))
            memoryExport = try exportBytes(try AuditTestChain.build())
            #expect(throws: AuditError.self) { _ = try HomeChainSource(path: home) }
            do { _ = try HomeChainSource(path: home) } catch {
                #expect(error.description.contains("stop the node first"))
            }
        }
        let node = try HomeChainSource(path: home)
        let out = home + "/export.jsonl"
        let result = try ChainExporter.export(from: node, to: out)
        #expect(result.blocks == 7)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == memoryExport)
        #expect(try ChainVerifier.verify(path: out).blocks == 7)
        #expect(try ChainVerifier.verify(home: node.source).finalStateRoot == ChainVerifier.verify(path: out).finalStateRoot)
    }

    @Test func anySingleByteOfABlockIsCaughtAtItsHeight() throws {
        let data = try exportBytes(try AuditTestChain.build())
        let original = try JSONDecoder().decode(BlockLine.self, from: Data(lines(data)[3].utf8))
        let count = original.blockHex.count
        // Sample positions across the block: header, transactions, the previous certificate, the end.
        for position in [0, 9, 40, 100, 300, 700, count / 2, count - 150, count - 3] {
            let tampered = try editLine(data, height: 3) { line in
                var chars = Array(line.blockHex)
                chars[position] = chars[position] == "0" ? "1" : "0"
                line.blockHex = String(chars)
            }
            let error = try #require(verifyError(tampered), "byte at hex position \(position) not caught")
            #expect(error.failedHeight == 3, "position \(position): \(error)")
            #expect(error.exitCode == 1)
        }
    }

    @Test func certificateWithoutQuorumOrWithABadSignatureFails() throws {
        let data = try exportBytes(try AuditTestChain.build())
        func withCertificate(_ edit: (inout [CommitSignature]) throws -> Void) throws -> Data {
            try editLine(data, height: 2) { line in
                let cert = try CanonicalDecoder.decode(CommitCertificate.self, from: try Hex.decode(line.certificateHex))
                var signatures = cert.signatures
                try edit(&signatures)
                line.certificateHex = Hex.encode(CommitCertificate(height: cert.height, round: cert.round, blockID: cert.blockID, signatures: signatures).canonicalBytes)
            }
        }
        // 3 of 4 is still a quorum (> 2/3): a valid certificate.
        #expect(verifyError(try withCertificate { $0.removeLast() }) == nil)
        let two = try #require(verifyError(try withCertificate { $0.removeLast(2) }))
        #expect(two.description == "height 2: certificate has 2 of 4 signatures (voting power 2), needs voting power 3")
        let forged = try #require(verifyError(try withCertificate { sigs in
            var bytes = sigs[0].signature.bytes
            bytes[5] ^= 1
            sigs[0] = CommitSignature(validator: sigs[0].validator, signature: try Signature(bytes: bytes))
        }))
        #expect(forged.failedHeight == 2 && forged.description.contains("certificate signature of validator"))
    }

    @Test func swappedTransactionsFailAtTheirHeight() throws {
        let data = try exportBytes(try AuditTestChain.build())
        let tampered = try editLine(data, height: 1) { line in
            var block = try Block.decode(try Hex.decode(line.blockHex))
            block.transactions.swapAt(0, 1)
            line.blockHex = Hex.encode(block.canonicalBytes)
        }
        let error = try #require(verifyError(tampered))
        #expect(error.failedHeight == 1)
        #expect(error.description.contains("tx_root"))
    }

    @Test func aReplacedGenesisValidatorKeyFails() throws {
        let data = try exportBytes(try AuditTestChain.build())
        var rows = lines(data)
        var header = try JSONDecoder().decode(ExportHeader.self, from: Data(rows[0].utf8))
        header.genesisJSON = header.genesisJSON.replacingOccurrences(of: auditKey("validator1").publicKey.hex, with: auditKey("mallory").publicKey.hex)
        rows[0] = try ExportJSON.line(header)
        let stale = try #require(verifyError(join(rows)))
        #expect(stale.exitCode == 1 && stale.description.hasPrefix("genesis: "))
        // With the genesis hash fixed up too, the chain no longer fits its genesis: height 1 fails.
        header.genesisHash = try GenesisDocument.parse(Data(header.genesisJSON.utf8)).hash.hex
        rows[0] = try ExportJSON.line(header)
        let error = try #require(verifyError(join(rows)))
        #expect(error.failedHeight == 1, "\(error)")
    }

    @Test func truncatedOrMalformedFilesExitTwoWithTheLine() throws {
        let data = try exportBytes(try AuditTestChain.build())
        let rows = lines(data)
        let cutMidLine = data.prefix(data.count - 40)
        let mid = try #require(verifyError(cutMidLine))
        #expect(mid.exitCode == 2 && mid.description.hasPrefix("line 8:"), "\(mid)")
        let dropped = try #require(verifyError(join(Array(rows.dropLast()))))
        #expect(dropped.exitCode == 2 && dropped.description.contains("truncated"), "\(dropped)")
        #expect(dropped.description.contains("height 6"))
        let garbage = try #require(verifyError(data + Data("{}\n".utf8)))
        #expect(garbage.exitCode == 2 && garbage.description.hasPrefix("line 9:"))
        let trailing = try #require(verifyError(data + Data("x".utf8)))
        #expect(trailing.exitCode == 2)
        for other in [1, 3] {
            var changed = rows
            changed[0] = changed[0].replacingOccurrences(of: "\"version\":2", with: "\"version\":\(other)")
            let version = try #require(verifyError(join(changed)))
            #expect(version.exitCode == 2 && version.description == "line 1: unsupported format version \(other); this build reads version 2")
        }
        var extra = rows
        extra[4] = String(extra[4].dropLast()) + ",\"zzz\":1}"
        let unknown = try #require(verifyError(join(extra)))
        #expect(unknown.exitCode == 2 && unknown.description.hasPrefix("line 5:"))
        var spaced = rows
        spaced[3] = spaced[3] + " "
        #expect(verifyError(join(spaced))?.exitCode == 2)
    }

    @Test func decodedFieldsMustMatchTheCanonicalBytes() throws {
        let data = try exportBytes(try AuditTestChain.build())
        let receipt = try editLine(data, height: 4) { $0.receipts[0].createdIDs = ["cert-forged"] }
        #expect(verifyError(receipt)?.description == "height 4: receipt 0: the decoded fields differ from canonical_hex")
        var time: Int64 = 0
        let header = try editLine(data, height: 5) { time = $0.header.time; $0.header.time += 1 }
        #expect(verifyError(header)?.description == "height 5: the decoded header fields differ from the canonical bytes: time (line: \(time + 1); canonical bytes: \(time))")
        let payload = try editLine(data, height: 5) { $0.transactions[0].payloadJSON = "{}" }
        #expect(verifyError(payload)?.failedHeight == 5)
    }

    /// An auditor told only "height 52" has to diff the whole line; the message names the transaction, the field and
    /// the two values around where they part.
    @Test func anEditedPayloadIsNamedByTransactionFieldAndValue() throws {
        let data = try exportBytes(try AuditTestChain.build())
        var original = "", hash = ""
        let edited = try editLine(data, height: 5) {
            original = $0.transactions[0].payloadJSON ?? ""
            hash = $0.transactions[0].hash
            $0.transactions[0].payloadJSON = String(original.dropLast()) + ",\"forged\":9000}"
        }
        let error = try #require(verifyError(edited))
        #expect(error.failedHeight == 5 && error.exitCode == 1)
        let text = error.description
        #expect(text.hasPrefix("height 5: transaction 0 (hash \(hash)): the decoded fields differ from the canonical bytes: payload_json (line: "), "\(text)")
        #expect(text.contains(",\"forged\":9000}; canonical bytes: ") && text.hasSuffix(String(original.suffix(10)) + ")"), "\(text)")
        #expect(text.count < 400, "a window of each value, not the whole payload: \(text)")
        // A control character in the line is shown escaped, never sent to the terminal.
        let escaped = try editLine(data, height: 5) { $0.transactions[0].kind = "\u{1b}[2J" + $0.transactions[0].kind }
        let shown = try #require(verifyError(escaped)).description
        #expect(shown.contains("kind (line: \\u{1b}[2J") && !shown.contains("\u{1b}"), "\(shown)")
        // A transaction dropped from the line's list.
        let dropped = try editLine(data, height: 4) { $0.transactions.removeLast() }
        #expect(try #require(verifyError(dropped)).description.contains("transactions, the canonical bytes hold"))
    }
}
