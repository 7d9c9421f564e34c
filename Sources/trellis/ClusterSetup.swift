// ClusterSetup.swift — the cluster of `trellis bench cluster` (a `testnet` of this binary with benchmark settings)
// and the setup transactions that give each load signer something to spend.
//
// The load comes from many signers, as a real consortium's does: the example consortium's genesis plus `signers`
// load members (`load-s<i>`, suppliers that split certificates; `load-c<i>`, participants that transfer credits),
// written as a genesis template beside the testnet. Setup, each stage committed before the next (POST
// /v1/tx?wait=commit, JSON, as a client would; a stage's independent transactions in parallel): a credit line (bank,
// co-signed by core); one certificate per load supplier (core issues, the supplier accepts); a credit program,
// methodology, project, verification and issue; one credit block per load participant (the proponent transfers, 63
// recipients per transaction). Certificate faces and credit quantities are large enough for millions of 1-unit
// splits.
import Foundation
import TrellisAPI
import TrellisCodec
import TrellisCrypto
import TrellisLedger
import TrellisNode
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A running local testnet.
final class LocalCluster: @unchecked Sendable {
    let root: String
    let chainID: String
    let apiURLs: [String]
    let homes: [String]
    let pids: [Int32]
    let state: TestnetState

    private init(root: String, state: TestnetState) {
        self.root = root
        self.state = state
        self.chainID = state.chainID
        self.apiURLs = state.nodes.map(\.apiURL)
        self.homes = state.nodes.map(\.home)
        self.pids = state.nodes.compactMap(\.pid)
    }

    static func start(root: String, nodes: Int, basePort: Int, timeoutCommitMs: UInt64, timeoutProposeMs: UInt64?, maxBlockTransactions: Int, logLevel: String,
                      template: String? = nil) async throws -> LocalCluster {
        let up = try Testnet.Up.parse(["--nodes", "\(nodes)", "--dir", root, "--base-port", "\(basePort)"] + (template.map { ["--template", $0] } ?? []))
        guard (try? TestnetState.load(root)) == nil else { throw badInput("\(root) already holds a testnet; pass another --dir") }
        var state = try up.create(root: root)
        for node in state.nodes {
            let home = NodeHome(path: node.home)
            var config: NodeConfig
            do { config = try home.loadConfig() } catch { throw failure("\(home.configPath): \(error)") }
            config.consensus.timeoutCommitMilliseconds = timeoutCommitMs
            if let timeoutProposeMs { config.consensus.timeoutProposeMilliseconds = timeoutProposeMs }
            config.consensus.maxBlockTransactions = maxBlockTransactions
            config.node.logLevel = logLevel
            do { try config.toml().write(toFile: home.configPath, atomically: true, encoding: .utf8) } catch { throw failure("cannot write \(home.configPath)") }
        }
        let binary = executablePath()
        for i in state.nodes.indices {
            state.nodes[i].pid = try up.spawn(binary: binary, home: state.nodes[i].home, seconds: 90, busyPortHint: "another cluster or testnet may be running on these ports: pass another --base-port")
            try state.save(root)
        }
        let cluster = LocalCluster(root: root, state: state)
        if let reason = await waitForBlocks(state.nodes, seconds: 90).failure(seconds: 90, root: root) {
            cluster.stop()
            throw failure(reason)
        }
        return cluster
    }

    func stop() { stopAll(state, root: root) }

    func samples() -> [ProcessSample] { pids.map { ProcessSample.read(pid: $0) ?? ProcessSample(cpuSeconds: 0, peakRSSBytes: 0) } }

