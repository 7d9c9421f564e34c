// FastChainVerifier.swift — the fast path of `ChainVerifier`: the same checks on an export's raw lines, pipelined.
//
// Per line (workers, in height order): the line's bytes must be exactly the JSON `ExportJSON.line` writes for the
// block its own `block_hex` decodes to (strictly), so instead of decoding the JSON and re-encoding it, the hex
// fields are read in place and the decoded views are written from the block (LineJSON.swift) and compared byte for
// byte (the transactions' JSON too, found just before the line's end); then block_hash, tx_count, tx_root (from the
// transaction hashes, computed once) and the certificate's height and block. Receipts and validator_set_change are
// compared the same way after re-execution, in the bytes left around the transactions (re-execution checks
// the header's receipts_root against the receipts it produced). A line the writer cannot
// reproduce (say, a message outside printable ASCII) is checked the slow way (JSONDecoder), on its own.
//
// Scheduling: the calling thread re-executes block after block (`ChainReplay`, the serial part) as soon as each is
// decoded and its signatures are verified (decoding the line, or verifying a chunk of its signatures, itself when no
// worker has taken it yet), while `cores − 1` workers decode lines and verify signature chunks in height order, so
// the signatures of the next blocks are checked while this one executes. Re-execution needs the verdicts: a
// transaction whose signature does not verify is executed as a rejection, as every validator executes it
// (TransactionSignatures.swift) — it is not a failure. Nothing waits for a whole pass to finish, and no core idles
// while there is work.
//
// It never reports a failure itself: on the first problem of any kind (a certificate or last-commit signature that
// does not verify included) everything stops and `verify` returns nil,
// and `ChainVerifier` re-runs the reference passes, which name the failure exactly as before (same message, same
// height, same tie-breaking). It returns a result only when every check passed.
import Foundation
import TrellisCodec
import TrellisCrypto
import TrellisLedger

enum FastChainVerifier {
    /// Signatures per unit of work handed to a thread.
    static let signatureChunk = 256

    /// Verifies `rows` (block lines from height 1) against `genesis`; nil when anything fails or cannot be confirmed.
    /// `verifications` counts the Ed25519 verifications made (fewer than the checks: see `runChunkLocked`).
    static func verify(header: ExportHeader, genesis: GenesisDocument, rows: [ArraySlice<UInt8>], progress: VerifyProgress?)
        -> (summary: VerificationSummary, replay: ChainReplay, verifications: Int)? {
        let n = rows.count
        guard n > 0, header.fromHeight == 1, UInt64(n) == header.toHeight else { return nil }
        let chainID = genesis.chainID
        let registry = ContractRegistry.standard
        let state = PipelineState(count: n)
        let workers = max(1, ParallelVerifier.defaultConcurrency - 1)
        let group = DispatchGroup()
        let decodeLine: @Sendable (Int, LineScratch) -> DecodedLine? = { i, scratch in
            decode(rows[i], number: i + 2, height: UInt64(i + 1), chainID: chainID, registry: registry, scratch: scratch)
        }
        for _ in 0..<workers {
            DispatchQueue.global().async(group: group) { state.work(decodeLine) }
        }
        // The genesis state is built while the workers decode the first lines and check their signatures.
        guard let replay = try? ChainReplay(genesis: genesis) else {
            state.stop()
            group.wait()
            return nil
        }

        // Re-execution, in order, as lines become available.
        var previousHash = genesis.hash  // block 1 links to the genesis
        var transactions = 0
        let scratch = LineScratch()
        // How far through the lines re-execution is, in bytes: the replay sizes its state for the rest from it.
        let bytesTotal = rows.reduce(0) { $0 + $1.count }
        var bytesDone = 0
        for i in 0..<n {
            guard let line = state.waitDecoded(i, decode: decodeLine, scratch: scratch), let failedChecks = state.waitSignatures(i) else { break }
            let block = line.block
            bytesDone += rows[i].count
            replay.store.noteProgress(bytesDone: bytesDone, bytesTotal: bytesTotal)
            let receipts: [Receipt], change: ValidatorSetChangeView?
            do throws(AuditError) {
                guard block.header.previousBlockHash == previousHash else { throw .source("link") }
                // The line's decoding checked tx_root, and its checks included last_commit's signatures.
                receipts = try replay.apply(block, certificate: line.certificate,
                                            signatures: TransactionSignatures.policy(for: block, invalid: line.invalidTransactions(failedChecks)),
                                            prechecked: [.txRoot, .lastCommitSignatures])
                change = try replay.validatorSetChange()
            } catch {
                state.stop()
                break
            }
            guard viewsMatch(line, row: rows[i], number: i + 2, receipts: receipts, validatorSetChange: change, registry: registry, scratch: scratch) else {
                state.stop()
                break
            }
            previousHash = block.hash
            transactions += block.transactions.count
            if i % 500 == 499 { progress?("re-execution", i + 1, n) }
        }
        // Every line's signatures were waited for; the workers are done or finishing.
        group.wait()
        guard let signatures = state.succeeded() else { return nil }
        // The decoded lines (~10⁵ signature checks with their signed bytes at 100,000 transactions) are freed on
        // another thread, as the file and the replay are (`Leftovers`): the verdict does not wait ~15 ms for them.
        Discarded(state.takeLines()).releaseElsewhere()
        progress?("structure", n, n)
        progress?("signatures", signatures, signatures)
        progress?("re-execution", n, n)
        let summary = VerificationSummary(chainID: chainID, fromHeight: 1, toHeight: header.toHeight, blocks: UInt64(n),
                                          transactions: transactions, signatures: signatures, finalStateRoot: replay.engine.stateRoot.hex,
                                          genesisHash: genesis.hash.hex, genesisPinned: false)
        return (summary, replay, state.verifications)
    }

