// StoreSpreadTests.swift — each validator's memtable scale (`StoreSpread`): distinct for the validators of one
// genesis, the same on every start whatever order genesis lists them in, 1 for a node that is not a validator.
import Foundation
import Logging
import Testing
import TrellisCrypto
import TrellisLedger
import TrellisStore
@testable import TrellisNode

@Suite struct StoreSpreadTests {
    @Test func fourValidatorsGetFourScalesEvenlyApartAroundOne() {
        let keys = (0..<4).map { _ in SigningKey.generate().publicKey }
        let scales = keys.map { StoreSpread.memtableScale(of: $0, amongValidators: keys) }
        #expect(scales.sorted() == [0.8125, 0.9375, 1.0625, 1.1875], "\(scales)")
        // The place is the key's in byte order: the smallest key gets the smallest scale.
        let smallest = keys.min { $0.bytes.lexicographicallyPrecedes($1.bytes) }!
        #expect(StoreSpread.memtableScale(of: smallest, amongValidators: keys) == 0.8125)
        // Stable: another listing order, or a key listed twice, changes nothing.
        for (key, scale) in zip(keys, scales) {
            #expect(StoreSpread.memtableScale(of: key, amongValidators: keys.reversed()) == scale)
            #expect(StoreSpread.memtableScale(of: key, amongValidators: keys + [key]) == scale)
        }
    }

    @Test func aNonValidatorAndASingleValidatorKeepTheirMemtables() {
        let keys = (0..<3).map { _ in SigningKey.generate().publicKey }
        #expect(StoreSpread.memtableScale(of: SigningKey.generate().publicKey, amongValidators: keys) == 1)
        #expect(StoreSpread.memtableScale(of: keys[0], amongValidators: [keys[0]]) == 1)
        #expect(StoreSpread.memtableScale(of: keys[0], amongValidators: []) == 1)
    }

    /// A node opens its store with its scale (1: the only validator) and `[storage] low_priority_compactions`.
    @Test func aNodeOpensItsStoreWithItsScaleAndTheConfiguredPriority() throws {
        for low in [false, true] {
            let home = try OneValidatorHome.make(label: "spread", chainID: "spread-1", members: [OneValidatorHome.governor]) { config in
                config.storage.lowPriorityCompactions = low
            }
            defer { try? FileManager.default.removeItem(atPath: home.path) }
            let node = try Node(home: home, logger: Logger(label: "test"))
            let options = node.store.database.storeOptions
            #expect(options.lowPriorityCompactions == low)
            #expect(options.totalWriteBufferBytes == RocksChainStore.storeOptions.totalWriteBufferBytes)
        }
    }

    /// The node's options: its memtables scaled (each family's and the total), everything else the chain store's.
    @Test func theChainStoresOptionsScaledKeepEverythingElse() {
        let base = RocksChainStore.storeOptions
        let scaled = base.scalingMemtables(by: 0.8125)
        #expect(scaled.writeBufferBytes == 13 << 20 && scaled.totalWriteBufferBytes == 52 << 20)
        #expect(scaled.lowPriorityCompactions == base.lowPriorityCompactions && scaled.pointLookup == base.pointLookup && scaled.insertHint == base.insertHint)
        #expect(scaled.compression == base.compression && scaled.level0CompactionTrigger == base.level0CompactionTrigger)
    }
}
