// ClusterLoad.swift — the load of `trellis bench cluster`: chains of pre-signed certificate split transfers and
// credit transfers from many signers, one nonce run per signer, sent in binary batches (POST /v1/txs) at a paced
// offered rate.
//
// Each transaction spends the output the previous one of its chain returned to the signer: the ids of created
// objects are derived from the transaction hash (`<prefix>-<SHA-256(tx hash ‖ u32 index)[0..20]>`, as the ledger
// derives them), so a whole chain can be signed before anything is sent. The signers are split into lanes, one
// request in flight per lane and each lane bound to one node, so a signer's nonce run goes to one node in order.
// Transactions are signed in nonce order per signer and queued round-robin across a lane's signers; what a phase does
// not send stays queued for the next phase, so no nonce is ever skipped. Refusals for capacity (429, overloaded,
// signer backlog, mempool full) go back to the front of their lane after the pause the node asked for: at
// saturation the offered load becomes what the cluster admits.
import Foundation
import TrellisAPI
import TrellisCodec
import TrellisCrypto
import TrellisLedger

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

/// Pre-signed transactions waiting to be sent, in sending order: one lane's (its signers go to one node only).
final class LoadQueue: @unchecked Sendable {
    let signers: [LoadSigner]
    let chainID: String
    private(set) var pending: [SignedTx] = []
    private var head = 0
    /// Transactions a node refused for capacity, in their order: sent again before anything new, so every signer's
    /// nonce run reaches its node in order and without a gap.
    private var refused: [SignedTx] = []
    /// Transactions taken for sending (the first time), and their canonical bytes.
    private(set) var sentCount = 0
    private(set) var sentBytes = 0

    init(signers: [LoadSigner], chainID: String) {
        self.signers = signers
        self.chainID = chainID
    }

    var available: Int { refused.count + pending.count - head }

    /// Transactions a node refused for capacity and not yet sent again. A phase that ends on time leaves them here,
    /// first sent in that phase: the next phase would send them before anything new (`resendRefused` sends them
    /// while the cluster drains, so that a measured phase sends only its own transactions).
    var refusedCount: Int { refused.count }

    /// Takes up to `count` of the refused transactions only (in their order), nothing new.
    func takeRefused(_ count: Int) -> [SignedTx] {
        let out = Array(refused.prefix(count))
        refused.removeFirst(out.count)
        return out
    }

