// BlockExecutor.swift — the state transition function: (state at h-1, block h) → (state root, receipts, changes).
//
// Pure and deterministic: it reads only its inputs (the base state, the block's chain id, height, time and
// transactions), iterates in block order and writes through overlays whose changes are sorted by key. Per
// transaction, in order (docs/LEDGER.md "Executor rules"):
//   1. envelope: chain id; expires_at_height in [height, height + max_tx_lifetime_blocks]; kind known; exactly
//      the required signers; signatures valid; signer known and active; each signature's key registered to its
//      member; co-signers known and active;
//   2. nonce == last + 1.
//   A failure up to here rejects the transaction with no state change at all.
//   3. the nonce is consumed (written to the block overlay);
//   4. the signer holds a role the kind allows; the payload decodes strictly and passes its stateless checks;
//   5. the contract applies it as a transaction on the block's overlay, its writes kept only on success.
//   A failure in 4–5 rejects the transaction but keeps the nonce consumed. A contract error that is neither a
//   `TxRejection` nor a `StateError` (a defect, not a rule) rejects the transaction with code `internal` and a
//   message that names only the kind, so every node writes the same receipt; only unreadable state
//   (`StateError`) stops the block. Arithmetic traps cannot be caught: contracts use checked arithmetic instead.
// Parameters are read once at the start of the block: a governance change of parameters applies from the next
// block on. So is the rules version in force at the block's height (`RulesSchedule`): every contract sees it in
// its context, and a version this build does not support stops execution (`unsupportedRules`) before any
// transaction runs — the node halts at the activation height instead of executing under rules it does not have.
import TrellisCodec
import TrellisCrypto

public struct BlockExecutor: Sendable {
    public let registry: ContractRegistry

    public init(registry: ContractRegistry = .standard) {
        self.registry = registry
    }

    /// Executes `block` on `base` (the state whose root is `baseRoot`, nodes readable through `nodes`).
    public func execute(_ block: Block, base: any StateReader, baseRoot: Hash, nodes: any TreeNodeSource, signatures: SignaturePolicy) throws(ExecutionError) -> ExecutionResult {
        try execute(chainID: block.header.chainID, height: block.header.height, time: block.header.time, transactions: block.transactions,
                    evidence: block.evidence, base: base, baseRoot: baseRoot, nodes: nodes, signatures: signatures)
    }

    /// Executes `transactions` as block `height` of `chainID` at `time`, then records `evidence` (already verified
    /// by the caller) at `evidence/<validator>/<height>`.
    public func execute(chainID: String, height: UInt64, time: Int64, transactions: [Transaction], evidence: [DuplicateVoteEvidence] = [], base: any StateReader, baseRoot: Hash, nodes: any TreeNodeSource, signatures: SignaturePolicy) throws(ExecutionError) -> ExecutionResult {
        let parameters = try Self.parameters(in: base)
        let rulesVersion = try Self.rulesVersion(atHeight: height, in: base)

        let hashes = transactions.map(\.hash)
        let signaturesValid = Self.checkSignatures(transactions, hashes: hashes, policy: signatures)
        // The block's overlay reads each key from `base` once (`memoizingBaseReads`) when a read of it is dear (RocksDB;
        // over an in-memory state the memo costs what it saves: `readsAreWorthMemoizing`). Right because `base` holds still for
        // this whole call. The executor never writes to it (every write goes to the overlay), it reads it only inside
        // this synchronous call, and its one caller, `LedgerEngine` (one owner, not thread-safe), hands it its store's
        // committed state (`CommittedState`), which only the engine's `commit` changes — after an execution returned,
        // never during one. A base that changed mid-block would already make execution wrong without the memo (a key
        // read twice could differ, and `netChanges` would pair a write with a value execution never saw).
        let blockState = StateOverlay(base: base, memoizingBaseReads: base.readsAreWorthMemoizing)
        blockState.reserveWrites(transactions.count * Self.expectedWritesPerTransaction + evidence.count)
        var receipts: [Receipt] = []
        receipts.reserveCapacity(transactions.count)
        for (i, tx) in transactions.enumerated() {
            let env = Envelope(chainID: chainID, height: height, time: time, parameters: parameters, rulesVersion: rulesVersion, txHash: hashes[i], index: i)
            receipts.append(try executeOne(tx, env: env, signaturesValid: signaturesValid[i], state: blockState))
        }
        for e in evidence { blockState.write(SHA256.hash(e.canonicalBytes), at: LedgerKeys.evidence(validator: e.validator, height: e.height)) }
        let receiptsRoot = Receipt.root(receipts)  // committed by the header (chain format 2), not by the state

        let changes: [StateChange], keyHashes: [Hash]?
        do { (changes, keyHashes) = try Self.netChangesAndKeyHashes(blockState, hashingKeys: !nodes.stagesTreeUpdates) } catch { throw .state(error) }
        let update: TreeUpdate
        do throws(TreeError) {
            // A source that keeps its own latest tree (the audit's replay) updates it itself; others are walked.
            if let staged = try nodes.stagedTreeUpdate(root: baseRoot, changes: changes) {
                update = staged
            } else if let keyHashes {
                update = try SparseMerkleTree.update(root: baseRoot, changes: changes, keyHashes: keyHashes, source: nodes)
            } else {
                update = try SparseMerkleTree.update(root: baseRoot, changes: changes, source: nodes)
            }
        } catch { throw .tree(error) }
        return ExecutionResult(height: height, stateRoot: update.root, receipts: receipts, receiptsRoot: receiptsRoot,
                               stateChanges: changes, treeNodes: update.newNodes, transactionHashes: hashes, staleNodes: update.staleNodes,
                               treePositions: update.positions)
    }

