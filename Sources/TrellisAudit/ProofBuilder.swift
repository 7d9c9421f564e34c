// ProofBuilder.swift — makes `ProofFile`s from a node home (any height it retains) or a node URL (state at the
// heights in its proof window; transactions with their receipts).
import Foundation
import TrellisCodec
import TrellisCrypto
import TrellisLedger

public enum ProofBuilder {
    /// A proof of `key`'s value at `height` (latest when nil) from a node home.
    public static func state(_ key: [UInt8], atHeight height: UInt64? = nil, home: StoreChainSource) throws(AuditError) -> ProofFile {
        let h: UInt64
        if let height { h = height } else { h = try home.latestHeight() }
        guard h >= 1 else { throw .notFound("no block is committed yet: nothing certifies a state root") }
        let read: StateRead
        do { read = try home.reader.read(key, atHeight: h, prove: true) } catch { throw .source("cannot read \(StateKeyText.show(key)) at height \(h): \(error)") }
        guard let proof = read.proof else { throw .source("the store returned no proof") }
        var file = try certified(h, source: home)
        file.state = StateFact(keyHex: Hex.encode(key), valueHex: read.value.map { Hex.encode($0) }, proofHex: Hex.encode(proof.canonicalBytes))
        return file
    }

    /// A proof of `key`'s value at `height` (latest when nil) from a running node.
    public static func state(_ key: [UInt8], atHeight height: UInt64? = nil, node: NodeClient) throws(AuditError) -> ProofFile {
        let h: UInt64
        if let height { h = height } else { h = try node.latestHeight() }
        guard h >= 1 else { throw .notFound("no block is committed yet: nothing certifies a state root") }
        let (value, proof) = try node.provedState(key, atHeight: h)
        var file = try certified(h, source: node)
        let fact = StateFact(keyHex: Hex.encode(key), valueHex: value.map { Hex.encode($0) }, proofHex: Hex.encode(proof.canonicalBytes))
        // The node is not trusted: a proof that does not verify against the certified header is not written.
        let header: BlockHeader = try ProofChecker.decode(BlockHeader.self, file.headerHex, what: "header", height: h)
        do { _ = try ProofChecker.checkState(fact, header: header) } catch {
            throw .source("the node at \(node.baseURL.absoluteString) sent a state proof that does not verify against its own certified header at height \(h): \(error)")
        }
        file.state = fact
        return file
    }

    /// A proof that transaction `hash` is in its block, with its receipt, from a node home.
    public static func transaction(_ hash: Hash, home: StoreChainSource) throws(AuditError) -> ProofFile {
        let record: TxRecord?
        do { record = try home.reader.transaction(hash) } catch { throw .source("cannot read transaction \(hash.hex): \(error)") }
        guard let record else { throw .notFound("transaction \(hash.hex) is not committed in \(home.label)") }
        let committed = try home.committedBlock(atHeight: record.height)
        let txs = committed.block.transactions
        let receipts = committed.receipts ?? []
        let index = Int(record.index)
        guard index < txs.count, txs[index].hash == hash, receipts.count == txs.count,
              let txPath = MerkleTree.proof(leaves: txs.map(\.hash.bytes), index: index),
              let receiptPath = MerkleTree.proof(leaves: receipts.map(\.hash.bytes), index: index) else {
            throw .source("the store's index for \(hash.hex) does not match block \(record.height)")
        }
        var file = try certified(record.height, source: home)
        file.transaction = TransactionFact(txHex: Hex.encode(txs[index].canonicalBytes), index: UInt64(index), txPath: txPath.path.map(\.hex),
                                           receiptHex: Hex.encode(receipts[index].canonicalBytes), receiptPath: receiptPath.path.map(\.hex))
        return file
    }

    /// A proof that transaction `hash` is in its block, with its receipt, from a running node (GET /v1/tx/{hash}
    /// and the block's transaction hashes: `NodeTransactionProof`). The node is not trusted: a proof that does not
    /// verify against its own certified header is not written.
    public static func transaction(_ hash: Hash, node: NodeClient) throws(AuditError) -> ProofFile {
        let (height, fact) = try NodeTransactionProof.fetch(hash, label: node.baseURL.absoluteString) { (path: String) throws(AuditError) in try node.getJSON(path) }
        var file = try certified(height, source: node)
        let header: BlockHeader = try ProofChecker.decode(BlockHeader.self, file.headerHex, what: "header", height: height)
        do { _ = try NodeTransactionProof.check(fact, proves: hash, header: header) } catch {
            throw .source("the node at \(node.baseURL.absoluteString) sent a transaction proof that does not verify against its own certified header at height \(height): \(error)")
        }
        file.transaction = fact
        return file
    }

    static func certified(_ height: UInt64, source: any ChainSource) throws(AuditError) -> ProofFile {
        // From a node, only the header and certificate are read: the public part of a block (docs/ACCESS.md), so a
        // member proves its own state without the right to read whole blocks.
        let header: BlockHeader, certificate: CommitCertificate
        if let node = source as? NodeClient {
            (header, certificate) = try node.certifiedHeader(atHeight: height)
        } else {
            let committed = try source.committedBlock(atHeight: height)
            (header, certificate) = (committed.block.header, committed.certificate)
        }
        return ProofFile(format: ProofFile.formatName, version: ProofFile.formatVersion, chainID: source.genesis.chainID,
                         genesisHash: source.genesis.hash.hex, height: height, headerHex: Hex.encode(header.canonicalBytes),
                         certificateHex: Hex.encode(certificate.canonicalBytes), state: nil, transaction: nil)
    }

    /// Writes `file` as one JSON line.
    public static func write(_ file: ProofFile, to path: String) throws(AuditError) {
        let text = try ExportJSON.line(file) + "\n"
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw .source("cannot write \(path): \(error.localizedDescription)")
        }
    }
}

/// Printable state keys.
enum StateKeyText {
    static func show(_ key: [UInt8]) -> String { String(validating: key, as: UTF8.self) ?? Hex.encode(key) }
}
