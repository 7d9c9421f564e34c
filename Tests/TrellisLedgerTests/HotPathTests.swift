// HotPathTests.swift — the shortcuts taken for speed answer exactly what the slow paths answer: a transaction's
// kept hash, the flat-state reads of the mempool, and the tree's sorted output.
import Testing
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

@Suite struct HotPathTests {
    @Test func aTransactionsKeptHashIsTheHashOfItsCanonicalBytesThroughEveryChange() throws {
        var tx = TestNet.rotate("alice", add: "alice-2", nonce: 1)
        #expect(tx.hash == SHA256.hash(tx.canonicalBytes))
        let decoded = try Transaction.decode(tx.canonicalBytes)
        #expect(decoded.hash == tx.hash)
        #expect(decoded == tx)
        // Inside a block, the hash comes from the block's own bytes.
        let other = TestNet.rotate("core", add: "core-2", nonce: 1)
        var encoder = CanonicalEncoder()
        encoder.encode([tx, other])
        var decoder = CanonicalDecoder(encoder.bytes)
        let both = try decoder.decodeArray(Transaction.self)
        try decoder.finish()
        #expect(both.map { $0.hash } == [tx.hash, other.hash])
        // Any change of body or signatures moves the hash with it (tampering is never hidden by a stale id).
        let before = tx.hash
        tx.body.nonce = 2
        #expect(tx.hash != before)
        #expect(tx.hash == SHA256.hash(tx.canonicalBytes))
        tx.signatures = []
        #expect(tx.hash == SHA256.hash(tx.canonicalBytes))
    }

    @Test func derivedIDsAreThePrefixAndTheFirst20HexDigitsOfTheHash() {
        // The definition (docs/TRANSACTIONS.md), written the slow way: "<prefix>-" + hex(SHA-256(tx hash ‖ u32 index))[0..<20].
        for (prefix, index) in [("cert", UInt32(0)), ("cert", 1), ("fin", 7), ("x", .max), ("", 2)] {
            let txHash = SHA256.hash(Array("tx-\(prefix)-\(index)".utf8))
            var input = txHash.bytes
            input += [UInt8(index >> 24), UInt8(index >> 16 & 0xFF), UInt8(index >> 8 & 0xFF), UInt8(index & 0xFF)]
            let expected = prefix + "-" + String(SHA256.hash(input).hex.prefix(20))
            #expect(ExecutionContext.derivedID(prefix, txHash: txHash, index: index) == expected)
        }
    }

    @Test func signatureChecksCoverTheDomainTagTheChainAndTheBody() {
        let tx = TestNet.rotate("alice", add: "alice-2", nonce: 1)
        let expected = Array("trellis/v1/tx".utf8) + [0] + Array(tx.body.chainID.utf8) + [0] + tx.body.canonicalBytes
        #expect(tx.body.signBytes == expected)
        #expect(tx.signatureChecks.allSatisfy { $0.message == expected && $0.publicKey.verify($0.signature, message: expected) })
        #expect(tx.hasRequiredSigners)
        var stranger = tx
        stranger.signatures = [TransactionSignature(memberID: "bob", publicKey: tx.signatures[0].publicKey, signature: tx.signatures[0].signature)]
        #expect(!stranger.hasRequiredSigners)
        stranger.signatures = []
        #expect(!stranger.hasRequiredSigners)
    }

    @Test func latestFlatReadsAgreeWithTreeReads() throws {
        let chain = try TestChain(net: TestNet())
        for txs in scenarioBlocks() { try chain.commitNext(txs) }
        let reader = chain.engine.reader
        for id in ["alice", "bob", "core", "ghost"] {
            #expect(try reader.latest(Member.self, LedgerKeys.member(id)) == (try reader.query(Member.self, LedgerKeys.member(id)).value))
            #expect(try reader.latest(UInt64.self, LedgerKeys.nonce(id)) == (try reader.query(UInt64.self, LedgerKeys.nonce(id)).value))
        }
        #expect(try reader.latest(UInt64.self, LedgerKeys.nonce("alice")) == 4)
        // A value of another type at the key is a clear corrupt-value error, not a crash.
        #expect(throws: LedgerError.self) { try reader.latest(UInt64.self, LedgerKeys.member("alice")) }
    }