    /// Makes at least `count` transactions available, signing on all cores (one signer per task).
    func fill(to count: Int, expiresAt: UInt64) {
        let missing = count - available
        guard missing > 0, !signers.isEmpty else { return }
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

    /// Takes up to `count` transactions: the refused ones first, then from the head of the queue.
    func take(_ count: Int) -> [SignedTx] {
        var out = Array(refused.prefix(count))
        refused.removeFirst(out.count)
        let n = min(count - out.count, pending.count - head)
        let fresh = pending[head..<(head + n)]
        out.append(contentsOf: fresh)
        head += n
        sentCount += n
        sentBytes += fresh.reduce(0) { $0 + $1.bytes.count }
        return out
    }

    /// Puts transactions a node refused for capacity back in front of everything not yet sent (`txs` in the order
    /// they were taken, which is each signer's nonce order).
    func putBack(_ txs: [SignedTx]) {
        refused = txs + refused
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

/// The sender's clock: monotonic nanoseconds, and a blocking sleep until a deadline on it (the lanes' own threads).
/// Injected so that the pacing can be checked on a clock a test moves (`ClusterLoadTests`).
struct LoadClock: Sendable {
    let now: @Sendable () -> UInt64
    /// Blocks the calling thread (never a task of the cooperative pool) until `now()` reaches the deadline.
    let sleepUntil: @Sendable (UInt64) -> Void

    static let system = LoadClock(now: { monotonicNanoseconds() }, sleepUntil: { deadline in
        let now = monotonicNanoseconds()
        if deadline > now { sleepNanoseconds(deadline - now) }
    })
}

/// What a node answered to one batch: how many it admitted, which it refused for capacity (to send again, in order)
/// and how long it asked the client to wait.
struct BatchAnswer: Sendable {
    var admitted: Int
    var refused: [SignedTx]
    var pauseNanoseconds: UInt64
}

/// Sends batches to the nodes at a paced rate and records when each transaction was sent.
///
/// One lane per queue: lane k sends only its own signers' transactions, only to node k mod nodes, one request at a
/// time over its own kept-alive connection (`LoadConnection`, blocking calls on the lane's own thread), so each
/// signer's nonce run reaches one node in order. A transaction refused for capacity goes back to the front of its
/// lane (the lane pauses as the node asked) and is sent again before anything newer: refusals never leave a nonce gap
/// for other transactions to wait behind.
struct LoadSender: Sendable {
    /// One connection per lane (lane k's to node k mod nodes), kept across phases.
    let connections: [LoadConnection]
    var batchSize: Int
    /// Sent, admitted and not yet committed transactions → when they were sent (the latency's start).
    let sentAt: LockedBox<[Hash: UInt64]>
    /// Transaction → its first send (kept across refusals and re-sends; the latency counts from here).
    let firstSentAt: LockedBox<[Hash: UInt64]>
    let errors: LockedBox<[String: Int]>
    /// Admission refusals: `http_429` answers, and `transactions` refused for capacity (in a 429 answer or one by one:
    /// overloaded, signer_backlog, mempool_full, nonce_too_far_ahead) — all sent again.
    let refusals: LockedBox<[String: Int]>
    /// At most this many sent transactions may wait for their commit: above it the sender pauses (closed loop), so
    /// the mempools never overflow.
    let maxOutstanding: Int

    /// Offers `rate` tx/s in all for `seconds`, split evenly over the lanes `queues` (each must hold its share of
    /// rate × seconds; lane k sends over `connections[k]`). Returns how many transactions the nodes admitted. Batches
    /// behind schedule go at once; the phase ends on time, leaving what was not sent (refused ones first) queued for
    /// the next phase.
    func run(queues: [LoadQueue], rate: Double, seconds: Double) async -> Int {
        precondition(queues.count <= connections.count, "one connection per lane")
        return await run(queues: queues, rate: rate, seconds: seconds, clock: .system) { txs, lane in send(txs, over: connections[lane]) }
    }

    /// `run` on `clock`, each batch posted by `post` (transactions, lane). The phase lasts `seconds` however early the
    /// lanes have sent their shares: a lane's last batch is due one batch interval before the end (at 250 tx/s in
    /// batches of 500 over 4 lanes, at 6 of 8 s), and a step that ended there measured its window and its CPU over 6 s
    /// (until the twenty-second session).
    func run(queues: [LoadQueue], rate: Double, seconds: Double, clock: LoadClock,
             post: @escaping @Sendable ([SignedTx], Int) -> BatchAnswer) async -> Int {
        let laneRate = rate / Double(max(1, queues.count))
        let total = Int(laneRate * seconds)
        let start = clock.now()
        let end = start + UInt64(seconds * 1e9)
        let admitted = LockedCounter()
        let batchSize = self.batchSize, sentAt = self.sentAt, maxOutstanding = self.maxOutstanding
        await withTaskGroup(of: Void.self) { group in
            for (lane, queue) in queues.enumerated() {
                group.addTask {
                    // Blocking sends and sleeps: on a thread of the lane's own, never on the cooperative pool.
                    await onThread {
                        var offered = 0
                        while offered < total {
                            let size = min(batchSize, total - offered)
                            let due = start + LoadSender.dueOffset(offered: offered, size: size, lane: lane, lanes: queues.count, rate: rate)
                            clock.sleepUntil(min(due, end))
                            while sentAt.withLock({ $0.count }) > maxOutstanding && clock.now() < end { clock.sleepUntil(min(clock.now() + 100_000_000, end)) }
                            guard clock.now() < end else { return }
                            let txs = queue.take(size)
                            guard !txs.isEmpty else { return }
                            let answer = post(txs, lane)
                            admitted.add(answer.admitted)
                            offered += txs.count - answer.refused.count
                            if !answer.refused.isEmpty {
                                queue.putBack(answer.refused)
                                clock.sleepUntil(min(clock.now() + answer.pauseNanoseconds, end))
                            }
                        }
                    }
                }
            }
        }
        // The phase's length is `seconds`, not the time its last batch took to send.
        await onThread { clock.sleepUntil(end) }
        return admitted.value
    }

    /// When a lane's batch is due, in nanoseconds from the phase's start: lanes take turns, as if one sender sent every
    /// batch of the phase at `rate` — lane k's batch after `offered` of its own transactions follows `offered` of each
    /// lane's and k batches of this `size` (the last round's batches are all the lanes' remainders). Lane k's last
    /// batch is due before the phase ends (`offered` + `size` ≤ rate ÷ lanes × seconds); with the full batch size as
    /// the stagger, a last batch of fewer transactions was due at or after the end, and never sent.
    static func dueOffset(offered: Int, size: Int, lane: Int, lanes: Int, rate: Double) -> UInt64 {
        UInt64((Double(offered) * Double(lanes) + Double(lane * size)) / rate * 1e9)
    }

    /// Sends every lane's refused leftovers (`LoadQueue.refusedCount`) again, in order, each lane over its own
    /// connection, honouring the pauses the nodes ask for, until none is left or `seconds` have passed; nothing new is
    /// sent. Returns how many were sent and how many are still left. A phase that ends on time leaves up to a batch per
    /// lane refused, first sent in it; the next phase used to send those first, at its own rate, so a short phase after
    /// a saturated one sent nothing of its own (0 latency samples: its samples are the transactions first sent in it).
    func resendRefused(queues: [LoadQueue], seconds: Double) async -> (sent: Int, left: Int) {
        precondition(queues.count <= connections.count, "one connection per lane")
        return await resendRefused(queues: queues, seconds: seconds, clock: .system) { txs, lane in send(txs, over: connections[lane]) }
    }

    /// `resendRefused` on `clock`, each batch posted by `post` (transactions, lane).
    func resendRefused(queues: [LoadQueue], seconds: Double, clock: LoadClock,
                       post: @escaping @Sendable ([SignedTx], Int) -> BatchAnswer) async -> (sent: Int, left: Int) {
        let end = clock.now() + UInt64(seconds * 1e9)
        let sent = LockedCounter()
        let batchSize = self.batchSize
        await withTaskGroup(of: Void.self) { group in
            for (lane, queue) in queues.enumerated() {
                group.addTask {
                    await onThread {
                        while queue.refusedCount > 0 && clock.now() < end {
                            let txs = queue.takeRefused(batchSize)
                            let answer = post(txs, lane)
                            sent.add(txs.count - answer.refused.count)
                            if !answer.refused.isEmpty {
                                queue.putBack(answer.refused)
                                clock.sleepUntil(min(clock.now() + answer.pauseNanoseconds, end))
                            }
                        }
                    }
                }
            }
        }
        return (sent.value, queues.reduce(0) { $0 + $1.refusedCount })
    }

    /// Posts one batch: how many the node admitted, which it refused for capacity (to send again, in order) and how
    /// long it asked the client to wait.
    func send(_ txs: [SignedTx], over connection: LoadConnection) -> BatchAnswer {
        let now = monotonicNanoseconds()
        sentAt.withLock { m in for tx in txs { m[tx.hash] = now } }
        firstSentAt.withLock { m in for tx in txs where m[tx.hash] == nil { m[tx.hash] = now } }
        var refused: [SignedTx] = []
        var admitted = 0
        var pauseNanoseconds: UInt64 = 100_000_000
        do {
            let answer = try connection.request("POST", path: "/v1/txs", headers: [("Content-Type", "application/octet-stream")],
                                                body: TransactionBatch.encode(txs.map(\.bytes)))
            let status = answer.status
            if status == 429 {
                // Admission control: the node asks us to come back later; honour Retry-After (at most 2 s here, so a
                // step keeps offering its rate).
                let seconds = Double(answer.headers["retry-after"] ?? "") ?? 1
                pauseNanoseconds = UInt64(min(max(seconds, 0.1), 2) * 1e9)
                refusals.withLock { $0["http_429", default: 0] += 1; $0["transactions", default: 0] += txs.count }
            }
            if status == 200, let counts = Self.batchCounts(answer.body), counts.refused == 0, counts.accepted == txs.count {
                // Every transaction admitted (the answer's leading counts say so): no need to read the items.
                admitted = txs.count
            } else if status == 200, let results = ((try? JSONSerialization.jsonObject(with: Data(answer.body))) as? [String: Any])?["results"] as? [[String: Any]],
                      results.count == txs.count {
                for (tx, result) in zip(txs, results) {
                    if result["hash"] != nil { admitted += 1; continue }
                    let error = result["error"] as? [String: Any]
                    let code = (error?["code"] as? String) ?? "unknown"
                    switch code {
                    case "mempool_full", "nonce_too_far_ahead", "overloaded", "signer_backlog":
                        refused.append(tx)
                        refusals.withLock { $0["transactions", default: 0] += 1 }
                        // Admission control's per-item hint, honoured like a 429's Retry-After (at most 2 s).
                        if let seconds = error?["retry_after_s"] as? Int {
                            pauseNanoseconds = max(pauseNanoseconds, UInt64(min(max(Double(seconds), 0.1), 2) * 1e9))
                        }
                    case "duplicate_transaction": admitted += 1
                    default:
                        errors.withLock { $0[code, default: 0] += 1 }
                        _ = sentAt.withLock { $0.removeValue(forKey: tx.hash) }
                        _ = firstSentAt.withLock { $0.removeValue(forKey: tx.hash) }
                    }
                }
            } else {
                if status != 429 { errors.withLock { $0["http_\(status)", default: 0] += 1 } }  // 429 is counted in `refusals`
                refused = txs
            }
        } catch {
            refused = txs
            errors.withLock { $0["transport", default: 0] += 1 }
        }
        // Refused transactions are not outstanding: they are stamped again when they are sent again.
        if !refused.isEmpty { sentAt.withLock { m in for tx in refused { m.removeValue(forKey: tx.hash) } } }
        return BatchAnswer(admitted: admitted, refused: refused, pauseNanoseconds: pauseNanoseconds)
    }

    /// The leading counts of a `POST /v1/txs` answer, `{"accepted":A,"refused":R,…` as the API writes it
    /// (`Routes.batchAnswer`); nil when the body does not start that way (then its items are read).
    static func batchCounts(_ body: [UInt8]) -> (accepted: Int, refused: Int)? {
        var at = 0
        func expect(_ text: String) -> Bool {
            let bytes = Array(text.utf8)
            guard at + bytes.count <= body.count, body[at..<(at + bytes.count)].elementsEqual(bytes) else { return false }
            at += bytes.count
            return true
        }
        func number() -> Int? {
            var value = 0, digits = 0
            while at < body.count, body[at] >= 48, body[at] <= 57, digits < 9 {
                value = value * 10 + Int(body[at] - 48)
                at += 1
                digits += 1
            }
            return digits > 0 ? value : nil
        }
        guard expect("{\"accepted\":"), let accepted = number(), expect(",\"refused\":"), let refused = number(), expect(",") else { return nil }
        return (accepted, refused)
    }
}

/// Runs `body` on a new thread of its own and returns when it has finished (blocking work kept off the cooperative pool).
func onThread(_ body: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let thread = Thread {
            body()
            continuation.resume()
        }
        thread.start()
    }
}

/// Sleeps the calling thread (a lane's own thread, never the cooperative pool).
func sleepNanoseconds(_ nanoseconds: UInt64) {
    guard nanoseconds > 0 else { return }
    var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

func monotonicNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
