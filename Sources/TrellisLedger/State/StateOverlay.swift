// StateOverlay.swift — reading and buffering writes to the ledger's key-value state.
//
// Execution never writes to the store directly. A block runs over a `StateOverlay` on the committed state; each
// transaction's contract writes into it as a journaled transaction (`beginTransaction`), kept only if the transaction
// succeeds and undone otherwise, so a rejected transaction leaves no trace but its receipt and nonce. `changes` lists the net writes sorted by key: the order
// in which they reach the authenticated tree and the write batch never depends on hashing or insertion order. A block's
// overlay also keeps what it read from its base (`memoizingBaseReads`), so each key is read from the store once a block.
import TrellisCodec

/// A failure reading state: the disk or a stored value is bad. Not a transaction rejection: execution stops.
public enum StateError: Error, Equatable, CustomStringConvertible {
    case storage(String)
    case corruptValue(key: String, reason: String)

    public var description: String {
        switch self {
        case .storage(let m): return "state storage failed: \(m)"
        case .corruptValue(let k, let r): return "stored state value at \(k) is corrupt: \(r)"
        }
    }
}

/// Read access to a key-value state.
public protocol StateReader {
    /// The value at `key`, or nil.
    func get(_ key: [UInt8]) throws(StateError) -> [UInt8]?
    /// Every (key, value) whose key starts with `prefix`, in bytewise key order.
    func scan(prefix: [UInt8]) throws(StateError) -> [(key: [UInt8], value: [UInt8])]
    /// Decodes the value at `key` as `T`, or nil when absent (a reader may reuse an earlier decoding of the same bytes).
    func read<T: CanonicalDecodable>(_ type: T.Type, _ key: [UInt8]) throws(StateError) -> T?
    /// At most `limit` (key, value) pairs whose key starts with `prefix` and sorts after `after` (all when nil), in
    /// bytewise key order: one page of a scan. The default filters `scan(prefix:)`; a reader that records what a
    /// query read (to prove it) records only the page.
    func scan(prefix: [UInt8], after: [UInt8]?, limit: Int) throws(StateError) -> [(key: [UInt8], value: [UInt8])]
    /// Whether a read costs well more than a hash-table lookup (a RocksDB `Get`: thousands of instructions), so that a
    /// block's overlay on this reader keeps what it read (`StateOverlay(base:memoizingBaseReads:)`). False by default:
    /// over an in-memory state the memo cost more than it saved (docs/PERFORMANCE.md "(twenty-fourth, flush)").
    var readsAreWorthMemoizing: Bool { get }
}

extension StateReader {
    public var readsAreWorthMemoizing: Bool { false }

    public func scan(prefix: [UInt8], after: [UInt8]?, limit: Int) throws(StateError) -> [(key: [UInt8], value: [UInt8])] {
        precondition(limit >= 0, "invalid state: a scan page of \(limit) entries")
        let all = try scan(prefix: prefix)
        let start = after.map { after in all.firstIndex { ByteOrder.less(after, $0.key) } ?? all.count } ?? 0
        return Array(all[start...].prefix(limit))
    }

    /// Decodes the value at `key` as `T`, or nil when absent.
    public func read<T: CanonicalDecodable>(_ type: T.Type, _ key: [UInt8]) throws(StateError) -> T? {
        guard let bytes = try get(key) else { return nil }
        return try Self.decode(T.self, bytes, key: key)
    }

    static func decode<T: CanonicalDecodable>(_ type: T.Type, _ bytes: [UInt8], key: [UInt8]) throws(StateError) -> T {
        do { return try CanonicalDecoder.decode(T.self, from: bytes) } catch {
            throw .corruptValue(key: StateKey.describe(key), reason: error.description)
        }
    }
}

/// Members decoded during one block, shared by the block's overlay and its transactions' overlays: every
/// transaction decodes its signer (and contracts their counterparties), mostly the same few members. An entry is
/// reused only when the key's current bytes are the bytes it was decoded from, so a member changed in the block is
/// decoded again; what a read returns never depends on the cache. Bounded by the members one block touches.
final class DecodedMembers {
    var entries: [ByteKey: (bytes: [UInt8], member: Member)] = [:]
}

