// TransactionSignatures.swift — what a transaction's signatures decide, for an auditor.
//
// A transaction signature that does not verify is not a fault of the chain. A proposer (a dishonest one: an honest
// mempool never admits such a transaction) may put one in a block; every honest validator executes it, and the
// envelope check rejects it (`invalid_signature`) with no state change and its nonce left unused (BlockExecutor,
// steps 1–2). The chain commits that block, so it is valid. An auditor therefore feeds its signature verdicts into
// re-execution instead of refusing the chain, and without re-execution can still check the receipt: a rejection,
// `nonce_consumed` false, with the code of an envelope check made before or at the signature check (which one is
// settled by re-execution). A chain that executed such a transaction (ok, or rejected by a contract with its nonce
// consumed) is invalid. The same holds for a transaction that lacks a required signer (`missing_signature`).
// docs/EXPORT-FORMAT.md §6.3 step 4 says this for independent verifiers.
import TrellisCrypto
import TrellisLedger

enum TransactionSignatures {
    /// The codes of the envelope checks up to the required-signers check, in the executor's order: a transaction
    /// without exactly its required signers is rejected with one of these.
    static let codesUpToSignerCheck: Set<String> = [
        EnvelopeRejection.wrongChain, EnvelopeRejection.expired, EnvelopeRejection.expiryTooFar, EnvelopeRejection.unknownKind,
        EnvelopeRejection.missingSignature,
    ]
    /// … up to the signature check: a transaction whose signatures do not all verify is rejected with one of these.
    static let codesUpToSignatureCheck: Set<String> = codesUpToSignerCheck.union([EnvelopeRejection.invalidSignature])

    /// Nil when `receipt` may be what the executor gives `transaction` (valid signatures and signers: any receipt;
    /// else a rejection with the nonce unused and a code of `codesUpTo…`), otherwise what is wrong with it.
    static func receiptFailure(_ receipt: Receipt, transaction: Transaction, signaturesValid: Bool) -> String? {
        let signersPresent = transaction.hasRequiredSigners
        if signaturesValid && signersPresent { return nil }
        let fault = signersPresent ? "a signature does not verify" : "it lacks a required signer"
        let codes = signersPresent ? codesUpToSignatureCheck : codesUpToSignerCheck
        switch receipt.outcome {
        case .ok:
            return "\(fault), yet its receipt is ok: every honest validator rejects it (\(signersPresent ? EnvelopeRejection.invalidSignature : EnvelopeRejection.missingSignature)) before its nonce is used"
        case .rejected(let code, _):
            if receipt.nonceConsumed {
                return "\(fault), yet its receipt consumed its nonce: every honest validator rejects it before the nonce is used"
            }
            if !codes.contains(code) {
                return "\(fault), yet its receipt's code is \(code): every honest validator rejects it in an envelope check up to the signature check (\(codes.sorted().joined(separator: ", ")))"
            }
            return nil
        }
    }

    /// The executor policy for a block whose transactions at `invalid` (indices) have a signature that does not
    /// verify, every other signature having verified.
    static func policy(for block: Block, invalid: [Int]) -> SignaturePolicy {
        if invalid.isEmpty { return .allVerified }
        let bad = Set(invalid.map { block.transactions[$0].hash })
        return .verified { !bad.contains($0) }
    }

    /// The transactions of `block` (indices) with a signature that fails, given one verdict per signature check in
    /// `Transaction.signatureChecks` order, transaction after transaction.
    static func invalidTransactions(_ block: Block, verdicts: ArraySlice<Bool>) -> [Int] {
        var invalid: [Int] = []
        var k = verdicts.startIndex
        for (i, tx) in block.transactions.enumerated() {
            let n = tx.signatures.count
            if verdicts[k..<k + n].contains(false) { invalid.append(i) }
            k += n
        }
        return invalid
    }
}
