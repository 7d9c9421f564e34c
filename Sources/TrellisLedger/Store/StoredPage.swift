// StoredPage.swift — how RocksChainStore (format `trellis-ledger/7`) stores the latest tree: one row per page, a
// page being the binary subtree of a node at a depth that is a multiple of `TreePage.levels` (4), down to 4 levels
// below it, keyed by its position (docs/LEDGER.md, "Storage of the tree"); only the pages rooted at depth 16 or deeper
// are stored (those above are recomputed from them: UpperTree.swift), and a lone leaf's position at depth 16 holds
// a page whose root is the leaf. Hashing is unchanged: a page is decoded
// back into the binary nodes the tree hashes, and its root must hash to the hash its parent (or the state root)
// names. The page bytes are format 5's.
//
// Bytes of a page (pre-order; `r` is the depth below the page root, 0…4):
//   node(r) := 0x00                                  the empty subtree (a child only, r ≥ 1)
//            | 0x01 ‖ node(r+1) ‖ node(r+1)          an inner node (r ≤ 3): its left, then its right half
//            | 0x02 ‖ u16 len ‖ key ‖ value hash     a leaf (any r; at r = 0 only as the whole tree's lone leaf)
//            | 0x03 ‖ hash                           an inner node at r = 4: the root of the page below (its row)
// Leaves are inline (with their value hash, so decoding a page reads nothing else); an inner node at r = 4 is the
// next page. A page holds at most 15 inner nodes and 16 leaves.
import TrellisCrypto

/// One decoded page: its member nodes (inner nodes down to 3 levels below the root, leaves down to 4), each with
/// its hash, in pre-order (the root first). An inner node 4 levels below the root is not a member: it is the root of
/// another page.
///
/// Held in one allocation (`PageBuffer`), read in place: a page is decoded on every read the caches miss and built
/// on every commit for each new page the cache keeps, and freed a generation at a time, so its cost is one
/// allocation, not one per member array and leaf key (docs/PERFORMANCE.md, "(twenty-second, pages)"). A leaf's
/// `TreeLeaf` (whose key is an array) is made when a lookup returns it. Immutable once built (hence Sendable).
struct DecodedPage: @unchecked Sendable {
    private let buffer: PageBuffer
    /// The page root's hash (its key in the page cache), kept inline for the cache's probes.
    let root: Hash
    /// The members by position (`PagePositions`), read off the pre-order once: a walk that knows a node's path finds
    /// it with one hash comparison (`member(_:at:)`).
    let positions: PagePositions
    /// Members (1…31).
    let count: Int

    /// A page of the members `builder` holds (not empty), in its pre-order.
    init(_ builder: Builder) {
        let n = builder.count
        precondition(n > 0, "invalid state: a decoded page of no members")
        count = n
        let keyBytes = builder.keys.count
        buffer = PageBuffer.make(count: n, keyBytes: keyBytes) { raw in
            builder.hashes.withUnsafeBytes { raw.copyMemory(from: $0.baseAddress!, byteCount: 32 * n) }
            builder.hashes.withUnsafeBufferPointer { hashes in
                for i in 0..<n { raw.storeBytes(of: hashes[i].prefix64, toByteOffset: Layout.prefixes(n) + 8 * i, as: UInt64.self) }
            }
            builder.pairs.withUnsafeBytes { (raw + Layout.pairs(n)).copyMemory(from: $0.baseAddress!, byteCount: 64 * n) }
            builder.kinds.withUnsafeBytes { (raw + Layout.kinds(n)).copyMemory(from: $0.baseAddress!, byteCount: 8 * n) }
            if keyBytes > 0 { builder.keys.withUnsafeBytes { (raw + Layout.keys(n)).copyMemory(from: $0.baseAddress!, byteCount: keyBytes) } }
        }
        root = builder.hashes[0]
        positions = builder.positions
    }

    /// `hashes` and `nodes` in pre-order, the root first; not empty (tests, and pages made of nodes at hand). The
    /// members' positions are read off the pre-order (`PagePositions(hashes:nodes:)`).
    init(hashes: [Hash], nodes: [TreeNode]) {
        precondition(!hashes.isEmpty && hashes.count == nodes.count, "a decoded page of \(hashes.count) hashes and \(nodes.count) nodes")
        var builder = Builder()
        for (hash, node) in zip(hashes, nodes) { builder.append(hash, node, position: 0) }
        builder.positions = PagePositions(hashes: hashes, nodes: nodes)
        self.init(builder)
    }

    /// Where each part of a page's buffer starts, for `n` members: their hashes (32 bytes each), the hashes' first 8
    /// bytes (`Hash.prefix64`: `member(_:)` scans these 8-byte words, 4 cache lines for a full page, instead of the
    /// 32-byte hashes), each member's pair (an inner node's halves; a leaf's key hash and value hash: 64 bytes), each
    /// member's kind (8 bytes: 0 for an inner node; for a leaf 1 | key length << 8 | key offset << 32), the leaves'
    /// keys one after another.
    enum Layout {
        @inline(__always) static func prefixes(_ n: Int) -> Int { 32 * n }
        @inline(__always) static func pairs(_ n: Int) -> Int { 40 * n }
        @inline(__always) static func kinds(_ n: Int) -> Int { 104 * n }
        @inline(__always) static func keys(_ n: Int) -> Int { 112 * n }
        /// A leaf's kind word.
        @inline(__always) static func leafKind(keyOffset: Int, keyLength: Int) -> UInt64 {
            1 | UInt64(truncatingIfNeeded: keyLength) << 8 | UInt64(truncatingIfNeeded: keyOffset) << 32
        }
    }

