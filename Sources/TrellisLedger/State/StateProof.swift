// StateProof.swift — membership and non-membership proofs for the authenticated state, checkable offline.
//
// A proof is the sibling hashes along SHA-256(key)'s path from the root down to where the path ends, and what it
// ends at: an empty subtree, or a leaf (its key hash and value hash). It proves
//   - membership of (key, value) when the leaf's key hash is SHA-256(key) and its value hash is SHA-256(value);
//   - absence of key when the path ends empty, or at a leaf of another key that shares the path so far.
// `verify` needs only SHA-256: an auditor can reimplement it from docs/LEDGER.md in any language.
import TrellisCodec
import TrellisCrypto

/// Where a proof's path ends.
public enum ProofTerminal: Sendable, Hashable, CanonicalCodable {
    case empty
    case leaf(keyHash: Hash, valueHash: Hash)

    public func encode(to encoder: inout CanonicalEncoder) {
        switch self {
        case .empty: encoder.encode(UInt8(0))
        case .leaf(let k, let v):
            encoder.encode(UInt8(1))
            encoder.encode(k)
            encoder.encode(v)
        }
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        switch try decoder.decodeTag() {
        case 0: self = .empty
        case 1: self = .leaf(keyHash: try decoder.decode(Hash.self), valueHash: try decoder.decode(Hash.self))
        case let tag: throw .unknownTag(type: "ProofTerminal", tag: tag)
        }
    }
}

/// A proof that a key holds a value (or holds none) under a state root.
public struct StateProof: Sendable, Hashable, CanonicalCodable {
    /// The longest possible path: one sibling per bit of a SHA-256 key hash.
    public static let maxDepth = 256

    /// Sibling hashes from the root downwards; `siblings[i]` is the other child at depth i.
    public let siblings: [Hash]
    public let terminal: ProofTerminal

    public init(siblings: [Hash], terminal: ProofTerminal) {
        self.siblings = siblings
        self.terminal = terminal
    }

    /// True when this proof shows that `key` holds `value` (or, with `value == nil`, holds nothing) in the state
    /// whose root is `root`.
    public func verify(key: [UInt8], value: [UInt8]?, root: Hash) -> Bool {
        StateProof.verify(self, key: key, value: value, root: root)
    }

    /// The offline check (pure: SHA-256 only).
    public static func verify(_ proof: StateProof, key: [UInt8], value: [UInt8]?, root: Hash) -> Bool {
        guard proof.siblings.count <= maxDepth else { return false }
        let keyHash = SHA256.hash(key)
        let depth = proof.siblings.count
        var node: Hash
        switch (proof.terminal, value) {
        case (.empty, nil):
            node = .zero
        case (.empty, .some):
            return false
        case (.leaf(let leafKey, let valueHash), .some(let v)):
            guard leafKey == keyHash, valueHash == SHA256.hash(v) else { return false }
            node = TreeLeaf.hash(keyHash: leafKey, valueHash: valueHash)
        case (.leaf(let leafKey, let valueHash), nil):
            // Absence: another key's leaf sits where `key`'s path ends; it must share the path walked so far.
            guard leafKey != keyHash else { return false }
            for i in 0..<depth where leafKey.bit(i) != keyHash.bit(i) { return false }
            node = TreeLeaf.hash(keyHash: leafKey, valueHash: valueHash)
        }
        for i in stride(from: depth - 1, through: 0, by: -1) {
            let sibling = proof.siblings[i]
            node = keyHash.bit(i) == 0 ? TreeNode.innerHash(node, sibling) : TreeNode.innerHash(sibling, node)
        }
        return node == root
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(siblings)
        encoder.encode(terminal)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        siblings = try decoder.decodeArray(Hash.self, maxCount: StateProof.maxDepth)
        terminal = try decoder.decode(ProofTerminal.self)
    }
}