    /// Room made in a block's overlay per transaction: a split transfer writes 10 distinct keys (`bench ledger`'s
    /// block of 10,000: 100,001 with the signer's nonce), an issue 9, a key rotation 3–4. At 8, a block of splits
    /// outgrew its table near the end and rehashed all ~10⁵ entries once (4.6 % of that block's samples,
    /// 2026-12-06); unused room costs 16 bytes a slot. Only the dictionary's growth depends on it (a block that
    /// writes more grows it as before), never a result.
    static let expectedWritesPerTransaction = 10

    /// The block's writes that change the base state, sorted by key, each with the value it replaces. A write that
    /// leaves a key as it was — the deletion of a key the base does not hold (an index entry created and removed in
    /// the same block, e.g. the remainder of a split spent by the signer's next transaction), or a value written
    /// back unchanged — is dropped: it cannot change the root (the tree would rebuild the same nodes), and it would
    /// cost a tree walk, a tombstone and a history entry. Reading the replaced value here, once, spares the store
    /// reading it again at commit for the value history; each value is hashed here, once, for its leaf and for
    /// stores that keep values by hash. The replaced value is the overlay's base's (`StateOverlay.baseValue(of:)`): for
    /// a block's overlay, which memoizes its base reads, the value execution read there, read again only for a key
    /// execution wrote without reading it.
    ///
    /// Values are hashed two at a time (`SHA256.hashPair`) when consecutive changed values have one length (keys
    /// come sorted, so one kind's values mostly follow each other: nonces, a block's member records, index ids).
    static func netChanges(_ overlay: StateOverlay) throws(StateError) -> [StateChange] {
        try netChangesAndKeyHashes(overlay, hashingKeys: false).changes
    }