    /// The members of a page as an encoder gathers them (in pre-order, with their positions), in arrays of a page's
    /// most members that it reuses from page to page (written in place, never cleared); `DecodedPage(_:)` copies the
    /// first `count` into the page's one buffer.
    struct Builder {
        private(set) var count = 0
        private(set) var hashes = [Hash](repeating: .zero, count: DecodedPage.maxMembers)
        /// Per member: an inner node's halves, or a leaf's key hash and value hash.
        private(set) var pairs = [(Hash, Hash)](repeating: (.zero, .zero), count: DecodedPage.maxMembers)
        /// Per member: `Layout`'s kind word.
        private(set) var kinds = [UInt64](repeating: 0, count: DecodedPage.maxMembers)
        private(set) var keys: [UInt8] = []
        var positions = PagePositions()

        init() {
            keys.reserveCapacity(1_024)
        }

        /// Starts the next page.
        mutating func removeAll() {
            count = 0
            keys.removeAll(keepingCapacity: true)
            positions = PagePositions()
        }

        /// Appends the member `hash` at `position` (0: set no position; the caller sets them).
        mutating func append(_ hash: Hash, _ node: TreeNode, position: Int) {
            switch node {
            case .leaf(let leaf): appendLeaf(hash, keyHash: leaf.keyHash, valueHash: leaf.valueHash, key: leaf.key, position: position)
            case .inner(let l, let r): appendInner(hash, left: l, right: r, position: position)
            }
        }

        mutating func appendInner(_ hash: Hash, left: Hash, right: Hash, position: Int) {
            append(hash, pair: (left, right), kind: 0, position: position)
        }

        mutating func appendLeaf<Key: Collection<UInt8>>(_ hash: Hash, keyHash: Hash, valueHash: Hash, key: Key, position: Int) {
            append(hash, pair: (keyHash, valueHash), kind: Layout.leafKind(keyOffset: keys.count, keyLength: key.count), position: position)
            keys.append(contentsOf: key)
        }

        @inline(__always)
        private mutating func append(_ hash: Hash, pair: (Hash, Hash), kind: UInt64, position: Int) {
            precondition(count < DecodedPage.maxMembers, "invalid state: more than \(DecodedPage.maxMembers) members in a page")
            let index = count
            if position > 0 { positions.set(member: index, at: position) }
            hashes.withUnsafeMutableBufferPointer { $0[index] = hash }
            pairs.withUnsafeMutableBufferPointer { $0[index] = pair }
            kinds.withUnsafeMutableBufferPointer { $0[index] = kind }
            count = index + 1
        }

        /// Appends `page`'s member `index` at `position`, copied from its buffer (no `TreeLeaf` made).
        mutating func appendMember(of page: DecodedPage, at index: Int, position: Int) {
            page.withMember(at: index) { hash, kind, a, b, key in
                if kind == 0 { appendInner(hash, left: a, right: b, position: position) } else { appendLeaf(hash, keyHash: a, valueHash: b, key: key, position: position) }
            }
        }
    }

    /// The root member.
    var rootNode: TreeNode { node(at: 0) }

    /// The hash of member `index` (pre-order).
    @inline(__always)
    func hash(at index: Int) -> Hash {
        precondition(index >= 0 && index < count, "invalid state: member \(index) of a page of \(count)")
        return buffer.withBytes { $0.load(fromByteOffset: 32 * index, as: Hash.self) }
    }

    /// Member `index` (pre-order) as a node: a leaf's key is copied into an array of its own.
    func node(at index: Int) -> TreeNode {
        precondition(index >= 0 && index < count, "invalid state: member \(index) of a page of \(count)")
        return withMember(at: index) { hash, kind, a, b, key in
            kind == 0 ? .inner(left: a, right: b) : .leaf(TreeLeaf(key: Array(key), keyHash: a, valueHash: b, hash: hash))
        }
    }

    /// The halves of member `index` when it is an inner node, else nil (no leaf made).
    @inline(__always)
    func halves(at index: Int) -> (left: Hash, right: Hash)? {
        precondition(index >= 0 && index < count, "invalid state: member \(index) of a page of \(count)")
        return buffer.withBytes { raw in
            guard raw.load(fromByteOffset: Layout.kinds(count) + 8 * index, as: UInt64.self) == 0 else { return nil }
            return (raw.load(fromByteOffset: Layout.pairs(count) + 64 * index, as: Hash.self),
                    raw.load(fromByteOffset: Layout.pairs(count) + 64 * index + 32, as: Hash.self))
        }
    }

    /// Calls `body` with member `index`'s hash, kind (0: inner, else leaf), pair (halves, or key hash and value
    /// hash) and key bytes (empty for an inner node), read in place.
    @inline(__always)
    func withMember<R>(at index: Int, _ body: (Hash, UInt64, Hash, Hash, UnsafeRawBufferPointer) -> R) -> R {
        precondition(index >= 0 && index < count, "invalid state: member \(index) of a page of \(count)")
        return buffer.withBytes { raw in
            let n = count
            let kind = raw.load(fromByteOffset: Layout.kinds(n) + 8 * index, as: UInt64.self)
            let hash = raw.load(fromByteOffset: 32 * index, as: Hash.self)
            let a = raw.load(fromByteOffset: Layout.pairs(n) + 64 * index, as: Hash.self)
            let b = raw.load(fromByteOffset: Layout.pairs(n) + 64 * index + 32, as: Hash.self)
            if kind == 0 { return body(hash, 0, a, b, UnsafeRawBufferPointer(start: nil, count: 0)) }
            let key = UnsafeRawBufferPointer(start: raw + Layout.keys(n) + Int(truncatingIfNeeded: kind >> 32), count: Int(truncatingIfNeeded: (kind >> 8) & 0xffff))
            return body(hash, kind & 0xff, a, b, key)
        }
    }