    /// One line after its local checks: the block, its certificate, what is left to compare after re-execution,
    /// and the signature checks it needs: the transactions' (`Transaction.signatureChecks`, transaction after
    /// transaction), then from `transactionChecks` on the block's `last_commit`'s (re-execution is told they were
    /// checked) and the certificate's — any failure among those stops the fast path.
    struct DecodedLine: @unchecked Sendable {
        let block: Block
        let certificate: CommitCertificate
        let rest: Rest
        let checks: [SignatureCheck]
        let transactionChecks: Int
        /// The positions in `checks` of the block's `last_commit`'s checks (then the certificate's, to the end).
        let lastCommitChecks: Range<Int>
        /// The checks the summary counts, as the reference passes count them: the transactions' and the certificate's
        /// (`last_commit`'s are checked, as in `LedgerEngine.validate`, but not counted).
        let countedChecks: Int

        init(block: Block, certificate: CommitCertificate, rest: Rest, chainID: String) {
            self.block = block
            self.certificate = certificate
            self.rest = rest
            var checks: [SignatureCheck] = []
            for tx in block.transactions { checks += tx.signatureChecks }
            transactionChecks = checks.count
            if let lastCommit = block.lastCommit { checks += lastCommit.signatureChecks(chainID: chainID) }
            lastCommitChecks = transactionChecks..<checks.count
            let certificateChecks = certificate.signatureChecks(chainID: chainID)
            checks += certificateChecks
            countedChecks = transactionChecks + certificateChecks.count
            self.checks = checks
        }

        /// True when `check` is, byte for byte (signer, signature, signed bytes), one of this line's certificate's.
        func certificateHolds(_ check: SignatureCheck) -> Bool {
            checks[lastCommitChecks.upperBound...].contains { c in
                c.publicKey == check.publicKey && c.signature == check.signature && c.message == check.message
            }
        }

        /// The transactions (indices) with a signature among `failedChecks` (indices into `checks`, all below
        /// `transactionChecks`).
        func invalidTransactions(_ failedChecks: [Int]) -> [Int] {
            if failedChecks.isEmpty { return [] }
            var verdicts = [Bool](repeating: true, count: transactionChecks)
            for k in failedChecks { verdicts[k] = false }
            return TransactionSignatures.invalidTransactions(block, verdicts: verdicts[...])
        }

        enum Rest {
            /// The receipts are the line's bytes `receiptsAt..<transactionsAt`, followed by the transactions (checked:
            /// exactly the JSON written from the block) up to `transactionsEnd`, then what comes after them.
            case fast(receiptsAt: Int, transactionsAt: Int, transactionsEnd: Int)
            /// The line did not match the fast form and was decoded with JSONDecoder (all but receipts checked).
            case decoded(BlockLine)
        }
    }

