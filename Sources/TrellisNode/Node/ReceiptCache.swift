// ReceiptCache.swift — the receipts of recently asked-for committed blocks, by height: `GET /v1/tx/{hash}` proves a
// transaction's outcome with its path to the header's `receipts_root`, which needs every receipt of the block; with
// the cache a block's receipts are read from the store once, not once per request.
//
// Guarantees: a committed block's receipts never change, so an entry is never stale; the cache holds at most
// `maxReceipts` receipts in all (the least recently used height goes first; a block with more receipts than that is
// answered but not kept); a load that fails or finds nothing is not kept. The store is read outside the lock, so a
// slow read never blocks another height's hit. Nothing here is hashed or replicated: the order of its dictionary
// never reaches an answer.
import NIOConcurrencyHelpers
import TrellisLedger

/// A bounded, least-recently-used cache of committed blocks' receipts by height.
public final class ReceiptCache: Sendable {
    /// The default bound: receipts kept in all (about 100 bytes each), e.g. 32 full blocks of 2,048 transactions.
    public static let defaultMaxReceipts = 65_536

    /// At most this many receipts are kept, summed over all heights.
    public let maxReceipts: Int

    private struct Entry {
        var receipts: [Receipt]
        var lastUse: UInt64
    }

    private struct Contents {
        var entries: [UInt64: Entry] = [:]
        var receiptCount = 0
        var clock: UInt64 = 0
        var hits = 0
        var misses = 0
    }

    private let contents = NIOLockedValueBox(Contents())

    /// A cache keeping at most `maxReceipts` receipts (at least 1).
    public init(maxReceipts: Int = ReceiptCache.defaultMaxReceipts) {
        precondition(maxReceipts >= 1, "a receipt cache keeps at least one receipt, not \(maxReceipts)")
        self.maxReceipts = maxReceipts
    }

    /// The receipts of the committed block at `height`: kept ones, else `load()`'s answer (kept when it is not nil
    /// and fits the bound). Errors of `load` pass through and nothing is kept.
    public func receipts<Failure: Error>(atHeight height: UInt64, load: () throws(Failure) -> [Receipt]?) throws(Failure) -> [Receipt]? {
        let kept: [Receipt]? = contents.withLockedValue { c in
            guard var entry = c.entries[height] else {
                c.misses += 1
                return nil
            }
            c.clock += 1
            entry.lastUse = c.clock
            c.entries[height] = entry
            c.hits += 1
            return entry.receipts
        }
        if let kept { return kept }
        guard let loaded = try load() else { return nil }
        guard loaded.count <= maxReceipts else { return loaded }
        contents.withLockedValue { c in
            guard c.entries[height] == nil else { return }  // another request loaded it meanwhile
            while c.receiptCount + loaded.count > maxReceipts, let oldest = c.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                c.receiptCount -= oldest.value.receipts.count
                c.entries[oldest.key] = nil
            }
            c.clock += 1
            c.entries[height] = Entry(receipts: loaded, lastUse: c.clock)
            c.receiptCount += loaded.count
            assert(c.receiptCount <= maxReceipts, "receipt cache over its bound: \(c.receiptCount) > \(maxReceipts)")
        }
        return loaded
    }

    /// What the cache holds and how it was used: heights kept, receipts kept, hits, misses (for tests and metrics).
    public var statistics: (heights: Int, receipts: Int, hits: Int, misses: Int) {
        contents.withLockedValue { c in (c.entries.count, c.receiptCount, c.hits, c.misses) }
    }
}
