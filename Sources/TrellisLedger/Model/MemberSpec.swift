// MemberSpec.swift — the JSON forms of a member and an accreditation (genesis.json, governance proposals).
//
// snake_case fields, public keys as 64 hex digits, times as integer Unix seconds. Decoding is strict: unknown
// fields are rejected. `member()` turns a spec into the canonical `Member` kept in state.
import TrellisCodec
import TrellisCrypto

/// JSON form of an `Accreditation`.
public struct AccreditationSpec: Sendable, Hashable, Codable {
    public var scheme: String
    public var sectoralScopes: [String]
    public var validFrom: Int64
    public var validTo: Int64
    /// Defaults to true when omitted.
    public var active: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case scheme
        case sectoralScopes = "sectoral_scopes"
        case validFrom = "valid_from"
        case validTo = "valid_to"
        case active
    }

    public init(_ a: Accreditation) {
        self.scheme = a.scheme
        self.sectoralScopes = a.sectoralScopes
        self.validFrom = a.validFrom
        self.validTo = a.validTo
        self.active = a.active
    }

    public init(from decoder: any Decoder) throws {
        try StrictJSON.rejectUnknownKeys(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        scheme = try c.decode(String.self, forKey: .scheme)
        sectoralScopes = try c.decode([String].self, forKey: .sectoralScopes)
        validFrom = try c.decode(Int64.self, forKey: .validFrom)
        validTo = try c.decode(Int64.self, forKey: .validTo)
        active = try c.decodeIfPresent(Bool.self, forKey: .active) ?? true
    }

    /// The canonical accreditation (scopes sorted, distinct).
    public var accreditation: Accreditation {
        Accreditation(scheme: scheme, sectoralScopes: Array(Set(sectoralScopes)).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) },
                      validFrom: validFrom, validTo: validTo, active: active)
    }

    /// Rule checks beyond the JSON shape.
    public func problems() -> [String] {
        var out: [String] = []
        if scheme.isEmpty || scheme.utf8.count > Limits.maxNameBytes { out.append("scheme must be 1…\(Limits.maxNameBytes) bytes") }
        if sectoralScopes.isEmpty { out.append("sectoral_scopes must not be empty") }
        if sectoralScopes.count > Limits.maxListCount { out.append("at most \(Limits.maxListCount) sectoral_scopes") }
        if Set(sectoralScopes).count != sectoralScopes.count { out.append("sectoral_scopes has duplicates") }
        if sectoralScopes.contains(where: { $0.isEmpty || $0.utf8.count > Limits.maxNameBytes }) { out.append("a sectoral scope is empty or too long") }
        if validFrom > validTo { out.append("valid_from \(validFrom) is after valid_to \(validTo)") }
        return out
    }
}

/// JSON form of a `Member`.
public struct MemberSpec: Sendable, Hashable, Codable {
    public var memberID: String
    public var legalName: String
    public var registrationNo: String
    public var publicKeys: [PublicKey]
    public var roles: [Role]
    public var accreditations: [AccreditationSpec]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case memberID = "member_id"
        case legalName = "legal_name"
        case registrationNo = "registration_no"
        case publicKeys = "public_keys"
        case roles
        case accreditations
    }

    public init(memberID: String, legalName: String, registrationNo: String, publicKeys: [PublicKey], roles: [Role], accreditations: [AccreditationSpec] = []) {
        self.memberID = memberID
        self.legalName = legalName
        self.registrationNo = registrationNo
        self.publicKeys = publicKeys
        self.roles = roles
        self.accreditations = accreditations
    }

    public init(_ m: Member) {
        self.init(memberID: m.memberID, legalName: m.legalName, registrationNo: m.registrationNo, publicKeys: m.publicKeys, roles: m.roles,
                  accreditations: m.accreditations.map(AccreditationSpec.init))
    }

    public init(from decoder: any Decoder) throws {
        try StrictJSON.rejectUnknownKeys(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        memberID = try c.decode(String.self, forKey: .memberID)
        legalName = try c.decode(String.self, forKey: .legalName)
        registrationNo = try c.decode(String.self, forKey: .registrationNo)
        var keys = try c.nestedUnkeyedContainer(forKey: .publicKeys)
        var parsed: [PublicKey] = []
        while !keys.isAtEnd {
            let path = keys.codingPath + [AnyCodingKey(intValue: keys.currentIndex) ?? AnyCodingKey("?")]
            parsed.append(try StrictJSON.publicKey(try keys.decode(String.self), codingPath: path))
        }
        publicKeys = parsed
        roles = try c.decode([Role].self, forKey: .roles)
        accreditations = try c.decodeIfPresent([AccreditationSpec].self, forKey: .accreditations) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(memberID, forKey: .memberID)
        try c.encode(legalName, forKey: .legalName)
        try c.encode(registrationNo, forKey: .registrationNo)
        try c.encode(publicKeys.map(\.hex), forKey: .publicKeys)
        try c.encode(roles, forKey: .roles)
        try c.encode(accreditations, forKey: .accreditations)
    }

    /// Rule checks beyond the JSON shape (ids, sizes, duplicates).
    public func problems() -> [String] {
        var out: [String] = []
        if !Identifier.isValid(memberID) { out.append("member_id \"\(memberID)\" must be 1…\(Limits.maxIDBytes) bytes of [A-Za-z0-9._:-]") }
        if legalName.isEmpty || legalName.utf8.count > Limits.maxNameBytes { out.append("legal_name must be 1…\(Limits.maxNameBytes) bytes") }
        if registrationNo.utf8.count > Limits.maxNameBytes { out.append("registration_no longer than \(Limits.maxNameBytes) bytes") }
        if publicKeys.isEmpty { out.append("public_keys must not be empty") }
        if publicKeys.count > Limits.maxKeysPerMember { out.append("at most \(Limits.maxKeysPerMember) public_keys") }
        if Set(publicKeys).count != publicKeys.count { out.append("public_keys lists a key twice") }
        if Set(roles).count != roles.count { out.append("roles lists a role twice") }
        if accreditations.count > Limits.maxListCount { out.append("at most \(Limits.maxListCount) accreditations") }
        for (i, a) in accreditations.enumerated() { out += a.problems().map { "accreditations[\(i)]: \($0)" } }
        return out
    }

    /// The canonical member record (active).
    public var member: Member {
        Member(memberID: memberID, legalName: legalName, registrationNo: registrationNo, publicKeys: publicKeys, roles: roles,
               status: .active, accreditations: accreditations.map(\.accreditation))
    }
}
