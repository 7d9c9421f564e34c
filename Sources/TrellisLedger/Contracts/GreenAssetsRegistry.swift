// GreenAssetsRegistry.swift — registering programs, methodologies and projects, and submitting verifications.
//
// Crediting and monitoring periods are half-open [start, end): two periods overlap when each starts before the
// other ends, so a period may start exactly where the previous one ended. Double counting is blocked at
// registration (one device, or one location and sector, is in at most one project at a time) and at verification
// (a project's periods follow one another without overlap, B4).
import TrellisCodec

extension GreenAssetsContract {
    func registerProgram(_ p: ProgramRegisterPayload, _ context: ExecutionContext, _ store: GreenAssetsStore) throws -> [String] {
        guard try store.state.get(GreenAssetsKeys.program(p.programID)) == nil else {
            throw TxRejection("program_exists", "program \(p.programID) is already registered")
        }
        store.state.write(Program(programID: p.programID, unit: p.unit, serialCounter: 0, registeredBy: context.signer.memberID), at: GreenAssetsKeys.program(p.programID))
        return [p.programID]
    }

    func registerMethodology(_ p: MethodologyRegisterPayload, _ context: ExecutionContext, _ store: GreenAssetsStore) throws -> [String] {
        store.state.write(Methodology(methodologyID: p.methodologyID, version: p.version, title: p.title, active: p.active), at: GreenAssetsKeys.methodology(p.methodologyID, version: p.version))
        return [p.methodologyID + ":" + p.version]
    }

    static func overlaps(_ aStart: Int64, _ aEnd: Int64, _ bStart: Int64, _ bEnd: Int64) -> Bool {
        aStart < bEnd && bStart < aEnd
    }

    func registerProject(_ p: ProjectRegisterPayload, _ context: ExecutionContext, _ store: GreenAssetsStore) throws -> [String] {
        guard let operatorMember = context.cosigners.first(where: { $0.has(.registryOperator) }) else {
            throw TxRejection("missing_cosignature", "project.register must be co-signed by a registry operator")
        }
        guard try store.state.get(GreenAssetsKeys.project(p.projectID)) == nil else {
            throw TxRejection("project_exists", "project \(p.projectID) is already registered")
        }
        _ = try store.program(p.programID)
        guard let methodology = try store.state.read(Methodology.self, GreenAssetsKeys.methodology(p.methodologyID, version: p.methodologyVersion)) else {
            throw TxRejection("unknown_methodology", "no methodology \(p.methodologyID) version \(p.methodologyVersion)")
        }
        guard methodology.active else {
            throw TxRejection("methodology_inactive", "methodology \(p.methodologyID) version \(p.methodologyVersion) no longer accepts projects")
        }
        for external in p.externalIDs {
            if let owner = try store.state.get(GreenAssetsKeys.externalID(program: p.programID, external: external)) {
                throw TxRejection("external_id_taken", "external id \(external) in program \(p.programID) belongs to project \(String(decoding: owner, as: UTF8.self))")
            }
        }
        var candidates: [[UInt8]] = p.deviceIDs.map(GreenAssetsKeys.devicePrefix)
        candidates.append(GreenAssetsKeys.locationPrefix(location: p.location, sector: p.sector))
        for prefix in candidates {
            for entry in try store.state.scan(prefix: prefix) {
                let otherID = String(decoding: entry.key.dropFirst(prefix.count), as: UTF8.self)
                let other = try store.project(otherID)
                if Self.overlaps(p.creditingStart, p.creditingEnd, other.creditingStart, other.creditingEnd) {
                    throw TxRejection("project_overlap", "project \(otherID) covers the same device or location and sector during an overlapping crediting period")
                }
            }
        }
        let project = Project(projectID: p.projectID, proponent: context.signer.memberID, programID: p.programID, methodologyID: p.methodologyID, methodologyVersion: p.methodologyVersion, country: p.country, location: p.location, deviceIDs: p.deviceIDs, sector: p.sector, creditingStart: p.creditingStart, creditingEnd: p.creditingEnd, externalIDs: p.externalIDs, registeredBy: operatorMember.memberID, registeredAt: context.blockTime)
        store.state.write(project, at: GreenAssetsKeys.project(p.projectID))
        for external in p.externalIDs { store.state.put(GreenAssetsKeys.externalID(program: p.programID, external: external), Array(p.projectID.utf8)) }
        for device in p.deviceIDs { store.state.put(GreenAssetsKeys.device(device, project: p.projectID), []) }
        store.state.put(GreenAssetsKeys.location(location: p.location, sector: p.sector, project: p.projectID), [])
        return [p.projectID]
    }

    func submitVerification(_ p: VerificationSubmitPayload, _ context: ExecutionContext, _ store: GreenAssetsStore) throws -> [String] {
        var project = try store.project(p.projectID)
        let verifier = context.signer
        guard let accreditation = verifier.accreditations.first(where: { $0.covers(sector: project.sector, at: context.blockTime) }) else {
            throw TxRejection("verifier_not_accredited", "verifier \(verifier.memberID) has no active accreditation covering sector \(project.sector) at \(context.blockTime)")
        }
        let proponent = try AssetMembers.find(project.proponent, in: store.state)
        let sameOrganisation = verifier.memberID == project.proponent
            || (proponent.map { !$0.registrationNo.isEmpty && $0.registrationNo == verifier.registrationNo } ?? false)
        guard !sameOrganisation else {
            throw TxRejection("verifier_conflict_of_interest", "verifier \(verifier.memberID) is the proponent's own organisation")
        }
        guard p.periodEnd <= context.blockTime else {
            throw TxRejection("period_in_future", "period_end \(p.periodEnd) is after the block time \(context.blockTime)")
        }
        guard p.periodStart >= project.creditingStart, p.periodEnd <= project.creditingEnd else {
            throw TxRejection("outside_crediting_period", "period [\(p.periodStart), \(p.periodEnd)) is outside the crediting period [\(project.creditingStart), \(project.creditingEnd))")
        }
        if let last = project.lastVerifiedEnd, p.periodStart < last {
            throw TxRejection("period_overlap", "period_start \(p.periodStart) is before the end \(last) of the project's last verified period")
        }
        try EvidenceRequirement.check(p.reportHash, field: "report_hash", attester: verifier.memberID, kinds: [.verificationReport], context: context, state: store.state)
        let verID = context.derivedID("ver", index: 0)
        guard try store.state.get(GreenAssetsKeys.verification(verID)) == nil else {
            throw TxRejection("duplicate_id", "verification id \(verID) already exists")
        }
        let verification = Verification(verID: verID, projectID: p.projectID, verifier: verifier.memberID, accreditationScheme: accreditation.scheme, periodStart: p.periodStart, periodEnd: p.periodEnd, quantity: p.quantity, reportHash: p.reportHash, verifiedAt: context.blockTime, height: context.height)
        store.state.write(verification, at: GreenAssetsKeys.verification(verID))
        project.lastVerifiedEnd = p.periodEnd
        store.state.write(project, at: GreenAssetsKeys.project(project.projectID))
        return [verID]
    }
}
