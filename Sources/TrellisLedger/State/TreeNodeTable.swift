// TreeNodeTable.swift — the in-memory tables of tree nodes keyed by their hash (the stores' hot path).
//
// A node's hash is a SHA-256 output, already uniformly spread: the table needs no general-purpose hash function
// per lookup (a `Dictionary` seeds and runs SipHash on every probe). It is open addressing with linear probing
// over a compact array of 8-byte slots — a 32-bit tag of the hash and the position of the node in a dense array of
// records (hash and node side by side) — so a probe reads one cache line, and a full 32-byte comparison is made only
// when the tag matches.
//
// The slot of a hash is its first 8 bytes times an odd multiplier taken from Swift's per-process hash seed (the one
// `Dictionary` uses), top bits: key hashes ground to fall on one slot cannot be chosen from outside the process,
// so no transaction can make lookups slow. The table's layout therefore differs between processes, and it offers
// no iteration order: nothing hashed, signed or written ever depends on it.
// Nodes can be removed one by one, for a store that keeps the latest tree alone (no store does today: the audit's
// `ReplayStore`, which did, keeps a `ReplayTree`): the slot is freed by backward-shift deletion (no tombstones, so probes stay as short as
// if the node had never been there) and the last record moves into the freed position of the dense arrays.
import TrellisCrypto

/// Tree nodes by hash, in memory.
public struct TreeNodeTable: Sendable {
    /// `tag << 32 | (record index + 1)`; 0 is an empty slot. The count is a power of two.
    private var slots: [UInt64]
    /// The records (hash and node side by side: a load's hash comparison and its node's children are one or two
    /// adjacent cache lines, where two arrays cost a miss each). Probes read a record's hash in place
    /// (`hash(at:)`), never copying — and retaining — a record.
    private var records: [TreeNodeRecord] = []
    /// 64 − log2(slots.count): the slot of a hash is the top bits of its mixed first word.
    private var shift: UInt64
    private let multiplier: UInt64

    /// The most nodes a table holds (a record's position takes the slot's low 32 bits, 0 meaning empty).
    public static let maxCount = Int(UInt32.max) - 1

    /// An empty table with room for `capacity` nodes before it grows.
    public init(capacity: Int = 0) {
        precondition(capacity >= 0 && capacity <= Self.maxCount, "invalid state: a tree-node table for \(capacity) nodes")
        let slotCount = Self.slotCount(for: capacity)
        slots = [UInt64](repeating: 0, count: slotCount)
        shift = UInt64(64 - slotCount.trailingZeroBitCount)
        records.reserveCapacity(capacity)
        multiplier = Self.processMultiplier()
    }

    /// A table over `nodes` as they are: the array is shared, not copied (a commit indexes the ~125,000 nodes of a
    /// 5,000-transaction block's update this way without a second copy of them). A hash listed twice is held once,
    /// with its last record (as a dictionary's assignment keeps it; nodes are content-addressed, so both are the same
    /// node in any update).
    public init(records nodes: [TreeNodeRecord]) {
        precondition(nodes.count <= Self.maxCount, "invalid state: a tree-node table for \(nodes.count) nodes")
        var table = TreeNodeTable()
        table.records = nodes
        if !table.rebuildSlots(count: Self.slotCount(for: nodes.count)) {
            // A repeated hash: the records are inserted one by one instead, the last first (`insert` keeps a hash's
            // first record).
            table = TreeNodeTable(capacity: nodes.count)
            table.insert(contentsOf: nodes.reversed())
        }
        self = table
    }

    /// An odd multiplier from Swift's per-process hash seed.
    private static func processMultiplier() -> UInt64 {
        var hasher = Hasher()
        hasher.combine(0x7472_6565_6e6f_6465 as UInt64)
        return UInt64(truncatingIfNeeded: hasher.finalize()) | 1
    }

    /// The number of nodes held.
    public var count: Int { records.count }

    /// The number of slots (a power of two, at least 16; at most half of them are in use).
    public var slotCount: Int { slots.count }

    /// The node whose hash is `hash`, or nil.
    public func node(_ hash: Hash) -> TreeNode? {
        guard let index = find(hash).record else { return nil }
        // The node field alone, through its offset: `$0[index].node` copied the whole record (an outlined copy and
        // a memmove per load) before taking the node out of it.
        return records.withUnsafeBufferPointer { buffer in
            UnsafeRawPointer(buffer.baseAddress! + index).advanced(by: Self.nodeOffset).assumingMemoryBound(to: TreeNode.self).pointee
        }
    }

    /// Adds `node` under `hash` (its hash: the caller computed it). A node already held is left as it is: nodes are
    /// content-addressed, so the same hash is the same node.
    public mutating func insert(_ node: TreeNode, hash: Hash) {
        add(node, hash: hash)
    }

    /// Adds every record of `newRecords`.
    public mutating func insert(contentsOf newRecords: [TreeNodeRecord]) {
        reserveCapacity(count + newRecords.count)
        // Read in place: iterating (or subscripting) the array copied and destroyed each record.
        newRecords.withUnsafeBufferPointer { records in
            for i in records.indices { add(records[i].node, hash: records[i].hash) }
        }
    }

