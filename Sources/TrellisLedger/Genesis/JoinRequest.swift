// JoinRequest.swift — what an organisation sends the genesis ceremony's coordinator: its validator node (name,
// node public key, p2p address), optionally the chain it means to join and its member entry.
//
// Written by `trellis node init --json` (and saved as <home>/join.json); read by `trellis genesis add validator
// --from` and `trellis genesis add member --from`. Public keys only, never a secret. Decoding is strict (unknown
// fields are errors naming the field), and a request naming another chain is refused before anything is added.
import Foundation
import TrellisCrypto

public struct JoinRequest: Sendable, Equatable, Codable {
    /// The chain this request is for; when present it must equal the genesis chain id.
    public var chainID: String?
    /// The validator's name in genesis (by convention the organisation's member id).
    public var name: String
    /// The node key (`<home>/node.key`): signs votes and proposals, and the p2p handshake.
    public var publicKey: PublicKey
    /// Where the other validators reach this node, "host:port".
    public var p2pAddress: String
    /// The organisation's member entry, as in genesis.json, when it joins as a member too.
    public var member: MemberSpec?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case chainID = "chain_id"
        case name
        case publicKey = "public_key"
        case p2pAddress = "p2p_address"
        case member
    }

    public init(chainID: String?, name: String, publicKey: PublicKey, p2pAddress: String, member: MemberSpec? = nil) {
        self.chainID = chainID
        self.name = name
        self.publicKey = publicKey
        self.p2pAddress = p2pAddress
        self.member = member
    }

    public init(from decoder: any Decoder) throws {
        try StrictJSON.rejectUnknownKeys(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        chainID = try c.decodeIfPresent(String.self, forKey: .chainID)
        name = try c.decode(String.self, forKey: .name)
        publicKey = try StrictJSON.publicKey(try c.decode(String.self, forKey: .publicKey), codingPath: c.codingPath + [CodingKeys.publicKey])
        p2pAddress = try c.decode(String.self, forKey: .p2pAddress)
        member = try c.decodeIfPresent(MemberSpec.self, forKey: .member)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(chainID, forKey: .chainID)
        try c.encode(name, forKey: .name)
        try c.encode(publicKey.hex, forKey: .publicKey)
        try c.encode(p2pAddress, forKey: .p2pAddress)
        try c.encodeIfPresent(member, forKey: .member)
    }

    /// Parses a join request strictly.
    public static func parse(_ data: Data) throws(JoinRequestError) -> JoinRequest {
        do { return try JSONDecoder().decode(JoinRequest.self, from: data) } catch { throw .invalidJSON(detail: StrictJSON.describe(error)) }
    }

    /// Throws unless the request is for `chainID` (a request that names no chain is accepted).
    public func check(chainID genesisChainID: String) throws(JoinRequestError) {
        if let chainID, chainID != genesisChainID { throw .chainMismatch(request: chainID, genesis: genesisChainID) }
    }

    /// The genesis validator this request asks for.
    public func validator(votingPower: UInt64) -> GenesisValidator {
        GenesisValidator(name: name, validator: Validator(publicKey: publicKey, votingPower: votingPower, p2pAddress: p2pAddress))
    }
}

/// Why a join request cannot be used.
public enum JoinRequestError: Error, Equatable, CustomStringConvertible {
    /// JSON syntax, a missing or unknown field, or bad hex; `detail` names the field path.
    case invalidJSON(detail: String)
    case chainMismatch(request: String, genesis: String)

    public var description: String {
        switch self {
        case .invalidJSON(let d): return "join request JSON: \(d)"
        case .chainMismatch(let r, let g): return "chain_id \"\(r)\" of the join request does not match the genesis chain_id \"\(g)\""
        }
    }
}
