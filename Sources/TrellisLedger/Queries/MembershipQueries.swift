// MembershipQueries.swift — membership and governance reads for the API, auditors and regulators.
//
// Every answer names the height it is true at and its state root; with `prove: true` it carries a state proof
// that checks offline against that root (the `state_root` of the certified header at that height).
import TrellisCodec
import TrellisCrypto

extension LedgerReader {
    /// The member `id` after `height` (latest when nil).
    public func member(_ id: String, atHeight height: UInt64? = nil, prove: Bool = false) throws(LedgerError) -> QueryAnswer<Member> {
        try query(Member.self, LedgerKeys.member(id), atHeight: height, prove: prove)
    }

    /// Every member after `height` (latest when nil), sorted by id. No proof (a range has no single-key proof).
    public func members(atHeight height: UInt64? = nil) throws(LedgerError) -> (height: UInt64, stateRoot: Hash, members: [Member]) {
        let h: UInt64, root: Hash, entries: [(key: [UInt8], value: [UInt8])]
        if let height {
            let state = try self.state(atHeight: height)
            do { entries = try state.reader.scan(prefix: LedgerKeys.memberPrefix) } catch { throw .state(error) }
            (h, root) = (state.height, state.root)
        } else {
            (h, root, entries) = try scanLatest(prefix: LedgerKeys.memberPrefix)
        }
        var members: [Member] = []
        for (key, value) in entries {
            do { members.append(try CanonicalDecoder.decode(Member.self, from: value)) } catch {
                throw .state(.corruptValue(key: StateKey.describe(key), reason: error.description))
            }
        }
        return (h, root, members)
    }

    /// The member owning `key`, if any.
    public func memberID(forKey key: PublicKey, atHeight height: UInt64? = nil, prove: Bool = false) throws(LedgerError) -> QueryAnswer<String> {
        try query(String.self, LedgerKeys.memberKey(key), atHeight: height, prove: prove)
    }

    /// The last accepted nonce of `memberID` (the next transaction uses this + 1; absent = 0).
    public func nonce(of memberID: String, atHeight height: UInt64? = nil) throws(LedgerError) -> QueryAnswer<UInt64> {
        try query(UInt64.self, LedgerKeys.nonce(memberID), atHeight: height)
    }

    /// The current parameters.
    public func parameters(atHeight height: UInt64? = nil, prove: Bool = false) throws(LedgerError) -> QueryAnswer<Parameters> {
        try query(Parameters.self, LedgerKeys.parameters, atHeight: height, prove: prove)
    }

    /// A governance proposal.
    public func proposal(_ id: String, atHeight height: UInt64? = nil, prove: Bool = false) throws(LedgerError) -> QueryAnswer<Proposal> {
        try query(Proposal.self, LedgerKeys.proposal(id), atHeight: height, prove: prove)
    }
}