    /// The local checks of one line (the fast form, else the reference checks on the decoded line); nil on failure.
    /// `scratch` holds the calling thread's buffers (reused from line to line).
    static func decode(_ row: ArraySlice<UInt8>, number: Int, height: UInt64, chainID: String, registry: ContractRegistry, scratch: LineScratch) -> DecodedLine? {
        if let line = decodeFast(row, height: height, chainID: chainID, registry: registry, scratch: scratch) { return line }
        guard let text = String(validating: row, as: UTF8.self),
              let line = try? ExportJSON.decode(BlockLine.self, Substring(text), line: number, what: "block line"),
              line.height == height,
              case .success(let pair) = ChainVerifier.checkLocal(line, number: number, registry: registry)
        else { return nil }
        return DecodedLine(block: pair.block, certificate: pair.certificate, rest: .decoded(line), chainID: chainID)
    }

    /// The fast form: `{"block_hash":H,"block_hex":B,"certificate_hex":C,"header":…,"height":N,"receipts":R,` then
    /// the transactions, with B and C lowercase hex and everything but R (and what follows the transactions, both
    /// compared after re-execution) exactly as written from the decoded block.
    static func decodeFast(_ row: ArraySlice<UInt8>, height: UInt64, chainID: String, registry: ContractRegistry, scratch: LineScratch) -> DecodedLine? {
        // Read in place: a copy of the row (~1.5 MB at 1,000 transactions) cost a memmove and fresh pages per line.
        row.withUnsafeBufferPointer { bytes in decodeFast(bytes, height: height, chainID: chainID, registry: registry, scratch: scratch) }
    }

    private static func decodeFast(_ bytes: UnsafeBufferPointer<UInt8>, height: UInt64, chainID: String, registry: ContractRegistry, scratch: LineScratch) -> DecodedLine? {
        var p = 0
        guard expect(bytes, &p, "{\"block_hash\":\""), p + 64 <= bytes.count else { return nil }
        let hashAt = p
        p += 64
        // The block's bytes go into the thread's buffer (~0.6 MB at 1,000 transactions; the block keeps no part of it).
        guard expect(bytes, &p, "\",\"block_hex\":\""), lowerHex(bytes, &p, into: &scratch.blockBytes),
              expect(bytes, &p, "\",\"certificate_hex\":\""), let certBytes = lowerHex(bytes, &p), expect(bytes, &p, "\""),
              let block = try? Block.decode(scratch.blockBytes), block.header.height == height,
              let certificate = try? CanonicalDecoder.decode(CommitCertificate.self, from: certBytes)
        else { return nil }
        let hash = block.hash
        let hashes = block.transactions.map(\.hash)
        guard block.header.txCount == block.transactions.count, block.header.txRoot == MerkleTree.root(hashLeaves: hashes),
              certificate.height == height, certificate.blockID == hash
        else { return nil }
        var out = LineJSON(capacity: 1024)
        out.hex(hash)
        guard same(bytes, at: hashAt - 1, out.bytes) else { return nil }
        out = LineJSON(capacity: 1024)
        out.raw(",\"header\":")
        LineParts.header(block.header, into: &out)
        out.raw(",\"height\":"); out.number(height)
        out.raw(",\"receipts\":")
        guard out.ok, same(bytes, at: p, out.bytes) else { return nil }
        let receiptsAt = p + out.bytes.count
        // The transactions are compared here, where they are written (into the thread's buffer: ~1.2 MB at 1,000
        // transactions), so no line keeps them until re-execution. They come right after the receipts, which only
        // re-execution can write: they are found from the line's end — the line ends with them and "}", or with them
        // and `,"validator_set_change":{…}}` (no string in a line holds an unescaped quote, so the first such key
        // after the receipts is that one). A wrong guess only fails the comparison (the line is then decoded the
        // reference way); after re-execution the receipts must fill exactly the bytes before the transactions and
        // the change exactly those after, so every byte of the line is still compared.
        scratch.json.reset()
        LineParts.transactions(block.transactions, hashes: hashes, registry: registry, into: &scratch.json)
        guard scratch.json.ok else { return nil }
        let count = scratch.json.bytes.count
        var txAt = bytes.count - 1 - count
        if !(txAt >= receiptsAt && bytes[bytes.count - 1] == UInt8(ascii: "}") && same(bytes, at: txAt, scratch.json.bytes)) {
            guard let change = find(bytes, from: receiptsAt, ",\"validator_set_change\":") else { return nil }
            txAt = change - count
            guard txAt >= receiptsAt, same(bytes, at: txAt, scratch.json.bytes) else { return nil }
        }
        return DecodedLine(block: block, certificate: certificate, rest: .fast(receiptsAt: receiptsAt, transactionsAt: txAt, transactionsEnd: txAt + count),
                           chainID: chainID)
    }

