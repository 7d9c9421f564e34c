// AuditReportTests.swift — lineage, provenance and retirement reports from a store and from a verified export
// agree, and name the height they are true at.
import Foundation
import Testing
import TrellisCrypto
import TrellisLedger
@testable import TrellisAudit

@Suite struct AuditReportTests {
    @Test func reportsFromStoreAndExportAgree() throws {
        let chain = try AuditTestChain.build()
        let dir = try temporaryDirectory("reports")
        let path = dir + "/chain.jsonl"
        try ChainExporter.export(from: StoreChainSource(genesis: chain.genesis, store: chain.store), to: path)
        let fromStore = try ReportState(home: StoreChainSource(genesis: chain.genesis, store: chain.store))
        let fromExport = try ReportState(export: path)
        #expect(fromStore.height == 7 && fromExport.height == 7)
        #expect(fromStore.stateRoot == fromExport.stateRoot)

        let lineage = try Reports.lineage(chain.certChildren[0], in: fromExport)
        #expect(lineage.height == 7)
        #expect(lineage.result.ancestors.map(\.certID) == [chain.certRoot])
        #expect(lineage.result.certificate.pendingTo == "sup2")  // offered, not yet accepted: the sender still holds it
        #expect(try Reports.lineage(chain.certChildren[0], in: fromStore).result == lineage.result)
        #expect(throws: AuditError.notFound("certificate cert-none does not exist at height 7")) { try Reports.lineage("cert-none", in: fromExport) }

        let provenance = try Reports.provenance("CCER-tCO2e-CN-wind-7-2025-101-200", program: nil, in: fromExport)
        #expect(provenance.result.serial == 101 && provenance.result.project.projectID == "wind-7")
        #expect(provenance.result.verification.verifier == "ver1")
        #expect(try Reports.provenance("150", program: "CCER", in: fromStore).result.block.blockID == provenance.result.block.blockID)

        let retirements = try Reports.retirements(beneficiary: "Acme Foods Co.", from: 0, to: .max, in: fromExport)
        #expect(retirements.result.totalQuantity == 100)
        #expect(retirements.result.retirements.map(\.retID) == [chain.retirementID])
        #expect(retirements.height == 7)
        let json = try ExportJSON.line(retirements)
        #expect(json.contains("\"height\":7") && json.contains("\"state_root\":\"\(chain.engine.stateRoot.hex)\""))
    }
}
