// Mempool.swift — pending transactions: bounded, deduplicated, verified once, ordered per signer by nonce.
//
// Guarantees:
// - Bounded by count, by bytes and per signer; a full pool refuses new transactions (`MempoolError.full`, which the
//   API answers with 503) instead of growing.
// - A transaction is decoded strictly, size-checked, its envelope checked against the ledger view (chain id,
//   expiry, signer known and active, keys belong to the members, nonce not stale), its payload checked statelessly,
//   and its signatures verified exactly once. Its hash is then remembered as verified (`isVerified`), so block
//   validation on this node never verifies it again.
// - `reap` returns, for each signer, a gap-free run of nonces starting at the ledger's next nonce, signers taken in
//   order of first arrival: a proposer never includes a transaction that must fail for a nonce gap.
// - `update(afterCommitting:)` evicts included, expired and stale transactions.
// - `addBatch` checks a batch in order and verifies all its signatures together on all cores.
// - Admission control (clients only) refuses before any work it can spare: a whole batch under the lock's counts before
//   anything is decoded; within a batch, a transaction past the totals before it is decoded or hashed, one past its
//   signer's run before its signatures are verified (`work` counts what was decoded and verified).
// Thread-safe: one lock guards the pool; signature verification runs outside it.
import NIOConcurrencyHelpers
import TrellisCodec
import TrellisCrypto
import TrellisLedger

/// What the mempool needs to know about the ledger (the node implements it over the committed state).
public protocol MempoolLedgerView: Sendable {
    var chainID: String { get }
    /// The height of the last committed block.
    var committedHeight: UInt64 { get }
    /// The chain's `max_tx_lifetime_blocks` parameter as of the last committed block.
    var maxTxLifetimeBlocks: UInt64 { get }
    /// The signer's record and next expected nonce, or nil when the member does not exist.
    func account(_ memberID: String) -> MempoolAccount?
    /// The signer's next expected nonce alone (what `reap` and `update` need for signers already admitted: one read
    /// instead of the member's record and its nonce), or nil when it cannot be read.
    func nextNonce(_ memberID: String) -> UInt64?
    /// Stateless checks of the kind and payload (the contract registry); throws `TxRejection`.
    func precheck(_ transaction: Transaction) throws(TxRejection)
}

extension MempoolLedgerView {
    public func nextNonce(_ memberID: String) -> UInt64? { account(memberID)?.nextNonce }
}

public struct MempoolAccount: Sendable {
    public let member: Member
    public let nextNonce: UInt64

    public init(member: Member, nextNonce: UInt64) {
        self.member = member
        self.nextNonce = nextNonce
    }
}

public struct MempoolConfiguration: Sendable {
    public var maxTransactions: Int = 50_000
    public var maxBytes: Int = 128 << 20
    public var maxPerSigner: Int = 2_000
    /// Admission control for client submissions (peers' gossip is not subject to it): while this many transactions
    /// are pending — the next blocks' worth — new ones are refused with `overloaded` (API 429 + Retry-After), so
    /// the node does not spend CPU and memory on work the cluster cannot finish soon. The upper bound: the limit in
    /// force is `admissionBlocks` × the block size this node measures (`setMeasuredBlockTransactions`), at most this.
    public var admissionMaxPending: Int = 10_000
    /// How many blocks' worth of pending transactions admission control lets in (`[mempool] admission_blocks`).
    public var admissionBlocks: Int = 2
    /// …or while this many bytes are pending.
    public var admissionMaxPendingBytes: Int = 32 << 20
    /// A signer with this many pending transactions gets `signer_backlog` (429) for its next ones.
    public var admissionMaxSignerRun: Int = 1_000
    /// Transactions one block takes at most (`max_block_transactions`): the block size assumed until this node has
    /// measured one; sizes the admission limit and the Retry-After estimate (about one block per second).
    public var blockTransactions: Int = 5_000
    public init() {}

    /// The pending transactions admission control allows when blocks take `measuredBlockTransactions` each.
    func admissionLimit(measuredBlockTransactions: Int) -> Int {
        min(admissionMaxPending, max(1, admissionBlocks * measuredBlockTransactions))
    }

    /// Seconds a refused client should wait: the blocks (of `blockTransactions`, default the configured size) needed
    /// to drain `pending` below half the admission limit, at about one block per second, 1…60.
    func retryAfterSeconds(pending: Int, limit: Int? = nil, blockTransactions: Int? = nil) -> Int {
        let block = max(blockTransactions ?? self.blockTransactions, 1)
        let excess = max(0, pending - (limit ?? admissionMaxPending) / 2)
        return min(60, max(1, (excess + block - 1) / block))
    }
}

