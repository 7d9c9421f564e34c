// ExecutionFuzzGenerator.swift — builds the fuzzer's transactions: every kind of every contract, aimed mostly at
// objects that exist (so execution gets past the lookups into the arithmetic), signed mostly by the member who may
// act on them, with every numeric and time field drawn from its type's boundaries (0, 1, max−1, max, min, min+1),
// from values related to the target (its face, serials, maturity ± 1, values that sum past max) or at random.
// Deterministic for a seed: all choices come from one SplitMix64 and every list is sorted before picking.
import TrellisCodec
import TrellisCrypto
@testable import TrellisLedger

/// Boundary-biased value choices.
struct FuzzValues {
    var rng: SplitMix64

    mutating func pick<T>(_ items: [T]) -> T { items[rng.below(items.count)] }

    mutating func u64(_ related: [UInt64] = []) -> UInt64 {
        let choice = rng.below(10)
        if (3...6).contains(choice) && !related.isEmpty {
            let r = pick(related)
            return pick([r, r &- 1, r &+ 1, .max - r, (.max - r) &+ 1, r / 2, r &* 2])
        }
        switch choice {
        case 0, 1, 2: return pick([0, 1, 2, .max - 1, .max, .max / 2, .max / 2 + 1, UInt64(Int64.max), UInt64(Int64.max) + 1])
        case 7: return rng.next()
        default: return 1 + rng.below(UInt64(1_000_000))
        }
    }

    mutating func i64(_ related: [Int64] = []) -> Int64 {
        let choice = rng.below(10)
        if (3...7).contains(choice) && !related.isEmpty {
            let r = pick(related)
            let delta = pick([0, 1, -1, FuzzWorld.day, -FuzzWorld.day, 365 * FuzzWorld.day, -365 * FuzzWorld.day, .max, .min])
            return r &+ delta
        }
        switch choice {
        case 0, 1, 2: return pick([.min, .min + 1, -1, 0, 1, .max - 1, .max])
        case 8: return Int64(bitPattern: rng.next())
        default: return FuzzWorld.genesisTime + Int64(rng.below(UInt64(3_650 * FuzzWorld.day)))
        }
    }

    /// A rate in basis points: mostly valid (0 … 10 000), else at the edges of UInt32.
    mutating func u32() -> UInt32 {
        chance(60) ? UInt32(rng.below(UInt64(10_001))) : pick([0, 1, 10_000, 10_001, .max - 1, .max, UInt32(truncatingIfNeeded: rng.next())])
    }

    mutating func chance(_ percent: UInt64) -> Bool { rng.chance(percent) }
}

/// One generated transaction before its envelope: who signs, what kind, the payload bytes, co-signers.
struct FuzzIntent {
    var signer: String
    var kind: String
    var payload: [UInt8]
    var cosigners: [String] = []

    init<P: TransactionPayload>(_ signer: String, _ kind: String, _ payload: P, cosigners: [String] = []) {
        self.signer = signer
        self.kind = kind
        self.payload = payload.canonicalBytes
        self.cosigners = cosigners
    }

    init(raw signer: String, _ kind: String, bytes: [UInt8]) {
        self.signer = signer
        self.kind = kind
        self.payload = bytes
    }
}

struct FuzzGenerator {
    var values: FuzzValues
    let snapshot: DomainSnapshot
    /// The block time the transaction will execute at.
    let time: Int64
    var counter: UInt64
    /// The height the transaction will execute at (for upgrade activation heights).
    var height: UInt64 = 0
    /// The rules version in force at `height`. From version 2 on, splits may be wide (up to `AssetLimits.maxOutputs`
    /// pieces), so roots grow past a settlement page; under version 1 they stay narrow, since a root of more live
    /// pieces than a receipt may list cannot be settled there (the defect version 2 fixes).
    var rulesVersion: UInt32 = AppVersion.initial
    /// Unpaid live pieces per open or overdue root (filled under version 2): settlement aims at the largest roots.
    var unpaidPiecesByRoot: [String: Int] = [:]