    @Test func overlayChangesAreInBytewiseKeyOrder() {
        let keys: [[UInt8]] = [[], [0], [0, 0], [1], [1, 0], Array("cert/a".utf8), Array("cert/ab".utf8), Array("cert/abcdefgh".utf8),
                               Array("cert/abcdefg".utf8), Array("cert/abcdefgi".utf8), Array("nonce/x".utf8), [0xff], [0xff, 0], [0x7f, 0xff]]
        let overlay = StateOverlay(base: MemoryState())
        for (i, k) in keys.reversed().enumerated() { if i % 3 == 0 { overlay.delete(k) } else { overlay.put(k, [UInt8(i)]) } }
        #expect(overlay.changes.map(\.key) == keys.sorted { $0.lexicographicallyPrecedes($1) })
    }

    @Test func treeUpdatesListNewNodesOnceInAnOrderThatDoesNotDependOnTheInput() throws {
        let store = MemoryChainStore()
        let changes = (0..<300).map { i in (key: Array("k/\(i)".utf8), value: Optional(Array("v\(i)".utf8))) }
        let update = try SparseMerkleTree.update(root: .zero, changes: changes, source: store)
        #expect(Set(update.newNodes.map(\.hash)).count == update.newNodes.count)
        #expect(update.newNodes.allSatisfy { $0.node.hash == $0.hash })
        // The same key set applied in reverse order of input gives the same root and nodes.
        let reversed = try SparseMerkleTree.update(root: .zero, changes: changes.reversed(), source: store)
        #expect(reversed.root == update.root)
        #expect(reversed.newNodes == update.newNodes)
    }
}

/// The membership contract's key arithmetic and key index, written without sets and strings, give exactly what the
/// set and string forms give.
@Suite struct MembershipHotPathTests {
    @Test func rotatedKeysAreTheSetDifferenceAndUnionSorted() throws {
        let pool = try (0..<12).map { i in try PublicKey(bytes: SHA256.hash([UInt8(i)]).bytes) }
        var rng = SplitMix64(seed: 11)
        func pick() -> [PublicKey] { Array(Set((0..<rng.below(6)).map { _ in pool[rng.below(pool.count)] })).sorted() }
        for _ in 0..<300 {
            let keys = pick(), removing = pick(), adding = pick()
            let expected = Set(keys).subtracting(removing).union(adding).sorted()
            #expect(MembershipContract.rotated(keys, removing: removing, adding: adding) == expected)
        }
    }

    @Test func stateKeysAreTheJoinedPathsBytes() {
        for id in ["alice", "m12", "a.b:c-d_e", "", "ünïcode"] {
            #expect(LedgerKeys.member(id) == Array("member/\(id)".utf8))
            #expect(LedgerKeys.nonce(id) == Array("nonce/\(id)".utf8))
            #expect(StateKey.make("governance", "proposal", id) == Array(["governance", "proposal", id].joined(separator: "/").utf8))
            #expect(StateKey.make("cert", id) == Array(["cert", id].joined(separator: "/").utf8))
            #expect(StateKey.make(id, "x", id) == StateKey.make([id, "x", id]))
            #expect(StateKey.make("a", "b", "c", id) == Array(["a", "b", "c", id].joined(separator: "/").utf8))
        }
        #expect(StateKey.make([]) == [])
        #expect(StateKey.make("one") == Array("one".utf8))
    }

    @Test func theMemberKeyIndexKeyIsThePathOfTheKeysHex() throws {
        for i in 0..<20 {
            let key = try PublicKey(bytes: SHA256.hash([UInt8(i), 0xfe]).bytes)
            #expect(LedgerKeys.memberKey(key) == StateKey.make("member_key", key.hex))
        }
    }

    @Test func aPublicKeysHashFollowsItsBytes() throws {
        let a = try PublicKey(bytes: [UInt8](repeating: 1, count: 32)), b = try PublicKey(bytes: [UInt8](repeating: 1, count: 32))
        let c = try PublicKey(bytes: [UInt8](repeating: 1, count: 31) + [2])
        #expect(a.hashValue == b.hashValue)
        #expect(Set([a, b, c]).count == 2)
    }
}