    /// The members' hashes in pre-order (a new array: tests, and the walked commit's fallback).
    var hashes: [Hash] { (0..<count).map { hash(at: $0) } }

    /// The members in pre-order (a new array, each leaf's key copied: tests and whole-tree checks).
    var nodes: [TreeNode] { (0..<count).map { node(at: $0) } }

    /// The index of the member `hash`, or nil.
    @inline(__always)
    func index(of hash: Hash) -> Int? {
        let prefix = hash.prefix64
        let n = count
        return buffer.withBytes { raw in
            for i in 0..<n where raw.load(fromByteOffset: Layout.prefixes(n) + 8 * i, as: UInt64.self) == prefix
                && raw.load(fromByteOffset: 32 * i, as: Hash.self) == hash { return i }
            return nil
        }
    }

    /// The member `hash`, or nil.
    func member(_ hash: Hash) -> TreeNode? {
        // Not `index(of:).map { node(at: $0) }`: a closure capturing `self` retained and released the page's buffer per
        // lookup (callgrind, docs/PERFORMANCE.md "(twenty-third, reads)").
        guard let index = index(of: hash) else { return nil }
        return node(at: index)
    }

    /// The index of the member `hash` looked for at `position` (`PagePositions`) first, else anywhere in the page.
    @inline(__always)
    func index(of hash: Hash, at position: Int) -> Int? {
        if let index = positions.member(at: position), index < count, buffer.withBytes({ $0.load(fromByteOffset: 32 * index, as: Hash.self) == hash }) {
            return index
        }
        return index(of: hash)
    }

    /// The member `hash`, looked for at `position` (`PagePositions`) first — where a walk down this page finds it —,
    /// else anywhere in the page (`member(_:)`); nil when it is not a member.
    @inline(__always)
    func member(_ hash: Hash, at position: Int) -> TreeNode? {
        guard let index = index(of: hash, at: position) else { return nil }
        return node(at: index)
    }

    /// The member `hash` at `depth` (1…4 below the page's root, which is `pageDepth` deep) on `path`: at the position
    /// the path's bits from `pageDepth` name, else anywhere in the page.
    @inline(__always)
    func member(_ hash: Hash, depth: Int, pageDepth: Int, path: TreePath) -> TreeNode? {
        guard depth > pageDepth, depth - pageDepth <= TreePage.levels else { return member(hash) }
        return member(hash, at: PagePositions.position(depth: depth, pageDepth: pageDepth, path: path))
    }

    /// The roots of the pages below this one (its inner members' children that are not members, 4 levels down),
    /// with their paths, for a page at `depth` whose path is `path`, in pre-order.
    func pagesBelow(depth: Int, path: TreePath) -> [(root: Hash, path: TreePath)] {
        var out: [(root: Hash, path: TreePath)] = []
        var stack = [(index: 0, level: 0, path: path)]
        while let (index, level, nodePath) = stack.popLast() {
            guard let (l, r) = halves(at: index) else { continue }
            for (bit, child) in [(1, r), (0, l)] where child != .zero {
                let childPath = nodePath.with(bit: bit, at: depth + level)
                if let member = self.index(of: child) { stack.append((member, level + 1, childPath)) } else { out.append((child, childPath)) }
            }
        }
        return out
    }

    /// Whether one of the page's inner members has `hash` as a child that is not itself a member: the root of a
    /// page below (4 levels down).
    func references(_ hash: Hash) -> Bool {
        guard hash != .zero else { return false }
        for i in 0..<count {
            if let (l, r) = halves(at: i), l == hash || r == hash { return index(of: hash) == nil }
        }
        return false
    }

    /// Whether two pages hold the same members at the same positions (tests: a page built from a commit against the
    /// same page decoded from its bytes).
    func sameMembers(as other: DecodedPage) -> Bool {
        guard count == other.count, root == other.root, positions == other.positions else { return false }
        return buffer.withBytes { a in
            other.buffer.withBytes { b in
                guard buffer.keyBytes == other.buffer.keyBytes else { return false }
                let bytes = Layout.keys(count) + buffer.keyBytes
                return UnsafeRawBufferPointer(start: a, count: bytes).elementsEqual(UnsafeRawBufferPointer(start: b, count: bytes))
            }
        }
    }

    /// A page of `count` members in `buffer` (the decoder's).
    fileprivate init(buffer: PageBuffer, root: Hash, positions: PagePositions, count: Int) {
        self.buffer = buffer
        self.root = root
        self.positions = positions
        self.count = count
    }

    static let emptyTag: UInt8 = 0
    static let innerTag: UInt8 = 1
    static let leafTag: UInt8 = 2
    static let pageTag: UInt8 = 3

    // MARK: decoding (untrusted bytes)

    /// Decodes a page whose root must be `key`; every member is hashed. Never traps: bad bytes, or a root of
    /// another hash, are `StateError.corruptValue`.
    static func decode(_ bytes: [UInt8], key: Hash) throws(StateError) -> DecodedPage {
        let page = try decode(bytes, label: .hash(key))
        guard page.root == key else { throw .corruptValue(key: "tree page \(key.hex)", reason: "content hashes to \(page.root.hex)") }
        return page
    }

    /// What a decoding error names: the page's root hash, or its row (a `nodes` key, format 7) and the root the tree
    /// names there when known. Formatted only for an error.
    enum Label {
        case hash(Hash)
        case row(key: [UInt8], root: Hash?)

