// ChainVerifier.swift — verifies a chain export (or a node home) end to end, trusting nothing but genesis.
//
// Three passes, the first bad height wins (ties: structure, then signatures, then re-execution):
//  1. structure, each line on all cores: the canonical bytes decode strictly; `block_hash` matches; tx_count is the
//     number of transactions and tx_root the RFC 6962 root over their hashes; the receipts decode, name their
//     transactions and hash to receipts_root (no re-execution needed); the certificate decodes and names this
//     height and block; the decoded header and transactions equal what the bytes imply. Then, in order, previous_block_hash is the
//     SHA-256 of the previous header (the genesis hash at height 1).
//  2. every Ed25519 signature of the range: the transactions' first, in one `ParallelVerifier` batch on all cores —
//     a transaction whose signature does not verify is no failure of the chain (validators execute it as a
//     rejection, TransactionSignatures.swift), but its receipt must be that rejection, and re-execution gets the
//     verdicts —; then the certificates', concurrently with pass 3 (a failure at a lower height wins).
//  3. re-execution from genesis (`ChainReplay`) with those verdicts: header fields, the certificate's quorum
//     against the validator set in force at that height (following governance changes), state roots, then the
//     line's receipts and validator_set_change against the re-execution's.
// Partial exports (from_height > 1) cannot be re-executed and are refused.
// An export file is first checked by `FastChainVerifier` (the same checks on the raw lines, pipelined, no JSON
// decoder); these reference passes run when it cannot confirm the file, and they name the failure.
import Dispatch
import Foundation
import TrellisCodec
import TrellisCrypto
import TrellisLedger

/// What a successful verification covered.
public struct VerificationSummary: Codable, Equatable, Sendable {
    public var chainID: String
    public var fromHeight: UInt64
    public var toHeight: UInt64
    public var blocks: UInt64
    public var transactions: Int
    public var signatures: Int
    /// The state root after `toHeight`, hex.
    public var finalStateRoot: String
    /// The genesis hash the verification started from, hex: every verdict is relative to it.
    public var genesisHash: String
    /// True when that genesis was pinned by the caller (`TrustAnchor`); false when it was taken from the file.
    public var genesisPinned: Bool

    enum CodingKeys: String, CodingKey {
        case chainID = "chain_id"
        case genesisHash = "genesis_hash"
        case genesisPinned = "genesis_pinned"
        case fromHeight = "from_height"
        case toHeight = "to_height"
        case blocks, transactions, signatures
        case finalStateRoot = "final_state_root"
    }
}

/// Progress of a long verification: (phase, done, total).
public typealias VerifyProgress = (String, Int, Int) -> Void

public enum ChainVerifier {
    /// Verifies the export file at `path`; with `anchor`, an export of another genesis is refused before anything
    /// else is checked.
    public static func verify(path: String, trusting anchor: TrustAnchor? = nil, progress: VerifyProgress? = nil) throws(AuditError) -> VerificationSummary {
        // The row checks wait: the fast path confirms every byte of every line it accepts (`verify` runs them
        // before anything else when it does not).
        let file = try ExportFile.read(path: path, trusting: anchor, deferringRowChecks: true)
        let result = try verify(file, progress: progress)
        // The file and the replayed ledger (the whole state: ~10⁶ small allocations at 100,000 transactions) are
        // released on another thread: the verdict does not wait ~50 ms for their teardown on this one, and a CLI that
        // exits after printing it skips the teardown.
        Leftovers(file, result.replay).releaseElsewhere()
        var summary = result.summary
        summary.genesisPinned = anchor != nil
        return summary
    }

    /// Verifies a node home's whole chain (the node must be stopped); with `anchor`, a home of another genesis is
    /// refused before anything else is checked.
    public static func verify(home: StoreChainSource, trusting anchor: TrustAnchor? = nil, progress: VerifyProgress? = nil) throws(AuditError) -> VerificationSummary {
        try anchor?.check(genesisHash: home.genesis.hash.hex, chainID: home.genesis.chainID, what: "\(home.label)")
        var summary = try verifyHome(home, progress: progress)
        summary.genesisPinned = anchor != nil
        return summary
    }

