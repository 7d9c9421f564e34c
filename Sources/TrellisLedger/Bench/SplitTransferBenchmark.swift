// SplitTransferBenchmark.swift — issue 4's execution benchmark: one block of N certificate split transfers, executed
// on one core with signatures pre-verified, and the cost of its state-root update. For `trellis bench ledger`.
//
// Setup (not timed): a credit line, N certificates issued to supplier1 and accepted. Timed: block N+… where each
// transaction splits one certificate into {1 to supplier2, the rest back to supplier1} — every split consumes its
// input and creates two children, with their indexes (the heaviest common operation of the receivables contract).
// That block is then committed, and a second one of N splits is executed as chains (each split spends the remainder
// its predecessor returned, as `bench cluster`'s signers do): it reports the state keys and tree nodes written per
// transaction when outputs are created and spent within one block.
import TrellisCrypto

public struct SplitTransferBenchmarkResult: Sendable, CustomStringConvertible {
    public let transactions: Int
    /// Seconds to execute the block (contracts + state-root update), signatures excluded.
    public let executeSeconds: Double
    /// Seconds of the state-root update alone.
    public let stateRootSeconds: Double
    public let stateKeysChanged: Int
    /// Tree nodes the block wrote and replaced (what the store writes and, later, prunes).
    public let treeNodesWritten: Int
    public let treeNodesReplaced: Int
    public let accepted: Int
    /// The same number of splits as chains of `chainLength` (each spends the remainder its predecessor returned to
    /// the signer, as `bench cluster`'s load does), executed on the state after the first block.
    public let chained: Chained

    public struct Chained: Sendable {
        public let chainLength: Int
        public let executeSeconds: Double
        public let stateKeysChanged: Int
        public let treeNodesWritten: Int
        public let accepted: Int
    }

    public var transactionsPerSecond: Double { Double(transactions) / executeSeconds }
    public var stateKeysPerTransaction: Double { Double(stateKeysChanged) / Double(transactions) }
    public var treeNodesPerTransaction: Double { Double(treeNodesWritten) / Double(transactions) }
    public var chainedStateKeysPerTransaction: Double { Double(chained.stateKeysChanged) / Double(transactions) }
    public var chainedTreeNodesPerTransaction: Double { Double(chained.treeNodesWritten) / Double(transactions) }

    public var description: String {
        String(format: "%d split transfers in one block: execute %.0f ms (%.0f tx/s on one core), state-root update %.0f ms for %d keys; %d accepted; "
               + "%.2f state keys and %.2f tree nodes written per transaction; chained (%d per chain, as the cluster load): %.0f ms, %.2f keys and %.2f tree nodes per transaction, %d accepted",
               transactions, executeSeconds * 1000, transactionsPerSecond, stateRootSeconds * 1000, stateKeysChanged, accepted,
               stateKeysPerTransaction, treeNodesPerTransaction, chained.chainLength, chained.executeSeconds * 1000,
               chainedStateKeysPerTransaction, chainedTreeNodesPerTransaction, chained.accepted)
    }
}

public enum SplitTransferBenchmark {
    /// Chain length of the chained block: about what one signer of `bench cluster`'s load (9 signers) puts in a
    /// 500-transaction block.
    public static let defaultChainLength = 50

