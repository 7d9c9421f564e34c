// ContractHarness+Worlds.swift — the consortia the contract tests start from, and short-hands for common steps.
import Testing
import TrellisCrypto
@testable import TrellisLedger

extension ContractHarness {
    static func hash(_ text: String) -> Hash { SHA256.hash(Array(text.utf8)) }

    /// A core enterprise, three suppliers, two banks, a clearing agent, a regulator, a governor, a suspended and a
    /// revoked supplier; bank1 gives core1 a 1,000,000 credit line for two years.
    static func receivablesWorld() throws -> ContractHarness {
        let h = ContractHarness()
        h.putMember("core1", [.coreEnterprise])
        h.putMember("core2", [.coreEnterprise])
        for s in ["sup1", "sup2", "sup3"] { h.putMember(s, [.supplier]) }
        h.putMember("bank1", [.financier])
        h.putMember("bank2", [.financier])
        h.putMember("clear1", [.clearingAgent])
        h.putMember("reg1", [.regulator])
        h.putMember("gov1", [.governor])
        h.putMember("susp", [.supplier], status: .suspended)
        h.putMember("revoked", [.supplier], status: .revoked)
        try h.ok("credit_line.set", CreditLineSetPayload(lineID: "line1", core: "core1", limit: 1_000_000, expiry: h.time + 730 * day), by: "bank1", cosigners: ["core1"])
        return h
    }

    func tradeRef(_ invoices: [String]) -> TradeRef {
        TradeRef(contractNo: "PO-\(invoices.first ?? "x")", invoiceKeys: invoices, docHash: Self.hash(invoices.joined()))
    }

    /// Issues a root to `holder` and has it accepted; returns the root id.
    func issueAccepted(face: UInt64, maturityDays: Int64 = 90, invoices: [String], holder: String = "sup1") throws -> String {
        let ids = try ok("certificate.issue", CertificateIssuePayload(creditLineID: "line1", holder: holder, face: face, maturity: time + maturityDays * Self.day, tradeRef: tradeRef(invoices)), by: "core1")
        let root = try #require(ids.first)
        try ok("certificate.accept", CertificateRefPayload(certID: root), by: holder)
        return root
    }

    static let accreditation = Accreditation(scheme: "CNAS", sectoralScopes: ["energy", "forestry"], validFrom: 1_700_000_000, validTo: 1_800_000_000, active: true)

    /// A registry operator, two proponents, verifiers (accredited, expired, revoked, out of scope, and one sharing
    /// the proponent's registration number), participants, a regulator; program CCER in tCO2e and methodology
    /// AM0001 v1 registered.
    static func greenWorld() throws -> ContractHarness {
        let h = ContractHarness()
        h.putMember("registry", [.registryOperator])
        h.putMember("prop1", [.proponent], registrationNo: "USCC-PROP1")
        h.putMember("prop2", [.proponent])
        h.putMember("ver1", [.verifier], accreditations: [accreditation])
        var expired = accreditation
        expired.validTo = h.time - day
        h.putMember("ver-expired", [.verifier], accreditations: [expired])
        var revoked = accreditation
        revoked.active = false
        h.putMember("ver-revoked", [.verifier], accreditations: [revoked])
        var scoped = accreditation
        scoped.sectoralScopes = ["transport"]
        h.putMember("ver-scope", [.verifier], accreditations: [scoped])
        h.putMember("ver-own", [.verifier], registrationNo: "USCC-PROP1", accreditations: [accreditation])
        h.putMember("buyer1", [.participant])
        h.putMember("buyer2", [.participant])
        h.putMember("reg1", [.regulator])
        h.putMember("gone", [.participant], status: .revoked)
        try h.ok("program.register", ProgramRegisterPayload(programID: "CCER", unit: .tCO2e), by: "registry")
        try h.ok("methodology.register", MethodologyRegisterPayload(methodologyID: "AM0001", version: "1", title: "Grid-connected renewable power", active: true), by: "registry")
        return h
    }

    func projectPayload(_ id: String, devices: [String], location: String = "Gansu, Jiuquan", sector: String = "energy", start: Int64, end: Int64, external: [String] = []) -> ProjectRegisterPayload {
        ProjectRegisterPayload(projectID: id, programID: "CCER", methodologyID: "AM0001", methodologyVersion: "1", country: "CN", location: location, deviceIDs: devices, sector: sector, creditingStart: start, creditingEnd: end, externalIDs: external)
    }

    /// Registers project `id` for prop1 (crediting from a year ago for ten years), verifies the last `days` days
    /// for `quantity`, and issues it all (with `buffer` units in a buffer block). Returns (verification, batch,
    /// owner block, buffer block).
    func projectWithIssuance(_ id: String, device: String, quantity: UInt64, buffer: UInt64 = 0, days: Int64 = 90) throws -> (ver: String, batch: String, block: String?, buffer: String?) {
        try ok("project.register", projectPayload(id, devices: [device], location: "site-\(id)", start: time - 365 * Self.day, end: time + 3650 * Self.day, external: ["EXT-\(id)"]), by: "prop1", cosigners: ["registry"])
        let verID = try #require(try ok("verification.submit", VerificationSubmitPayload(projectID: id, periodStart: time - days * Self.day, periodEnd: time, quantity: quantity, reportHash: Self.hash("report-\(id)")), by: "ver1").first)
        let ids = try ok("credits.issue", CreditsIssuePayload(verificationID: verID, quantity: quantity, bufferQuantity: buffer), by: "registry")
        let batch = try #require(ids.first)
        let owned = buffer < quantity ? ids.dropFirst().first : nil
        let bufferBlock = buffer > 0 ? ids.last : nil
        return (verID, batch, owned, bufferBlock)
    }
}