    /// Node 1's memory gauges from its /metrics (read with its metrics token), in MB (transactions for the mempool);
    /// empty when they cannot be read.
    func memoryOfFirstNode() async -> [String: Double] {
        guard let token = try? String(contentsOfFile: homes[0] + "/metrics.token", encoding: .utf8), let url = URL(string: apiURLs[0] + "/metrics") else { return [:] }
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.setValue("Bearer " + token.trimmingCharacters(in: .whitespacesAndNewlines), forHTTPHeaderField: "Authorization")
        guard let (data, _) = try? await URLSession.shared.data(for: request) else { return [:] }
        let gauges = ["trellis_process_resident_bytes": "resident", "trellis_rocksdb_memtable_bytes": "rocksdb_memtables",
                      "trellis_rocksdb_table_readers_bytes": "rocksdb_table_readers", "trellis_rocksdb_block_cache_bytes": "rocksdb_block_cache",
                      "trellis_mempool_transactions": "mempool_transactions"]
        var out: [String: Double] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let name = gauges[String(fields[0])], let value = Double(fields[1]) else { continue }
            out[name] = name == "mempool_transactions" ? value : round1(value / 1_048_576)
        }
        return out
    }

    /// Waits until every node's mempool is empty (or `seconds` pass). Returns the transactions still pending in all
    /// (-1 when a node did not answer at the last poll).
    func waitForEmptyMempools(seconds: Double) async -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        // A session of its own, apart from the load's and the setup's connections.
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        var total = -1
        while true {
            total = 0
            for url in apiURLs {
                guard let status = URL(string: url + "/v1/status") else { total = -1; break }
                let answer = try? await session.data(for: URLRequest(url: status, timeoutInterval: 5))
                if let (data, response) = answer, (response as? HTTPURLResponse)?.statusCode == 200,
                   let size = ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["mempool_size"] as? Int {
                    total += size
                } else {
                    total = -1
                    break
                }
            }
            if total == 0 || Date() >= deadline { return total }
            try? await Task.sleep(nanoseconds: 500_000_000)
        }
    }
}

enum ClusterSetup {
    struct SetupError: Error {
        let message: String
    }

    struct Result {
        let signers: [LoadSigner]
        let transactions: Int
        let height: UInt64
    }

    /// Most load signers (`--signers`): each is a genesis member with a key file and two setup transactions.
    static let maxSigners = 4_096
    /// Each load supplier's certificate face and each load participant's credit quantity: 1-unit splits for ever.
    static let assetSize: UInt64 = 1_000_000_000
    /// Outputs of one `credits.transfer` (the contracts' limit, `AssetLimits.maxOutputs`), one of them the remainder.
    static let outputsPerTransfer = 64
    /// Setup transactions in flight at once.
    static let setupConcurrency = 32

    /// The load members: half suppliers (certificate split transfers), half participants (credit transfers), so the
    /// mix is half and half whatever the count; at least two of each (a supplier splits to the next one).
    static func loadMembers(signers: Int) -> (suppliers: [String], participants: [String]) {
        let suppliers = max(2, signers / 2), participants = max(2, signers - signers / 2)
        return ((1...suppliers).map { "load-s\($0)" }, (1...participants).map { "load-c\($0)" })
    }

