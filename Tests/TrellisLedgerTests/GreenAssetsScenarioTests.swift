// GreenAssetsScenarioTests.swift — full green-asset paths: register → verify → issue (with buffer) → transfer
// (split) → retire a sub-range for a beneficiary; lock/unlock, governance-approved cancel, freeze; and what
// provenance, retirement statements, holdings and supply reconciliation answer.
import Testing
import TrellisCrypto
@testable import TrellisLedger

@Suite struct GreenAssetsScenarioTests {
    let day = ContractHarness.day

    @Test func registerVerifyIssueTransferRetire() throws {
        let h = try ContractHarness.greenWorld()
        let issued = try h.projectWithIssuance("wind-7", device: "TURBINE-7", quantity: 1_000, buffer: 100)
        let batch = try #require(try h.state.read(Batch.self, GreenAssetsKeys.batch(issued.batch)))
        #expect(batch.serialStart == 1)
        #expect(batch.serialEnd == 1_000)
        #expect(batch.vintage == 2024)
        let owned = try h.block(try #require(issued.block))
        #expect(owned.owner == "prop1")
        #expect(owned.serialStart == 1 && owned.serialEnd == 900)
        let buffer = try h.block(try #require(issued.buffer))
        #expect(buffer.status == .buffer && buffer.serialStart == 901 && buffer.serialEnd == 1_000)
        #expect(try h.state.read(Program.self, GreenAssetsKeys.program("CCER"))?.serialCounter == 1_000)

        // Split 900 → buyer1 300 (1…300), remainder 600 (301…900) to self.
        h.advance(seconds: day)
        let children = try h.ok("credits.transfer", CreditsTransferPayload(blockID: owned.blockID, outputs: [CreditsOutput(to: "buyer1", quantity: 300), CreditsOutput(to: "prop1", quantity: 600)]), by: "prop1")
        let toBuyer = try h.block(children[0])
        #expect(toBuyer.serialStart == 1 && toBuyer.serialEnd == 300 && toBuyer.owner == "buyer1")
        #expect(try h.block(children[1]).serialStart == 301)

        // buyer1 retires 101…200 for a beneficiary: 1…100 and 201…300 stay active with buyer1.
        h.advance(seconds: day)
        let retireIDs = try h.ok("credits.retire", CreditsRetirePayload(ranges: [RetireRange(blockID: children[0], serialStart: 101, serialEnd: 200)], beneficiary: "Acme Foods Co.", purpose: "2024 scope 2 claim", claimPeriodStart: 1_704_067_200, claimPeriodEnd: 1_735_689_599), by: "buyer1")
        let retID = try #require(retireIDs.first)
        #expect(retireIDs.count == 4)
        #expect(try h.block(children[0]).status == .consumed)
        let pieces = try retireIDs.dropFirst().map { try h.block($0) }
        #expect(pieces.map(\.status) == [.active, .retired, .active])
        #expect(pieces.map(\.serialStart) == [1, 101, 201])
        #expect(pieces.map(\.serialEnd) == [100, 200, 300])

        let statement = try GreenAssetsQueries.retirementStatement(beneficiary: "Acme Foods Co.", from: 0, to: h.time, in: h.state)
        #expect(statement.retirements.map(\.retID) == [retID])
        #expect(statement.totalQuantity == 100)
        let range = try #require(statement.retirements.first?.ranges.first)
        #expect(range.serialText == "CCER-tCO2e-CN-wind-7-2024-101-200")
        #expect(range.projectID == "wind-7")
        #expect(try GreenAssetsQueries.retirementStatement(beneficiary: "Acme Foods Co.", from: 0, to: h.time - 2 * day, in: h.state).retirements.isEmpty)
        #expect(try GreenAssetsQueries.retirementStatement(retirementID: retID, in: h.state)?.totalQuantity == 100)

        let provenance = try #require(try GreenAssetsQueries.provenance(programID: "CCER", serial: 150, in: h.state))
        #expect(provenance.block.blockID == pieces[1].blockID)
        #expect(provenance.history.map(\.blockID) == [owned.blockID, children[0]])
        #expect(provenance.verification.verifier == "ver1")
        #expect(provenance.verification.reportHash == ContractHarness.hash("report-wind-7"))
        #expect(provenance.verifierAccreditations.map(\.scheme) == ["CNAS"])
        #expect(provenance.project.proponent == "prop1")
        #expect(provenance.methodology?.methodologyID == "AM0001")
        #expect(provenance.transfers.map(\.event.kind) == ["credits.issue", "credits.transfer", "credits.transfer", "credits.retire", "credits.retire"])
        #expect(try GreenAssetsQueries.provenance(programID: "CCER", serial: 1_001, in: h.state) == nil)
        #expect(try GreenAssetsQueries.provenance(programID: "CCER", serial: 0, in: h.state) == nil)

        let supply = try GreenAssetsQueries.supplyReconciliation(in: h.state)
        #expect(supply.balanced)
        #expect(supply.programs.first == SupplyLine(id: "CCER", issued: 1_000, active: 800, locked: 0, buffer: 100, retired: 100, cancelled: 0, frozen: 0, balanced: true))

        let holdings = try ReceivablesQueries.holdings(member: "buyer1", in: h.state)
        #expect(holdings.creditBlocks.map(\.serialStart) == [1, 201, 101])
        #expect(holdings.creditTotals == [StatusTotal(status: "active", count: 2, amount: 200), StatusTotal(status: "retired", count: 1, amount: 100)])
        #expect(try h.greenViolations() == [])
    }

    @Test func lockUnlockCancelWithGovernanceApprovalAndFreeze() throws {
        let h = try ContractHarness.greenWorld()
        let issued = try h.projectWithIssuance("solar-1", device: "PV-1", quantity: 500, buffer: 50)
        let block = try #require(issued.block)
        let buffer = try #require(issued.buffer)

        try h.ok("credits.lock", CreditsBlockActionPayload(blockID: block, reason: "export to ITMO registry"), by: "registry")
        try h.rejects("block_not_active", "credits.transfer", CreditsTransferPayload(blockID: block, outputs: [CreditsOutput(to: "buyer1", quantity: 450)]), by: "prop1")
        try h.rejects("block_not_active", "credits.lock", CreditsBlockActionPayload(blockID: block, reason: "again"), by: "registry")
        try h.ok("credits.unlock", CreditsBlockActionPayload(blockID: block, reason: "export cancelled"), by: "registry")
        try h.rejects("block_not_locked", "credits.unlock", CreditsBlockActionPayload(blockID: block, reason: "again"), by: "registry")

        // Cancel needs governance's approval marker, and consumes it.
        try h.rejects("governance_approval_required", "credits.cancel", CreditsBlockActionPayload(blockID: buffer, reason: "reversal"), by: "registry")
        h.put(GreenAssetsKeys.cancelApproval(block: buffer), [1])
        #expect(StateKey.describe(GreenAssetsKeys.cancelApproval(block: buffer)) == "governance/credit_cancel/\(buffer)")
        try h.ok("credits.cancel", CreditsBlockActionPayload(blockID: buffer, reason: "reversal"), by: "registry")
        #expect(try h.block(buffer).status == .cancelled)
        #expect(try h.state.get(GreenAssetsKeys.cancelApproval(block: buffer)) == nil)

        // Freeze stops the owner; reconciliation still balances (frozen counted apart).
        try h.ok("asset.freeze", AssetFreezePayload(assetType: .creditBlock, assetID: block, reason: "investigation"), by: "reg1")
        try h.rejects("asset_frozen", "credits.retire", CreditsRetirePayload(ranges: [RetireRange(blockID: block)], beneficiary: "B", purpose: "P", claimPeriodStart: 0, claimPeriodEnd: 1), by: "prop1")
        try h.rejects("asset_frozen", "credits.lock", CreditsBlockActionPayload(blockID: block, reason: "x"), by: "registry")
        let supply = try GreenAssetsQueries.supplyReconciliation(in: h.state)
        #expect(supply.balanced)
        #expect(supply.batches.first?.frozen == 450)
        #expect(supply.batches.first?.cancelled == 50)
        try h.ok("asset.unfreeze", AssetFreezePayload(assetType: .creditBlock, assetID: block, reason: "cleared"), by: "reg1")
        try h.ok("credits.retire", CreditsRetirePayload(ranges: [RetireRange(blockID: block)], beneficiary: "B", purpose: "P", claimPeriodStart: 0, claimPeriodEnd: 1), by: "prop1")
        #expect(try h.block(block).status == .retired)
        #expect(try h.greenViolations() == [])
    }

    @Test func consecutiveVerificationsAndSerialsAcrossBatches() throws {
        let h = try ContractHarness.greenWorld()
        let first = try h.projectWithIssuance("hydro-2", device: "HYDRO-2", quantity: 10)
        h.advance(seconds: 30 * day)
        let verID = try #require(try h.ok("verification.submit", VerificationSubmitPayload(projectID: "hydro-2", periodStart: h.time - 30 * day, periodEnd: h.time, quantity: 5, reportHash: ContractHarness.hash("r2")), by: "ver1").first)
        let second = try h.ok("credits.issue", CreditsIssuePayload(verificationID: verID, quantity: 4), by: "registry")
        let batch2 = try #require(try h.state.read(Batch.self, GreenAssetsKeys.batch(second[0])))
        #expect(batch2.serialStart == 11 && batch2.serialEnd == 14)
        #expect(try GreenAssetsQueries.provenance(programID: "CCER", serial: 10, in: h.state)?.batch.batchID == first.batch)
        #expect(try GreenAssetsQueries.provenance(programID: "CCER", serial: 11, in: h.state)?.batch.batchID == second[0])
        #expect(try h.greenViolations() == [])
    }
}
