// StoredPage+Check.swift — the page decoder's contract, checked on any bytes: the entry of TrellisFuzzing's
// `tree_page` target (a `nodes` row is read from disk, which the store does not trust: docs/LEDGER.md, "Storage of
// the tree"). The decoder never traps and refuses bad bytes with a typed `StateError`; a page it accepts has every
// member hashing to its hash exactly as `TreeLeaf` and `TreeNode.innerHash` hash one node at a time (the decoder
// hashes two at a time), re-encodes to exactly its bytes (one encoding per page), and the page the encoder builds
// for the cache from it holds the same members at the same positions (`DecodedPage.sameMembers(as:)`).
import TrellisCrypto

/// The page decoder's contract on arbitrary bytes (for the fuzz harness, and its seeds).
public enum TreePageCheck {
    /// nil when `bytes` keep the contract (refused with a `StateError`, or accepted and consistent), else what broke.
    public static func violation(_ bytes: [UInt8]) -> String? {
        let page: DecodedPage
        do { page = try DecodedPage.decode(bytes, label: .hash(.zero)) } catch { return nil }
        for index in 0..<page.count {
            let hash = page.hash(at: index)
            let node = page.node(at: index)
            switch node {
            case .leaf(let leaf):
                guard leaf.keyHash == SHA256.hash(leaf.key), TreeLeaf.hash(keyHash: leaf.keyHash, valueHash: leaf.valueHash) == hash else {
                    return "leaf member \(index) does not hash to the hash the decoder gave it"
                }
            case .inner(let left, let right):
                guard TreeNode.innerHash(left, right) == hash else { return "inner member \(index) does not hash to the hash the decoder gave it" }
            }
            guard page.member(hash) != nil, page.member(hash, at: positionOf(index, in: page)) == page.member(hash) else {
                return "member \(index) is not found by its hash"
            }
        }
        var encoder = PageEncoder()
        let built: DecodedPage?
        do { built = try encoder.encode(rootHash: page.root, root: page.rootNode, decoded: true, members: Members(page: page)) } catch {
            return "an accepted page does not encode again: \(error)"
        }
        guard encoder.bytes == bytes else { return "an accepted page encodes to other bytes (\(encoder.bytes.count) for \(bytes.count))" }
        guard let built, built.sameMembers(as: page) else { return "the encoder's page differs from the decoded one" }
        return nil
    }

    /// The position (`PagePositions`) of member `index`, or 0 when it has none.
    private static func positionOf(_ index: Int, in page: DecodedPage) -> Int {
        (1..<32).first { page.positions.member(at: $0) == index } ?? 0
    }

    /// A decoded page's members for its encoder, by position: the member there, else (4 levels down) the page below.
    private struct Members: PageMembers {
        let page: DecodedPage

        func member(_ hash: Hash, level: Int, position: Int) throws(StateError) -> DecodedPage.Member {
            if let index = page.positions.member(at: position), index < page.count, page.hash(at: index) == hash { return .node(page.node(at: index)) }
            guard level == TreePage.levels else { throw .corruptValue(key: "tree page", reason: "no member at position \(position)") }
            return .pageRoot
        }
    }

    /// The pages (root page and those below, in the stored format) of small trees: one key, two, three, 40 and
    /// 400 — the fuzz target's seeds —, and a full page (15 inner members, 16 leaves 4 levels down) whose leaves'
    /// keys are 300 bytes or longer (review 22, F2: the small trees' pages hold at most 6 leaves of 12-byte keys).
    public static func samplePages() throws -> [[UInt8]] {
        var out: [[UInt8]] = [try fullPage()]
        for count in [1, 2, 3, 40, 400] {
            let changes = (0..<count).map { (key: Array("seed-key-\($0)".utf8), value: Optional([UInt8(truncatingIfNeeded: $0)])) }
            let update = try SparseMerkleTree.update(root: .zero, changes: changes, source: MemoryChainStore())
            var nodes: [Hash: TreeNode] = [:]
            for record in update.newNodes { nodes[record.hash] = record.node }
            // Pages rooted at depths 0, 4 and 8 (the first of each depth; deeper ones add nothing new to the format).
            var stack: [(hash: Hash, depth: Int)] = [(update.root, 0)]
            var depthsSeen = Set<Int>()
            while let (hash, depth) = stack.popLast() {
                guard let node = nodes[hash] else { continue }
                if depth % TreePage.levels == 0, depth <= 8, depthsSeen.insert(depth).inserted {
                    let encoded = try DecodedPage.encode(rootHash: hash, root: node, decoded: false) { (member: Hash, level: Int) throws(StateError) in
                        if let node = nodes[member] { return .node(node) }
                        return .pageRoot
                    }
                    out.append(encoded.bytes)
                }
                if case .inner(let left, let right) = node {
                    for child in [right, left] where child != .zero { stack.append((child, depth + 1)) }
                }
            }
        }
        return out
    }

    /// The root page of a tree of 16 keys whose hashes start with 16 different nibbles: every leaf 4 levels down.
    /// Keys of 300 bytes and more (a length's high byte set).
    static func fullPage() throws -> [UInt8] {
        var byNibble = [[UInt8]?](repeating: nil, count: 16)
        var n = 0
        while byNibble.contains(where: { $0 == nil }) {
            let key = [UInt8](repeating: 0x6b, count: 300 + n) + Array("full-page-\(n)".utf8)
            let nibble = Int(SHA256.hash(key).bytes[0] >> 4)
            if byNibble[nibble] == nil { byNibble[nibble] = key }
            n += 1
        }
        let changes = byNibble.enumerated().map { (key: $0.element!, value: Optional([UInt8(truncatingIfNeeded: $0.offset)])) }
        let update = try SparseMerkleTree.update(root: .zero, changes: changes, source: MemoryChainStore())
        var nodes: [Hash: TreeNode] = [:]
        for record in update.newNodes { nodes[record.hash] = record.node }
        guard let root = nodes[update.root] else { throw StateError.corruptValue(key: "tree page", reason: "the full sample page has no root") }
        let encoded = try DecodedPage.encode(rootHash: update.root, root: root, decoded: true) { (member: Hash, level: Int) throws(StateError) in
            if let node = nodes[member] { return .node(node) }
            return .pageRoot
        }
        precondition(encoded.page?.count == DecodedPage.maxMembers, "the full sample page holds \(encoded.page?.count ?? 0) members")
        return encoded.bytes
    }
}