    /// After re-execution: the line's receipts and validator_set_change are the re-execution's (in the fast form,
    /// the rest of the line is exactly receipts, transactions, change, "}"). A fast-form line that does not match
    /// is checked once more the reference way before it counts as a failure.
    static func viewsMatch(_ line: DecodedLine, row: ArraySlice<UInt8>, number: Int, receipts: [Receipt], validatorSetChange: ValidatorSetChangeView?, registry: ContractRegistry,
                           scratch: LineScratch) -> Bool {
        switch line.rest {
        case .decoded(let decoded):
            return (try? ChainVerifier.compare(decoded, receipts: receipts, validatorSetChange: validatorSetChange)) != nil
        case .fast(let receiptsAt, let txAt, let txEnd):
            scratch.json.reset()
            LineParts.receipts(receipts, into: &scratch.json)
            var tail = LineJSON(capacity: 64)
            LineParts.validatorSetChange(validatorSetChange, into: &tail)
            tail.raw("}")
            let out = scratch.json
            let matches = row.withUnsafeBufferPointer { bytes in
                out.ok && tail.ok && receiptsAt + out.bytes.count == txAt && txEnd + tail.bytes.count == bytes.count
                    && same(bytes, at: receiptsAt, out.bytes) && same(bytes, at: txEnd, tail.bytes)
            }
            if matches { return true }
            guard let text = String(validating: row, as: UTF8.self),
                  let decoded = try? ExportJSON.decode(BlockLine.self, Substring(text), line: number, what: "block line"),
                  case .success = ChainVerifier.checkLocal(decoded, number: number, registry: registry)
            else { return false }
            return (try? ChainVerifier.compare(decoded, receipts: receipts, validatorSetChange: validatorSetChange)) != nil
        }
    }

    /// Consumes `literal` at `p`.
    static func expect(_ bytes: UnsafeBufferPointer<UInt8>, _ p: inout Int, _ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard p + n <= bytes.count else { return false }
        let ok = literal.withUTF8Buffer { lit in memcmp(bytes.baseAddress! + p, lit.baseAddress!, n) == 0 }
        if ok { p += n }
        return ok
    }

    /// True when `bytes[at..<at + expected.count]` is `expected`.
    static func same(_ bytes: UnsafeBufferPointer<UInt8>, at: Int, _ expected: [UInt8]) -> Bool {
        guard at >= 0, at + expected.count <= bytes.count else { return false }
        if expected.isEmpty { return true }
        return expected.withUnsafeBufferPointer { e in memcmp(bytes.baseAddress! + at, e.baseAddress!, e.count) == 0 }
    }

