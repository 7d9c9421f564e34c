// ReceiptCacheTests.swift — the receipts `GET /v1/tx` proves outcomes with are read from the store once per height
// (ReceiptCache): a second request for the same block is a hit that does not load; the cache never holds more than
// its bound of receipts, dropping the least recently used height first; a block larger than the bound, a height not
// committed (nil) and a failed load are answered but never kept.
import Testing
import TrellisCrypto
import TrellisLedger
import TrellisNode

@Suite struct ReceiptCacheTests {
    /// `count` distinct receipts of a block at `height`.
    private func receipts(_ height: UInt64, _ count: Int) -> [Receipt] {
        (0..<count).map { i in
            Receipt(txHash: SHA256.hash(Array("tx \(height) \(i)".utf8)), index: UInt32(i), nonceConsumed: true, outcome: .ok(createdIDs: []))
        }
    }

    /// A loader that counts its calls and answers `receipts(height, size)`.
    private final class Loader: @unchecked Sendable {
        var calls: [UInt64] = []
        func load(_ height: UInt64, _ answer: [Receipt]?) -> [Receipt]? {
            calls.append(height)
            return answer
        }
    }

    @Test func aHeightIsLoadedOnceThenServedFromTheCache() {
        let cache = ReceiptCache(maxReceipts: 100)
        let loader = Loader()
        let block = receipts(7, 10)
        for _ in 0..<5 {
            #expect(cache.receipts(atHeight: 7) { loader.load(7, block) } == block)
        }
        #expect(loader.calls == [7])
        let stats = cache.statistics
        #expect(stats.heights == 1 && stats.receipts == 10 && stats.hits == 4 && stats.misses == 1)
    }

    @Test func theBoundDropsTheLeastRecentlyUsedHeight() {
        let cache = ReceiptCache(maxReceipts: 25)
        let loader = Loader()
        for height in UInt64(1)...2 { _ = cache.receipts(atHeight: height) { loader.load(height, receipts(height, 10)) } }
        _ = cache.receipts(atHeight: 1) { loader.load(1, receipts(1, 10)) }  // 1 is now more recent than 2
        _ = cache.receipts(atHeight: 3) { loader.load(3, receipts(3, 10)) }  // 30 > 25: height 2 goes
        #expect(cache.statistics.receipts == 20 && cache.statistics.heights == 2)
        _ = cache.receipts(atHeight: 1) { loader.load(1, receipts(1, 10)) }
        _ = cache.receipts(atHeight: 3) { loader.load(3, receipts(3, 10)) }
        #expect(loader.calls == [1, 2, 3], "heights 1 and 3 stayed")
        _ = cache.receipts(atHeight: 2) { loader.load(2, receipts(2, 10)) }
        #expect(loader.calls == [1, 2, 3, 2], "height 2 was dropped and is read again")
        #expect(cache.statistics.receipts <= 25)
    }

    @Test func anOversizedBlockANilAndAFailureAreAnsweredButNotKept() {
        let cache = ReceiptCache(maxReceipts: 5)
        let loader = Loader()
        let big = receipts(9, 6)
        #expect(cache.receipts(atHeight: 9) { loader.load(9, big) } == big)
        #expect(cache.receipts(atHeight: 9) { loader.load(9, big) } == big)
        #expect(cache.receipts(atHeight: 10) { loader.load(10, nil) } == nil)
        #expect(cache.receipts(atHeight: 10) { loader.load(10, nil) } == nil)
        struct Unreadable: Error {}
        #expect(throws: Unreadable.self) { try cache.receipts(atHeight: 11) { () throws(Unreadable) -> [Receipt]? in throw Unreadable() } }
        let small = receipts(11, 2)
        #expect(cache.receipts(atHeight: 11) { loader.load(11, small) } == small)
        #expect(loader.calls == [9, 9, 10, 10, 11])
        #expect(cache.statistics.heights == 1 && cache.statistics.receipts == 2)
    }
}
