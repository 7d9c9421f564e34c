// BaseReadMemoTests.swift — a block's overlay reads each key from its base once (`StateOverlay(base:memoizingBaseReads:)`):
// repeated reads of a key, present or absent, reach the base once; the overlay's own writes, a rolled-back
// transaction and `BlockExecutor.netChanges` see the same values as without the memo, and netChanges reads the base
// only for keys execution wrote without reading. An overlay made without the memo (every other one, and a block's over
// a reader whose reads are cheap: the in-memory stores) reads through; a RocksDB store's reads are worth the memo.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

/// A state reader that counts the reads of each key.
final class CountingState: StateReader {
    let base: any StateReader
    private(set) var reads: [[UInt8]: Int] = [:]

    /// Whether a block's overlay keeps what it reads from this reader (`readsAreWorthMemoizing`).
    let readsAreWorthMemoizing: Bool

    init(_ base: any StateReader, memoized: Bool = true) {
        self.base = base
        self.readsAreWorthMemoizing = memoized
    }

    func get(_ key: [UInt8]) throws(StateError) -> [UInt8]? {
        reads[key, default: 0] += 1
        return try base.get(key)
    }

    func scan(prefix: [UInt8]) throws(StateError) -> [(key: [UInt8], value: [UInt8])] { try base.scan(prefix: prefix) }

    func count(_ key: [UInt8]) -> Int { reads[key] ?? 0 }
}

@Suite struct BaseReadMemoTests {
    static let a = StateKey.make("k", "a"), b = StateKey.make("k", "b"), c = StateKey.make("k", "c"), absent = StateKey.make("k", "none")

    /// A base holding a = [1] and c = [3].
    static func base() -> MemoryState {
        let base = MemoryState()
        let seed = StateOverlay(base: base)
        seed.put(a, [1])
        seed.put(c, [3])
        base.apply(seed)
        return base
    }

    @Test func eachKeyIsReadFromTheBaseOnceWhateverTheOverlayWrites() throws {
        let counting = CountingState(Self.base())
        let block = StateOverlay(base: counting, memoizingBaseReads: true)
        for _ in 0..<3 {
            #expect(try block.get(Self.a) == [1])
            #expect(try block.get(Self.absent) == nil)  // an absent key is remembered as absent
        }
        #expect(counting.count(Self.a) == 1 && counting.count(Self.absent) == 1)
        // Written, then rolled back: the base's value is read again from the memo, not from the base.
        block.beginTransaction()
        block.put(Self.a, [9])
        block.delete(Self.absent)
        #expect(try block.get(Self.a) == [9] && block.baseValue(of: Self.a) == [1])
        block.rollbackTransaction()
        #expect(try block.get(Self.a) == [1] && block.get(Self.absent) == nil)
        #expect(counting.count(Self.a) == 1 && counting.count(Self.absent) == 1)
        // A transaction overlay stacked on the block reads through the block's memo (and keeps none of its own).
        let tx = StateOverlay(base: block)
        #expect(try tx.get(Self.a) == [1] && tx.get(Self.c) == [3] && tx.get(Self.c) == [3])
        #expect(counting.count(Self.a) == 1 && counting.count(Self.c) == 1)
    }

    /// netChanges takes each written key's replaced value from the memo when execution read the key, from the base once
    /// otherwise, and gives what an overlay without the memo gives.
    @Test func netChangesReadsOnlyTheKeysExecutionDidNotAndMatchesAnOverlayWithoutTheMemo() throws {
        let base = Self.base()
        let counting = CountingState(base)
        let memoized = StateOverlay(base: counting, memoizingBaseReads: true), plain = StateOverlay(base: base)
        for overlay in [memoized, plain] {
            _ = try overlay.get(Self.a)
            _ = try overlay.get(Self.absent)
            overlay.put(Self.a, [2])        // read first: changed
            overlay.put(Self.absent, [4])   // read first (absent): new
            overlay.put(Self.b, [5])        // never read: new
            overlay.delete(Self.c)          // never read: removed
        }
        let changes = try BlockExecutor.netChanges(memoized), reference = try BlockExecutor.netChanges(plain)
        #expect(changes.map(\.key) == reference.map(\.key) && changes.map(\.value) == reference.map(\.value))
        #expect(changes.map(\.previous) == reference.map(\.previous))
        #expect(changes.map(\.previous) == [.known([1]), .known(nil), .known([3]), .known(nil)])
        #expect([Self.a, Self.absent, Self.b, Self.c].map(counting.count) == [1, 1, 1, 1])
    }

    @Test func anOverlayWithoutTheMemoReadsTheBaseEveryTime() throws {
        let counting = CountingState(Self.base())
        let overlay = StateOverlay(base: counting)
        for _ in 0..<3 { _ = try overlay.get(Self.a) }
        #expect(counting.count(Self.a) == 3)
    }

