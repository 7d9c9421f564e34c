// ClusterSetup.swift — the cluster of `trellis bench cluster` (a `testnet` of this binary with benchmark settings)
// and the setup transactions that give each load signer something to spend.
//
// Setup, every step committed before the next (POST /v1/tx?wait=commit, JSON, as a client would): a credit line
// (bank, co-signed by core); one certificate per supplier (core issues, the supplier accepts); a credit program,
// methodology, project, verification and issue; one credit block per signer (the proponent transfers). Certificate
// faces and credit quantities are large enough for millions of 1-unit splits.
import Foundation
import TrellisCodec
import TrellisCrypto
import TrellisLedger
import TrellisNode

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

    static func start(root: String, nodes: Int, basePort: Int, timeoutCommitMs: UInt64, timeoutProposeMs: UInt64?, maxBlockTransactions: Int, logLevel: String) async throws -> LocalCluster {
        let up = try Testnet.Up.parse(["--nodes", "\(nodes)", "--dir", root, "--base-port", "\(basePort)"])
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
            state.nodes[i].pid = try up.spawn(binary: binary, home: state.nodes[i].home, seconds: 90)
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

    /// Waits until every node's mempool is empty (or `seconds` pass).
    func waitForEmptyMempools(seconds: Double) async {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var total = 0
            for url in apiURLs {
                if let (code, body, _) = try? await HTTP.get(url + "/v1/status", timeoutSeconds: 5), code == 200 { total += (body?["mempool_size"] as? Int) ?? 0 }
            }
            if total == 0 { return }
            try? await Task.sleep(nanoseconds: 500_000_000)
        }
    }
}

enum ClusterSetup {
    struct Result {
        let signers: [LoadSigner]
        let transactions: Int
        let height: UInt64
    }

    static let supplierIDs = ["supplier1", "supplier2", "supplier3"]
    static let creditSignerIDs = ["core", "bank", "clearing", "proponent", "verifier", "registry"]