/// Buffered writes over a base state.
public final class StateOverlay: StateReader {
    public let base: any StateReader
    /// key → new value, or nil for a deletion, in first-write order (`OverlayWrites`).
    private var writes = OverlayWrites()
    /// Shared with the overlays stacked on this one (a block's and its transactions').
    let decodedMembers: DecodedMembers
    /// While a transaction runs directly on this overlay (`beginTransaction`): every write's entry position with the
    /// value it replaced (nil = the key had no entry: the write appended it), in write order, so
    /// `rollbackTransaction` can undo them.
    private var journal: [(index: Int, replaced: [UInt8]??)] = []
    private var journaling = false

    /// Whether reads that reach `base` are memoized (`baseReads`).
    private let memoizesBaseReads: Bool
    /// With `memoizesBaseReads`: every value read from `base`, by key (nil: the base holds none), so a key is read from
    /// the base once while this overlay lives — the block's hot keys (a signer's member record, a credit program)
    /// once per block instead of once per transaction, and `BlockExecutor.netChanges`' read of each written key's
    /// replaced value from here when execution read it first. Dense entries and an open-addressing index, as the
    /// writes (`OverlayWrites`, its `value(of:)` and `set` only: nothing is ever removed).
    private var baseReads = OverlayWrites()

    /// An overlay on `base` that reads through to it.
    public convenience init(base: any StateReader) {
        self.init(base: base, memoizingBaseReads: false)
    }

    /// An overlay on `base`. With `memoizingBaseReads`, each key is read from `base` at most once while the overlay
    /// lives (`baseValue(of:)`): right only when `base` does not change while it lives — a block's overlay, which
    /// lives inside one `BlockExecutor.execute` call (see there why its base holds still). Internal (review 24 F1): only
    /// the executor, which can promise that, memoizes.
    init(base: any StateReader, memoizingBaseReads: Bool) {
        self.base = base
        self.memoizesBaseReads = memoizingBaseReads
        self.decodedMembers = (base as? StateOverlay)?.decodedMembers ?? DecodedMembers()
    }

    /// The value `base` holds at `key` (nil: none), whatever this overlay wrote there: read from `base`, or, when this
    /// overlay memoizes its base reads, the value read there before (read now if not read yet, and kept unless not
    /// `keeping`: `BlockExecutor.netChanges`' last look at each written key keeps nothing, since nothing reads after it).
    func baseValue(of key: [UInt8], keeping: Bool = true) throws(StateError) -> [UInt8]? {
        guard memoizesBaseReads else { return try base.get(key) }
        if let seen = baseReads.value(of: key) { return seen }
        let value = try base.get(key)
        guard keeping else { return value }
        if baseReads.isEmpty { baseReads.reserveCapacity(Self.firstBaseReadCapacity) }
        baseReads.set(key, value)
        return value
    }

    /// Makes room for `count` written keys at once (a block's overlay: growing from a few entries rehashed every
    /// key at each doubling).
    public func reserveWrites(_ count: Int) {
        writes.reserveCapacity(count)
    }

    // MARK: one transaction, written in place

    /// Starts a transaction on this overlay: its writes land here directly (no overlay of its own to merge, no
    /// second dictionary to look through on every read) and are journaled until `commitTransaction` keeps them or
    /// `rollbackTransaction` undoes them. What reads return is the same as on a transaction overlay stacked on this
    /// one and merged on success. Transactions do not nest.
    public func beginTransaction() {
        precondition(!journaling, "a transaction is already open on this overlay")
        journaling = true
    }

    /// Keeps the open transaction's writes.
    public func commitTransaction() {
        precondition(journaling, "no transaction is open on this overlay")
        journal.removeAll(keepingCapacity: true)
        journaling = false
    }

    /// Undoes the open transaction's writes: every key is left with the entry it had at `beginTransaction`.
    public func rollbackTransaction() {
        precondition(journaling, "no transaction is open on this overlay")
        // In reverse: an entry the transaction appended is the newest one when its first write is undone.
        for entry in journal.reversed() {
            if let replaced = entry.replaced { writes.restore(replaced, at: entry.index) } else { writes.removeLast() }
        }
        journal.removeAll(keepingCapacity: true)
        journaling = false
    }

