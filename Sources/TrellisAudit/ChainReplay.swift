// ChainReplay.swift — re-executes a chain from genesis with the real executor, in memory (`ReplayStore`).
//
// Each block is checked by `LedgerEngine.validate` (every header field, the previous certificate, re-execution to
// the header's state root) and its own certificate against the validator set in force at its height, then
// committed, so validator-set changes are followed exactly as a node follows them. Transaction signatures are the
// executor's business, as on a node: a transaction whose signature does not verify is executed as a rejection
// (`invalid_signature`, nonce unused) — a dishonest proposer may put one in a block and the chain commits it so.
// The caller passes the verdicts it already has (`SignaturePolicy.verified`/`.allVerified`); by default the
// executor verifies them itself. Certificate signatures are the caller's to check.
//
// It runs on a `ReplayStore`, which skips what a node's store does that an audit does not need (re-encoding each
// block, transaction records, whole-state scans).
import TrellisCrypto
import TrellisLedger

/// A re-executing ledger in memory.
public final class ChainReplay {
    /// The replayed chain: state, tree nodes, roots, blocks and certificates (no transaction records).
    public let store: ReplayStore
    public let engine: LedgerEngine

    /// Starts from the genesis state of `genesis`.
    public init(genesis: GenesisDocument) throws(AuditError) {
        store = ReplayStore()
        do { engine = try LedgerEngine(genesis: genesis, store: store) } catch {
            throw .verificationFailed(height: 0, message: "genesis does not initialise: \(error)")
        }
    }

    /// Validates, certifies and commits `block`; returns its receipts. The certificate's signatures must already be
    /// verified; the transactions' are judged by `signatures` (answer only what was checked: see `SignaturePolicy`);
    /// `prechecked` names the checks of `LedgerEngine.validate` the caller has already made on this block.
    @discardableResult
    public func apply(_ block: Block, certificate: CommitCertificate, signatures: SignaturePolicy = .verify, prechecked: PrecheckedParts = []) throws(AuditError) -> [Receipt] {
        let height = block.header.height
        let set: ValidatorSet
        do { set = try engine.validatorSet(forHeight: height) } catch { throw .verificationFailed(height: height, message: "\(error)") }
        do {
            try certificate.verify(chainID: engine.chainID, validatorSet: set, height: height, blockID: block.hash, verifySignatures: false)
        } catch { throw .verificationFailed(height: height, message: error.description) }
        let result: ExecutionResult
        do { result = try engine.validate(block, signatures: signatures, prechecked: prechecked) } catch {
            throw .verificationFailed(height: height, message: "re-execution: \(error)")
        }
        do { try engine.commit(block, certificate: certificate, verifyCertificateSignatures: false, signatures: signatures) } catch {
            throw .verificationFailed(height: height, message: "commit: \(error)")
        }
        return result.receipts
    }

    /// The validator set scheduled by the last applied block, if it changed.
    public func validatorSetChange() throws(AuditError) -> ValidatorSetChangeView? {
        try ValidatorSetChangeView.scheduled(afterHeight: engine.currentHeight, state: CommittedState(store: store))
    }
}

