// TreeNodeTableTests.swift — the stores' in-memory node table: what goes in comes out under its hash, and nothing
// else does, through growth, colliding slots, removals and clearing.
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

    /// A table over an update's records (`init(records:)`) finds each under its hash and nothing else; a hash listed
    /// twice is held once, with its last record, and the table then takes inserts and removals like any other.
    @Test func aTableOverGivenRecordsFindsThemAndHoldsARepeatedHashOnce() {
        for count in [0, 1, 9, 3_000] {
            let records = (0..<count).map(record)
            let table = TreeNodeTable(records: records)
            #expect(table.count == count)
            for r in records { #expect(table.node(r.hash) == r.node) }
            for i in count..<(count + 100) { #expect(table.node(record(i).hash) == nil) }
        }
        let other = record(1).node
        var twice = TreeNodeTable(records: [record(0), record(1), TreeNodeRecord(hash: record(0).hash, node: other)])
        #expect(twice.count == 2)
        #expect(twice.node(record(0).hash) == other)
        twice.insert(record(2).node, hash: record(2).hash)
        let removed = twice.remove(record(1).hash)
        #expect(removed)
        #expect(twice.node(record(2).hash) == record(2).node && twice.node(record(1).hash) == nil && twice.count == 2)
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

    /// Hashes whose first 8 bytes (the slot and the tag) come from a handful of values: long probe runs that wrap
    /// around the end of the slots, where a removal must shift later entries back.
    func crowdedHash(_ i: Int, prefixes: Int) throws -> Hash {
        var bytes = [UInt8](repeating: UInt8(i % prefixes), count: 8)
        withUnsafeBytes(of: UInt64(i).bigEndian) { bytes += $0 }
        bytes += [UInt8](repeating: 0x5a, count: 16)
        return try #require(Hash(bytes: bytes))
    }

    @Test func removalsLeaveExactlyTheOtherNodesFindable() throws {
        // A deterministic mix of inserts and removals against a dictionary, over real hashes and crowded ones.
        var rng = SplitMix64(seed: 7)
        for crowded in [false, true] {
            var table = TreeNodeTable()
            var model: [Hash: TreeNode] = [:]
            let universe = try (0..<600).map { i in crowded ? try crowdedHash(i, prefixes: 5) : record(i).hash }
            for step in 0..<6_000 {
                let h = universe[rng.below(universe.count)]
                if rng.next() % 3 == 0 {
                    #expect(table.remove(h) == (model.removeValue(forKey: h) != nil))
                } else {
                    let node = TreeNode.inner(left: h, right: .zero)
                    table.insert(node, hash: h)
                    if model[h] == nil { model[h] = node }
                }
                #expect(table.count == model.count)
                if step % 500 == 499 {
                    for h in universe { #expect(table.node(h) == model[h]) }
                }
            }
            for h in universe { #expect(table.node(h) == model[h]) }
            // Everything removed, then the table still takes nodes.
            table.remove(contentsOf: universe)
            #expect(table.count == 0)
            for h in universe { #expect(table.node(h) == nil) }
            table.insert(.inner(left: universe[3], right: .zero), hash: universe[3])
            #expect(table.node(universe[3]) == .inner(left: universe[3], right: .zero) && table.count == 1)
        }
    }
}