/// Who submitted a transaction: clients are subject to admission control, peers (gossip) are not — a transaction
/// a peer admitted is already in the cluster and will be proposed somewhere.
public enum MempoolOrigin: Sendable {
    case client
    case peer
}

/// Why a transaction was not admitted. `code` is stable for API clients.
public enum MempoolError: Error, Equatable, CustomStringConvertible {
    case full(transactions: Int, bytes: Int)
    case signerFull(String)
    case duplicate(Hash)
    case tooLarge(bytes: Int, limit: Int)
    /// Admission control: the pending transactions exceed what the next blocks can take.
    case overloaded(pending: Int, limit: Int, retryAfterSeconds: Int)
    /// Admission control: this signer's pending run is already long.
    case signerBacklog(signer: String, pending: Int, limit: Int, retryAfterSeconds: Int)
    case malformed(String)
    case wrongChain(expected: String, actual: String)
    case expired(expiresAt: UInt64, height: UInt64)
    case expiryTooFar(expiresAt: UInt64, latest: UInt64, lifetime: UInt64)
    case unknownSigner(String)
    case inactiveMember(String)
    case missingSignatures
    case keyNotRegistered(member: String, key: PublicKey)
    case badSignature(member: String)
    case staleNonce(expected: UInt64, actual: UInt64)
    case nonceTooFarAhead(expected: UInt64, actual: UInt64)
    case nonceTaken(signer: String, nonce: UInt64)
    case rejected(TxRejection)

    public var code: String {
        switch self {
        case .full, .signerFull: return "mempool_full"
        case .duplicate: return "duplicate_transaction"
        case .tooLarge: return "transaction_too_large"
        case .overloaded: return "overloaded"
        case .signerBacklog: return "signer_backlog"
        case .malformed: return "malformed_transaction"
        case .wrongChain: return "wrong_chain"
        case .expired: return "expired"
        case .expiryTooFar: return EnvelopeRejection.expiryTooFar
        case .unknownSigner: return "unknown_signer"
        case .inactiveMember: return "member_not_active"
        case .missingSignatures: return "missing_signatures"
        case .keyNotRegistered: return "key_not_registered"
        case .badSignature: return "bad_signature"
        case .staleNonce: return "stale_nonce"
        case .nonceTooFarAhead: return "nonce_too_far_ahead"
        case .nonceTaken: return "nonce_taken"
        case .rejected(let r): return r.code
        }
    }

    /// Seconds to wait before retrying, for the refusals of admission control (the API's Retry-After).
    public var retryAfterSeconds: Int? {
        switch self {
        case .overloaded(_, _, let r), .signerBacklog(_, _, _, let r): return r
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .full(let n, let b): return "mempool is full (\(n) transactions, \(b) bytes); retry later"
        case .signerFull(let s): return "signer \(s) has too many pending transactions; wait for some to commit"
        case .duplicate(let h): return "transaction \(h.hex) is already pending"
        case .tooLarge(let b, let l): return "transaction is \(b) bytes; the limit is \(l)"
        case .overloaded(let p, let l, let r):
            return "the node is overloaded: \(p) transactions are ready for the next blocks, more than they can take (admission limit \(l)); retry in \(r) s"
        case .signerBacklog(let s, let p, let l, let r):
            return "signer \(s) already has \(p) transactions ready for the next blocks (admission limit \(l)); retry in \(r) s, after some commit"
        case .malformed(let m): return "transaction does not decode: \(m)"
        case .wrongChain(let e, let a): return "transaction is for chain \"\(a)\", this chain is \"\(e)\""
        case .expired(let e, let h): return "transaction expired at height \(e); the chain is at \(h)"
        case .expiryTooFar(let e, let l, let n): return "expires_at_height \(e) is beyond height \(l) (next height + max_tx_lifetime_blocks \(n)); no block could include it"
        case .unknownSigner(let s): return "signer \(s) is not a member"
        case .inactiveMember(let s): return "member \(s) is not active"
        case .missingSignatures: return "the signer and every listed co-signer must sign exactly once"
        case .keyNotRegistered(let m, let k): return "key \(k.hex) is not registered to member \(m)"
        case .badSignature(let m): return "signature of \(m) does not verify"
        case .staleNonce(let e, let a): return "nonce \(a) is already used; the next nonce is \(e)"
        case .nonceTooFarAhead(let e, let a): return "nonce \(a) is too far ahead of the next nonce \(e)"
        case .nonceTaken(let s, let n): return "a transaction of \(s) with nonce \(n) is already pending"
        case .rejected(let r): return r.message
        }
    }
}

