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
