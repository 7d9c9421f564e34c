// ReplayStoreTests.swift — the replay store's scan index (keys grouped by path component, sorted only when read)
// answers exactly what a filter-and-sort of the whole state answers, through keys that appear, leave and come back
// between two scans.
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisLedger
@testable import TrellisAudit

@Suite struct ReplayStoreTests {
    /// A small deterministic generator (SplitMix64).
    struct Mix {
        var state: UInt64
        mutating func below(_ n: Int) -> Int {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return Int((z ^ (z >> 31)) % UInt64(n))
        }
    }

    static let names = ["member/", "member_key/", "nonce/", "validators/", "params", "paramsx", "a/b/", "cert/"]
    static let prefixes = ["member", "member/", "member_key/", "nonce/m", "validators/", "params", "p", "", "a/", "a/b/", "cert/1", "zzz"]

    @Test func scansMatchAFilterOfTheWholeState() throws {
        var index = ScanIndex()
        var model = Set<[UInt8]>()
        var rng = Mix(state: 3)
        for round in 0..<200 {
            for _ in 0..<(1 + rng.below(25)) {
                let name = Self.names[rng.below(Self.names.count)]
                let key = Array((name.hasSuffix("/") ? name + "\(rng.below(12))" : name).utf8)
                // As `ReplayStore.commit` calls it: on a key that appears, on a key that leaves.
                if rng.below(3) == 0 {
                    if model.remove(key) != nil { index.removed(key) }
                } else if model.insert(key).inserted {
                    index.added(key)
                }
            }
            if rng.below(3) == 0 { continue }  // some rounds scan nothing: changes pile up unsorted
            for prefix in Self.prefixes.map({ Array($0.utf8) }) {
                let expected = model.filter { $0.starts(with: prefix) }.sorted { ByteOrder.less($0, $1) }
                #expect(index.keys(withPrefix: prefix) == expected, "round \(round), prefix \(String(decoding: prefix, as: UTF8.self))")
            }
        }
    }
}

/// A replay told how far through the export it is sizes its state for the rest once, instead of doubling it (a
/// rehash of every key each time); what it holds and the roots it commits are the same either way.
@Suite struct ReplayStoreGrowthTests {
    func key(_ i: Int) -> [UInt8] { Array("k/\(i)".utf8) }

    /// Commits a genesis of 10 keys and 60 blocks each adding 200 keys and rewriting 5, noting the progress (equal
    /// bytes per block) when `noting`; returns the store and the tree the ledger computes alongside.
    func replay(noting: Bool) throws -> (store: ReplayStore, walked: WalkedTree, growthsByHeight10: Int) {
        let store = ReplayStore()
        let walked = WalkedTree()
        let block = try #require(try AuditTestChain.build().engine.block(at: 1))
        let genesis = (0..<10).map { StateChange(key: key($0), value: [UInt8($0)]) }
        try store.commit(BlockCommit(height: 0, block: nil, certificate: nil, stateChanges: genesis, treeNodes: [], stateRoot: try walked.apply(genesis),
                                     transactions: [], genesisHash: .zero))
        let blocks = 60, bytesPerBlock = 1_000
        var next = 10
        var growthsByHeight10 = 0
        for height in 1...blocks {
            var changes = (next..<next + 200).map { StateChange(key: key($0), value: [UInt8(height)]) }
            changes += stride(from: 0, to: 10, by: 2).map { StateChange(key: key($0), value: [UInt8(height), 1]) }
            changes.sort { ByteOrder.less($0.key, $1.key) }
            next += 200
            if noting { store.noteProgress(bytesDone: height * bytesPerBlock, bytesTotal: blocks * bytesPerBlock) }
            try store.commit(BlockCommit(height: UInt64(height), block: block, certificate: nil, stateChanges: changes, treeNodes: [],
                                         stateRoot: try walked.apply(changes), transactions: [], genesisHash: nil))
            if height == 10 { growthsByHeight10 = store.stateGrowths }
        }
        return (store, walked, growthsByHeight10)
    }

    @Test func aReplayToldItsProgressSizesItsStateOnceForTheRest() throws {
        let doubling = try replay(noting: false)
        let projected = try replay(noting: true)
        // 10 → 12,010 keys (2,010 at height 10): with the progress noted the state is sized for the whole replay by
        // height 10 (at the genesis, once before two blocks give a rate, then once for the rest) and never grows again;
        // without it, it grows on as the keys come.
        #expect(projected.growthsByHeight10 <= 3)
        #expect(projected.store.stateGrowths == projected.growthsByHeight10)
        #expect(doubling.store.stateGrowths > doubling.growthsByHeight10)
        for height in 0...60 { #expect(try projected.store.stateRoot(atHeight: UInt64(height)) == doubling.store.stateRoot(atHeight: UInt64(height))) }
        #expect(try projected.store.stateRoot(atHeight: 60) == projected.walked.root)
        for i in [0, 1, 2, 9, 10, 6_000, 12_009] {
            #expect(try projected.store.stateValue(key(i)) == doubling.store.stateValue(key(i)))
            #expect(try projected.store.stateValue(key(i)) != nil)
        }
        #expect(try projected.store.stateValue(key(12_010)) == nil)
        #expect(projected.store.treeNodeCount == doubling.store.treeNodeCount)
    }
}