public final class Mempool: Sendable {
    private struct Entry {
        let transaction: Transaction
        let hash: Hash
        let bytes: Int
        let arrival: UInt64
    }

    /// A signer's ready run: its pending transactions with consecutive nonces from the ledger's next nonce — the
    /// only ones the next blocks can take (`reap`). `end` is the first nonce past the run.
    private struct ReadyRun {
        var end: UInt64
        var count: Int
        /// The run's bytes (its share of `readyBytes`).
        var bytes = 0
    }

    private struct Pool {
        var byHash: [Hash: Entry] = [:]
        /// signer → nonce → hash
        var bySigner: [String: [UInt64: Hash]] = [:]
        /// Hashes whose signatures this node verified (kept for included transactions until the next update).
        var verified: Set<Hash> = []
        var totalBytes = 0
        /// Every signer's ready run, and their totals: what admission control counts. Transactions behind a nonce
        /// gap are not counted — the next blocks cannot take them, and counting them once refused the very
        /// transactions that would fill the gaps, for ever (a mempool full of gapped runs above the limit).
        var runs: [String: ReadyRun] = [:]
        /// signer → the arrival of its earliest pending transaction (the order `reap` takes signers in).
        var firstArrival: [String: UInt64] = [:]
        var readyCount = 0
        var readyBytes = 0
        /// expiry height → the pending transactions that expire after it: what `update` drops as heights pass.
        var byExpiry: [UInt64: Set<Hash>] = [:]
        /// Commits seen (`update` calls): an insertion whose ledger reads came before the latest one may have read a
        /// nonce that commit moved.
        var commits: UInt64 = 0
        /// Signers inserted with ledger reads older than the latest commit: the next `update` reads them again.
        var unsettled: Set<String> = []
        var nextArrival: UInt64 = 0
        /// The block size admission control counts in: the configured maximum until the node measures its blocks.
        var blockTransactions: Int
        var work = Work()
    }

    /// One transaction of a batch: still encoded (a client's bytes, decoded only once admission control has room for
    /// it) or decoded (a peer's gossip).
    private enum Candidate {
        case encoded([UInt8])
        case decoded(Transaction)
    }

    public let configuration: MempoolConfiguration
    private let pool: NIOLockedValueBox<Pool>

    public init(configuration: MempoolConfiguration = MempoolConfiguration()) {
        self.configuration = configuration
        pool = NIOLockedValueBox(Pool(blockTransactions: max(1, configuration.blockTransactions)))
    }

    /// The block size this node's blocks actually take now (the proposer's budget, `BlockBudget`): admission control
    /// lets in `admissionBlocks` blocks of this size, not of `max_block_transactions` — blocks far smaller than the
    /// maximum (a slow machine) would otherwise let a dozen heights of backlog in. Clamped to 1…blockTransactions.
    public func setMeasuredBlockTransactions(_ transactions: Int) {
        let clamped = min(max(transactions, 1), max(configuration.blockTransactions, 1))
        pool.withLockedValue { $0.blockTransactions = clamped }
    }

    /// The pending transactions past which clients are refused now.
    public var admissionLimit: Int { pool.withLockedValue { configuration.admissionLimit(measuredBlockTransactions: $0.blockTransactions) } }

    public var count: Int { pool.withLockedValue { $0.byHash.count } }
    /// Pending transactions the next blocks can take: per signer the gap-free nonce run from its next nonce.
    public var readyCount: Int { pool.withLockedValue { $0.readyCount } }
    public var byteCount: Int { pool.withLockedValue { $0.totalBytes } }

    public func contains(_ hash: Hash) -> Bool { pool.withLockedValue { $0.byHash[hash] != nil } }

    /// The pending transaction with this hash, if any.
    public func transaction(_ hash: Hash) -> Transaction? { pool.withLockedValue { $0.byHash[hash]?.transaction } }

    /// True when this node verified the signatures of the transaction with this hash.
    public func isVerified(_ hash: Hash) -> Bool { pool.withLockedValue { $0.verified.contains(hash) } }

