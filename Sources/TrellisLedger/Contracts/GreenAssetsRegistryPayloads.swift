// GreenAssetsRegistryPayloads.swift — payloads of the registry kinds: program.register, methodology.register,
// project.register and verification.submit. Canonical bytes on chain, snake_case JSON, stateless checks in
// `validate()`.
import TrellisCodec
import TrellisCrypto

/// `program.register`: the registry operator opens a crediting program (its serial counter starts at 0).
public struct ProgramRegisterPayload: TransactionPayload, Hashable {
    public var programID: String
    public var unit: CreditUnit

    public init(programID: String, unit: CreditUnit) {
        self.programID = programID
        self.unit = unit
    }

    enum CodingKeys: String, CodingKey {
        case programID = "program_id"
        case unit
    }

    public func validate() throws(TxRejection) { try AssetCheck.id(programID, "program_id") }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(programID)
        encoder.encode(unit)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        programID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        unit = try decoder.decode(CreditUnit.self)
    }
}

/// `methodology.register`: the registry operator adds a methodology version or changes whether it is active.
public struct MethodologyRegisterPayload: TransactionPayload, Hashable {
    public var methodologyID: String
    public var version: String
    public var title: String
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

    public func validate() throws(TxRejection) {
        try AssetCheck.id(methodologyID, "methodology_id")
        try AssetCheck.id(version, "version")
        try AssetCheck.text(title, "title")
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

/// `project.register`: a proponent registers a project, co-signed by a registry operator.
public struct ProjectRegisterPayload: TransactionPayload, Hashable {
    public var projectID: String
    public var programID: String
    public var methodologyID: String
    public var methodologyVersion: String
    public var country: String
    public var location: String
    public var deviceIDs: [String]
    public var sector: String
    public var creditingStart: Int64
    public var creditingEnd: Int64
    public var externalIDs: [String]

    public init(projectID: String, programID: String, methodologyID: String, methodologyVersion: String, country: String, location: String, deviceIDs: [String], sector: String, creditingStart: Int64, creditingEnd: Int64, externalIDs: [String]) {
        self.projectID = projectID
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
    }

    enum CodingKeys: String, CodingKey {
        case projectID = "project_id"
        case programID = "program_id"
        case methodologyID = "methodology_id"
        case methodologyVersion = "methodology_version"
        case country, location
        case deviceIDs = "device_ids"
        case sector
        case creditingStart = "crediting_start"
        case creditingEnd = "crediting_end"
        case externalIDs = "external_ids"
    }

    public func validate() throws(TxRejection) {
        try AssetCheck.id(projectID, "project_id")
        try AssetCheck.id(programID, "program_id")
        try AssetCheck.id(methodologyID, "methodology_id")
        try AssetCheck.id(methodologyVersion, "methodology_version")
        let letters = Array(country.utf8)
        guard letters.count == 2, letters.allSatisfy({ $0 >= 0x41 && $0 <= 0x5a }) else {
            throw TxRejection("invalid_country", "country must be an ISO 3166-1 alpha-2 code in capitals, got \"\(country.prefix(8))\"")
        }
        try AssetCheck.text(location, "location")
        try AssetCheck.id(sector, "sector")
        try AssetCheck.count(deviceIDs.count, "device_ids", max: Limits.maxListCount, min: 0)
        for device in deviceIDs { try AssetCheck.id(device, "device_ids[]") }
        try AssetCheck.distinct(deviceIDs, "device_ids")
        try AssetCheck.count(externalIDs.count, "external_ids", max: Limits.maxListCount, min: 0)
        for external in externalIDs { try AssetCheck.id(external, "external_ids[]") }
        try AssetCheck.distinct(externalIDs, "external_ids")
        guard creditingStart < creditingEnd else {
            throw TxRejection("invalid_period", "crediting_start \(creditingStart) must be before crediting_end \(creditingEnd)")
        }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(projectID)
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
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        projectID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        programID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        methodologyID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        methodologyVersion = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        country = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        location = try decoder.decodeString(maxLength: Limits.maxNameBytes)
        deviceIDs = try decoder.decodeArray(String.self, maxCount: Limits.maxListCount)
        sector = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        creditingStart = try decoder.decodeInt64()
        creditingEnd = try decoder.decodeInt64()
        externalIDs = try decoder.decodeArray(String.self, maxCount: Limits.maxListCount)
    }
}

/// `verification.submit`: an accredited verifier attests a monitored quantity for a period.
public struct VerificationSubmitPayload: TransactionPayload, Hashable {
    public var projectID: String
    public var periodStart: Int64
    public var periodEnd: Int64
    public var quantity: UInt64
    @HexHash public var reportHash: Hash

    public init(projectID: String, periodStart: Int64, periodEnd: Int64, quantity: UInt64, reportHash: Hash) {
        self.projectID = projectID
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.quantity = quantity
        self.reportHash = reportHash
    }

    enum CodingKeys: String, CodingKey {
        case projectID = "project_id"
        case periodStart = "period_start"
        case periodEnd = "period_end"
        case quantity
        case reportHash = "report_hash"
    }

    public func validate() throws(TxRejection) {
        try AssetCheck.id(projectID, "project_id")
        try AssetCheck.positive(quantity, "quantity")
        guard periodStart < periodEnd else {
            throw TxRejection("invalid_period", "period_start \(periodStart) must be before period_end \(periodEnd)")
        }
    }

    public func encode(to encoder: inout CanonicalEncoder) {
        encoder.encode(projectID)
        encoder.encode(periodStart)
        encoder.encode(periodEnd)
        encoder.encode(quantity)
        encoder.encode(reportHash)
    }

    public init(from decoder: inout CanonicalDecoder) throws(CodecError) {
        projectID = try decoder.decodeString(maxLength: Limits.maxIDBytes)
        periodStart = try decoder.decodeInt64()
        periodEnd = try decoder.decodeInt64()
        quantity = try decoder.decodeUInt64()
        reportHash = try decoder.decode(Hash.self)
    }
}
