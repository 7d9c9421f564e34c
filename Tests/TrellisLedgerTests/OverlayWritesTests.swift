// OverlayWritesTests.swift — a block overlay's writes (`OverlayWrites`, an index of its own over dense entries) read,
// roll back and list exactly like a plain map of the same writes, across the index's growths and a transaction's
// rollback of keys it added after a growth.
import Testing
import TrellisCodec
@testable import TrellisLedger

@Suite struct OverlayWritesTests {
    /// A deterministic stream of numbers (a linear congruential generator): the same operations on every run.
    struct Numbers {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    /// Transactions of random puts and deletes over ~3,000 keys, half of them rolled back, on a block overlay (over a
    /// base holding some of the keys) and on a reference: a `Dictionary` of the block's writes, copied at each
    /// transaction's start and put back at its rollback. After every transaction every key reads the same through
    /// both, and the overlay's `changes` are the reference's entries in key order.
    @Test func readsRollbacksAndChangesMatchAPlainMapAcrossGrowths() throws {
        let keys = (0..<3_000).map { i in StateKey.make("k", "key-\(i * 7919 % 3_001)") }
        let base = MemoryState()
        let seed = StateOverlay(base: base)
        for key in keys.prefix(500) { seed.put(key, [0xba, 0x5e]) }
        base.apply(seed)

        let block = StateOverlay(base: base)
        var reference: [[UInt8]: [UInt8]?] = [:]
        var numbers = Numbers(state: 0x5eed)
        var written = 0  // distinct keys reached grows with every transaction: the index grows mid-transaction
        func expectSame(_ checked: [[UInt8]], _ transaction: Int) throws {
            for key in checked {
                let expected: [UInt8]?
                if let entry = reference[key] { expected = entry } else { expected = try base.get(key) }
                #expect(try block.get(key) == expected, "transaction \(transaction), key \(StateKey.describe(key))")
            }
        }
        for transaction in 0..<400 {
            let before = reference
            var touched: [[UInt8]] = []
            block.beginTransaction()
            for _ in 0..<(1 + numbers.next(12)) {
                let key = keys[numbers.next(min(keys.count, 40 + written * 2))]
                touched.append(key)
                if numbers.next(4) == 0 {
                    block.delete(key)
                    reference[key] = .some(nil)
                } else {
                    let value = [UInt8(transaction & 0xff), UInt8(numbers.next(256))]
                    block.put(key, value)
                    reference[key] = .some(value)
                }
            }
            if numbers.next(2) == 0 {
                block.rollbackTransaction()
                reference = before
            } else {
                block.commitTransaction()
                written = reference.count
            }
            try expectSame(transaction % 50 == 49 ? keys : touched, transaction)
        }
        let changes = block.changes
        #expect(changes.map(\.key) == reference.keys.sorted { ByteOrder.less($0, $1) })
        #expect(changes.allSatisfy { change in reference[change.key] == .some(change.value) })
        #expect(written > 500)
    }

    /// A transaction that only adds keys and is rolled back leaves no entry behind: the overlay lists none, and a
    /// key read afterwards comes from the base.
    @Test func aRolledBackFirstWriteLeavesNoEntry() throws {
        let base = MemoryState()
        let seed = StateOverlay(base: base)
        seed.put(StateKey.make("k", "held"), [1])
        base.apply(seed)
        let block = StateOverlay(base: base)
        block.beginTransaction()
        for i in 0..<100 { block.put(StateKey.make("k", "new-\(i)"), [2]) }
        block.delete(StateKey.make("k", "held"))
        block.rollbackTransaction()
        #expect(block.isEmpty)
        #expect(block.changes.isEmpty)
        #expect(try block.get(StateKey.make("k", "held")) == [1])
        #expect(try block.get(StateKey.make("k", "new-7")) == nil)
        // Written again after the rollback, the keys are entries as usual.
        block.put(StateKey.make("k", "new-7"), [3])
        #expect(block.changes.map(\.key) == [StateKey.make("k", "new-7")])
    }
}