    /// Decodes, checks, verifies and admits a transaction from untrusted bytes. Returns its hash.
    @discardableResult
    public func add(_ bytes: [UInt8], origin: MempoolOrigin = .client, ledger: MempoolLedgerView) throws(MempoolError) -> Hash {
        guard bytes.count <= Limits.maxTransactionBytes else { throw .tooLarge(bytes: bytes.count, limit: Limits.maxTransactionBytes) }
        if origin == .client, let refusal = pool.withLockedValue({ admissionRefusal($0, signer: nil, size: bytes.count) }) { throw refusal }
        let tx: Transaction
        pool.withLockedValue { $0.work.decodedTransactions += 1 }
        do { tx = try Transaction.decode(bytes) } catch { throw .malformed(error.description) }
        return try add(tx, encodedBytes: bytes.count, origin: origin, ledger: ledger)
    }

    /// Checks and admits a decoded transaction.
    @discardableResult
    public func add(_ tx: Transaction, encodedBytes: Int? = nil, origin: MempoolOrigin = .peer, ledger: MempoolLedgerView) throws(MempoolError) -> Hash {
        let hash = tx.hash
        let size = encodedBytes ?? tx.canonicalBytes.count
        if contains(hash) { throw .duplicate(hash) }
        // Admission control before any signature work: refusing early is what keeps an overloaded node's CPU for
        // the blocks it can still finish.
        if origin == .client, let refusal = pool.withLockedValue({ admissionRefusal($0, signer: tx.body.signer, size: size) }) { throw refusal }
        let commitsBeforeReads = pool.withLockedValue { $0.commits }
        var accounts = AccountReads(ledger: ledger)
        let nextNonce = try checkEnvelope(tx, accounts: &accounts, lifetime: ledger.maxTxLifetimeBlocks)
        do { try ledger.precheck(tx) } catch { throw .rejected(error) }
        // Signatures: verified once, outside the lock.
        if !isVerified(hash) {
            pool.withLockedValue { $0.work.verifiedSignatures += tx.signatureChecks.count }
            let results = ParallelVerifier.verify(tx.signatureChecks, concurrency: 1)
            if let bad = results.firstIndex(of: false) { throw .badSignature(member: tx.signatures[bad].memberID) }
        }
        let refusal: MempoolError? = pool.withLockedValue { p in
            insert(tx, hash: hash, size: size, origin: origin, ledgerNextNonce: nextNonce, readAfterCommits: commitsBeforeReads, into: &p)
        }
        if let refusal { throw refusal }
        return hash
    }

    /// Admits a batch of transactions from untrusted bytes: each is decoded and checked as by `add(_:ledger:)`, and
    /// the signatures of all that pass the checks are verified together on all cores (`ParallelVerifier`), once
    /// each. `result[i]` is the hash admitted for `encoded[i]` or why it was refused; one refusal never affects the
    /// others. Transactions are inserted in input order, so a signer's nonce run keeps its order.
    public func addBatch(_ encoded: [[UInt8]], origin: MempoolOrigin = .client, ledger: MempoolLedgerView) -> [Result<Hash, MempoolError>] {
        // Overloaded already: refuse the whole batch before decoding or verifying anything.
        if origin == .client, let refusal = pool.withLockedValue({ admissionRefusal($0, signer: nil, size: 0) }) {
            return encoded.map { _ in .failure(refusal) }
        }
        // Each transaction is decoded inside the checks, after admission control's count has room for it: the tail of
        // a batch that overflows the limit is refused without being decoded or hashed (its cost grew with the offered
        // load: at 3× the peak about a third of each batch).
        return addCandidates(encoded.map { .encoded($0) }, origin: origin, ledger: ledger)
    }

    /// Admits a batch of decoded transactions (from a peer's gossip); as `addBatch(_:ledger:)`.
    public func addBatch(_ transactions: [Transaction], origin: MempoolOrigin = .peer, ledger: MempoolLedgerView) -> [Result<Hash, MempoolError>] {
        addCandidates(transactions.map { .decoded($0) }, origin: origin, ledger: ledger)
    }

    /// What admission has done so far, counted for tests and diagnosis: transactions decoded from a client's or a
    /// peer's bytes, and signatures verified.
    public struct Work: Sendable, Equatable {
        public var decodedTransactions = 0
        public var verifiedSignatures = 0
    }

    /// The admission work done since this pool was created.
    public var work: Work { pool.withLockedValue { $0.work } }

    /// Why admission control refuses a client's transaction now (nil: admit). `signer` nil checks only the totals.
    private func admissionRefusal(_ p: Pool, signer: String?, size: Int) -> MempoolError? {
        admissionRefusal(pending: p.readyCount, pendingBytes: p.readyBytes, signer: signer, signerRun: signer.flatMap { p.runs[$0]?.count } ?? 0,
                         size: size, blockTransactions: p.blockTransactions)
    }

