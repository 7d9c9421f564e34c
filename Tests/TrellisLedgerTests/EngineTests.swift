// EngineTests.swift — determinism across stores and backends, crash/reopen, one synced batch per block, header
// checks validators apply, certificates, and proofs at retained heights.
import Foundation
import Testing
import TrellisCodec
import TrellisCrypto
import TrellisStore
@testable import TrellisLedger

/// A fixed sequence of blocks mixing successes, rule rejections and governance.
func scenarioBlocks() -> [[Transaction]] {
    [
        [TestNet.rotate("alice", add: "alice-2", nonce: 1), TestNet.propose("gov1", .suspendMember(memberID: "bob"), nonce: 1)],
        [TestNet.rotate("core", add: "core-2", nonce: 1),
         TestNet.tx("alice", MembershipContract.rotateKeys, RotateKeysPayload(addKeys: [testKey("core").publicKey], removeKeys: []), nonce: 2)],
        [],
        [TestNet.rotate("alice", add: "alice-3", nonce: 3), TestNet.rotate("verifier", add: "verifier-2", nonce: 1),
         TestNet.propose("gov2", .setRoles(memberID: "alice", roles: [.supplier, .participant]), nonce: 1)],
        [TestNet.rotate("regulator", add: "regulator-2", nonce: 1)],
        [TestNet.tx("alice", MembershipContract.rotateKeys, RotateKeysPayload(addKeys: [], removeKeys: [testKey("alice").publicKey]), nonce: 4)],
    ]
}

@Suite struct EngineTests {
    @Test func twoStoresAndBothBackendsProduceIdenticalChains() throws {
        let path = temporaryPath("determinism")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let a = try TestChain(net: TestNet())
        let b = try TestChain(net: TestNet())
        let rocks = try TestChain(net: TestNet(), store: try RocksChainStore(path: path))
        #expect(a.engine.stateRoot == rocks.engine.stateRoot)
        for txs in scenarioBlocks() {
            let (blockA, receiptsA, _) = try a.commitNext(txs)
            let (blockB, receiptsB, _) = try b.commitNext(txs)
            try rocks.commit(blockA)   // validates by re-executing, then commits
            #expect(blockA.canonicalBytes == blockB.canonicalBytes)
            #expect(receiptsA.map(\.canonicalBytes) == receiptsB.map(\.canonicalBytes))
            #expect(rocks.engine.stateRoot == blockA.header.stateRoot)
            for (tx, receipt) in zip(blockA.transactions, receiptsA) {
                #expect(try rocks.engine.receipt(tx.hash)?.receipt.canonicalBytes == receipt.canonicalBytes)
            }
        }
        #expect(a.engine.currentHeight == 6 && rocks.engine.currentHeight == 6)
        // Every RocksDB commit, genesis's included, took the positions its update recorded: none fell back to the walk
        // (review N6); the in-memory chain's updates recorded none.
        let store = try #require(rocks.store as? RocksChainStore)
        #expect(store.treeCommitsFromPositions == 7 && store.treeCommitsWalked == 0)
        #expect(try a.makeBlock(scenarioBlocks()[0]).result.treePositions == nil)
        #expect(try a.engine.reader.member("bob").value?.status == .active)  // the proposal never reached quorum
    }

    @Test func reopeningMidChainResumesWithTheSameRoots() throws {
        let path = temporaryPath("reopen")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reference = try TestChain(net: TestNet())
        var roots: [Hash] = []
        for txs in scenarioBlocks() { roots.append(try reference.commitNext(txs).block.header.stateRoot) }

        var lastCommit: CommitCertificate?
        do {
            let first = try TestChain(net: TestNet(), store: try RocksChainStore(path: path))
            for txs in scenarioBlocks().prefix(3) { try first.commitNext(txs) }
            lastCommit = first.lastCommit
        }  // the store (and RocksDB) closes here: a restart
        let second = try TestChain(net: TestNet(), store: try RocksChainStore(path: path))
        #expect(second.engine.currentHeight == 3)
        #expect(second.engine.stateRoot == roots[2])
        #expect(second.lastCommit == lastCommit)
        for txs in scenarioBlocks().dropFirst(3) { try second.commitNext(txs) }
        #expect(second.engine.stateRoot == roots[5])
        #expect(try second.engine.reader.stateRoot(atHeight: 4) == roots[3])
    }