    static func verifyHome(_ home: StoreChainSource, progress: VerifyProgress?) throws(AuditError) -> VerificationSummary {
        let latest = try home.latestHeight()
        guard latest >= 1 else { throw .source("\(home.label) has no committed blocks") }
        var lines: [(number: Int, line: BlockLine)] = []
        for h in 1...latest {
            let c = try home.committedBlock(atHeight: h)
            lines.append((0, BlockLine.make(block: c.block, certificate: c.certificate, receipts: c.receipts ?? [], validatorSetChange: try home.validatorSetChange(afterHeight: h))))
        }
        let genesisJSON = (try? home.genesis.json()).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let header = ExportHeader(format: ExportHeader.formatName, version: ExportHeader.formatVersion, chainID: home.genesis.chainID,
                                  genesisJSON: genesisJSON, genesisHash: home.genesis.hash.hex, fromHeight: 1, toHeight: latest)
        return try verify(ExportFile(header: header, genesis: home.genesis, lines: lines), progress: progress).summary
    }

    /// The checks of one block line that need neither other lines nor re-execution, as `verify` runs them on each
    /// line (the fast form when the line matches it, else strict JSON decoding and the reference local checks);
    /// true when they pass. Public for fuzzing (TrellisFuzzing feeds it hostile lines); use `verify` otherwise.
    public static func lineChecksPass(_ row: [UInt8], height: UInt64, chainID: String) -> Bool {
        FastChainVerifier.decode(row[...], number: 2, height: height, chainID: chainID, registry: .standard, scratch: LineScratch()) != nil
    }

    /// Verifies a parsed export; returns the summary and the replayed ledger (for reports).
    ///
    /// The export's raw lines go through `FastChainVerifier` first (the same checks, pipelined, without a JSON
    /// decoder); when it cannot confirm the file, the reference passes below run and name the failure.
    public static func verify(_ file: ExportFile, progress: VerifyProgress? = nil) throws(AuditError) -> (summary: VerificationSummary, replay: ChainReplay) {
        if case .raw(let rows) = file.body, file.header.fromHeight == 1,
           let result = FastChainVerifier.verify(header: file.header, genesis: file.genesis, rows: rows, progress: progress) {
            return (result.summary, result.replay)
        }
        // Whatever the fast path found, a blank or non-UTF-8 line is reported first, as `ExportFile.read` reports it.
        try file.checkRows()
        let lines = try file.decodedLines()
        guard file.header.fromHeight == 1 else {
            throw .malformed(line: 1, message: "partial export (from height \(file.header.fromHeight)): verification re-executes from genesis and needs height 1")
        }
        return try verifyReference(file, lines: lines, progress: progress)
    }

