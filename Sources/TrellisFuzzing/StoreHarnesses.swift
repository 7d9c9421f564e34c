// StoreHarnesses.swift — fuzz harness of the store's page decoder: a `nodes` row (a page of the state tree) comes
// from disk, which the store does not trust (docs/LEDGER.md, "Storage of the tree").
//
// Contract (`TreePageCheck`): decoding throws only `StateError`; an accepted page's members hash to their hashes as
// one-at-a-time hashing gives them, it re-encodes to exactly the input bytes, and the page its encoder builds for the
// cache equals the decoded one.
import TrellisLedger

enum StoreHarnesses {
    /// One page row's bytes.
    static func treePage(_ data: [UInt8]) throws(FuzzViolation) {
        if let violation = TreePageCheck.violation(data) { throw FuzzViolation(.treePage, violation) }
    }
}