    @Test func memoryStoreSurvivesASimulatedCrashWithSyncedWritesOnly() throws {
        let store = MemoryChainStore()
        let chain = try TestChain(net: TestNet(), store: store)
        try chain.commitNext(scenarioBlocks()[0])
        try store.putConsensusValue(Array("sign".utf8), [1], sync: true)
        try store.putConsensusValue(Array("wal".utf8), [2], sync: false)
        store.simulateCrash()
        try chain.reopen()
        #expect(chain.engine.currentHeight == 1)
        #expect(try store.consensusValue(Array("sign".utf8)) == [1])
        #expect(try store.consensusValue(Array("wal".utf8)) == nil)
        try chain.commitNext(scenarioBlocks()[1])
        #expect(chain.engine.currentHeight == 2)
    }

    @Test func oneBatchPerCommittedBlock() throws {
        let store = MemoryChainStore()
        let chain = try TestChain(net: TestNet(), store: store)
        #expect(store.commitCount == 1)  // genesis
        for txs in scenarioBlocks() { try chain.commitNext(txs) }
        #expect(store.commitCount == 1 + scenarioBlocks().count)
        #expect(throws: ChainStoreError.heightMismatch(expected: 7, actual: 3)) {
            try store.commit(BlockCommit(height: 3, block: try store.block(atHeight: 3), certificate: nil, stateChanges: [], treeNodes: [],
                                         stateRoot: .zero, transactions: [], genesisHash: nil))
        }
    }

    /// The receipts a commit publishes come from the commit itself, and they are the ones the store indexed.
    @Test func theLastCommitsReceiptsAreKeptAndMatchTheStore() throws {
        let store = MemoryChainStore()
        let chain = try TestChain(net: TestNet(), store: store)
        var previous: Block?
        for txs in scenarioBlocks() {
            let committed = try chain.commitNext(txs)
            let kept = try #require(chain.engine.lastCommittedReceipts)
            #expect(kept.height == committed.block.header.height)
            #expect(kept.receipts == committed.receipts)
            let stored = try committed.block.transactions.map { try #require(try store.transactionRecord($0.hash)).receipt }
            #expect(chain.engine.committedReceipts(committed.block) == stored)
            if let previous {  // an older block: read back from the transaction index
                let older = try previous.transactions.map { try #require(try store.transactionRecord($0.hash)).receipt }
                #expect(chain.engine.committedReceipts(previous) == older)
            }
            previous = committed.block
        }
    }

    func validationError(_ body: () throws -> Void) -> BlockValidationError? {
        do { try body() } catch let LedgerError.invalidBlock(e) { return e } catch { return nil }
        return nil
    }

    @Test func validatorsRefuseWrongHeaderFields() throws {
        let chain = try TestChain(net: TestNet())
        try chain.commitNext(scenarioBlocks()[0])
        let good = try chain.makeBlock(scenarioBlocks()[1]).block
        func mutated(_ change: (inout Block) -> Void) -> Block { var b = good; change(&b); return b }
        let engine = chain.engine
        let other = try #require(Hash(bytes: [UInt8](repeating: 0xAB, count: 32)))

        if case .wrongStateRoot = validationError({ try engine.validate(mutated { $0.header.stateRoot = other }) }) {} else { Issue.record("state root") }
        if case .wrongTxRoot = validationError({ try engine.validate(mutated { $0.header.txRoot = other }) }) {} else { Issue.record("tx root") }
        if case .wrongTxCount = validationError({ try engine.validate(mutated { $0.transactions.removeLast() }) }) {} else { Issue.record("dropped tx") }
        if case .wrongTxRoot = validationError({ try engine.validate(mutated { $0.transactions.removeLast(); $0.header.txCount -= 1 }) }) {} else { Issue.record("dropped tx, count fixed") }
        if case .wrongTxCount = validationError({ try engine.validate(mutated { $0.header.txCount += 1 }) }) {} else { Issue.record("tx count") }
        if case .wrongReceiptsRoot = validationError({ try engine.validate(mutated { $0.header.receiptsRoot = other }) }) {} else { Issue.record("receipts root") }
        if case .wrongAppVersion = validationError({ try engine.validate(mutated { $0.header.appVersion = AppVersion.initial + 1 }) }) {} else { Issue.record("app version") }
        if case .wrongPreviousBlockHash = validationError({ try engine.validate(mutated { $0.header.previousBlockHash = other }) }) {} else { Issue.record("prev hash") }
        if case .wrongValidatorSetHash = validationError({ try engine.validate(mutated { $0.header.validatorSetHash = other }) }) {} else { Issue.record("validator set") }
        if case .wrongNextValidatorSetHash = validationError({ try engine.validate(mutated { $0.header.nextValidatorSetHash = other }) }) {} else { Issue.record("next set") }
        if case .timeNotAfterPrevious = validationError({ try engine.validate(mutated { $0.header.time = engine.lastBlockTime }) }) {} else { Issue.record("time") }
        if case .wrongChainID = validationError({ try engine.validate(mutated { $0.header.chainID = "other" }) }) {} else { Issue.record("chain id") }
        if case .wrongHeight = validationError({ try engine.validate(mutated { $0.header.height = 5 }) }) {} else { Issue.record("height") }
        if case .proposerNotValidator = validationError({ try engine.validate(mutated { $0.header.proposer = testKey("mallory").publicKey }) }) {} else { Issue.record("proposer") }
        if case .missingLastCommit = validationError({ try engine.validate(mutated { $0.lastCommit = nil; $0.header.lastCommitHash = .zero }) }) {} else { Issue.record("last commit") }
        if case .wrongLastCommitHash = validationError({ try engine.validate(mutated { $0.header.lastCommitHash = other }) }) {} else { Issue.record("last commit hash") }
        // None of that touched the chain; the honest block still commits.
        #expect(engine.currentHeight == 1)
        try chain.commit(good)
        #expect(engine.currentHeight == 2)
    }

    @Test func certificatesWithoutQuorumOrForAnotherBlockAreRefused() throws {
        let chain = try TestChain(net: TestNet())
        let block = try chain.makeBlock([]).block
        let full = try chain.certify(block)
        let weak = CommitCertificate(height: 1, round: 0, blockID: block.hash, signatures: Array(full.signatures.prefix(2)))
        #expect(throws: LedgerError.self) { try chain.engine.commit(block, certificate: weak) }
        var otherBlock = block
        otherBlock.header.round = 1
        let wrong = try chain.certify(otherBlock)
        #expect(throws: LedgerError.self) { try chain.engine.commit(block, certificate: wrong) }
        #expect(chain.engine.currentHeight == 0)
        try chain.engine.commit(block, certificate: full)
        #expect(chain.engine.currentHeight == 1)
    }

    @Test func stateAtRetainedHeightsIsReadableAndProvable() throws {
        let chain = try TestChain(net: TestNet())
        for txs in scenarioBlocks() { try chain.commitNext(txs) }
        let reader = chain.engine.reader
        let atOne = try reader.member("alice", atHeight: 1, prove: true)
        let latest = try reader.member("alice", prove: true)
        let header1 = try #require(try chain.engine.block(at: 1)).header
        let proof1 = try #require(atOne.proof)
        let member1 = try #require(atOne.value)
        #expect(atOne.stateRoot == header1.stateRoot)
        #expect(proof1.verify(key: LedgerKeys.member("alice"), value: member1.canonicalBytes, root: header1.stateRoot))
        #expect(member1.publicKeys.count == 2)
        #expect(latest.value?.publicKeys.count == 2)  // +alice-3, −alice at height 6
        #expect(latest.value != member1)
        #expect(!proof1.verify(key: LedgerKeys.member("alice"), value: member1.canonicalBytes, root: latest.stateRoot))
        // Absence is provable too.
        let ghost = try reader.member("ghost", atHeight: 3, prove: true)
        #expect(ghost.value == nil)
        #expect(try #require(ghost.proof).verify(key: LedgerKeys.member("ghost"), value: nil, root: ghost.stateRoot))
        // The header commits to the receipts (root over the receipt hashes) and to the transaction count.
        let block2 = try #require(try chain.engine.block(at: 2))
        let receipts = try block2.transactions.map { try #require(try chain.engine.receipt($0.hash)).receipt }
        #expect(!receipts.isEmpty)
        #expect(block2.header.receiptsRoot == Receipt.root(receipts))
        #expect(block2.header.receiptsRoot == MerkleTree.root(leaves: receipts.map { SHA256.hash($0.canonicalBytes).bytes }))
        #expect(Int(block2.header.txCount) == block2.transactions.count)
        #expect(block2.header.appVersion == AppVersion.initial)
        #expect(throws: LedgerError.self) { try reader.member("alice", atHeight: 99) }
    }

    @Test func storeRefusesAnotherFormatAndAnotherGenesis() throws {
        let path = temporaryPath("format")
        defer { try? FileManager.default.removeItem(atPath: path) }
        do { _ = try Database(path: path, columnFamilies: ["x"], format: StoreFormat(application: "trellis-ledger", version: 99)) }
        #expect(throws: ChainStoreError.self) { try RocksChainStore(path: path) }

        let store = MemoryChainStore()
        _ = try TestChain(net: TestNet(), store: store)
        let otherGenesis = try TestNet(quorum: 1)
        #expect(throws: LedgerError.self) { try LedgerEngine(genesis: otherGenesis.genesis, store: store) }
    }
}

@Suite struct ReaderTests {
    @Test func membersListAtLatestAndPastHeights() throws {
        let chain = try TestChain(net: TestNet(quorum: 1))
        let carol = Member(memberID: "carol", legalName: "Carol Ltd", registrationNo: "R", publicKeys: [testKey("carol").publicKey], roles: [.financier])
        try chain.commitNext([TestNet.propose("gov1", .addMember(carol), nonce: 1)])
        let latest = try chain.engine.reader.members()
        let genesis = try chain.engine.reader.members(atHeight: 0)
        #expect(latest.height == 1 && latest.members.map(\.memberID).contains("carol"))
        #expect(genesis.height == 0 && !genesis.members.map(\.memberID).contains("carol"))
        #expect(latest.members.count == genesis.members.count + 1)
        #expect(latest.members.map(\.memberID) == latest.members.map(\.memberID).sorted())
    }
}

@Suite struct EvidenceTests {
    func equivocation(by name: String, height: UInt64) throws -> DuplicateVoteEvidence {
        let key = testKey(name)
        let a = Vote.signed(VoteBody(type: .precommit, height: height, round: 0, blockID: SHA256.hash([1]), validator: key.publicKey), chainID: TestNet.chainID, key: key)
        let b = Vote.signed(VoteBody(type: .precommit, height: height, round: 0, blockID: SHA256.hash([2]), validator: key.publicKey), chainID: TestNet.chainID, key: key)
        return try #require(DuplicateVoteEvidence(a, b))
    }

    @Test func evidenceIsRecordedOnceAndProvable() throws {
        let chain = try TestChain(net: TestNet())
        try chain.commitNext([])
        let evidence = try equivocation(by: "validator2", height: 1)
        let proposer = try chain.engine.validatorSet(forHeight: 2).validators[0].publicKey
        let block = try chain.engine.buildBlock(height: 2, round: 0, time: chain.engine.lastBlockTime + 5, proposer: proposer,
                                                lastCommit: chain.lastCommit, transactions: [], evidence: [evidence])
        try chain.commit(block)
        let key = LedgerKeys.evidence(validator: testKey("validator2").publicKey, height: 1)
        let read = try chain.engine.state(key, prove: true)
        #expect(read.value == SHA256.hash(evidence.canonicalBytes).bytes)
        #expect(try #require(read.proof).verify(key: key, value: read.value, root: read.stateRoot))
        // The same equivocation cannot be recorded again; evidence by a non-validator is refused.
        #expect(throws: LedgerError.self) {
            try chain.engine.buildBlock(height: 3, round: 0, time: chain.engine.lastBlockTime + 5, proposer: proposer,
                                        lastCommit: chain.lastCommit, transactions: [], evidence: [evidence])
        }
        #expect(throws: LedgerError.self) {
            try chain.engine.buildBlock(height: 3, round: 0, time: chain.engine.lastBlockTime + 5, proposer: proposer,
                                        lastCommit: chain.lastCommit, transactions: [], evidence: [try equivocation(by: "mallory", height: 1)])
        }
    }
}