    /// The reference passes over decoded lines (see the file header).
    static func verifyReference(_ file: ExportFile, lines: [(number: Int, line: BlockLine)], progress: VerifyProgress?) throws(AuditError) -> (summary: VerificationSummary, replay: ChainReplay) {
        let chainID = file.genesis.chainID
        // Pass 1: each line on its own on all cores, then the hash links in order; stop at the first bad height.
        let registry = ContractRegistry.standard
        let local = Parallel.map(lines.map { ($0.number, $0.line) }) { number, line in checkLocal(line, number: number, registry: registry) }
        var decoded: [(block: Block, certificate: CommitCertificate)] = []
        decoded.reserveCapacity(lines.count)
        var structuralFailure: AuditError? = nil
        var previousHash = file.genesis.hash  // block 1 links to the genesis
        for result in local {
            switch result {
            case .failure(let e): structuralFailure = e
            case .success(let pair):
                if let e = linkFailure(pair.block, previousHash: previousHash) { structuralFailure = e } else {
                    decoded.append(pair)
                    previousHash = pair.block.hash
                }
            }
            if structuralFailure != nil { break }
        }
        progress?("structure", decoded.count, lines.count)

        // Pass 2: every signature of the blocks that passed pass 1. Transaction signatures first, in one parallel
        // batch: re-execution needs their verdicts (a transaction whose signature does not verify is executed as a
        // rejection, as every validator executes it — TransactionSignatures.swift), and such a transaction's receipt
        // must be that rejection. Certificate signatures run on other threads while pass 3 re-executes; the first
        // failure by height wins either way.
        var txChecks: [SignatureCheck] = []
        var txStarts: [Int] = []
        var certificateChecks: [SignatureCheck] = []
        var certificateOwners: [(block: Int, signature: Int)] = []
        for (b, (block, certificate)) in decoded.enumerated() {
            txStarts.append(txChecks.count)
            for tx in block.transactions { txChecks += tx.signatureChecks }
            for (s, check) in certificate.signatureChecks(chainID: chainID).enumerated() {
                certificateChecks.append(check)
                certificateOwners.append((b, s))
            }
        }
        txStarts.append(txChecks.count)
        let signatureCount = txChecks.count + certificateChecks.count
        progress?("signatures", 0, signatureCount)
        let verdicts = VerdictBox()
        let signaturesDone = DispatchGroup()
        DispatchQueue.global().async(group: signaturesDone) { [certificateChecks] in verdicts.set(ParallelVerifier.verify(certificateChecks)) }
        let txVerdicts = ParallelVerifier.verify(txChecks)
        var invalidTransactions: [[Int]] = []
        var signatureFailure: AuditError? = nil
        for (b, (block, _)) in decoded.enumerated() {
            let invalid = TransactionSignatures.invalidTransactions(block, verdicts: txVerdicts[txStarts[b]..<txStarts[b + 1]])
            invalidTransactions.append(invalid)
            if signatureFailure == nil, let failure = unsignedReceiptFailure(lines[b].line, block: block, invalid: invalid) { signatureFailure = failure }
        }

        // Pass 3: re-execute up to the first structural failure.
        let replay = try ChainReplay(genesis: file.genesis)
        var transactions = 0
        var replayFailure: AuditError? = nil
        for (i, (block, certificate)) in decoded.enumerated() {
            do throws(AuditError) {
                let receipts = try replay.apply(block, certificate: certificate, signatures: TransactionSignatures.policy(for: block, invalid: invalidTransactions[i]))
                try compare(lines[i].line, receipts: receipts, validatorSetChange: try replay.validatorSetChange())
            } catch {
                replayFailure = annotated(error, block: block, invalid: invalidTransactions[i])
                break
            }
            transactions += block.transactions.count
            if i % 500 == 499 { progress?("re-execution", i + 1, decoded.count) }
        }
        signaturesDone.wait()
        let valid = verdicts.get()
        if let bad = valid.firstIndex(of: false) {
            let owner = certificateOwners[bad], block = decoded[owner.block].block
            let failure = AuditError.verificationFailed(height: block.header.height, message: "certificate signature of validator \(decoded[owner.block].certificate.signatures[owner.signature].validator.hex) does not verify")
            if (signatureFailure?.failedHeight ?? .max) > block.header.height { signatureFailure = failure }
        }
        progress?("signatures", signatureCount, signatureCount)
        // Ties at one height: structure first, then signatures, then re-execution (min(by:) keeps the first).
        let failures = [structuralFailure, signatureFailure, replayFailure].compactMap { $0 }
        if let first = failures.min(by: { ($0.failedHeight ?? 0) < ($1.failedHeight ?? 0) }) { throw first }
        progress?("re-execution", decoded.count, decoded.count)
        let summary = VerificationSummary(chainID: chainID, fromHeight: file.header.fromHeight, toHeight: file.header.toHeight,
                                          blocks: UInt64(decoded.count), transactions: transactions, signatures: signatureCount,
                                          finalStateRoot: replay.engine.stateRoot.hex, genesisHash: file.genesis.hash.hex, genesisPinned: false)
        return (summary, replay)
    }