    /// `netChanges`, with SHA-256 of each change's key (`keyHashes[i]` is the hash of `changes[i].key`), for the
    /// tree update: each key is hashed here, where its bytes were just read for the base read, two at a time when
    /// consecutive kept keys have one length (sorted keys of one kind mostly do) — the tree update then never reads
    /// a key but to put it in a new leaf. Without `hashingKeys` (a source that stages its own updates hashes them
    /// itself), no key hashes.
    static func netChangesAndKeyHashes(_ overlay: StateOverlay, hashingKeys: Bool) throws(StateError) -> (changes: [StateChange], keyHashes: [Hash]?) {
        let writes = overlay.changes
        var changes: [StateChange] = []
        changes.reserveCapacity(writes.count)
        var keyHashes: [Hash] = []
        if hashingKeys { keyHashes.reserveCapacity(writes.count) }
        // A kept key whose hash waits for the next kept key's, to be hashed with it when their lengths match.
        var waitingKey: [UInt8]?
        func hashKey(_ key: [UInt8]) {
            if let w = waitingKey, w.count == key.count {
                let (first, second) = w.withUnsafeBufferPointer { a in key.withUnsafeBufferPointer { b in SHA256.hashPair(a, b) } }
                keyHashes.append(first)
                keyHashes.append(second)
                waitingKey = nil
                return
            }
            if let w = waitingKey { keyHashes.append(SHA256.hash(w)) }
            waitingKey = key
        }
        // A change whose value waits for the next one's, to be hashed with it when their lengths match.
        var waiting: (key: [UInt8], value: [UInt8], previous: [UInt8]?)?
        func flush() {
            guard let w = waiting else { return }
            changes.append(StateChange(key: w.key, value: w.value, previous: .known(w.previous), valueHash: SHA256.hash(w.value)))
            waiting = nil
        }
        for write in writes {
            let previous = try overlay.baseValue(of: write.key, keeping: false)
            if previous == write.value { continue }
            if hashingKeys { hashKey(write.key) }  // kept: changes are appended in this order (the value's hash may wait, never the order)
            guard let value = write.value, !value.isEmpty else {
                flush()
                changes.append(StateChange(key: write.key, value: write.value, previous: .known(previous), valueHash: write.value.map(valueHash)))
                continue
            }
            if let w = waiting, w.value.count == value.count {
                let (first, second) = w.value.withUnsafeBufferPointer { a in value.withUnsafeBufferPointer { b in SHA256.hashPair(a, b) } }
                changes.append(StateChange(key: w.key, value: w.value, previous: .known(w.previous), valueHash: first))
                changes.append(StateChange(key: write.key, value: value, previous: .known(previous), valueHash: second))
                waiting = nil
                continue
            }
            flush()
            waiting = (write.key, value, previous)
        }
        flush()
        guard hashingKeys else { return (changes, nil) }
        if let w = waitingKey { keyHashes.append(SHA256.hash(w)) }
        precondition(keyHashes.count == changes.count, "invalid state: \(keyHashes.count) key hashes for \(changes.count) changes")
        return (changes, keyHashes)
    }

    /// SHA-256 of a written value. Index entries are empty values (about half of a split transfer's writes): their
    /// hash is the constant SHA-256("").
    static func valueHash(_ value: [UInt8]) -> Hash { value.isEmpty ? emptyValueHash : SHA256.hash(value) }

    static let emptyValueHash = SHA256.hash([])

    /// The envelope and nonce checks alone, against `state` as of the last committed block, for a transaction that
    /// would go into block `height` (mempool admission). Returns nil when the transaction may be proposed.
    public func checkEnvelope(_ tx: Transaction, chainID: String, height: UInt64, signaturesValid: Bool, state: any StateReader) throws(ExecutionError) -> TxRejection? {
        let parameters = try Self.parameters(in: state)
        let env = Envelope(chainID: chainID, height: height, time: 0, parameters: parameters, rulesVersion: AppVersion.initial, txHash: tx.hash, index: 0)
        do {
            let admitted = try checkEnvelope(tx, env: env, signaturesValid: signaturesValid, state: state)
            if let spec = registry.spec(for: tx.body.kind) {
                if let r = Self.roleRejection(spec, admitted.signer) { return r }
                _ = try spec.decodePayload(tx.body.payload)
            }
            return nil
        } catch let rejection as TxRejection {
            return rejection
        } catch let e as StateError {
            throw .state(e)
        } catch {
            throw .contractFailed(kind: tx.body.kind, message: "\(error)")
        }
    }

    /// The rules version in force at `height` (read from the state after its parent); throws `unsupportedRules`
    /// when this build cannot execute it.
    public static func rulesVersion(atHeight height: UInt64, in state: any StateReader) throws(ExecutionError) -> UInt32 {
        let version: UInt32
        do { version = try RulesSchedule.version(atHeight: height, in: state) } catch let e as StateError { throw .state(e) } catch {
            throw .state(.corruptValue(key: "upgrade", reason: "\(error)"))
        }
        guard RuleVersions.supported.contains(version) else { throw .unsupportedRules(version: version, height: height) }
        return version
    }

    static func parameters(in state: any StateReader) throws(ExecutionError) -> Parameters {
        let parameters: Parameters?
        do { parameters = try state.read(Parameters.self, LedgerKeys.parameters) } catch { throw .state(error) }
        guard let parameters else { throw .missingParameters }
        return parameters
    }

    /// The rejection when `signer` holds none of the roles that may submit `spec.kind` (none when any role may).
    static func roleRejection(_ spec: KindSpec, _ signer: Member) -> TxRejection? {
        if spec.signerRoles.isEmpty || spec.signerRoles.contains(where: signer.has) { return nil }
        return TxRejection(EnvelopeRejection.roleNotAllowed, "\(signer.memberID) holds none of the roles \(spec.signerRoles.map(\.rawValue)) that may submit \(spec.kind)")
    }