    @inline(__always)
    private mutating func add(_ node: TreeNode, hash: Hash) {
        assert(hash != .zero, "the empty subtree is never stored")
        if (count + 1) * 2 > slots.count { grow(toHold: count + 1) }
        let found = find(hash)
        if found.record != nil { return }
        precondition(count < Self.maxCount, "invalid state: a tree-node table past \(Self.maxCount) nodes")
        records.append(TreeNodeRecord(hash: hash, node: node))
        slots[found.slot] = Self.tag(hash) << 32 | UInt64(records.count)
    }

    /// Removes the node under `hash`, if held. Returns whether it was.
    @discardableResult
    public mutating func remove(_ hash: Hash) -> Bool {
        let found = find(hash)
        guard let index = found.record else { return false }
        // Backward-shift deletion: each entry after the hole in its probe run moves into the hole unless its home
        // slot lies cyclically in (hole, its slot] (it would then be found before reaching the hole).
        let mask = slots.count - 1
        var hole = found.slot
        var next = (hole + 1) & mask
        while slots[next] != 0 {
            let home = home(self.hash(at: Self.record(slots[next])))
            let stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next)
            if !stays {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole] = 0
        // The last record moves into the freed position; its slot is repointed.
        let last = records.count - 1
        if index != last {
            let moved = self.hash(at: last)
            var slot = home(moved)
            while Self.record(slots[slot]) != last { slot = (slot + 1) & mask }
            slots[slot] = Self.tag(moved) << 32 | UInt64(index + 1)
            records.swapAt(index, last)
        }
        records.removeLast()
        return true
    }

    /// Removes every node of `hashes` that is held.
    public mutating func remove(contentsOf hashes: [Hash]) {
        for hash in hashes { remove(hash) }
    }

    /// Makes room for `capacity` nodes in all, so that inserting up to that many does not grow the table.
    public mutating func reserveCapacity(_ capacity: Int) {
        precondition(capacity >= 0 && capacity <= Self.maxCount, "invalid state: a tree-node table for \(capacity) nodes")
        // Geometric: reserving exactly what each block adds would copy every record on every block.
        if capacity > records.capacity {
            records.reserveCapacity(max(capacity, records.capacity * 2))
        }
        if capacity * 2 > slots.count { grow(toHold: capacity) }
    }

    /// Drops every node; keeps the allocated room when `keepingCapacity`.
    public mutating func removeAll(keepingCapacity: Bool = false) {
        records.removeAll(keepingCapacity: keepingCapacity)
        if keepingCapacity {
            for i in slots.indices { slots[i] = 0 }
        } else {
            slots = [UInt64](repeating: 0, count: Self.slotCount(for: 0))
            shift = UInt64(64 - slots.count.trailingZeroBitCount)
        }
    }

    // MARK: probing

    /// The record holding `hash` if any, and the slot where it is (or where it would go).
    private func find(_ hash: Hash) -> (slot: Int, record: Int?) {
        let tag = Self.tag(hash)
        let mask = slots.count - 1
        var slot = home(hash)
        while true {
            let entry = slots[slot]
            if entry == 0 { return (slot, nil) }
            if entry >> 32 == tag {
                let index = Self.record(entry)
                if self.hash(at: index) == hash { return (slot, index) }
            }
            slot = (slot + 1) & mask
        }
    }

    /// Where a record's node lies in it.
    private static let nodeOffset = MemoryLayout<TreeNodeRecord>.offset(of: \TreeNodeRecord.node)!

    /// The hash of record `index`, read in place.
    @inline(__always)
    private func hash(at index: Int) -> Hash { records.withUnsafeBufferPointer { $0[index].hash } }

    /// The record position an occupied slot's entry points to.
    @inline(__always)
    private static func record(_ entry: UInt64) -> Int { Int(truncatingIfNeeded: entry & 0xffff_ffff) - 1 }

    /// The first slot probed for `hash`.
    private func home(_ hash: Hash) -> Int {
        Int(truncatingIfNeeded: (hash.prefix64 &* multiplier) >> shift)
    }

    /// The low 32 bits of the first word, compared before the whole hash (the slot comes mostly from the high bits).
    private static func tag(_ hash: Hash) -> UInt64 { hash.prefix64 & 0xffff_ffff }

    /// The slot count for `capacity` nodes at a load of at most one half (at least 16).
    private static func slotCount(for capacity: Int) -> Int {
        var count = 16
        while count < capacity * 2 { count *= 2 }
        return count
    }

    /// Rebuilds the slots with room for `capacity` nodes (at least twice the current slots).
    private mutating func grow(toHold capacity: Int) {
        _ = rebuildSlots(count: max(Self.slotCount(for: capacity), slots.count * 2))
    }

    /// Makes `count` (a power of two) empty slots and indexes every record in them; false, leaving the slots
    /// partial, when two records have the same hash.
    private mutating func rebuildSlots(count: Int) -> Bool {
        slots = [UInt64](repeating: 0, count: count)
        shift = UInt64(64 - count.trailingZeroBitCount)
        let mask = count - 1
        for index in records.indices {
            let hash = self.hash(at: index)
            let tag = Self.tag(hash)
            var slot = home(hash)
            while slots[slot] != 0 {
                if slots[slot] >> 32 == tag && self.hash(at: Self.record(slots[slot])) == hash { return false }
                slot = (slot + 1) & mask
            }
            slots[slot] = tag << 32 | UInt64(index + 1)
        }
        return true
    }
}