    static func run(cluster: LocalCluster) async throws -> Result {
        var keys: [String: SigningKey] = [:]
        let memberFiles = (try? FileManager.default.contentsOfDirectory(atPath: "\(cluster.root)/members")) ?? []
        for name in memberFiles.filter({ $0.hasSuffix(".key") }).map({ String($0.dropLast(4)) }).sorted() {
            do { keys[name] = try KeyFile.read(from: "\(cluster.root)/members/\(name).key") } catch { throw failure(error.description) }
        }
        var nonces: [String: UInt64] = [:]
        var count = 0
        var height: UInt64 = 0
        let node = cluster.apiURLs[0]
        let now = Int64(Date().timeIntervalSince1970)

        /// Signs and submits one transaction, waits for its commit and returns the ids it created.
        func submit(_ signer: String, _ kind: String, _ payload: [String: Any], cosigners: [String] = []) async throws -> [String] {
            guard let spec = ContractRegistry.standard.spec(for: kind), keys[signer] != nil else { throw failure("setup: unknown kind or member") }
            let payloadBytes: [UInt8]
            do { payloadBytes = try spec.canonicalPayload(fromJSON: try JSONSerialization.data(withJSONObject: payload)) } catch {
                throw failure("setup \(kind): \(error)")
            }
            nonces[signer, default: 0] += 1
            let body = TransactionBody(chainID: cluster.chainID, kind: kind, payload: payloadBytes, signer: signer, nonce: nonces[signer]!,
                                       expiresAtHeight: height + 1_000, cosigners: cosigners)
            let tx = Transaction.signed(body, by: ([signer] + cosigners).map { ($0, keys[$0]!) })
            let (code, object, raw) = try await HTTP.request("POST", node + "/v1/tx?wait=commit", json: ["tx": Hex.encode(tx.canonicalBytes)], timeoutSeconds: 60)
            guard code == 200, let object, object["status"] as? String == "committed", let receipt = object["receipt"] as? [String: Any] else {
                throw failure("setup \(kind) by \(signer) failed (\(code)): \(String(decoding: raw.prefix(400), as: UTF8.self))")
            }
            count += 1
            height = max(height, UInt64(max(0, object["height"] as? Int ?? 0)))
            return receipt["created"] as? [String] ?? []
        }

        let bigFace: UInt64 = 1_000_000_000_000
        _ = try await submit("bank", "credit_line.set", ["line_id": "bench", "core": "core", "limit": bigFace * 10, "expiry": now + 300 * 86_400], cosigners: ["core"])
        var certificates: [String: String] = [:]
        for (i, supplier) in supplierIDs.enumerated() {
            let created = try await submit("core", "certificate.issue", [
                "credit_line_id": "bench", "holder": supplier, "face": bigFace, "maturity": now + 200 * 86_400,
                "trade_ref": ["contract_no": "PO-bench", "invoice_keys": ["INV-bench-\(i)"], "doc_hash": SHA256.hash(Array("bench-\(i)".utf8)).hex],
            ])
            guard let id = created.first else { throw failure("setup: certificate.issue created nothing") }
            _ = try await submit(supplier, "certificate.accept", ["cert_id": id])
            certificates[supplier] = id
        }
        _ = try await submit("registry", "program.register", ["program_id": "BENCH", "unit": "tCO2e"])
        _ = try await submit("registry", "methodology.register", ["methodology_id": "AM-BENCH", "version": "1", "title": "bench", "active": true])
        _ = try await submit("proponent", "project.register", [
            "project_id": "bench-1", "program_id": "BENCH", "methodology_id": "AM-BENCH", "methodology_version": "1", "country": "CN",
            "location": "Bench", "device_ids": ["D-1"], "sector": "energy", "crediting_start": 1_767_225_600, "crediting_end": 1_861_920_000,
            "external_ids": ["EXT-bench-1"],
        ], cosigners: ["registry"])
        let verification = try await submit("verifier", "verification.submit", [
            "project_id": "bench-1", "period_start": 1_767_225_600, "period_end": 1_767_225_600 + 30 * 86_400, "quantity": bigFace,
            "report_hash": SHA256.hash(Array("report".utf8)).hex,
        ])
        guard let verID = verification.first else { throw failure("setup: verification.submit created nothing") }
        let issued = try await submit("registry", "credits.issue", ["verification_id": verID, "quantity": bigFace, "buffer_quantity": 0])
        guard issued.count == 2 else { throw failure("setup: credits.issue created \(issued)") }
        let holders = supplierIDs + creditSignerIDs
        let share = bigFace / UInt64(holders.count)
        var outputs = holders.map { ["to": $0, "quantity": share] as [String: Any] }
        outputs[outputs.count - 1]["quantity"] = bigFace - share * UInt64(holders.count - 1)
        let blocks = try await submit("proponent", "credits.transfer", ["block_id": issued[1], "outputs": outputs])
        guard blocks.count == holders.count else { throw failure("setup: credits.transfer created \(blocks)") }

        // Half the load is split transfers (3 suppliers, 2 per round each), half credit transfers (6 signers, 1 each);
        // the suppliers' credit blocks stay unspent.
        let everyone = holders
        var signers: [LoadSigner] = []
        for (i, supplier) in supplierIDs.enumerated() {
            let next = supplierIDs[(i + 1) % supplierIDs.count]
            signers.append(LoadSigner(memberID: supplier, key: keys[supplier]!, nextNonce: nonces[supplier, default: 0] + 1, assets: [
                .certificate(id: certificates[supplier]!, face: bigFace, nextHolder: next),
            ], weight: 2))
        }
        for (j, member) in creditSignerIDs.enumerated() {
            let index = supplierIDs.count + j
            let quantity = index == holders.count - 1 ? bigFace - share * UInt64(holders.count - 1) : share
            signers.append(LoadSigner(memberID: member, key: keys[member]!, nextNonce: nonces[member, default: 0] + 1, assets: [
                .credits(id: blocks[index], quantity: quantity, recipients: everyone.filter { $0 != member }),
            ], weight: 1))
        }
        return Result(signers: signers, transactions: count, height: height)
    }
}
