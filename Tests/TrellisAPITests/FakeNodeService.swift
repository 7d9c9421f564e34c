// FakeNodeService.swift — an in-memory NodeService for API tests: real transaction decoding, canned chain data.
import Foundation
import NIOConcurrencyHelpers
import TrellisCodec
import TrellisCrypto
import TrellisLedger
import TrellisNode

final class FakeNodeService: NodeService, @unchecked Sendable {
    let chainID = "api-test"
    let proposer = SigningKey.generate()
    private let lock = NIOLock()
    private var pending: [Hash: Transaction] = [:]
    private var committed: [Hash: (Transaction, TxRecord)] = [:]
    var full = false
    /// Set: every submission is refused with this (e.g. admission control's `overloaded`).
    var refusal: MempoolError?
    var commitOnWait = true
    /// The outcome of the next transactions committed by `waitForCommit` (accepted, creating `cert-1`, by default).
    var waitOutcome: ReceiptOutcome = .ok(createdIDs: ["cert-1"])
    /// Set: the node halted (fail-stop).
    var halt: String?
    var haltReason: String? { halt }
    /// Served by GET /v1/genesis when set.
    var genesis: GenesisDocument?
    func genesisDocument() -> GenesisDocument? { genesis }
    private(set) var blocks: [Block] = []
    /// Extra state records by key (access tests put members here).
    var records: [[UInt8]: [UInt8]] = [:]
    /// Canned answers of named queries (JSON), beside the built-in `echo`.
    var queryAnswers: [String: Data] = [:]
    /// Lineages by certificate id: when set, `lineage?cert=` answers these and "no certificate" for any other id.
    var lineages: [String: Data] = [:]

    /// A state read or query the API asked for: the key or query name, whether with proofs, and whether it ran
    /// inside a Swift task (on the cooperative pool) rather than on a plain thread.
    struct Read: Sendable {
        let what: String
        let prove: Bool
        let inTask: Bool
    }
    private var readLog: [Read] = []
    /// Every state read and query so far, in order.
    var reads: [Read] { lock.withLock { readLog } }

    private func log(_ what: String, prove: Bool) {
        let inTask = withUnsafeCurrentTask { $0 != nil }
        lock.withLock { readLog.append(Read(what: what, prove: prove, inTask: inTask)) }
    }

    init() {
        blocks = (1...3).map { makeBlock(height: UInt64($0)) }
    }

    func makeBlock(height: UInt64) -> Block {
        let header = BlockHeader(chainID: chainID, height: height, round: 0, time: 1_700_000_000 + Int64(height), appVersion: AppVersion.initial,
                                 previousBlockHash: .zero, txCount: 0, txRoot: Block.txRoot([]), receiptsRoot: Receipt.root([]), stateRoot: SHA256.hash([UInt8(height)]), validatorSetHash: .zero,
                                 nextValidatorSetHash: .zero, proposer: proposer.publicKey, lastCommitHash: .zero, evidenceHash: Block.evidenceHash([]))
        return Block(header: header, transactions: [], lastCommit: nil)
    }

    func certificate(for block: Block) -> CommitCertificate {
        let vote = Vote.signed(VoteBody(type: .precommit, height: block.header.height, round: 0, blockID: block.hash, validator: proposer.publicKey), chainID: chainID, key: proposer)
        return CommitCertificate(height: block.header.height, round: 0, blockID: block.hash, precommits: [vote])
    }

    func submitTransaction(_ bytes: [UInt8]) throws(MempoolError) -> Hash {
        let tx: Transaction
        do { tx = try Transaction.decode(bytes) } catch { throw .malformed(error.description) }
        if full { throw .full(transactions: 1, bytes: 1) }
        if let refusal { throw refusal }
        let hash = tx.hash
        let isNew = lock.withLock { () -> Bool in
            if pending[hash] != nil || committed[hash] != nil { return false }
            pending[hash] = tx
            return true
        }
        if !isNew { throw .duplicate(hash) }
        return hash
    }

    func transaction(_ hash: Hash) throws(ServiceError) -> TransactionLookup {
        lock.withLock {
            if let (tx, record) = committed[hash] { return .committed(tx, record) }
            if let tx = pending[hash] { return .pending(tx) }
            return .unknown
        }
    }

    /// Receipts of other transactions in the same block as the committed ones, by height: `receipts(atHeight:)` puts
    /// the committed transaction's own receipt at its index among them.
    var neighbourReceipts: [UInt64: [Receipt]] = [:]
    /// False: the service cannot list a block's receipts (`receipts(atHeight:)` answers nil).
    var servesReceipts = true

    func receipts(atHeight height: UInt64) throws(ServiceError) -> [Receipt]? {
        guard servesReceipts else { return nil }
        return lock.withLock {
            var receipts = neighbourReceipts[height] ?? []
            let own = committed.values.filter { $0.1.height == height }.map(\.1).sorted { $0.index < $1.index }
            if own.isEmpty && receipts.isEmpty { return nil }
            for record in own { receipts.insert(record.receipt, at: min(Int(record.index), receipts.count)) }
            return receipts
        }
    }

