// TreeNodeTableTests.swift — the stores' in-memory node table: what goes in comes out under its hash, and nothing
// else does, through growth, colliding slots and clearing.
import Testing
import TrellisCrypto
@testable import TrellisLedger

@Suite struct TreeNodeTableTests {
    /// A leaf record for `i` (its hash is a real SHA-256 output).
    func record(_ i: Int) -> TreeNodeRecord {
        let leaf = TreeLeaf(key: Array("k/\(i)".utf8), value: Array("v\(i)".utf8))
        return TreeNodeRecord(hash: leaf.hash, node: .leaf(leaf))
    }

    @Test func findsEveryNodeInsertedThroughGrowthAndNothingElse() {
        var table = TreeNodeTable()
        let records = (0..<5_000).map(record)
        for r in records { table.insert(r.node, hash: r.hash) }
        #expect(table.count == records.count)
        for r in records { #expect(table.node(r.hash) == r.node) }
        for i in 5_000..<6_000 { #expect(table.node(record(i).hash) == nil) }
        // A node inserted again (nodes are content-addressed) is held once.
        for r in records.prefix(100) { table.insert(r.node, hash: r.hash) }
        #expect(table.count == records.count)
    }

    @Test func hashesThatShareTheirFirstBytesAreTellApart() throws {
        // Same first 16 bytes: the same first slot and the same tag, so only the whole-hash comparison separates them.
        var table = TreeNodeTable(capacity: 64)
        let hashes = try (0..<40).map { i in try #require(Hash(bytes: [UInt8](repeating: 0xab, count: 16) + [UInt8](repeating: UInt8(i + 1), count: 16))) }
        for (i, h) in hashes.enumerated() { table.insert(.inner(left: hashes[(i + 1) % hashes.count], right: .zero), hash: h) }
        for (i, h) in hashes.enumerated() { #expect(table.node(h) == .inner(left: hashes[(i + 1) % hashes.count], right: .zero)) }
        let absent = try #require(Hash(bytes: [UInt8](repeating: 0xab, count: 16) + [UInt8](repeating: 0xff, count: 16)))
        #expect(table.node(absent) == nil)
    }

    @Test func reservingAndClearingKeepLookupsRight() {
        var table = TreeNodeTable(capacity: 10)
        table.reserveCapacity(3_000)
        let records = (0..<3_000).map(record)
        table.insert(contentsOf: records)
        for r in records { #expect(table.node(r.hash) == r.node) }
        table.removeAll(keepingCapacity: true)
        #expect(table.count == 0)
        #expect(table.node(records[0].hash) == nil)
        table.insert(contentsOf: Array(records.prefix(10)))
        #expect(table.node(records[9].hash) == records[9].node)
        #expect(table.node(records[10].hash) == nil)
        table.removeAll()
        #expect(table.count == 0 && table.node(records[9].hash) == nil)
    }
}
