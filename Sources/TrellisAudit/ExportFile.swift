// ExportFile.swift — strict reader of a chain export (format "trellis-chain-export", version 2).
//
// Rejects (as `AuditError.malformed`, exit 2, naming the line): an unknown format or version, a line that is not
// canonical JSON of its type, bad hex, heights that are not consecutive from the header's `from_height`, blank
// lines, a missing final newline, content after `to_height`, and a file that ends early (truncated). It does not
// judge validity: that is `ChainVerifier`'s job. The genesis hash is checked here because everything else
// depends on it; with a `TrustAnchor`, a file of another genesis is refused right after its first line is read,
// before anything else in it is looked at.
//
// `parse` checks the file's shape, the header and the genesis, and keeps the block lines as bytes; their JSON is
// decoded only on demand (`decodedLines`, with the per-line checks above). The fast verification path compares the
// bytes with what the canonical block bytes imply instead (FastChainVerifier.swift), which is the same check
// without a JSON decoder; whenever it cannot confirm a file, `decodedLines` runs and reports exactly as before.
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TrellisCrypto
import TrellisLedger

/// A parsed export: header, genesis and block lines with their line numbers.
public struct ExportFile: Sendable {
    public let header: ExportHeader
    public let genesis: GenesisDocument
    /// The block lines: raw bytes (line i + 2 of the file), or already decoded (a node home's chain).
    let body: Body
    /// True when the block lines' UTF-8 and blank-line checks were left to `checkRows` (`read(path:trusting:deferringRowChecks:)`).
    let rowChecksDeferred: Bool

    enum Body: Sendable {
        case raw([ArraySlice<UInt8>])
        case decoded([(number: Int, line: BlockLine)])
    }

    init(header: ExportHeader, genesis: GenesisDocument, lines: [(number: Int, line: BlockLine)]) {
        self.header = header
        self.genesis = genesis
        body = .decoded(lines)
        rowChecksDeferred = false
    }

    init(header: ExportHeader, genesis: GenesisDocument, rows: [ArraySlice<UInt8>], rowChecksDeferred: Bool = false) {
        self.header = header
        self.genesis = genesis
        body = .raw(rows)
        self.rowChecksDeferred = rowChecksDeferred
    }

    /// Reads and parses the file at `path`; with `anchor`, a file of another genesis is refused first.
    public static func read(path: String, trusting anchor: TrustAnchor? = nil) throws(AuditError) -> ExportFile {
        try parse(bytes: readBytes(path: path), trusting: anchor)
    }

    /// `read`, with the block lines' UTF-8 and blank-line checks (a pass over every byte of the file, on all cores,
    /// before anything else could start) left to `checkRows`: `ChainVerifier` runs them only when the fast path
    /// cannot confirm the file — a line the fast path confirms is exactly what the exporter writes (or decoded from
    /// validated UTF-8), so it is neither blank nor invalid UTF-8 — and before anything else is reported, so every
    /// error is the one `read` gives. Every other check of `parse`, and its order, is unchanged.
    static func read(path: String, trusting anchor: TrustAnchor?, deferringRowChecks: Bool) throws(AuditError) -> ExportFile {
        try parse(bytes: readBytes(path: path), trusting: anchor, deferringRowChecks: deferringRowChecks)
    }

    /// The block lines' checks `read(path:trusting:deferringRowChecks:)` left out (nothing when none were): throws
    /// what `parse` throws for the first blank or non-UTF-8 line.
    func checkRows() throws(AuditError) {
        guard rowChecksDeferred, case .raw(let rows) = body else { return }
        try Self.checkRows(rows, firstNumber: 2)
    }

    /// Throws `malformed` for the first blank or non-UTF-8 row (`rows[0]` is line `firstNumber`), each row checked
    /// on all cores.
    static func checkRows(_ rows: [ArraySlice<UInt8>], firstNumber: Int) throws(AuditError) {
        let verdicts = Parallel.map(rows) { row -> RowVerdict in row.isEmpty ? .blank : isUTF8(row) ? .fine : .notUTF8 }
        for (i, verdict) in verdicts.enumerated() {
            switch verdict {
            case .fine: continue
            case .blank: throw .malformed(line: i + firstNumber, message: "blank line")
            case .notUTF8: throw .malformed(line: i + firstNumber, message: "not UTF-8")
            }
        }
    }