    public static func run(transactions n: Int, chainLength: Int = defaultChainLength, store: any ChainStore = MemoryChainStore()) throws -> SplitTransferBenchmarkResult {
        precondition(n > 0 && n <= Limits.maxTransactionsPerBlock, "1…\(Limits.maxTransactionsPerBlock) transactions")
        precondition(chainLength > 0, "chains of at least one transaction")
        func key(_ name: String) throws -> SigningKey { try SigningKey(seed: SHA256.hash(Array("bench-split/\(name)".utf8)).bytes) }
        let names: [(String, Role)] = [("core", .coreEnterprise), ("bank", .financier), ("supplier1", .supplier), ("supplier2", .supplier), ("gov", .governor)]
        var keys: [String: SigningKey] = [:]
        for (name, _) in names { keys[name] = try key(name) }
        let validator = try key("validator")
        let specs = names.map { MemberSpec(memberID: $0.0, legalName: $0.0, registrationNo: "", publicKeys: [keys[$0.0]!.publicKey], roles: [$0.1]) }
        let genesisTime: Int64 = 1_767_225_600
        let genesis = try GenesisDocument(chainID: "bench", genesisTime: genesisTime, members: specs,
                                          validators: [GenesisValidator(name: "v1", validator: Validator(publicKey: validator.publicKey, votingPower: 1, p2pAddress: "127.0.0.1:1"))],
                                          parameters: Parameters(governanceQuorum: 1))
        let engine = try LedgerEngine(genesis: genesis, store: store)
        var lastCommit: CommitCertificate?
        var nonces: [String: UInt64] = [:]

        func tx(_ signer: String, _ kind: String, _ payload: [UInt8], cosigners: [String] = []) -> Transaction {
            nonces[signer, default: 0] += 1
            let body = TransactionBody(chainID: "bench", kind: kind, payload: payload, signer: signer, nonce: nonces[signer]!,
                                       expiresAtHeight: engine.currentHeight + 10, cosigners: cosigners)
            return Transaction.signed(body, by: ([signer] + cosigners).map { ($0, keys[$0]!) })
        }
        func commit(_ transactions: [Transaction]) throws -> BuiltBlock {
            let height = engine.currentHeight + 1
            let built = try engine.proposeBlock(height: height, round: 0, time: genesisTime + Int64(height), proposer: validator.publicKey,
                                                lastCommit: lastCommit, transactions: transactions, signatures: .allVerified)
            let vote = Vote.signed(VoteBody(type: .precommit, height: height, round: 0, blockID: built.block.hash, validator: validator.publicKey), chainID: "bench", key: validator)
            let certificate = CommitCertificate(height: height, round: 0, blockID: built.block.hash, precommits: [vote])
            try engine.commit(built.block, certificate: certificate)
            lastCommit = certificate
            return built
        }

        let expiry = genesisTime + 10 * 365 * 86_400
        _ = try commit([tx("bank", "credit_line.set", CreditLineSetPayload(lineID: "line", core: "core", limit: UInt64(n) * 1_000_000, expiry: expiry).canonicalBytes, cosigners: ["core"])])
        let issues = (0..<n).map { i in
            tx("core", "certificate.issue", CertificateIssuePayload(creditLineID: "line", holder: "supplier1", face: 1_000, maturity: genesisTime + 300 * 86_400,
                                                                    tradeRef: TradeRef(contractNo: "PO", invoiceKeys: ["INV-\(i)"], docHash: SHA256.hash([UInt8(i & 0xff)]))).canonicalBytes)
        }
        let issued = try commit(issues)
        let certIDs = issued.result.receipts.flatMap { r -> [String] in if case .ok(let ids) = r.outcome { return ids } else { return [] } }
        precondition(certIDs.count == n, "setup: \(certIDs.count) of \(n) certificates issued")
        _ = try commit(certIDs.map { tx("supplier1", "certificate.accept", CertificateRefPayload(certID: $0).canonicalBytes) })

        let splits = certIDs.map { id in
            tx("supplier1", "certificate.split_transfer", CertificateSplitTransferPayload(certID: id, outputs: [SplitOutput(to: "supplier2", amount: 1), SplitOutput(to: "supplier1", amount: 999)]).canonicalBytes)
        }
        let clock = ContinuousClock()
        let height = engine.currentHeight + 1
        let start = clock.now
        let built = try engine.proposeBlock(height: height, round: 0, time: genesisTime + Int64(height), proposer: validator.publicKey,
                                            lastCommit: lastCommit, transactions: splits, signatures: .allVerified)
        let execute = LedgerBenchmark.seconds(clock.now - start)
        let changes = built.result.stateChanges.map { (key: $0.key, value: $0.value) }
        let rootStart = clock.now
        _ = try SparseMerkleTree.update(root: engine.stateRoot, changes: changes, source: store)
        let root = LedgerBenchmark.seconds(clock.now - rootStart)
        let vote = Vote.signed(VoteBody(type: .precommit, height: height, round: 0, blockID: built.block.hash, validator: validator.publicKey), chainID: "bench", key: validator)
        let certificate = CommitCertificate(height: height, round: 0, blockID: built.block.hash, precommits: [vote])
        try engine.commit(built.block, certificate: certificate)
        lastCommit = certificate

        // Chains: each split's remainder (output 1, face - 1, back to supplier1) is the next split's input.
        let chainLength = min(chainLength, 998)
        var chained: [Transaction] = []
        chained.reserveCapacity(n)
        var face: UInt64 = 999
        var input = ""
        for i in 0..<n {
            if i % chainLength == 0 {
                input = ExecutionContext.derivedID("cert", txHash: splits[i / chainLength].hash, index: 1)  // a remainder of the first block
                face = 999
            }
            let split = tx("supplier1", "certificate.split_transfer", CertificateSplitTransferPayload(certID: input, outputs: [SplitOutput(to: "supplier2", amount: 1), SplitOutput(to: "supplier1", amount: face - 1)]).canonicalBytes)
            chained.append(split)
            input = ExecutionContext.derivedID("cert", txHash: split.hash, index: 1)
            face -= 1
        }
        let chainedStart = clock.now
        let chainedBuilt = try engine.proposeBlock(height: height + 1, round: 0, time: genesisTime + Int64(height + 1), proposer: validator.publicKey,
                                                   lastCommit: lastCommit, transactions: chained, signatures: .allVerified)
        let chainedSeconds = LedgerBenchmark.seconds(clock.now - chainedStart)
        return SplitTransferBenchmarkResult(transactions: n, executeSeconds: execute, stateRootSeconds: root, stateKeysChanged: changes.count,
                                            treeNodesWritten: built.result.treeNodes.count, treeNodesReplaced: built.result.staleNodes.count,
                                            accepted: built.result.receipts.filter(\.isOK).count,
                                            chained: .init(chainLength: chainLength, executeSeconds: chainedSeconds, stateKeysChanged: chainedBuilt.result.stateChanges.count,
                                                           treeNodesWritten: chainedBuilt.result.treeNodes.count, accepted: chainedBuilt.result.receipts.filter(\.isOK).count))
    }
}
