// ClusterLoad.swift — the load of `trellis bench cluster`: chains of pre-signed certificate split transfers and
// credit transfers, one nonce run per signer, sent in binary batches (POST /v1/txs) at a paced offered rate.
//
// Each transaction spends the output the previous one of its chain returned to the signer: the ids of created
// objects are derived from the transaction hash (`<prefix>-<SHA-256(tx hash ‖ u32 index)[0..20]>`, as the ledger
// derives them), so a whole chain can be signed before anything is sent. Transactions are signed in nonce order per
// signer and queued round-robin across signers; what a phase does not send stays queued for the next phase, so no
// nonce is ever skipped. Refusals for capacity (mempool full, nonce too far ahead) are retried after a pause: at
// saturation the offered load becomes what the cluster admits.
import Foundation
import TrellisAPI
import TrellisCodec
import TrellisCrypto
import TrellisLedger
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One pre-signed transaction.
struct SignedTx: Sendable {
    let bytes: [UInt8]
    let hash: Hash
}

/// A signer and the assets it spends, in nonce order.
final class LoadSigner: @unchecked Sendable {
    enum Asset {
        case certificate(id: String, face: UInt64, nextHolder: String)
        case credits(id: String, quantity: UInt64, recipients: [String])
    }

    let memberID: String
    let key: SigningKey
    var nonce: UInt64
    var assets: [Asset]
    /// Transactions this signer emits per round (split-transfer signers emit more, to balance the mix).
    let weight: Int
    private var turn = 0
    private var counter = 0

    init(memberID: String, key: SigningKey, nextNonce: UInt64, assets: [Asset], weight: Int) {
        self.memberID = memberID
        self.key = key
        self.nonce = nextNonce
        self.assets = assets
        self.weight = weight
    }

    /// The next `count` transactions of this signer (consecutive nonces), each spending its chain's last output.
    func sign(_ count: Int, chainID: String, expiresAt: UInt64) -> [SignedTx] {
        var out: [SignedTx] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            let a = turn % assets.count
            turn += 1
            counter += 1
            let kind: String, payload: [UInt8]
            switch assets[a] {
            case .certificate(let id, let face, let other):
                kind = "certificate.split_transfer"
                payload = CertificateSplitTransferPayload(certID: id, outputs: [SplitOutput(to: other, amount: 1), SplitOutput(to: memberID, amount: face - 1)]).canonicalBytes
            case .credits(let id, let quantity, let recipients):
                kind = "credits.transfer"
                let to = recipients[counter % recipients.count]
                payload = CreditsTransferPayload(blockID: id, outputs: [CreditsOutput(to: to, quantity: 1), CreditsOutput(to: memberID, quantity: quantity - 1)]).canonicalBytes
            }
            let body = TransactionBody(chainID: chainID, kind: kind, payload: payload, signer: memberID, nonce: nonce, expiresAtHeight: expiresAt, cosigners: [])
            nonce += 1
            let tx = Transaction.signed(body, by: [(memberID, key)])
            let bytes = tx.canonicalBytes
            let hash = SHA256.hash(bytes)
            switch assets[a] {
            case .certificate(_, let face, let other):
                assets[a] = .certificate(id: derivedID("cert", hash, 1), face: face - 1, nextHolder: other)
            case .credits(_, let quantity, let recipients):
                assets[a] = .credits(id: derivedID("cblock", hash, 1), quantity: quantity - 1, recipients: recipients)
            }
            out.append(SignedTx(bytes: bytes, hash: hash))
        }
        return out
    }
}

/// The ledger's derivation of created ids (ExecutionContext.derivedID).
func derivedID(_ prefix: String, _ txHash: Hash, _ index: UInt32) -> String {
    var encoder = CanonicalEncoder()
    encoder.encode(fixed: txHash.bytes)
    encoder.encode(index)
    return prefix + "-" + String(SHA256.hash(encoder.bytes).hex.prefix(20))
}

/// Pre-signed transactions waiting to be sent, in sending order.
final class LoadQueue: @unchecked Sendable {
    let signers: [LoadSigner]
    let chainID: String
    private(set) var pending: [SignedTx] = []
    private var head = 0
    /// Transactions taken for sending, and their canonical bytes.
    private(set) var sentCount = 0
    private(set) var sentBytes = 0

    init(signers: [LoadSigner], chainID: String) {
        self.signers = signers
        self.chainID = chainID
    }

    var available: Int { pending.count - head }

    /// Makes at least `count` transactions available, signing on all cores (one signer per task).
    func fill(to count: Int, expiresAt: UInt64) {
        let missing = count - available
        guard missing > 0 else { return }
        let weightSum = signers.reduce(0) { $0 + $1.weight }
        let rounds = (missing + weightSum - 1) / weightSum
        let signed = LockedBox<[[SignedTx]]>(Array(repeating: [], count: signers.count))
        let signers = self.signers, chainID = self.chainID
        DispatchQueue.concurrentPerform(iterations: signers.count) { i in
            let txs = signers[i].sign(rounds * signers[i].weight, chainID: chainID, expiresAt: expiresAt)
            signed.withLock { $0[i] = txs }
        }
        let perSigner = signed.withLock { $0 }
        if head > 0 {
            pending.removeFirst(head)
            head = 0
        }
        pending.reserveCapacity(pending.count + rounds * weightSum)
        for r in 0..<rounds {
            for (i, s) in signers.enumerated() {
                pending.append(contentsOf: perSigner[i][(r * s.weight)..<((r + 1) * s.weight)])
            }
        }
    }

    /// Takes up to `count` transactions from the head of the queue.
    func take(_ count: Int) -> [SignedTx] {
        let n = min(count, available)
        let out = Array(pending[head..<(head + n)])
        head += n
        sentCount += n
        sentBytes += out.reduce(0) { $0 + $1.bytes.count }
        return out
    }
}

