// OverlayWrites.swift — the buffered writes of a `StateOverlay`: key → value (nil = deleted), kept in the order the
// keys were first written, with an open-addressing index over them.
//
// Why not a `Dictionary<ByteKey, [UInt8]?>`: a block of 10,000 split transfers writes ~10⁵ keys into one overlay, and
// a dictionary keeps its keys and values in two arrays of that many buckets, in hash order — a lookup reads its key
// and its value from two random places, a first write lands in two, and listing the writes (`StateOverlay.changes`)
// walks the buckets. Here the entries are dense, in first-write order (appended where the last one ended), and the
// index is an array of 8-byte slots — a 32-bit tag of the key's hash and the entry's position — so a probe reads one
// cache line and compares whole keys only when the tag matches, and listing the writes reads two dense arrays.
//
// The hash is Swift's seeded `Hasher` (SipHash, the one `Dictionary` uses): keys are chosen by transactions, and a
// hash without a per-process secret would let one block's keys be ground to collide (quadratic probing time). The
// slots' layout therefore differs between processes; nothing hashed, signed or replicated depends on it — entries
// are listed in first-write order, which depends on the transactions alone, and `changes` sorts them by key.
//
// Removal is only of the newest entry (`removeLast`, a transaction's rollback undoing its first writes in reverse):
// with linear probing and no other removals, the newest key's slot was free when every older key was placed, so no
// older key's probe run passes through it and freeing the slot restores the table exactly.
import TrellisCodec

struct OverlayWrites {
    /// The keys, in first-write order.
    private(set) var keys: [[UInt8]] = []
    /// `values[i]` is the value written at `keys[i]` (nil = deleted).
    private(set) var values: [[UInt8]?] = []
    /// `tag << 32 | (entry index + 1)`; 0 is an empty slot. The count is a power of two; at most half are in use.
    private var slots: [UInt64]
    /// 64 − log2(slots.count): a key's home slot is the top bits of its hash.
    private var shift: UInt64

    /// No entries and no index yet (an overlay that is only read allocates nothing).
    init() {
        slots = []
        shift = 64
    }

    var count: Int { keys.count }
    var isEmpty: Bool { keys.isEmpty }

    /// Makes room for `capacity` entries in all.
    mutating func reserveCapacity(_ capacity: Int) {
        keys.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
        if capacity * 2 > slots.count { rebuildIndex(slotCount: Self.slotCount(for: capacity)) }
    }

    /// The position of `key`'s entry, or nil.
    func index(of key: [UInt8]) -> Int? {
        find(key, hash: Self.hash(key)).index
    }

    /// The entry of `key`: nil when never written, `.some(nil)` when deleted.
    func value(of key: [UInt8]) -> [UInt8]?? {
        guard let i = index(of: key) else { return nil }
        return .some(values[i])
    }

    /// Writes `value` (nil = delete) at `key`. Returns the entry's position and the value it replaced — nil when
    /// the key had no entry (it is then the newest).
    @discardableResult
    mutating func set(_ key: [UInt8], _ value: [UInt8]?) -> (index: Int, replaced: [UInt8]??) {
        let hash = Self.hash(key)
        if (keys.count + 1) * 2 > slots.count { rebuildIndex(slotCount: max(Self.minimumSlotCount, slots.count * 2)) }
        let found = find(key, hash: hash)
        if let i = found.index {
            let replaced = values[i]
            values[i] = value
            return (i, .some(replaced))
        }
        precondition(keys.count < Int(UInt32.max) - 1, "invalid state: overlay writes past \(UInt32.max - 1) keys")
        keys.append(key)
        values.append(value)
        slots[found.slot] = Self.tag(hash) << 32 | UInt64(keys.count)
        return (keys.count - 1, nil)
    }

    /// Puts back `value` at the entry `index` (a rollback of an overwrite).
    mutating func restore(_ value: [UInt8]?, at index: Int) {
        precondition(index >= 0 && index < keys.count, "invalid state: restoring entry \(index) of \(keys.count)")
        values[index] = value
    }

    /// Removes the newest entry (a rollback of its first write).
    mutating func removeLast() {
        precondition(!keys.isEmpty, "invalid state: removing an entry of empty overlay writes")
        let key = keys[keys.count - 1]
        let found = find(key, hash: Self.hash(key))
        precondition(found.index == keys.count - 1, "invalid state: the newest key is not indexed at its entry")
        slots[found.slot] = 0
        keys.removeLast()
        values.removeLast()
    }

    // MARK: the index

    /// The slot holding `key` (and its entry's position), or the empty slot where it would go.
    @inline(__always)
    private func find(_ key: [UInt8], hash: UInt64) -> (slot: Int, index: Int?) {
        if slots.isEmpty { return (0, nil) }
        let mask = slots.count - 1
        let tag = Self.tag(hash)
        var slot = Int(truncatingIfNeeded: hash >> shift)
        return slots.withUnsafeBufferPointer { slots in
            while true {
                let entry = slots[slot]
                if entry == 0 { return (slot, nil) }
                if entry >> 32 == tag {
                    let i = Int(truncatingIfNeeded: entry & 0xffff_ffff) - 1
                    if Self.equal(keys[i], key) { return (slot, i) }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// Re-indexes every entry into `slotCount` slots, in first-write order (so the newest key is placed last, which
    /// `removeLast` relies on).
    private mutating func rebuildIndex(slotCount: Int) {
        slots = [UInt64](repeating: 0, count: slotCount)
        shift = UInt64(64 - slotCount.trailingZeroBitCount)
        for i in keys.indices {
            let hash = Self.hash(keys[i])
            let slot = find(keys[i], hash: hash).slot
            slots[slot] = Self.tag(hash) << 32 | UInt64(i + 1)
        }
    }

    private static let minimumSlotCount = 16

    /// Slots for `capacity` entries at most half full: a power of two, at least `minimumSlotCount`.
    private static func slotCount(for capacity: Int) -> Int {
        var count = minimumSlotCount
        while count < capacity * 2 { count *= 2 }
        return count
    }

    @inline(__always)
    private static func hash(_ key: [UInt8]) -> UInt64 {
        var hasher = Hasher()
        key.withUnsafeBytes { hasher.combine(bytes: $0) }
        return UInt64(truncatingIfNeeded: hasher.finalize())
    }

    /// The low 32 bits of the hash (the slot is taken from the top bits).
    @inline(__always)
    private static func tag(_ hash: UInt64) -> UInt64 { hash & 0xffff_ffff }

    @inline(__always)
    private static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && ByteOrder.compare(a, b) == 0
    }
}
