// RejectionRedaction.swift — a rejection as a member sees it through the API. The contracts reject a transaction
// that names an object which does not exist, or which its signer may not act on, with precise codes and messages
// ("unknown_certificate", "not_holder: certificate … is held by supplier2", "not_party: only applicant … or
// financier …"): shown to the signer, they would tell any member, for the price of a nonce, whether an id exists and
// who holds it or finances it — what every read route refuses to say (docs/ACCESS.md "No existence oracle").
// Receipts are consensus data (the header's receipts_root commits to them) and stay whole on chain, for validators,
// regulators and auditors; the API shows every other caller those rejections as one code and one message, the same
// whether the object is absent or another member's. For most kinds the contracts check existence and entitlement
// before anything that depends on the object's state, so a member who is not entitled meets no other code about the
// object; the kinds that do not (rules version 1 and 2) are listed in docs/ACCESS.md "What a rejection tells".
import TrellisLedger

enum RejectionRedaction {
    /// The code every redacted rejection carries.
    static let code = "not_found_or_not_yours"

    /// Rejection codes that say an object named by the transaction does not exist, or that its signer is not the
    /// member entitled to act on it (holder, owner, party, financier, debtor, recipient …).
    static let codes: Set<String> = [
        // absent
        "unknown_certificate", "unknown_credit_line", "unknown_financing", "unknown_block", "unknown_project",
        // not entitled (several name the holder, owner or parties in their message)
        "not_holder", "not_party", "not_owner", "not_financier", "not_debtor", "not_recipient",
        "not_line_financier", "not_credit_line_core",
        // verification.submit: the project's sector decides whether the verifier is accredited for it
        "verifier_not_accredited",
    ]

    /// Whether `receipt` is shown redacted to a caller who does not read everything.
    static func redacts(_ receipt: Receipt) -> Bool {
        guard let code = receipt.rejectionCode else { return false }
        return codes.contains(code)
    }

    /// The redacted outcome's message: it names the transaction's kind and signer (the caller knows both), never
    /// the object or its parties.
    static func message(kind: String, signer: String) -> String {
        "\(kind) names an object that does not exist or that \(signer) may not act on (the API does not say which; "
            + "docs/ACCESS.md \"No existence oracle\"): check the id, and read the object with the key of a member party to it"
    }
}