        var description: String {
            switch self {
            case .hash(let h): return "tree page \(h.hex)"
            case .row(let key, let root): return RocksChainStore.describePage(key) + (root.map { " (page \($0.hex))" } ?? "")
            }
        }
    }

    /// Decodes a page (`label` names it in errors); every member is hashed, the root's hash is the page's `root`.
    /// Never traps: bad bytes are `StateError.corruptValue`.
    ///
    /// Two passes: the bytes are parsed first (the members' shape, in pre-order, in a stack buffer), then hashed —
    /// the leaves' key hashes (two keys of one length at a time), the leaf hashes, then the inner nodes one level at a
    /// time from the deepest, two at a time (`SHA256.hashPair`: the members of one level are independent). Every
    /// member is hashed exactly as `TreeLeaf` and `TreeNode.innerHash` hash it; only the order of the work changes.
    static func decode(_ bytes: [UInt8], label: Label) throws(StateError) -> DecodedPage {
        let result: Result<DecodedPage, StateError> = bytes.withUnsafeBufferPointer { bytes in
            withUnsafeTemporaryAllocation(of: Parsed.self, capacity: maxMembers) { parsed in
                var reader = Reader(bytes: bytes, label: label, parsed: parsed)
                do throws(StateError) {
                    return .success(try reader.decode())
                } catch {
                    return .failure(error)
                }
            }
        }
        return try result.get()
    }

    /// The most members a page has: a binary tree of 4 levels below its root (15 inner nodes and 16 leaves).
    static let maxMembers = (1 << (TreePage.levels + 1)) - 1

    /// A member as parsed, before it is hashed.
    private struct Parsed {
        /// Levels below the page root (0…4).
        var level: Int
        var isLeaf: Bool
        /// Inner: the members that are its halves (-1 when a half is not a member: then `leftHash` / `rightHash` is
        /// zero for an empty half or the hash of the page below).
        var left: Int
        var right: Int
        var leftHash: Hash
        var rightHash: Hash
        /// Leaf: where its key starts in the page's bytes and how long it is (its value hash follows the key).
        var keyOffset: Int
        var keyLength: Int
        var keyHash: Hash
        /// The member's hash, once hashed.
        var hash: Hash
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        let label: Label
        let parsed: UnsafeMutableBufferPointer<Parsed>
        var offset = 0
        var count = 0

        init(bytes: UnsafeBufferPointer<UInt8>, label: Label, parsed: UnsafeMutableBufferPointer<Parsed>) {
            self.bytes = bytes
            self.label = label
            self.parsed = parsed
        }

        func corrupt(_ reason: String) -> StateError { .corruptValue(key: label.description, reason: reason) }

        mutating func decode() throws(StateError) -> DecodedPage {
            let root = try node(level: 0)
            guard offset == bytes.count else { throw corrupt("\(bytes.count - offset) bytes after the page") }
            guard root.member == 0 else { throw corrupt("a page whose root is not a node of it") }
            hashMembers()
            var positions = PagePositions()
            place(0, at: 1, in: &positions)
            let n = count
            var keyBytes = 0
            for i in 0..<n where parsed[i].isLeaf { keyBytes += parsed[i].keyLength }
            let buffer = PageBuffer.make(count: n, keyBytes: keyBytes) { raw in
                var keyOffset = 0
                for i in 0..<n {
                    let member = parsed[i]
                    raw.storeBytes(of: member.hash, toByteOffset: 32 * i, as: Hash.self)
                    raw.storeBytes(of: member.hash.prefix64, toByteOffset: Layout.prefixes(n) + 8 * i, as: UInt64.self)
                    let pair = Layout.pairs(n) + 64 * i
                    if member.isLeaf {
                        raw.storeBytes(of: member.keyHash, toByteOffset: pair, as: Hash.self)
                        raw.storeBytes(of: valueHash(of: member), toByteOffset: pair + 32, as: Hash.self)
                        raw.storeBytes(of: Layout.leafKind(keyOffset: keyOffset, keyLength: member.keyLength), toByteOffset: Layout.kinds(n) + 8 * i, as: UInt64.self)
                        if member.keyLength > 0 {
                            (raw + Layout.keys(n) + keyOffset).copyMemory(from: bytes.baseAddress! + member.keyOffset, byteCount: member.keyLength)
                        }
                        keyOffset += member.keyLength
                    } else {
                        raw.storeBytes(of: half(member.left, member.leftHash), toByteOffset: pair, as: Hash.self)
                        raw.storeBytes(of: half(member.right, member.rightHash), toByteOffset: pair + 32, as: Hash.self)
                        raw.storeBytes(of: 0 as UInt64, toByteOffset: Layout.kinds(n) + 8 * i, as: UInt64.self)
                    }
                }
            }
            return DecodedPage(buffer: buffer, root: parsed[0].hash, positions: positions, count: n)
        }

        /// Gives member `index` and the members below it their positions (`PagePositions`): its halves' are 2p and
        /// 2p + 1 (a parsed page is at most 4 levels deep, so positions stay below 32).
        func place(_ index: Int, at position: Int, in positions: inout PagePositions) {
            positions.set(member: index, at: position)
            let member = parsed[index]
            guard !member.isLeaf else { return }
            if member.left >= 0 { place(member.left, at: position << 1, in: &positions) }
            if member.right >= 0 { place(member.right, at: position << 1 | 1, in: &positions) }
        }