    /// The whole file at `path`, read straight into one array: `Data(contentsOf:)` then `[UInt8](data)` wrote every
    /// byte twice, on one core, before verification could start. Reads to the end of the file, whatever size
    /// `fstat` said.
    static func readBytes(path: String) throws(AuditError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, message: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .unreadable(path: path, message: String(cString: strerror(errno))) }
        if Int(st.st_size) >= parallelReadMinimum, let bytes = readInParallel(fd, size: Int(st.st_size)) { return bytes }
        var failure: Int32 = 0
        /// Reads into `buffer` from `start` until it is full or the file ends; returns the bytes now held.
        func fill(_ buffer: UnsafeMutableBufferPointer<UInt8>, from start: Int) -> Int {
            var count = start
            while count < buffer.count {
                let n = Glibc.read(fd, buffer.baseAddress! + count, buffer.count - count)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                if n == 0 { break }
                count += n
            }
            return count
        }
        // One byte more than the size, so that reaching it means the file grew while it was read.
        var capacity = max(Int(st.st_size), 0) + 1
        var bytes = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in initialized = fill(buffer, from: 0) }
        while failure == 0, bytes.count == capacity {
            capacity *= 2
            let held = bytes.count
            bytes = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
                _ = buffer.initialize(from: bytes)
                initialized = fill(buffer, from: held)
            }
        }
        guard failure == 0 else { throw .unreadable(path: path, message: String(cString: strerror(failure))) }
        return bytes
    }

    /// Files from this size on are read by several threads at once (`readInParallel`).
    static let parallelReadMinimum = 4 << 20

    /// Exactly `size` bytes of the file read by `parts` threads (one per core) at once, each its own range (`pread`): the
    /// kernel's copy and the new buffer's page faults took ~70 ms on one core for a 150 MB export before any
    /// verification could start. Nil when the file does not hold exactly `size` bytes as read (it changed, or a read
    /// failed): the caller then reads it the sequential way, which reads to its end or names the error.
    static func readInParallel(_ fd: Int32, size: Int, parts: Int = min(ParallelVerifier.defaultConcurrency, 8)) -> [UInt8]? {
        guard parts > 1, size > 0 else { return nil }
        var complete = false
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            let target = ReadTarget(base: buffer.baseAddress!, parts: parts)
            defer { target.filled.deallocate() }
            DispatchQueue.concurrentPerform(iterations: parts) { w in
                let end = size * (w + 1) / parts
                var at = size * w / parts
                while at < end {
                    let n = pread(fd, target.base + at, end - at, off_t(at))
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    at += n
                }
                target.filled[w] = at == end
            }
            // Nothing after the `size` bytes (a file that grew is read the sequential way, to its end).
            var next: UInt8 = 0
            var after: Int
            repeat { after = pread(fd, &next, 1, off_t(size)) } while after < 0 && errno == EINTR
            complete = after == 0 && !UnsafeBufferPointer(start: target.filled, count: parts).contains(false)
            initialized = complete ? size : 0
        }
        return complete ? bytes : nil
    }

    /// Parses export bytes strictly; with `anchor`, a file of another genesis is refused first.
    public static func parse(_ data: Data, trusting anchor: TrustAnchor? = nil) throws(AuditError) -> ExportFile {
        try parse(bytes: [UInt8](data), trusting: anchor)
    }

    /// Parses export bytes strictly; with `anchor`, a file of another genesis is refused first. With
    /// `deferringRowChecks`, the block lines' row checks are left to `checkRows` — except that any error found later
    /// in the parse is reported only after them, as without deferring.
    static func parse(bytes: [UInt8], trusting anchor: TrustAnchor? = nil, deferringRowChecks: Bool = false) throws(AuditError) -> ExportFile {
        // Split on 0x0A bytes (UTF-8 never uses 0x0A inside a multi-byte character); each row is then checked as
        // UTF-8 on its own. Much faster than splitting a String by Character.
        guard !bytes.isEmpty else { throw .malformed(line: 1, message: "the file is empty") }
        if let anchor {
            // The pinned genesis first: only the first line (format, version, genesis_hash) is read before it.
            let first = bytes.prefix { $0 != 0x0A }
            guard first.count < bytes.count, isUTF8(first) else { throw .malformed(line: 1, message: "the header line is not a complete UTF-8 line") }
            let header = try parseHeader(Substring(String(decoding: first, as: UTF8.self)))
            try anchor.check(genesisHash: header.genesisHash, chainID: header.chainID, what: "the export")
        }
        var byteRows = splitLines(bytes)
        guard byteRows.last?.isEmpty == true else { throw .malformed(line: byteRows.count, message: "the last line has no final newline (truncated file?)") }
        byteRows.removeLast()
        let rows = byteRows
        // Each row checked on all cores (a pass over every byte of the file), the first bad one reported. Deferred:
        // the header row alone now; the block rows before any later error of this parse is thrown, or by `checkRows`.
        guard deferringRowChecks else {
            try checkRows(rows, firstNumber: 1)
            return try parseRest(rows, deferredRowChecks: false)
        }
        try checkRows(Array(rows.prefix(1)), firstNumber: 1)
        do { return try parseRest(rows, deferredRowChecks: true) } catch {
            try checkRows(Array(rows.dropFirst()), firstNumber: 2)
            throw error
        }
    }

    /// The header, the genesis and the height range of split rows whose row checks passed (or are deferred).
    private static func parseRest(_ rows: [ArraySlice<UInt8>], deferredRowChecks: Bool) throws(AuditError) -> ExportFile {
        let header = try parseHeader(Substring(String(decoding: rows[0], as: UTF8.self)))
        let genesis: GenesisDocument
        do { genesis = try GenesisDocument.parse(Data(header.genesisJSON.utf8)) } catch {
            throw .malformed(line: 1, message: "genesis_json is not a valid genesis document: \(error)")
        }
        guard genesis.hash.hex == header.genesisHash else {
            throw .verificationFailed(height: nil, message: "genesis: genesis_json hashes to \(genesis.hash.hex), but the header says \(header.genesisHash)")
        }
        guard genesis.chainID == header.chainID else {
            throw .verificationFailed(height: nil, message: "genesis: chain id \(genesis.chainID) differs from the header's \(header.chainID)")
        }
        guard header.fromHeight >= 1, header.fromHeight <= header.toHeight else {
            throw .malformed(line: 1, message: "invalid height range \(header.fromHeight)…\(header.toHeight)")
        }
        let expectedCount = header.toHeight - header.fromHeight + 1
        guard UInt64(rows.count - 1) <= expectedCount else {
            throw .malformed(line: Int(expectedCount) + 2, message: "content after the last declared height \(header.toHeight)")
        }
        return ExportFile(header: header, genesis: genesis, rows: Array(rows.dropFirst()), rowChecksDeferred: deferredRowChecks)
    }

    /// The block lines decoded strictly (canonical JSON of a `BlockLine`, heights consecutive from `from_height`,
    /// none missing), as (1-based line number, line) in height order.
    public func decodedLines() throws(AuditError) -> [(number: Int, line: BlockLine)] {
        let rows: [ArraySlice<UInt8>]
        switch body {
        case .decoded(let lines): return lines
        case .raw(let r): rows = r
        }
        let expectedCount = header.toHeight - header.fromHeight + 1
        // Lines decode independently: on all cores, then checked in order so the first bad line is reported.
        let decoded = Parallel.map(Array(rows.enumerated())) { (i, row) -> Result<BlockLine, AuditError> in
            do throws(AuditError) {
                return .success(try ExportJSON.decode(BlockLine.self, Substring(String(decoding: row, as: UTF8.self)), line: i + 2, what: "block line"))
            } catch { return .failure(error) }
        }
        var lines: [(number: Int, line: BlockLine)] = []
        lines.reserveCapacity(decoded.count)
        for (offset, result) in decoded.enumerated() {
            let number = offset + 2
            let line: BlockLine
            switch result {
            case .success(let l): line = l
            case .failure(let e): throw e
            }
            let expectedHeight = header.fromHeight + UInt64(offset)
            guard line.height == expectedHeight else { throw .malformed(line: number, message: "expected height \(expectedHeight), found \(line.height)") }
            lines.append((number, line))
        }
        guard UInt64(lines.count) == expectedCount else {
            let last = lines.last.map { "height \($0.line.height)" } ?? "the header"
            throw .malformed(line: rows.count + 2, message: "the file ends after \(last), but the header declares heights \(header.fromHeight)…\(header.toHeight) (truncated)")
        }
        return lines
    }

    /// What the row checks of `parse` say of one row.
    enum RowVerdict: Sendable {
        case fine, blank, notUTF8
    }

    /// `bytes` cut at every 0x0A, empty pieces kept: the same pieces as `split(separator: 0x0A,
    /// omittingEmptySubsequences: false)`, found with memchr (a 150 MB export was split byte by byte before any
    /// verification could start).
    static func splitLines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var rows: [ArraySlice<UInt8>] = []
        bytes.withUnsafeBufferPointer { b in
            guard let base = b.baseAddress else {
                rows.append(bytes[...])
                return
            }
            var start = 0
            while true {
                guard start < b.count, let found = memchr(base + start, 0x0A, b.count - start) else {
                    rows.append(bytes[start..<b.count])
                    return
                }
                let end = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                rows.append(bytes[start..<end])
                start = end + 1
            }
        }
        return rows
    }

    /// True when `row` is valid UTF-8 (all-ASCII rows, the usual case, are confirmed without copying).
    static func isUTF8(_ row: ArraySlice<UInt8>) -> Bool {
        let ascii = row.withUnsafeBufferPointer { b -> Bool in
            var acc: UInt8 = 0
            for c in b { acc |= c }
            return acc < 0x80
        }
        return ascii || String(validating: row, as: UTF8.self) != nil
    }

    static func parseHeader(_ row: Substring) throws(AuditError) -> ExportHeader {
        // A header that decodes strictly (it re-encodes to exactly its bytes) with this format and version is the
        // answer; the generic parse below only names what is wrong with one that is not (a whole parse of the
        // ~340 KB line with its 1,000-member genesis, on one core before any other work could start).
        if let header = try? ExportJSON.decode(ExportHeader.self, row, line: 1, what: "export header"),
           header.format == ExportHeader.formatName, header.version == ExportHeader.formatVersion {
            return header
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(row.utf8))) as? [String: Any] else {
            throw .malformed(line: 1, message: "the header is not a JSON object")
        }
        guard object["format"] as? String == ExportHeader.formatName else {
            throw .malformed(line: 1, message: "not a chain export: format is \(object["format"].map { "\($0)" } ?? "missing"), expected \(ExportHeader.formatName)")
        }
        guard let version = object["version"] as? Int, version == ExportHeader.formatVersion else {
            throw .malformed(line: 1, message: "unsupported format version \(object["version"].map { "\($0)" } ?? "(missing)"); this build reads version \(ExportHeader.formatVersion)")
        }
        return try ExportJSON.decode(ExportHeader.self, row, line: 1, what: "export header")
    }
}

/// The buffer `readInParallel`'s threads fill, each its own range, and whether each filled its range (each thread
/// writes only its own flag; the caller deallocates `filled`).
private struct ReadTarget: @unchecked Sendable {
    let base: UnsafeMutablePointer<UInt8>
    let filled: UnsafeMutablePointer<Bool>

    init(base: UnsafeMutablePointer<UInt8>, parts: Int) {
        self.base = base
        filled = .allocate(capacity: parts)
        filled.initialize(repeating: false, count: parts)
    }
}
