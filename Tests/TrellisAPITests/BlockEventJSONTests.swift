// BlockEventJSONTests.swift — the event stream's hand-written block event is JSONSerialization's bytes.
import Foundation
import Testing
import TrellisCrypto
import TrellisLedger
import TrellisNode
@testable import TrellisAPI

@Suite struct BlockEventJSONTests {
    /// A block with transactions, ok and rejected receipts (quotes, slashes and backslashes in the message, created
    /// ids with slashes) and a certificate: the direct writer gives exactly JSONSerialization's sorted-key bytes.
    @Test func theDirectEventIsTheSortedKeyJSONOfTheEventObject() throws {
        let service = FakeNodeService()
        let txs = (1...3 as ClosedRange<UInt64>).map { service.sampleTransaction(nonce: $0) }
        var block = service.makeBlock(height: 7)
        block.transactions = txs
        block.header.txCount = UInt32(txs.count)
        block.header.round = 2
        let receipts = [
            Receipt(txHash: txs[0].hash, index: 0, nonceConsumed: true, outcome: .ok(createdIDs: ["cert/abc", "x-1"])),
            Receipt(txHash: txs[1].hash, index: 1, nonceConsumed: true, outcome: .rejected(code: "insufficient_balance", message: "a \"quoted\" \\ path/with/slashes")),
            Receipt(txHash: txs[2].hash, index: 2, nonceConsumed: false, outcome: .ok(createdIDs: [])),
        ]
        let committed = CommittedBlock(block: block, certificate: service.certificate(for: block), receipts: receipts)
        var writer = EventJSONWriter(capacity: 16)
        writer.blockEvent(committed)
        #expect(writer.ok)
        let expected = try JSONSerialization.data(withJSONObject: Routes.blockEventObject(committed), options: [.sortedKeys])
        #expect(String(decoding: writer.bytes, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        #expect(Routes.blockEventJSON(committed) == expected)
    }

    /// A string the writer cannot promise to write as JSONSerialization does (non-ASCII, a control character) makes
    /// it decline; the event is then JSONSerialization's own.
    @Test func nonASCIIStringsFallBackToJSONSerialization() throws {
        let service = FakeNodeService()
        let tx = service.sampleTransaction()
        var block = service.makeBlock(height: 2)
        block.transactions = [tx]
        block.header.txCount = 1
        for message in ["refusé", "tab\there"] {
            let receipts = [Receipt(txHash: tx.hash, index: 0, nonceConsumed: true, outcome: .rejected(code: "rejected", message: message))]
            let committed = CommittedBlock(block: block, certificate: service.certificate(for: block), receipts: receipts)
            var writer = EventJSONWriter(capacity: 16)
            writer.blockEvent(committed)
            #expect(!writer.ok)
            let expected = try JSONSerialization.data(withJSONObject: Routes.blockEventObject(committed), options: [.sortedKeys])
            #expect(Routes.blockEventJSON(committed) == expected)
        }
    }
}