    private func record(_ key: [UInt8], _ value: [UInt8]?) {
        if writes.isEmpty { writes.reserveCapacity(Self.firstWriteCapacity) }
        let written = writes.set(key, value)
        if journaling { journal.append(written) }
    }

    public func read<T: CanonicalDecodable>(_ type: T.Type, _ key: [UInt8]) throws(StateError) -> T? {
        guard let bytes = try get(key) else { return nil }
        guard T.self == Member.self else { return try Self.decode(T.self, bytes, key: key) }
        let id = ByteKey(key)
        if let entry = decodedMembers.entries[id], ByteOrder.compare(entry.bytes, bytes) == 0, let member = entry.member as? T { return member }
        let member = try Self.decode(Member.self, bytes, key: key)
        decodedMembers.entries[id] = (bytes, member)
        return member as? T
    }

    public func get(_ key: [UInt8]) throws(StateError) -> [UInt8]? {
        if let pending = writes.value(of: key) { return pending }
        return try baseValue(of: key)
    }

    public func scan(prefix: [UInt8]) throws(StateError) -> [(key: [UInt8], value: [UInt8])] {
        var merged: [ByteKey: [UInt8]] = [:]
        for (k, v) in try base.scan(prefix: prefix) { merged[ByteKey(k)] = v }
        for i in writes.keys.indices where writes.keys[i].starts(with: prefix) {
            if let v = writes.values[i] { merged[ByteKey(writes.keys[i])] = v } else { merged[ByteKey(writes.keys[i])] = nil }
        }
        return merged.map { (key: $0.key.bytes, value: $0.value) }.sorted { ByteOrder.less($0.key, $1.key) }
    }

    public func put(_ key: [UInt8], _ value: [UInt8]) { record(key, value) }

    public func delete(_ key: [UInt8]) { record(key, nil) }

    /// Room made on an overlay's first write: a transaction writes ~3–10 keys (a key rotation 4, a split transfer
    /// 7–10), and growing from one entry rehashed every key at each doubling (two to four times per transaction).
    static let firstWriteCapacity = 16
    /// Room made in the base-read memo at its first entry: a block's overlay reads a few keys per transaction (a split
    /// transfer ~6: signer, nonce, inputs, the counterparty), and a block holds hundreds of transactions.
    static let firstBaseReadCapacity = 1_024

    /// Encodes and stores `value` at `key`.
    public func write<T: CanonicalEncodable>(_ value: T, at key: [UInt8]) { put(key, value.canonicalBytes) }

    /// Net writes sorted by key (nil value = delete).
    public var changes: [(key: [UInt8], value: [UInt8]?)] {
        let keys = writes.keys, values = writes.values
        // Sorts (first 32 key bytes as four big-endian words, position) — whole keys only on ties — instead of moving
        // the entries themselves, whose arrays cost a retain and release at every move. 32 bytes: keys share long
        // prefixes ("certby/supplier1/cert-" is 22 bytes, "certlive/cert-<20 hex>/…" 34), and with 16 bytes half the
        // comparisons of a block of split transfers fell through to whole-key comparisons.
        var order: [SortKey] = []
        order.reserveCapacity(keys.count)
        for i in keys.indices { order.append(SortKey(keys[i], index: i)) }
        order.sort { a, b in
            if a.w0 != b.w0 { return a.w0 < b.w0 }
            if a.w1 != b.w1 { return a.w1 < b.w1 }
            if a.w2 != b.w2 { return a.w2 < b.w2 }
            if a.w3 != b.w3 { return a.w3 < b.w3 }
            return ByteOrder.less(keys[a.index], keys[b.index])
        }
        return order.map { (key: keys[$0.index], value: values[$0.index]) }
    }

    /// A key's first 32 bytes (zero-padded) as four big-endian words: they order like the key on those bytes (a
    /// shorter key pads with zeros, so it ties with a longer one that continues with zeros; the whole keys decide).
    private struct SortKey {
        var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0
        let index: Int