        mutating func byte() throws(StateError) -> UInt8 {
            guard offset < bytes.count else { throw corrupt("ends early, at byte \(offset)") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func hash() throws(StateError) -> Hash {
            guard bytes.count - offset >= Hash.byteCount else { throw corrupt("ends early, inside a hash at byte \(offset)") }
            defer { offset += Hash.byteCount }
            return Hash(copying: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[offset..<(offset + Hash.byteCount)]))!
        }

        /// A new member's place (pre-order: a node before its halves).
        mutating func newMember(level: Int, isLeaf: Bool) throws(StateError) -> Int {
            guard count < parsed.count else { throw corrupt("more than \(parsed.count) members") }
            parsed[count] = Parsed(level: level, isLeaf: isLeaf, left: -1, right: -1, leftHash: .zero, rightHash: .zero,
                                   keyOffset: 0, keyLength: 0, keyHash: .zero, hash: .zero)
            count += 1
            return count - 1
        }

        /// Parses the subtree at `level` below the page root: a member (its position), or not a member (-1: the empty
        /// subtree, hash zero, or the page below, its hash).
        mutating func node(level: Int) throws(StateError) -> (member: Int, hash: Hash) {
            let tag = try byte()
            switch tag {
            case emptyTag:
                guard level > 0 else { throw corrupt("an empty page") }
                return (-1, .zero)
            case innerTag:
                guard level < TreePage.levels else { throw corrupt("an inner node \(level) levels below the page root (a page has \(TreePage.levels))") }
                let index = try newMember(level: level, isLeaf: false)
                let left = try node(level: level + 1)
                let right = try node(level: level + 1)
                guard left.member >= 0 || left.hash != .zero || right.member >= 0 || right.hash != .zero else { throw corrupt("an inner node with two empty halves") }
                parsed[index].left = left.member
                parsed[index].leftHash = left.hash
                parsed[index].right = right.member
                parsed[index].rightHash = right.hash
                return (index, .zero)
            case leafTag:
                guard bytes.count - offset >= 2 else { throw corrupt("ends early, inside a leaf's key length") }
                let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
                offset += 2
                guard bytes.count - offset >= length else { throw corrupt("ends early, inside a leaf key of \(length) bytes") }
                let keyOffset = offset
                offset += length
                guard bytes.count - offset >= Hash.byteCount else { throw corrupt("ends early, inside a hash at byte \(offset)") }
                offset += Hash.byteCount
                let index = try newMember(level: level, isLeaf: true)
                parsed[index].keyOffset = keyOffset
                parsed[index].keyLength = length
                return (index, .zero)
            case pageTag:
                guard level == TreePage.levels else { throw corrupt("a page reference \(level) levels below the page root (only \(TreePage.levels))") }
                let child = try hash()
                guard child != .zero else { throw corrupt("a reference to the empty page") }
                return (-1, child)
            default:
                throw corrupt("unknown node tag \(tag) at byte \(offset - 1)")
            }
        }

        /// A half's hash: its member's, or the one recorded for a half that is not a member.
        func half(_ member: Int, _ hash: Hash) -> Hash { member >= 0 ? parsed[member].hash : hash }

        func valueHash(of member: Parsed) -> Hash {
            let start = member.keyOffset + member.keyLength
            return Hash(copying: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<(start + Hash.byteCount)]))!
        }

        func keyBytes(_ member: Parsed) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: bytes[member.keyOffset..<(member.keyOffset + member.keyLength)])
        }

        /// Hashes every parsed member: leaves' keys and leaves first, then inner nodes level by level from the deepest,
        /// two independent messages at a time where there are two.
        mutating func hashMembers() {
            // Key hashes: two keys of the same length together (a key waits for a partner of its length).
            var waiting = -1
            for i in 0..<count where parsed[i].isLeaf {
                var partner = -1
                if waiting >= 0 {
                    var w = waiting
                    while w >= 0 {
                        if parsed[w].keyLength == parsed[i].keyLength { partner = w; break }
                        w = parsed[w].left  // the waiting list, through the leaves' unused `left`
                    }
                }
                if partner < 0 {
                    parsed[i].left = waiting
                    waiting = i
                    continue
                }
                let (a, b) = SHA256.hashPair(keyBytes(parsed[partner]), keyBytes(parsed[i]))
                parsed[partner].keyHash = a
                parsed[i].keyHash = b
                // Unlink the partner from the waiting list.
                if waiting == partner {
                    waiting = parsed[partner].left
                } else {
                    var w = waiting
                    while parsed[w].left != partner { w = parsed[w].left }
                    parsed[w].left = parsed[partner].left
                }
                parsed[partner].left = -1
            }
            while waiting >= 0 {
                parsed[waiting].keyHash = SHA256.hash(keyBytes(parsed[waiting]))
                let next = parsed[waiting].left
                parsed[waiting].left = -1
                waiting = next
            }
            // Leaf hashes, two at a time.
            var pending = -1
            for i in 0..<count where parsed[i].isLeaf {
                if pending < 0 { pending = i; continue }
                (parsed[pending].hash, parsed[i].hash) = TreeNode.prefixedHashPair(0x00, parsed[pending].keyHash, valueHash(of: parsed[pending]),
                                                                                     parsed[i].keyHash, valueHash(of: parsed[i]))
                pending = -1
            }
            if pending >= 0 { parsed[pending].hash = TreeLeaf.hash(keyHash: parsed[pending].keyHash, valueHash: valueHash(of: parsed[pending])) }
            // Inner nodes from the deepest level up: a level's halves are all hashed before it.
            for level in stride(from: TreePage.levels - 1, through: 0, by: -1) {
                pending = -1
                for i in 0..<count where !parsed[i].isLeaf && parsed[i].level == level {
                    if pending < 0 { pending = i; continue }
                    (parsed[pending].hash, parsed[i].hash) = TreeNode.prefixedHashPair(
                        0x01, half(parsed[pending].left, parsed[pending].leftHash), half(parsed[pending].right, parsed[pending].rightHash),
                        half(parsed[i].left, parsed[i].leftHash), half(parsed[i].right, parsed[i].rightHash))
                    pending = -1
                }
                if pending >= 0 {
                    parsed[pending].hash = TreeNode.innerHash(half(parsed[pending].left, parsed[pending].leftHash), half(parsed[pending].right, parsed[pending].rightHash))
                }
            }
        }
    }

    // MARK: encoding

    /// What a page's encoder knows of a node 1–4 levels below the page root.
    enum Member {
        case node(TreeNode)
        /// An inner node 4 levels below: the root of another page, referenced by its hash.
        case pageRoot
    }

    /// Encodes the page rooted at `root` (hash `rootHash`); `member(hash, level)` gives each node below it, at
    /// `level` 1…4 below the root. Returns the bytes and, when `decoded`, the decoded form (for the cache).
    static func encode(rootHash: Hash, root: TreeNode, decoded: Bool = true, member: (Hash, Int) throws(StateError) -> Member) throws(StateError) -> (bytes: [UInt8], page: DecodedPage?) {
        try withoutActuallyEscaping(member) { (member) throws(StateError) in
            var encoder = PageEncoder()
            let page = try encoder.encode(rootHash: rootHash, root: root, decoded: decoded, members: ClosureMembers(resolve: member))
            return (encoder.bytesCopy, page)
        }
    }

    private struct ClosureMembers: PageMembers {
        let resolve: (Hash, Int) throws(StateError) -> Member
        func member(_ hash: Hash, level: Int, position: Int) throws(StateError) -> Member { try resolve(hash, level) }
    }
}