    func waitForCommit(_ hash: Hash, timeoutMilliseconds: Int) async throws(ServiceError) -> TransactionLookup {
        if commitOnWait {
            lock.withLock {
                if let tx = pending.removeValue(forKey: hash) {
                    // Each at the next index of block 4, so every one's receipt has its own path.
                    let index = UInt32(committed.values.filter { $0.1.height == 4 }.count)
                    let receipt = Receipt(txHash: hash, index: index, nonceConsumed: true, outcome: waitOutcome)
                    committed[hash] = (tx, TxRecord(height: 4, index: index, receipt: receipt))
                }
            }
        }
        return try transaction(hash)
    }

    func status() throws(ServiceError) -> NodeStatus {
        let last = blocks[blocks.count - 1]
        return NodeStatus(chainID: chainID, nodeName: "fake", nodeKey: proposer.publicKey.hex, height: last.header.height, latestBlockHash: last.hash.hex,
                          stateRoot: last.header.stateRoot.hex, latestBlockTime: last.header.time,
                          validators: [.init(publicKey: proposer.publicKey.hex, votingPower: 1, p2pAddress: "127.0.0.1:1")],
                          peers: [], catchingUp: false, mempoolSize: lock.withLock { pending.count }, consensusRound: 0,
                          rules: .init(activeVersion: 1, supportedVersions: [1, 2],
                                       upgrades: [.init(version: 2, activationHeight: 10, description: "paged settlement", active: false, supported: true)]))
    }

    func block(at height: UInt64) throws(ServiceError) -> (Block, CommitCertificate?)? {
        guard height >= 1, height <= UInt64(blocks.count) else { return nil }
        let b = blocks[Int(height) - 1]
        return (b, certificate(for: b))
    }

    func state(key: [UInt8], height: UInt64?, prove: Bool) throws(ServiceError) -> StateRead {
        log(String(decoding: key, as: UTF8.self), prove: prove)
        if let height, height > UInt64(blocks.count) { throw .notFound("height \(height) is not committed") }
        let value: [UInt8]? = key == Array("member/bank".utf8) ? [1, 2, 3] : lock.withLock { records[key] }
        return StateRead.assembled(key: key, value: value, height: height ?? UInt64(blocks.count), stateRoot: SHA256.hash([3]), proof: nil)
    }

    func query(_ name: String, parameters: [String: String], height: UInt64?, prove: Bool) throws(ServiceError) -> QueryResponse {
        log(name, prove: prove)
        if name == "lineage", case let lineages = lock.withLock({ self.lineages }), !lineages.isEmpty {
            guard let answer = lineages[parameters["cert"] ?? ""] else { throw .notFound("no certificate \"\(parameters["cert"] ?? "")\"") }
            let proofs = prove ? [StateRead.assembled(key: Array("cert/\(parameters["cert"] ?? "")".utf8), value: [1], height: height ?? 3, stateRoot: SHA256.hash([3]), proof: nil)] : []
            return QueryResponse(height: height ?? 3, stateRoot: SHA256.hash([3]), result: answer, proofs: proofs)
        }
        if let answer = lock.withLock({ queryAnswers[name] }) { return QueryResponse(height: height ?? 3, stateRoot: SHA256.hash([3]), result: answer, proofs: []) }
        guard name == "echo" else { throw .notFound("unknown query \"\(name)\"") }
        let data = (try? JSONSerialization.data(withJSONObject: parameters, options: [.sortedKeys])) ?? Data()
        return QueryResponse(height: height ?? 3, stateRoot: SHA256.hash([3]), result: data, proofs: [])
    }

    func committedBlocks(from height: UInt64) -> AsyncStream<CommittedBlock> {
        let selected = blocks.filter { $0.header.height >= height }.map { CommittedBlock(block: $0, certificate: certificate(for: $0), receipts: []) }
        return AsyncStream { continuation in
            for b in selected { continuation.yield(b) }
            continuation.finish()
        }
    }

    /// How often `/metrics` asked for fresh values.
    let metricsRefreshes = NIOLockedValueBox(0)
    func refreshMetrics() { metricsRefreshes.withLockedValue { $0 += 1 } }

    func payloadJSON(_ transaction: Transaction) -> Data? { Data("{\"note\":\"fake\"}".utf8) }

    /// A signed transaction for submission tests.
    func sampleTransaction(nonce: UInt64 = 1, signer: String = "core") -> Transaction {
        let key = SigningKey.generate()
        let body = TransactionBody(chainID: chainID, kind: "certificate.issue", payload: [1, 2, 3], signer: signer, nonce: nonce, expiresAtHeight: 100)
        return Transaction.signed(body, by: [(signer, key)])
    }

    /// Records `tx` as committed (block 4, the next index) with `outcome`, as `waitForCommit` does for a submission.
    func commitDirectly(_ tx: Transaction, outcome: ReceiptOutcome = .ok(createdIDs: [])) {
        lock.withLock {
            let index = UInt32(committed.values.filter { $0.1.height == 4 }.count)
            committed[tx.hash] = (tx, TxRecord(height: 4, index: index, receipt: Receipt(txHash: tx.hash, index: index, nonceConsumed: true, outcome: outcome)))
        }
    }

    /// Registers `member` in state (as the ledger stores it) so signed requests can name it.
    func register(_ member: Member) {
        lock.withLock { records[LedgerKeys.member(member.memberID)] = member.canonicalBytes }
    }
}