    /// The same decision from counts: `pending`/`pendingBytes` ready in the pool (plus what this batch already let
    /// through), `signerRun` the signer's ready run.
    private func admissionRefusal(pending: Int, pendingBytes: Int, signer: String?, signerRun: Int, size: Int, blockTransactions: Int) -> MempoolError? {
        let c = configuration
        let limit = c.admissionLimit(measuredBlockTransactions: blockTransactions)
        if pending >= limit || pendingBytes + size > c.admissionMaxPendingBytes {
            return .overloaded(pending: pending, limit: limit, retryAfterSeconds: c.retryAfterSeconds(pending: pending, limit: limit, blockTransactions: blockTransactions))
        }
        if let signer, signerRun >= c.admissionMaxSignerRun {
            return .signerBacklog(signer: signer, pending: signerRun, limit: c.admissionMaxSignerRun,
                                  retryAfterSeconds: min(60, max(1, signerRun / max(blockTransactions, 1))))
        }
        return nil
    }

    private func addCandidates(_ candidates: [Candidate], origin: MempoolOrigin, ledger: MempoolLedgerView) -> [Result<Hash, MempoolError>] {
        var results: [Result<Hash, MempoolError>] = Array(repeating: .failure(.malformed("not checked")), count: candidates.count)
        var transactions: [Transaction?] = Array(repeating: nil, count: candidates.count)
        var sizes: [Int?] = Array(repeating: nil, count: candidates.count)  // the encoded size, when it came encoded
        var hashes: [Hash?] = Array(repeating: nil, count: candidates.count)
        var decodedCount = 0
        // 1. Cheap checks, in order; collect the signatures still to verify.
        var pendingChecks: [SignatureCheck] = []
        var checkOwner: [(index: Int, signature: Int)] = []
        var alive: [(index: Int, nextNonce: UInt64)] = []  // with the signer's next nonce in the ledger the checks read
        let lifetime = ledger.maxTxLifetimeBlocks
        // The ledger's committed height and each signer's record and nonce, read once per batch (a batch holds runs
        // of a few signers; each transaction read them again until 2026-12-06).
        let commitsBeforeReads = pool.withLockedValue { $0.commits }
        var accounts = AccountReads(ledger: ledger)
        // Admission control per transaction before any decoding or signature work (a refused one costs neither): the
        // pool's counts now plus what this batch already let through (`added`: per signer). Step 3 checks again
        // under the lock.
        var admission: (pending: Int, bytes: Int, runs: [String: ReadyRun], added: [String: Int], blockTransactions: Int)? = nil
        if origin == .client {
            admission = pool.withLockedValue { p in (p.readyCount, p.readyBytes, p.runs, [:], p.blockTransactions) }
        }
        for (i, candidate) in candidates.enumerated() {
            let tx: Transaction
            switch candidate {
            case .decoded(let decoded):
                tx = decoded
            case .encoded(let bytes):
                guard bytes.count <= Limits.maxTransactionBytes else { results[i] = .failure(.tooLarge(bytes: bytes.count, limit: Limits.maxTransactionBytes)); continue }
                sizes[i] = bytes.count
                // The totals need no decoding: past them, the transaction is refused as it came.
                if let counts = admission, let refusal = admissionRefusal(pending: counts.pending, pendingBytes: counts.bytes, signer: nil, signerRun: 0,
                                                                          size: bytes.count, blockTransactions: counts.blockTransactions) {
                    results[i] = .failure(refusal)
                    continue
                }
                decodedCount += 1
                do { tx = try Transaction.decode(bytes) } catch { results[i] = .failure(.malformed(error.description)); continue }
            }
            transactions[i] = tx
            let hash = tx.hash
            hashes[i] = hash
            if contains(hash) { results[i] = .failure(.duplicate(hash)); continue }
            if let counts = admission {
                // The size of an encoded candidate is its bytes'; a decoded one is encoded once, here (a peer's never: insert sizes it).
                let size = sizes[i] ?? tx.canonicalBytes.count
                sizes[i] = size
                let signer = tx.body.signer
                let run = (counts.runs[signer]?.count ?? 0) + (counts.added[signer] ?? 0)
                if let refusal = admissionRefusal(pending: counts.pending, pendingBytes: counts.bytes, signer: signer, signerRun: run,
                                                  size: size, blockTransactions: counts.blockTransactions) {
                    results[i] = .failure(refusal)
                    continue
                }
            }
            let nextNonce: UInt64
            do { nextNonce = try checkEnvelope(tx, accounts: &accounts, lifetime: lifetime) } catch { results[i] = .failure(error); continue }
            do { try ledger.precheck(tx) } catch { results[i] = .failure(.rejected(error)); continue }
            alive.append((i, nextNonce))
            if admission != nil, let size = sizes[i] {
                admission?.pending += 1
                admission?.bytes += size
                admission?.added[tx.body.signer, default: 0] += 1
            }
            if !isVerified(hash) {
                for (j, check) in tx.signatureChecks.enumerated() {
                    pendingChecks.append(check)
                    checkOwner.append((i, j))
                }
            }
        }
        // 2. All signatures of the batch at once, on all cores.
        var bad: [Int: Int] = [:]  // transaction index → first bad signature
        if !pendingChecks.isEmpty {
            let valid = ParallelVerifier.verify(pendingChecks)
            for (k, ok) in valid.enumerated() where !ok {
                let owner = checkOwner[k]
                if bad[owner.index] == nil { bad[owner.index] = owner.signature }
            }
        }
        // 3. Insert under the lock, in input order.
        pool.withLockedValue { p in
            p.work.decodedTransactions += decodedCount
            p.work.verifiedSignatures += pendingChecks.count
            for (i, nextNonce) in alive {
                guard let tx = transactions[i], let hash = hashes[i] else { continue }
                if let s = bad[i] { results[i] = .failure(.badSignature(member: tx.signatures[s].memberID)); continue }
                if let refusal = insert(tx, hash: hash, size: sizes[i] ?? tx.canonicalBytes.count, origin: origin, ledgerNextNonce: nextNonce,
                                        readAfterCommits: commitsBeforeReads, into: &p) {
                    results[i] = .failure(refusal)
                } else {
                    results[i] = .success(hash)
                }
            }
        }
        return results
    }

