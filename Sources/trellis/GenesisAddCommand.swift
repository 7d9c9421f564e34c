// GenesisAddCommand.swift — `trellis genesis add member|validator`: add one organisation's entry to the draft
// genesis.json of a ceremony, in place.
//
// Entries come from flags or from a file (`--from`): a join request written by `trellis node init --json` (or
// <home>/join.json), or for a member also a bare member object as in genesis.json. Flags given beside --from
// override the file's fields. Each entry is checked against the rules and against what the file already holds
// before the file is rewritten (atomically); any problem exits 2 with the field and value named, leaving the file
// as it was: another chain's request, a duplicate member id or key, a validator key listed twice, a malformed
// key, an unknown role, a bad address.
import ArgumentParser
import Foundation
import TrellisCrypto
import TrellisLedger

struct GenesisAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a member or a validator to a draft genesis.json (edited in place, atomically).",
        subcommands: [MemberEntry.self, ValidatorEntry.self]
    )

    struct MemberEntry: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "member",
            abstract: "Add a consortium member (an organisation: id, legal name, keys, roles).",
            discussion: """
            From flags, or --from FILE: a join request with a "member" section (`trellis node init --legal-name … \
            --member-key … --role … --json`) or a member object as in genesis.json. Roles: \
            \(Role.allCases.map(\.rawValue).joined(separator: ", ")).
            """
        )

        @Option(help: "The draft genesis.json to edit.") var genesis: String
        @Option(help: "A join request or member JSON file.") var from: String?
        @Option(help: "The member id: 1…128 bytes of [A-Za-z0-9._:-].") var id: String?
        @Option(help: "The organisation's legal name.") var legalName: String?
        @Option(help: "Registration number (e.g. the USCC).") var registrationNo: String?
        @Option(help: "A public key (64 hex digits) that signs for the member; repeat for several.") var publicKey: [String] = []
        @Option(help: "A role; repeat or separate with commas.") var role: [String] = []

        func run() throws {
            var draft = try GenesisFileEditor.load(genesis)
            var spec = try fromFile(chainID: draft.chainID) ?? MemberSpec(memberID: "", legalName: "", registrationNo: "", publicKeys: [], roles: [])
            if let id { spec.memberID = id }
            if let legalName { spec.legalName = legalName }
            if let registrationNo { spec.registrationNo = registrationNo }
            if !publicKey.isEmpty { spec.publicKeys = try publicKey.map { try parseKey($0, option: "--public-key") } }
            if !role.isEmpty { spec.roles = try parseRoles(role) }
            if from == nil {
                guard id != nil else { throw badInput("--id is required without --from") }
                guard legalName != nil else { throw badInput("--legal-name is required without --from") }
                guard !publicKey.isEmpty else { throw badInput("--public-key is required without --from (the member's signing key, 64 hex digits)") }
            }
            do { try draft.add(member: spec) } catch { throw badInput("cannot add member \"\(spec.memberID)\" to \(genesis): \(error.description)") }
            try GenesisFileEditor.write(draft, to: genesis)
            let roles = spec.roles.map(\.rawValue).joined(separator: ",")
            print("added member \(spec.memberID) (roles \(roles.isEmpty ? "none" : roles)) to \(genesis): \(draft.members.count) members, \(draft.validators.count) validators")
            print(GenesisFileEditor.completeness(draft))
        }

        /// The member in --from: a join request's member section, or a bare member object.
        func fromFile(chainID: String) throws -> MemberSpec? {
            guard let from else { return nil }
            let data = try readInput(from)
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            if object?["member_id"] != nil {
                do { return try JSONDecoder().decode(MemberSpec.self, from: data) } catch { throw badInput("\(from): member JSON: \(StrictJSON.describe(error))") }
            }
            let request = try parseJoinRequest(data, path: from, chainID: chainID)
            if let member = request.member { return member }
            // No member section: the flags describe the member, its id defaulting to the request's name.
            guard legalName != nil, !publicKey.isEmpty else {
                throw badInput("\(from) has no \"member\" section: pass --legal-name, --public-key and --role (and --id, default \"\(request.name)\"), or create the join request with `trellis node init --legal-name … --member-key … --role …`")
            }
            return MemberSpec(memberID: request.name, legalName: "", registrationNo: "", publicKeys: [], roles: [])
        }
    }

    struct ValidatorEntry: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "validator",
            abstract: "Add a validator node (name, node public key, p2p address, voting power).",
            discussion: "From flags, or --from a join request (`trellis node init --json`, or <home>/join.json)."
        )

        @Option(help: "The draft genesis.json to edit.") var genesis: String
        @Option(help: "A join request file.") var from: String?
        @Option(help: "The validator's name: 1…128 bytes of [A-Za-z0-9._:-].") var name: String?
        @Option(help: "The node's public key (64 hex digits; `trellis keys show --key <home>/node.key`).") var publicKey: String?
        @Option(help: "Where the other validators reach the node, host:port.") var p2pAddress: String?
        @Option(parsing: .unconditional, help: "Voting power (> 0; quorum is more than 2/3 of the total; default: 1).", transform: NumberArgument.parse) var votingPower: UInt64 = 1

        func run() throws {
            var draft = try GenesisFileEditor.load(genesis)
            var request: JoinRequest
            if let from {
                request = try parseJoinRequest(try readInput(from), path: from, chainID: draft.chainID)
            } else {
                guard let name else { throw badInput("--name is required without --from") }
                guard let publicKey else { throw badInput("--public-key is required without --from (the node key, 64 hex digits)") }
                guard let p2pAddress else { throw badInput("--p2p-address is required without --from (host:port)") }
                request = JoinRequest(chainID: nil, name: name, publicKey: try parseKey(publicKey, option: "--public-key"), p2pAddress: p2pAddress)
            }
            if let name { request.name = name }
            if let publicKey { request.publicKey = try parseKey(publicKey, option: "--public-key") }
            if let p2pAddress { request.p2pAddress = p2pAddress }
            if let problem = Validator.addressProblem(request.p2pAddress) { throw badInput("validator \"\(request.name)\": \(problem)") }
            do { try draft.add(validator: request.validator(votingPower: votingPower)) } catch {
                throw badInput("cannot add validator \"\(request.name)\" to \(genesis): \(error.description)")
            }
            try GenesisFileEditor.write(draft, to: genesis)
            print("added validator \(request.name) (\(request.p2pAddress), voting power \(votingPower)) to \(genesis): \(draft.members.count) members, \(draft.validators.count) validators")
            print(GenesisFileEditor.completeness(draft))
        }
    }
}