        init(_ key: [UInt8], index: Int) {
            self.index = index
            var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            withUnsafeMutableBytes(of: &words) { dst in
                key.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src.prefix(32))) }
            }
            w0 = UInt64(bigEndian: words.0)
            w1 = UInt64(bigEndian: words.1)
            w2 = UInt64(bigEndian: words.2)
            w3 = UInt64(bigEndian: words.3)
        }
    }

    public var isEmpty: Bool { writes.isEmpty }

    /// Applies this overlay's writes to `parent` (through `parent`'s journal when a transaction is open on it).
    public func merge(into parent: StateOverlay) {
        if parent.writes.isEmpty && !parent.journaling {
            parent.writes = writes
            return
        }
        parent.writes.reserveCapacity(parent.writes.count + writes.count)
        for i in writes.keys.indices { parent.record(writes.keys[i], writes.values[i]) }
    }
}

/// An in-memory state, for tests and for building genesis.
public final class MemoryState: StateReader {
    public private(set) var values: [[UInt8]: [UInt8]] = [:]

    public init() {}

    public func get(_ key: [UInt8]) throws(StateError) -> [UInt8]? { values[key] }

    public func scan(prefix: [UInt8]) throws(StateError) -> [(key: [UInt8], value: [UInt8])] {
        values.filter { $0.key.starts(with: prefix) }.map { (key: $0.key, value: $0.value) }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }

    /// Applies an overlay's changes.
    public func apply(_ overlay: StateOverlay) {
        for (k, v) in overlay.changes {
            if let v { values[k] = v } else { values[k] = nil }
        }
    }
}

/// State keys: UTF-8 path components joined by "/" — e.g. `member/supplier1`, `cert/<id>`. Ids never contain "/"
/// (`Identifier.isValid`), so a key has one parse.
public enum StateKey {
    public static func make(_ components: String...) -> [UInt8] { make(components) }

    /// `make` of two components, without the array of strings a variadic call builds (the contracts' hot path).
    /// (Reserved then appended: `[UInt8](unsafeUninitializedCapacity:)` allocates through an unspecialized path in
    /// the standard library, ~600 instructions, three times `reserveCapacity`.)
    public static func make(_ first: String, _ second: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(first.utf8.count + second.utf8.count + 1)
        out.appendUTF8(of: first)
        out.append(UInt8(ascii: "/"))
        out.appendUTF8(of: second)
        return out
    }

    /// `make` of three components, without an array of strings.
    public static func make(_ first: String, _ second: String, _ third: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(first.utf8.count + second.utf8.count + third.utf8.count + 2)
        out.appendUTF8(of: first)
        out.append(UInt8(ascii: "/"))
        out.appendUTF8(of: second)
        out.append(UInt8(ascii: "/"))
        out.appendUTF8(of: third)
        return out
    }

    public static func make(_ components: [String]) -> [UInt8] {
        // The UTF-8 of `components.joined(separator: "/")`, written straight into one array (no joined String).
        var out: [UInt8] = []
        out.reserveCapacity(components.reduce(components.count) { $0 + $1.utf8.count })
        for (i, component) in components.enumerated() {
            if i > 0 { out.append(UInt8(ascii: "/")) }
            out.appendUTF8(of: component)
        }
        return out
    }

    /// `prefix` (ending with "/") followed by the UTF-8 of `id`: `make` for the common two-component keys, without
    /// an array of strings.
    static func make(prefix: [UInt8], _ id: String) -> [UInt8] {
        var out = prefix
        out.appendUTF8(of: id)
        return out
    }

    /// A prefix that matches keys under `components` (ends with "/").
    public static func prefix(_ components: String...) -> [UInt8] { Array((components.joined(separator: "/") + "/").utf8) }

    /// Printable form of a key for messages.
    public static func describe(_ key: [UInt8]) -> String { String(decoding: key, as: UTF8.self) }
}

public enum Identifier {
    /// Ids of members, certificates, projects …: 1…128 bytes of [A-Za-z0-9._:-].
    public static func isValid(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard !bytes.isEmpty, bytes.count <= Limits.maxIDBytes else { return false }
        return bytes.allSatisfy { b in
            (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b == 0x2e || b == 0x5f || b == 0x2d || b == 0x3a
        }
    }
}