    /// Writes the example consortium's genesis template (`template`) plus the load members to `path`.
    static func writeTemplate(signers: Int, from template: String, to path: String) throws {
        guard let data = FileManager.default.contents(atPath: template),
              var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              var members = object["members"] as? [[String: Any]] else {
            throw badInput("the genesis template \(template) is not a JSON object with a members array")
        }
        let (suppliers, participants) = loadMembers(signers: signers)
        for (id, role) in suppliers.map({ ($0, "supplier") }) + participants.map({ ($0, "participant") }) {
            members.append(["member_id": id, "legal_name": "Load signer \(id)", "registration_no": "BENCH-\(id)",
                            "public_keys": ["{{key:\(id)}}"], "roles": [role], "accreditations": [] as [Any]])
        }
        object["members"] = members
        do {
            try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: path))
        } catch { throw failure("cannot write \(path): \(error.localizedDescription)") }
    }

    static func run(cluster: LocalCluster, signers signerCount: Int) async throws -> Result {
        var keys: [String: SigningKey] = [:]
        let memberFiles = (try? FileManager.default.contentsOfDirectory(atPath: "\(cluster.root)/members")) ?? []
        for name in memberFiles.filter({ $0.hasSuffix(".key") }).map({ String($0.dropLast(4)) }).sorted() {
            do { keys[name] = try KeyFile.read(from: "\(cluster.root)/members/\(name).key") } catch { throw failure(error.description) }
        }
        let (loadSuppliers, loadParticipants) = loadMembers(signers: signerCount)
        for id in loadSuppliers + loadParticipants where keys[id] == nil { throw failure("setup: no key for load member \(id) in \(cluster.root)/members") }
        var nonces: [String: UInt64] = [:]
        var count = 0
        var height: UInt64 = 0
        let node = cluster.apiURLs[0]
        let now = Int64(Date().timeIntervalSince1970)

        /// Signs a transaction with the signer's next nonce.
        func sign(_ signer: String, _ kind: String, _ payload: [String: Any], cosigners: [String] = []) throws -> Transaction {
            guard let spec = ContractRegistry.standard.spec(for: kind), keys[signer] != nil else { throw failure("setup: unknown kind or member") }
            let payloadBytes: [UInt8]
            do { payloadBytes = try spec.canonicalPayload(fromJSON: try JSONSerialization.data(withJSONObject: payload)) } catch {
                throw failure("setup \(kind): \(error)")
            }
            nonces[signer, default: 0] += 1
            let body = TransactionBody(chainID: cluster.chainID, kind: kind, payload: payloadBytes, signer: signer, nonce: nonces[signer]!,
                                       expiresAtHeight: height + 1_000, cosigners: cosigners)
            return Transaction.signed(body, by: ([signer] + cosigners).map { ($0, keys[$0]!) })
        }

        /// Submits independent transactions (distinct signers, `setupConcurrency` at a time), waits for every commit
        /// and returns the ids each created.
        func submitAll(_ txs: [Transaction]) async throws -> [[String]] {
            precondition(Set(txs.map(\.body.signer)).count == txs.count, "submitAll takes one transaction per signer; a run goes through submitRun")
            let outcomes = LockedBox<[Int: Swift.Result<(UInt64, [String]), SetupError>]>([:])
            await withTaskGroup(of: Void.self) { group in
                var next = 0
                func add() {
                    guard next < txs.count else { return }
                    let i = next, tx = txs[i]
                    next += 1
                    group.addTask {
                        let outcome = await submitCommitted(tx, to: node)
                        outcomes.withLock { $0[i] = outcome }
                    }
                }
                for _ in 0..<setupConcurrency { add() }
                while await group.next() != nil { add() }
            }
            var created: [[String]] = []
            for i in txs.indices {
                switch outcomes.withLock({ $0[i] }) {
                case .success(let (h, ids))?:
                    height = max(height, h)
                    created.append(ids)
                case .failure(let error)?: throw failure(error.message)
                case nil: throw failure("setup: transaction \(i) was not submitted")
                }
            }
            count += txs.count
            return created
        }

        /// Submits one signer's run of transactions (consecutive nonces) in order — all but the last in one batch,
        /// the last waiting for its commit, which the nonce order makes the commit of the whole run — and checks that
        /// the last one executed. Waiting on each would hold a connection per gapped transaction.
        func submitRun(_ txs: [Transaction]) async throws {
            guard let last = txs.last else { return }
            if txs.count > 1 { try await submitBatch(Array(txs.dropLast()), to: node) }
            switch await submitCommitted(last, to: node) {
            case .success(let (h, _)): height = max(height, h)
            case .failure(let error): throw failure(error.message)
            }
            count += txs.count
        }

        _ = try await submitAll([try sign("bank", "credit_line.set", ["line_id": "bench", "core": "core", "limit": assetSize * UInt64(loadSuppliers.count + 1), "expiry": now + 300 * 86_400], cosigners: ["core"])])
        var issues: [Transaction] = []
        for (i, supplier) in loadSuppliers.enumerated() {
            issues.append(try sign("core", "certificate.issue", [
                "credit_line_id": "bench", "holder": supplier, "face": assetSize, "maturity": now + 200 * 86_400,
                "trade_ref": ["contract_no": "PO-bench", "invoice_keys": ["INV-bench-\(i)"], "doc_hash": SHA256.hash(Array("bench-\(i)".utf8)).hex],
            ]))
        }
        try await submitRun(issues)
        // Each root's id is derived from its issue's hash (index 0); an accept of an id that does not exist fails setup.
        let certificates = issues.map { derivedID("cert", $0.hash, 0) }
        _ = try await submitAll(try zip(loadSuppliers, certificates).map { try sign($0, "certificate.accept", ["cert_id": $1]) })

        _ = try await submitAll([try sign("registry", "program.register", ["program_id": "BENCH", "unit": "tCO2e"])])
        _ = try await submitAll([try sign("registry", "methodology.register", ["methodology_id": "AM-BENCH", "version": "1", "title": "bench", "active": true])])
        _ = try await submitAll([try sign("proponent", "project.register", [
            "project_id": "bench-1", "program_id": "BENCH", "methodology_id": "AM-BENCH", "methodology_version": "1", "country": "CN",
            "location": "Bench", "device_ids": ["D-1"], "sector": "energy", "crediting_start": 1_767_225_600, "crediting_end": 1_861_920_000,
            "external_ids": ["EXT-bench-1"],
        ], cosigners: ["registry"])])
        let total = assetSize * UInt64(loadParticipants.count + 1)
        let verification = try await submitAll([try sign("verifier", "verification.submit", [
            "project_id": "bench-1", "period_start": 1_767_225_600, "period_end": 1_767_225_600 + 30 * 86_400, "quantity": total,
            "report_hash": SHA256.hash(Array("report".utf8)).hex,
        ])])
        guard let verID = verification.first?.first else { throw failure("setup: verification.submit created nothing") }
        let issued = try await submitAll([try sign("registry", "credits.issue", ["verification_id": verID, "quantity": total, "buffer_quantity": 0])])
        guard let issuedIDs = issued.first, issuedIDs.count == 2 else { throw failure("setup: credits.issue created \(issued)") }
        // The proponent hands out credit blocks, 63 recipients per transfer; each transfer spends the remainder the
        // previous one returned (its last output), whose id is derived from that transaction's hash.
        var transfers: [Transaction] = []
        var remainder = (id: issuedIDs[1], quantity: total)
        for group in stride(from: 0, to: loadParticipants.count, by: outputsPerTransfer - 1).map({ Array(loadParticipants[$0..<min($0 + outputsPerTransfer - 1, loadParticipants.count)]) }) {
            let rest = remainder.quantity - assetSize * UInt64(group.count)
            let outputs = group.map { ["to": $0, "quantity": assetSize] as [String: Any] } + [["to": "proponent", "quantity": rest]]
            let tx = try sign("proponent", "credits.transfer", ["block_id": remainder.id, "outputs": outputs])
            transfers.append(tx)
            remainder = (derivedID("cblock", tx.hash, UInt32(group.count)), rest)
        }
        try await submitRun(transfers)
        // The created blocks' ids are derived from each transfer's hash and output index (a wrong one would fail the load's first transfers).
        var blocks: [String] = []
        for (tx, group) in zip(transfers, stride(from: 0, to: loadParticipants.count, by: outputsPerTransfer - 1)) {
            for k in 0..<min(outputsPerTransfer - 1, loadParticipants.count - group) { blocks.append(derivedID("cblock", tx.hash, UInt32(k))) }
        }

        // Each load supplier splits to the next one (1 unit, the rest back); each participant transfers 1 credit to
        // the next participants in turn. Every signer emits one transaction per round: half the load each way.
        var signers: [LoadSigner] = []
        for (i, supplier) in loadSuppliers.enumerated() {
            signers.append(LoadSigner(memberID: supplier, key: keys[supplier]!, nextNonce: nonces[supplier, default: 0] + 1, assets: [
                .certificate(id: certificates[i], face: assetSize, nextHolder: loadSuppliers[(i + 1) % loadSuppliers.count]),
            ], weight: 1))
        }
        for (j, member) in loadParticipants.enumerated() {
            let recipients = (1...min(8, loadParticipants.count - 1)).map { loadParticipants[(j + $0) % loadParticipants.count] }
            signers.append(LoadSigner(memberID: member, key: keys[member]!, nextNonce: nonces[member, default: 0] + 1, assets: [
                .credits(id: blocks[j], quantity: assetSize, recipients: recipients),
            ], weight: 1))
        }
        return Result(signers: signers, transactions: count, height: height)
    }

    /// Posts transactions as one binary batch (POST /v1/txs) in order, sending refusals for capacity again (for up
    /// to 2 minutes); any other refusal fails setup.
    static func submitBatch(_ txs: [Transaction], to node: String) async throws {
        var remaining = txs
        let deadline = Date().addingTimeInterval(120)
        while !remaining.isEmpty {
            guard Date() < deadline else { throw failure("setup: \(remaining.count) transactions were not admitted within 120 s") }
            var request = URLRequest(url: URL(string: node + "/v1/txs")!, timeoutInterval: 60)
            request.httpMethod = "POST"
            request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(TransactionBatch.encode(remaining.map(\.canonicalBytes)))
            guard let (data, response) = try? await URLSession.shared.data(for: request) else {
                try? await Task.sleep(nanoseconds: 500_000_000)
                continue
            }
            let results = ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["results"] as? [[String: Any]] ?? []
            guard (response as? HTTPURLResponse)?.statusCode == 200, results.count == remaining.count else {
                try? await Task.sleep(nanoseconds: 500_000_000)
                continue
            }
            var retry: [Transaction] = []
            for (tx, result) in zip(remaining, results) where result["hash"] == nil {
                let code = ((result["error"] as? [String: Any])?["code"] as? String) ?? "unknown"
                switch code {
                case "duplicate_transaction": continue
                case "mempool_full", "overloaded", "signer_backlog", "nonce_too_far_ahead": retry.append(tx)
                default: throw failure("setup \(tx.body.kind) by \(tx.body.signer) (nonce \(tx.body.nonce)) was refused: \(result["error"] ?? code)")
                }
            }
            remaining = retry
            if !remaining.isEmpty { try? await Task.sleep(nanoseconds: 500_000_000) }
        }
    }

    /// Posts one transaction and waits for its commit (retrying refusals for capacity for up to 2 minutes): the
    /// block height and the ids its receipt created, or why it failed.
    static func submitCommitted(_ tx: Transaction, to node: String) async -> Swift.Result<(UInt64, [String]), SetupError> {
        let deadline = Date().addingTimeInterval(120)
        var last = ""
        while Date() < deadline {
            do {
                let (code, object, raw) = try await HTTP.request("POST", node + "/v1/tx?wait=commit", json: ["tx": Hex.encode(tx.canonicalBytes)], timeoutSeconds: 60)
                let errorCode = (object?["error"] as? [String: Any])?["code"] as? String
                if code == 429 || code == 503 || errorCode == "commit_timeout" || errorCode == "duplicate_transaction" {
                    // Admission control or a slow commit: ask again (a duplicate is still pending; the answer comes with its commit).
                    last = "\(code) \(errorCode ?? "")"
                    try? await Task.sleep(nanoseconds: 500_000_000)
                    continue
                }
                guard code == 200, let object, object["status"] as? String == "committed", let receipt = object["receipt"] as? [String: Any] else {
                    return .failure(SetupError(message: "setup \(tx.body.kind) by \(tx.body.signer) failed (\(code)): \(String(decoding: raw.prefix(400), as: UTF8.self))"))
                }
                guard receipt["status"] as? String == "ok" else {
                    return .failure(SetupError(message: "setup \(tx.body.kind) by \(tx.body.signer) was rejected: \(receipt["error"] ?? "?")"))
                }
                return .success((UInt64(max(0, object["height"] as? Int ?? 0)), receipt["created"] as? [String] ?? []))
            } catch {
                last = "\(error)"
                try? await Task.sleep(nanoseconds: 500_000_000)
            }
        }
        return .failure(SetupError(message: "setup \(tx.body.kind) by \(tx.body.signer) did not commit within 120 s (last answer: \(last))"))
    }
}