    static let kinds = [
        MembershipContract.rotateKeys, GovernanceContract.propose, GovernanceContract.approve,
        "credit_line.set", "certificate.issue", "certificate.accept", "certificate.reject", "certificate.reclaim",
        "certificate.split_transfer", "financing.request", "financing.approve", "financing.cancel", "financing.release",
        "financing.repay", "certificate.settle", "certificate.mark_overdue", "asset.freeze", "asset.unfreeze",
        "program.register", "methodology.register", "project.register", "verification.submit", "credits.issue",
        "credits.transfer", "credits.retire", "credits.cancel", "credits.lock", "credits.unlock",
        EvidenceContract.attest, EvidenceContract.revoke,
    ]

    mutating func member(_ roles: [Role] = []) -> String {
        let candidates = FuzzWorld.members.filter { id in roles.isEmpty || FuzzWorld.roster.first { $0.0 == id }!.1.contains(where: roles.contains) }
        return values.pick(candidates.isEmpty ? FuzzWorld.members : candidates)
    }

    /// The natural signer most of the time, anyone otherwise.
    mutating func signer(_ natural: String?) -> String {
        if let natural, !values.chance(12) { return natural }
        return values.pick(FuzzWorld.members)
    }

    /// An existing id (mostly) or a made-up one.
    mutating func id<T>(_ map: [String: T], where keep: (T) -> Bool = { _ in true }, prefix: String) -> String {
        let ids = snapshot.ids(map, where: keep)
        if !ids.isEmpty && !values.chance(5) { return values.pick(ids) }
        let all = snapshot.ids(map)
        if !all.isEmpty && values.chance(80) { return values.pick(all) }
        return "\(prefix)-\(values.rng.below(UInt64(1_000)))"
    }

