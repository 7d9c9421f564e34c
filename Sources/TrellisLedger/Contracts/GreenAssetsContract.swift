// GreenAssetsContract.swift — green-asset claims (DOMAIN.md §B): programs, methodologies, projects,
// verifications, issuance of serial-numbered credits, transfer, retirement, cancellation, lock/unlock.
//
// Guarantees, for every accepted transaction (B1–B5): a batch's live blocks partition its serial range exactly;
// serials come only from the program counter, so (program, serial) is unique and batch ranges never overlap;
// retired, cancelled and consumed blocks are never an input; a project's verified periods never overlap and a
// verification backs at most one issuance of at most its quantity; the verifier was accredited for the sector at
// the verification's block time. Freezing credit blocks is `asset.freeze` in the receivables contract.
import TrellisCodec

/// The green-assets contract: see the kinds below and docs/TRANSACTIONS.md.
public struct GreenAssetsContract: Contract {
    public init() {}

    public var name: String { "green_assets" }

    /// Roles that may own and move credits: everyone but governors and regulators (who may not move assets).
    static let ownerRoles: [Role] = [.coreEnterprise, .supplier, .financier, .clearingAgent, .proponent, .verifier, .registryOperator, .participant]

    public var kinds: [KindSpec] {
        [
            KindSpec("program.register", payload: ProgramRegisterPayload.self, signerRoles: [.registryOperator], summary: "Open a crediting program with its unit; its serial counter starts at 0."),
            KindSpec("methodology.register", payload: MethodologyRegisterPayload.self, signerRoles: [.registryOperator], summary: "Add a methodology version, or set whether it accepts new projects."),
            KindSpec("project.register", payload: ProjectRegisterPayload.self, signerRoles: [.proponent], cosigners: "a registry operator", summary: "Register a project; no overlap by device or location+sector in the crediting period."),
            KindSpec("verification.submit", payload: VerificationSubmitPayload.self, signerRoles: [.verifier], summary: "An accredited, independent verifier attests a monitored quantity for a period."),
            KindSpec("credits.issue", payload: CreditsIssuePayload.self, signerRoles: [.registryOperator], summary: "Issue a verification's units as a new batch of serials to the proponent (optional buffer)."),
            KindSpec("credits.transfer", payload: CreditsTransferPayload.self, signerRoles: Self.ownerRoles, summary: "Consume an active block; children partition its serial range in output order."),
            KindSpec("credits.retire", payload: CreditsRetirePayload.self, signerRoles: Self.ownerRoles, summary: "Retire owned blocks or sub-ranges for a beneficiary and purpose; terminal."),
            KindSpec("credits.cancel", payload: CreditsBlockActionPayload.self, signerRoles: [.registryOperator], summary: "Cancel an active or buffer block; needs governance's approval marker governance/credit_cancel/<block_id>; terminal."),
            KindSpec("credits.lock", payload: CreditsBlockActionPayload.self, signerRoles: [.registryOperator], summary: "Lock an active block (export, bridging, corresponding adjustment)."),
            KindSpec("credits.unlock", payload: CreditsBlockActionPayload.self, signerRoles: [.registryOperator], summary: "Return a locked block to active."),
        ]
    }

    public func apply(kind: String, payload: any TransactionPayload, context: ExecutionContext, state: StateOverlay) throws -> [String] {
        let store = GreenAssetsStore(state: state)
        switch kind {
        case "program.register": return try registerProgram(AssetState.payload(payload, ProgramRegisterPayload.self, kind: kind), context, store)
        case "methodology.register": return try registerMethodology(AssetState.payload(payload, MethodologyRegisterPayload.self, kind: kind), context, store)
        case "project.register": return try registerProject(AssetState.payload(payload, ProjectRegisterPayload.self, kind: kind), context, store)
        case "verification.submit": return try submitVerification(AssetState.payload(payload, VerificationSubmitPayload.self, kind: kind), context, store)
        case "credits.issue": return try issue(AssetState.payload(payload, CreditsIssuePayload.self, kind: kind), context, store)
        case "credits.transfer": return try transfer(AssetState.payload(payload, CreditsTransferPayload.self, kind: kind), context, store)
        case "credits.retire": return try retire(AssetState.payload(payload, CreditsRetirePayload.self, kind: kind), context, store)
        case "credits.cancel": return try cancel(AssetState.payload(payload, CreditsBlockActionPayload.self, kind: kind), context, store)
        case "credits.lock": return try setLocked(true, AssetState.payload(payload, CreditsBlockActionPayload.self, kind: kind), context, store)
        case "credits.unlock": return try setLocked(false, AssetState.payload(payload, CreditsBlockActionPayload.self, kind: kind), context, store)
        default: throw TxRejection("unknown_kind", "the green-assets contract does not own kind \(kind)")
        }
    }
}
