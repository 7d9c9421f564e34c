// GreenAssetsModel.swift — registry records of green-asset claims (DOMAIN.md §B): programs, methodologies,
// projects, and the state keys of the whole green-assets contract.
//
// Key layout:
//   program/<program_id>                        Program (unit, serial counter)
//   methodology/<methodology_id>/<version>      Methodology
//   project/<project_id>                        Project
//   projext/<program_id>/<external_id>          project id ((program, external id) is unique)
//   projdev/<device_id>/<project_id>            device → projects (overlap check)
//   projloc/<sha256(location, sector)>/<project_id>  location+sector → projects (overlap check)
//   verification/<ver_id>                       Verification
//   batch/<batch_id>                            Batch
//   batchserial/<program_id>/<serial_start:20 digits>  batch id, in serial order
//   cblock/<block_id>                           CreditBlock (consumed blocks kept for provenance)
//   batchblock/<batch_id>/<block_id>            live (non-consumed) blocks of a batch
//   cblockby/<owner>/<block_id>                 live blocks per owner
//   retirement/<ret_id>                         Retirement
//   retben/<sha256(beneficiary)>/<ret_id>       retirements per beneficiary
//   governance/credit_cancel/<block_id>      governance approval to cancel a block (written by Governance)
import TrellisCodec
import TrellisCrypto

/// Where green-asset records live.
public enum GreenAssetsKeys {
    public static func program(_ id: String) -> [UInt8] { StateKey.make("program", id) }
    public static func methodology(_ id: String, version: String) -> [UInt8] { StateKey.make("methodology", id, version) }
    public static func project(_ id: String) -> [UInt8] { StateKey.make("project", id) }
    public static func externalID(program: String, external: String) -> [UInt8] { StateKey.make("projext", program, external) }
    public static func devicePrefix(_ device: String) -> [UInt8] { StateKey.prefix("projdev", device) }
    public static func device(_ device: String, project: String) -> [UInt8] { StateKey.make("projdev", device, project) }
    public static func locationPrefix(location: String, sector: String) -> [UInt8] { StateKey.prefix("projloc", AssetState.textDigest([location, sector])) }
    public static func location(location: String, sector: String, project: String) -> [UInt8] { StateKey.make("projloc", AssetState.textDigest([location, sector]), project) }
    public static func verification(_ id: String) -> [UInt8] { StateKey.make("verification", id) }
    public static func batch(_ id: String) -> [UInt8] { StateKey.make("batch", id) }
    public static func batchSerials(program: String) -> [UInt8] { StateKey.prefix("batchserial", program) }
    public static func batchSerial(program: String, start: UInt64) -> [UInt8] { StateKey.make("batchserial", program, AssetState.paddedDecimal(start)) }
    public static func block(_ id: String) -> [UInt8] { StateKey.make("cblock", id) }
    public static func liveBlocks(batch: String) -> [UInt8] { StateKey.prefix("batchblock", batch) }
    public static func liveBlock(batch: String, block: String) -> [UInt8] { StateKey.make("batchblock", batch, block) }
    public static func blocks(owner: String) -> [UInt8] { StateKey.prefix("cblockby", owner) }
    public static func block(owner: String, block: String) -> [UInt8] { StateKey.make("cblockby", owner, block) }
    public static func retirement(_ id: String) -> [UInt8] { StateKey.make("retirement", id) }
    public static func retirements(beneficiary: String) -> [UInt8] { StateKey.prefix("retben", AssetState.textDigest([beneficiary])) }
    public static func retirement(beneficiary: String, ret: String) -> [UInt8] { StateKey.make("retben", AssetState.textDigest([beneficiary]), ret) }
    /// Governance's approval to cancel `blockID` (existence = approved; consumed by `credits.cancel`).
    /// Governance writes this marker when a cancellation proposal executes (one key, defined in LedgerKeys).
    public static func cancelApproval(block blockID: String) -> [UInt8] { LedgerKeys.creditCancellationApproval(blockID) }
    public static let allPrograms = StateKey.prefix("program")
    public static let allBatches = StateKey.prefix("batch")
}

/// The human serial form of credit ranges.
public enum CreditSerial {
    /// The highest serial a program assigns: 2⁶⁴ − 2. Serials run 1 … maxSerial, so a range's "one past the end"
    /// (`serial_end + 1`) is always a UInt64; an issuance that would pass it is rejected with `serial_overflow`.
    public static let maxSerial: UInt64 = .max - 1

    /// PROGRAM-UNIT-COUNTRY-PROJECT-VINTAGE-START-END, e.g. "CCER-tCO2e-CN-wind-7-2025-1-500".
    public static func text(program: Program, country: String, projectID: String, vintage: Int64, start: UInt64, end: UInt64) -> String {
        [program.programID, program.unit.rawValue, country, projectID, String(vintage), String(start), String(end)].joined(separator: "-")
    }
}

/// The unit a program's credits count.
public enum CreditUnit: String, TaggedEnum {
    case tCO2e
    case mwh = "MWh"
}