    /// The position of the first `literal` in `bytes` at or after `from`, or nil.
    static func find(_ bytes: UnsafeBufferPointer<UInt8>, from: Int, _ literal: StaticString) -> Int? {
        guard from >= 0, from <= bytes.count, literal.utf8CodeUnitCount > 0, let base = bytes.baseAddress else { return nil }
        return literal.withUTF8Buffer { lit -> Int? in
            var at = from
            while at + lit.count <= bytes.count, let first = memchr(base + at, Int32(lit[0]), bytes.count - at) {
                at = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(first))
                if at + lit.count <= bytes.count && memcmp(base + at, lit.baseAddress!, lit.count) == 0 { return at }
                at += 1
            }
            return nil
        }
    }

    /// `lowerHex` on an array.
    static func lowerHex(_ bytes: [UInt8], _ p: inout Int) -> [UInt8]? {
        bytes.withUnsafeBufferPointer { lowerHex($0, &p) }
    }

    /// Lowercase hex digits from `p` up to the next `"` (not consumed), decoded; nil on anything else.
    static func lowerHex(_ b: UnsafeBufferPointer<UInt8>, _ p: inout Int) -> [UInt8]? {
        var out: [UInt8] = []
        return lowerHex(b, &p, into: &out) ? out : nil
    }

    /// `lowerHex` into `out` (replacing its contents, keeping its capacity: a thread's buffer reused from line to
    /// line); false on anything else (`p` then stays, `out` holds no meaning).
    static func lowerHex(_ b: UnsafeBufferPointer<UInt8>, _ p: inout Int, into out: inout [UInt8]) -> Bool {
        guard p <= b.count, let base = b.baseAddress, let quote = memchr(base + p, 0x22, b.count - p) else { return false }
        let end = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(quote))
        guard (end - p) % 2 == 0 else { return false }
        let count = (end - p) / 2
        var bad: UInt8 = 0
        // Table lookups with the failures or-ed together and checked once (a branch per digit was most of
        // decoding a line's hex); 0xFF marks a byte that is not a lowercase hex digit.
        let start = p
        out.removeAll(keepingCapacity: true)
        out.append(contentsOf: repeatElement(0, count: count))
        out.withUnsafeMutableBufferPointer { o in
            Self.nibbles.withUnsafeBufferPointer { t in
                var i = start
                for k in 0..<count {
                    let hi = t[Int(b[i])], lo = t[Int(b[i + 1])]
                    bad |= hi | lo
                    o[k] = hi << 4 | (lo & 0x0F)
                    i += 2
                }
            }
        }
        guard bad & 0xF0 == 0 else { return false }
        p = end
        return true
    }

    /// The value of each byte as a lowercase hex digit, 0xFF for any other byte.
    static let nibbles: [UInt8] = (0...255).map { c -> UInt8 in
        switch c {
        case 0x30...0x39: return UInt8(c - 0x30)
        case 0x61...0x66: return UInt8(c - 0x61 + 10)
        default: return 0xFF
        }
    }
}

/// Buffers one thread reuses from line to line: a line's block bytes and its transactions' JSON (~0.6 and ~1.2 MB
/// at 1,000 transactions), and on the re-executing thread the receipts' JSON. Fresh buffers per line cost their
/// pages' first-touch faults and, once glibc's mmap threshold has risen, heap consolidation at each free.
final class LineScratch {
    var blockBytes: [UInt8] = []
    var json = LineJSON()
}

/// The shared state of one fast verification: decoded lines (slots filled by workers, read in order by the
/// re-executing thread), queued signature chunks (in height order) with each line's chunks still unfinished and its
/// failed checks, and whether anything failed. All under one condition lock.
private final class PipelineState: @unchecked Sendable {
    private let condition = NSCondition()
    private var lines: [FastChainVerifier.DecodedLine?]
    private var nextDecode = 0
    private var chunks: [(line: Int, range: Range<Int>)] = []
    private var nextChunk = 0
    /// Lines below this one have their chunks queued. Chunks are queued in line order — a line's once every line
    /// before it is decoded — so when a chunk runs, the previous line is there to compare its last commit with
    /// (`runChunkLocked`): the verifications made do not depend on which thread finished decoding first.
    private var queuedLines = 0
    private var unfinishedChunks: [Int]
    private var failedChecks: [[Int]]
    private var stopped = false
    private var signatures = 0
    /// Ed25519 verifications made (checks repeated from the previous line's certificate are not made again).
    private(set) var verifications = 0

    init(count: Int) {
        lines = [FastChainVerifier.DecodedLine?](repeating: nil, count: count)
        unfinishedChunks = [Int](repeating: 0, count: count)
        failedChecks = [[Int]](repeating: [], count: count)
    }

    /// Runs until nothing is left: decodes lines (in order) with `decode`, else verifies queued signature chunks.
    func work(_ decode: (Int, LineScratch) -> FastChainVerifier.DecodedLine?) {
        let scratch = LineScratch()
        while true {
            condition.lock()
            if stopped { condition.unlock(); return }
            if nextDecode < lines.count {
                let i = nextDecode
                nextDecode += 1
                condition.unlock()
                let line = decode(i, scratch)
                condition.lock()
                storeLocked(i, line)
                condition.unlock()
                continue
            }
            if nextChunk < chunks.count {
                runChunkLocked()
                condition.unlock()
                continue
            }
            condition.unlock()
            return
        }
    }

