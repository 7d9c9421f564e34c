// ObjectParties.swift — the members party to an object an API answer describes, for `AccessPolicy`'s per-object
// decisions: a transaction's signer and co-signers; in a query answer every member named in a party field.
import Foundation
import TrellisCodec
import TrellisLedger

enum ObjectParties {
    /// Fields of query answers that name a member party to the object: holders, debtors and offerees of
    /// certificates, the signer of every recorded event, financiers and applicants, owners, proponents, verifiers
    /// and retirers of credits.
    static let partyFields: Set<String> = [
        "holder", "debtor", "pending_to", "actor", "financier", "applicant", "core",
        "owner", "proponent", "verifier", "retired_by", "issued_by", "registered_by",
    ]

    /// Fields of query answers holding an attestation record (§E): not walked. Attestations are public to whoever
    /// holds the document's hash, their attesters vouch for a document without becoming party to what it backs,
    /// and their metadata keys are chosen by the attester (a co-attestation with metadata `{"holder": "x"}` must
    /// not make x party to a certificate's lineage).
    static let attestationFields: Set<String> = ["document_attestation", "report_attestation"]

    /// Nesting walked at most (answers are shallow; a bound keeps a pathological answer from recursing deep).
    static let maxDepth = 16

    /// The signer and co-signers of a transaction.
    static func of(_ transaction: Transaction) -> Set<String> {
        Set([transaction.body.signer] + transaction.body.cosigners)
    }

    /// The parties of a state record a member may read when it is party to it (`AccessPolicy.partyStatePrefixes`):
    /// certificates, credit blocks, financings, credit lines and retirements (its retirer; the beneficiary is a
    /// name, not a member). Nil for a value that does not decode (refused).
    static func of(stateKey key: [UInt8], value: [UInt8]) -> Set<String>? {
        func parties<T: CanonicalDecodable & Encodable>(_ type: T.Type) -> Set<String>? {
            guard let record = try? CanonicalDecoder.decode(T.self, from: value), let json = try? JSONEncoder().encode(record) else { return nil }
            return of(json: json)
        }
        if key.starts(with: AccessPolicy.certificatePrefix) { return parties(Certificate.self) }
        if key.starts(with: AccessPolicy.creditBlockPrefix) { return parties(CreditBlock.self) }
        if key.starts(with: AccessPolicy.financingPrefix) { return parties(Financing.self) }
        if key.starts(with: AccessPolicy.creditLinePrefix) { return parties(CreditLine.self) }
        if key.starts(with: AccessPolicy.retirementPrefix) { return parties(Retirement.self) }
        return nil
    }

    /// Every member named in a party field anywhere in a JSON answer.
    static func of(json data: Data) -> Set<String> {
        guard let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return [] }
        var found = Set<String>()
        collect(object, into: &found, depth: 0)
        return found
    }

    private static func collect(_ value: Any, into found: inout Set<String>, depth: Int) {
        guard depth < maxDepth else { return }
        if let object = value as? [String: Any] {
            for (key, child) in object where !attestationFields.contains(key) {
                if partyFields.contains(key), let member = child as? String { found.insert(member) }
                collect(child, into: &found, depth: depth + 1)
            }
        } else if let array = value as? [Any] {
            for child in array { collect(child, into: &found, depth: depth + 1) }
        }
    }
}