    /// A block whose transactions all read one signer's member record and nonce from the committed state (four by
    /// bob with a nonce ahead of his next: each reads both, then is rejected with no write) reads each of them once.
    @Test func aBlockReadsAKeyEveryTransactionReadsOnce() throws {
        let chain = try TestChain(net: TestNet())
        try chain.commitNext([])
        let transactions = [TestNet.rotate("alice", add: "alice-1", nonce: 1)] + (1...4).map { TestNet.rotate("bob", add: "bob-\($0)", nonce: 5) }
        let counting = CountingState(CommittedState(store: chain.store))
        let result = try chain.engine.executor.execute(chainID: TestNet.chainID, height: chain.engine.currentHeight + 1, time: chain.engine.lastBlockTime + 5,
                                                       transactions: transactions, base: counting, baseRoot: chain.engine.stateRoot,
                                                       nodes: chain.store, signatures: .verify)
        let codes = result.receipts.map { receipt -> String in
            if case .rejected(let code, _) = receipt.outcome { return code }
            return "ok"
        }
        #expect(codes == ["ok"] + [String](repeating: EnvelopeRejection.badNonce, count: 4))
        for key in [LedgerKeys.member("alice"), LedgerKeys.nonce("alice"), LedgerKeys.member("bob"), LedgerKeys.nonce("bob")] {
            #expect(counting.count(key) == 1, "\(StateKey.describe(key)) read \(counting.count(key)) times")
        }
        // Over a reader whose reads are cheap (the in-memory stores), the block reads through.
        let cheap = CountingState(CommittedState(store: chain.store), memoized: false)
        let again = try chain.engine.executor.execute(chainID: TestNet.chainID, height: chain.engine.currentHeight + 1, time: chain.engine.lastBlockTime + 5,
                                                      transactions: transactions, base: cheap, baseRoot: chain.engine.stateRoot,
                                                      nodes: chain.store, signatures: .verify)
        #expect(again.stateRoot == result.stateRoot && again.receipts == result.receipts && cheap.count(LedgerKeys.member("bob")) == 4)
        #expect(!CommittedState(store: chain.store).readsAreWorthMemoizing)
        let path = temporaryPath("base-read-memo")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(CommittedState(store: try RocksChainStore(path: path)).readsAreWorthMemoizing)
        // The block commits through the engine as executed (the rejected transactions are left out by the proposer).
        let committed = try chain.commitNext(Array(transactions.prefix(1)))
        #expect(chain.engine.stateRoot == result.stateRoot && committed.receipts == Array(result.receipts.prefix(1)))
    }

    /// Review 24 F2: a mixed block — transactions that change state, one rejected inside its contract (its nonce kept,
    /// its writes undone), others rejected by the envelope — gives the same state changes, with the same replaced values
    /// (`previous`, the value history's entries), the same receipts and the same root with the memo as without it.
    @Test func aMixedBlockGivesTheSameChangesWithTheMemoAsWithout() throws {
        let chain = try TestChain(net: TestNet())
        try chain.commitNext([])
        let transactions = [TestNet.rotate("alice", add: "alice-1", nonce: 1),
                            TestNet.rotate("alice", add: "alice-1", nonce: 2),  // key_in_use: rejected by the contract
                            TestNet.rotate("bob", add: "bob-9", nonce: 1)]
            + (1...3).map { TestNet.rotate("bob", add: "bob-\($0)", nonce: 5) }  // a nonce ahead: rejected by the envelope
        func run(memoized: Bool) throws -> ExecutionResult {
            try chain.engine.executor.execute(chainID: TestNet.chainID, height: chain.engine.currentHeight + 1, time: chain.engine.lastBlockTime + 5,
                                              transactions: transactions, base: CountingState(CommittedState(store: chain.store), memoized: memoized),
                                              baseRoot: chain.engine.stateRoot, nodes: chain.store, signatures: .verify)
        }
        let with = try run(memoized: true), without = try run(memoized: false)
        let codes = with.receipts.map { receipt -> String in
            if case .rejected(let code, _) = receipt.outcome { return code }
            return "ok"
        }
        #expect(codes == ["ok", "key_in_use", "ok"] + [String](repeating: EnvelopeRejection.badNonce, count: 3))
        #expect(with.stateRoot == without.stateRoot && with.receipts == without.receipts)
        #expect(with.stateChanges.map(\.key) == without.stateChanges.map(\.key))
        #expect(with.stateChanges.map(\.value) == without.stateChanges.map(\.value))
        #expect(with.stateChanges.map(\.previous) == without.stateChanges.map(\.previous))
        #expect(with.stateChanges.map(\.valueHash) == without.stateChanges.map(\.valueHash))
        // The replaced values are the committed state's: bob's member record as stored before the block.
        let bobMember = LedgerKeys.member("bob")
        let stored = try CommittedState(store: chain.store).get(bobMember)
        #expect(with.stateChanges.first { $0.key == bobMember }?.previous == .known(stored))
    }
}
