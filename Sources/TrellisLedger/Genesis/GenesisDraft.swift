// GenesisDraft.swift — a genesis.json being assembled in a ceremony (`trellis genesis init`, `genesis add …`).
//
// A draft may still lack members, validators or governors, but everything it holds already obeys the genesis
// rules: a valid chain id and time, possible parameters, and members and validators each valid and distinct (ids,
// names and keys). Each `add` checks one entry against what is there and names the offending field and value, so
// a ceremony fails at the step that went wrong. `document()` applies the remaining whole-file rules (at least one
// member and validator, governance quorum reachable) — the same checks `GenesisDocument` makes when loading.
import Foundation
import TrellisCrypto

public struct GenesisDraft: Sendable, Equatable {
    public let chainID: String
    public let genesisTime: Int64
    public let parameters: Parameters
    /// In the order they were added (the genesis hash sorts them; the file keeps this order for people).
    public private(set) var members: [MemberSpec] = []
    /// In the order they were added.
    public private(set) var validators: [GenesisValidator] = []
    // Indexes of what is listed, so each `add` is O(keys) and a large decoded genesis stays linear.
    private var memberIDs = Set<String>()
    private var memberKeyOwners: [PublicKey: String] = [:]
    private var validatorNames = Set<String>()
    private var validatorKeys = Set<PublicKey>()

    /// An empty draft. Throws when the chain id, time or parameters could never make a valid genesis.
    public init(chainID: String, genesisTime: Int64, parameters: Parameters) throws(GenesisError) {
        guard Limits.isValidChainID(chainID) else { throw .invalidChainID(chainID) }
        guard genesisTime > 0 else { throw .invalidGenesisTime(genesisTime) }
        if let problem = parameters.problems().first { throw .invalidParameters(problem) }
        self.init(unchecked: chainID, genesisTime: genesisTime, parameters: parameters)
    }

    /// A draft whose chain id, time and parameters the caller checks (`GenesisDocument.init` keeps its own order).
    init(unchecked chainID: String, genesisTime: Int64, parameters: Parameters) {
        self.chainID = chainID
        self.genesisTime = genesisTime
        self.parameters = parameters
    }

    /// Parses a draft (or complete) genesis.json with the strict field rules of `GenesisDocument.parse`; empty
    /// member and validator lists and a quorum not yet reachable are allowed.
    public static func parse(_ data: Data) throws(GenesisError) -> GenesisDraft {
        let file: GenesisFile
        do { file = try JSONDecoder().decode(GenesisFile.self, from: data) } catch { throw .invalidJSON(detail: StrictJSON.describe(error)) }
        var draft = try GenesisDraft(chainID: file.chainID, genesisTime: file.genesisTime, parameters: file.parameters)
        for member in file.members { try draft.add(member: member) }
        for validator in file.validators { try draft.add(validator: validator) }
        return draft
    }

    /// Reads and parses a draft file.
    public static func load(path: String) throws(GenesisError) -> GenesisDraft {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw .unreadable(path: path, message: error.localizedDescription) }
        return try parse(data)
    }

    /// Adds a member after checking it on its own and against the members already listed (id and every key).
    public mutating func add(member: MemberSpec) throws(GenesisError) {
        if let problem = member.problems().first { throw .invalidMember(memberID: member.memberID, problem: problem) }
        guard !memberIDs.contains(member.memberID) else { throw .duplicateMemberID(member.memberID) }
        for key in member.publicKeys {
            if let owner = memberKeyOwners[key] { throw .duplicateMemberKey(key: key.hex, first: owner, second: member.memberID) }
        }
        memberIDs.insert(member.memberID)
        for key in member.publicKeys { memberKeyOwners[key] = member.memberID }
        members.append(member)
    }

    /// Adds a validator after checking its name, power and address, and that neither its name nor its key is
    /// listed already.
    public mutating func add(validator: GenesisValidator) throws(GenesisError) {
        let name = validator.name
        guard Identifier.isValid(name) else { throw .invalidValidator(name: name, problem: "name must be 1…\(Limits.maxIDBytes) bytes of [A-Za-z0-9._:-]") }
        guard !validatorNames.contains(name) else { throw .duplicateValidatorName(name) }
        guard !validatorKeys.contains(validator.validator.publicKey) else { throw .duplicateValidatorKey(validator.validator.publicKey.hex) }
        guard validator.validator.votingPower > 0 else { throw .invalidValidator(name: name, problem: "voting_power must be positive") }
        if let problem = Validator.addressProblem(validator.validator.p2pAddress) { throw .invalidValidator(name: name, problem: problem) }
        guard validators.count < Limits.maxValidators else { throw .invalidValidator(name: name, problem: "more than \(Limits.maxValidators) validators") }
        validatorNames.insert(name)
        validatorKeys.insert(validator.validator.publicKey)
        validators.append(validator)
    }

    /// The finished genesis, or the first rule the draft does not meet yet.
    public func document() throws(GenesisError) -> GenesisDocument {
        try GenesisDocument(chainID: chainID, genesisTime: genesisTime, members: members, validators: validators, parameters: parameters)
    }

    /// Pretty JSON with sorted keys, members and validators in the order they were added.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(GenesisFile(chainID: chainID, genesisTime: genesisTime, members: members, validators: validators, parameters: parameters))
    }
}