    /// Pass 2's check of the receipts of `block`'s transactions at `invalid` (whose signatures do not verify): each
    /// must be the executor's rejection (TransactionSignatures). Also a transaction without its required signers.
    static func unsignedReceiptFailure(_ line: BlockLine, block: Block, invalid: [Int]) -> AuditError? {
        for (i, tx) in block.transactions.enumerated() where invalid.contains(i) || !tx.hasRequiredSigners {
            // Pass 1 decoded every receipt of this line from its canonical_hex.
            guard let bytes = try? Hex.decode(line.receipts[i].canonicalHex), let receipt = try? CanonicalDecoder.decode(Receipt.self, from: bytes) else {
                preconditionFailure("invalid state: receipt \(i) at height \(block.header.height) passed pass 1 but does not decode")
            }
            if let fault = TransactionSignatures.receiptFailure(receipt, transaction: tx, signaturesValid: !invalid.contains(i)) {
                return .verificationFailed(height: block.header.height, message: "transaction \(i) (\(tx.hash.hex)): \(fault)")
            }
        }
        return nil
    }

    /// A re-execution failure at a block with transactions whose signatures do not verify, saying so.
    static func annotated(_ error: AuditError, block: Block, invalid: [Int]) -> AuditError {
        guard !invalid.isEmpty, case .verificationFailed(let h, let message) = error, h == block.header.height else { return error }
        let which = invalid.map(String.init).joined(separator: ", ")
        return .verificationFailed(height: h, message: message + " (transaction \(which) of this block has a signature that does not verify: every honest validator rejects such a transaction, \(EnvelopeRejection.invalidSignature), with its nonce unused)")
    }

    /// Pass 1 for one line, given the previous block's hash.
    static func checkStructure(_ line: BlockLine, number: Int, previousHash: Hash) throws(AuditError) -> (block: Block, certificate: CommitCertificate) {
        let pair = try checkLocal(line, number: number, registry: .standard).get()
        if let failure = linkFailure(pair.block, previousHash: previousHash) { throw failure }
        return pair
    }

    static func linkFailure(_ block: Block, previousHash: Hash) -> AuditError? {
        guard block.header.previousBlockHash != previousHash else { return nil }
        return .verificationFailed(height: block.header.height,
                                   message: "previous_block_hash \(block.header.previousBlockHash.hex) does not link to the previous header (hash \(previousHash.hex))")
    }

