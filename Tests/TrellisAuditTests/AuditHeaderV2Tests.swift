// AuditHeaderV2Tests.swift — chain format 2's header commitments (app_version, tx_count, receipts_root) as
// `trellis audit verify` checks them: a forged receipt or count is caught by the structural pass, from the line
// alone, before anything is re-executed (the message names the commitment, not "differs from re-execution").
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisLedger
@testable import TrellisAudit

/// Rewrites the block of line `height` through `edit`: block_hex, block_hash and the header view follow the edited
/// block (so only the commitments inside can catch it), the certificate is left as it was.
func editBlock(_ data: Data, height: UInt64, _ edit: (inout Block) throws -> Void) throws -> Data {
    try editLine(data, height: height) { line in
        var block = try Block.decode(try Hex.decode(line.blockHex))
        try edit(&block)
        line.blockHex = Hex.encode(block.canonicalBytes)
        line.blockHash = block.hash.hex
        line.header = HeaderView(block.header)
    }
}

/// Replaces receipt `index` of line `height` by `receipt`, with a consistent view and canonical_hex.
func forgeReceipt(_ data: Data, height: UInt64, index: Int, _ forge: (Receipt) -> Receipt) throws -> Data {
    try editLine(data, height: height) { line in
        let original = try CanonicalDecoder.decode(Receipt.self, from: try Hex.decode(line.receipts[index].canonicalHex))
        line.receipts[index] = ReceiptView(forge(original))
    }
}

@Suite struct AuditHeaderV2Tests {
    @Test func headersCarryTheCommitmentsAndTheExportShowsThem() throws {
        let chain = try AuditTestChain.build()
        let data = try exportBytes(chain)
        #expect(verifyError(data) == nil)
        for row in lines(data).dropFirst() {
            let line = try JSONDecoder().decode(BlockLine.self, from: Data(row.utf8))
            let block = try Block.decode(try Hex.decode(line.blockHex))
            #expect(line.header.appVersion == AppVersion.initial)
            #expect(Int(line.header.txCount) == line.transactions.count)
            let leaves = try line.receipts.map { SHA256.hash(try Hex.decode($0.canonicalHex)).bytes }
            #expect(line.header.receiptsRoot == MerkleTree.root(leaves: leaves).hex)
            #expect(block.header.receiptsRoot.hex == line.header.receiptsRoot)
        }
        let header = try #require(lines(data).first)
        #expect(header.contains("\"version\":2"))
    }

    @Test func aForgedButSelfConsistentReceiptIsCaughtByReceiptsRootWithoutReExecution() throws {
        let data = try exportBytes(try AuditTestChain.build())
        // ok → rejected, with matching canonical_hex and decoded fields: only receipts_root can tell.
        let flipped = try forgeReceipt(data, height: 4, index: 0) { r in
            Receipt(txHash: r.txHash, index: r.index, nonceConsumed: true, outcome: .rejected(code: "forged", message: "never happened"))
        }
        let error = try #require(verifyError(flipped))
        #expect(error.exitCode == 1)
        #expect(error.description.hasPrefix("height 4: receipts_root "), "\(error)")
        #expect(error.description.contains("does not match the receipts"), "\(error)")
        // Another created id: the same.
        let ids = try forgeReceipt(data, height: 4, index: 0) { r in
            Receipt(txHash: r.txHash, index: r.index, nonceConsumed: r.nonceConsumed, outcome: .ok(createdIDs: ["cert-forged"]))
        }
        #expect(verifyError(ids)?.description.hasPrefix("height 4: receipts_root ") == true)
        // A receipt naming another transaction or index.
        let moved = try forgeReceipt(data, height: 4, index: 0) { r in
            Receipt(txHash: r.txHash, index: r.index + 1, nonceConsumed: r.nonceConsumed, outcome: r.outcome)
        }
        #expect(verifyError(moved)?.description.hasPrefix("height 4: receipt 0 names transaction") == true)
        // A receipt left out.
        let dropped = try editLine(data, height: 4) { $0.receipts.removeLast() }
        let droppedError = try #require(verifyError(dropped))
        #expect(droppedError.description.hasPrefix("height 4: ") && droppedError.description.contains("receipts for"), "\(droppedError)")
    }

    @Test func aHeaderWithAnotherCountRootOrVersionIsRefused() throws {
        let data = try exportBytes(try AuditTestChain.build())
        let count = try editBlock(data, height: 4) { $0.header.txCount += 1 }
        #expect(verifyError(count)?.description.hasPrefix("height 4: tx_count ") == true, "\(String(describing: verifyError(count)))")
        let root = try editBlock(data, height: 4) { $0.header.receiptsRoot = SHA256.hash(Array("forged".utf8)) }
        #expect(verifyError(root)?.description.hasPrefix("height 4: receipts_root ") == true, "\(String(describing: verifyError(root)))")
        // app_version is not derivable from the line; the certificate (and re-execution) still refuse it.
        let version = try editBlock(data, height: 4) { $0.header.appVersion = 7 }
        let versionError = try #require(verifyError(version))
        #expect(versionError.failedHeight == 4 && versionError.exitCode == 1, "\(versionError)")
    }
}