/// The bytes of an input file; exit 2 naming it when unreadable.
private func readInput(_ path: String) throws -> Data {
    guard let data = FileManager.default.contents(atPath: path) else { throw badInput("cannot read \(path)") }
    return data
}

/// A join request for the genesis's chain; exit 2 naming the file and the problem otherwise.
private func parseJoinRequest(_ data: Data, path: String, chainID: String) throws -> JoinRequest {
    let request: JoinRequest
    do {
        request = try JoinRequest.parse(data)
        try request.check(chainID: chainID)
    } catch { throw badInput("\(path): \(error.description)") }
    return request
}

/// A public key from hex; exit 2 naming the option and the value otherwise.
private func parseKey(_ hex: String, option: String) throws -> PublicKey {
    do { return try PublicKey(hex: hex) } catch { throw badInput("\(option) \"\(hex)\": \(error)") }
}

/// Roles from repeated or comma-separated names; exit 2 naming an unknown one.
func parseRoles(_ values: [String]) throws -> [Role] {
    var roles: [Role] = []
    for name in values.flatMap({ $0.split(separator: ",") }).map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
        guard let role = Role(rawValue: name) else {
            throw badInput("--role \"\(name)\" is not a role (roles: \(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if !roles.contains(role) { roles.append(role) }
    }
    return roles
}