    /// Envelope checks against the committed ledger. The expiry must lie in [next height, next height + `lifetime`]:
    /// the executor refuses a later one (`expiry_too_far`) at every height the transaction could reach before it
    /// expires, so admitting it would only hold it until it expired.
    /// Returns the signer's next nonce in `ledger`.
    private func checkEnvelope(_ tx: Transaction, accounts: inout AccountReads, lifetime: UInt64) throws(MempoolError) -> UInt64 {
        let body = tx.body
        let ledger = accounts.ledger
        guard body.chainID == ledger.chainID else { throw .wrongChain(expected: ledger.chainID, actual: body.chainID) }
        let committedHeight = accounts.committedHeight
        let nextHeight = committedHeight + 1
        guard body.expiresAtHeight >= nextHeight else { throw .expired(expiresAt: body.expiresAtHeight, height: committedHeight) }
        let (latest, unbounded) = nextHeight.addingReportingOverflow(lifetime)
        guard unbounded || body.expiresAtHeight <= latest else {
            throw .expiryTooFar(expiresAt: body.expiresAtHeight, latest: latest, lifetime: lifetime)
        }
        guard tx.hasRequiredSigners else { throw .missingSignatures }
        guard let signer = accounts.account(body.signer) else { throw .unknownSigner(body.signer) }
        for s in tx.signatures {
            let member: Member
            if s.memberID == body.signer {
                member = signer.member
            } else {
                guard let cosigner = accounts.account(s.memberID) else { throw .unknownSigner(s.memberID) }
                member = cosigner.member
            }
            guard member.isActive else { throw .inactiveMember(member.memberID) }
            guard member.publicKeys.contains(s.publicKey) else { throw .keyNotRegistered(member: member.memberID, key: s.publicKey) }
        }
        guard body.nonce >= signer.nextNonce else { throw .staleNonce(expected: signer.nextNonce, actual: body.nonce) }
        let (window, windowUnbounded) = signer.nextNonce.addingReportingOverflow(UInt64(configuration.maxPerSigner))
        guard windowUnbounded || body.nonce < window else {
            throw .nonceTooFarAhead(expected: signer.nextNonce, actual: body.nonce)
        }
        return signer.nextNonce
    }

    /// The ledger reads of one admission call (one transaction or one batch): the committed height and each
    /// member's record and next nonce are read the first time a check needs them and then reused. Each read is true
    /// at some committed height, as separate reads always were (a commit may land between two of them).
    struct AccountReads {
        let ledger: MempoolLedgerView
        private var height: UInt64?
        private var accounts: [String: MempoolAccount?] = [:]

        init(ledger: MempoolLedgerView) { self.ledger = ledger }

        var committedHeight: UInt64 {
            mutating get {
                if let height { return height }
                let read = ledger.committedHeight
                height = read
                return read
            }
        }