/// What a page's encoder knows of the nodes below a page root.
protocol PageMembers {
    /// The node `hash`, `level` 1…4 below the page root being encoded, at `position` in the page (`PagePositions`:
    /// 1 the root, 2p and 2p + 1 the halves of p).
    func member(_ hash: Hash, level: Int, position: Int) throws(StateError) -> DecodedPage.Member
}

/// The members of one page by position: 1 is the page root, 2p and 2p + 1 the left and right halves of position p,
/// so the positions of a page's 5 levels are 1…31. Each position holds the member there (its index in the page's
/// pre-order) or none (an empty half, a page below, or below a leaf). A lookup is an array read and one hash
/// comparison, where a search by hash scans the page.
struct PagePositions: Sendable, Equatable {
    /// Member index + 1 per position (0: none); index 0 unused.
    private var members = SIMD32<UInt8>(repeating: 0)

    /// No member anywhere.
    init() {}

    /// The positions of a page's members (`hashes` and `nodes` in pre-order, the root first), read off the pre-order
    /// without hashing or searching by hash: a member's left half, when a member, is the next member; its right half,
    /// when a member, follows the left half's subtree. Members whose place does not follow from that (never in a page
    /// of the tree) get none, and are found by hash.
    init(hashes: [Hash], nodes: [TreeNode]) {
        hashes.withUnsafeBufferPointer { hashes in
            nodes.withUnsafeBufferPointer { nodes in
                func visit(_ index: Int, position: Int, level: Int) -> Int {
                    set(member: index, at: position)
                    var next = index + 1
                    guard level < TreePage.levels, case .inner(let left, let right) = nodes[index] else { return next }
                    if left != .zero, next < hashes.count, hashes[next] == left { next = visit(next, position: position << 1, level: level + 1) }
                    if right != .zero, next < hashes.count, hashes[next] == right { next = visit(next, position: position << 1 | 1, level: level + 1) }
                    return next
                }
                _ = visit(0, position: 1, level: 0)
            }
        }
    }

    /// The position of a node at `depth`, 1…4 levels below a page root at `pageDepth`, on `path`: 1 followed by the
    /// path's bits from `pageDepth` to `depth`.
    @inline(__always)
    static func position(depth: Int, pageDepth: Int, path: TreePath) -> Int {
        var position = 1
        for bit in pageDepth..<depth { position = position << 1 | path.bit(bit) }
        return position
    }

    /// The member at `position` (1…31), or nil.
    @inline(__always)
    func member(at position: Int) -> Int? {
        let entry = members[position]
        return entry == 0 ? nil : Int(entry) - 1
    }

    mutating func set(member index: Int, at position: Int) {
        precondition(position >= 1 && position < 32 && index < DecodedPage.maxMembers, "invalid state: member \(index) at page position \(position)")
        members[position] = UInt8(truncatingIfNeeded: index + 1)
    }
}

/// Encodes pages one after another into buffers it keeps (a commit writes thousands): no page allocates its bytes
/// or grows its member arrays; a decoded page is one allocation (`DecodedPage(_:)` from the members gathered here).
struct PageEncoder {
    /// The last encoded page's bytes, valid until the next `encode`.
    private(set) var bytes: [UInt8] = []
    /// The members of the page being encoded, when it is `decoded`.
    private var gathered = DecodedPage.Builder()
    private var decoded = false

    init() {
        // A page holds at most 15 inner nodes and 16 leaves; its bytes grow with its leaves' keys.
        bytes.reserveCapacity(1_024)
    }

    /// Encodes the page rooted at `root` (hash `rootHash`) into `bytes`, each node below the root from `members`.
    /// Returns the decoded page when `decoded` (for the cache).
    mutating func encode<Members: PageMembers>(rootHash: Hash, root: TreeNode, decoded: Bool, members: Members) throws(StateError) -> DecodedPage? {
        bytes.removeAll(keepingCapacity: true)
        gathered.removeAll()
        self.decoded = decoded
        try write(rootHash, root, level: 0, position: 1, members: members)
        guard decoded else { return nil }
        return DecodedPage(gathered)
    }