/// A block's overlays reuse a member they decoded only while the member's stored bytes are the same: a member
/// changed in the block (by this transaction, or by an earlier one merged into the block) reads as changed.
@Suite struct DecodedMemberTests {
    @Test func aMemberChangedInTheBlockIsReadAsChanged() throws {
        let key = LedgerKeys.member("alice")
        let base = MemoryState()
        let seed = StateOverlay(base: base)
        let alice = Member(memberID: "alice", legalName: "Alice", registrationNo: "1", publicKeys: [], roles: [.supplier])
        seed.write(alice, at: key)
        base.apply(seed)

        let block = StateOverlay(base: base)
        #expect(try block.read(Member.self, key) == alice)
        #expect(block.decodedMembers.entries.count == 1)
        let tx = StateOverlay(base: block)
        #expect(tx.decodedMembers === block.decodedMembers)
        #expect(try tx.read(Member.self, key) == alice)  // the block's decoding, reused
        var suspended = alice
        suspended.status = .suspended
        tx.write(suspended, at: key)
        #expect(try tx.read(Member.self, key) == suspended)
        #expect(try block.read(Member.self, key) == alice)  // not merged yet
        tx.merge(into: block)
        #expect(try block.read(Member.self, key) == suspended)
        #expect(try StateOverlay(base: block).read(Member.self, key) == suspended)
        #expect(try block.read(Member.self, LedgerKeys.member("nobody")) == nil)
        // The reader's own answer for other types is a plain decoding.
        block.write(UInt64(7), at: LedgerKeys.nonce("alice"))
        #expect(try block.read(UInt64.self, LedgerKeys.nonce("alice")) == 7)
    }
}

/// A transaction written in place on a block's overlay (`beginTransaction`) reads like an overlay of its own stacked on
/// the block's, and leaves exactly the block's earlier writes when rolled back, exactly its own added when committed.
@Suite struct TransactionJournalTests {
    static let a = StateKey.make("k", "a"), b = StateKey.make("k", "b"), c = StateKey.make("k", "c"), d = StateKey.make("k", "d")

    /// A block overlay over a base holding a and c, with b written and c deleted by the block.
    func block() throws -> StateOverlay {
        let base = MemoryState()
        let seed = StateOverlay(base: base)
        seed.put(Self.a, [1])
        seed.put(Self.c, [3])
        base.apply(seed)
        let block = StateOverlay(base: base)
        block.put(Self.b, [2])
        block.delete(Self.c)
        return block
    }

    func snapshot(_ overlay: StateOverlay) throws -> [[UInt8]?] {
        try [Self.a, Self.b, Self.c, Self.d].map { try overlay.get($0) }
    }

    @Test func aRolledBackTransactionLeavesTheBlocksWritesAsTheyWere() throws {
        let block = try block()
        let before = block.changes
        #expect(try snapshot(block) == [[1], [2], nil, nil])
        block.beginTransaction()
        block.put(Self.a, [9])
        block.put(Self.b, [8])
        block.delete(Self.b)
        block.put(Self.c, [7])
        block.put(Self.d, [6])
        block.put(Self.d, [5])
        block.delete(Self.a)
        #expect(try snapshot(block) == [nil, nil, [7], [5]])
        block.rollbackTransaction()
        #expect(try snapshot(block) == [[1], [2], nil, nil])
        #expect(block.changes.map(\.key) == before.map(\.key))
        #expect(block.changes.map(\.value) == before.map(\.value))
    }

    @Test func aCommittedTransactionWritesWhatAnOverlayOfItsOwnMergedWould() throws {
        let inPlace = try block(), merged = try block()
        let tx = StateOverlay(base: merged)
        inPlace.beginTransaction()
        for overlay in [inPlace, tx] {
            overlay.put(Self.a, [9])
            overlay.delete(Self.b)
            overlay.put(Self.c, [7])
            overlay.put(Self.d, [6])
        }
        #expect(try snapshot(inPlace) == snapshot(tx))
        inPlace.commitTransaction()
        tx.merge(into: merged)
        #expect(inPlace.changes.map(\.key) == merged.changes.map(\.key))
        #expect(inPlace.changes.map(\.value) == merged.changes.map(\.value))
        // The journal is cleared: a later rollback undoes only the later transaction.
        inPlace.beginTransaction()
        inPlace.put(Self.a, [0])
        inPlace.rollbackTransaction()
        #expect(try snapshot(inPlace) == [[9], nil, [7], [6]])
    }
}

