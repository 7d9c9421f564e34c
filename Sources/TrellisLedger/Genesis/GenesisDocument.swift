// GenesisDocument.swift — genesis.json: the chain's id, start time, members, validators and parameters
// (schema: Genesis/README.md).
//
// Loading is strict: unknown fields, bad hex, duplicate ids or keys and impossible parameters are errors naming
// the field. The genesis hash is SHA-256 of the canonical encoding (members sorted by id, validators by key), so
// it does not depend on JSON formatting or listing order; every node of a chain must have the same one.
import Foundation
import TrellisCodec
import TrellisCrypto

/// A genesis validator: a name for people, and the validator itself.
public struct GenesisValidator: Sendable, Hashable, Codable, CanonicalCodable {
    public var name: String
    public var validator: Validator

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name
        case publicKey = "public_key"
        case votingPower = "voting_power"
        case p2pAddress = "p2p_address"
    }

    public init(name: String, validator: Validator) {
        self.name = name
        self.validator = validator
    }

    public init(from decoder: any Decoder) throws {
        try StrictJSON.rejectUnknownKeys(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        let key = try StrictJSON.publicKey(try c.decode(String.self, forKey: .publicKey), codingPath: c.codingPath + [CodingKeys.publicKey])
        validator = Validator(publicKey: key, votingPower: try c.decode(UInt64.self, forKey: .votingPower), p2pAddress: try c.decode(String.self, forKey: .p2pAddress))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(validator.publicKey.hex, forKey: .publicKey)
        try c.encode(validator.votingPower, forKey: .votingPower)
        try c.encode(validator.p2pAddress, forKey: .p2pAddress)
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(name)
        encoder.encode(validator)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        name = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        validator = try decoder.decode(Validator.self)
    }
}

public struct GenesisDocument: Sendable, Hashable, CanonicalCodable {
    public let chainID: String
    /// Unix seconds; block 1's time must be at least this.
    public let genesisTime: Int64
    /// Sorted by member id.
    public let members: [Member]
    /// Sorted by public key.
    public let validators: [GenesisValidator]
    public let parameters: Parameters

    /// Builds and checks a genesis (the same rules as loading a file).
    public init(chainID: String, genesisTime: Int64, members: [MemberSpec], validators: [GenesisValidator], parameters: Parameters) throws(GenesisError) {
        guard Limits.isValidChainID(chainID) else { throw .invalidChainID(chainID) }
        guard genesisTime > 0 else { throw .invalidGenesisTime(genesisTime) }
        guard !members.isEmpty else { throw .noMembers }
        // Entry rules (each member and validator valid, ids, names and keys distinct) are the draft's, so a
        // ceremony that assembles a file step by step and a file loaded whole are held to the same rules.
        var draft = GenesisDraft(unchecked: chainID, genesisTime: genesisTime, parameters: parameters)
        for spec in members { try draft.add(member: spec) }
        guard !validators.isEmpty else { throw .noValidators }
        for v in validators { try draft.add(validator: v) }
        do { _ = try ValidatorSet(validators.map(\.validator)) } catch { throw .invalidValidator(name: "(set)", problem: error.description) }
        if let problem = parameters.problems().first { throw .invalidParameters(problem) }
        let governors = members.filter { $0.roles.contains(.governor) }.count
        guard Int(parameters.governanceQuorum) <= governors else { throw .quorumExceedsGovernors(quorum: parameters.governanceQuorum, governors: governors) }

        self.chainID = chainID
        self.genesisTime = genesisTime
        self.members = draft.members.map(\.member).sorted { Array($0.memberID.utf8).lexicographicallyPrecedes(Array($1.memberID.utf8)) }
        self.validators = draft.validators.sorted { $0.validator.publicKey < $1.validator.publicKey }
        self.parameters = parameters
    }

    /// Parses and checks genesis JSON.
    public static func parse(_ data: Data) throws(GenesisError) -> GenesisDocument {
        let file: GenesisFile
        do { file = try JSONDecoder().decode(GenesisFile.self, from: data) } catch { throw .invalidJSON(detail: StrictJSON.describe(error)) }
        return try GenesisDocument(chainID: file.chainID, genesisTime: file.genesisTime, members: file.members, validators: file.validators, parameters: file.parameters)
    }

    /// Reads, parses and checks a genesis file.
    public static func load(path: String) throws(GenesisError) -> GenesisDocument {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw .unreadable(path: path, message: error.localizedDescription) }
        return try parse(data)
    }

    /// The validator set in force from height 1.
    public var validatorSet: ValidatorSet {
        do { return try ValidatorSet(validators.map(\.validator)) } catch {
            preconditionFailure("a checked genesis has an invalid validator set: \(error)")
        }
    }

    /// SHA-256 of the canonical encoding: the chain's identity beside its id.
    public var hash: Hash { SHA256.hash(canonicalBytes) }

    /// Pretty JSON with sorted keys, members sorted by id and validators by key.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(GenesisFile(chainID: chainID, genesisTime: genesisTime, members: members.map(MemberSpec.init), validators: validators, parameters: parameters))
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(chainID)
        encoder.encode(genesisTime)
        encoder.encode(members)
        encoder.encode(validators)
        encoder.encode(parameters)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        let chainID = try decoder.decodeString(maxLength: Limits.maxChainIDBytes)
        let time = try decoder.decodeInt64()
        let members = try decoder.decodeArray(Member.self, maxCount: 1 << 16)
        let validators = try decoder.decodeArray(GenesisValidator.self, maxCount: Limits.maxValidators)
        let parameters = try decoder.decode(Parameters.self)
        do {
            self = try GenesisDocument(chainID: chainID, genesisTime: time, members: members.map(MemberSpec.init), validators: validators, parameters: parameters)
        } catch { throw .invalidValue(type: "GenesisDocument", reason: error.description) }
    }
}

/// The JSON shape of genesis.json.
struct GenesisFile: Codable {
    var chainID: String
    var genesisTime: Int64
    var members: [MemberSpec]
    var validators: [GenesisValidator]
    var parameters: Parameters

    enum CodingKeys: String, CodingKey, CaseIterable {
        case chainID = "chain_id"
        case genesisTime = "genesis_time"
        case members
        case validators
        case parameters
    }

    init(chainID: String, genesisTime: Int64, members: [MemberSpec], validators: [GenesisValidator], parameters: Parameters) {
        self.chainID = chainID
        self.genesisTime = genesisTime
        self.members = members
        self.validators = validators
        self.parameters = parameters
    }

    init(from decoder: any Decoder) throws {
        try StrictJSON.rejectUnknownKeys(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        chainID = try c.decode(String.self, forKey: .chainID)
        genesisTime = try c.decode(Int64.self, forKey: .genesisTime)
        members = try c.decode([MemberSpec].self, forKey: .members)
        validators = try c.decode([GenesisValidator].self, forKey: .validators)
        parameters = try c.decode(StrictParameters.self, forKey: .parameters).value
    }
}
