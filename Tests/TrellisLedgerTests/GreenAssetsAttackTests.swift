// GreenAssetsAttackTests.swift — DOMAIN.md §D attacks on green-asset claims (2, 6–10) and registration overlap:
// each is rejected with its specific code and leaves the state byte-for-byte unchanged.
import Testing
@testable import TrellisLedger

@Suite struct GreenAssetsAttackTests {
    let day = ContractHarness.day

    @Test func d2DoubleSpendOfACreditBlock() throws {
        let h = try ContractHarness.greenWorld()
        let block = try #require(try h.projectWithIssuance("p-d2", device: "D2", quantity: 100).block)
        try h.ok("credits.transfer", CreditsTransferPayload(blockID: block, outputs: [CreditsOutput(to: "buyer1", quantity: 100)]), by: "prop1")
        try h.rejects("block_not_active", "credits.transfer", CreditsTransferPayload(blockID: block, outputs: [CreditsOutput(to: "buyer2", quantity: 100)]), by: "prop1")
        // The next owner passes it on; its own consumed block cannot be spent again either.
        let child = try h.block(try #require(try h.block(block).children.first))
        try h.ok("credits.transfer", CreditsTransferPayload(blockID: child.blockID, outputs: [CreditsOutput(to: "prop1", quantity: 100)]), by: "buyer1")
        try h.rejects("block_not_active", "credits.retire", CreditsRetirePayload(ranges: [RetireRange(blockID: child.blockID)], beneficiary: "B", purpose: "P", claimPeriodStart: 0, claimPeriodEnd: 0), by: "buyer1")
    }

    @Test func d2TransfersMustPartitionTheRangeExactly() throws {
        let h = try ContractHarness.greenWorld()
        let block = try #require(try h.projectWithIssuance("p-part", device: "PART", quantity: 100).block)
        try h.rejects("split_sum_mismatch", "credits.transfer", CreditsTransferPayload(blockID: block, outputs: [CreditsOutput(to: "buyer1", quantity: 50), CreditsOutput(to: "prop1", quantity: 51)]), by: "prop1")
        try h.rejects("split_sum_mismatch", "credits.transfer", CreditsTransferPayload(blockID: block, outputs: [CreditsOutput(to: "buyer1", quantity: 50), CreditsOutput(to: "prop1", quantity: 49)]), by: "prop1")
        try h.rejects("zero_amount", "credits.transfer", CreditsTransferPayload(blockID: block, outputs: [CreditsOutput(to: "buyer1", quantity: 100), CreditsOutput(to: "prop1", quantity: 0)]), by: "prop1")
        try h.rejects("member_not_active", "credits.transfer", CreditsTransferPayload(blockID: block, outputs: [CreditsOutput(to: "gone", quantity: 100)]), by: "prop1")
    }

    @Test func d7VerifierExpiredRevokedOutOfScopeOrTheProponentItself() throws {
        let h = try ContractHarness.greenWorld()
        try h.ok("project.register", h.projectPayload("p-d7", devices: ["D7"], start: h.time - 365 * day, end: h.time + 365 * day), by: "prop1", cosigners: ["registry"])
        let submit = VerificationSubmitPayload(projectID: "p-d7", periodStart: h.time - 30 * day, periodEnd: h.time, quantity: 10, reportHash: ContractHarness.hash("r"))
        try h.rejects("verifier_not_accredited", "verification.submit", submit, by: "ver-expired")
        try h.rejects("verifier_not_accredited", "verification.submit", submit, by: "ver-revoked")
        try h.rejects("verifier_not_accredited", "verification.submit", submit, by: "ver-scope")
        try h.rejects("verifier_conflict_of_interest", "verification.submit", submit, by: "ver-own")
        h.putMember("prop-verifier", [.proponent, .verifier], accreditations: [ContractHarness.accreditation])
        try h.ok("project.register", h.projectPayload("p-d7b", devices: ["D7B"], location: "elsewhere", start: h.time - 365 * day, end: h.time + 365 * day), by: "prop-verifier", cosigners: ["registry"])
        try h.rejects("verifier_conflict_of_interest", "verification.submit", VerificationSubmitPayload(projectID: "p-d7b", periodStart: h.time - 30 * day, periodEnd: h.time, quantity: 10, reportHash: ContractHarness.hash("r")), by: "prop-verifier")
        try h.rejects("role_not_allowed", "verification.submit", submit, by: "prop1")
        try h.ok("verification.submit", submit, by: "ver1")
    }

    @Test func d8OverlappingPeriodsSecondIssuanceAndOverIssuance() throws {
        let h = try ContractHarness.greenWorld()
        try h.ok("project.register", h.projectPayload("p-d8", devices: ["D8"], start: h.time - 365 * day, end: h.time + 365 * day), by: "prop1", cosigners: ["registry"])
        let verID = try #require(try h.ok("verification.submit", VerificationSubmitPayload(projectID: "p-d8", periodStart: h.time - 60 * day, periodEnd: h.time - 30 * day, quantity: 10, reportHash: ContractHarness.hash("r1")), by: "ver1").first)
        try h.rejects("period_overlap", "verification.submit", VerificationSubmitPayload(projectID: "p-d8", periodStart: h.time - 31 * day, periodEnd: h.time, quantity: 10, reportHash: ContractHarness.hash("r2")), by: "ver1")
        try h.rejects("period_in_future", "verification.submit", VerificationSubmitPayload(projectID: "p-d8", periodStart: h.time - 30 * day, periodEnd: h.time + 1, quantity: 10, reportHash: ContractHarness.hash("r2")), by: "ver1")
        try h.rejects("outside_crediting_period", "verification.submit", VerificationSubmitPayload(projectID: "p-d8", periodStart: h.time - 400 * day, periodEnd: h.time - 390 * day, quantity: 10, reportHash: ContractHarness.hash("r2")), by: "ver1")
        try h.rejects("invalid_period", "verification.submit", VerificationSubmitPayload(projectID: "p-d8", periodStart: h.time - day, periodEnd: h.time - day, quantity: 10, reportHash: ContractHarness.hash("r2")), by: "ver1")
        try h.rejects("quantity_exceeds_verified", "credits.issue", CreditsIssuePayload(verificationID: verID, quantity: 11), by: "registry")
        try h.rejects("buffer_exceeds_quantity", "credits.issue", CreditsIssuePayload(verificationID: verID, quantity: 5, bufferQuantity: 6), by: "registry")
        try h.ok("credits.issue", CreditsIssuePayload(verificationID: verID, quantity: 10), by: "registry")
        try h.rejects("verification_already_used", "credits.issue", CreditsIssuePayload(verificationID: verID, quantity: 1), by: "registry")
        try h.rejects("role_not_allowed", "credits.issue", CreditsIssuePayload(verificationID: verID, quantity: 1), by: "prop1")
        // A period starting exactly at the last verified end is allowed (half-open periods).
        try h.ok("verification.submit", VerificationSubmitPayload(projectID: "p-d8", periodStart: h.time - 30 * day, periodEnd: h.time, quantity: 10, reportHash: ContractHarness.hash("r3")), by: "ver1")
    }

    @Test func d9RetiredOrCancelledUnitsAndRangesStraddlingAnotherOwner() throws {
        let h = try ContractHarness.greenWorld()
        let issued = try h.projectWithIssuance("p-d9", device: "D9", quantity: 100, buffer: 10)
        let block = try #require(issued.block)
        let halves = try h.ok("credits.transfer", CreditsTransferPayload(blockID: block, outputs: [CreditsOutput(to: "buyer1", quantity: 45), CreditsOutput(to: "buyer2", quantity: 45)]), by: "prop1")
        // buyer1 owns 1…45, buyer2 46…90: a range 40…50 straddles buyer2's block.
        try h.rejects("range_not_owned", "credits.retire", CreditsRetirePayload(ranges: [RetireRange(blockID: halves[0], serialStart: 40, serialEnd: 50)], beneficiary: "B", purpose: "P", claimPeriodStart: 0, claimPeriodEnd: 0), by: "buyer1")
        try h.rejects("not_owner", "credits.retire", CreditsRetirePayload(ranges: [RetireRange(blockID: halves[1], serialStart: 46, serialEnd: 50)], beneficiary: "B", purpose: "P", claimPeriodStart: 0, claimPeriodEnd: 0), by: "buyer1")
        try h.rejects("missing_field", "credits.retire", CreditsRetirePayload(ranges: [RetireRange(blockID: halves[0])], beneficiary: "", purpose: "P", claimPeriodStart: 0, claimPeriodEnd: 0), by: "buyer1")
        try h.rejects("missing_field", "credits.retire", CreditsRetirePayload(ranges: [RetireRange(blockID: halves[0])], beneficiary: "B", purpose: "", claimPeriodStart: 0, claimPeriodEnd: 0), by: "buyer1")
        try h.rejects("invalid_range", "credits.retire", CreditsRetirePayload(ranges: [RetireRange(blockID: halves[0], serialStart: 5, serialEnd: nil)], beneficiary: "B", purpose: "P", claimPeriodStart: 0, claimPeriodEnd: 0), by: "buyer1")
        try h.ok("credits.retire", CreditsRetirePayload(ranges: [RetireRange(blockID: halves[0])], beneficiary: "B", purpose: "P", claimPeriodStart: 0, claimPeriodEnd: 0), by: "buyer1")
        try h.rejects("block_not_active", "credits.transfer", CreditsTransferPayload(blockID: halves[0], outputs: [CreditsOutput(to: "buyer2", quantity: 45)]), by: "buyer1")
        try h.rejects("block_not_active", "credits.retire", CreditsRetirePayload(ranges: [RetireRange(blockID: halves[0])], beneficiary: "C", purpose: "P", claimPeriodStart: 0, claimPeriodEnd: 0), by: "buyer1")
        try h.rejects("block_not_active", "asset.freeze", AssetFreezePayload(assetType: .creditBlock, assetID: halves[0], reason: "x"), by: "reg1")
        // Cancelled units.
        let buffer = try #require(issued.buffer)
        h.put(GreenAssetsKeys.cancelApproval(block: buffer), [1])
        try h.ok("credits.cancel", CreditsBlockActionPayload(blockID: buffer, reason: "reversal"), by: "registry")
        try h.rejects("block_not_active", "credits.transfer", CreditsTransferPayload(blockID: buffer, outputs: [CreditsOutput(to: "buyer2", quantity: 10)]), by: "registry")
        h.put(GreenAssetsKeys.cancelApproval(block: buffer), [1])
        try h.rejects("block_not_active", "credits.cancel", CreditsBlockActionPayload(blockID: buffer, reason: "again"), by: "registry")
        try h.rejects("block_not_active", "credits.cancel", CreditsBlockActionPayload(blockID: halves[0], reason: "retired"), by: "registry")
        #expect(try h.greenViolations() == [])
    }

    @Test func d10SuspendedMembersAndRegulatorsMovingCredits() throws {
        let h = try ContractHarness.greenWorld()
        let block = try #require(try h.projectWithIssuance("p-d10", device: "D10", quantity: 10).block)
        try h.rejects("role_not_allowed", "credits.transfer", CreditsTransferPayload(blockID: block, outputs: [CreditsOutput(to: "reg1", quantity: 10)]), by: "reg1")
        try h.rejects("role_not_allowed", "credits.retire", CreditsRetirePayload(ranges: [RetireRange(blockID: block)], beneficiary: "B", purpose: "P", claimPeriodStart: 0, claimPeriodEnd: 0), by: "reg1")
        h.advance(seconds: 10 * day)
        let verID = try #require(try h.ok("verification.submit", VerificationSubmitPayload(projectID: "p-d10", periodStart: h.time - 10 * day, periodEnd: h.time, quantity: 5, reportHash: ContractHarness.hash("r")), by: "ver1").first)
        h.putMember("prop1", [.proponent], status: .suspended, registrationNo: "USCC-PROP1")
        try h.rejects("member_not_active", "credits.issue", CreditsIssuePayload(verificationID: verID, quantity: 5), by: "registry")
        try h.rejects("signer_not_active", "credits.transfer", CreditsTransferPayload(blockID: block, outputs: [CreditsOutput(to: "buyer1", quantity: 10)]), by: "prop1")
        try h.rejects("signer_not_active", "project.register", h.projectPayload("p-x", devices: ["X"], start: 0, end: 1), by: "prop1", cosigners: ["registry"])
        h.putMember("registry", [.registryOperator], status: .revoked)
        try h.rejects("cosigner_not_active", "project.register", h.projectPayload("p-y", devices: ["Y"], start: 0, end: 1), by: "prop2", cosigners: ["registry"])
    }

    @Test func projectRegistrationOverlapsAndUniqueness() throws {
        let h = try ContractHarness.greenWorld()
        let start = h.time - 100 * day
        let end = h.time + 100 * day
        try h.rejects("missing_cosignature", "project.register", h.projectPayload("p1", devices: ["DEV-1"], start: start, end: end), by: "prop1")
        try h.rejects("missing_cosignature", "project.register", h.projectPayload("p1", devices: ["DEV-1"], start: start, end: end), by: "prop1", cosigners: ["buyer1"])
        try h.ok("project.register", h.projectPayload("p1", devices: ["DEV-1"], location: "Site A", start: start, end: end, external: ["VCS-1"]), by: "prop1", cosigners: ["registry"])
        try h.rejects("project_exists", "project.register", h.projectPayload("p1", devices: ["DEV-9"], location: "Site Z", start: start, end: end), by: "prop2", cosigners: ["registry"])
        try h.rejects("project_overlap", "project.register", h.projectPayload("p2", devices: ["DEV-1"], location: "Site B", start: end - 1, end: end + 100), by: "prop2", cosigners: ["registry"])
        try h.rejects("project_overlap", "project.register", h.projectPayload("p2", devices: ["DEV-2"], location: "Site A", start: start - 10, end: start + 1), by: "prop2", cosigners: ["registry"])
        try h.rejects("external_id_taken", "project.register", h.projectPayload("p2", devices: ["DEV-2"], location: "Site B", start: start, end: end, external: ["VCS-1"]), by: "prop2", cosigners: ["registry"])
        try h.rejects("unknown_methodology", "project.register", ProjectRegisterPayload(projectID: "p2", programID: "CCER", methodologyID: "AM9", methodologyVersion: "1", country: "CN", location: "Site B", deviceIDs: [], sector: "energy", creditingStart: start, creditingEnd: end, externalIDs: []), by: "prop2", cosigners: ["registry"])
        try h.rejects("invalid_country", "project.register", ProjectRegisterPayload(projectID: "p2", programID: "CCER", methodologyID: "AM0001", methodologyVersion: "1", country: "cn", location: "Site B", deviceIDs: [], sector: "energy", creditingStart: start, creditingEnd: end, externalIDs: []), by: "prop2", cosigners: ["registry"])
        // Same device and same location+sector, but the crediting periods only touch: allowed.
        try h.ok("project.register", h.projectPayload("p3", devices: ["DEV-1"], location: "Site A", start: end, end: end + 100 * day), by: "prop2", cosigners: ["registry"])
        // Same location, other sector: allowed.
        try h.ok("project.register", h.projectPayload("p4", devices: [], location: "Site A", sector: "forestry", start: start, end: end), by: "prop2", cosigners: ["registry"])
        try h.ok("methodology.register", MethodologyRegisterPayload(methodologyID: "AM0001", version: "1", title: "Grid-connected renewable power", active: false), by: "registry")
        try h.rejects("methodology_inactive", "project.register", h.projectPayload("p5", devices: ["DEV-5"], location: "Site E", start: start, end: end), by: "prop2", cosigners: ["registry"])
        try h.rejects("program_exists", "program.register", ProgramRegisterPayload(programID: "CCER", unit: .mwh), by: "registry")
    }
}