/// `StateOverlay.changes` sorts bytewise whatever the keys share: long common prefixes (past the 32 bytes its sort
/// compares as words), zero bytes (a shorter key pads with zeros), empty keys.
@Suite struct OverlayChangesOrderTests {
    @Test func changesAreInBytewiseKeyOrder() throws {
        let overlay = StateOverlay(base: MemoryState())
        var keys: Set<[UInt8]> = [[], [0], [0, 0], [0xff]]
        var seed: UInt64 = 0x9e37_79b9_7f4a_7c15
        func next() -> UInt64 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return seed >> 33
        }
        let prefixes: [[UInt8]] = [[], Array("certby/supplier1/cert-".utf8), Array(repeating: 0x61, count: 31), Array(repeating: 0, count: 32), Array(repeating: 0x61, count: 33)]
        for _ in 0..<600 {
            var key = prefixes[Int(next() % UInt64(prefixes.count))]
            for _ in 0..<Int(next() % 6) { key.append([0, 1, 0x61, 0xff][Int(next() % 4)]) }
            keys.insert(key)
        }
        for (i, key) in keys.enumerated() {
            if i % 3 == 0 { overlay.delete(key) } else { overlay.put(key, [UInt8(i & 0xff)]) }
        }
        let sorted = keys.sorted { ByteOrder.less($0, $1) }
        #expect(overlay.changes.map(\.key) == sorted)
        #expect(overlay.changes.count == keys.count)
    }
}

/// The value hashes execution hands to the tree and the store are SHA-256 of the values, the empty values of index
/// entries included (their hash is taken from a constant).
@Suite struct NetChangeValueHashTests {
    @Test func everyChangeCarriesTheHashOfItsValue() throws {
        let base = MemoryState()
        let seed = StateOverlay(base: base)
        seed.put(StateKey.make("k", "old"), [1])
        seed.put(StateKey.make("k", "gone"), [])
        base.apply(seed)
        let block = StateOverlay(base: base)
        block.put(StateKey.make("k", "index"), [])
        block.put(StateKey.make("k", "old"), [2, 3])
        block.put(StateKey.make("k", "same"), [])
        block.delete(StateKey.make("k", "gone"))
        block.delete(StateKey.make("k", "never"))
        let changes = try BlockExecutor.netChanges(block)
        #expect(changes.map { String(decoding: $0.key, as: UTF8.self) } == ["k/gone", "k/index", "k/old", "k/same"])
        for change in changes {
            #expect(change.valueHash == change.value.map { SHA256.hash($0) })
        }
        #expect(changes.first?.valueHash == nil)
        #expect(changes[1].valueHash == SHA256.hash([]))
    }

    /// The key hashes execution hands to the tree (two at a time where consecutive kept keys have one length) are
    /// SHA-256 of the kept changes' keys, in their order — dropped writes between them included, keys of every
    /// length —, and the tree updated with them is the tree updated from the keys: same root, same nodes created and
    /// replaced, in the same order.
    @Test func everyChangeCarriesTheHashOfItsKeyAndTheTreeIsTheSame() throws {
        let base = MemoryState()
        let seed = StateOverlay(base: base)
        for i in 0..<40 { seed.put(StateKey.make("k", "held-\(i)"), [UInt8(i)]) }
        base.apply(seed)
        let nodes = DictionaryNodes()
        let baseUpdate = try SparseMerkleTree.update(root: .zero, changes: seed.changes, source: nodes)
        nodes.add(baseUpdate)

        let block = StateOverlay(base: base)
        for i in 0..<40 where i % 3 != 0 { block.put(StateKey.make("k", "held-\(i)"), [UInt8(i), 1]) }  // changed
        for i in 0..<40 where i % 5 == 0 { block.delete(StateKey.make("k", "held-\(i)")) }              // removed
        for i in 0..<40 where i % 7 == 0 { block.put(StateKey.make("k", "held-\(i)"), [UInt8(i)]) }     // written back
        for i in 0..<30 { block.put(StateKey.make("k", String(repeating: "n", count: 1 + i % 9) + "\(i)"), i % 2 == 0 ? [] : [UInt8(i)]) }
        block.delete(StateKey.make("k", "never"))  // absent: dropped
        let (changes, keyHashes) = try BlockExecutor.netChangesAndKeyHashes(block, hashingKeys: true)
        #expect(changes.count > 40)
        #expect(keyHashes == changes.map { SHA256.hash($0.key) })
        #expect(try BlockExecutor.netChangesAndKeyHashes(block, hashingKeys: false).keyHashes == nil)

        let given = try SparseMerkleTree.update(root: baseUpdate.root, changes: changes, keyHashes: try #require(keyHashes), source: nodes)
        let computed = try SparseMerkleTree.update(root: baseUpdate.root, changes: changes.map { ($0.key, $0.value) }, source: nodes)
        #expect(given.root == computed.root)
        #expect(given.newNodes.map(\.hash) == computed.newNodes.map(\.hash))
        #expect(given.newNodes.map(\.node) == computed.newNodes.map(\.node))
        #expect(given.staleNodes == computed.staleNodes)
        var expected: [[UInt8]: [UInt8]] = [:]
        for i in 0..<40 { expected[StateKey.make("k", "held-\(i)")] = [UInt8(i)] }
        for change in changes { expected[change.key] = change.value }
        #expect(given.root == referenceRoot(expected))
    }

    /// Key hashes that do not line up with their changes (reordered) stop the process rather than place leaves on
    /// other keys' paths — in release builds too (first, middle and last pairs are checked there).
    @Test func misalignedKeyHashesStopTheProcess() async {
        await #expect(processExitsWith: .failure) {
            let changes = (0..<5).map { StateChange(key: StateKey.make("k", "key-\($0)"), value: [UInt8($0)]) }
            let hashes = changes.map { SHA256.hash($0.key) }
            _ = try? SparseMerkleTree.update(root: .zero, changes: changes, keyHashes: Array(hashes.reversed()), source: DictionaryNodes())
        }
    }
}