    mutating func fresh(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)-\(counter)"
    }

    mutating func text() -> String { values.pick(["reason", "x", String(repeating: "y", count: Limits.maxNameBytes), ""]) }

    /// Kinds weighted toward the flows that need several steps to reach deep states (accept before split or
    /// financing, approve before release/repay/settle, issue before transfer/retire).
    static let weightedKinds = kinds + ["certificate.accept", "certificate.accept", "certificate.split_transfer", "financing.request",
                                        "financing.request", "financing.approve", "financing.approve", "credits.issue", "credits.transfer",
                                        "credits.retire", "verification.submit", "certificate.issue"]

    mutating func next() -> FuzzIntent {
        if values.chance(2) {
            // A payload of random bytes for a random kind: the strict decoders must refuse it with a code.
            let bytes = (0..<values.rng.below(40)).map { _ in UInt8(truncatingIfNeeded: values.rng.next()) }
            return FuzzIntent(raw: values.pick(FuzzWorld.members), values.pick(Self.kinds), bytes: bytes)
        }
        var intent = intent(for: values.pick(Self.weightedKinds))
        // A signer picked at random (no natural one, or on purpose) mostly gets one holding a role the kind allows,
        // so that most transactions reach the contract; the rest test role_not_allowed.
        if let roles = ContractRegistry.standard.spec(for: intent.kind)?.signerRoles, !roles.isEmpty,
           !(FuzzWorld.roster.first { $0.0 == intent.signer }?.1.contains(where: roles.contains) ?? false), values.chance(85) {
            intent.signer = member(roles)
        }
        return intent
    }

    mutating func intent(for kind: String) -> FuzzIntent {
        switch kind {
        case MembershipContract.rotateKeys: return rotateKeys()
        case GovernanceContract.propose: return propose()
        case GovernanceContract.approve: return approve()
        case "credit_line.set": return creditLine()
        case "certificate.issue": return issueCertificate()
        case "certificate.accept", "certificate.reject": return respondToOffer()
        case "certificate.reclaim": return reclaim()
        case "certificate.split_transfer": return split()
        case "financing.request": return requestFinancing()
        case "financing.approve", "financing.cancel", "financing.release", "financing.repay": return financingAction()
        case "certificate.settle", "certificate.mark_overdue": return rootAction()
        case "asset.freeze", "asset.unfreeze": return freeze()
        case "program.register", "methodology.register": return registry()
        case "project.register": return project()
        case "verification.submit": return verification()
        case "credits.issue": return issueCredits()
        case "credits.transfer": return transferCredits()
        case "credits.retire": return retire()
        case EvidenceContract.attest: return attest()
        case EvidenceContract.revoke: return revokeAttestation()
        default: return blockAction()
        }
    }

    // MARK: membership and governance

    mutating func rotateKeys() -> FuzzIntent {
        let signer = member()
        // Rare, and never removing the key the fuzzer signs with unless replaced: keep members able to act.
        let add = values.chance(50) ? [testKey("rotated-\(values.rng.below(UInt64(8)))").publicKey] : [testKey(values.pick(FuzzWorld.members)).publicKey]
        let remove = values.chance(10) ? [testKey("rotated-\(values.rng.below(UInt64(8)))").publicKey] : []
        return FuzzIntent(signer, MembershipContract.rotateKeys, RotateKeysPayload(addKeys: add, removeKeys: remove))
    }

    mutating func action() -> GovernanceAction {
        let target = values.chance(80) ? values.pick(FuzzWorld.members.filter { !FuzzWorld.governors.contains($0) }) : member()
        switch values.rng.below(11) {
        case 10:
            let lead: UInt64 = values.pick([0, 1, 99, 100, 101, 1_000])
            return .scheduleUpgrade(version: values.pick([0, 1, 2, 3, 4, .max]), activationHeight: values.chance(80) ? height &+ lead : values.u64([height]),
                                    description: values.pick(["v2", ""]))
        case 0: return .suspendMember(memberID: target)
        case 1: return .reinstateMember(memberID: target)
        case 2: return values.chance(30) ? .revokeMember(memberID: target) : .reinstateMember(memberID: target)
        case 3: return .setRoles(memberID: target, roles: values.chance(50) ? (FuzzWorld.roster.first { $0.0 == target }?.1 ?? []) : [values.pick(Role.allCases)])
        case 4:
            let from = values.i64([time]), to = values.i64([time, from])
            return .grantAccreditation(memberID: values.pick(["ver1", "ver2", "multi", target]), accreditation: Accreditation(scheme: values.pick(["CNAS", "ALL-TIME", "NEW"]), sectoralScopes: ["energy"], validFrom: min(from, to), validTo: max(from, to), active: values.chance(80)))
        case 5: return .revokeAccreditation(memberID: values.pick(["ver1", "ver2", "multi"]), scheme: values.pick(["CNAS", "ALL-TIME", "NEW"]))
        case 6:
            let name = values.pick(FuzzWorld.spareValidatorNames + FuzzWorld.validatorNames)
            return .addValidator(Validator(publicKey: testKey(name).publicKey, votingPower: values.pick([1, 10, UInt64(Int64.max) / 4, UInt64(Int64.max), .max]), p2pAddress: "127.0.0.1:28000"))
        case 7: return .removeValidator(publicKey: testKey(values.pick(FuzzWorld.validatorNames + FuzzWorld.spareValidatorNames)).publicKey)
        case 8:
            return .setParameters(Parameters(maxMaturitySeconds: values.pick([1, FuzzWorld.day, 365 * FuzzWorld.day, .max - 1, .max, 0, -1]),
                                             gracePeriodSeconds: values.pick([0, 1, 30 * FuzzWorld.day, .max, -1]),
                                             governanceQuorum: values.pick([1, 2, 3, 4, .max]),
                                             proposalTTLBlocks: values.pick([1, 100, .max - 1, .max, 0]),
                                             maxTxLifetimeBlocks: values.pick([1, 2, 100, .max - 1, .max, 0]),
                                             acceptWindowSeconds: values.pick([1, 7 * FuzzWorld.day, .max, 0]),
                                             minUpgradeLeadBlocks: values.pick([0, 1, Parameters.defaultMinUpgradeLeadBlocks, .max - 1, .max]),
                                             // On now and then: issues and verifications must then cite attested documents.
                                             requireDocumentAttestation: values.chance(40)))
        default:
            return .approveCreditCancellation(blockID: id(snapshot.blocks, where: { $0.status == .active || $0.status == .buffer }, prefix: "cblock"), reason: "fuzz")
        }
    }

    mutating func propose() -> FuzzIntent {
        FuzzIntent(signer(values.pick(FuzzWorld.governors)), GovernanceContract.propose, ProposePayload(action: action(), summary: "fuzz"))
    }

    mutating func approve() -> FuzzIntent {
        let proposalID = id(snapshot.proposals, where: { $0.status == .open }, prefix: "prop")
        let approved = Set(snapshot.proposals[proposalID]?.approvals.map(\.governor) ?? [])
        let natural = FuzzWorld.governors.first { !approved.contains($0) }
        return FuzzIntent(signer(natural), GovernanceContract.approve, ApprovePayload(proposalID: proposalID))
    }

    // MARK: receivables

    mutating func creditLine() -> FuzzIntent {
        let lineID = values.chance(60) ? id(snapshot.lines, prefix: "line") : fresh("line")
        let existing = snapshot.lines[lineID]
        let core = existing?.core ?? member([.coreEnterprise])
        let limit = values.u64([existing?.used ?? 0, existing?.limit ?? 0])
        return FuzzIntent(signer(existing?.financier ?? member([.financier])), "credit_line.set",
                          CreditLineSetPayload(lineID: lineID, core: core, limit: limit, expiry: values.i64([time, existing?.expiry ?? time])),
                          cosigners: values.chance(90) ? [core] : [])
    }

    mutating func issueCertificate() -> FuzzIntent {
        let lineID = id(snapshot.lines, prefix: "line")
        let line = snapshot.lines[lineID]
        let available = line.map { $0.limit > $0.used ? $0.limit - $0.used : 0 } ?? 0
        let invoice = values.chance(90) ? fresh("INV") : "INV-1"
        // Sometimes an attested document (what require_document_attestation asks for), mostly a fresh one.
        var tradeRef = TradeRef(contractNo: "PO", invoiceKeys: [invoice], docHash: values.chance(25) ? docHash() : FuzzWorld.hash(invoice))
        if values.chance(15) {
            let retirement = snapshot.ids(snapshot.retirements).first
            tradeRef.greenRef = retirement.map { GreenRef(kind: .retirement, id: $0) } ?? GreenRef(kind: .project, id: values.pick(["p1", "p-all", "nope"]))
        }
        let maturity = values.chance(60) ? time &+ 30 * FuzzWorld.day &+ Int64(values.rng.below(UInt64(300 * FuzzWorld.day))) : values.i64([time, time &+ 365 * FuzzWorld.day])
        return FuzzIntent(signer(line?.core), "certificate.issue",
                          CertificateIssuePayload(creditLineID: lineID, holder: values.chance(80) ? member([.supplier]) : member(), face: values.chance(50) ? 1 + values.rng.below(max(1, min(available, 1_000_000_000))) : values.u64([available, line?.limit ?? 0]),
                                                  maturity: maturity, tradeRef: tradeRef))
    }

    mutating func respondToOffer() -> FuzzIntent {
        let certID = id(snapshot.certs, where: { $0.status == .pendingAccept }, prefix: "cert")
        let to = snapshot.certs[certID]?.pendingTo
        if values.chance(50) { return FuzzIntent(signer(to), "certificate.accept", CertificateRefPayload(certID: certID)) }
        return FuzzIntent(signer(to), "certificate.reject", CertificateRejectPayload(certID: certID, reason: text()))
    }

    mutating func reclaim() -> FuzzIntent {
        let certID = id(snapshot.certs, where: { $0.status == .pendingAccept }, prefix: "cert")
        return FuzzIntent(signer(snapshot.certs[certID]?.holder), "certificate.reclaim", CertificateRefPayload(certID: certID))
    }

    mutating func split() -> FuzzIntent {
        let certID = id(snapshot.certs, where: { $0.status == .active }, prefix: "cert")
        let cert = snapshot.certs[certID]
        let face = cert?.face ?? 100
        let holder = cert?.holder ?? "sup1"
        var outputs: [SplitOutput] = []
        switch values.rng.below(8) {
        case 0, 1, 2:  // an exact partition (the one that can succeed)
            outputs = exactPartition(face: face, holder: holder)
        case 3: outputs = [SplitOutput(to: member(), amount: .max), SplitOutput(to: member(), amount: face &+ 1)]  // sums past max
        case 4: outputs = [SplitOutput(to: member(), amount: face &+ 1)]
        case 5: outputs = [SplitOutput(to: holder, amount: face)]  // whole to itself: accepted under version 1, `self_transfer` from 2
        case 6:
            // Wide (version 2 only): many pieces, most kept by the holder, so a root outgrows a settlement page.
            guard rulesVersion >= 2, face >= 2 else { outputs = exactPartition(face: face, holder: holder); break }
            let count = UInt64(2 + values.rng.below(UInt64(AssetLimits.maxOutputs - 1)))
            let pieces = min(count, face)
            outputs = (0..<pieces).map { i in
                SplitOutput(to: values.chance(85) ? holder : member([.supplier, .financier]), amount: i == pieces - 1 ? face - (pieces - 1) * (face / pieces) : face / pieces)
            }
        default: outputs = (0..<1 + values.rng.below(4)).map { _ in SplitOutput(to: member(), amount: values.u64([face])) }
        }
        return FuzzIntent(signer(cert?.holder), "certificate.split_transfer", CertificateSplitTransferPayload(certID: certID, outputs: outputs))
    }

    /// Two pieces summing exactly to `face`: one to a supplier or financier, the remainder kept by `holder`.
    mutating func exactPartition(face: UInt64, holder: String) -> [SplitOutput] {
        let first = face > 1 ? 1 + values.rng.below(face - 1) : face
        var outputs = [SplitOutput(to: member([.supplier, .financier]), amount: first)]
        if face > first { outputs.append(SplitOutput(to: holder, amount: face - first)) }
        return outputs
    }

    mutating func requestFinancing() -> FuzzIntent {
        let certID = id(snapshot.certs, where: { $0.status == .active && $0.financingID == nil }, prefix: "cert")
        let cert = snapshot.certs[certID]
        return FuzzIntent(signer(cert?.holder), "financing.request",
                          FinancingRequestPayload(certID: certID, financier: values.chance(85) ? member([.financier]) : member(), advance: values.u64([cert?.face ?? 0]), rateBps: values.u32(), kind: values.chance(50) ? .factoring : .pledge, recourse: values.chance(50)))
    }

    mutating func financingAction() -> FuzzIntent {
        let kind = values.pick(["financing.approve", "financing.cancel", "financing.release", "financing.repay"])
        let finID = id(snapshot.financings, where: { $0.status.isOpen }, prefix: "fin")
        let fin = snapshot.financings[finID]
        let natural = kind == "financing.cancel" && values.chance(50) ? fin?.applicant : fin?.financier
        return FuzzIntent(signer(natural), kind, FinancingRefPayload(finID: finID))
    }

    mutating func rootAction() -> FuzzIntent {
        var rootID = id(snapshot.roots, where: { $0.status == .open || $0.status == .overdue }, prefix: "cert")
        // Under version 2, half the time the root with the most unpaid pieces (ties by id): paged settlement.
        if rulesVersion >= 2, values.chance(50), let largest = unpaidPiecesByRoot.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }) { rootID = largest.key }
        let root = snapshot.roots[rootID]
        if values.chance(50) { return FuzzIntent(signer(values.chance(50) ? "clear1" : root?.debtor), "certificate.settle", RootRefPayload(rootID: rootID)) }
        // Version 3 refuses mark_overdue from anyone but a clearing agent or the debtor: mostly ask one of them
        // (under versions 1 and 2 no extra draw, so their episodes are unchanged).
        let overdueSigner: String? = rulesVersion >= 3 && values.chance(75) ? (values.chance(50) ? "clear1" : root?.debtor) : member()
        return FuzzIntent(signer(overdueSigner), "certificate.mark_overdue", RootRefPayload(rootID: rootID))
    }

    mutating func freeze() -> FuzzIntent {
        let kind = values.chance(50) ? "asset.freeze" : "asset.unfreeze"
        // An unfreeze aims at frozen assets (one frozen piece holds up its root's settlement), a freeze at live ones.
        let unfreeze = kind == "asset.unfreeze"
        let payload = values.chance(50)
            ? AssetFreezePayload(assetType: .certificate, assetID: id(snapshot.certs, where: { unfreeze ? $0.status == .frozen : $0.status.isLive }, prefix: "cert"), reason: "court")
            : AssetFreezePayload(assetType: .creditBlock, assetID: id(snapshot.blocks, where: { unfreeze ? $0.frozen : $0.status.isLive }, prefix: "cblock"), reason: "court")
        return FuzzIntent(signer("reg1"), kind, payload)
    }

    // MARK: green assets

    mutating func registry() -> FuzzIntent {
        if values.chance(50) {
            return FuzzIntent(signer("registry"), "program.register", ProgramRegisterPayload(programID: values.chance(70) ? fresh("PRG") : "CCER", unit: values.chance(50) ? .tCO2e : .mwh))
        }
        return FuzzIntent(signer("registry"), "methodology.register", MethodologyRegisterPayload(methodologyID: values.pick(["AM0001", "AM0002"]), version: values.pick(["1", "2"]), title: "m", active: values.chance(80)))
    }

    mutating func project() -> FuzzIntent {
        let a = values.i64([time, FuzzWorld.genesisTime]), b = values.i64([time, a])
        let start = values.chance(70) ? time &- Int64(values.rng.below(UInt64(3_650 * FuzzWorld.day))) : min(a, b)
        let end = values.chance(70) ? time &+ Int64(values.rng.below(UInt64(3_650 * FuzzWorld.day))) &+ 1 : max(a, b)
        let device = values.chance(80) ? fresh("dev") : "dev1"
        let payload = ProjectRegisterPayload(projectID: values.chance(90) ? fresh("p") : "p1", programID: values.pick(snapshot.ids(snapshot.programs) + ["nope"]), methodologyID: "AM0001", methodologyVersion: values.pick(["1", "2"]),
                                             country: values.pick(["CN", "DE", "cn"]), location: device, deviceIDs: [device], sector: values.pick(["energy", "forestry", "transport"]), creditingStart: start, creditingEnd: end, externalIDs: [])
        let proponent = values.pick(["prop1", "prop2", "multi"])
        return FuzzIntent(signer(proponent), "project.register", payload, cosigners: values.chance(90) ? ["registry"] : [])
    }

    mutating func verification() -> FuzzIntent {
        let projectID = id(snapshot.projects, prefix: "p")
        let project = snapshot.projects[projectID]
        let after = project?.lastVerifiedEnd ?? project?.creditingStart ?? time
        let related = [time, after, project?.creditingStart ?? 0, project?.creditingEnd ?? 0]
        var start = values.chance(60) ? after : values.i64(related)
        var end = values.chance(60) ? time : values.i64(related)
        if values.chance(80) && start > end { swap(&start, &end) }
        return FuzzIntent(signer(values.pick(["ver1", "ver2", "multi"])), "verification.submit",
                          VerificationSubmitPayload(projectID: projectID, periodStart: start, periodEnd: end, quantity: values.u64([1_000_000]), reportHash: values.chance(25) ? docHash() : FuzzWorld.hash(fresh("report"))))
    }

    mutating func issueCredits() -> FuzzIntent {
        let verID = id(snapshot.verifications, where: { $0.batchID == nil }, prefix: "ver")
        let verified = snapshot.verifications[verID]?.quantity ?? 10
        let counter = snapshot.projects[snapshot.verifications[verID]?.projectID ?? ""].flatMap { snapshot.programs[$0.programID] }?.serialCounter ?? 0
        let quantity = values.chance(50) ? verified : values.u64([verified, CreditSerial.maxSerial - counter, UInt64.max - counter])
        let buffer = values.chance(50) ? 0 : values.u64([quantity, quantity / 10])
        return FuzzIntent(signer("registry"), "credits.issue", CreditsIssuePayload(verificationID: verID, quantity: quantity, bufferQuantity: buffer))
    }

    mutating func transferCredits() -> FuzzIntent {
        let blockID = id(snapshot.blocks, where: { $0.status == .active }, prefix: "cblock")
        let block = snapshot.blocks[blockID]
        let quantity = block?.quantity ?? 10
        var outputs: [CreditsOutput]
        switch values.rng.below(5) {
        case 0, 1, 2:
            let first = quantity > 1 ? 1 + values.rng.below(quantity - 1) : quantity
            outputs = [CreditsOutput(to: member(GreenAssetsContract.ownerRoles), quantity: first)]
            if quantity > first { outputs.append(CreditsOutput(to: block?.owner ?? "prop1", quantity: quantity - first)) }
        case 3: outputs = [CreditsOutput(to: member(), quantity: .max), CreditsOutput(to: member(), quantity: quantity &+ 1)]
        default: outputs = (0..<1 + values.rng.below(4)).map { _ in CreditsOutput(to: member(), quantity: values.u64([quantity])) }
        }
        return FuzzIntent(signer(block?.owner), "credits.transfer", CreditsTransferPayload(blockID: blockID, outputs: outputs))
    }

    mutating func retire() -> FuzzIntent {
        let blockID = id(snapshot.blocks, where: { $0.status == .active }, prefix: "cblock")
        let block = snapshot.blocks[blockID]
        var range = RetireRange(blockID: blockID)
        if let block, values.chance(60) {
            let related = [block.serialStart, block.serialEnd]
            var start = values.chance(50) ? block.serialStart + values.rng.below(block.quantity) : values.u64(related)
            var end = values.u64(related)
            if values.chance(50) && block.serialStart <= start && start <= block.serialEnd { end = start + values.rng.below(block.serialEnd - start + 1) }
            if values.chance(80) && start > end { swap(&start, &end) }
            range = RetireRange(blockID: blockID, serialStart: start, serialEnd: end)
        }
        let claimA = values.i64([time]), claimB = values.i64([time])
        return FuzzIntent(signer(block?.owner), "credits.retire",
                          CreditsRetirePayload(ranges: [range], beneficiary: values.pick(["ACME", "Beta", String(repeating: "b", count: Limits.maxNameBytes)]), purpose: "offset", claimPeriodStart: min(claimA, claimB), claimPeriodEnd: values.chance(90) ? max(claimA, claimB) : min(claimA, claimB)))
    }

    mutating func blockAction() -> FuzzIntent {
        let kind = values.pick(["credits.cancel", "credits.lock", "credits.unlock"])
        let blockID = id(snapshot.blocks, where: { $0.status.isLive }, prefix: "cblock")
        return FuzzIntent(signer("registry"), kind, CreditsBlockActionPayload(blockID: blockID, reason: "fuzz"))
    }

    // MARK: evidence

    /// A document hash: mostly one of a few (so co-attestations, already_attested and revokes happen), sometimes
    /// an attested one, rarely the all-zero placeholder.
    mutating func docHash() -> Hash {
        let attested = snapshot.ids(snapshot.evidence)
        if !attested.isEmpty && values.chance(40), let hash = try? Hash(hex: values.pick(attested)) { return hash }
        if values.chance(3) { return Hash(bytes: [UInt8](repeating: 0, count: 32))! }
        return SHA256.hash(Array("doc-\(values.rng.below(UInt64(12)))".utf8))
    }

    mutating func attest() -> FuzzIntent {
        let hash = docHash()
        let record = snapshot.evidence[hash.hex]
        let kind = record.map { values.chance(85) ? $0.docKind : values.pick(DocumentKind.allCases) } ?? values.pick(DocumentKind.allCases)
        let title = values.pick(["Invoice INV-1", "t", "", String(repeating: "票", count: 85), String(repeating: "t", count: EvidenceLimits.maxTitleBytes + 1)])
        var metadata: [EvidenceMetadataEntry] = []
        for i in 0..<values.pick([0, 1, 2, EvidenceLimits.maxMetadataEntries, EvidenceLimits.maxMetadataEntries + 1]) {
            metadata.append(EvidenceMetadataEntry(key: values.chance(95) ? "k\(i)" : "bad key \(i)", value: values.chance(90) ? "v" : String(repeating: "x", count: 200)))
        }
        var refs: [EvidenceRef] = []
        for _ in 0..<values.pick([0, 0, 1, 2, EvidenceLimits.maxRefs + 1]) {
            switch values.rng.below(6) {
            case 0: refs.append(EvidenceRef(kind: .attestation, id: docHash().hex))
            case 1: refs.append(EvidenceRef(kind: .certificate, id: id(snapshot.certs, prefix: "cert")))
            case 2: refs.append(EvidenceRef(kind: .project, id: id(snapshot.projects, prefix: "proj")))
            case 3: refs.append(EvidenceRef(kind: .retirement, id: id(snapshot.retirements, prefix: "ret")))
            case 4: refs.append(EvidenceRef(kind: .creditBlock, id: id(snapshot.blocks, prefix: "cblock")))
            default: refs.append(EvidenceRef(kind: values.pick(EvidenceRefKind.allCases), id: values.pick(["bad id", "x", String(repeating: "a", count: 64)])))
            }
        }
        return FuzzIntent(member(), EvidenceContract.attest, AttestPayload(docHash: hash, docKind: kind, title: title, metadata: metadata, refs: refs))
    }

    mutating func revokeAttestation() -> FuzzIntent {
        let hash = docHash()
        let attesters = snapshot.evidence[hash.hex]?.attestations.map(\.attester) ?? []
        return FuzzIntent(signer(attesters.isEmpty ? nil : values.pick(attesters)), EvidenceContract.revoke,
                          RevokeAttestationPayload(docHash: hash, reason: values.pick(["", "superseded", String(repeating: "r", count: EvidenceLimits.maxReasonBytes + 1)])))
    }
}