    // MARK: one transaction

    struct Envelope {
        let chainID: String
        let height: UInt64
        let time: Int64
        let parameters: Parameters
        let rulesVersion: UInt32
        let txHash: Hash
        let index: Int
    }

    struct Admitted {
        let signer: Member
        let cosigners: [Member]
        let nonce: UInt64
    }

    func executeOne(_ tx: Transaction, env: Envelope, signaturesValid: Bool, state blockState: StateOverlay) throws(ExecutionError) -> Receipt {
        let index = UInt32(env.index)
        func rejected(_ r: TxRejection, consumed: Bool) -> Receipt {
            Receipt(txHash: env.txHash, index: index, nonceConsumed: consumed, outcome: .rejected(code: r.code, message: r.message))
        }
        // 1–2: envelope and nonce; no state change on failure.
        let admitted: Admitted
        do { admitted = try checkEnvelope(tx, env: env, signaturesValid: signaturesValid, state: blockState) } catch let r as TxRejection {
            return rejected(r, consumed: false)
        } catch let e as StateError { throw .state(e) } catch {
            return rejected(Self.internalRejection(kind: tx.body.kind, stage: "envelope check"), consumed: false)
        }

        // 3: the nonce is used from here on, whatever happens next.
        blockState.write(admitted.nonce, at: LedgerKeys.nonce(tx.body.signer))

        guard let spec = registry.spec(for: tx.body.kind), let contract = registry.contract(for: tx.body.kind) else {
            preconditionFailure("kind \(tx.body.kind) passed the envelope check but has no contract")
        }
        // 4: role and payload.
        if let r = Self.roleRejection(spec, admitted.signer) { return rejected(r, consumed: true) }
        let payload: any TransactionPayload
        do { payload = try spec.decodePayload(tx.body.payload) } catch { return rejected(error, consumed: true) }

        // 5: the contract, as a transaction on the block's overlay: its writes are kept only on success (journaled and
        // undone otherwise — the same reads and the same net writes as an overlay of its own merged on success,
        // without the second dictionary and the merge).
        let context = ExecutionContext(chainID: env.chainID, height: env.height, blockTime: env.time, txHash: env.txHash, txIndex: env.index,
                                       signer: admitted.signer, cosigners: admitted.cosigners, parameters: env.parameters,
                                       rulesVersion: env.rulesVersion)
        blockState.beginTransaction()
        do {
            let created = try contract.apply(kind: tx.body.kind, payload: payload, context: context, state: blockState)
            guard created.count <= Limits.maxListCount else {
                blockState.rollbackTransaction()
                return rejected(Self.internalRejection(kind: tx.body.kind, stage: "receipt (more than \(Limits.maxListCount) created ids)"), consumed: true)
            }
            blockState.commitTransaction()
            return Receipt(txHash: env.txHash, index: index, nonceConsumed: true, outcome: .ok(createdIDs: created))
        } catch let r as TxRejection {
            blockState.rollbackTransaction()
            return rejected(r, consumed: true)
        } catch let e as StateError {
            // Execution stops: the block's overlay is dropped with the open transaction.
            throw .state(e)
        } catch {
            // Defence in depth: an error the contract did not anticipate rejects this transaction alone (its writes
            // are undone) instead of stopping the block. The receipt is hashed into the state, so its message names
            // only the kind — never the error's text, which may carry addresses or differ between builds.
            blockState.rollbackTransaction()
            return rejected(Self.internalRejection(kind: tx.body.kind, stage: "contract"), consumed: true)
        }
    }

    /// The rejection of a transaction whose execution failed in a way no rule anticipated: code `internal`, a
    /// message that is the same on every node.
    static func internalRejection(kind: String, stage: String) -> TxRejection {
        TxRejection(internalRejectionCode, "\(kind) failed unexpectedly in the \(stage); the transaction is rejected on every node (a defect to report, not a rule)")
    }

    /// The receipt code of `internalRejection`.
    public static let internalRejectionCode = "internal"