    /// A copy of the last encoded page's bytes in an array of their size.
    var bytesCopy: [UInt8] { Self.exactCopy(bytes) }

    /// A copy of `array` in a buffer of its size (the page cache keeps it; `Array(array)` would share the buffer
    /// this encoder reuses).
    @inline(__always)
    private static func exactCopy<T>(_ array: [T]) -> [T] {
        var copy: [T] = []
        copy.reserveCapacity(array.count)
        copy.append(contentsOf: array)
        return copy
    }

    private mutating func write<Members: PageMembers>(_ hash: Hash, _ node: TreeNode, level: Int, position: Int, members: Members) throws(StateError) {
        if decoded { gathered.append(hash, node, position: position) }
        switch node {
        case .leaf(let leaf):
            writeLeaf(leaf)
        case .inner(let l, let r):
            guard level < TreePage.levels else { throw .corruptValue(key: "tree node \(hash.hex)", reason: "an inner member at the page boundary") }
            bytes.append(DecodedPage.innerTag)
            try writeChild(l, level: level + 1, position: position << 1, members: members)
            try writeChild(r, level: level + 1, position: position << 1 | 1, members: members)
        }
    }

    private mutating func writeChild<Members: PageMembers>(_ child: Hash, level: Int, position: Int, members: Members) throws(StateError) {
        if child == .zero {
            bytes.append(DecodedPage.emptyTag)
            return
        }
        switch try members.member(child, level: level, position: position) {
        case .node(let childNode):
            if case .inner = childNode, level == TreePage.levels {
                bytes.append(DecodedPage.pageTag)
                append(child)
            } else {
                try write(child, childNode, level: level, position: position, members: members)
            }
        case .pageRoot:
            guard level == TreePage.levels else {
                throw .corruptValue(key: "tree node \(child.hex)", reason: "a page root \(level) levels below another page's root")
            }
            bytes.append(DecodedPage.pageTag)
            append(child)
        }
    }

    private mutating func append(_ hash: Hash) {
        hash.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    private mutating func writeLeaf(_ leaf: TreeLeaf) {
        leaf.key.withUnsafeBytes { writeLeaf(key: $0, valueHash: leaf.valueHash) }
    }

    private mutating func writeLeaf(key: UnsafeRawBufferPointer, valueHash: Hash) {
        precondition(key.count <= Int(UInt16.max), "a leaf key longer than the commit's check allows")
        bytes.append(DecodedPage.leafTag)
        bytes.append(UInt8(truncatingIfNeeded: key.count >> 8))
        bytes.append(UInt8(truncatingIfNeeded: key.count))
        bytes.append(contentsOf: key)
        append(valueHash)
    }

    // MARK: encoding from an update's positions

    /// Encodes the page whose root is the update's node `root` (a `TreePositionChanges.Reference`: created or carried)
    /// into `bytes`, replacing `old` (the stored page at its position, nil when it held none): each member is taken by
    /// reference — a created node and its recorded halves, a carried leaf, or the old page's member at the same
    /// position — and read where it is. Returns the decoded page when `decoded` (for the cache). The bytes are the ones
    /// `encode(rootHash:root:decoded:members:)` writes for the same page.
    mutating func encode(_ root: Int32, of update: UpdateNodes, replacing old: DecodedPage?, decoded: Bool) throws(StateError) -> DecodedPage? {
        bytes.removeAll(keepingCapacity: true)
        gathered.removeAll()
        self.decoded = decoded
        guard root >= 0 ? Int(root) < update.records.count
                        : root <= TreePositionChanges.Reference.carried(0) && TreePositionChanges.Reference.carriedIndex(root) < update.carried.count else {
            throw .corruptValue(key: "tree update", reason: "a new page whose root is not a node the update made or moved")
        }
        try write(root, update.hash(root), level: 0, position: 1, update: update, old: old)
        guard decoded else { return nil }
        return DecodedPage(gathered)
    }

    private mutating func write(_ reference: Int32, _ hash: Hash, level: Int, position: Int, update: UpdateNodes, old: DecodedPage?) throws(StateError) {
        if hash == .zero {
            bytes.append(DecodedPage.emptyTag)
            return
        }
        if reference >= 0 {
            let index = Int(reference)
            // Each reference is checked against the hash its parent names: a wrong one refuses the commit, never
            // writes a page that is not the tree's.
            guard index < update.records.count, update.records[index].hash == hash else {
                throw .corruptValue(key: "tree node \(hash.hex)", reason: "a new page's member recorded as the update's node \(index), which is another node")
            }
            switch update.records[index].node {
            case .leaf(let leaf):
                if decoded { gathered.appendLeaf(hash, keyHash: leaf.keyHash, valueHash: leaf.valueHash, key: leaf.key, position: position) }
                writeLeaf(leaf)
            case .inner(let l, let r):
                if level == TreePage.levels {
                    // The root of the page below, 4 levels down: referenced by its hash.
                    bytes.append(DecodedPage.pageTag)
                    append(hash)
                    return
                }
                if decoded { gathered.appendInner(hash, left: l, right: r, position: position) }
                bytes.append(DecodedPage.innerTag)
                let halves = update.halves[index]
                try write(halves[0], l, level: level + 1, position: position << 1, update: update, old: old)
                try write(halves[1], r, level: level + 1, position: position << 1 | 1, update: update, old: old)
            }
        } else if reference == TreePositionChanges.Reference.stored {
            try writeStored(hash, level: level, position: position, old: old)
        } else if reference != TreePositionChanges.Reference.none {
            let index = TreePositionChanges.Reference.carriedIndex(reference)
            guard index < update.carried.count, update.carried[index].hash == hash else {
                throw .corruptValue(key: "tree node \(hash.hex)", reason: "a new page's member recorded as the update's moved leaf \(index), which is another leaf")
            }
            let leaf = update.carried[index]
            if decoded { gathered.appendLeaf(hash, keyHash: leaf.keyHash, valueHash: leaf.valueHash, key: leaf.key, position: position) }
            writeLeaf(leaf)
        } else {
            throw .corruptValue(key: "tree node \(hash.hex)", reason: "a half of a new node recorded as empty")
        }
    }

    /// A node the new page shares with `old` at the same position (an inner node's hash fixes its position), with its
    /// subtree down to the page's bottom, from `old` itself; 4 levels down, an inner node is the root of the unchanged
    /// page below, which `old` references from the same place.
    private mutating func writeStored(_ hash: Hash, level: Int, position: Int, old: DecodedPage?) throws(StateError) {
        guard let old else {
            throw .corruptValue(key: "tree node \(hash.hex)", reason: "an unchanged node of a new page (\(level) levels below its root) where no page was")
        }
        try writeStored(hash, level: level, position: position, from: old)
    }

    /// `writeStored(_:level:position:old:)` with the old page unwrapped once (the recursion passes it borrowed, not
    /// copied per member).
    private mutating func writeStored(_ hash: Hash, level: Int, position: Int, from old: DecodedPage) throws(StateError) {
        if let index = old.positions.member(at: position), index < old.count, old.hash(at: index) == hash {
            if decoded { gathered.appendMember(of: old, at: index, position: position) }
            guard let (l, r) = old.halves(at: index) else {
                old.withMember(at: index) { _, _, _, valueHash, key in writeLeaf(key: key, valueHash: valueHash) }
                return
            }
            guard level < TreePage.levels else { throw .corruptValue(key: "tree node \(hash.hex)", reason: "an inner member at the page boundary") }
            bytes.append(DecodedPage.innerTag)
            if l == .zero { bytes.append(DecodedPage.emptyTag) } else { try writeStored(l, level: level + 1, position: position << 1, from: old) }
            if r == .zero { bytes.append(DecodedPage.emptyTag) } else { try writeStored(r, level: level + 1, position: position << 1 | 1, from: old) }
            return
        }
        // 4 levels down and not a member: the root of a page below, referenced by the same parent in the old page.
        guard level == TreePage.levels, let parent = old.positions.member(at: position >> 1), parent < old.count,
              let (left, right) = old.halves(at: parent), (position & 1 == 0 ? left : right) == hash else {
            throw .corruptValue(key: "tree node \(hash.hex)", reason: "an unchanged node of a new page (\(level) levels below its root) that the page it replaces does not hold there")
        }
        bytes.append(DecodedPage.pageTag)
        append(hash)
    }
}

/// A tree update's nodes as a commit reads them in place (`PageEncoder.encode(_:of:replacing:decoded:)`): its created
/// nodes (`TreeUpdate.newNodes`) with their recorded halves, and its carried leaves (`TreePositionChanges`).
struct UpdateNodes {
    let records: UnsafeBufferPointer<TreeNodeRecord>
    let halves: UnsafeBufferPointer<SIMD2<Int32>>
    let carried: UnsafeBufferPointer<TreeLeaf>

