// AnswerRedaction.swift — the parts of an allowed answer a party still may not see. A member reads the lineage of a
// certificate it is party to, but of the financings on that lineage only those it is party to (as financier or
// applicant): a bank never sees another bank's terms, a supplier never another supplier's. The proofs of the
// financing records it may not see are dropped with them. Regulators, auditors and the operator get answers whole.
import Foundation

enum AnswerRedaction {
    /// Financing records (`fin/<id>`) hold the terms; their proofs go with them.
    static let financingKeyPrefix = "fin/"

    /// `result` (the lineage JSON) and `proofs` (their JSON views, each with a `key`) as `member` may see them.
    static func lineage(_ result: Any, proofs: [[String: Any]], for member: String) -> (result: Any, proofs: [[String: Any]]) {
        guard var lineage = result as? [String: Any], let financings = lineage["financings"] as? [[String: Any]] else { return (result, proofs) }
        let visible = financings.filter { ($0["financier"] as? String) == member || ($0["applicant"] as? String) == member }
        let hidden = Set(financings.compactMap { $0["fin_id"] as? String }).subtracting(visible.compactMap { $0["fin_id"] as? String })
        lineage["financings"] = visible
        let keptProofs = proofs.filter { proof in
            guard let key = proof["key"] as? String, key.hasPrefix(financingKeyPrefix) else { return true }
            return !hidden.contains(String(key.dropFirst(financingKeyPrefix.count)))
        }
        return (lineage, keptProofs)
    }
}