    /// The checks of pass 1 that need only the line itself: strict decoding, block hash, tx root, the certificate's
    /// height and block, and the decoded header and transactions against the canonical bytes.
    static func checkLocal(_ line: BlockLine, number: Int, registry: ContractRegistry) -> Result<(block: Block, certificate: CommitCertificate), AuditError> {
        let h = line.height
        func fail(_ message: String) -> Result<(block: Block, certificate: CommitCertificate), AuditError> { .failure(.verificationFailed(height: h, message: message)) }
        let blockBytes: [UInt8], certBytes: [UInt8]
        do { blockBytes = try Hex.decode(line.blockHex) } catch { return .failure(.malformed(line: number, message: "block_hex: \(error)")) }
        do { certBytes = try Hex.decode(line.certificateHex) } catch { return .failure(.malformed(line: number, message: "certificate_hex: \(error)")) }
        let block: Block
        do { block = try Block.decode(blockBytes) } catch { return fail("block bytes do not decode: \(error)") }
        let hash = block.hash
        guard block.header.height == h else { return fail("the block's canonical bytes are for height \(block.header.height)") }
        guard line.blockHash == hash.hex else { return fail("block_hash \(line.blockHash) differs from the SHA-256 of the header, \(hash.hex)") }
        guard block.header.txCount == block.transactions.count else {
            return fail("tx_count \(block.header.txCount), but the block carries \(block.transactions.count) transactions")
        }
        let txRoot = Block.txRoot(block.transactions)
        guard block.header.txRoot == txRoot else {
            return fail("tx_root \(block.header.txRoot.hex) does not match the transactions (their Merkle root is \(txRoot.hex))")
        }
        if let failure = receiptsFailure(line.receipts, block: block) { return fail(failure) }
        let certificate: CommitCertificate
        do { certificate = try CanonicalDecoder.decode(CommitCertificate.self, from: certBytes) } catch { return fail("certificate bytes do not decode: \(error)") }
        guard certificate.height == h else { return fail("the certificate is for height \(certificate.height)") }
        guard certificate.blockID == hash else { return fail("the certificate is for block \(certificate.blockID.hex), not \(hash.hex)") }
        let header = HeaderView(block.header)
        guard line.header == header else {
            return fail("the decoded header fields differ from the canonical bytes: \(firstDifference(line.header, header))")
        }
        let transactions = block.transactions.map { TransactionView($0, registry: registry) }
        guard line.transactions == transactions else {
            guard line.transactions.count == transactions.count else {
                return fail("the line lists \(line.transactions.count) transactions, the canonical bytes hold \(transactions.count)")
            }
            let i = transactions.indices.first { line.transactions[$0] != transactions[$0] } ?? 0
            return fail("transaction \(i) (hash \(transactions[i].hash)): the decoded fields differ from the canonical bytes: \(firstDifference(line.transactions[i], transactions[i]))")
        }
        return .success((block, certificate))
    }

    /// Where a line's decoded view first differs from the view of the canonical bytes, for a failure's message:
    /// the export's field name and both values, long ones shortened around their first differing character
    /// (`payload_json (line: …"amount":9000…; canonical bytes: …"amount":1000…)`). Only on the failure path.
    static func firstDifference<View: Encodable>(_ line: View, _ canonical: View) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let lineData = try? encoder.encode(line), let canonicalData = try? encoder.encode(canonical),
              let lineObject = (try? JSONSerialization.jsonObject(with: lineData)) as? [String: Any],
              let canonicalObject = (try? JSONSerialization.jsonObject(with: canonicalData)) as? [String: Any] else { return "(not comparable)" }
        func text(_ value: Any?) -> String {
            guard let value else { return "(absent)" }
            if let string = value as? String { return string }
            guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]) else { return "\(value)" }
            return String(decoding: data, as: UTF8.self)
        }
        for key in Set(lineObject.keys).union(canonicalObject.keys).sorted() {
            let a = text(lineObject[key]), b = text(canonicalObject[key])
            guard a != b else { continue }
            let (x, y) = shortenedAroundFirstDifference(Array(a), Array(b))
            return "\(key) (line: \(x); canonical bytes: \(y))"
        }
        return "(no field differs)"
    }

    /// Both texts cut to a window of ~60 characters starting a little before their first difference.
    static func shortenedAroundFirstDifference(_ a: [Character], _ b: [Character]) -> (String, String) {
        let common = zip(a, b).prefix { $0 == $1 }.count
        let start = max(0, common - 20)
        func window(_ t: [Character]) -> String {
            let end = min(t.count, start + 60)
            // An export is untrusted: control characters (escape sequences) are shown, not sent to the terminal.
            return (start > 0 ? "…" : "") + AuditCertificates.shown(String(t[start..<end])) + (end < t.count ? "…" : "")
        }
        return (window(a), window(b))
    }

    /// The receipts checks that need no re-execution: one receipt per transaction, each `canonical_hex` decodes
    /// strictly and its decoded fields are the line's, it names its transaction's hash and index, and the Merkle
    /// root of the receipt hashes is the header's `receipts_root`. Nil when they hold, else what is wrong.
    static func receiptsFailure(_ views: [ReceiptView], block: Block) -> String? {
        guard views.count == block.transactions.count else {
            return "\(views.count) receipts for \(block.transactions.count) transactions"
        }
        var receipts: [Receipt] = []
        receipts.reserveCapacity(views.count)
        for (i, view) in views.enumerated() {
            guard let bytes = try? Hex.decode(view.canonicalHex), let receipt = try? CanonicalDecoder.decode(Receipt.self, from: bytes) else {
                return "receipt \(i): canonical_hex does not decode as a receipt"
            }
            guard ReceiptView(receipt) == view else { return "receipt \(i): the decoded fields differ from canonical_hex" }
            guard receipt.txHash == block.transactions[i].hash, receipt.index == i else {
                return "receipt \(i) names transaction \(receipt.txHash.hex) at index \(receipt.index), not transaction \(i) of the block"
            }
            receipts.append(receipt)
        }
        let root = Receipt.root(receipts)
        guard root == block.header.receiptsRoot else {
            return "receipts_root \(block.header.receiptsRoot.hex) does not match the receipts (their Merkle root is \(root.hex))"
        }
        return nil
    }

    /// Pass 3's comparison of a line's receipts and validator-set change with the re-execution's (the rest of the
    /// line was compared with its canonical bytes in pass 1).
    static func compare(_ actual: BlockLine, receipts: [Receipt], validatorSetChange: ValidatorSetChangeView?) throws(AuditError) {
        let h = actual.height
        let expected = receipts.map(ReceiptView.init)
        guard actual.receipts == expected else {
            let i = zip(actual.receipts, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            throw .verificationFailed(height: h, message: "receipts differ from re-execution" + (i.map { " (first at transaction \($0))" } ?? " (count \(actual.receipts.count), expected \(expected.count))"))
        }
        guard actual.validatorSetChange == validatorSetChange else {
            throw .verificationFailed(height: h, message: "validator_set_change differs from the set the chain scheduled")
        }
    }
}

