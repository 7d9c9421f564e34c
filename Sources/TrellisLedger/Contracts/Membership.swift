// Membership.swift — member records in state and the one change a member makes itself: rotating its keys.
//
// State: `member/<id>` → Member, `member_key/<key hex>` → member id (one key belongs to at most one member, ever:
// a key removed from a member stays reserved, so an old signature can never be attributed to someone else).
// Status, roles and accreditations change only through Governance, which calls the helpers below.
import Foundation
import TrellisCodec
import TrellisCrypto

/// `member.rotate_keys`: add and/or remove signing keys of the submitting member.
public struct RotateKeysPayload: TransactionPayload, Hashable {
    public var addKeys: [PublicKey]
    public var removeKeys: [PublicKey]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case addKeys = "add_keys"
        case removeKeys = "remove_keys"
    }

    public init(addKeys: [PublicKey], removeKeys: [PublicKey]) {
        self.addKeys = Array(Set(addKeys)).sorted()
        self.removeKeys = Array(Set(removeKeys)).sorted()
    }

    public func validate() throws(TxRejection) {
        if addKeys.isEmpty && removeKeys.isEmpty { throw TxRejection("empty_rotation", "add_keys and remove_keys are both empty") }
        if addKeys.contains(where: removeKeys.contains) { throw TxRejection("conflicting_keys", "a key is both added and removed") }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(set: addKeys)
        encoder.encode(set: removeKeys)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        addKeys = try decoder.decodeSet(PublicKey.self, what: "add_keys", maxCount: Limits.maxKeysPerMember)
        removeKeys = try decoder.decodeSet(PublicKey.self, what: "remove_keys", maxCount: Limits.maxKeysPerMember)
    }

    public init(from decoder: any Decoder) throws {
        try StrictJSON.rejectUnknownKeys(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let add = try c.decodeIfPresent([String].self, forKey: .addKeys) ?? []
        let remove = try c.decodeIfPresent([String].self, forKey: .removeKeys) ?? []
        self.init(addKeys: try add.enumerated().map { try StrictJSON.publicKey($1, codingPath: c.codingPath + [CodingKeys.addKeys, AnyCodingKey(intValue: $0) ?? AnyCodingKey("?")]) },
                  removeKeys: try remove.enumerated().map { try StrictJSON.publicKey($1, codingPath: c.codingPath + [CodingKeys.removeKeys, AnyCodingKey(intValue: $0) ?? AnyCodingKey("?")]) })
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(addKeys.map(\.hex), forKey: .addKeys)
        try c.encode(removeKeys.map(\.hex), forKey: .removeKeys)
    }
}

public struct MembershipContract: Contract {
    public static let rotateKeys = "member.rotate_keys"

    public init() {}

    public var name: String { "membership" }

    public var kinds: [KindSpec] {
        [KindSpec(Self.rotateKeys, payload: RotateKeysPayload.self, signerRoles: [],
                  summary: "Add or remove the submitting member's own signing keys (at least one key remains).")]
    }

    public func apply(kind: String, payload: any TransactionPayload, context: ExecutionContext, state: StateOverlay) throws -> [String] {
        guard kind == Self.rotateKeys, let p = payload as? RotateKeysPayload else {
            throw TxRejection(EnvelopeRejection.unknownKind, "membership does not handle \(kind)")
        }
        // The signer as the envelope check just read it from `member/<its id>`: nothing was written to that key
        // since (only the signer's nonce), and every member record is written under its own id (`register`, and
        // writes of records read back from their key), so reading it again here gave the same member.
        var member = context.signer
        for key in p.removeKeys where !member.publicKeys.contains(key) {
            throw TxRejection("key_not_found", "key \(key.hex) is not a key of \(member.memberID)")
        }
        // Each added key's state key is built once (its hex), for the read and for the write.
        let addedKeys = p.addKeys.map(LedgerKeys.memberKey)
        for (key, stateKey) in zip(p.addKeys, addedKeys) {
            if let owner = try state.read(String.self, stateKey) {
                throw TxRejection("key_in_use", "key \(key.hex) is (or was) registered to \(owner)")
            }
        }
        let keys = Self.rotated(member.publicKeys, removing: p.removeKeys, adding: p.addKeys)
        guard !keys.isEmpty else { throw TxRejection("no_keys_left", "a member must keep at least one key") }
        guard keys.count <= Limits.maxKeysPerMember else {
            throw TxRejection("too_many_keys", "a member may hold at most \(Limits.maxKeysPerMember) keys")
        }
        member.publicKeys = keys
        for stateKey in addedKeys { state.write(member.memberID, at: stateKey) }
        state.write(member, at: LedgerKeys.member(member.memberID))
        return []
    }

    /// `keys` without `removing`, with `adding`: sorted and distinct (at most a few dozen keys: plain scans beat
    /// hashing every key into sets).
    static func rotated(_ keys: [PublicKey], removing: [PublicKey], adding: [PublicKey]) -> [PublicKey] {
        var out = keys.filter { !removing.contains($0) }
        for key in adding where !out.contains(key) { out.append(key) }
        out.sort()
        var distinct: [PublicKey] = []
        distinct.reserveCapacity(out.count)
        for key in out where distinct.last != key { distinct.append(key) }
        return distinct
    }

    // MARK: helpers for Governance and genesis

    /// The member `id`, or a `member_not_found` rejection.
    public static func require<State: StateReader>(_ id: String, in state: State) throws -> Member {
        guard let m = try state.read(Member.self, LedgerKeys.member(id)) else {
            throw TxRejection("member_not_found", "no member \"\(id)\"")
        }
        return m
    }

    /// Registers a new member and its keys. Rejects an existing id or a key already (or once) in use.
    public static func register(_ member: Member, in state: StateOverlay) throws {
        guard Identifier.isValid(member.memberID) else { throw TxRejection("invalid_member_id", "\"\(member.memberID)\" is not a valid member id") }
        guard !member.publicKeys.isEmpty, member.publicKeys.count <= Limits.maxKeysPerMember else {
            throw TxRejection("invalid_keys", "a member needs 1…\(Limits.maxKeysPerMember) keys")
        }
        if try state.get(LedgerKeys.member(member.memberID)) != nil {
            throw TxRejection("member_exists", "member \"\(member.memberID)\" already exists")
        }
        for key in member.publicKeys {
            if let owner = try state.read(String.self, LedgerKeys.memberKey(key)) {
                throw TxRejection("key_in_use", "key \(key.hex) is (or was) registered to \(owner)")
            }
            state.write(member.memberID, at: LedgerKeys.memberKey(key))
        }
        state.write(member, at: LedgerKeys.member(member.memberID))
    }

    /// Every member, in id order (a state scan).
    public static func all(in state: any StateReader) throws -> [Member] {
        var out: [Member] = []
        for (key, value) in try state.scan(prefix: LedgerKeys.memberPrefix) {
            do { out.append(try CanonicalDecoder.decode(Member.self, from: value)) } catch {
                throw StateError.corruptValue(key: StateKey.describe(key), reason: error.description)
            }
        }
        return out
    }
}