    /// Takes the next queued chunk, verifies it with the lock released, and records the checks that failed: a
    /// transaction's is a verdict for re-execution, a last commit's or certificate's stops everything. Lock held on
    /// entry and exit.
    ///
    /// A last-commit check byte for byte the same as one of the previous line's certificate (a block's
    /// `last_commit` mostly repeats the previous block's certificate) is not verified again: that check is
    /// verified, as every certificate check is, before this line is re-executed (lines are re-executed in order,
    /// each once all its checks are done), and its failure stops everything; Ed25519 verification is a function of
    /// those bytes alone, so this one's verdict could only be the same.
    private func runChunkLocked() {
        let chunk = chunks[nextChunk]
        nextChunk += 1
        guard let line = lines[chunk.line] else { preconditionFailure("invalid state: a queued chunk without its line") }
        let previous = chunk.line > 0 ? lines[chunk.line - 1] : nil
        condition.unlock()
        var failed: [Int] = []
        var verified = 0
        for k in chunk.range {
            let c = line.checks[k]
            if line.lastCommitChecks.contains(k), let previous, previous.certificateHolds(c) { continue }
            verified += 1
            if !c.publicKey.verify(c.signature, message: c.message) { failed.append(k) }
        }
        condition.lock()
        verifications += verified
        failedChecks[chunk.line] += failed
        unfinishedChunks[chunk.line] -= 1
        if failed.contains(where: { $0 >= line.transactionChecks }) { stopped = true }
        condition.broadcast()
    }

    /// The failed transaction checks of line `i` (indices into its `checks`) once all its signatures are verified
    /// (verifying queued chunks itself rather than idling: lines are queued in order as they are decoded, so the next chunk
    /// may be a later line's); nil when the verification stopped.
    func waitSignatures(_ i: Int) -> [Int]? {
        condition.lock()
        defer { condition.unlock() }
        // `queuedLines > i` holds whenever lines 0...i are decoded (which re-execution waited for); the check keeps a
        // line whose chunks were not queued yet from reading as verified.
        while (queuedLines <= i || unfinishedChunks[i] > 0) && !stopped {
            if nextChunk < chunks.count {
                runChunkLocked()
            } else {
                condition.wait()
            }
        }
        return stopped ? nil : failedChecks[i].sorted()
    }

    /// Line `i` once decoded (decoding it here when no worker has taken it yet, rather than idling); nil when the
    /// verification stopped.
    func waitDecoded(_ i: Int, decode: (Int, LineScratch) -> FastChainVerifier.DecodedLine?, scratch: LineScratch) -> FastChainVerifier.DecodedLine? {
        condition.lock()
        defer { condition.unlock() }
        while lines[i] == nil && !stopped {
            if nextDecode == i {
                nextDecode += 1
                condition.unlock()
                let line = decode(i, scratch)
                condition.lock()
                storeLocked(i, line)
            } else {
                condition.wait()
            }
        }
        return stopped ? nil : lines[i]
    }

    /// Stores a decoded line (or the failure to decode it) and queues the signature chunks of every line that now
    /// has all lines before it decoded (`queuedLines`). Lock held.
    private func storeLocked(_ i: Int, _ line: FastChainVerifier.DecodedLine?) {
        if let line {
            lines[i] = line
            signatures += line.countedChecks
            while queuedLines < lines.count, let ready = lines[queuedLines] {
                var start = 0
                while start < ready.checks.count {
                    let end = min(start + FastChainVerifier.signatureChunk, ready.checks.count)
                    chunks.append((queuedLines, start..<end))
                    unfinishedChunks[queuedLines] += 1
                    start = end
                }
                queuedLines += 1
            }
        } else { stopped = true }
        condition.broadcast()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// The decoded lines, handed over: the state keeps none.
    func takeLines() -> [FastChainVerifier.DecodedLine?] {
        condition.lock()
        defer { condition.unlock() }
        let taken = lines
        lines = []
        return taken
    }

    /// The number of signatures verified, when every line decoded, every signature verified and nothing stopped.
    func succeeded() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        guard !stopped, nextDecode == lines.count, nextChunk == chunks.count, !unfinishedChunks.contains(where: { $0 > 0 }) else { return nil }
        return signatures
    }
}
