// StoreSpread.swift — each validator's RocksDB memtables a little larger or smaller than the others', so that
// validators sharing a host do not flush and compact in lockstep.
//
// Validators execute identical blocks: with identical store options their memtables fill, flush and start L0→L1
// compactions at the same moments. On a host several validators share (a testnet, `trellis bench cluster`), every
// compaction is then one per validator at once — on the benchmark's 2 cores, four compactions of 60–80 MB each,
// 1–5 s, put the slowest heights of the half-load phase at 1.4–2.9 s (docs/PERFORMANCE.md, "(twenty-third,
// compaction)"). Scaling each validator's memtables by its place among the genesis validators staggers them: after a
// few flushes no two flush together. Storage only: the rows, and everything hashed, signed or replicated, are the
// same at any memtable size; on a machine of its own a validator's scale changes only how often it flushes.
import TrellisCrypto

public enum StoreSpread {
    /// The scales span this share of the memtable size, centred on 1: with 4 validators 0.8125, 0.9375, 1.0625 and
    /// 1.1875 (the largest node's memtables 76 MiB in all instead of 64).
    public static let spread = 0.5

    /// The memtable scale of the node whose key is `key`: 1 + spread × ((i + ½) ÷ n − ½) for the i-th of the n
    /// distinct validator keys in byte order (the order genesis lists them in does not matter); 1 for a key that is
    /// not a validator's, and for a single validator.
    public static func memtableScale(of key: PublicKey, amongValidators validators: [PublicKey]) -> Double {
        let keys = Array(Set(validators.map(\.bytes))).sorted { $0.lexicographicallyPrecedes($1) }
        guard let index = keys.firstIndex(of: key.bytes) else { return 1 }
        return 1 + spread * ((Double(index) + 0.5) / Double(keys.count) - 0.5)
    }
}