    /// Steps 1–2. Throws `TxRejection` for a bad envelope, `StateError` for unreadable state.
    /// Generic over the reader so that block execution, on a `StateOverlay`, reads and decodes the members with
    /// code specialized for them (through `any StateReader`, every read was an unspecialized generic decode).
    func checkEnvelope<State: StateReader>(_ tx: Transaction, env: Envelope, signaturesValid: Bool, state: State) throws -> Admitted {
        let body = tx.body
        guard body.chainID == env.chainID else {
            throw TxRejection(EnvelopeRejection.wrongChain, "transaction is for chain \"\(body.chainID)\", this is \"\(env.chainID)\"")
        }
        guard body.expiresAtHeight >= env.height else {
            throw TxRejection(EnvelopeRejection.expired, "transaction expired at height \(body.expiresAtHeight); the block is at \(env.height)")
        }
        let (latest, overflow) = env.height.addingReportingOverflow(env.parameters.maxTxLifetimeBlocks)
        guard overflow || body.expiresAtHeight <= latest else {
            throw TxRejection(EnvelopeRejection.expiryTooFar, "expires_at_height \(body.expiresAtHeight) is beyond height \(env.height) + max_tx_lifetime_blocks \(env.parameters.maxTxLifetimeBlocks)")
        }
        guard registry.spec(for: body.kind) != nil else {
            throw TxRejection(EnvelopeRejection.unknownKind, "no contract handles transaction kind \"\(body.kind)\"")
        }
        guard tx.hasRequiredSigners else {
            throw TxRejection(EnvelopeRejection.missingSignature, "signatures must come from exactly the signer and the listed co-signers \(body.cosigners)")
        }
        guard signaturesValid else {
            throw TxRejection(EnvelopeRejection.invalidSignature, "a signature does not verify over the transaction's sign bytes")
        }
        guard let signer = try state.read(Member.self, LedgerKeys.member(body.signer)) else {
            throw TxRejection(EnvelopeRejection.unknownSigner, "no member \"\(body.signer)\"")
        }
        guard signer.isActive else {
            throw TxRejection(EnvelopeRejection.signerInactive, "member \(signer.memberID) is \(signer.status.name)")
        }
        var cosigners: [Member] = []
        for id in body.cosigners {
            guard let m = try state.read(Member.self, LedgerKeys.member(id)) else {
                throw TxRejection(EnvelopeRejection.unknownCosigner, "no member \"\(id)\" (listed as co-signer)")
            }
            guard m.isActive else { throw TxRejection(EnvelopeRejection.cosignerInactive, "co-signer \(id) is \(m.status.name)") }
            cosigners.append(m)
        }
        for s in tx.signatures {
            let member = s.memberID == signer.memberID ? signer : cosigners.first { $0.memberID == s.memberID }
            guard let member, member.publicKeys.contains(s.publicKey) else {
                throw TxRejection(EnvelopeRejection.keyNotAuthorized, "key \(s.publicKey.hex) is not registered to member \(s.memberID)")
            }
        }
        let last = try state.read(UInt64.self, LedgerKeys.nonce(body.signer)) ?? 0
        guard last < UInt64.max, body.nonce == last + 1 else {
            throw TxRejection(EnvelopeRejection.badNonce, "nonce \(body.nonce) is not the next nonce \(last &+ 1) of \(body.signer)")
        }
        return Admitted(signer: signer, cosigners: cosigners, nonce: body.nonce)
    }

    /// Signature validity per transaction, by policy.
    static func checkSignatures(_ transactions: [Transaction], hashes: [Hash], policy: SignaturePolicy) -> [Bool] {
        switch policy {
        case .allVerified:
            return Array(repeating: true, count: transactions.count)
        case .verified(let known):
            let answers = hashes.map(known)
            let unknown = answers.indices.filter { answers[$0] == nil }
            let checked = verifyAll(unknown.map { transactions[$0] })
            var valid = answers.map { $0 ?? true }
            for (j, i) in unknown.enumerated() { valid[i] = checked[j] }
            return valid
        case .verify:
            return verifyAll(transactions)
        }
    }

    /// Verifies every signature of `transactions` on all cores; `result[i]` is true when all of tx i's verify.
    static func verifyAll(_ transactions: [Transaction]) -> [Bool] {
        var checks: [SignatureCheck] = []
        var owner: [Int] = []
        for (i, tx) in transactions.enumerated() {
            for c in tx.signatureChecks {
                checks.append(c)
                owner.append(i)
            }
        }
        var valid = Array(repeating: true, count: transactions.count)
        for (j, ok) in ParallelVerifier.verify(checks).enumerated() where !ok { valid[owner[j]] = false }
        return valid
    }
}