        mutating func account(_ memberID: String) -> MempoolAccount? {
            if let read = accounts[memberID] { return read }
            let read = ledger.account(memberID)
            accounts[memberID] = .some(read)
            return read
        }
    }

    /// Up to `maxCount` transactions (and `maxBytes`) for a block: per signer a gap-free nonce run from the ledger's
    /// next nonce, signers in order of their earliest pending transaction.
    ///
    /// The runs are the pool's ready runs, which start at the ledger's next nonce as of the latest commit
    /// (`update(afterCommitting:)` moves them): no nonce is read, except for the signers whose insertion read the
    /// ledger before the latest commit (`unsettled`, read again here, outside the pool's lock, as the next update
    /// will). Until 2026-12-07 every pending signer's nonce was read from the ledger per proposal (a RocksDB point
    /// read each, on the consensus queue, inside the build's share of timeout_propose: O(pool)).
    public func reap(maxCount: Int, maxBytes: Int, ledger: MempoolLedgerView) -> [Transaction] {
        let unsettled = pool.withLockedValue { $0.unsettled }
        var known: [String: UInt64?] = [:]
        for signer in unsettled { known[signer] = .some(ledger.nextNonce(signer)) }
        return pool.withLockedValue { p in
            var signers: [(signer: String, first: UInt64)] = []
            signers.reserveCapacity(p.runs.count)
            for (signer, run) in p.runs where run.count > 0 || p.unsettled.contains(signer) {
                guard let first = p.firstArrival[signer] else { continue }
                signers.append((signer, first))
            }
            signers.sort { $0.first < $1.first }
            var out: [Transaction] = []
            var bytes = 0
            outer: for (signer, _) in signers {
                guard let nonces = p.bySigner[signer], let run = p.runs[signer] else { continue }
                var nonce: UInt64
                if p.unsettled.contains(signer) {
                    // Inserted with reads older than the latest commit: its run may start at a nonce that commit used.
                    // A signer that became unsettled after the reads above is read now, under the lock.
                    guard let read = known[signer] ?? ledger.nextNonce(signer) else { continue }
                    nonce = read
                } else {
                    nonce = run.end - UInt64(run.count)
                }
                while let hash = nonces[nonce], let entry = p.byHash[hash] {
                    if out.count >= maxCount { break outer }
                    if bytes + entry.bytes > maxBytes { break }
                    out.append(entry.transaction)
                    bytes += entry.bytes
                    guard nonce < .max else { break }
                    nonce += 1
                }
            }
            return out
        }
    }

    /// After a block commits: drops the included transactions and any that can no longer be included (expired, or
    /// with a nonce below the signer's next nonce). `ledger` reflects the new committed state; `included` are the
    /// block's transactions (after a proposal, the ones dropped from it: the ledger has not moved).
    ///
    /// Only what the commit can have changed is looked at, not the whole pool: a signer's next nonce moves only when
    /// a transaction of its own executes, so only the signers of `included` (and signers inserted with reads older
    /// than the previous commit: `unsettled`) have their nonce read again, their stale transactions dropped and their
    /// ready run rebuilt; expired transactions are found by their expiry height. Every other signer's transactions
    /// and run stay as they were (until 2026-12-07 every signer's nonce was read and every transaction looked at
    /// after each commit, on the consensus queue: O(pool), ~0.8 % of a node's CPU at 3× the load it can commit).
    /// The included signers' nonces are read before the pool's lock is taken (admission waits on it).
    public func update(afterCommitting included: [Transaction], ledger: MempoolLedgerView) {
        var known: [String: UInt64?] = [:]
        for tx in included where known[tx.body.signer] == nil { known[tx.body.signer] = .some(ledger.nextNonce(tx.body.signer)) }
        let nextHeight = ledger.committedHeight + 1
        pool.withLockedValue { p in
            p.commits += 1
            var touched = p.unsettled
            p.unsettled = []
            for tx in included {
                touched.insert(tx.body.signer)
                remove(tx.hash, from: &p)
                p.verified.remove(tx.hash)
            }
            for height in p.byExpiry.keys.filter({ $0 < nextHeight }) {
                guard let hashes = p.byExpiry.removeValue(forKey: height) else { continue }
                for hash in hashes {
                    guard let entry = p.byHash[hash] else { continue }
                    touched.insert(entry.transaction.body.signer)
                    remove(hash, from: &p)
                    p.verified.remove(hash)
                }
            }
            for signer in touched {
                // A signer not among the reads above (an expiry, an unsettled insertion) is read now, under the lock.
                let next: UInt64?
                if let read = known[signer] { next = read } else { next = ledger.nextNonce(signer) }
                if let run = p.runs.removeValue(forKey: signer) {
                    p.readyCount -= run.count
                    p.readyBytes -= run.bytes
                }
                guard let nonces = p.bySigner[signer] else { p.firstArrival[signer] = nil; continue }
                for (nonce, hash) in nonces {
                    if let next, nonce >= next { continue }
                    remove(hash, from: &p)
                    p.verified.remove(hash)
                }
                // Its earliest pending transaction may have gone (every removal is of a touched signer's).
                var first: UInt64?
                for hash in p.bySigner[signer]?.values ?? [:].values {
                    if let arrival = p.byHash[hash]?.arrival, arrival < first ?? .max { first = arrival }
                }
                p.firstArrival[signer] = first
                // The ready run from the new next nonce: a commit of the signer's transactions moves its start.
                if let next, p.bySigner[signer] != nil { Self.extendRun(of: signer, ledgerNextNonce: next, in: &p) }
            }
        }
    }