/// A small lock-protected value.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

final class LockedCounter: @unchecked Sendable {
    private let box = LockedBox(0)
    func add(_ n: Int) { box.withLock { $0 += n } }
    var value: Int { box.withLock { $0 } }
}

/// Sends batches to the nodes at a paced rate and records when each transaction was first sent.
struct LoadSender: Sendable {
    let nodeURLs: [String]
    var batchSize: Int
    let inFlight: Int
    let sentAt: LockedBox<[Hash: UInt64]>
    let errors: LockedBox<[String: Int]>
    /// Admission refusals: `http_429` answers, and `transactions` refused for capacity (in a 429 answer or one by one:
    /// overloaded, signer_backlog, mempool_full, nonce_too_far_ahead) — all retried.
    let refusals: LockedBox<[String: Int]>
    let session: URLSession
    /// At most this many sent transactions may wait for their commit: above it the sender pauses (closed loop), so
    /// the mempools never overflow and no nonce run gets a gap.
    let maxOutstanding: Int

    /// Offers `rate` tx/s for `seconds` from `queue` (which must hold rate × seconds transactions). Returns how many
    /// transactions the nodes admitted. Batches behind schedule go at once; refusals for capacity are retried.
    func run(queue: LoadQueue, rate: Double, seconds: Double) async -> Int {
        let total = Int(rate * seconds)
        let batches = (total + batchSize - 1) / batchSize
        let start = monotonicNanoseconds()
        let next = LockedBox(0)
        let admitted = LockedCounter()
        let queueLock = LockedBox(())
        let deadline = start + UInt64((seconds + 300) * 1e9)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<inFlight {
                group.addTask {
                    while true {
                        let b = next.withLock { n -> Int in
                            n += 1
                            return n - 1
                        }
                        guard b < batches else { return }
                        let due = start + UInt64(Double(b * batchSize) / rate * 1e9)
                        let now = monotonicNanoseconds()
                        if due > now { try? await Task.sleep(nanoseconds: due - now) }
                        while sentAt.withLock({ $0.count }) > maxOutstanding { try? await Task.sleep(nanoseconds: 100_000_000) }
                        // The phase ends on time even when the closed loop held the sender back: what was not taken
                        // stays queued, in order, for the next phase.
                        guard monotonicNanoseconds() < start + UInt64(seconds * 1e9) else { return }
                        let txs = queueLock.withLock { _ in queue.take(min(batchSize, total - b * batchSize)) }
                        admitted.add(await send(txs, to: nodeURLs[b % nodeURLs.count], deadline: deadline))
                    }
                }
            }
        }
        return admitted.value
    }

    /// Posts one batch, retrying the transactions refused for capacity until `deadline`.
    private func send(_ txs: [SignedTx], to node: String, deadline: UInt64) async -> Int {
        var remaining = txs
        var admitted = 0
        var first = true
        while !remaining.isEmpty {
            let now = monotonicNanoseconds()
            if first {
                sentAt.withLock { m in for tx in remaining { m[tx.hash] = now } }
                first = false
            }
            var request = URLRequest(url: URL(string: node + "/v1/txs")!, timeoutInterval: 60)
            request.httpMethod = "POST"
            request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(TransactionBatch.encode(remaining.map(\.bytes)))
            var retry: [SignedTx] = []
            var pauseNanoseconds: UInt64 = 100_000_000
            do {
                let (data, response) = try await session.data(for: request)
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                if status == 429 {
                    // Admission control: the node asks us to come back later; honour Retry-After (at most 2 s here,
                    // so a step keeps offering its rate).
                    let seconds = Double((response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Retry-After") ?? "") ?? 1
                    pauseNanoseconds = UInt64(min(max(seconds, 0.1), 2) * 1e9)
                    refusals.withLock { $0["http_429", default: 0] += 1; $0["transactions", default: 0] += remaining.count }
                }
                let results = ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["results"] as? [[String: Any]] ?? []
                let answered = status == 200 && results.count == remaining.count
                if !answered {
                    if status != 429 { errors.withLock { $0["http_\(status)", default: 0] += 1 } }  // 429 is counted in `refusals`
                    retry = remaining
                }
                for (tx, result) in zip(remaining, results) where answered {
                    if result["hash"] != nil { admitted += 1; continue }
                    let error = result["error"] as? [String: Any]
                    let code = (error?["code"] as? String) ?? "unknown"
                    switch code {
                    case "mempool_full", "nonce_too_far_ahead", "overloaded", "signer_backlog":
                        retry.append(tx)
                        refusals.withLock { $0["transactions", default: 0] += 1 }
                        // Admission control's per-item hint, honoured like a 429's Retry-After (at most 2 s).
                        if let seconds = error?["retry_after_s"] as? Int {
                            pauseNanoseconds = max(pauseNanoseconds, UInt64(min(max(Double(seconds), 0.1), 2) * 1e9))
                        }
                    case "duplicate_transaction": admitted += 1
                    default:
                        errors.withLock { $0[code, default: 0] += 1 }
                        _ = sentAt.withLock { $0.removeValue(forKey: tx.hash) }
                    }
                }
            } catch {
                retry = remaining
                errors.withLock { $0["transport", default: 0] += 1 }
            }
            remaining = retry
            if remaining.isEmpty || monotonicNanoseconds() > deadline {
                if !remaining.isEmpty {
                    errors.withLock { $0["gave_up", default: 0] += remaining.count }
                    sentAt.withLock { m in for tx in remaining { m.removeValue(forKey: tx.hash) } }
                }
                break
            }
            try? await Task.sleep(nanoseconds: pauseNanoseconds)
        }
        return admitted
    }
}

func monotonicNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