/// State keys built in place are the UTF-8 of the components joined by "/", whatever the components: empty,
/// small (inline) or long strings, non-ASCII.
@Suite struct StateKeyBytesTests {
    @Test func keysAreTheJoinedComponentsUTF8() {
        let parts = ["", "a", "cert", "supplier1", "cert-0123456789abcdef0123", "naïve-日本", String(repeating: "x", count: 300)]
        for a in parts {
            #expect(StateKey.make(prefix: [], a) == Array(a.utf8))
            #expect(StateKey.make(prefix: Array("member/".utf8), a) == Array("member/\(a)".utf8))
            for b in parts {
                #expect(StateKey.make(a, b) == Array("\(a)/\(b)".utf8))
                #expect(StateKey.make([a, b]) == Array("\(a)/\(b)".utf8))
                for c in parts {
                    #expect(StateKey.make(a, b, c) == Array("\(a)/\(b)/\(c)".utf8))
                }
            }
        }
    }
}

/// The receipts root built from one reused encoding buffer is the RFC 6962 root over each receipt's own hash, whatever
/// the order of long and short receipts (no bytes of one may reach the next); hex appended in place is `Hex.encode`.
@Suite struct ReceiptsRootTests {
    @Test func theRootIsOverEachReceiptsHash() {
        let long = Receipt(txHash: SHA256.hash([1]), index: 0, nonceConsumed: true, outcome: .rejected(code: "bad_nonce", message: String(repeating: "m", count: 900)))
        let ok = Receipt(txHash: SHA256.hash([2]), index: 1, nonceConsumed: true, outcome: .ok(createdIDs: ["cert-0123456789abcdef0123", "cert-2"]))
        let empty = Receipt(txHash: SHA256.hash([3]), index: 2, nonceConsumed: false, outcome: .ok(createdIDs: []))
        let kinds = [long, ok, empty]
        for n in [0, 1, 2, 3, 5, 17] {
            let receipts = (0..<n).map { i in
                let r = kinds[(i * 7 + n) % kinds.count]
                return Receipt(txHash: r.txHash, index: UInt32(i), nonceConsumed: r.nonceConsumed, outcome: r.outcome)
            }
            #expect(Receipt.root(receipts) == MerkleTree.root(leaves: receipts.map { SHA256.hash($0.canonicalBytes).bytes }))
        }
    }

    @Test func hexAppendedInPlaceIsTheEncoding() {
        for n in [0, 1, 2, 31, 32, 33, 100] {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 * 37 + 5) }
            var out = Array("member_key/".utf8)
            Hex.append(bytes, to: &out)
            #expect(out == Array(("member_key/" + Hex.encode(bytes)).utf8))
        }
    }
}