/// Pass 2's verdicts, handed from the verifying thread to the waiting one.
private final class VerdictBox: @unchecked Sendable {
    private let lock = NSLock()
    private var verdicts: [Bool] = []
    func set(_ v: [Bool]) { lock.lock(); verdicts = v; lock.unlock() }
    func get() -> [Bool] { lock.lock(); defer { lock.unlock() }; return verdicts }
}

extension AuditError {
    /// The height a verification failure names.
    var failedHeight: UInt64? {
        if case .verificationFailed(let h, _) = self { return h }
        return nil
    }
}

/// Values nobody else holds any more, handed to another thread to be released there. Unchecked: after
/// `releaseElsewhere` the caller keeps no reference, so they are never used from two threads. (Should that thread
/// finish first, the last release is the caller's, as before.)
final class Leftovers: @unchecked Sendable {
    private let file: ExportFile
    private let replay: ChainReplay

    init(_ file: ExportFile, _ replay: ChainReplay) {
        self.file = file
        self.replay = replay
    }

    func releaseElsewhere() {
        DispatchQueue.global(qos: .utility).async(group: Teardown.group) { withExtendedLifetime(self) {} }
    }
}

/// A value whose last reference is dropped on another thread, so that its teardown is off the caller's path.
/// Unchecked: the caller never reads it; only that thread touches it after `releaseElsewhere`.
final class Discarded<Value>: @unchecked Sendable {
    private var value: Value?

    init(_ value: Value) {
        self.value = value
    }

    func releaseElsewhere() {
        DispatchQueue.global(qos: .utility).async(group: Teardown.group) { self.value = nil }
    }
}

/// The releases `Leftovers` and `Discarded` hand to other threads, so that one who times passes back to back
/// (`AuditBenchmark`) can wait, untimed, for a pass's teardown to end before the next pass starts.
enum Teardown {
    static let group = DispatchGroup()

    /// Returns once every release handed elsewhere so far has run.
    static func wait() { group.wait() }
}