    /// Inserts a checked, verified transaction under the pool's lock (nil), or says why not: a duplicate, admission
    /// control for a client's, the hard bounds, a nonce already pending. The one place entries enter the pool.
    /// `readAfterCommits` is `commits` as it was before the ledger reads that gave `ledgerNextNonce`.
    private func insert(_ tx: Transaction, hash: Hash, size: Int, origin: MempoolOrigin, ledgerNextNonce: UInt64, readAfterCommits: UInt64,
                        into p: inout Pool) -> MempoolError? {
        if p.byHash[hash] != nil { return .duplicate(hash) }
        if origin == .client, let refusal = admissionRefusal(p, signer: tx.body.signer, size: size) { return refusal }
        guard p.byHash.count < configuration.maxTransactions, p.totalBytes + size <= configuration.maxBytes else {
            return .full(transactions: p.byHash.count, bytes: p.totalBytes)
        }
        let pending = p.bySigner[tx.body.signer] ?? [:]
        guard pending.count < configuration.maxPerSigner else { return .signerFull(tx.body.signer) }
        guard pending[tx.body.nonce] == nil else { return .nonceTaken(signer: tx.body.signer, nonce: tx.body.nonce) }
        p.byHash[hash] = Entry(transaction: tx, hash: hash, bytes: size, arrival: p.nextArrival)
        if p.firstArrival[tx.body.signer] == nil { p.firstArrival[tx.body.signer] = p.nextArrival }  // arrivals only grow
        p.nextArrival += 1
        p.bySigner[tx.body.signer, default: [:]][tx.body.nonce] = hash
        p.totalBytes += size
        p.verified.insert(hash)
        p.byExpiry[tx.body.expiresAtHeight, default: []].insert(hash)
        // A commit since the reads may have moved the signer's nonce (this one may be stale already): the next
        // update reads the signer again, as it would had the commit come after the insertion.
        if readAfterCommits != p.commits { p.unsettled.insert(tx.body.signer) }
        Self.extendRun(of: tx.body.signer, ledgerNextNonce: ledgerNextNonce, in: &p)
        return nil
    }

    /// Extends `signer`'s ready run over the pending nonces that now follow it (after an insertion that may fill a
    /// gap, or from `ledgerNextNonce` when the signer has no run yet), updating the ready totals.
    private static func extendRun(of signer: String, ledgerNextNonce: UInt64, in p: inout Pool) {
        var run = p.runs[signer] ?? ReadyRun(end: ledgerNextNonce, count: 0)
        guard let nonces = p.bySigner[signer] else { return }
        while run.end < .max, let hash = nonces[run.end], let entry = p.byHash[hash] {
            run.count += 1
            run.bytes += entry.bytes
            p.readyCount += 1
            p.readyBytes += entry.bytes
            run.end += 1
        }
        p.runs[signer] = run
    }

    private func remove(_ hash: Hash, from p: inout Pool) {
        guard let entry = p.byHash.removeValue(forKey: hash) else { return }
        p.totalBytes -= entry.bytes
        let expiry = entry.transaction.body.expiresAtHeight
        p.byExpiry[expiry]?.remove(hash)
        if p.byExpiry[expiry]?.isEmpty == true { p.byExpiry[expiry] = nil }
        let signer = entry.transaction.body.signer
        p.bySigner[signer]?[entry.transaction.body.nonce] = nil
        if p.bySigner[signer]?.isEmpty == true { p.bySigner[signer] = nil }
    }
}