/// A crediting program: its unit and the serial counter from which every batch's serials are taken.
public struct Program: Hashable, Sendable, CanonicalCodable, Codable {
    public var programID: String
    public var unit: CreditUnit
    /// The last serial assigned (0 = none yet); the next batch starts at serialCounter + 1.
    public var serialCounter: UInt64
    public var registeredBy: String

    public init(programID: String, unit: CreditUnit, serialCounter: UInt64, registeredBy: String) {
        self.programID = programID
        self.unit = unit
        self.serialCounter = serialCounter
        self.registeredBy = registeredBy
    }

    enum CodingKeys: String, CodingKey {
        case programID = "program_id"
        case unit
        case serialCounter = "serial_counter"
        case registeredBy = "registered_by"
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(programID)
        encoder.encode(unit)
        encoder.encode(serialCounter)
        encoder.encode(registeredBy)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        programID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        unit = try decoder.decode(CreditUnit.self)
        serialCounter = try decoder.decodeUInt64()
        registeredBy = try decoder.decodeString(maxLength: Limits.maxIDBytes)
    }
}

/// A monitoring/quantification methodology at one version.
public struct Methodology: Hashable, Sendable, CanonicalCodable, Codable {
    public var methodologyID: String
    public var version: String
    public var title: String
    /// Only active methodologies accept new projects.
    public var active: Bool

    public init(methodologyID: String, version: String, title: String, active: Bool) {
        self.methodologyID = methodologyID
        self.version = version
        self.title = title
        self.active = active
    }

    enum CodingKeys: String, CodingKey {
        case methodologyID = "methodology_id"
        case version, title, active
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(methodologyID)
        encoder.encode(version)
        encoder.encode(title)
        encoder.encode(active)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        methodologyID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        version = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        title = try decoder.decodeString(maxLength: Limits.maxNameBytes)
        active = try decoder.decodeBool()
    }
}

/// A registered green project.
public struct Project: Hashable, Sendable, CanonicalCodable, Codable {
    public var projectID: String
    public var proponent: String
    public var programID: String
    public var methodologyID: String
    public var methodologyVersion: String
    /// ISO 3166-1 alpha-2 code.
    public var country: String
    public var location: String
    public var deviceIDs: [String]
    public var sector: String
    public var creditingStart: Int64
    public var creditingEnd: Int64
    public var externalIDs: [String]
    /// The registry operator who co-signed the registration.
    public var registeredBy: String
    public var registeredAt: Int64
    /// End of the latest verified monitoring period (nil before the first verification).
    public var lastVerifiedEnd: Int64?

    public init(projectID: String, proponent: String, programID: String, methodologyID: String, methodologyVersion: String, country: String, location: String, deviceIDs: [String], sector: String, creditingStart: Int64, creditingEnd: Int64, externalIDs: [String], registeredBy: String, registeredAt: Int64, lastVerifiedEnd: Int64? = nil) {
        self.projectID = projectID
        self.proponent = proponent
        self.programID = programID
        self.methodologyID = methodologyID
        self.methodologyVersion = methodologyVersion
        self.country = country
        self.location = location
        self.deviceIDs = deviceIDs
        self.sector = sector
        self.creditingStart = creditingStart
        self.creditingEnd = creditingEnd
        self.externalIDs = externalIDs
        self.registeredBy = registeredBy
        self.registeredAt = registeredAt
        self.lastVerifiedEnd = lastVerifiedEnd
    }

    enum CodingKeys: String, CodingKey {
        case projectID = "project_id"
        case proponent
        case programID = "program_id"
        case methodologyID = "methodology_id"
        case methodologyVersion = "methodology_version"
        case country, location
        case deviceIDs = "device_ids"
        case sector
        case creditingStart = "crediting_start"
        case creditingEnd = "crediting_end"
        case externalIDs = "external_ids"
        case registeredBy = "registered_by"
        case registeredAt = "registered_at"
        case lastVerifiedEnd = "last_verified_end"
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(projectID)
        encoder.encode(proponent)
        encoder.encode(programID)
        encoder.encode(methodologyID)
        encoder.encode(methodologyVersion)
        encoder.encode(country)
        encoder.encode(location)
        encoder.encode(deviceIDs)
        encoder.encode(sector)
        encoder.encode(creditingStart)
        encoder.encode(creditingEnd)
        encoder.encode(externalIDs)
        encoder.encode(registeredBy)
        encoder.encode(registeredAt)
        encoder.encode(lastVerifiedEnd)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        projectID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        proponent = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        programID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        methodologyID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        methodologyVersion = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        country = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        location = try decoder.decodeString(maxLength: Limits.maxNameBytes)
        deviceIDs = try decoder.decodeArray(String.self, maxCount: Limits.maxListCount)
        sector = try decoder.decodeString(maxLength: Limits.maxNameBytes)
        creditingStart = try decoder.decodeInt64()
        creditingEnd = try decoder.decodeInt64()
        externalIDs = try decoder.decodeArray(String.self, maxCount: Limits.maxListCount)
        registeredBy = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        registeredAt = try decoder.decodeInt64()
        lastVerifiedEnd = try decoder.decodeOptional(Int64.self)
    }
}