    /// The hash of the node `reference` names (created or carried).
    func hash(_ reference: Int32) -> Hash {
        reference >= 0 ? records[Int(reference)].hash : carried[TreePositionChanges.Reference.carriedIndex(reference)].hash
    }

    /// The bucket summary whose node is `reference` (`TreePositionChanges.Summary`).
    func summary(_ reference: Int32) throws(StateError) -> BucketSummary {
        if reference == TreePositionChanges.Reference.none { return .empty }
        if reference >= 0 {
            guard Int(reference) < records.count else { throw .corruptValue(key: "tree update", reason: "a summary of node \(reference) of \(records.count)") }
            switch records[Int(reference)].node {
            case .leaf(let leaf): return .leaf(leaf)
            case .inner: return .inner(records[Int(reference)].hash)
            }
        }
        guard reference != TreePositionChanges.Reference.stored, TreePositionChanges.Reference.carriedIndex(reference) < carried.count else {
            throw .corruptValue(key: "tree update", reason: "a bucket summary that is neither new nor moved")
        }
        return .leaf(carried[TreePositionChanges.Reference.carriedIndex(reference)])
    }
}

/// The one allocation of a `DecodedPage`: a header (the leaves' key bytes) and the page's parts at the offsets
/// `DecodedPage.Layout` names, in 8-byte words. Written once, by `make`, then only read.
final class PageBuffer: ManagedBuffer<Int, UInt64> {
    /// A buffer for `count` members and `keyBytes` bytes of leaf keys, filled by `fill` (given its first byte).
    static func make(count: Int, keyBytes: Int, fill: (UnsafeMutableRawPointer) -> Void) -> PageBuffer {
        let words = (DecodedPage.Layout.keys(count) + keyBytes + 7) / 8
        let buffer = unsafeDowncast(PageBuffer.create(minimumCapacity: words) { _ in keyBytes }, to: PageBuffer.self)
        buffer.withUnsafeMutablePointerToElements { fill(UnsafeMutableRawPointer($0)) }
        return buffer
    }

    /// Bytes of leaf keys at the buffer's end.
    var keyBytes: Int { header }

    /// Calls `body` with the buffer's first byte, read in place.
    @inline(__always)
    func withBytes<R>(_ body: (UnsafeRawPointer) -> R) -> R {
        withUnsafeMutablePointerToElements { body(UnsafeRawPointer($0)) }
    }
}
