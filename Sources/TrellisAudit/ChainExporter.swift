// ChainExporter.swift — writes a chain export (ExportFormat.swift) from a `ChainSource`.
//
// From a node home, receipts come from the store and validator-set changes from the historical state. From a
// node URL (no receipts in the API), the blocks are re-executed in memory (`ChainReplay`) from genesis, which
// yields the receipts and validator sets; that path therefore needs `from` = 1. Output is deterministic: the same
// chain and range always give the same bytes. The file is written to `<out>.partial` and renamed when complete.
import Foundation
import TrellisCrypto
import TrellisLedger

public enum ChainExporter {
    /// Exports heights `from…to` (default: 1…latest) of `source` to `path`. `progress(done, total)` is called
    /// every few hundred blocks. Returns the number of blocks and transactions written.
    @discardableResult
    public static func export(from source: any ChainSource, to path: String, fromHeight: UInt64? = nil, toHeight: UInt64? = nil,
                              progress: ((UInt64, UInt64) -> Void)? = nil) throws(AuditError) -> (blocks: UInt64, transactions: Int) {
        let latest = try source.latestHeight()
        let from = fromHeight ?? 1, to = toHeight ?? latest
        guard from >= 1, from <= to else { throw .source("empty or invalid range \(from)…\(to) (heights start at 1)") }
        guard to <= latest else { throw .source("--to \(to) is above the last committed height \(latest)") }
        let home = source as? any StoredChainSource
        if home == nil && from != 1 { throw .source("exporting from a node URL re-executes from genesis to recompute receipts: use --from 1") }
        let replay = home == nil ? try ChainReplay(genesis: source.genesis) : nil

        let genesisJSON: Data
        do { genesisJSON = try source.genesis.json() } catch { throw .source("cannot encode the genesis document: \(error)") }
        let header = ExportHeader(format: ExportHeader.formatName, version: ExportHeader.formatVersion, chainID: source.genesis.chainID,
                                  genesisJSON: String(decoding: genesisJSON, as: UTF8.self), genesisHash: source.genesis.hash.hex,
                                  fromHeight: from, toHeight: to)
        let writer = try LineWriter(path: path + ".partial")
        try writer.write(try ExportJSON.line(header))
        var transactions = 0
        for height in from...to {
            let committed = try source.committedBlock(atHeight: height)
            let receipts: [Receipt]
            let change: ValidatorSetChangeView?
            if let home {
                receipts = committed.receipts ?? []
                change = try home.validatorSetChange(afterHeight: height)
            } else if let replay {
                receipts = try replay.apply(committed.block, certificate: committed.certificate)
                change = try replay.validatorSetChange()
            } else { preconditionFailure("invalid state: neither a home nor a replay") }
            let line = BlockLine.make(block: committed.block, certificate: committed.certificate, receipts: receipts, validatorSetChange: change)
            try writer.write(try ExportJSON.line(line))
            transactions += committed.block.transactions.count
            if height % 500 == 0 || height == to { progress?(height - from + 1, to - from + 1) }
        }
        try writer.close()
        do {
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: path + ".partial", toPath: path)
        } catch { throw .source("cannot move the export into place at \(path): \(error.localizedDescription)") }
        return (to - from + 1, transactions)
    }
}

/// Buffered line output to a new file, synced on close.
final class LineWriter {
    private let handle: FileHandle
    private var buffer = Data()
    private let path: String
    static let flushBytes = 1 << 20

    init(path: String) throws(AuditError) {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw .source("cannot create \(path)")
        }
        self.handle = handle
    }

    func write(_ line: String) throws(AuditError) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0A)
        if buffer.count >= Self.flushBytes { try flush() }
    }

    private func flush() throws(AuditError) {
        do { try handle.write(contentsOf: buffer) } catch { throw .source("cannot write \(path): \(error.localizedDescription)") }
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws(AuditError) {
        try flush()
        do {
            try handle.synchronize()
            try handle.close()
        } catch { throw .source("cannot close \(path): \(error.localizedDescription)") }
    }
}
