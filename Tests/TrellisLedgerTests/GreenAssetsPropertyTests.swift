// GreenAssetsPropertyTests.swift — random sequences (seeded SplitMix64) of valid and invalid green-asset
// operations by random members. After every step: a rejected transaction left the state unchanged, B1–B5 hold,
// supply reconciliation balances, and the indexes match the records.
import Testing
@testable import TrellisLedger

@Suite struct GreenAssetsPropertyTests {
    static let actors = ["registry", "prop1", "prop2", "ver1", "ver-expired", "ver-own", "buyer1", "buyer2", "reg1"]
    static let owners = ["prop1", "prop2", "buyer1", "buyer2", "registry", "gone", "reg1"]

    @Test(arguments: [11, 12, 13, 14, 15, 16] as [UInt64])
    func invariantsHoldOverRandomOperations(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let h = try ContractHarness.greenWorld()
        let accepted = try h.runRandomSteps(seed: seed, steps: 250, step: { try randomStep(h, &rng) }, violations: { try h.greenViolations() })
        guard let accepted else { return }
        #expect(accepted > 40, "seed \(seed): too few accepted operations (\(accepted)) for the test to mean much")
        let supply = try GreenAssetsQueries.supplyReconciliation(in: h.state)
        let program = try #require(supply.programs.first)
        #expect(program.issued == program.active + program.locked + program.buffer + program.retired + program.cancelled)
    }

    private func randomStep(_ h: ContractHarness, _ rng: inout SplitMix64) throws -> (String, Outcome) {
        let day = ContractHarness.day
        let projects = try h.all(Project.self, StateKey.prefix("project"))
        let verifications = try h.all(Verification.self, StateKey.prefix("verification"))
        let blocks = try h.all(CreditBlock.self, StateKey.prefix("cblock"))
        let actor = rng.pick(Self.actors) ?? "prop1"
        switch rng.below(12) {
        case 0:
            let start = h.time - Int64(rng.below(400)) * day
            let payload = h.projectPayload("proj-\(rng.below(40))", devices: ["DEV-\(rng.below(12))"], location: "site-\(rng.below(12))", sector: rng.chance(80) ? "energy" : "forestry", start: start, end: start + Int64(1 + rng.below(900)) * day, external: rng.chance(50) ? ["EXT-\(rng.below(20))"] : [])
            return ("register", try h.submit("project.register", payload, by: rng.chance(50) ? "prop1" : "prop2", cosigners: rng.chance(90) ? ["registry"] : []))
        case 1, 2:
            guard let project = rng.pick(projects) else { return ("noop", .rejected("none")) }
            let start = (project.lastVerifiedEnd ?? project.creditingStart) - (rng.chance(10) ? day : 0)
            let end = min(h.time, start + Int64(1 + rng.below(120)) * day)
            let payload = VerificationSubmitPayload(projectID: project.projectID, periodStart: start, periodEnd: rng.chance(5) ? h.time + day : end, quantity: 1 + rng.below(5_000), reportHash: ContractHarness.hash("report-\(rng.next())"))
            return ("verify", try h.submit("verification.submit", payload, by: rng.chance(80) ? "ver1" : actor))
        case 3, 4:
            guard let verification = rng.pick(verifications) else { return ("noop", .rejected("none")) }
            let quantity = rng.chance(85) ? 1 + rng.below(verification.quantity) : verification.quantity + 1
            let buffer = rng.chance(40) ? rng.below(quantity + (rng.chance(10) ? 2 : 1)) : 0
            return ("issue", try h.submit("credits.issue", CreditsIssuePayload(verificationID: verification.verID, quantity: quantity, bufferQuantity: buffer), by: rng.chance(85) ? "registry" : actor))
        case 5, 6:
            guard let block = rng.pick(blocks.filter { $0.status == .active || rng.chance(15) }) else { return ("noop", .rejected("none")) }
            var outputs: [CreditsOutput] = []
            var left = block.quantity
            let parts = 1 + rng.below(3)
            for i in 0..<parts {
                let quantity = i == parts - 1 ? left : (left > 1 ? 1 + rng.below(left - 1) : left)
                left -= min(quantity, left)
                outputs.append(CreditsOutput(to: rng.chance(30) ? block.owner : (rng.pick(Self.owners) ?? "buyer1"), quantity: quantity))
            }
            if rng.chance(15), let last = outputs.indices.last { outputs[last].quantity = rng.chance(50) ? outputs[last].quantity + 1 : outputs[last].quantity &- 1 }
            outputs = outputs.filter { $0.quantity > 0 || rng.chance(50) }
            return ("transfer", try h.submit("credits.transfer", CreditsTransferPayload(blockID: block.blockID, outputs: outputs), by: rng.chance(85) ? block.owner : actor))
        case 7, 8:
            guard let block = rng.pick(blocks.filter { $0.status == .active || rng.chance(15) }) else { return ("noop", .rejected("none")) }
            var range = RetireRange(blockID: block.blockID)
            if rng.chance(60) {
                let start = block.serialStart + rng.below(block.quantity)
                let end = start + rng.below(block.serialEnd - start + 1) + (rng.chance(10) ? 1 : 0)
                range = RetireRange(blockID: block.blockID, serialStart: start, serialEnd: end)
            }
            let payload = CreditsRetirePayload(ranges: [range], beneficiary: rng.chance(95) ? "Beneficiary \(rng.below(3))" : "", purpose: "claim", claimPeriodStart: 0, claimPeriodEnd: 1)
            return ("retire", try h.submit("credits.retire", payload, by: rng.chance(85) ? block.owner : actor))
        case 9:
            guard var block = rng.pick(blocks) else { return ("noop", .rejected("none")) }
            if rng.chance(25) {
                // Governance approves a cancellation (its own transaction, outside these contracts).
                h.put(GreenAssetsKeys.cancelApproval(block: block.blockID), [1])
                return ("governance approval", .accepted([]))
            }
            let kind = rng.pick(["credits.lock", "credits.unlock", "credits.cancel"]) ?? "credits.lock"
            let approved = try blocks.filter { try h.state.get(GreenAssetsKeys.cancelApproval(block: $0.blockID)) != nil }
            if kind == "credits.cancel", rng.chance(70), let target = rng.pick(approved) { block = target }
            return (kind, try h.submit(kind, CreditsBlockActionPayload(blockID: block.blockID, reason: "ops"), by: rng.chance(85) ? "registry" : actor))
        case 10:
            guard let block = rng.pick(blocks) else { return ("noop", .rejected("none")) }
            let kind = rng.chance(50) ? "asset.freeze" : "asset.unfreeze"
            return (kind, try h.submit(kind, AssetFreezePayload(assetType: .creditBlock, assetID: block.blockID, reason: "check"), by: rng.chance(85) ? "reg1" : actor))
        default:
            h.advance(seconds: Int64(rng.below(40)) * day)
            return ("advance", .accepted([]))
        }
    }
}
